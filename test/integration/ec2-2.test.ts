import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_2 } from '../../lambdas/controls/ec2-2/remediate';
import { rollbackChange } from '../../lambdas/core/rollback';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { deploy, registerFindings, resultOf } from './deployed';
import { againstMoto, MOTO_SCOPE, motoAvailable, quietLog } from './support';

/** EC2.2 as the tests deploy it: remediating unused default groups. */
const REMEDIATE = {
  settings: { mode: 'remediate', dryRun: false, params: { strategy: 'empty-if-unused' } },
} as const;

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

/** The finding Security Hub holds for the group, registered so GetFindings and updates see it. */
function findingFor(groupId: string, { registered = true } = {}) {
  const finding = withChanges(EC2_2_FINDING, {
    Resources: [
      {
        Type: 'AwsEc2SecurityGroup',
        Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        Region: 'us-east-1',
      },
    ],
  });
  if (registered) registerFindings([finding]);
  return finding;
}

describe.skipIf(!motoAvailable)(againstMoto('EC2.2, the deployed bundle'), () => {
  it('empties an unused default group, records it, and rolls it back exactly', async () => {
    // Prepare
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const original = await permissions(ec2, groupId);

    // Act: remediate
    const run = await app.invoke('EC2.2', importedEvent([findingFor(groupId)]), REMEDIATE);

    // Assess: the group is empty, the finding resolved, the ledger holds the rules.
    expect(original).toHaveLength(4);
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    expect(await permissions(ec2, groupId)).toEqual([]);
    // A verified fix is noted; the workflow is Security Hub's to resolve on its next check.
    expect(app.findingUpdates).toEqual([
      expect.objectContaining({ Note: expect.objectContaining({ UpdatedBy: 'hubfix' }) }),
    ]);
    expect(app.findingUpdates[0]?.Workflow).toBeUndefined();
    const [entry, ...others] = await app.ledger.recent(5);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ status: 'REMEDIATED', controlId: 'EC2.2' });
    expect(JSON.parse(entry?.before ?? '{}').rules).toHaveLength(4);

    // Act: roll back from the ledger, as the CLI does
    const changeId = entry?.changeId ?? '';
    const rollback = await rollbackChange({
      changeId,
      by: 'integration-test',
      scope: MOTO_SCOPE,
      force: false,
      ledger: app.ledger,
      control: async () => ec2_2,
      clients: () => ({ ec2 }),
      confirm: async () => true,
      log: quietLog,
    });

    // Assess: exactly the original rules are back, and the ledger says so.
    expect(rollback.kind).toBe('rolled-back');
    expect(await permissions(ec2, groupId)).toEqual(original);
    expect((await app.ledger.get(changeId))?.status).toBe('ROLLED_BACK');
  });

  it('changes nothing the second time the same event arrives, in a new execution environment', async () => {
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const event = importedEvent([findingFor(groupId)]);

    const first = await app.invoke('EC2.2', event, REMEDIATE);
    const second = await app.invoke('EC2.2', event, REMEDIATE);

    expect(resultOf(first)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }], duplicates: 0 });
    expect(resultOf(second)).toMatchObject({ findings: [], duplicates: 1 });
    expect(await app.ledger.recent(5)).toHaveLength(1);
  });

  it('acts once when two execution environments get the same event at the same time', async () => {
    // Prepare: two warm instances, so both invocations start together.
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const event = importedEvent([findingFor(groupId)]);
    const [a, b] = await Promise.all([
      app.start('EC2.2', REMEDIATE),
      app.start('EC2.2', REMEDIATE),
    ]);

    // Act
    const runs = await Promise.all([a.invoke(event), b.invoke(event)]);

    // Assess: one handled it, the other saw it in progress or done; one change recorded.
    const results = runs.map(resultOf) as {
      findings: unknown[];
      duplicates: number;
    }[];
    expect(results.map((r) => r.findings.length).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.duplicates).sort()).toEqual([0, 1]);
    expect(await permissions(ec2, groupId)).toEqual([]);
    expect(await app.ledger.recent(5)).toHaveLength(1);
  });

  it('changes nothing for a finding Security Hub does not hold, whatever the event says', async () => {
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);

    const run = await app.invoke(
      'EC2.2',
      importedEvent([findingFor(groupId, { registered: false })]),
      REMEDIATE,
    );

    expect(run.kind).toBe('returned');
    expect(app.securityHub.queries).toHaveLength(1);
    expect(await permissions(ec2, groupId)).toHaveLength(4);
    expect(app.findingUpdates).toEqual([]);
    expect(await app.ledger.recent(5)).toEqual([]);
  });

  it('leaves a default group alone while a network interface uses it', async () => {
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0];
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: group?.VpcId, CidrBlock: '10.20.1.0/24' }),
    );
    await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet?.SubnetId, Groups: [groupId] }),
    );

    const run = await app.invoke('EC2.2', importedEvent([findingFor(groupId)]), REMEDIATE);

    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'BLOCKED' }] });
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
    );
    expect(rules.SecurityGroupRules).toHaveLength(4);
    expect(app.findingUpdates.map((u) => u.Workflow?.Status)).toEqual(['NOTIFIED']);
    expect(await app.published()).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ outcome: 'BLOCKED' }) }),
    ]);
  });
});
