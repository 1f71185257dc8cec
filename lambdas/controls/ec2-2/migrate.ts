/**
 * EC2.2's `migrate` strategy: the manual procedure's full path (seed 001,
 * steps 2 to 4) for a default group that is in use. The default group's
 * rules are copied to a replacement group, every interface moves to it,
 * rules of other groups that point at the default group are re-pointed, and
 * only then is the default group emptied.
 *
 * No interface is ever without its rules, and no traffic between interfaces
 * already moved and interfaces not yet moved is cut: until every interface
 * has moved, each rule whose peer is the default group (in other groups, in
 * the default group itself, and in the replacement's copy) also exists with
 * the replacement as its peer. Rules are added before anything moves and the
 * old ones are removed only after everything has moved.
 */
import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  type EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { foundAtRunTime, type Log, type RollbackCall, type VerifyResult } from '../../core/control';
import { type Deadline, hasTimeFor } from '../../core/deadline';
import { describeError, PartialChangeError } from '../../core/errors';
import { array, type Infer, object, optional, string } from '../../core/schema';
import {
  authorizeRules,
  describePermission,
  describeRestoreRules,
  describeRule,
  listRules,
  listRulesOf,
  manualRestoreCommands,
  permissionKey,
  type RulePermission,
  repointed,
  restoreRules,
  revokePermissions,
  revokeRuleIds,
  type SecurityGroupRuleRecord,
  securityGroupRulesSchema,
  toIpPermission,
} from '../../services/ec2/security-group-rules';
import {
  describeInterface,
  type GroupSummary,
  groupNamed,
  groupsReferencing,
  type InterfaceInGroups,
  interfacesById,
  interfacesInGroup,
} from '../../services/ec2/security-groups';
import { VERIFY_BACKOFF_MS } from '../../services/wait';
import { REPLACES_TAG, replacementGroupName } from './meta';
import { LISTED, listSome } from './users';

/** What a migration would move, read live with the group. */
export interface MigrationInventory {
  /** The interfaces in the default group, up to one more than `maxInterfaces`. */
  readonly interfaces: readonly InterfaceInGroups[];
  /** True when more interfaces use the group than were read. */
  readonly moreInterfaces: boolean;
  /** Rules of other groups whose peer is the default group. */
  readonly referencingRules: readonly SecurityGroupRuleRecord[];
  /** The groups holding those rules. */
  readonly referencingGroups: readonly GroupSummary[];
  /** A group already bearing the replacement's name: hubfix's own from an earlier run, or not. */
  readonly existingReplacement?: GroupSummary;
}

export async function readInventory(
  ec2: EC2Client,
  groupId: string,
  vpcId: string,
  maxInterfaces: number,
): Promise<MigrationInventory> {
  const [interfaces, referencingGroups, existingReplacement] = await Promise.all([
    interfacesInGroup(ec2, groupId, maxInterfaces + 1),
    groupsReferencing(ec2, groupId),
    groupNamed(ec2, vpcId, replacementGroupName(vpcId)),
  ]);
  const rules = await listRulesOf(
    ec2,
    referencingGroups.map((g) => g.groupId),
  );
  return {
    interfaces: interfaces.items,
    moreInterfaces: interfaces.more,
    referencingRules: rules.filter((r) => r.referencedGroupId === groupId),
    referencingGroups,
    ...(existingReplacement ? { existingReplacement } : {}),
  };
}

export const migrationBefore = object({
  replacementName: string({ minLength: 1 }),
  /** Each interface to move, with its groups before the move. */
  interfaces: array(
    object({ interfaceId: string({ minLength: 1 }), groups: array(string({ minLength: 1 })) }),
  ),
  /** Rules of other groups whose peer was the default group, as they were. */
  referencingRules: securityGroupRulesSchema,
  /** Set when the replacement existed already when the change was planned. */
  replacementGroupId: optional(string({ minLength: 1 })),
});

export type MigrationBefore = Infer<typeof migrationBefore>;

export function isOwnReplacement(group: GroupSummary | undefined, groupId: string): boolean {
  return group !== undefined && group.tags[REPLACES_TAG] === groupId;
}

export function migrationBeforeOf(groupId: string, vpcId: string, inventory: MigrationInventory) {
  const existing = inventory.existingReplacement;
  return {
    replacementName: replacementGroupName(vpcId),
    interfaces: inventory.interfaces.map((e) => ({
      interfaceId: e.interfaceId,
      groups: [...e.groups],
    })),
    referencingRules: [...inventory.referencingRules],
    ...(existing && isOwnReplacement(existing, groupId)
      ? { replacementGroupId: existing.groupId }
      : {}),
  } satisfies MigrationBefore;
}

/** Interface types whose groups their owner may change; others belong to an AWS service. */
const MOVABLE_TYPES: ReadonlySet<string> = new Set(['interface', 'efa', 'efa-only']);

/** Why hubfix may not move this interface, or undefined when it may. */
export function unmovable(eni: InterfaceInGroups): string | undefined {
  if (eni.managedBy) return `managed by ${eni.managedBy}`;
  if (eni.requesterManaged) return `${eni.interfaceType}, requester-managed`;
  if (!MOVABLE_TYPES.has(eni.interfaceType)) return eni.interfaceType;
  if (eni.instanceOwnerId && eni.ownerId && eni.instanceOwnerId !== eni.ownerId) {
    return `attached to an instance of ${eni.instanceOwnerId}`;
  }
  return undefined;
}

/** Pure: what in the inventory blocks a migration. */
export function migrationBlockers(
  groupId: string,
  vpcId: string,
  inventory: MigrationInventory,
  maxInterfaces: number,
): string[] {
  const blockers: string[] = [];
  const count = inventory.interfaces.length;
  if (count > maxInterfaces || inventory.moreInterfaces) {
    blockers.push(
      `more than ${maxInterfaces} network interfaces use ${groupId} (the limit is migrate.maxInterfaces): a person should look at a group this many things share before hubfix moves them.`,
    );
  }
  const fixed = inventory.interfaces.flatMap((eni) => {
    const why = unmovable(eni);
    return why ? [`${describeInterface(eni)}: ${why}`] : [];
  });
  if (fixed.length > 0) {
    blockers.push(
      `${fixed.length} network interface(s) in ${groupId} belong to AWS services (load balancers, NAT gateways, VPC endpoints, Lambda, RDS...) and must be given another group through that service: ${listSome(fixed)}.`,
    );
  }
  const elsewhere = inventory.referencingGroups.filter((g) => g.vpcId && g.vpcId !== vpcId);
  if (elsewhere.length > 0) {
    blockers.push(
      `groups in other VPCs reference ${groupId}: ${listSome(elsewhere.map((g) => `${g.groupId} (${g.vpcId})`))}. Point them at a group of ${vpcId} first.`,
    );
  }
  const existing = inventory.existingReplacement;
  if (existing && !isOwnReplacement(existing, groupId)) {
    blockers.push(
      `a group named ${existing.name} (${existing.groupId}) already exists in ${vpcId} and is not hubfix's replacement for ${groupId} (no tag ${REPLACES_TAG}=${groupId}). Rename or remove it first.`,
    );
  }
  return blockers;
}

/** What a person should know before choosing `migrate`, said in every plan. */
export const MIGRATE_CAVEAT =
  'disruptive for whatever relies on the default group in ways hubfix cannot see: applications or scripts that look up the group id, templates (CloudFormation, Terraform) that will create resources in it, references from other accounts';

function selfReferences(groupId: string, rules: readonly SecurityGroupRuleRecord[]) {
  return rules.filter((r) => r.referencedGroupId === groupId);
}

/** The rules the replacement holds while interfaces move: the copy, plus the old peer. */
function replacementRules(
  groupId: string,
  replacementId: string,
  rules: readonly SecurityGroupRuleRecord[],
): RulePermission[] {
  const wanted = [
    ...rules.map((r) => repointed(r, groupId, replacementId)),
    ...selfReferences(groupId, rules).map((r) => repointed(r, groupId, groupId)),
  ];
  const byKey = new Map(wanted.map((r) => [permissionKey(r), r]));
  return [...byKey.values()];
}

function byGroup(
  rules: readonly SecurityGroupRuleRecord[],
): Map<string, SecurityGroupRuleRecord[]> {
  const groups = new Map<string, SecurityGroupRuleRecord[]>();
  for (const rule of rules) groups.set(rule.groupId, [...(groups.get(rule.groupId) ?? []), rule]);
  return groups;
}

function byDirection(
  rules: readonly SecurityGroupRuleRecord[],
): [string, SecurityGroupRuleRecord[]][] {
  const directions: [string, SecurityGroupRuleRecord[]][] = [
    ['inbound', rules.filter((r) => !r.egress)],
    ['outbound', rules.filter((r) => r.egress)],
  ];
  return directions.filter(([, ofDirection]) => ofDirection.length > 0);
}

/** The rule ids a step names: a rollback gives back only rules the change recorded as revoked. */
function ruleIds(rules: readonly SecurityGroupRuleRecord[]): string {
  return rules.map((r) => r.ruleId).join(', ');
}

/** Pure: the plan's steps, in the order apply makes them. */
export function migrationSteps(
  groupId: string,
  vpcId: string,
  rules: readonly SecurityGroupRuleRecord[],
  before: MigrationBefore,
): string[] {
  const replacement = before.replacementGroupId ?? `the replacement (${before.replacementName})`;
  const copy = replacementRules(groupId, 'the replacement', rules);
  return [
    before.replacementGroupId
      ? `reuse ${before.replacementGroupId} (${before.replacementName}), made by an earlier run (tag ${REPLACES_TAG}=${groupId})`
      : `create security group ${before.replacementName} in ${vpcId}, tagged ${REPLACES_TAG}=${groupId}`,
    `give ${replacement} the ${rules.length} rule(s) of ${groupId} exactly, descriptions included, its own references to ${groupId} translated to the replacement (and kept to ${groupId} until every interface has moved): ${copy.map(describePermission).join('; ')}`,
    ...[...byGroup(before.referencingRules)].map(
      ([group, groupRules]) =>
        `add to ${group}, next to its ${groupRules.length} rule(s) for ${groupId}, the same rule(s) for ${replacement}: ${groupRules.map(describeRule).join('; ')}`,
    ),
    ...(selfReferences(groupId, rules).length > 0
      ? [
          `add to ${groupId} its own references again with ${replacement} as the peer, so interfaces moved and not yet moved still reach each other`,
        ]
      : []),
    ...before.interfaces.map(
      (eni) =>
        `move ${eni.interfaceId}: security groups [${eni.groups.join(', ')}] become [${eni.groups.map((g) => (g === groupId ? replacement : g)).join(', ')}] in one call`,
    ),
    ...[...byGroup(before.referencingRules)].map(
      ([group, groupRules]) =>
        `revoke from ${group} its rule(s) for ${groupId}: ${groupRules.map((r) => r.ruleId).join(', ')}`,
    ),
    ...(selfReferences(groupId, rules).length > 0
      ? [`revoke from ${replacement} the rule(s) that still name ${groupId}`]
      : []),
    `revoke every rule of ${groupId} (${rules.length}) and the temporary ones, then check that none is left`,
    `note: ${MIGRATE_CAVEAT}`,
  ];
}

/** Pure: the AWS CLI commands that undo a migration by hand. */
export function migrationUndo(before: MigrationBefore): string[] {
  const replacement = before.replacementGroupId ?? '<replacement-group-id>';
  return [
    ...before.interfaces.map(
      (eni) =>
        `aws ec2 modify-network-interface-attribute --network-interface-id ${eni.interfaceId} --groups ${eni.groups.join(' ')}`,
    ),
    ...[...byGroup(before.referencingRules)].flatMap(([group, groupRules]) =>
      manualRestoreCommands(group, groupRules),
    ),
    `aws ec2 delete-security-group --group-id ${replacement}   # once nothing uses it; this also removes the rules that name it`,
  ];
}

/**
 * Time one EC2 call is allowed in the estimate: EC2 answers in well under a
 * second, and this leaves room for the SDK's retries on throttling.
 */
export const CALL_MS = 1_000;

/**
 * What verify needs after apply: its backoff, and at each of its looks three
 * rounds of reads (the reads of one round go in parallel).
 */
export const VERIFY_RESERVE_MS =
  VERIFY_BACKOFF_MS.reduce((sum, ms) => sum + ms, 0) + (VERIFY_BACKOFF_MS.length + 1) * 3 * CALL_MS;

/** Pure: the calls apply makes at most for this migration (pages beyond the first aside). */
export function migrationCalls(
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
  before: MigrationBefore,
): number {
  const directions = (list: readonly { egress: boolean }[]) =>
    new Set(list.map((r) => r.egress)).size;
  const referencing = [...byGroup(before.referencingRules).values()].reduce(
    (sum, groupRules) => sum + directions(groupRules),
    0,
  );
  const own = directions(selfReferences(groupId, rules));
  const fresh = before.replacementGroupId ? 0 : 1;
  return (
    fresh + // create the replacement
    1 + // read its rules
    2 + // add the copy, inbound and outbound
    2 * fresh + // trim what CreateSecurityGroup added that the copy lacks
    referencing + // add the re-pointed rules to other groups
    own + // add the re-pointed self-references to the default group
    1 + // read the interfaces to move
    before.interfaces.length + // one call per interface
    referencing + // revoke the old rules of other groups
    own + // revoke the replacement's transitional rules
    directions(rules) + // empty the default group
    own // and its temporary rules
  );
}

/** The whole migration's expected time, verify included. */
export function migrationMs(
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
  before: MigrationBefore,
): number {
  return migrationCalls(groupId, rules, before) * CALL_MS + VERIFY_RESERVE_MS;
}

/**
 * Runs steps in order, each only when time is left for it, and keeps the
 * list of steps done: when one fails or time runs short, the error says
 * exactly what was done.
 */
class Steps {
  readonly done: string[] = [];

  constructor(
    private readonly deadline: Deadline,
    private readonly log: Log,
  ) {}

  stateLeft(): string {
    return this.done.length === 0
      ? 'unchanged: no step was made'
      : `${this.done.length} step(s) done: ${this.done.join('; ')}. Every interface has either the default group or the replacement with the same rules; a re-run finishes the migration, or the plan's undo commands undo the steps done (\`hubfix rollback\` gives back only rules this entry records as revoked)`;
  }

  async run<T>(label: string, calls: number, work: () => Promise<T>): Promise<T> {
    if (!hasTimeFor(this.deadline, calls * CALL_MS)) {
      throw new PartialChangeError(
        `stopped before "${label}": not enough time left in this invocation`,
        this.stateLeft(),
        { changes: [...this.done] },
      );
    }
    this.log.info('EC2.2 migrate: step starting', { step: label });
    try {
      const result = await work();
      this.done.push(label);
      return result;
    } catch (error) {
      throw new PartialChangeError(`${label} failed: ${describeError(error)}`, this.stateLeft(), {
        cause: error,
        changes: [...this.done],
      });
    }
  }
}

function isDuplicateGroup(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidGroup.Duplicate';
}

async function createReplacement(
  ec2: EC2Client,
  groupId: string,
  vpcId: string,
  name: string,
): Promise<{ id: string; created: boolean }> {
  try {
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `hubfix: copy of ${groupId}, the default security group of ${vpcId} (EC2.2)`,
        VpcId: vpcId,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: REPLACES_TAG, Value: groupId }] },
        ],
      }),
    );
    if (!created.GroupId) throw new Error('CreateSecurityGroup answered no group id');
    return { id: created.GroupId, created: true };
  } catch (error) {
    // An earlier run made it, and the read before this one did not show it yet.
    if (!isDuplicateGroup(error)) throw error;
    const existing = await groupNamed(ec2, vpcId, name);
    if (!existing || !isOwnReplacement(existing, groupId)) throw error;
    return { id: existing.groupId, created: false };
  }
}

export interface MigrationInput {
  readonly groupId: string;
  readonly vpcId: string;
  readonly rules: readonly SecurityGroupRuleRecord[];
  readonly before: MigrationBefore;
}

/** Applies the migration in order. @throws PartialChangeError naming the steps done. */
export async function applyMigration(
  ec2: EC2Client,
  input: MigrationInput,
  deadline: Deadline,
  log: Log,
): Promise<string[]> {
  const { groupId, vpcId, rules, before } = input;
  const steps = new Steps(deadline, log);
  const needed = migrationMs(groupId, rules, before);
  if (!hasTimeFor(deadline, needed)) {
    throw new PartialChangeError(
      `not started: the migration needs about ${Math.ceil(needed / 1000)} s and this invocation has ${Math.floor(deadline.remainingMs() / 1000)} s left`,
      'unchanged: no step was made',
    );
  }

  const replacement = before.replacementGroupId
    ? { id: before.replacementGroupId, created: false }
    : await steps.run(`create ${before.replacementName}`, 2, () =>
        createReplacement(ec2, groupId, vpcId, before.replacementName),
      );
  const replacementId = replacement.id;

  await steps.run(`copy the rules of ${groupId} to ${replacementId}`, 5, async () => {
    const wanted = replacementRules(groupId, replacementId, rules);
    const present = await listRules(ec2, replacementId);
    const presentKeys = new Set(present.map(permissionKey));
    const wantedKeys = new Set(wanted.map(permissionKey));
    await authorizeRules(
      ec2,
      replacementId,
      wanted.filter((r) => !presentKeys.has(permissionKey(r))),
    );
    // Only a group made just now is trimmed: what CreateSecurityGroup adds
    // (allow all outbound) and the default group does not have.
    if (replacement.created) {
      await revokeRuleIds(
        ec2,
        replacementId,
        present.filter((r) => !wantedKeys.has(permissionKey(r))),
      );
    }
  });

  const referencing = byGroup(before.referencingRules);
  for (const [group, groupRules] of referencing) {
    await steps.run(`add to ${group} the rule(s) for ${replacementId}`, 2, () =>
      authorizeRules(
        ec2,
        group,
        groupRules.map((r) => repointed(r, groupId, replacementId)),
      ),
    );
  }
  const own = selfReferences(groupId, rules);
  if (own.length > 0) {
    await steps.run(`add to ${groupId} its references again for ${replacementId}`, 2, () =>
      authorizeRules(
        ec2,
        groupId,
        own.map((r) => repointed(r, groupId, replacementId)),
      ),
    );
  }

  const current = new Map(
    (
      await steps.run('read the interfaces to move', 1, () =>
        interfacesById(
          ec2,
          before.interfaces.map((e) => e.interfaceId),
        ),
      )
    ).map((e) => [e.interfaceId, e]),
  );
  const skipped: string[] = [];
  for (const planned of before.interfaces) {
    const eni = current.get(planned.interfaceId);
    if (!eni?.groups.includes(groupId)) {
      skipped.push(`${planned.interfaceId} (${eni ? 'no longer in the default group' : 'gone'})`);
      continue;
    }
    const groups = [...new Set(eni.groups.map((g) => (g === groupId ? replacementId : g)))];
    await steps.run(`move ${planned.interfaceId} to [${groups.join(', ')}]`, 1, () =>
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: planned.interfaceId,
          Groups: groups,
        }),
      ),
    );
  }

  for (const [group, groupRules] of referencing) {
    for (const [direction, ofDirection] of byDirection(groupRules)) {
      await steps.run(
        `revoke from ${group} its ${direction} rule(s) for ${groupId}: ${ruleIds(ofDirection)}`,
        1,
        () => revokeRuleIds(ec2, group, ofDirection),
      );
    }
  }
  if (own.length > 0) {
    await steps.run(`revoke from ${replacementId} the rule(s) that still name ${groupId}`, 2, () =>
      revokePermissions(
        ec2,
        replacementId,
        own.map((r) => repointed(r, groupId, groupId)),
      ),
    );
  }

  for (const [direction, ofDirection] of byDirection(rules)) {
    await steps.run(
      `revoke the ${direction} rule(s) of ${groupId}: ${ruleIds(ofDirection)}`,
      1,
      () => revokeRuleIds(ec2, groupId, ofDirection),
    );
  }
  if (own.length > 0) {
    await steps.run(`revoke from ${groupId} its temporary rule(s) for ${replacementId}`, 2, () =>
      revokePermissions(
        ec2,
        groupId,
        own.map((r) => repointed(r, groupId, replacementId)),
      ),
    );
  }

  return [...steps.done, ...(skipped.length > 0 ? [`not moved: ${skipped.join(', ')}`] : [])];
}

/** The replacement hubfix made for `groupId`, if it exists. */
export async function findReplacement(
  ec2: EC2Client,
  groupId: string,
  vpcId: string,
): Promise<GroupSummary | undefined> {
  const found = await groupNamed(ec2, vpcId, replacementGroupName(vpcId));
  return isOwnReplacement(found, groupId) ? found : undefined;
}

/** One look: what is still wrong after a migration, or nothing. */
export async function migrationProblems(
  ec2: EC2Client,
  groupId: string,
  vpcId: string,
  moved: readonly string[],
): Promise<string[]> {
  const [inGroup, referencing, left, replacement] = await Promise.all([
    interfacesInGroup(ec2, groupId, 5),
    groupsReferencing(ec2, groupId),
    listRules(ec2, groupId),
    findReplacement(ec2, groupId, vpcId),
  ]);
  const problems: string[] = [];
  if (inGroup.items.length > 0) {
    problems.push(
      `interfaces still use ${groupId}: ${listSome(inGroup.items.map((e) => e.interfaceId))}`,
    );
  }
  if (referencing.length > 0) {
    problems.push(
      `groups still reference ${groupId}: ${listSome(referencing.map((g) => g.groupId))}`,
    );
  }
  if (left.length > 0) {
    problems.push(
      `${left.length} rule(s) remain on ${groupId}: ${listSome(left.map((r) => r.ruleId))}`,
    );
  }
  if (moved.length > 0) {
    if (!replacement) problems.push(`the replacement group for ${groupId} is not there`);
    else {
      const now = await interfacesById(ec2, moved);
      const without = now.filter((e) => !e.groups.includes(replacement.groupId));
      if (without.length > 0) {
        problems.push(
          `interfaces without the replacement ${replacement.groupId}: ${listSome(without.map((e) => e.interfaceId))}`,
        );
      }
    }
  }
  return problems;
}

export function verdict(problems: readonly string[]): VerifyResult {
  return problems.length === 0 ? { ok: true } : { ok: false, reason: problems.join('; ') };
}

/**
 * Puts back the recorded rules of `groupId` that are not there now: a
 * migration that stopped part-way revoked only some, and a rollback gives
 * back only what the change took away.
 */
async function restoreMissing(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): Promise<string[]> {
  const present = new Set((await listRules(ec2, groupId)).map(permissionKey));
  const missing = rules.filter((r) => !present.has(permissionKey(r)));
  const kept = rules.length - missing.length;
  return [
    ...(await restoreRules(ec2, groupId, missing)),
    ...(kept > 0 ? [`${kept} rule(s) of ${groupId} were still in place`] : []),
  ];
}

/**
 * Undoes a migration from whatever point it reached, in an order that keeps
 * every interface reachable, as apply does: the default group's rules and the
 * other groups' rules for it come back first (next to the ones for the
 * replacement), then each interface gets the default group back in place of
 * the replacement, and only then do the rules for the replacement go; the
 * replacement itself is deleted if nothing uses it any more. Each step looks
 * at the live state first, so running it twice, or after a partial
 * migration, does only what is needed.
 */
export async function rollbackMigration(
  ec2: EC2Client,
  groupId: string,
  vpcId: string,
  rules: readonly SecurityGroupRuleRecord[],
  before: MigrationBefore,
): Promise<string[]> {
  const lines: string[] = [];
  const stage = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new PartialChangeError(
        `rollback: ${label} failed: ${describeError(error)}`,
        lines.length > 0 ? `done so far: ${lines.join('; ')}` : 'nothing was changed',
        { cause: error },
      );
    }
  };

  lines.push(
    ...(await stage(`restoring the rules of ${groupId}`, () =>
      restoreMissing(ec2, groupId, rules),
    )),
  );
  const replacement = await stage('finding the replacement group', () =>
    findReplacement(ec2, groupId, vpcId),
  );
  if (!replacement) {
    lines.push(`no replacement group ${before.replacementName} exists: nothing was moved to one`);
    return lines;
  }
  const replacementId = replacement.groupId;
  const referencing = byGroup(before.referencingRules);
  for (const [group, groupRules] of referencing) {
    lines.push(
      ...(await stage(`restoring the rules of ${group}`, () =>
        restoreMissing(ec2, group, groupRules),
      )),
    );
  }
  // Interfaces moved back and those not yet moved back still reach each other.
  const own = selfReferences(groupId, rules);
  if (own.length > 0) {
    await stage(`bridging ${groupId} and ${replacementId} while interfaces move back`, async () => {
      await authorizeRules(
        ec2,
        groupId,
        own.map((r) => repointed(r, groupId, replacementId)),
      );
      await authorizeRules(
        ec2,
        replacementId,
        own.map((r) => repointed(r, groupId, groupId)),
      );
    });
  }

  const now = await stage('reading the moved interfaces', () =>
    interfacesById(
      ec2,
      before.interfaces.map((e) => e.interfaceId),
    ),
  );
  for (const eni of now) {
    // Only an interface in the replacement goes back: one that has neither
    // group was changed by someone since, and is theirs to decide.
    if (!eni.groups.includes(replacementId)) {
      if (!eni.groups.includes(groupId)) {
        lines.push(
          `left ${eni.interfaceId} as it is: it is in neither ${groupId} nor ${replacementId} now`,
        );
      }
      continue;
    }
    const groups = [...new Set(eni.groups.map((g) => (g === replacementId ? groupId : g)))];
    await stage(`putting ${groupId} back on ${eni.interfaceId}`, () =>
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eni.interfaceId,
          Groups: groups,
        }),
      ),
    );
    lines.push(`${eni.interfaceId}: security groups [${groups.join(', ')}] again`);
  }

  for (const [group, groupRules] of referencing) {
    await stage(`removing the rules of ${group} for ${replacementId}`, () =>
      revokePermissions(
        ec2,
        group,
        groupRules.map((r) => repointed(r, groupId, replacementId)),
      ),
    );
    lines.push(`removed from ${group} its rule(s) for ${replacementId}`);
  }
  const [defaultRules, replacementRulesNow] = await stage('reading the rules left to remove', () =>
    Promise.all([listRules(ec2, groupId), listRules(ec2, replacementId)]),
  );
  // Only the rules the migration and this rollback add: any other rule
  // naming the replacement was made by someone else.
  const temporaryKeys = new Set(
    own.map((r) => permissionKey(repointed(r, groupId, replacementId))),
  );
  const bridgingKeys = new Set(own.map((r) => permissionKey(repointed(r, groupId, groupId))));
  const temporary = defaultRules.filter((r) => temporaryKeys.has(permissionKey(r)));
  if (temporary.length > 0) {
    await stage(`removing the temporary rules of ${groupId}`, () =>
      revokeRuleIds(ec2, groupId, temporary),
    );
    lines.push(
      `removed from ${groupId} its ${temporary.length} temporary rule(s) for ${replacementId}`,
    );
  }
  const bridging = replacementRulesNow.filter((r) => bridgingKeys.has(permissionKey(r)));
  if (bridging.length > 0) {
    await stage(`removing the rules of ${replacementId} for ${groupId}`, () =>
      revokeRuleIds(ec2, replacementId, bridging),
    );
  }

  const [members, users] = await stage(`checking whether anything uses ${replacementId}`, () =>
    Promise.all([
      interfacesInGroup(ec2, replacementId, LISTED),
      groupsReferencing(ec2, replacementId),
    ]),
  );
  const using = [...members.items.map((e) => e.interfaceId), ...users.map((g) => g.groupId)];
  if (using.length > 0) {
    lines.push(`kept ${replacementId}: ${listSome(using)} still use(s) it`);
    return lines;
  }
  await stage(`deleting ${replacementId}`, () =>
    ec2.send(new DeleteSecurityGroupCommand({ GroupId: replacementId })),
  );
  lines.push(`deleted the replacement group ${replacementId}`);
  return lines;
}

function ruleCall(
  verb: 'Authorize' | 'Revoke',
  egress: boolean,
  resource: string,
  parameters: RollbackCall['parameters'],
  when: string,
): RollbackCall {
  return {
    service: 'ec2',
    action: `${verb}SecurityGroup${egress ? 'Egress' : 'Ingress'}`,
    resource,
    parameters,
    when,
  };
}

/**
 * Pure: every mutating call {@link rollbackMigration} may make, in its order,
 * and what in the before-state a genuine migration could not have recorded.
 * The replacement's id and the ids of rules the migration made are known only
 * when the rollback runs; the calls that give access back (the default
 * group's rules, the other groups' rules for it) are exact.
 */
export function describeMigrationRollback(
  groupId: string,
  vpcId: string,
  rules: readonly SecurityGroupRuleRecord[],
  before: MigrationBefore,
): { calls: RollbackCall[]; problems: string[] } {
  const missing = 'if it is not there now';
  const replacement = before.replacementGroupId ?? before.replacementName;
  const replacementId = foundAtRunTime(
    `the replacement group ${before.replacementName} tagged ${REPLACES_TAG}=${groupId}`,
  );
  const own = selfReferences(groupId, rules);
  const referencing = [...byGroup(before.referencingRules)];
  const bridge =
    'while interfaces move back, so those moved and those not yet moved reach each other';
  const calls: RollbackCall[] = [
    ...describeRestoreRules(groupId, rules).map((call) => ({ ...call, when: missing })),
    ...referencing.flatMap(([group, groupRules]) =>
      describeRestoreRules(group, groupRules).map((call) => ({ ...call, when: missing })),
    ),
    ...byDirection(own).flatMap(([, ofDirection]) => {
      const egress = ofDirection[0]?.egress ?? false;
      const back = ofDirection.map((r) => toIpPermission(repointed(r, groupId, groupId)));
      return [
        ruleCall(
          'Authorize',
          egress,
          groupId,
          {
            GroupId: groupId,
            IpPermissions: foundAtRunTime(
              `its own references again with the replacement as the peer: ${ofDirection.map((r) => describePermission(repointed(r, groupId, 'the replacement'))).join('; ')}`,
            ),
          },
          bridge,
        ),
        // All at once, or one by one when one is there already.
        ...[back, ...(back.length > 1 ? back.map((p) => [p]) : [])].map((permissions) =>
          ruleCall(
            'Authorize',
            egress,
            replacement,
            { GroupId: replacementId, IpPermissions: permissions },
            bridge,
          ),
        ),
      ];
    }),
    ...before.interfaces.map((eni) => ({
      service: 'ec2',
      action: 'ModifyNetworkInterfaceAttribute',
      resource: eni.interfaceId,
      parameters: {
        NetworkInterfaceId: eni.interfaceId,
        Groups: foundAtRunTime(
          `its security groups now, with ${groupId} in place of the replacement`,
        ),
      },
      when: 'if it is in the replacement',
    })),
    ...referencing.flatMap(([group, groupRules]) =>
      byDirection(groupRules).map(([direction, ofDirection]) =>
        ruleCall(
          'Revoke',
          ofDirection[0]?.egress ?? false,
          group,
          {
            GroupId: group,
            IpPermissions: foundAtRunTime(
              `its ${direction} rule(s) ${ruleIds(ofDirection)} with the replacement as the peer`,
            ),
          },
          'if the migration added them',
        ),
      ),
    ),
    ...byDirection(own).flatMap(([direction, ofDirection]) => {
      const egress = ofDirection[0]?.egress ?? false;
      return [
        ruleCall(
          'Revoke',
          egress,
          groupId,
          {
            GroupId: groupId,
            SecurityGroupRuleIds: foundAtRunTime(
              `the ids of its ${direction} rules whose peer is the replacement, made by the migration or this rollback`,
            ),
          },
          'if they are there',
        ),
        ruleCall(
          'Revoke',
          egress,
          replacement,
          {
            GroupId: replacementId,
            SecurityGroupRuleIds: foundAtRunTime(
              `the ids of its ${direction} rules whose peer is ${groupId}, made by the migration or this rollback`,
            ),
          },
          'if they are there',
        ),
      ];
    }),
    {
      service: 'ec2',
      action: 'DeleteSecurityGroup',
      resource: replacement,
      parameters: { GroupId: replacementId },
      when: 'if no interface and no other group uses it any more',
    },
  ];
  const problems = [
    ...(before.replacementName !== replacementGroupName(vpcId)
      ? [
          `the replacement is named ${before.replacementName}, but hubfix names it ${replacementGroupName(vpcId)}`,
        ]
      : []),
    ...before.referencingRules.flatMap((rule) => [
      ...(rule.groupId === groupId
        ? [`rule ${rule.ruleId} is one of ${groupId}'s own, not another group's`]
        : []),
      ...(rule.referencedGroupId !== groupId
        ? [`rule ${rule.ruleId} of ${rule.groupId} does not name ${groupId} as its peer`]
        : []),
    ]),
    ...before.interfaces
      .filter((eni) => !eni.groups.includes(groupId))
      .map((eni) => `interface ${eni.interfaceId} was not in ${groupId}`),
  ];
  return { calls, problems };
}
