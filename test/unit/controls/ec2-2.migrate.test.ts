/**
 * EC2.2's migrate strategy against an in-memory EC2 that answers as EC2 does
 * (paged empties, whole-call duplicates, eventual consistency). Every write
 * is checked for reachability: no interface ever loses a rule it had, and
 * interfaces moved and not yet moved still reach each other. A fault is
 * injected at every call of apply and of rollback.
 */
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupReferencesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_2Params } from '../../../lambdas/controls/ec2-2/meta';
import { migrationCalls } from '../../../lambdas/controls/ec2-2/migrate';
import {
  type DefaultGroupState,
  type Ec2_2Before,
  ec2_2,
} from '../../../lambdas/controls/ec2-2/remediate';
import {
  type ChangePlan,
  type FindingContext,
  isFoundAtRunTime,
} from '../../../lambdas/core/control';
import { type Deadline, NO_DEADLINE } from '../../../lambdas/core/deadline';
import { PartialChangeError } from '../../../lambdas/core/errors';
import {
  givesBackUnrecorded,
  names,
  wideningProblems,
} from '../../../lambdas/core/rollback-checks';
import { guardClients } from '../../../lambdas/core/rollback-guard';
import { resetStrict, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';
import { ec2_2Clients, noOtherUsers } from '../../support/ec2-2';
import {
  FakeEc2,
  type FakeGroup,
  type FakeInterface,
  type FakeRule,
  snapshot,
  type World,
} from '../../support/fake-ec2';

const VPC = 'vpc-0123456789abcdef0';
const DEFAULT = 'sg-0000000000000d001';
const APP = 'sg-0000000000000a001';
const REPLACEMENT_NAME = `${VPC}-default-replacement`;
const ref = ec2Ref('AwsEc2SecurityGroup', 'security-group', DEFAULT);

const ec2Client = new EC2Client({ region: 'us-east-1' });
const ec2Mock = strictMock(ec2Client);
const others = ec2_2Clients(ec2Client);
const MIGRATE: Ec2_2Params = { strategy: 'migrate', migrate: { maxInterfaces: 25 } };

function defaultGroup(): FakeGroup {
  return {
    groupId: DEFAULT,
    name: 'default',
    vpcId: VPC,
    tags: {},
    rules: [
      {
        ruleId: 'sgr-d1',
        egress: false,
        protocol: '-1',
        fromPort: -1,
        toPort: -1,
        referencedGroupId: DEFAULT,
      },
      {
        ruleId: 'sgr-d2',
        egress: false,
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        cidrIpv4: '10.0.0.0/8',
        description: 'bastion ssh',
      },
      {
        ruleId: 'sgr-d3',
        egress: false,
        protocol: 'tcp',
        fromPort: 80,
        toPort: 80,
        cidrIpv6: '::/0',
        description: 'web',
      },
      {
        ruleId: 'sgr-d4',
        egress: true,
        protocol: '-1',
        fromPort: -1,
        toPort: -1,
        cidrIpv4: '0.0.0.0/0',
      },
    ],
  };
}

function appGroup(vpcId = VPC): FakeGroup {
  return {
    groupId: APP,
    name: 'app',
    vpcId,
    tags: {},
    rules: [
      {
        ruleId: 'sgr-a1',
        egress: false,
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        referencedGroupId: DEFAULT,
        description: 'db from default',
      },
      {
        ruleId: 'sgr-a2',
        egress: true,
        protocol: '-1',
        fromPort: -1,
        toPort: -1,
        cidrIpv4: '0.0.0.0/0',
      },
      {
        ruleId: 'sgr-a3',
        egress: true,
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        referencedGroupId: DEFAULT,
        description: 'to default',
      },
    ],
  };
}

/** A default group used by `n` instances (the second also in "app") and referenced by "app". */
function world(n = 2, extra: Partial<World> = {}): World {
  const interfaces: FakeInterface[] = Array.from({ length: n }, (_, i) => ({
    interfaceId: `eni-${i + 1}`,
    groups: i === 1 ? [DEFAULT, APP] : [DEFAULT],
    instanceId: `i-${i + 1}`,
    description: `instance ${i + 1}`,
  }));
  return {
    groups: [defaultGroup(), appGroup(), ...(extra.groups ?? [])],
    interfaces: [...interfaces, ...(extra.interfaces ?? [])],
  };
}

function sameRule(a: FakeRule, b: Omit<FakeRule, 'ruleId'>): boolean {
  return (
    a.egress === b.egress &&
    a.protocol === b.protocol &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.cidrIpv4 === b.cidrIpv4 &&
    a.cidrIpv6 === b.cidrIpv6 &&
    a.referencedGroupId === b.referencedGroupId &&
    a.description === b.description
  );
}

/**
 * Reachability at one moment, against the starting world: every interface
 * that was in the default group is in it or in the replacement; whichever it
 * is in holds the default group's rules (peer translated for the
 * replacement), and every other group's rule for the default group exists
 * for that group too; while interfaces are split, each group lets the other in.
 */
function reachabilityProblems(start: World, now: World): string[] {
  const problems: string[] = [];
  const original = start.groups.find((g) => g.groupId === DEFAULT)?.rules ?? [];
  const referencing = start.groups
    .filter((g) => g.groupId !== DEFAULT)
    .flatMap((g) =>
      g.rules
        .filter((r) => r.referencedGroupId === DEFAULT)
        .map((rule) => ({ group: g.groupId, rule })),
    );
  const members = start.interfaces
    .filter((e) => e.groups.includes(DEFAULT))
    .map((e) => e.interfaceId);
  const def = now.groups.find((g) => g.groupId === DEFAULT);
  const rep = now.groups.find((g) => g.name === REPLACEMENT_NAME);
  const groupsOf = (id: string) => now.interfaces.find((e) => e.interfaceId === id)?.groups ?? [];
  const inDefault = members.filter((id) => groupsOf(id).includes(DEFAULT));
  const inReplacement = members.filter((id) => rep && groupsOf(id).includes(rep.groupId));
  for (const id of members) {
    if (!inDefault.includes(id) && !inReplacement.includes(id))
      problems.push(`${id} has neither group`);
  }
  const holds = (group: FakeGroup | undefined, rule: FakeRule, peer: string | undefined) =>
    group?.rules.some((r) =>
      sameRule(r, {
        ...rule,
        referencedGroupId: rule.referencedGroupId === DEFAULT ? peer : rule.referencedGroupId,
      }),
    ) ?? false;
  const check = (groupId: string | undefined, who: string[]) => {
    if (who.length === 0 || !groupId) return;
    const group = now.groups.find((g) => g.groupId === groupId);
    for (const rule of original) {
      if (!holds(group, rule, groupId))
        problems.push(`${groupId} lacks ${rule.ruleId} while ${who.join(',')} use it`);
    }
    for (const { group: other, rule } of referencing) {
      if (
        !holds(
          now.groups.find((g) => g.groupId === other),
          rule,
          groupId,
        )
      ) {
        problems.push(`${other} lacks ${rule.ruleId} for ${groupId} while ${who.join(',')} use it`);
      }
    }
  };
  check(DEFAULT, inDefault);
  check(rep?.groupId, inReplacement);
  if (rep && inDefault.length > 0 && inReplacement.length > 0) {
    for (const rule of original.filter((r) => r.referencedGroupId === DEFAULT)) {
      if (!holds(def, rule, rep.groupId))
        problems.push(`${DEFAULT} does not let ${rep.groupId} in (${rule.ruleId})`);
      if (!holds(rep, rule, DEFAULT))
        problems.push(`${rep.groupId} does not let ${DEFAULT} in (${rule.ruleId})`);
    }
  }
  return problems;
}

interface Run {
  readonly fake: FakeEc2;
  readonly start: World;
  readonly violations: string[];
  ctx(options?: {
    deadline?: Deadline;
    params?: Ec2_2Params;
  }): FindingContext<typeof others.clients, Ec2_2Params>;
}

function prepare(start: World): Run {
  resetStrict(ec2Mock);
  resetStrict(others.lambda);
  resetStrict(others.ecs);
  resetStrict(others.autoScaling);
  const fake = new FakeEc2(start);
  fake.install(ec2Mock);
  noOtherUsers(ec2Mock, others);
  const violations: string[] = [];
  fake.afterWrite = (now) => {
    for (const problem of reachabilityProblems(start, now)) {
      violations.push(`after ${fake.calls.at(-1)?.command}: ${problem}`);
    }
  };
  return {
    fake,
    start,
    violations,
    ctx: (options = {}) =>
      findingContext(others.clients, options.params ?? MIGRATE, {
        deadline: options.deadline ?? NO_DEADLINE,
        clock: fakeClock().clock,
      }),
  };
}

async function readAndPlan(run: Run, params: Ec2_2Params = MIGRATE) {
  const ctx = run.ctx({ params });
  const read = await ec2_2.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  const plan = ec2_2.plan(read.state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return { state: read.state, plan, ctx };
}

async function migrated(run: Run): Promise<{
  state: DefaultGroupState;
  plan: ChangePlan<Ec2_2Before>;
  changes: readonly string[];
}> {
  const { state, plan, ctx } = await readAndPlan(run);
  expect(await ec2_2.preflight(state, ctx)).toEqual([]);
  const { changes } = await ec2_2.apply(state, plan, ctx);
  return { state, plan, changes };
}

/** How many calls apply makes in a clean run: each is where a fault gets injected. */
async function callsOfCleanApply(): Promise<number> {
  const clean = prepare(world(2));
  const planned = await readAndPlan(clean);
  const from = clean.fake.calls.length;
  await ec2_2.apply(planned.state, planned.plan, planned.ctx);
  return clean.fake.calls.length - from;
}

/** A rollback's context as the CLI gives it: its clients make only the calls describeRollback shows. */
function guarded(before: Ec2_2Before) {
  return rollbackContext(guardClients(others.clients, ec2_2.describeRollback(before).calls));
}

/** The rules of the starting world a rollback may have to give back: the default group's, and other groups' rules for it. */
function rulesAt(start: World): FakeRule[] {
  return start.groups.flatMap((g) =>
    g.rules.filter((r) => g.groupId === DEFAULT || r.referencedGroupId === DEFAULT),
  );
}

function replacementOf(w: World): FakeGroup | undefined {
  return w.groups.find((g) => g.name === REPLACEMENT_NAME);
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('EC2.2 migrate: plan and preflight', () => {
  it('plans the replacement, the exact copy, the interfaces, the re-pointed rules, then the emptying', async () => {
    // Prepare
    const run = prepare(world(2));

    // Act
    const { plan } = await readAndPlan(run);

    // Assess
    expect(plan.summary).toBe(
      `move 2 network interface(s) and 2 rule(s) of other groups from the default security group ${DEFAULT} of ${VPC} to ${REPLACEMENT_NAME}, then revoke all 4 rules of ${DEFAULT}`,
    );
    expect(plan.steps).toEqual([
      `create security group ${REPLACEMENT_NAME} in ${VPC}, tagged hubfix:replaces=${DEFAULT}`,
      `give the replacement (${REPLACEMENT_NAME}) the 4 rule(s) of ${DEFAULT} exactly, descriptions included, its own references to ${DEFAULT} translated to the replacement (and kept to ${DEFAULT} until every interface has moved): inbound all traffic from the replacement (account 111111111111); inbound tcp 22 from 10.0.0.0/8 ("bastion ssh"); inbound tcp 80 from ::/0 ("web"); outbound all traffic to 0.0.0.0/0; inbound all traffic from ${DEFAULT} (account 111111111111)`,
      `add to ${APP}, next to its 2 rule(s) for ${DEFAULT}, the same rule(s) for the replacement (${REPLACEMENT_NAME}): inbound rule sgr-a1: tcp 5432 from ${DEFAULT} (account 111111111111) ("db from default"); outbound rule sgr-a3: tcp 443 to ${DEFAULT} (account 111111111111) ("to default")`,
      `add to ${DEFAULT} its own references again with the replacement (${REPLACEMENT_NAME}) as the peer, so interfaces moved and not yet moved still reach each other`,
      `move eni-1: security groups [${DEFAULT}] become [the replacement (${REPLACEMENT_NAME})] in one call`,
      `move eni-2: security groups [${DEFAULT}, ${APP}] become [the replacement (${REPLACEMENT_NAME}), ${APP}] in one call`,
      `revoke from ${APP} its rule(s) for ${DEFAULT}: sgr-a1, sgr-a3`,
      `revoke from the replacement (${REPLACEMENT_NAME}) the rule(s) that still name ${DEFAULT}`,
      `revoke every rule of ${DEFAULT} (4) and the temporary ones, then check that none is left`,
      expect.stringMatching(
        /^note: disruptive for whatever relies on the default group in ways hubfix cannot see/,
      ),
    ]);
    expect(plan.before.migration).toEqual({
      replacementName: REPLACEMENT_NAME,
      interfaces: [
        { interfaceId: 'eni-1', groups: [DEFAULT] },
        { interfaceId: 'eni-2', groups: [DEFAULT, APP] },
      ],
      referencingRules: [
        expect.objectContaining({ ruleId: 'sgr-a1', groupId: APP, referencedGroupId: DEFAULT }),
        expect.objectContaining({ ruleId: 'sgr-a3', groupId: APP, referencedGroupId: DEFAULT }),
      ],
    });
    expect(plan.undo).toContain(
      'aws ec2 modify-network-interface-attribute --network-interface-id eni-2 --groups ' +
        `${DEFAULT} ${APP}`,
    );
  });

  it('plans a plain emptying when nothing uses the group', async () => {
    const run = prepare({ groups: [defaultGroup()], interfaces: [] });

    const { plan } = await readAndPlan(run);

    expect(plan.before.migration).toBeUndefined();
    expect(plan.summary).toMatch(/^revoke all 4 rules/);
  });

  it('blocks interfaces of AWS services, more interfaces than allowed, other VPCs and a stranger by the replacement name', async () => {
    // Prepare
    const run = prepare({
      groups: [
        defaultGroup(),
        appGroup('vpc-other'),
        {
          groupId: 'sg-0000000000000e001',
          name: REPLACEMENT_NAME,
          vpcId: VPC,
          tags: {},
          rules: [],
        },
      ],
      interfaces: [
        { interfaceId: 'eni-1', groups: [DEFAULT], instanceId: 'i-1' },
        {
          interfaceId: 'eni-lb',
          groups: [DEFAULT],
          interfaceType: 'load_balancer',
          requesterManaged: true,
          description: 'ELB app/web/1',
        },
        {
          interfaceId: 'eni-fn',
          groups: [DEFAULT],
          interfaceType: 'lambda',
          description: 'AWS Lambda VPC ENI-orders',
        },
      ],
    });
    const params: Ec2_2Params = { strategy: 'migrate', migrate: { maxInterfaces: 2 } };
    const { state, ctx } = await readAndPlan(run, params);

    // Act
    const blockers = await ec2_2.preflight(state, ctx);

    // Assess
    expect(blockers).toEqual([
      `more than 2 network interfaces use ${DEFAULT} (the limit is migrate.maxInterfaces): a person should look at a group this many things share before hubfix moves them.`,
      `2 network interface(s) in ${DEFAULT} belong to AWS services (load balancers, NAT gateways, VPC endpoints, Lambda, RDS...) and must be given another group through that service: eni-lb (ELB app/web/1): load_balancer, requester-managed, eni-fn (AWS Lambda VPC ENI-orders): lambda.`,
      `groups in other VPCs reference ${DEFAULT}: ${APP} (vpc-other). Point them at a group of ${VPC} first.`,
      `a group named ${REPLACEMENT_NAME} (sg-0000000000000e001) already exists in ${VPC} and is not hubfix's replacement for ${DEFAULT} (no tag hubfix:replaces=${DEFAULT}). Rename or remove it first.`,
    ]);
    expect(run.fake.writes()).toEqual([]);
  });

  it('blocks a migration for peered references and launch templates, naming the version, and changes nothing', async () => {
    // Prepare: movable users only, plus a peered VPC's reference and a launch template.
    const run = prepare(world(2));
    ec2Mock.on(DescribeSecurityGroupReferencesCommand).resolves({
      SecurityGroupReferenceSet: [
        { GroupId: DEFAULT, ReferencingVpcId: 'vpc-peer', VpcPeeringConnectionId: 'pcx-1' },
      ],
    });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        {
          LaunchTemplateId: 'lt-web',
          LaunchTemplateName: 'web',
          VersionNumber: 3,
          DefaultVersion: true,
          LaunchTemplateData: { SecurityGroupIds: [DEFAULT] },
        },
      ],
    });
    const { state, ctx } = await readAndPlan(run);

    // Act
    const blockers = await ec2_2.preflight(state, ctx);

    // Assess
    expect(blockers).toEqual([
      `security groups in peered VPC(s) vpc-peer via pcx-1 reference ${DEFAULT}. Point them at another group first.`,
      expect.stringMatching(
        new RegExp(
          `^1 launch template version\\(s\\) name ${DEFAULT}: lt-web \\(web\\) version 3 \\(default\\)\\. hubfix does not change launch templates: create a version that names another group \\(the replacement, with migrate\\)`,
        ),
      ),
    ]);
    expect(run.fake.writes()).toEqual([]);
  });

  it('does not start a migration it cannot finish in the time left', async () => {
    const run = prepare(world(2));
    const { state } = await readAndPlan(run);
    const ctx = run.ctx({ deadline: { remainingMs: () => 20_000 } });

    const blockers = await ec2_2.preflight(state, ctx);

    expect(blockers).toEqual([
      expect.stringMatching(/^the migration needs about \d+ s and this invocation has 20 s left/),
    ]);
  });
});

describe('EC2.2 migrate: apply, verify, rollback', () => {
  it('migrates, verifies, and rolls back to the exact starting state, reachable at every write', async () => {
    // Prepare
    const run = prepare(world(2));

    // Act
    const { state, plan, changes } = await migrated(run);
    const verdict = await ec2_2.verify(state, run.ctx());

    // Assess: the default group is empty and unused; the replacement is its exact copy.
    expect(verdict).toEqual({ ok: true });
    const rep = replacementOf(run.fake.world);
    expect(rep?.tags).toEqual({ 'hubfix:replaces': DEFAULT });
    expect(run.fake.world.groups.find((g) => g.groupId === DEFAULT)?.rules).toEqual([]);
    expect(snapshot(run.fake.world).filter((l) => l.startsWith(REPLACEMENT_NAME))).toEqual(
      snapshot(run.start)
        .filter((l) => l.startsWith('default '))
        .map((l) =>
          l
            .replace('default ', `${REPLACEMENT_NAME} `)
            .replace(' default "', ` ${REPLACEMENT_NAME} "`),
        )
        .sort(),
    );
    expect(run.fake.world.interfaces.map((e) => e.groups)).toEqual([
      [rep?.groupId],
      [rep?.groupId, APP],
    ]);
    expect(
      run.fake.world.groups
        .find((g) => g.groupId === APP)
        ?.rules.map((r) => r.referencedGroupId ?? r.cidrIpv4),
    ).toEqual(['0.0.0.0/0', rep?.groupId, rep?.groupId]);
    expect(run.violations).toEqual([]);
    // The lines the ledger records name every rule the rollback gives back.
    expect(
      wideningProblems(
        { changes, stateLeft: undefined },
        ec2_2.describeRollback(plan.before).calls,
      ),
    ).toEqual([]);

    // Act: roll back, as the CLI does
    const lines = await ec2_2.rollback(plan.before, guarded(plan.before));

    // Assess
    expect(snapshot(run.fake.world)).toEqual(snapshot(run.start));
    expect(lines.at(-1)).toBe(`deleted the replacement group ${rep?.groupId}`);
    expect(run.violations).toEqual([]);
  });

  it.each([1, 2, 5, 10])('makes %i interface(s) + a fixed number of calls', async (n) => {
    const run = prepare(world(n));
    const { state, plan, ctx } = await readAndPlan(run);
    await ec2_2.preflight(state, ctx);
    const before = run.fake.calls.length;
    const migration = plan.before.migration;
    if (!migration) throw new Error('expected a migration');

    await ec2_2.apply(state, plan, ctx);

    const calls = run.fake.calls.slice(before);
    const writes = calls.filter((c) => !c.command.startsWith('Describe'));
    // With "app" referencing the default group inbound and outbound: 1 create,
    // 1 copy (inbound: the outbound rule is the one CreateSecurityGroup adds,
    // so nothing to add or trim), 2 add to app, 1 add to default, n moves,
    // 2 revoke from app, 1 revoke from the replacement, 2 + 1 to empty the
    // default group.
    expect(writes).toHaveLength(11 + n);
    expect(
      writes.filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand'),
    ).toHaveLength(n);
    // Reads, each an empty page then a page as filtered describes answer: the replacement's rules, the interfaces.
    expect(calls.length - writes.length).toBe(2 + (n + 1));
    expect(migrationCalls(DEFAULT, state.rules, migration)).toBeGreaterThanOrEqual(
      writes.length + 2,
    );
  });

  it('reuses the replacement an earlier run made, found by name and tag', async () => {
    // Prepare: an earlier run made the replacement, copied the rules and moved eni-1, then stopped.
    const run = prepare(world(2));
    const first = await readAndPlan(run);
    const stopAfterMoves = { remainingMs: () => (run.fake.writes().length >= 7 ? 0 : 10 ** 9) };
    await expect(
      ec2_2.apply(first.state, first.plan, run.ctx({ deadline: stopAfterMoves })),
    ).rejects.toThrow(/not enough time left/);
    const rep = replacementOf(run.fake.world);

    // Act: the next event
    const second = await readAndPlan(run);
    expect(await ec2_2.preflight(second.state, second.ctx)).toEqual([]);
    await ec2_2.apply(second.state, second.plan, second.ctx);

    // Assess
    expect(second.plan.steps[0]).toBe(
      `reuse ${rep?.groupId} (${REPLACEMENT_NAME}), made by an earlier run (tag hubfix:replaces=${DEFAULT})`,
    );
    expect(run.fake.world.groups.filter((g) => g.name === REPLACEMENT_NAME)).toHaveLength(1);
    expect(await ec2_2.verify(second.state, second.ctx)).toEqual({ ok: true });
    expect(run.violations).toEqual([]);
  });

  it('stops between steps when time runs short, saying exactly which steps were done', async () => {
    const run = prepare(world(2));
    const { state, plan } = await readAndPlan(run);
    const deadline = { remainingMs: () => (run.fake.writes().length >= 3 ? 1_000 : 10 ** 9) };

    const apply = ec2_2.apply(state, plan, run.ctx({ deadline }));

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: expect.stringMatching(
        /^stopped before "add to sg-0000000000000d001 its references again for sg-\w+": not enough time left in this invocation$/,
      ),
      stateLeft: expect.stringMatching(
        /^3 step\(s\) done: create [^;]+; copy the rules of sg-0000000000000d001 to sg-\w+; add to sg-0000000000000a001 the rule\(s\) for sg-\w+\. Every interface has either/,
      ),
    });
    expect(run.violations).toEqual([]);
  });

  it('verify waits for EC2 to show the migration (eventual consistency)', async () => {
    const run = prepare(world(2));
    const { state } = await migrated(run);
    const { clock, sleeps } = fakeClock();
    // The first look still sees the default group with its rules.
    run.fake.lagNextReads(13);

    const verdict = await ec2_2.verify(state, { ...run.ctx(), clock });

    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([1000]);
  });

  it('leaves a state a rollback undoes, and a re-run finishes, whatever call of apply fails', async () => {
    const applyCalls = await callsOfCleanApply();

    for (let k = 0; k < applyCalls; k += 1) {
      // Prepare
      const run = prepare(world(2));
      const { state, plan, ctx } = await readAndPlan(run);
      run.fake.failAt = run.fake.calls.length + k;

      // Act
      const error = await ec2_2.apply(state, plan, ctx).then(
        () => undefined,
        (e: unknown) => e,
      );

      // Assess: the state left is reported, and nothing was unreachable.
      expect(error, `fault at apply call ${k}`).toBeInstanceOf(PartialChangeError);
      const stateLeft = (error as PartialChangeError).stateLeft;
      const changed = snapshot(run.fake.world).join('\n') !== snapshot(run.start).join('\n');
      expect(stateLeft, `fault at apply call ${k}`).toMatch(
        changed ? /^\d+ step\(s\) done: / : /^unchanged: no step was made$/,
      );
      expect(run.violations, `fault at apply call ${k}`).toEqual([]);
      // What the ledger records names every rule revoked so far, so a rollback may give it back.
      const remaining = new Set(run.fake.world.groups.flatMap((g) => g.rules.map((r) => r.ruleId)));
      const revoked = rulesAt(run.start).filter((r) => !remaining.has(r.ruleId));
      const recorded = (error as PartialChangeError).changes;
      expect(
        revoked.filter((r) => !recorded.some((line) => names(line, r.ruleId))),
        `fault at apply call ${k}`,
      ).toEqual([]);

      // A rollback from here, allowed only the calls `hubfix rollback` would
      // show for this entry, gets the exact starting state back.
      run.fake.failAt = undefined;
      const shown = ec2_2
        .describeRollback(plan.before)
        .calls.filter((call) => !givesBackUnrecorded({ changes: recorded }, call));
      await ec2_2.rollback(plan.before, rollbackContext(guardClients(others.clients, shown)));
      expect(snapshot(run.fake.world), `rollback after a fault at apply call ${k}`).toEqual(
        snapshot(run.start),
      );
      expect(run.violations).toEqual([]);
    }
  });

  it('finishes on re-entry after a fault at any call of apply', async () => {
    const applyCalls = await callsOfCleanApply();

    for (let k = 0; k < applyCalls; k += 1) {
      const run = prepare(world(2));
      const first = await readAndPlan(run);
      run.fake.failAt = run.fake.calls.length + k;
      await ec2_2.apply(first.state, first.plan, first.ctx).catch(() => undefined);
      run.fake.failAt = undefined;

      const second = await ec2_2.readState(ref, first.ctx);
      if (second.kind !== 'found') throw new Error('expected found');
      const plan = ec2_2.plan(second.state, first.ctx);
      if (plan.kind === 'change') {
        expect(await ec2_2.preflight(second.state, first.ctx)).toEqual([]);
        await ec2_2.apply(second.state, plan, first.ctx);
      }

      expect(
        await ec2_2.verify(first.state, first.ctx),
        `re-entry after a fault at call ${k}`,
      ).toEqual({
        ok: true,
      });
      expect(run.violations, `re-entry after a fault at call ${k}`).toEqual([]);
    }
  });

  it('rolls back again after a fault at any call of the rollback itself', async () => {
    const clean = prepare(world(2));
    const done = await migrated(clean);
    const from = clean.fake.calls.length;
    await ec2_2.rollback(done.plan.before, guarded(done.plan.before));
    const rollbackCalls = clean.fake.calls.length - from;

    for (let k = 0; k < rollbackCalls; k += 1) {
      const run = prepare(world(2));
      const { plan } = await migrated(run);
      run.fake.failAt = run.fake.calls.length + k;

      const error = await ec2_2.rollback(plan.before, guarded(plan.before)).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error, `fault at rollback call ${k}`).toBeInstanceOf(PartialChangeError);
      expect(run.violations, `fault at rollback call ${k}`).toEqual([]);
      run.fake.failAt = undefined;
      await ec2_2.rollback(plan.before, guarded(plan.before));
      expect(snapshot(run.fake.world), `second rollback after a fault at call ${k}`).toEqual(
        snapshot(run.start),
      );
    }
  });

  it('keeps the replacement on rollback while something else uses it', async () => {
    const run = prepare(world(2));
    const { plan } = await migrated(run);
    const rep = replacementOf(run.fake.world);
    run.fake.world.interfaces.push({ interfaceId: 'eni-new', groups: [rep?.groupId ?? ''] });

    const lines = await ec2_2.rollback(plan.before, guarded(plan.before));

    expect(lines.at(-1)).toBe(`kept ${rep?.groupId}: eni-new still use(s) it`);
    expect(run.fake.world.interfaces.slice(0, 2).map((e) => e.groups)).toEqual([
      [DEFAULT],
      [DEFAULT, APP],
    ]);
  });

  it("describes every call of a migration's rollback, exact where it gives access back", async () => {
    // Prepare
    const run = prepare(world(2));
    const { plan } = await readAndPlan(run);

    // Act
    const description = ec2_2.describeRollback(plan.before);

    // Assess
    const found = (value: unknown) => (isFoundAtRunTime(value) ? '<run time>' : value);
    expect(description.target).toEqual({ resourceId: DEFAULT });
    expect(description.problems).toEqual([]);
    expect(
      description.calls.map(
        (c) =>
          `${c.action} ${c.resource}${c.grants ? ` gives ${c.grants.removed}` : ''} ${JSON.stringify(
            Object.fromEntries(
              Object.entries(c.parameters).map(([key, value]) => [key, found(value)]),
            ),
          )}`,
      ),
    ).toEqual([
      ...['sgr-d1', 'sgr-d2', 'sgr-d3'].map((id) =>
        expect.stringMatching(
          new RegExp(
            `^AuthorizeSecurityGroupIngress ${DEFAULT} gives ${id} \\{"GroupId":"${DEFAULT}","IpPermissions":\\[\\{`,
          ),
        ),
      ),
      expect.stringMatching(new RegExp(`^AuthorizeSecurityGroupEgress ${DEFAULT} gives sgr-d4 `)),
      expect.stringMatching(
        new RegExp(`^AuthorizeSecurityGroupIngress ${APP} gives sgr-a1 .*"db from default"`),
      ),
      expect.stringMatching(
        new RegExp(`^AuthorizeSecurityGroupEgress ${APP} gives sgr-a3 .*"to default"`),
      ),
      `AuthorizeSecurityGroupIngress ${DEFAULT} {"GroupId":"${DEFAULT}","IpPermissions":"<run time>"}`,
      `AuthorizeSecurityGroupIngress ${REPLACEMENT_NAME} {"GroupId":"<run time>","IpPermissions":[{"IpProtocol":"-1","UserIdGroupPairs":[{"GroupId":"${DEFAULT}","UserId":"111111111111"}]}]}`,
      `ModifyNetworkInterfaceAttribute eni-1 {"NetworkInterfaceId":"eni-1","Groups":"<run time>"}`,
      `ModifyNetworkInterfaceAttribute eni-2 {"NetworkInterfaceId":"eni-2","Groups":"<run time>"}`,
      `RevokeSecurityGroupIngress ${APP} {"GroupId":"${APP}","IpPermissions":"<run time>"}`,
      `RevokeSecurityGroupEgress ${APP} {"GroupId":"${APP}","IpPermissions":"<run time>"}`,
      `RevokeSecurityGroupIngress ${DEFAULT} {"GroupId":"${DEFAULT}","SecurityGroupRuleIds":"<run time>"}`,
      `RevokeSecurityGroupIngress ${REPLACEMENT_NAME} {"GroupId":"<run time>","SecurityGroupRuleIds":"<run time>"}`,
      `DeleteSecurityGroup ${REPLACEMENT_NAME} {"GroupId":"<run time>"}`,
    ]);
    // Nothing is given back without a recorded revocation.
    expect(wideningProblems({ changes: [], stateLeft: undefined }, description.calls)).toHaveLength(
      6,
    );
  });

  it('refuses a migration before-state a genuine migration could not have recorded', async () => {
    // Prepare: a forged entry adds a world-open rule to another group, claims
    // one of the default group's own rules as another's, renames the
    // replacement and lists an interface that was never in the group.
    const run = prepare(world(1));
    const { plan } = await readAndPlan(run);
    const migration = plan.before.migration;
    if (!migration) throw new Error('expected a migration');
    const forged: Ec2_2Before = {
      ...plan.before,
      migration: {
        ...migration,
        replacementName: 'anything',
        referencingRules: [
          ...migration.referencingRules,
          { ruleId: 'sgr-x1', groupId: APP, egress: false, protocol: '-1', cidrIpv4: '0.0.0.0/0' },
          {
            ruleId: 'sgr-x2',
            groupId: DEFAULT,
            egress: false,
            protocol: '-1',
            referencedGroupId: DEFAULT,
          },
        ],
        interfaces: [...migration.interfaces, { interfaceId: 'eni-9', groups: [APP] }],
      },
    };

    // Act
    const { problems } = ec2_2.describeRollback(forged);

    // Assess
    expect(problems).toEqual([
      `the replacement is named anything, but hubfix names it ${REPLACEMENT_NAME}`,
      `rule sgr-x1 of ${APP} does not name ${DEFAULT} as its peer`,
      `rule sgr-x2 is one of ${DEFAULT}'s own, not another group's`,
      `interface eni-9 was not in ${DEFAULT}`,
    ]);
  });

  it('validates a migration before-state read back from the ledger, and still reads old ones', () => {
    expect(
      ec2_2.before.parse(
        {
          groupId: DEFAULT,
          vpcId: VPC,
          rules: [],
          migration: { replacementName: '', interfaces: [], referencingRules: [] },
        },
        'before',
      ).ok,
    ).toBe(false);
    expect(ec2_2.before.parse({ groupId: DEFAULT, vpcId: VPC, rules: [] }, 'before').ok).toBe(true);
  });
});
