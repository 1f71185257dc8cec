import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_2 } from '../../lambdas/controls/ec2-2/remediate';
import { rollbackChange } from '../../lambdas/core/rollback';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import {
  againstMoto,
  findingUpdates,
  motoAvailable,
  motoOptions,
  motoPipeline,
  quietLog,
  resetMoto,
} from './support';

/** The rules of a group as comparable text, whatever their ids. */
async function permissions(ec2: EC2Client, groupId: string): Promise<string[]> {
  const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
    .SecurityGroups?.[0];
  const normalise = (direction: string, list: IpPermission[] | undefined) =>
    (list ?? []).flatMap((p) => [
      ...(p.IpRanges ?? []).map(
        (r) =>
          `${direction} ${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${r.CidrIp} "${r.Description ?? ''}"`,
      ),
      ...(p.Ipv6Ranges ?? []).map(
        (r) =>
          `${direction} ${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${r.CidrIpv6} "${r.Description ?? ''}"`,
      ),
      ...(p.UserIdGroupPairs ?? []).map(
        (g) =>
          `${direction} ${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${g.GroupId} "${g.Description ?? ''}"`,
      ),
    ]);
  return [
    ...normalise('in', group?.IpPermissions),
    ...normalise('out', group?.IpPermissionsEgress),
  ].sort();
}

/** A new VPC whose default group has an inbound rule from itself, SSH from a CIDR and HTTP over IPv6. */
async function defaultGroupWithRules(ec2: EC2Client): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const group = (
    await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: ['default'] },
        ],
      }),
    )
  ).SecurityGroups?.[0];
  const groupId = group?.GroupId ?? '';
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] },
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'bastion ssh' }],
        },
        {
          IpProtocol: 'tcp',
          FromPort: 80,
          ToPort: 80,
          Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'web' }],
        },
      ],
    }),
  );
  return groupId;
}

function findingFor(groupId: string) {
  return withChanges(EC2_2_FINDING, {
    Resources: [
      {
        Type: 'AwsEc2SecurityGroup',
        Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        Region: 'us-east-1',
      },
    ],
  });
}

describe.skipIf(!motoAvailable)(againstMoto('EC2.2'), () => {
  beforeEach(async () => {
    await resetMoto();
  });

  it('empties an unused default group, records it, and rolls it back exactly', async () => {
    // Prepare
    const ec2 = new EC2Client(await motoOptions());
    const groupId = await defaultGroupWithRules(ec2);
    const original = await permissions(ec2, groupId);
    const { pipeline, ledger } = await motoPipeline(
      ec2_2,
      { ec2 },
      { params: { strategy: 'empty-if-unused' } },
    );

    // Act: remediate
    const result = await pipeline.processEvent(importedEvent([findingFor(groupId)]));

    // Assess: the group is empty, the finding resolved, the ledger holds the rules.
    expect(original).toHaveLength(4);
    expect(result.handled.map((h) => h.report.outcome.kind)).toEqual(['REMEDIATED']);
    expect(await permissions(ec2, groupId)).toEqual([]);
    expect(findingUpdates.map((u) => u.Workflow?.Status)).toEqual(['RESOLVED']);
    const entry = await ledger.get('change-1');
    expect(entry).toMatchObject({ status: 'REMEDIATED', controlId: 'EC2.2' });
    expect(JSON.parse(entry?.before ?? '{}').rules).toHaveLength(4);

    // Act: roll back from the ledger, as the CLI does
    const rollback = await rollbackChange({
      changeId: 'change-1',
      by: 'integration-test',
      force: false,
      ledger,
      control: async () => ec2_2,
      clients: () => ({ ec2 }),
      log: quietLog,
    });

    // Assess: exactly the original rules are back, and the ledger says so.
    expect(rollback.kind).toBe('rolled-back');
    expect(await permissions(ec2, groupId)).toEqual(original);
    expect((await ledger.get('change-1'))?.status).toBe('ROLLED_BACK');
  });

  it('changes nothing the second time the same event arrives', async () => {
    const ec2 = new EC2Client(await motoOptions());
    const groupId = await defaultGroupWithRules(ec2);
    const { pipeline } = await motoPipeline(
      ec2_2,
      { ec2 },
      { params: { strategy: 'empty-if-unused' } },
    );
    const event = importedEvent([findingFor(groupId)]);

    const first = await pipeline.processEvent(event);
    const second = await pipeline.processEvent(event);

    expect(first.handled).toHaveLength(1);
    expect(second).toMatchObject({ handled: [], duplicates: 1 });
  });

  it('leaves a default group alone while a network interface uses it', async () => {
    const ec2 = new EC2Client(await motoOptions());
    const groupId = await defaultGroupWithRules(ec2);
    const { CreateSubnetCommand, CreateNetworkInterfaceCommand } = await import(
      '@aws-sdk/client-ec2'
    );
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0];
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: group?.VpcId, CidrBlock: '10.20.1.0/24' }),
    );
    await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet?.SubnetId, Groups: [groupId] }),
    );
    const { pipeline } = await motoPipeline(
      ec2_2,
      { ec2 },
      { params: { strategy: 'empty-if-unused' } },
    );

    const result = await pipeline.processEvent(importedEvent([findingFor(groupId)]));

    expect(result.handled[0]?.report.outcome.kind).toBe('BLOCKED');
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
    );
    expect(rules.SecurityGroupRules).toHaveLength(4);
  });
});
