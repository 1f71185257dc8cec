import {
  AssociateAddressCommand,
  CreateNetworkInterfaceCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeSubnetsCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySubnetAttributeCommand,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_9Params } from '../../../lambdas/controls/ec2-9/meta';
import {
  type Ec2_9Before,
  type Ec2Clients,
  ec2_9,
  type InstanceState,
} from '../../../lambdas/controls/ec2-9/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { type Deadline, deadlineIn } from '../../../lambdas/core/deadline';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import { givesBackUnrecorded, wideningProblems } from '../../../lambdas/core/rollback-checks';
import { guardClients } from '../../../lambdas/core/rollback-guard';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';
import {
  ALLOCATION,
  ASSOCIATION,
  ec2World,
  GROUP,
  INSTANCE,
  instance,
  NEW_PUBLIC_IP,
  OWNER_ALLOCATION,
  OWNER_ASSOCIATION,
  OWNER_ELASTIC_IP,
  PRIMARY,
  PRIVATE_IP,
  PUBLIC_IP,
  SUBNET,
  sent,
} from '../../support/ec2-9';

const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);

const ec2Mock = strictMock(EC2Client);
const world = ec2World(ec2Mock);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };

function paramsOf(overrides: Partial<Ec2_9Params> = {}): Ec2_9Params {
  const parsed = ec2_9.params.parse(overrides, 'params');
  if (!parsed.ok) throw new Error('invalid params in the test');
  return parsed.value;
}

/** A context with its own fake clock; the deadline, when given, runs on that clock. */
function contextOf(
  params: Partial<Ec2_9Params> = {},
  deadlineMs?: number,
): { ctx: FindingContext<Ec2Clients, Ec2_9Params>; sleeps: number[] } {
  const { clock, sleeps } = fakeClock();
  const deadline: Deadline | undefined =
    deadlineMs === undefined ? undefined : deadlineIn(deadlineMs, clock.now);
  return {
    ctx: findingContext(clients, paramsOf(params), {
      clock,
      ...(deadline ? { deadline } : {}),
    }),
    sleeps,
  };
}

let ctx: FindingContext<Ec2Clients, Ec2_9Params>;
let sleeps: number[];

async function readFound(
  context: FindingContext<Ec2Clients, Ec2_9Params> = ctx,
): Promise<InstanceState> {
  const read = await ec2_9.readState(ref, context);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(
  state: InstanceState,
  context: FindingContext<Ec2Clients, Ec2_9Params> = ctx,
): ChangePlan<Ec2_9Before> {
  const plan = ec2_9.plan(state, context);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

/** An instance with an auto-assigned address, no leftovers, read live. */
async function autoAssigned(): Promise<InstanceState> {
  world.instance(instance());
  world.addresses([]);
  world.temporaryInterfaces();
  return readFound();
}

/** An instance with the owner's Elastic IP, its interface's auto-assign as given. */
async function withElasticIp(
  autoAssign: boolean | undefined,
  overrides: Parameters<typeof instance>[0] = {},
): Promise<InstanceState> {
  world.instance(instance(overrides));
  world.addresses([OWNER_ELASTIC_IP]);
  world.temporaryInterfaces();
  world.autoAssign(autoAssign);
  return readFound();
}

/** An auto-assigned address on an instance whose subnet auto-assigns, read with the subnet step on. */
async function withSubnetStep() {
  const { ctx: withSubnet } = contextOf({ disableSubnetAutoAssign: true });
  world.instance(instance());
  world.addresses([]);
  world.temporaryInterfaces();
  ec2Mock
    .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
    .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });
  return { withSubnet, state: await readFound(withSubnet) };
}

function turnOffSubnetAutoAssign() {
  return ec2Mock.on(
    ModifySubnetAttributeCommand,
    { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
    true,
  );
}

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a failure'),
    (error: unknown) => error,
  );
}

function turnOffAutoAssign() {
  return ec2Mock.on(
    ModifyNetworkInterfaceAttributeCommand,
    { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
    true,
  );
}

function disassociateOwnerAddress() {
  return ec2Mock.on(DisassociateAddressCommand, { AssociationId: OWNER_ASSOCIATION }, true);
}

beforeEach(() => {
  resetStrict(ec2Mock);
  world.reset();
  ({ ctx, sleeps } = contextOf());
});

describe('EC2.9 readState and plan', () => {
  it('reads an auto-assigned address, the primary interface and the tags, and looks for leftovers', async () => {
    // Prepare
    world.instance(instance());
    world.addresses([]);
    world.temporaryInterfaces();

    // Act
    const read = await ec2_9.readState(ref, ctx);

    // Assess
    expect(read).toEqual({
      kind: 'found',
      tags: { team: 'web' },
      state: {
        instanceId: INSTANCE,
        lifecycle: 'running',
        autoScalingGroup: undefined,
        subnetId: SUBNET,
        primary: {
          networkInterfaceId: PRIMARY,
          privateIpAddress: PRIVATE_IP,
          securityGroupIds: [GROUP],
        },
        deviceIndexes: [0],
        address: { kind: 'auto-assigned', publicIp: PUBLIC_IP },
        subnetMapsPublicIp: false,
        leftoversRemoved: [],
      },
    });
    // Instance, every Elastic IP (one call, not paginated), temporary interfaces.
    expect(sent(ec2Mock)).toEqual([
      'DescribeInstancesCommand',
      'DescribeAddressesCommand',
      'DescribeNetworkInterfacesCommand',
    ]);
  });

  it.each([
    [true, 'on'],
    [false, 'off'],
    [undefined, 'unreported'],
  ] as const)(
    'recognises an Elastic IP and reads whether its interface auto-assigns (%s: %s)',
    async (value, read) => {
      const state = await withElasticIp(value);

      expect(state.address).toEqual({
        kind: 'elastic',
        publicIp: PUBLIC_IP,
        allocationId: OWNER_ALLOCATION,
        associationId: OWNER_ASSOCIATION,
        interfaceAutoAssign: read,
      });
    },
  );

  it('follows the NextToken of an empty first page when looking for temporary interfaces', async () => {
    world.instance(instance({ PublicIpAddress: undefined }));
    world.addresses([]);
    world.temporaryInterfaces([], []);

    const state = await readFound();

    expect(state.address).toBeUndefined();
    expect(
      sent(ec2Mock).filter((name) => name === 'DescribeNetworkInterfacesCommand'),
    ).toHaveLength(2);
  });

  it('reads the subnet only when the subnet step is configured', async () => {
    const { state } = await withSubnetStep();

    expect(state.subnetMapsPublicIp).toBe(true);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSubnetsCommand, 1);
  });

  it('sees an instance without a public address as compliant', async () => {
    world.instance(instance({ PublicIpAddress: undefined }));
    world.addresses([]);
    world.temporaryInterfaces();

    const plan = ec2_9.plan(await readFound(), ctx);

    expect(plan).toEqual({ kind: 'compliant', summary: `${INSTANCE} has no public IPv4 address` });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfaceAttributeCommand, 0);
  });

  it('does not apply to an instance that is gone, once it has looked for its leftovers', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));
    world.addresses([]);
    world.temporaryInterfaces();

    expect(await ec2_9.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${INSTANCE} no longer exists`,
    });
  });

  it('does not apply to an instance without a primary interface in a subnet', async () => {
    world.instance(instance({ SubnetId: undefined, NetworkInterfaces: [] }));
    world.addresses([]);
    world.temporaryInterfaces();

    expect(await ec2_9.readState(ref, ctx)).toMatchObject({ kind: 'not-applicable' });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    world.instance(instance());
    ec2Mock.on(DescribeAddressesCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_9.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });

  it('says plainly that an auto-assigned address cannot be got back', async () => {
    const plan = changePlan(await autoAssigned());

    expect(plan.summary).toBe(
      `remove the auto-assigned public IPv4 address ${PUBLIC_IP} from ${INSTANCE}`,
    );
    expect(plan.steps).toEqual([
      `turn off the public IPv4 address of ${PRIMARY}, the primary interface of ${INSTANCE} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false; no stop or reboot)`,
      `only if EC2 rejects that for this interface: create a temporary network interface in ${SUBNET} with the instance's security groups and attach it as device 1, then allocate an Elastic IP, associate it with ${PRIMARY} (which releases ${PUBLIC_IP}), disassociate and release it, and detach and delete the temporary interface, then watch ${INSTANCE} for 180 s, since its interface still auto-assigns; whatever fails, nothing temporary is left behind`,
      `check that ${INSTANCE} has no public IPv4 address`,
    ]);
    expect(plan.irreversible).toBe(
      `the auto-assigned address ${PUBLIC_IP} goes back to Amazon's pool and cannot be got back; a new, different public address can be given with aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address`,
    );
    expect(plan.undo).toEqual([]);
    expect(plan.before).toEqual({
      instanceId: INSTANCE,
      networkInterfaceId: PRIMARY,
      privateIpAddress: PRIVATE_IP,
      subnetId: SUBNET,
      address: { kind: 'auto-assigned', publicIp: PUBLIC_IP },
      subnetAutoAssignTurnedOff: false,
    });
  });

  it('plans to turn auto-assign off before the Elastic IP goes, watch, and undo both', async () => {
    const plan = changePlan(await withElasticIp(true));

    expect(plan.steps).toEqual([
      `turn off auto-assign public IPv4 on ${PRIMARY} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false): it is on, and EC2 gives an instance whose primary interface auto-assigns a new public address once its Elastic IP goes`,
      `disassociate Elastic IP ${PUBLIC_IP} (${OWNER_ALLOCATION}, association ${OWNER_ASSOCIATION}) from ${PRIMARY}, the primary interface of ${INSTANCE}; the address stays allocated to the account (and billed) so it can be associated again`,
      `watch ${INSTANCE} for 180 s and check that it has no public IPv4 address all along (EC2 hands out a new one within minutes, not at once)`,
    ]);
    expect(plan.before.address).toEqual({
      kind: 'elastic',
      publicIp: PUBLIC_IP,
      allocationId: OWNER_ALLOCATION,
      associationId: OWNER_ASSOCIATION,
      interfaceAutoAssign: 'on',
    });
    expect(plan.undo).toEqual([
      `aws ec2 associate-address --allocation-id ${OWNER_ALLOCATION} --network-interface-id ${PRIMARY} --private-ip-address ${PRIVATE_IP} --no-allow-reassociation`,
      `aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address`,
    ]);
    expect(plan.irreversible).toBeUndefined();
  });

  it('plans no auto-assign step for an interface that reads off', async () => {
    const plan = changePlan(await withElasticIp(false));

    expect(plan.steps).toHaveLength(2);
    expect(plan.steps[0]).toMatch(/^disassociate Elastic IP/);
    expect(plan.undo).toHaveLength(1);
  });

  it('turns auto-assign off when EC2 does not report it, and says a rollback leaves it off', async () => {
    const plan = changePlan(await withElasticIp(undefined));

    expect(plan.steps[0]).toContain('EC2 does not report whether it is on');
    expect(plan.undo).toHaveLength(1);
    expect(plan.irreversible).toBe(
      `EC2 does not report whether ${PRIMARY} auto-assigned a public IPv4 address, so a rollback leaves that setting off; if it was on, aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address turns it on again`,
    );
  });

  it('only checks once, without a watch, for a stopped instance: EC2 gives stopped instances no address', async () => {
    const plan = changePlan(await withElasticIp(true, { State: { Name: 'stopped' } }));

    expect(plan.steps.at(-1)).toBe(`check that ${INSTANCE} has no public IPv4 address`);
  });

  it('adds the subnet step, and its undo, when configured and the subnet auto-assigns', async () => {
    const { ctx: withSubnet } = contextOf({ disableSubnetAutoAssign: true });
    world.instance(instance());
    world.addresses([OWNER_ELASTIC_IP]);
    world.temporaryInterfaces();
    world.autoAssign(false);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });

    const plan = changePlan(await readFound(withSubnet), withSubnet);

    expect(plan.summary).toContain(`and stop ${SUBNET} auto-assigning public IPv4 addresses`);
    expect(plan.before.subnetAutoAssignTurnedOff).toBe(true);
    expect(plan.undo.at(-1)).toBe(
      `aws ec2 modify-subnet-attribute --subnet-id ${SUBNET} --map-public-ip-on-launch`,
    );
  });
});

describe('EC2.9 preflight', () => {
  it('finds nothing in the way of a running instance on its own', async () => {
    expect(await ec2_9.preflight(await autoAssigned(), ctx)).toEqual([]);
  });

  it('blocks an instance of an Auto Scaling group and points at the launch template', async () => {
    world.instance(instance({ Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'web-asg' }] }));
    world.addresses([]);
    world.temporaryInterfaces();

    const blockers = await ec2_9.preflight(await readFound(), ctx);

    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toContain(`${INSTANCE} belongs to Auto Scaling group "web-asg"`);
    expect(blockers[0]).toContain('launch template');
  });

  it.each(['pending', 'stopping'] as const)('blocks an instance that is %s', async (lifecycle) => {
    world.instance(instance({ State: { Name: lifecycle } }));
    world.addresses([]);
    world.temporaryInterfaces();

    const blockers = await ec2_9.preflight(await readFound(), ctx);

    expect(blockers).toEqual([
      `${INSTANCE} is ${lifecycle}, not running or stopped, so its addresses may still change. Run Remediate again once it has settled.`,
    ]);
  });

  it('starts no Elastic IP change it cannot also watch for the settle period', async () => {
    // Prepare: 180 s of watching, and the calls around it, do not fit in 120 s.
    const short = contextOf({}, 120_000).ctx;
    const state = await withElasticIp(true);

    // Act
    const blockers = await ec2_9.preflight(state, short);

    // Assess
    expect(blockers).toEqual([
      'this invocation has 120 s left, and removing the address and checking that it stays gone takes up to 200 s. Nothing was changed; run Remediate again (a new invocation has its full time).',
    ]);
    const roomy = contextOf({}, 200_000).ctx;
    expect(await ec2_9.preflight(state, roomy)).toEqual([]);
  });
});

describe('EC2.9 Elastic IP path', () => {
  it('turns auto-assign off, then disassociates, then watches the whole settle period', async () => {
    // Prepare: the address lingers on the first look (eventual consistency), then is gone.
    const state = await withElasticIp(true);
    turnOffAutoAssign().resolves({});
    disassociateOwnerAddress().resolves({});
    world.instance(instance(), ...Array(19).fill(instance({ PublicIpAddress: undefined })));

    // Act
    const result = await ec2_9.apply(state, changePlan(state), ctx);
    const verdict = await ec2_9.verify(state, ctx);

    // Assess: the setting goes first, so EC2 has no reason to hand out an address...
    expect(result.changes).toEqual([
      `turned off auto-assign public IPv4 on ${PRIMARY} (it was on), so ${INSTANCE} gets no new public address once its Elastic IP goes`,
      `disassociated Elastic IP ${PUBLIC_IP} (${OWNER_ALLOCATION}) from ${PRIMARY}; the allocation is kept`,
    ]);
    const order = sent(ec2Mock);
    expect(order.indexOf('ModifyNetworkInterfaceAttributeCommand')).toBeLessThan(
      order.indexOf('DisassociateAddressCommand'),
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 0);
    // ...and verify watched for all 180 s, every 10 s, not one look.
    expect(verdict).toEqual({ ok: true });
    expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(180_000);
    expect(sleeps.every((ms) => ms <= 10_000)).toBe(true);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1 + 19);
  });

  it('fails verification when EC2 hands the instance a new public address within the settle period', async () => {
    // Prepare: gone at first, then EC2 gives it a new one a minute later.
    const state = await withElasticIp(true);
    world.instance(
      ...Array(6).fill(instance({ PublicIpAddress: undefined })),
      instance({ PublicIpAddress: NEW_PUBLIC_IP }),
    );

    // Act
    const verdict = await ec2_9.verify(state, ctx);

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: `EC2 gave ${INSTANCE} a new public IPv4 address ${NEW_PUBLIC_IP} after ${PUBLIC_IP} went`,
    });
    expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(60_000);
  });

  it('reports an address that never went, after the whole settle period', async () => {
    const { ctx: quick, sleeps: waited } = contextOf({ settleSeconds: 20 });
    const state = await withElasticIp(false);
    world.instance(instance(), instance(), instance());

    const verdict = await ec2_9.verify(state, quick);

    expect(verdict).toEqual({
      ok: false,
      reason: `${INSTANCE} still has public IPv4 address ${PUBLIC_IP} after 20 s`,
    });
    expect(waited).toEqual([10_000, 10_000]);
  });

  it('does not call an address gone when the deadline cut the watch short', async () => {
    // Prepare: the change took longer than planned; 30 s are left of the 180 s watch.
    const { ctx: late } = contextOf({}, 35_000);
    const state = await withElasticIp(true);
    world.instance(...Array(4).fill(instance({ PublicIpAddress: undefined })));

    // Act
    const verdict = await ec2_9.verify(state, late);

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: `${INSTANCE} showed no public IPv4 address, but the invocation left time to watch it for only 30 s of the 180 s EC2 may take to hand out a new one`,
    });
  });

  it('sends no auto-assign change for an interface that reads off', async () => {
    const state = await withElasticIp(false);
    disassociateOwnerAddress().resolves({});

    const result = await ec2_9.apply(state, changePlan(state), ctx);

    expect(result.changes).toEqual([
      `disassociated Elastic IP ${PUBLIC_IP} (${OWNER_ALLOCATION}) from ${PRIMARY}; the allocation is kept`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
  });

  it('turns auto-assign off when EC2 does not report it', async () => {
    const state = await withElasticIp(undefined);
    turnOffAutoAssign().resolves({});
    disassociateOwnerAddress().resolves({});

    const result = await ec2_9.apply(state, changePlan(state), ctx);

    expect(result.changes[0]).toBe(
      `turned off auto-assign public IPv4 on ${PRIMARY} (EC2 had not reported it), so ${INSTANCE} gets no new public address once its Elastic IP goes`,
    );
  });

  it.each([
    ['EC2 rejects the parameter', serviceError('InvalidParameterCombination', 'not with an EIP')],
    ['the call fails', serviceError('UnauthorizedOperation', 'not allowed')],
  ])('leaves the Elastic IP in place when turning auto-assign off fails (%s)', async (_, error) => {
    const state = await withElasticIp(true);
    turnOffAutoAssign().rejects(error);

    const failure = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(failure).toBeInstanceOf(PartialChangeError);
    expect(failure).toMatchObject({
      stateLeft: `unchanged: ${INSTANCE} still has Elastic IP ${PUBLIC_IP}`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DisassociateAddressCommand, 0);
  });

  it('records auto-assign as turned off, and says how to turn it on, when the disassociation then fails', async () => {
    const state = await withElasticIp(true);
    turnOffAutoAssign().resolves({});
    disassociateOwnerAddress().rejects(serviceError('InternalError', 'try again'));

    const failure = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(failure).toMatchObject({
      name: 'PartialChangeError',
      message: `disassociating Elastic IP ${PUBLIC_IP} (${OWNER_ALLOCATION}) from ${PRIMARY} failed: InternalError: try again`,
      stateLeft: `${INSTANCE} still has Elastic IP ${PUBLIC_IP}; auto-assign public IPv4 on ${PRIMARY} is now off (it was on): aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address turns it on again`,
      changes: [
        `turned off auto-assign public IPv4 on ${PRIMARY} (it was on), so ${INSTANCE} gets no new public address once its Elastic IP goes`,
      ],
    });
  });

  it('records changes that let the rollback give back both the Elastic IP and the auto-assign', async () => {
    // Prepare
    const state = await withElasticIp(true);
    turnOffAutoAssign().resolves({});
    disassociateOwnerAddress().resolves({});
    const plan = changePlan(state);

    // Act
    const { changes } = await ec2_9.apply(state, plan, ctx);
    const { calls } = ec2_9.describeRollback(plan.before);

    // Assess: the ledger's widening check finds what each call gives back among the changes.
    expect(calls.map((call) => call.action)).toEqual([
      'AssociateAddress',
      'ModifyNetworkInterfaceAttribute',
    ]);
    expect(wideningProblems({ changes, stateLeft: undefined }, calls)).toEqual([]);
  });

  it('records only auto-assign when the disassociation fails, so no rollback gives an Elastic IP it kept', async () => {
    // Prepare
    const state = await withElasticIp(true);
    turnOffAutoAssign().resolves({});
    disassociateOwnerAddress().rejects(serviceError('InternalError', 'try again'));
    const plan = changePlan(state);

    // Act
    const failure = await settle(ec2_9.apply(state, plan, ctx));

    // Assess: the entry records the setting only, so a rollback may not
    // associate the Elastic IP (it never left) but may turn auto-assign on.
    if (!(failure instanceof PartialChangeError)) throw new Error('expected a PartialChangeError');
    const entry = { changes: failure.changes, stateLeft: failure.stateLeft };
    const described = ec2_9.describeRollback(plan.before).calls;
    const problems = wideningProblems(entry, described);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`AssociateAddress on ${PRIMARY}`);

    // Act: the rollback as `hubfix rollback` runs it, shown only the recorded calls
    const shown = described.filter((call) => !givesBackUnrecorded(entry, call));
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: [OWNER_ALLOCATION] }, true).resolves({
      Addresses: [
        {
          AllocationId: OWNER_ALLOCATION,
          AssociationId: OWNER_ASSOCIATION,
          NetworkInterfaceId: PRIMARY,
          PrivateIpAddress: PRIVATE_IP,
          PublicIp: PUBLIC_IP,
        },
      ],
    });
    ec2Mock
      .on(
        ModifyNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: true },
        true,
      )
      .resolves({});
    const lines = await ec2_9.rollback(plan.before, rollbackContext(guardClients(clients, shown)));

    // Assess: back as it was, with no association call
    expect(lines).toEqual([
      `already associated: Elastic IP ${PUBLIC_IP} (${OWNER_ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP})`,
      `turned auto-assign public IPv4 on ${PRIMARY} on again`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(AssociateAddressCommand, 0);
  });

  it('checks a stopped instance with the short backoff: EC2 gives stopped instances no address', async () => {
    const state = await withElasticIp(true, { State: { Name: 'stopped' } });
    world.instance(instance({ State: { Name: 'stopped' }, PublicIpAddress: undefined }));

    expect(await ec2_9.verify(state, ctx)).toEqual({ ok: true });
    expect(sleeps).toEqual([]);
  });
});

describe('EC2.9 auto-assigned path', () => {
  it('turns the address off on the primary interface and verifies with the short backoff', async () => {
    // Prepare
    const state = await autoAssigned();
    turnOffAutoAssign().resolves({});
    world.autoAssign(false);
    world.instance(instance({ PublicIpAddress: undefined }));

    // Act
    const result = await ec2_9.apply(state, changePlan(state), ctx);
    const verdict = await ec2_9.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      `turned off the public IPv4 address of ${PRIMARY} (${PUBLIC_IP} was released)`,
    ]);
    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([]);
  });

  it('passes verification once a lagging address is gone', async () => {
    const state = await autoAssigned();
    world.autoAssign(false);
    world.instance(instance(), instance({ PublicIpAddress: undefined }));

    expect(await ec2_9.verify(state, ctx)).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('reports an address still there after the backoff', async () => {
    const state = await autoAssigned();
    world.autoAssign(false);
    world.instance(...Array(5).fill(instance()));

    expect(await ec2_9.verify(state, ctx)).toEqual({
      ok: false,
      reason: `${INSTANCE} still has public IPv4 address ${PUBLIC_IP}`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('watches the settle period when the interface still auto-assigns (after the technique)', async () => {
    const { ctx: quick } = contextOf({ settleSeconds: 20 });
    const state = await autoAssigned();
    world.autoAssign(true);
    world.instance(
      instance({ PublicIpAddress: undefined }),
      instance({ PublicIpAddress: NEW_PUBLIC_IP }),
    );

    expect(await ec2_9.verify(state, quick)).toEqual({
      ok: false,
      reason: `EC2 gave ${INSTANCE} a new public IPv4 address ${NEW_PUBLIC_IP} after ${PUBLIC_IP} went`,
    });
  });

  it('does not fall back when the failure is not EC2 rejecting the parameter', async () => {
    const state = await autoAssigned();
    turnOffAutoAssign().rejects(serviceError('UnauthorizedOperation', 'not allowed'));

    const failure = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(failure).toMatchObject({
      name: 'PartialChangeError',
      message: `turning off the public IPv4 address of ${PRIMARY} failed: UnauthorizedOperation: not allowed`,
      stateLeft: `unchanged: ${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateNetworkInterfaceCommand, 0);
  });

  it('also turns off the subnet auto-assign when configured, and records what it did and says what is left if that fails', async () => {
    // Prepare
    const { withSubnet, state } = await withSubnetStep();
    turnOffAutoAssign().resolves({});
    turnOffSubnetAutoAssign().rejects(serviceError('RequestLimitExceeded'));

    // Act
    const failure = await settle(ec2_9.apply(state, changePlan(state, withSubnet), withSubnet));

    // Assess
    expect(failure).toMatchObject({
      name: 'PartialChangeError',
      stateLeft: `turned off the public IPv4 address of ${PRIMARY} (${PUBLIC_IP} was released); but ${SUBNET} still auto-assigns public IPv4 addresses`,
      changes: [`turned off the public IPv4 address of ${PRIMARY} (${PUBLIC_IP} was released)`],
    });
  });

  it('turns off the subnet auto-assign after the address when configured', async () => {
    const { withSubnet, state } = await withSubnetStep();
    turnOffAutoAssign().resolves({});
    turnOffSubnetAutoAssign().resolves({});

    const result = await ec2_9.apply(state, changePlan(state, withSubnet), withSubnet);

    expect(result.changes.at(-1)).toBe(`turned off auto-assign public IPv4 address on ${SUBNET}`);
  });
});

describe('EC2.9 rollback', () => {
  const elasticBefore: Ec2_9Before = {
    instanceId: INSTANCE,
    networkInterfaceId: PRIMARY,
    privateIpAddress: PRIVATE_IP,
    subnetId: SUBNET,
    address: {
      kind: 'elastic',
      publicIp: PUBLIC_IP,
      allocationId: ALLOCATION,
      associationId: ASSOCIATION,
      interfaceAutoAssign: 'on',
    },
    subnetAutoAssignTurnedOff: true,
  };
  const withAutoAssign = (interfaceAutoAssign: 'on' | 'off' | 'unreported'): Ec2_9Before => ({
    ...elasticBefore,
    subnetAutoAssignTurnedOff: false,
    address: {
      kind: 'elastic',
      publicIp: PUBLIC_IP,
      allocationId: ALLOCATION,
      associationId: ASSOCIATION,
      interfaceAutoAssign,
    },
  });
  const reassociate = () =>
    ec2Mock.on(
      AssociateAddressCommand,
      {
        AllocationId: ALLOCATION,
        NetworkInterfaceId: PRIMARY,
        PrivateIpAddress: PRIVATE_IP,
        AllowReassociation: false,
      },
      true,
    );
  const turnOnAutoAssign = () =>
    ec2Mock.on(
      ModifyNetworkInterfaceAttributeCommand,
      { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: true },
      true,
    );
  const readAddress = () =>
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: [ALLOCATION] }, true);
  const free = { Addresses: [{ AllocationId: ALLOCATION, PublicIp: PUBLIC_IP }] };
  const onPrimary = {
    Addresses: [
      {
        AllocationId: ALLOCATION,
        PublicIp: PUBLIC_IP,
        AssociationId: 'eipassoc-again',
        NetworkInterfaceId: PRIMARY,
        PrivateIpAddress: PRIVATE_IP,
      },
    ],
  };

  it('associates the Elastic IP again, then turns auto-assign and the subnet auto-assign back on', async () => {
    // Prepare
    readAddress().resolves(free);
    reassociate().resolves({ AssociationId: 'eipassoc-new' });
    turnOnAutoAssign().resolves({});
    ec2Mock
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: true } },
        true,
      )
      .resolves({});

    // Act
    const lines = await ec2_9.rollback(elasticBefore, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      `associated Elastic IP ${PUBLIC_IP} (${ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP}) again`,
      `turned auto-assign public IPv4 on ${PRIMARY} on again`,
      `turned on auto-assign public IPv4 address on ${SUBNET}`,
    ]);
    expect(sent(ec2Mock)).toEqual([
      'DescribeAddressesCommand',
      'AssociateAddressCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'ModifySubnetAttributeCommand',
    ]);
  });

  it('leaves auto-assign alone when it was off', async () => {
    readAddress().resolves(free);
    reassociate().resolves({ AssociationId: 'eipassoc-new' });

    const lines = await ec2_9.rollback(withAutoAssign('off'), rollbackContext(clients));

    expect(lines).toHaveLength(1);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
  });

  it('does not turn on an auto-assign EC2 had not reported, and says how to', async () => {
    readAddress().resolves(free);
    reassociate().resolves({ AssociationId: 'eipassoc-new' });

    const lines = await ec2_9.rollback(withAutoAssign('unreported'), rollbackContext(clients));

    expect(lines[1]).toBe(
      `left auto-assign public IPv4 off on ${PRIMARY}: EC2 did not report the setting before the change, so hubfix cannot tell it was on; if it was, run aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
  });

  it('says what is left when auto-assign cannot be turned on again', async () => {
    readAddress().resolves(free);
    reassociate().resolves({ AssociationId: 'eipassoc-new' });
    turnOnAutoAssign().rejects(serviceError('UnauthorizedOperation', 'denied'));

    const failure = await settle(ec2_9.rollback(withAutoAssign('on'), rollbackContext(clients)));

    expect(failure).toMatchObject({
      name: 'PartialChangeError',
      stateLeft: `associated Elastic IP ${PUBLIC_IP} (${ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP}) again; but auto-assign public IPv4 on ${PRIMARY} is still off (it was on): run aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address`,
    });
  });

  it('counts an Elastic IP still on the same interface as done, without associating it', async () => {
    // Prepare: the change stopped before it disassociated the address
    readAddress().resolves(onPrimary);
    turnOnAutoAssign().resolves({});

    // Act
    const lines = await ec2_9.rollback(withAutoAssign('on'), rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      `already associated: Elastic IP ${PUBLIC_IP} (${ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP})`,
      `turned auto-assign public IPv4 on ${PRIMARY} on again`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(AssociateAddressCommand, 0);
  });

  it('counts an Elastic IP associated back on the same interface meanwhile as done', async () => {
    readAddress().resolvesOnce(free).resolves(onPrimary);
    reassociate().rejects(serviceError('Resource.AlreadyAssociated'));

    const lines = await ec2_9.rollback(withAutoAssign('off'), rollbackContext(clients));

    expect(lines).toEqual([
      `already associated: Elastic IP ${PUBLIC_IP} (${ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP})`,
    ]);
  });

  it('refuses to take an Elastic IP away from whatever has it now', async () => {
    readAddress().resolves({
      Addresses: [
        {
          AllocationId: ALLOCATION,
          AssociationId: 'eipassoc-other',
          NetworkInterfaceId: 'eni-0other',
        },
      ],
    });

    const rollback = ec2_9.rollback(elasticBefore, rollbackContext(clients));

    await expect(rollback).rejects.toBeInstanceOf(RollbackRefusedError);
    await expect(rollback).rejects.toThrow(
      `is now associated with eni-0other; hubfix will not take it away`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(AssociateAddressCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySubnetAttributeCommand, 0);
  });

  it('refuses when the Elastic IP was released since', async () => {
    readAddress().rejects(serviceError('InvalidAllocationID.NotFound'));

    await expect(ec2_9.rollback(elasticBefore, rollbackContext(clients))).rejects.toThrow(
      RollbackRefusedError,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(AssociateAddressCommand, 0);
  });

  it('refuses to "restore" an auto-assigned address, changing nothing and saying why', async () => {
    const rollback = ec2_9.rollback(
      { ...elasticBefore, address: { kind: 'auto-assigned', publicIp: PUBLIC_IP } },
      rollbackContext(clients),
    );

    await expect(rollback).rejects.toBeInstanceOf(RollbackRefusedError);
    await expect(rollback).rejects.toThrow(
      `the auto-assigned address ${PUBLIC_IP} of ${INSTANCE} went back to Amazon's pool and cannot be got back. A new, different public address can be given with aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address. Nothing was changed; to turn auto-assign public IPv4 back on for ${SUBNET}, run aws ec2 modify-subnet-attribute --subnet-id ${SUBNET} --map-public-ip-on-launch.`,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('validates a before-state read back from the ledger', () => {
    const parse = (value: unknown) => ec2_9.before.parse(value, 'before').ok;
    expect(parse(elasticBefore)).toBe(true);
    expect(
      parse({ ...elasticBefore, address: { kind: 'auto-assigned', publicIp: PUBLIC_IP } }),
    ).toBe(true);
    // An Elastic IP without the interface's setting cannot be rolled back exactly.
    const { interfaceAutoAssign: _, ...withoutSetting } = {
      ...elasticBefore.address,
      interfaceAutoAssign: 'on',
    };
    expect(parse({ ...elasticBefore, address: withoutSetting })).toBe(false);
    expect(
      parse({
        ...elasticBefore,
        address: { ...elasticBefore.address, interfaceAutoAssign: 'maybe' },
      }),
    ).toBe(false);
    expect(parse({ ...elasticBefore, address: { kind: 'elastic', publicIp: PUBLIC_IP } })).toBe(
      false,
    );
    expect(parse({ ...elasticBefore, address: { kind: 'byoip', publicIp: PUBLIC_IP } })).toBe(
      false,
    );
    expect(parse({ ...elasticBefore, subnetAutoAssignTurnedOff: 'yes' })).toBe(false);
  });

  it('keeps the settle watch within what the function timeout allows', () => {
    expect(ec2_9.params.parse({}, 'params')).toEqual({
      ok: true,
      value: { disableSubnetAutoAssign: false, settleSeconds: 180 },
    });
    expect(ec2_9.params.parse({ settleSeconds: 4 }, 'params').ok).toBe(false);
    expect(ec2_9.params.parse({ settleSeconds: 301 }, 'params').ok).toBe(false);
  });
});
