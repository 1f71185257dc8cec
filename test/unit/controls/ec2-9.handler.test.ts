/**
 * EC2.9 end to end through the exported handler shape, with every AWS
 * client mocked strictly.
 */
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_9 } from '../../../lambdas/controls/ec2-9/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, EC2_2_FINDING, importedEvent, REGION, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const INSTANCE = 'i-0123456789abcdef0';
const PRIMARY = 'eni-0aaaaaaaaaaaaaaa1';
const PUBLIC_IP = '54.210.1.2';

/** The sample finding, as a legacy per-standard EC2.9 finding for one instance. */
const FINDING = withChanges(EC2_2_FINDING, {
  Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.9/finding/5d1e`,
  GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/EC2.9',
  'ProductFields.ControlId': 'EC2.9',
  Resources: [
    {
      Type: 'AwsEc2Instance',
      Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      Partition: 'aws',
      Region: REGION,
    },
  ],
});

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running' },
    SubnetId: 'subnet-0bbbbbbbbbbbbbbb1',
    PublicIpAddress: PUBLIC_IP,
    Tags: [],
    NetworkInterfaces: [
      {
        NetworkInterfaceId: PRIMARY,
        PrivateIpAddress: '10.0.1.15',
        Groups: [{ GroupId: 'sg-0ccccccccccccccc1' }],
        Attachment: { DeviceIndex: 0, Status: 'attached' },
      },
    ],
    ...overrides,
  };
}

function setup(...reads: Instance[]) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const harness = controlHarness(ec2_9, { clients: { ec2: ec2Client } });
  const describe = ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true);
  for (const read of reads) describe.resolvesOnce({ Reservations: [{ Instances: [read] }] });
  ec2
    .on(DescribeAddressesCommand, { Filters: [{ Name: 'public-ip', Values: [PUBLIC_IP] }] }, true)
    .resolves({ Addresses: [] });
  harness.acceptDeliveries();
  return { ec2, ...harness };
}

describe('EC2.9 handler', () => {
  it('removes an auto-assigned address, notes the finding and says it cannot be undone', async () => {
    // Prepare
    const t = setup(instance(), instance({ PublicIpAddress: undefined }));
    t.ec2
      .on(
        ModifyNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false },
        true,
      )
      .resolves({});

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      {
        instanceId: INSTANCE,
        networkInterfaceId: PRIMARY,
        privateIpAddress: '10.0.1.15',
        subnetId: 'subnet-0bbbbbbbbbbbbbbb1',
        address: { kind: 'auto-assigned', publicIp: PUBLIC_IP },
        subnetAutoAssignTurnedOff: false,
      },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    expect(t.notes()[0]).toContain(`Not reversible: the auto-assigned address ${PUBLIC_IP}`);
    expect(t.published()[0]?.Message).toContain('Cannot be undone:');
    // Read (instance + addresses), change, verify: nothing more.
    expect(t.ec2.calls()).toHaveLength(4);
  });

  it('leaves an Auto Scaling group instance alone and explains why', async () => {
    const t = setup(instance({ Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'web-asg' }] }));

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.notes()[0]).toContain('belongs to Auto Scaling group "web-asg"');
  });
});
