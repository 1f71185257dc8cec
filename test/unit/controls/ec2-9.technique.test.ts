/**
 * EC2.9's temporary Elastic IP technique, used where EC2 rejects turning an
 * auto-assigned address off directly: every step with its exact input, a
 * failure at each step cleaned up, and the invocation's deadline respected
 * before the technique and before each step.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  type NetworkInterface,
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
import type { Clock } from '../../../lambdas/core/clock';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { deadlineIn } from '../../../lambdas/core/deadline';
import { PartialChangeError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext } from '../../support/control';
import {
  ALLOCATION,
  ASSOCIATION,
  ATTACHMENT,
  ELASTIC_IP,
  ec2World,
  GROUP,
  INSTANCE,
  instance,
  PRIMARY,
  PRIMARY_INTERFACE,
  PRIVATE_IP,
  PUBLIC_IP,
  SUBNET,
  TEMP,
  temporaryTags,
} from '../../support/ec2-9';

const DESCRIPTION = `hubfix EC2.9: temporary interface for ${INSTANCE}; safe to delete once detached`;
/** With no invocation deadline, the longest Lambda may run: 15 minutes from the fake clock's start. */
const UNTIL = '2026-11-22T10:15:00.000Z';

const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);
const ec2Mock = strictMock(EC2Client);
const world = ec2World(ec2Mock);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const PARAMS: Ec2_9Params = { disableSubnetAutoAssign: false, settleSeconds: 180 };

let clock: Clock;
let ctx: FindingContext<Ec2Clients, Ec2_9Params>;

beforeEach(() => {
  resetStrict(ec2Mock);
  world.reset();
  ({ clock } = fakeClock());
  ctx = findingContext(clients, PARAMS, { clock });
});

/** An auto-assigned address on an instance with the given interfaces, read live. */
async function autoAssigned(interfaces = [PRIMARY_INTERFACE]): Promise<InstanceState> {
  world.instance(instance({ NetworkInterfaces: interfaces }));
  world.addresses([]);
  world.temporaryInterfaces();
  const read = await ec2_9.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error('expected found');
  return read.state;
}

function changePlan(state: InstanceState): ChangePlan<Ec2_9Before> {
  const plan = ec2_9.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a failure'),
    (error: unknown) => error,
  );
}

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
  callsFake(fake: () => Promise<T>): unknown;
}

/**
 * Prepares every call of the technique with its exact input (the strict mock
 * rejects any other input), failing the steps named in `failures`; `slow`
 * makes a step take that long on the fake clock (throttling, retries);
 * `until` is the hubfix:temporary-until tag the invocation's deadline gives.
 */
function givenFallback(
  failures: Failure[] = [],
  slow: Partial<Record<Step, number>> = {},
  until = UNTIL,
) {
  function behave<T>(step: Step, stub: Stub<T>, value: T) {
    const failure = failures.find((f) => f.step === step);
    const error = failure?.error ?? serviceError('InternalError', 'injected');
    const takes = slow[step];
    if (takes !== undefined) {
      stub.callsFake(async () => {
        await clock.sleep(takes);
        return value;
      });
      return;
    }
    if (failure?.always) {
      stub.rejects(error);
      return;
    }
    if (failure) stub.rejectsOnce(error);
    stub.resolves(value);
  }
  const fails = (step: Step) => failures.find((f) => f.step === step);
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
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: temporaryTags(until) }],
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
        TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: temporaryTags(until) }],
      },
      true,
    ),
    { AllocationId: ALLOCATION, PublicIp: ELASTIC_IP },
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
  it('when EC2 rejects the direct change, runs every step with exact inputs, tagged, and leaves nothing behind', async () => {
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
      givenFallback([{ step, always: false }]);

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
      // ...the ledger records the address as released exactly when it was...
      expect(
        failure.changes.some((line) =>
          line.includes(`released the auto-assigned address ${PUBLIC_IP}`),
        ),
      ).toBe(addressGone);
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
    givenFallback([{ step: 'disassociate', always: true }]);

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    // Assess
    expect(error).toBeInstanceOf(PartialChangeError);
    const failure = error as PartialChangeError;
    expect(failure.message).toBe(
      `the temporary Elastic IP technique failed while disassociating ${ALLOCATION} from ${PRIMARY}: InternalError: injected; cleaning up failed too (disassociating ${ALLOCATION}: InternalError: injected); left behind: Elastic IP ${ELASTIC_IP} (${ALLOCATION})`,
    );
    expect(failure.stateLeft).toBe(
      `the auto-assigned address ${PUBLIC_IP} is gone for good; temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}, association ${ASSOCIATION}) is still associated with ${INSTANCE}'s primary interface, so ${INSTANCE} is public at that address: run aws ec2 disassociate-address --association-id ${ASSOCIATION}; temporary Elastic IP ${ELASTIC_IP} is still allocated: once disassociated, run aws ec2 release-address --allocation-id ${ALLOCATION}; hubfix removes what is left, tagged hubfix:temporary=${INSTANCE}, the next time it reads ${INSTANCE}`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(ReleaseAddressCommand, 0);
    // The temporary interface still goes.
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, {
      NetworkInterfaceId: TEMP,
    });
  });

  it('names a temporary interface it could not delete', async () => {
    const state = await autoAssigned();
    givenFallback([{ step: 'delete', always: true }]);

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toMatchObject({
      message: `the temporary Elastic IP technique failed while deleting ${TEMP}: InternalError: injected; cleaning up failed too (deleting ${TEMP}: InternalError: injected); left behind: network interface ${TEMP}`,
      stateLeft: `the auto-assigned address ${PUBLIC_IP} is gone for good and the temporary Elastic IP was disassociated, so ${INSTANCE} should have no public IPv4 address (not verified); temporary network interface ${TEMP} still exists: run aws ec2 delete-network-interface --network-interface-id ${TEMP}; hubfix removes what is left, tagged hubfix:temporary=${INSTANCE}, the next time it reads ${INSTANCE}`,
    });
  });

  it('names a temporary interface it could not detach, and does not try to delete it', async () => {
    const state = await autoAssigned();
    givenFallback([
      { step: 'allocate', always: true, error: serviceError('AddressLimitExceeded') },
      { step: 'detach', always: true, error: serviceError('UnauthorizedOperation') },
    ]);

    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    expect(error).toMatchObject({
      message: `the temporary Elastic IP technique failed while allocating a temporary Elastic IP: AddressLimitExceeded: AddressLimitExceeded; cleaning up failed too (detaching ${TEMP}: UnauthorizedOperation: UnauthorizedOperation); left behind: network interface ${TEMP}`,
      stateLeft: `${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}; temporary network interface ${TEMP} is still attached to ${INSTANCE}: run aws ec2 detach-network-interface --attachment-id ${ATTACHMENT}, then aws ec2 delete-network-interface --network-interface-id ${TEMP}; hubfix removes what is left, tagged hubfix:temporary=${INSTANCE}, the next time it reads ${INSTANCE}`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 0);
  });

  it('gives up waiting for the attachment after a bounded time, and cleans up', async () => {
    // Prepare
    const state = await autoAssigned();
    givenFallback([{ step: 'wait-attached', always: true }]);

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

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
    const state = await autoAssigned([
      PRIMARY_INTERFACE,
      { NetworkInterfaceId: 'eni-0second', Attachment: { DeviceIndex: 1, Status: 'attached' } },
    ]);
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
      `only if EC2 rejects that for this interface: allocate an Elastic IP, associate it with ${PRIMARY} (which releases ${PUBLIC_IP}), disassociate and release it, then watch ${INSTANCE} for 180 s, since its interface still auto-assigns; whatever fails, nothing temporary is left behind`,
    );
  });
});

describe('EC2.9 fallback within the invocation deadline', () => {
  it('does not start the technique when it and its cleanup cannot finish in time', async () => {
    // Prepare: the technique needs up to 269 s with its cleanup, and its verify 190 s more.
    ctx = findingContext(clients, PARAMS, { clock, deadline: deadlineIn(400_000, clock.now) });
    const state = await autoAssigned();
    givenFallback();

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    // Assess: nothing temporary was made.
    expect(error).toMatchObject({
      name: 'PartialChangeError',
      message:
        'not enough time left in this invocation for the temporary Elastic IP technique: with its cleanup and the check that follows it needs up to 459 s, and 400 s are left',
      stateLeft: `unchanged: ${INSTANCE} still has its public IPv4 address ${PUBLIC_IP}, and nothing temporary was made. Run Remediate again: a new invocation has its full time`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateNetworkInterfaceCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(AllocateAddressCommand, 0);
  });

  it('stops before a step that cannot finish in time, cleans up, and says so', async () => {
    // Prepare: attaching takes 360 s (throttled and retried), so the wait that
    // follows, with the cleanup of the attached interface, no longer fits.
    ctx = findingContext(clients, PARAMS, { clock, deadline: deadlineIn(500_000, clock.now) });
    const state = await autoAssigned();
    givenFallback([], { attach: 360_000 }, '2026-11-22T10:08:30.000Z');

    // Act
    const error = await settle(ec2_9.apply(state, changePlan(state), ctx));

    // Assess
    expect(error).toMatchObject({
      name: 'PartialChangeError',
      message: `the temporary Elastic IP technique failed while waiting for ${TEMP} to be attached: not enough time left in this invocation: it needs up to 156 s with the cleanup, and 140 s are left`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(AllocateAddressCommand, 0);
  });

  it('tags what it makes with the moment its invocation is over for sure', async () => {
    // Prepare: 600 s left for the control; Lambda stops 10 s after that.
    ctx = findingContext(clients, PARAMS, { clock, deadline: deadlineIn(600_000, clock.now) });
    const state = await autoAssigned();
    givenFallback();
    ec2Mock.on(CreateNetworkInterfaceCommand).resolves({});

    // Act
    await settle(ec2_9.apply(state, changePlan(state), ctx));

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(CreateNetworkInterfaceCommand, {
      TagSpecifications: [
        { ResourceType: 'network-interface', Tags: temporaryTags('2026-11-22T10:10:10.000Z') },
      ],
    });
  });
});
