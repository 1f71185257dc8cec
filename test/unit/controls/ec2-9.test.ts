import {
  type Address,
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  EC2Client,
  type Instance,
  type InstanceNetworkInterface,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySubnetAttributeCommand,
  type NetworkInterface,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Ec2_9Params } from '../../../lambdas/controls/ec2-9/meta';
import {
  type Ec2_9Before,
  type Ec2Clients,
  ec2_9,
  type InstanceState,
} from '../../../lambdas/controls/ec2-9/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, findingContext, rollbackContext } from '../../support/control';

const INSTANCE = 'i-0123456789abcdef0';
const PRIMARY = 'eni-0aaaaaaaaaaaaaaa1';
const PRIVATE_IP = '10.0.1.15';
const PUBLIC_IP = '54.210.1.2';
const SUBNET = 'subnet-0bbbbbbbbbbbbbbb1';
const GROUP = 'sg-0ccccccccccccccc1';
const TEMP = 'eni-0ddddddddddddddd1';
const ATTACHMENT = 'eni-attach-0eeeeeeeeeeeeeee1';
const ALLOCATION = 'eipalloc-0fffffffffffffff1';
const ELASTIC_IP = '3.80.0.1';
const ASSOCIATION = 'eipassoc-0999999999999999a';
const DESCRIPTION = `hubfix EC2.9: temporary interface for ${INSTANCE}; safe to delete once detached`;

const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);

const ec2Mock = strictMock(EC2Client);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2Clients, Ec2_9Params> = findingContext(clients, {
  disableSubnetAutoAssign: false,
});
const withSubnet: FindingContext<Ec2Clients, Ec2_9Params> = findingContext(clients, {
  disableSubnetAutoAssign: true,
});

const PRIMARY_INTERFACE: InstanceNetworkInterface = {
  NetworkInterfaceId: PRIMARY,
  PrivateIpAddress: PRIVATE_IP,
  SubnetId: SUBNET,
  Groups: [{ GroupId: GROUP, GroupName: 'web' }],
  Attachment: { DeviceIndex: 0, Status: 'attached', AttachmentId: 'eni-attach-primary' },
};

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running' },
    SubnetId: SUBNET,
    VpcId: 'vpc-01',
    PrivateIpAddress: PRIVATE_IP,
    PublicIpAddress: PUBLIC_IP,
    Tags: [{ Key: 'team', Value: 'web' }],
    NetworkInterfaces: [PRIMARY_INTERFACE],
    ...overrides,
  };
}

/** Each read of the instance answers with the next of `reads`. */
function givenInstance(...reads: Instance[]) {
  const describe = ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true);
  for (const read of reads) describe.resolvesOnce({ Reservations: [{ Instances: [read] }] });
}

function givenAddresses(addresses: Address[]) {
  ec2Mock
    .on(DescribeAddressesCommand, { Filters: [{ Name: 'public-ip', Values: [PUBLIC_IP] }] }, true)
    .resolves({ Addresses: addresses });
}

const ELASTIC: Address = {
  PublicIp: PUBLIC_IP,
  AllocationId: 'eipalloc-0111111111111111a',
  AssociationId: 'eipassoc-0111111111111111a',
  NetworkInterfaceId: PRIMARY,
  PrivateIpAddress: PRIVATE_IP,
  Domain: 'vpc',
};

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

/** An auto-assigned address on a single-interface instance, read live. */
async function autoAssigned(): Promise<InstanceState> {
  givenInstance(instance());
  givenAddresses([]);
  return readFound();
}

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a failure'),
    (error: unknown) => error,
  );
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('EC2.9 readState and plan', () => {
  it('reads an auto-assigned address, the primary interface and the tags with two calls', async () => {
    // Prepare
    givenInstance(instance());
    givenAddresses([]);

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
      },
    });
    expect(ec2Mock.calls()).toHaveLength(2);
  });

  it('recognises an Elastic IP by its allocation', async () => {
    givenInstance(instance());
    givenAddresses([ELASTIC]);

    const state = await readFound();

    expect(state.address).toEqual({
      kind: 'elastic',
      publicIp: PUBLIC_IP,
      allocationId: ELASTIC.AllocationId,
      associationId: ELASTIC.AssociationId,
    });
  });

  it('reads the subnet only when the subnet step is configured', async () => {
    givenInstance(instance());
    givenAddresses([]);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });

    const state = await readFound(withSubnet);

    expect(state.subnetMapsPublicIp).toBe(true);
  });

  it('sees an instance without a public address as compliant, without reading addresses', async () => {
    givenInstance(instance({ PublicIpAddress: undefined }));

    const plan = ec2_9.plan(await readFound(withSubnet), withSubnet);

    expect(plan).toEqual({ kind: 'compliant', summary: `${INSTANCE} has no public IPv4 address` });
    expect(ec2Mock.calls()).toHaveLength(1);
  });

  it('does not apply to an instance that is gone or terminated', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));

    expect(await ec2_9.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${INSTANCE} no longer exists`,
    });
  });

  it('does not apply to an instance without a primary interface in a subnet', async () => {
    givenInstance(instance({ SubnetId: undefined, NetworkInterfaces: [] }));

    expect(await ec2_9.readState(ref, ctx)).toMatchObject({ kind: 'not-applicable' });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    givenInstance(instance());
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
      `only if EC2 rejects that for this interface: create a temporary network interface in ${SUBNET} with the instance's security groups and attach it as device 1, then allocate an Elastic IP, associate it with ${PRIMARY} (which releases ${PUBLIC_IP}), disassociate and release it, and detach and delete the temporary interface; whatever fails, nothing temporary is left behind`,
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

  it('plans to keep an Elastic IP allocated, with the command that associates it again', async () => {
    givenInstance(instance());
    givenAddresses([ELASTIC]);

    const plan = changePlan(await readFound());

    expect(plan.irreversible).toBeUndefined();
    expect(plan.steps[0]).toContain('EC2 may give it a new one within minutes');
    expect(plan.undo).toEqual([
      `aws ec2 associate-address --allocation-id ${ELASTIC.AllocationId} --network-interface-id ${PRIMARY} --private-ip-address ${PRIVATE_IP} --no-allow-reassociation`,
    ]);
  });

  it('adds the subnet step, and its undo, when configured and the subnet auto-assigns', async () => {
    givenInstance(instance());
    givenAddresses([ELASTIC]);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });

    const plan = changePlan(await readFound(withSubnet), withSubnet);

    expect(plan.summary).toContain(`and stop ${SUBNET} auto-assigning public IPv4 addresses`);
    expect(plan.before.subnetAutoAssignTurnedOff).toBe(true);
    expect(plan.undo[1]).toBe(
      `aws ec2 modify-subnet-attribute --subnet-id ${SUBNET} --map-public-ip-on-launch`,
    );
  });
});

describe('EC2.9 preflight', () => {
  it('finds nothing in the way of a running instance on its own', async () => {
    expect(await ec2_9.preflight(await autoAssigned(), ctx)).toEqual([]);
  });

  it('blocks an instance of an Auto Scaling group and points at the launch template', async () => {
    givenInstance(
      instance({
        Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'web-asg' }],
      }),
    );
    givenAddresses([]);

    const blockers = await ec2_9.preflight(await readFound(), ctx);

    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toContain(`${INSTANCE} belongs to Auto Scaling group "web-asg"`);
    expect(blockers[0]).toContain(
      'would replace it with an instance that gets a new public address',
    );
    expect(blockers[0]).toContain('launch template');
  });

  it.each(['pending', 'stopping'] as const)('blocks an instance that is %s', async (lifecycle) => {
    givenInstance(instance({ State: { Name: lifecycle } }));
    givenAddresses([]);

    const blockers = await ec2_9.preflight(await readFound(), ctx);

    expect(blockers).toEqual([
      `${INSTANCE} is ${lifecycle}, not running or stopped, so its addresses may still change. Run Remediate again once it has settled.`,
    ]);
  });
});

describe('EC2.9 apply and verify', () => {
  it('turns off an auto-assigned address on the primary interface and verifies it is gone', async () => {
    // Prepare
    givenInstance(instance(), instance({ PublicIpAddress: undefined }));
    givenAddresses([]);
    const state = await readFound();
    ec2Mock
      .on(
        ModifyNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
        true,
      )
      .resolves({});

    // Act
    const result = await ec2_9.apply(state, changePlan(state), ctx);
    const verdict = await ec2_9.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      `turned off the public IPv4 address of ${PRIMARY} (${PUBLIC_IP} was released)`,
    ]);
    expect(verdict).toEqual({ ok: true });
  });

  it('disassociates an Elastic IP, keeping the allocation', async () => {
    givenInstance(instance());
    givenAddresses([ELASTIC]);
    const state = await readFound();
    ec2Mock
      .on(DisassociateAddressCommand, { AssociationId: ELASTIC.AssociationId }, true)
      .resolves({});

    const result = await ec2_9.apply(state, changePlan(state), ctx);

    expect(result.changes).toEqual([
      `disassociated Elastic IP ${PUBLIC_IP} (${ELASTIC.AllocationId}) from ${PRIMARY}; the allocation is kept`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 0);
  });

  it('reports an Elastic IP unchanged when disassociating fails', async () => {
    givenInstance(instance());
    givenAddresses([ELASTIC]);
    const state = await readFound();
    ec2Mock.on(DisassociateAddressCommand).rejects(serviceError('UnauthorizedOperation'));

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toBeInstanceOf(PartialChangeError);
    expect(error).toMatchObject({
      stateLeft: `unchanged: ${INSTANCE} still has Elastic IP ${PUBLIC_IP}`,
    });
  });

  it('does not fall back when the failure is not EC2 rejecting the parameter', async () => {
    const state = await autoAssigned();
    ec2Mock
      .on(ModifyNetworkInterfaceAttributeCommand)
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toMatchObject({
      name: 'PartialChangeError',
      message: `turning off the public IPv4 address of ${PRIMARY} failed: UnauthorizedOperation: not allowed`,
      stateLeft: `unchanged: ${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateNetworkInterfaceCommand, 0);
  });

  it('also turns off the subnet auto-assign when configured, and says what is left if that fails', async () => {
    // Prepare
    givenInstance(instance());
    givenAddresses([]);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });
    const state = await readFound(withSubnet);
    ec2Mock
      .on(
        ModifyNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
        true,
      )
      .resolves({});
    ec2Mock
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
        true,
      )
      .rejects(serviceError('RequestLimitExceeded'));

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state, withSubnet), withSubnet));

    // Assess
    expect(error).toMatchObject({
      name: 'PartialChangeError',
      stateLeft: `turned off the public IPv4 address of ${PRIMARY} (${PUBLIC_IP} was released); but ${SUBNET} still auto-assigns public IPv4 addresses`,
    });
  });

  it('turns off the subnet auto-assign after the address when configured', async () => {
    givenInstance(instance());
    givenAddresses([]);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolves({ Subnets: [{ SubnetId: SUBNET, MapPublicIpOnLaunch: true }] });
    const state = await readFound(withSubnet);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
        true,
      )
      .resolves({});

    const result = await ec2_9.apply(state, changePlan(state, withSubnet), withSubnet);

    expect(result.changes.at(-1)).toBe(`turned off auto-assign public IPv4 address on ${SUBNET}`);
  });

  it('waits a little for the address to disappear, then reports it if it does not', async () => {
    // Prepare
    vi.useFakeTimers();
    givenInstance(
      instance(),
      instance(),
      instance({ PublicIpAddress: '54.210.9.9' }),
      instance({ PublicIpAddress: '54.210.9.9' }),
      instance({ PublicIpAddress: '54.210.9.9' }),
      instance({ PublicIpAddress: '54.210.9.9' }),
    );
    givenAddresses([]);
    const state = await readFound();

    // Act
    const verdict = ec2_9.verify(state, ctx);
    await vi.runAllTimersAsync();

    // Assess
    expect(await verdict).toEqual({
      ok: false,
      reason: `${INSTANCE} still has public IPv4 address 54.210.9.9`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 6);
  });

  it('passes verification once a lagging address is gone', async () => {
    vi.useFakeTimers();
    givenInstance(instance(), instance(), instance({ PublicIpAddress: undefined }));
    givenAddresses([]);
    const state = await readFound();

    const verdict = ec2_9.verify(state, ctx);
    await vi.runAllTimersAsync();

    expect(await verdict).toEqual({ ok: true });
  });
});

/** Every step of the temporary Elastic IP technique, in order. */
const STEPS = [
  'create',
  'attach',
  'wait-attached',
  'allocate',
  'associate',
  'disassociate',
  'release',
  'detach',
  'wait-detached',
  'delete',
] as const;
type Step = (typeof STEPS)[number];

function interfaceState(status: 'attaching' | 'attached' | 'available'): {
  NetworkInterfaces: NetworkInterface[];
} {
  return {
    NetworkInterfaces: [
      status === 'available'
        ? { NetworkInterfaceId: TEMP, Status: 'available' }
        : {
            NetworkInterfaceId: TEMP,
            Status: 'in-use',
            Attachment: { Status: status, AttachmentId: ATTACHMENT },
          },
    ],
  };
}

interface Failure {
  readonly step: Step;
  /** Fails every time, so the cleanup's retry fails too; otherwise only the first time. */
  readonly always: boolean;
  readonly error?: Error;
}

interface Stub<T> {
  rejects(error: Error): unknown;
  rejectsOnce(error: Error): unknown;
  resolves(value: T): unknown;
}

/**
 * Prepares every call of the technique with its exact input (the strict mock
 * rejects any other input), failing the steps named in `failures`.
 */
function givenFallback(...failures: Failure[]) {
  function behave<T>(step: Step, stub: Stub<T>, value: T) {
    const failure = failures.find((f) => f.step === step);
    const error = failure?.error ?? serviceError('InternalError', 'injected');
    if (failure?.always) {
      stub.rejects(error);
      return;
    }
    if (failure) stub.rejectsOnce(error);
    stub.resolves(value);
  }
  function fails(step: Step): Failure | undefined {
    return failures.find((f) => f.step === step);
  }
  ec2Mock
    .on(
      ModifyNetworkInterfaceAttributeCommand,
      { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
      true,
    )
    .rejects(serviceError('InvalidParameterValue', 'not supported for this interface'));
  behave(
    'create',
    ec2Mock.on(
      CreateNetworkInterfaceCommand,
      {
        SubnetId: SUBNET,
        Groups: [GROUP],
        Description: DESCRIPTION,
        TagSpecifications: [
          {
            ResourceType: 'network-interface',
            Tags: [{ Key: 'hubfix:temporary', Value: INSTANCE }],
          },
        ],
      },
      true,
    ),
    { NetworkInterface: { NetworkInterfaceId: TEMP } },
  );
  behave(
    'attach',
    ec2Mock.on(
      AttachNetworkInterfaceCommand,
      { NetworkInterfaceId: TEMP, InstanceId: INSTANCE, DeviceIndex: 1 },
      true,
    ),
    { AttachmentId: ATTACHMENT },
  );
  const describeTemp = ec2Mock.on(
    DescribeNetworkInterfacesCommand,
    { NetworkInterfaceIds: [TEMP] },
    true,
  );
  const waitAttached = fails('wait-attached');
  if (waitAttached?.always) {
    // Never attached within the bound (30 polls); then detached for the cleanup.
    for (let poll = 0; poll < 30; poll += 1) describeTemp.resolvesOnce(interfaceState('attaching'));
  } else if (waitAttached) {
    describeTemp.rejectsOnce(serviceError('InternalError', 'injected'));
  } else {
    describeTemp.resolvesOnce(interfaceState('attached'));
  }
  if (fails('wait-detached')) describeTemp.rejectsOnce(serviceError('InternalError', 'injected'));
  describeTemp.resolves(interfaceState('available'));
  behave(
    'allocate',
    ec2Mock.on(
      AllocateAddressCommand,
      {
        Domain: 'vpc',
        TagSpecifications: [
          { ResourceType: 'elastic-ip', Tags: [{ Key: 'hubfix:temporary', Value: INSTANCE }] },
        ],
      },
      true,
    ),
    {
      AllocationId: ALLOCATION,
      PublicIp: ELASTIC_IP,
    },
  );
  behave(
    'associate',
    ec2Mock.on(
      AssociateAddressCommand,
      {
        AllocationId: ALLOCATION,
        NetworkInterfaceId: PRIMARY,
        PrivateIpAddress: PRIVATE_IP,
        AllowReassociation: false,
      },
      true,
    ),
    { AssociationId: ASSOCIATION },
  );
  behave(
    'disassociate',
    ec2Mock.on(DisassociateAddressCommand, { AssociationId: ASSOCIATION }, true),
    {},
  );
  behave('release', ec2Mock.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true), {});
  behave(
    'detach',
    ec2Mock.on(DetachNetworkInterfaceCommand, { AttachmentId: ATTACHMENT }, true),
    {},
  );
  behave(
    'delete',
    ec2Mock.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true),
    {},
  );
}

const LABELS: Record<Step, string> = {
  create: `creating a temporary network interface in ${SUBNET}`,
  attach: `attaching ${TEMP} to ${INSTANCE}`,
  'wait-attached': `waiting for ${TEMP} to be attached`,
  allocate: 'allocating a temporary Elastic IP',
  associate: `associating ${ALLOCATION} with ${PRIMARY}`,
  disassociate: `disassociating ${ALLOCATION} from ${PRIMARY}`,
  release: `releasing ${ALLOCATION}`,
  detach: `detaching ${TEMP}`,
  'wait-detached': `detaching ${TEMP}`,
  delete: `deleting ${TEMP}`,
};

function reached(step: Step, failing: Step): boolean {
  return STEPS.indexOf(step) < STEPS.indexOf(failing);
}

describe('EC2.9 fallback: the temporary Elastic IP technique', () => {
  it('when EC2 rejects the direct change, runs every step with exact inputs and leaves nothing behind', async () => {
    // Prepare
    const state = await autoAssigned();
    givenFallback();

    // Act
    const result = await ec2_9.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes).toEqual([
      `EC2 rejected turning off the public IPv4 address of ${PRIMARY} directly (InvalidParameterValue: not supported for this interface), so hubfix used the temporary Elastic IP technique:`,
      `created temporary network interface ${TEMP} in ${SUBNET}`,
      `attached ${TEMP} to ${INSTANCE} as device 1`,
      `allocated temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION})`,
      `associated it with ${PRIMARY}, which released the auto-assigned address ${PUBLIC_IP}`,
      `disassociated ${ALLOCATION} from ${PRIMARY}`,
      `released ${ALLOCATION}`,
      `detached ${TEMP}`,
      `deleted ${TEMP}`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateNetworkInterfaceCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(AttachNetworkInterfaceCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(AllocateAddressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(AssociateAddressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(DisassociateAddressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(DetachNetworkInterfaceCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 1);
  });

  it.each(STEPS)(
    'when %s fails once, cleans up everything it made and reports the failure',
    async (step) => {
      // Prepare
      const state = await autoAssigned();
      givenFallback({ step, always: false });

      // Act
      const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

      // Assess: the failure is reported, accurately...
      expect(error).toBeInstanceOf(PartialChangeError);
      const failure = error as PartialChangeError;
      expect(failure.message).toBe(
        `the temporary Elastic IP technique failed while ${LABELS[step]}: InternalError: injected`,
      );
      const addressGone = reached('disassociate', step) || step === 'disassociate';
      expect(failure.stateLeft).toBe(
        `${
          addressGone
            ? `the auto-assigned address ${PUBLIC_IP} is gone for good and the temporary Elastic IP was disassociated, so ${INSTANCE} should have no public IPv4 address (not verified)`
            : `${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}`
        }; no temporary network interface or Elastic IP was left behind`,
      );
      // ...and whatever was made was removed, with exact inputs (the mocks reject any other).
      if (reached('create', step)) {
        expect(ec2Mock).toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, {
          NetworkInterfaceId: TEMP,
        });
      } else {
        expect(ec2Mock).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 0);
      }
      if (reached('attach', step)) {
        expect(ec2Mock).toHaveReceivedCommandWith(DetachNetworkInterfaceCommand, {
          AttachmentId: ATTACHMENT,
        });
      }
      if (reached('allocate', step)) {
        expect(ec2Mock).toHaveReceivedCommandWith(ReleaseAddressCommand, {
          AllocationId: ALLOCATION,
        });
      } else {
        expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 0);
      }
      if (reached('associate', step)) {
        expect(ec2Mock).toHaveReceivedCommandWith(DisassociateAddressCommand, {
          AssociationId: ASSOCIATION,
        });
      }
      // Nothing is made after the failing step.
      if (!reached('allocate', step) && step !== 'allocate') {
        expect(ec2Mock).toHaveReceivedCommandTimes(AllocateAddressCommand, 0);
      }
    },
  );

  it('says what it left behind, by id, when the cleanup fails too', async () => {
    // Prepare: disassociating never works, so the Elastic IP cannot be released.
    const state = await autoAssigned();
    givenFallback({ step: 'disassociate', always: true });

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    // Assess
    expect(error).toBeInstanceOf(PartialChangeError);
    const failure = error as PartialChangeError;
    expect(failure.message).toBe(
      `the temporary Elastic IP technique failed while disassociating ${ALLOCATION} from ${PRIMARY}: InternalError: injected; cleaning up failed too (disassociating ${ALLOCATION}: InternalError: injected); left behind: Elastic IP ${ELASTIC_IP} (${ALLOCATION})`,
    );
    expect(failure.stateLeft).toBe(
      `the auto-assigned address ${PUBLIC_IP} is gone for good, but temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}, association ${ASSOCIATION}) is still associated with ${PRIMARY}, so ${INSTANCE} is public at that address: run aws ec2 disassociate-address --association-id ${ASSOCIATION}; temporary Elastic IP ${ELASTIC_IP} is still allocated: once disassociated, run aws ec2 release-address --allocation-id ${ALLOCATION}`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 0);
    // The temporary interface still goes.
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, {
      NetworkInterfaceId: TEMP,
    });
  });

  it('names a temporary interface it could not delete', async () => {
    const state = await autoAssigned();
    givenFallback({ step: 'delete', always: true });

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toMatchObject({
      message: `the temporary Elastic IP technique failed while deleting ${TEMP}: InternalError: injected; cleaning up failed too (deleting ${TEMP}: InternalError: injected); left behind: network interface ${TEMP}`,
      stateLeft: `the auto-assigned address ${PUBLIC_IP} is gone for good and the temporary Elastic IP was disassociated, so ${INSTANCE} should have no public IPv4 address (not verified); temporary network interface ${TEMP} still exists: run aws ec2 delete-network-interface --network-interface-id ${TEMP}`,
    });
  });

  it('names a temporary interface it could not detach, and does not try to delete it', async () => {
    const state = await autoAssigned();
    givenFallback(
      { step: 'allocate', always: true, error: serviceError('AddressLimitExceeded') },
      { step: 'detach', always: true, error: serviceError('UnauthorizedOperation') },
    );

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toMatchObject({
      message: `the temporary Elastic IP technique failed while allocating a temporary Elastic IP: AddressLimitExceeded: AddressLimitExceeded; cleaning up failed too (detaching ${TEMP}: UnauthorizedOperation: UnauthorizedOperation); left behind: network interface ${TEMP}`,
      stateLeft: `${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}; temporary network interface ${TEMP} is still attached to ${INSTANCE}: run aws ec2 detach-network-interface --attachment-id ${ATTACHMENT}, then aws ec2 delete-network-interface --network-interface-id ${TEMP}`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 0);
  });

  it('gives up waiting for the attachment after a bounded time, and cleans up', async () => {
    // Prepare
    vi.useFakeTimers();
    const state = await autoAssigned();
    givenFallback({ step: 'wait-attached', always: true });

    // Act
    const settled = settle(ec2_9.apply(state, changePlan(state), ctx));
    await vi.runAllTimersAsync();
    const error = await settled;

    // Assess
    expect(error).toMatchObject({
      message: `the temporary Elastic IP technique failed while waiting for ${TEMP} to be attached: still not attached after 58 s`,
      stateLeft: `${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}; no temporary network interface or Elastic IP was left behind`,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DetachNetworkInterfaceCommand, {
      AttachmentId: ATTACHMENT,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, {
      NetworkInterfaceId: TEMP,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(AllocateAddressCommand, 0);
  });

  it('needs no temporary interface when a second one is already attached', async () => {
    // Prepare
    givenInstance(
      instance({
        NetworkInterfaces: [
          PRIMARY_INTERFACE,
          { NetworkInterfaceId: 'eni-0second', Attachment: { DeviceIndex: 1, Status: 'attached' } },
        ],
      }),
    );
    givenAddresses([]);
    const state = await readFound();
    givenFallback();

    // Act
    const result = await ec2_9.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes.slice(1)).toEqual([
      `allocated temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION})`,
      `associated it with ${PRIMARY}, which released the auto-assigned address ${PUBLIC_IP}`,
      `disassociated ${ALLOCATION} from ${PRIMARY}`,
      `released ${ALLOCATION}`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateNetworkInterfaceCommand, 0);
    expect(changePlan(state).steps[1]).toBe(
      `only if EC2 rejects that for this interface: allocate an Elastic IP, associate it with ${PRIMARY} (which releases ${PUBLIC_IP}), disassociate and release it; whatever fails, nothing temporary is left behind`,
    );
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
    },
    subnetAutoAssignTurnedOff: true,
  };
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

  it('associates the Elastic IP again and turns the subnet auto-assign back on', async () => {
    // Prepare
    reassociate().resolves({ AssociationId: 'eipassoc-new' });
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
      `turned on auto-assign public IPv4 address on ${SUBNET}`,
    ]);
  });

  it('counts an Elastic IP already back on the same interface as done', async () => {
    reassociate().rejects(serviceError('Resource.AlreadyAssociated'));
    ec2Mock.on(DescribeAddressesCommand, { AllocationIds: [ALLOCATION] }, true).resolves({
      Addresses: [
        { AllocationId: ALLOCATION, NetworkInterfaceId: PRIMARY, PrivateIpAddress: PRIVATE_IP },
      ],
    });

    const lines = await ec2_9.rollback(
      { ...elasticBefore, subnetAutoAssignTurnedOff: false },
      rollbackContext(clients),
    );

    expect(lines).toEqual([
      `already associated: Elastic IP ${PUBLIC_IP} (${ALLOCATION}) with ${PRIMARY} (${PRIVATE_IP})`,
    ]);
  });

  it('refuses to take an Elastic IP away from whatever has it now', async () => {
    reassociate().rejects(serviceError('Resource.AlreadyAssociated'));
    ec2Mock
      .on(DescribeAddressesCommand, { AllocationIds: [ALLOCATION] }, true)
      .resolves({ Addresses: [{ AllocationId: ALLOCATION, NetworkInterfaceId: 'eni-0other' }] });

    const rollback = ec2_9.rollback(elasticBefore, rollbackContext(clients));

    await expect(rollback).rejects.toBeInstanceOf(RollbackRefusedError);
    await expect(rollback).rejects.toThrow(
      `is now associated with eni-0other; hubfix will not take it away`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySubnetAttributeCommand, 0);
  });

  it('refuses when the Elastic IP was released since', async () => {
    reassociate().rejects(serviceError('InvalidAllocationID.NotFound'));

    await expect(ec2_9.rollback(elasticBefore, rollbackContext(clients))).rejects.toThrow(
      RollbackRefusedError,
    );
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
    expect(ec2_9.before.parse(elasticBefore, 'before').ok).toBe(true);
    expect(
      ec2_9.before.parse(
        { ...elasticBefore, address: { kind: 'auto-assigned', publicIp: PUBLIC_IP } },
        'before',
      ).ok,
    ).toBe(true);
    expect(
      ec2_9.before.parse(
        { ...elasticBefore, address: { kind: 'elastic', publicIp: PUBLIC_IP } },
        'before',
      ).ok,
    ).toBe(false);
    expect(
      ec2_9.before.parse(
        { ...elasticBefore, address: { kind: 'byoip', publicIp: PUBLIC_IP } },
        'before',
      ).ok,
    ).toBe(false);
    expect(
      ec2_9.before.parse({ ...elasticBefore, subnetAutoAssignTurnedOff: 'yes' }, 'before').ok,
    ).toBe(false);
  });
});
