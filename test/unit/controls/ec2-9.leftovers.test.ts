/**
 * EC2.9 after an interrupted run: Lambda stopped a function mid-technique,
 * leaving hubfix's temporary Elastic IP on the primary interface and its
 * temporary interface attached. The next read removes them first, never
 * takes the temporary address for the owner's, and leaves alone what
 * another invocation is still using.
 */
import {
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_9Params } from '../../../lambdas/controls/ec2-9/meta';
import { type Ec2Clients, ec2_9 } from '../../../lambdas/controls/ec2-9/remediate';
import type { FindingContext } from '../../../lambdas/core/control';
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
  INSTANCE,
  instance,
  NEW_PUBLIC_IP,
  PRIMARY,
  PRIMARY_INTERFACE,
  sent,
  TEMP,
  TEMP_ON_INSTANCE,
  temporaryAddress,
  temporaryInterface,
} from '../../support/ec2-9';

const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);
const ec2Mock = strictMock(EC2Client);
const world = ec2World(ec2Mock);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const PARAMS: Ec2_9Params = { disableSubnetAutoAssign: false, settleSeconds: 180 };

/** The fake clock starts at 10:00; a run that ended at 09:50 is over, one ending at 10:05 is not. */
const EXPIRED = '2026-11-22T09:50:00.000Z';
const IN_USE = '2026-11-22T10:05:00.000Z';

let ctx: FindingContext<Ec2Clients, Ec2_9Params>;

beforeEach(() => {
  resetStrict(ec2Mock);
  world.reset();
  const { clock } = fakeClock();
  ctx = findingContext(clients, PARAMS, { clock });
});

/** The instance as a killed technique left it: the temporary Elastic IP on it, the temporary interface attached. */
const MID_TECHNIQUE = instance({
  PublicIpAddress: ELASTIC_IP,
  NetworkInterfaces: [PRIMARY_INTERFACE, TEMP_ON_INSTANCE],
});

/** Removing an interrupted run's Elastic IP and interface succeeds, as EC2 answers it. */
function givenRemovalWorks() {
  ec2Mock.on(DisassociateAddressCommand, { AssociationId: ASSOCIATION }, true).resolves({});
  ec2Mock.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true).resolves({});
  ec2Mock.on(DetachNetworkInterfaceCommand, { AttachmentId: ATTACHMENT }, true).resolves({});
  ec2Mock
    .on(DescribeNetworkInterfacesCommand, { NetworkInterfaceIds: [TEMP] }, true)
    .resolvesOnce({ NetworkInterfaces: [temporaryInterface(EXPIRED, 'detaching')] })
    .resolves({ NetworkInterfaces: [temporaryInterface(EXPIRED, 'available')] });
  ec2Mock.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true).resolves({});
}

const REMOVED = [
  `removed hubfix's temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), associated with ${PRIMARY}, left by an interrupted run`,
  `removed hubfix's temporary network interface ${TEMP}, attached to ${INSTANCE}, left by an interrupted run`,
];

describe('EC2.9 on a retry after an interrupted run', () => {
  it('removes the temporary Elastic IP and interface first, and never takes the temporary address for the owner', async () => {
    // Prepare: the auto-assigned address was already gone when the run was killed.
    world.instance(
      MID_TECHNIQUE,
      instance({ PublicIpAddress: undefined, NetworkInterfaces: [PRIMARY_INTERFACE] }),
    );
    world.addresses([temporaryAddress(EXPIRED)]);
    world.temporaryInterfaces([temporaryInterface(EXPIRED, 'attached')]);
    givenRemovalWorks();

    // Act
    const read = await ec2_9.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = ec2_9.plan(read.state, ctx);

    // Assess: nothing is left, and the temporary address is nobody's before-state.
    expect(read.state.leftoversRemoved).toEqual(REMOVED);
    expect(read.state.address).toBeUndefined();
    expect(plan).toEqual({
      kind: 'compliant',
      summary: `${INSTANCE} has no public IPv4 address (hubfix first removed 2 temporary resource(s) an interrupted run had left)`,
    });
    // The address goes first, while the temporary interface still keeps EC2 from handing out a new one.
    expect(sent(ec2Mock)).toEqual([
      'DescribeInstancesCommand',
      'DescribeAddressesCommand',
      'DescribeNetworkInterfacesCommand',
      'DisassociateAddressCommand',
      'ReleaseAddressCommand',
      'DetachNetworkInterfaceCommand',
      'DescribeNetworkInterfacesCommand',
      'DescribeNetworkInterfacesCommand',
      'DeleteNetworkInterfaceCommand',
      'DescribeInstancesCommand',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfaceAttributeCommand, 0);
  });

  it('judges the address the instance has once the leftovers are gone, as EC2 hands it out', async () => {
    // Prepare: the run was killed before its interface was attached; taking the temporary
    // Elastic IP off the single interface gets the instance a new auto-assigned address.
    world.instance(
      instance({ PublicIpAddress: ELASTIC_IP }),
      instance({ PublicIpAddress: NEW_PUBLIC_IP }),
    );
    world.addresses([temporaryAddress(EXPIRED)]);
    world.temporaryInterfaces();
    ec2Mock.on(DisassociateAddressCommand, { AssociationId: ASSOCIATION }, true).resolves({});
    ec2Mock.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true).resolves({});

    // Act
    const read = await ec2_9.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = ec2_9.plan(read.state, ctx);

    // Assess: an auto-assigned address, not an Elastic IP that a rollback would put back.
    expect(read.state.address).toEqual({ kind: 'auto-assigned', publicIp: NEW_PUBLIC_IP });
    if (plan.kind !== 'change') throw new Error('expected a change plan');
    expect(plan.before.address).toEqual({ kind: 'auto-assigned', publicIp: NEW_PUBLIC_IP });
    expect(plan.steps[0]).toBe(
      `already done when hubfix read ${INSTANCE}: removed hubfix's temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), associated with ${PRIMARY}, left by an interrupted run`,
    );
    expect(plan.summary).toContain('hubfix first removed 1 temporary resource(s)');
  });

  it('says in the change what it removed first', async () => {
    // Prepare: a detached temporary interface was all that was left.
    world.instance(instance());
    world.addresses([]);
    world.temporaryInterfaces([temporaryInterface(EXPIRED, 'available')]);
    ec2Mock.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true).resolves({});
    world.instance(instance());
    const read = await ec2_9.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = ec2_9.plan(read.state, ctx);
    if (plan.kind !== 'change') throw new Error('expected a change plan');
    ec2Mock
      .on(
        ModifyNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
        true,
      )
      .resolves({});

    // Act
    const result = await ec2_9.apply(read.state, plan, ctx);

    // Assess
    expect(result.changes[0]).toBe(
      `before the change: removed hubfix's temporary network interface ${TEMP}, left by an interrupted run`,
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(DetachNetworkInterfaceCommand, 0);
  });

  it('counts a temporary resource without its until tag as left behind', async () => {
    world.instance(
      instance({ PublicIpAddress: undefined }),
      instance({ PublicIpAddress: undefined }),
    );
    world.addresses([temporaryAddress(undefined, false)]);
    world.temporaryInterfaces();
    ec2Mock.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true).resolves({});

    const read = await ec2_9.readState(ref, ctx);

    expect(read).toMatchObject({
      kind: 'found',
      state: {
        leftoversRemoved: [
          `removed hubfix's temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), left by an interrupted run`,
        ],
      },
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DisassociateAddressCommand, 0);
  });

  it('finds a temporary interface behind an empty first page', async () => {
    world.instance(
      instance({ PublicIpAddress: undefined }),
      instance({ PublicIpAddress: undefined }),
    );
    world.addresses([]);
    world.temporaryInterfaces([], [temporaryInterface(EXPIRED, 'available')]);
    ec2Mock.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true).resolves({});

    const read = await ec2_9.readState(ref, ctx);

    expect(read).toMatchObject({
      kind: 'found',
      state: { leftoversRemoved: [expect.any(String)] },
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, {
      NetworkInterfaceId: TEMP,
    });
  });

  it('leaves another invocation its work in progress, and this finding to it', async () => {
    // Prepare: a second finding for the same instance while the first one's technique runs.
    world.instance(MID_TECHNIQUE);
    world.addresses([temporaryAddress(IN_USE)]);
    world.temporaryInterfaces([temporaryInterface(IN_USE, 'attached')]);

    // Act
    const read = await ec2_9.readState(ref, ctx);

    // Assess: nothing touched.
    expect(read).toEqual({
      kind: 'not-applicable',
      reason: `another hubfix invocation is working on ${INSTANCE} right now (its temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), associated with ${PRIMARY}; temporary network interface ${TEMP}, attached to ${INSTANCE}, in use until ${IN_USE}); this one leaves the instance to it`,
    });
    expect(sent(ec2Mock)).toEqual([
      'DescribeInstancesCommand',
      'DescribeAddressesCommand',
      'DescribeNetworkInterfacesCommand',
    ]);
  });

  it('removes what was left for an instance that is gone, and says so', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));
    world.addresses([temporaryAddress(EXPIRED, false)]);
    world.temporaryInterfaces([temporaryInterface(EXPIRED, 'available')]);
    ec2Mock.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true).resolves({});
    ec2Mock.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true).resolves({});

    expect(await ec2_9.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${INSTANCE} no longer exists; hubfix removed hubfix's temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), left by an interrupted run; removed hubfix's temporary network interface ${TEMP}, left by an interrupted run`,
    });
  });

  it('stops with what is left, and how to remove it, when a leftover cannot be removed', async () => {
    // Prepare
    world.instance(MID_TECHNIQUE);
    world.addresses([temporaryAddress(EXPIRED)]);
    world.temporaryInterfaces([temporaryInterface(EXPIRED, 'attached')]);
    ec2Mock
      .on(DisassociateAddressCommand, { AssociationId: ASSOCIATION }, true)
      .rejects(serviceError('UnauthorizedOperation', 'denied'));

    // Act
    const read = ec2_9.readState(ref, ctx);

    // Assess: nothing after it is judged or removed; the message says what to run.
    await expect(read).rejects.toBeInstanceOf(PartialChangeError);
    const left = `temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}, association ${ASSOCIATION}) is still associated with ${INSTANCE}'s primary interface, so ${INSTANCE} is public at that address: run aws ec2 disassociate-address --association-id ${ASSOCIATION}; temporary Elastic IP ${ELASTIC_IP} is still allocated: once disassociated, run aws ec2 release-address --allocation-id ${ALLOCATION}; temporary network interface ${TEMP} is still attached to ${INSTANCE}: run aws ec2 detach-network-interface --attachment-id ${ATTACHMENT}, then aws ec2 delete-network-interface --network-interface-id ${TEMP}; hubfix tries again the next time it reads ${INSTANCE}`;
    await expect(read).rejects.toMatchObject({
      message: `hubfix could not remove its temporary Elastic IP ${ELASTIC_IP} (${ALLOCATION}), associated with ${PRIMARY}, left by an interrupted run: disassociating ${ALLOCATION}: UnauthorizedOperation: denied. What is left: ${left}`,
      stateLeft: left,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DetachNetworkInterfaceCommand, 0);
  });

  it('starts no removal it cannot finish before the deadline', async () => {
    // Prepare: detaching and deleting the interface may take 83 s; 60 s are left.
    const { clock } = fakeClock();
    const short = findingContext(clients, PARAMS, {
      clock,
      deadline: deadlineIn(60_000, clock.now),
    });
    world.instance(MID_TECHNIQUE);
    world.addresses([]);
    world.temporaryInterfaces([temporaryInterface(EXPIRED, 'attached')]);

    // Act
    const read = ec2_9.readState(ref, short);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'PartialChangeError',
      message: expect.stringMatching(
        `^hubfix could not remove its temporary network interface ${TEMP}, attached to ${INSTANCE}, left by an interrupted run: not enough time left in this invocation to remove it \\(up to 83 s; 60 s left\\)\\. What is left: `,
      ),
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DetachNetworkInterfaceCommand, 0);
  });
});
