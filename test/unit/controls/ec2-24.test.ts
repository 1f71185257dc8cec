import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_24Params } from '../../../lambdas/controls/ec2-24/meta';
import {
  type Ec2_24Clients,
  ec2_24,
  type ParavirtualInstanceState,
} from '../../../lambdas/controls/ec2-24/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { RollbackRefusedError } from '../../../lambdas/core/errors';
import { parseConfig } from '../../../lib/config';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, findingContext, rollbackContext } from '../../support/control';

const INSTANCE = 'i-0a1b2c3d4e5f60718';
const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);

const ec2Mock = strictMock(EC2Client);
const clients: Ec2_24Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2_24Clients, Ec2_24Params> = findingContext(clients, {});

const PV_INSTANCE: Instance = {
  InstanceId: INSTANCE,
  InstanceType: 'm1.small',
  VirtualizationType: 'paravirtual',
  State: { Name: 'running', Code: 16 },
  Placement: { AvailabilityZone: 'us-east-1a' },
  SubnetId: 'subnet-016e21c9895ea4ded',
  VpcId: 'vpc-0771fca5bdb3f07f5',
  ImageId: 'ami-0badc0de',
  PlatformDetails: 'Linux/UNIX',
  KeyName: 'ops',
  SecurityGroups: [{ GroupId: 'sg-0a1b2c3d', GroupName: 'web' }],
  RootDeviceName: '/dev/sda1',
  BlockDeviceMappings: [
    { DeviceName: '/dev/sda1', Ebs: { VolumeId: 'vol-0root' } },
    { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-0data' } },
  ],
  PrivateIpAddress: '10.0.1.15',
  PublicIpAddress: '203.0.113.10',
  NetworkInterfaces: [
    {
      PrivateIpAddresses: [
        {
          PrivateIpAddress: '10.0.1.15',
          Association: { PublicIp: '203.0.113.10', IpOwnerId: '111111111111' },
        },
      ],
    },
  ],
  Tags: [{ Key: 'Name', Value: 'legacy-web' }],
};

function givenInstance(instance: Instance) {
  ec2Mock
    .on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true)
    .resolves({ Reservations: [{ Instances: [instance] }] });
}

async function readFound(): Promise<ParavirtualInstanceState> {
  const read = await ec2_24.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: ParavirtualInstanceState): ChangePlan<{ instanceId: string }> {
  const plan = ec2_24.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('EC2.24', () => {
  it('confirms paravirtual live with one call and writes the seed steps with the instance facts', async () => {
    // Prepare
    givenInstance(PV_INSTANCE);

    // Act
    const read = await ec2_24.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = changePlan(read.state);

    // Assess
    expect(read.tags).toEqual({ Name: 'legacy-web' });
    expect(ec2Mock.calls()).toHaveLength(1);
    expect(plan.summary).toBe(
      `replace the paravirtual instance ${INSTANCE} (m1.small, us-east-1a) with a new HVM instance, by hand`,
    );
    expect(plan.steps).toEqual([
      `back up ${INSTANCE}: aws ec2 create-image --instance-id ${INSTANCE} --name ${INSTANCE}-before-hvm (an AMI with snapshots of vol-0root (/dev/sda1, root), vol-0data (/dev/sdf)); copy anything on instance store volumes elsewhere, as it is lost when the instance stops`,
      'launch a new instance from an HVM AMI of the same operating system (Linux/UNIX), in place of the PV AMI ami-0badc0de, with a current-generation instance type that AMI supports instead of m1.small, in subnet-016e21c9895ea4ded (vpc-0771fca5bdb3f07f5, us-east-1a), with the security groups sg-0a1b2c3d (web) so the same traffic reaches it, key pair ops',
      `move the data volumes vol-0data (/dev/sdf): stop ${INSTANCE}, detach them and attach them to the new instance (or create new volumes from the step-1 snapshots); volumes attach only within us-east-1a`,
      'do not boot from the old root volume vol-0root: it is set up for paravirtual boot. Attach it (or a volume from its snapshot) to the new instance as a data volume only to copy files from it',
      'install the application and the software it needs on the new instance, and restore its data from the backup',
      "move the Elastic IP 203.0.113.10 to the new instance: aws ec2 associate-address --allocation-id $(aws ec2 describe-addresses --public-ips 203.0.113.10 --query 'Addresses[0].AllocationId' --output text) --instance-id <new-instance-id> --allow-reassociation",
      `check that the new instance does the work ${INSTANCE} did, then stop ${INSTANCE}; once sure it is no longer needed, terminate it (aws ec2 terminate-instances --instance-ids ${INSTANCE}) and remove the backup AMI when it is no longer wanted`,
    ]);
    expect(plan.before).toEqual({ instanceId: INSTANCE });
    expect(await ec2_24.preflight(read.state, ctx)).toEqual([]);
  });

  it('tells to move DNS instead when the public address is Amazon-assigned', async () => {
    givenInstance({
      ...PV_INSTANCE,
      NetworkInterfaces: [
        {
          PrivateIpAddresses: [
            {
              PrivateIpAddress: '10.0.1.15',
              Association: { PublicIp: '203.0.113.10', IpOwnerId: 'amazon' },
            },
          ],
        },
      ],
    });

    const plan = changePlan(await readFound());

    expect(plan.steps).toContain(
      `${INSTANCE} has no Elastic IP: point DNS records and clients that use 10.0.1.15 or 203.0.113.10 at the new instance's addresses`,
    );
    expect(plan.undo).toEqual([
      `aws ec2 start-instances --instance-ids ${INSTANCE}  # the old instance, as long as it was only stopped`,
    ]);
  });

  it('does not apply to an HVM instance, whatever the finding says', async () => {
    givenInstance({ ...PV_INSTANCE, VirtualizationType: 'hvm' });

    expect(await ec2_24.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${INSTANCE} uses hvm virtualization, not paravirtual, so EC2.24 does not apply to it`,
    });
  });

  it('does not apply to an instance that no longer exists', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));

    expect((await ec2_24.readState(ref, ctx)).kind).toBe('not-applicable');
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_24.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });

  it('never changes, verifies or rolls back anything', async () => {
    givenInstance(PV_INSTANCE);
    const state = await readFound();
    const plan = changePlan(state);

    await expect(ec2_24.apply(state, plan, ctx)).rejects.toThrow('EC2.24 is notify-only');
    await expect(ec2_24.verify(state, ctx)).rejects.toThrow('EC2.24 is notify-only');
    await expect(
      ec2_24.rollback({ instanceId: INSTANCE }, rollbackContext(clients)),
    ).rejects.toBeInstanceOf(RollbackRefusedError);
    expect(ec2Mock.calls()).toHaveLength(1);
    expect(ec2_24.notifyOnly).toBe(true);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ec2_24.before.parse({ instanceId: INSTANCE }, 'before').ok).toBe(true);
    expect(ec2_24.before.parse({ instanceId: 'vol-1' }, 'before').ok).toBe(false);
  });

  it('is refused in mode "remediate" by the config, and accepted as notify', () => {
    expect(() => parseConfig({ controls: { 'EC2.24': { mode: 'remediate' } } }, 'test')).toThrow(
      'controls["EC2.24"].mode: EC2.24 has no automatic fix; use "notify" or "off"',
    );
    expect(
      parseConfig({ controls: { 'EC2.24': { mode: 'notify' } } }, 'test').controls['EC2.24']?.mode,
    ).toBe('notify');
  });
});
