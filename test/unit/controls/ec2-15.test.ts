import {
  DescribeSubnetsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_15Params } from '../../../lambdas/controls/ec2-15/meta';
import {
  type Ec2_15Before,
  type Ec2Clients,
  ec2_15,
  type SubnetState,
} from '../../../lambdas/controls/ec2-15/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';

const SUBNET = 'subnet-017e22c0195eb5ded';
const VPC = 'vpc-0771fca5bdb3f07f5';
const ref = ec2Ref('AwsEc2Subnet', 'subnet', SUBNET);

const ec2Mock = strictMock(EC2Client);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2Clients, Ec2_15Params> = findingContext(clients, {});

/** Each read of the subnet answers with the next of `reads`, the last one from then on. */
function givenSubnet(...reads: Partial<Subnet>[]) {
  const describe = ec2Mock.on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true);
  for (const subnet of reads) {
    describe.resolvesOnce({ Subnets: [{ SubnetId: SUBNET, VpcId: VPC, ...subnet }] });
  }
  const last = reads.at(-1);
  if (last) describe.resolves({ Subnets: [{ SubnetId: SUBNET, VpcId: VPC, ...last }] });
}

function modify(attribute: 'MapPublicIpOnLaunch' | 'AssignIpv6AddressOnCreation', on: boolean) {
  return ec2Mock.on(
    ModifySubnetAttributeCommand,
    { SubnetId: SUBNET, [attribute]: { Value: on } },
    true,
  );
}

async function readFound(): Promise<SubnetState> {
  const read = await ec2_15.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: SubnetState): ChangePlan<Ec2_15Before> {
  const plan = ec2_15.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('EC2.15 readState and plan', () => {
  it('reads which auto-assign settings are on, and the tags, live', async () => {
    // Prepare
    givenSubnet({
      MapPublicIpOnLaunch: true,
      AssignIpv6AddressOnCreation: true,
      Tags: [{ Key: 'team', Value: 'web' }],
    });

    // Act
    const read = await ec2_15.readState(ref, ctx);

    // Assess
    expect(read).toEqual({
      kind: 'found',
      tags: { team: 'web' },
      state: {
        subnetId: SUBNET,
        vpcId: VPC,
        ipv6Native: false,
        on: ['MapPublicIpOnLaunch', 'AssignIpv6AddressOnCreation'],
      },
    });
  });

  it('plans to turn off only what is on, and how to turn it back on', async () => {
    givenSubnet({ MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: false });

    const plan = changePlan(await readFound());

    expect(plan.summary).toBe(`turn off auto-assign public IPv4 address on ${SUBNET} of ${VPC}`);
    expect(plan.steps).toHaveLength(2);
    expect(plan.steps[0]).toContain('(MapPublicIpOnLaunch=false)');
    expect(plan.before).toEqual({ subnetId: SUBNET, turnedOff: ['MapPublicIpOnLaunch'] });
    expect(plan.undo).toEqual([
      `aws ec2 modify-subnet-attribute --subnet-id ${SUBNET} --map-public-ip-on-launch`,
    ]);
    expect(plan.irreversible).toBeUndefined();
  });

  it('sees a subnet with both settings off as compliant', async () => {
    givenSubnet({ MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false });

    expect(ec2_15.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `${SUBNET} of ${VPC} auto-assigns neither public IPv4 nor IPv6 addresses`,
    });
  });

  it('does not apply to a subnet that no longer exists', async () => {
    ec2Mock.on(DescribeSubnetsCommand).rejects(serviceError('InvalidSubnetID.NotFound'));

    expect(await ec2_15.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${SUBNET} no longer exists`,
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(DescribeSubnetsCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_15.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('EC2.15 preflight', () => {
  it('has nothing against a dual-stack subnet', async () => {
    const state: SubnetState = {
      subnetId: SUBNET,
      vpcId: VPC,
      ipv6Native: false,
      on: ['MapPublicIpOnLaunch', 'AssignIpv6AddressOnCreation'],
    };

    expect(await ec2_15.preflight(state, ctx)).toEqual([]);
  });

  it('blocks turning off IPv6 auto-assign on an IPv6-only subnet, and says why', async () => {
    const state: SubnetState = {
      subnetId: SUBNET,
      vpcId: VPC,
      ipv6Native: true,
      on: ['AssignIpv6AddressOnCreation'],
    };

    const blockers = await ec2_15.preflight(state, ctx);

    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toContain(`${SUBNET} is IPv6-only`);
    expect(blockers[0]).toContain('suppress the finding with a reason');
  });
});

describe('EC2.15 apply, verify, rollback', () => {
  it('turns off both settings, one call each, and verifies they are off', async () => {
    // Prepare
    givenSubnet(
      { MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: true },
      { MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false },
    );
    const state = await readFound();
    modify('MapPublicIpOnLaunch', false).resolves({});
    modify('AssignIpv6AddressOnCreation', false).resolves({});

    // Act
    const result = await ec2_15.apply(state, changePlan(state), ctx);
    const verdict = await ec2_15.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      `turned off auto-assign public IPv4 address on ${SUBNET}`,
      `turned off auto-assign IPv6 address on ${SUBNET}`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySubnetAttributeCommand, 2);
    expect(verdict).toEqual({ ok: true });
  });

  it('says what is left when the second call fails after the first succeeded', async () => {
    givenSubnet({ MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: true });
    const state = await readFound();
    modify('MapPublicIpOnLaunch', false).resolves({});
    modify('AssignIpv6AddressOnCreation', false).rejects(serviceError('RequestLimitExceeded'));

    const apply = ec2_15.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: `turning off auto-assign IPv6 address on ${SUBNET} failed: RequestLimitExceeded: RequestLimitExceeded`,
      stateLeft: `${SUBNET} has auto-assign public IPv4 address turned off, auto-assign IPv6 address still on`,
    });
  });

  it('reports the subnet unchanged when the first call fails', async () => {
    givenSubnet({ MapPublicIpOnLaunch: true });
    const state = await readFound();
    modify('MapPublicIpOnLaunch', false).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_15.apply(state, changePlan(state), ctx)).rejects.toMatchObject({
      stateLeft: `unchanged: ${SUBNET} has auto-assign public IPv4 address still on`,
    });
  });

  it('reports a setting that is still on once the verify backoff is spent', async () => {
    givenSubnet({ MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: true });
    const state: SubnetState = { subnetId: SUBNET, vpcId: VPC, ipv6Native: false, on: [] };
    const { clock, sleeps } = fakeClock();

    expect(await ec2_15.verify(state, { ...ctx, clock })).toEqual({
      ok: false,
      reason: `${SUBNET} still has auto-assign IPv6 address on`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging read shows both settings off', async () => {
    givenSubnet(
      { MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: false },
      { MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false },
    );
    const state: SubnetState = { subnetId: SUBNET, vpcId: VPC, ipv6Native: false, on: [] };
    const { clock, sleeps } = fakeClock();

    expect(await ec2_15.verify(state, { ...ctx, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('rolls back by turning on exactly the settings it turned off', async () => {
    // Prepare
    modify('AssignIpv6AddressOnCreation', true).resolves({});

    // Act
    const lines = await ec2_15.rollback(
      { subnetId: SUBNET, turnedOff: ['AssignIpv6AddressOnCreation'] },
      rollbackContext(clients),
    );

    // Assess
    expect(lines).toEqual([`turned on auto-assign IPv6 address on ${SUBNET}`]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySubnetAttributeCommand, 1);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(
      ec2_15.before.parse({ subnetId: SUBNET, turnedOff: ['MapPublicIpOnLaunch'] }, 'before').ok,
    ).toBe(true);
    expect(ec2_15.before.parse({ subnetId: SUBNET, turnedOff: ['EnableDns64'] }, 'before').ok).toBe(
      false,
    );
    expect(
      ec2_15.before.parse(
        { subnetId: SUBNET, turnedOff: ['MapPublicIpOnLaunch', 'MapPublicIpOnLaunch'] },
        'before',
      ).ok,
    ).toBe(false);
  });
});
