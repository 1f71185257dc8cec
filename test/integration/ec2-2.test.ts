import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { type Ec2Clients, ec2_2 } from '../../lambdas/controls/ec2-2/remediate';
import { rollbackChange } from '../../lambdas/core/rollback';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { importedV2Event, ocsfFinding } from '../support/ocsf';
import {
  type Deployment,
  deploy,
  registerFindings,
  registerOcsfFindings,
  resultOf,
} from './deployed';
import { pageFilteredDescribes } from './gateway';
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

/** EC2.2's four clients, pointed at moto as the deployed function's are: what a rollback uses. */
function clientsOf(app: Deployment): Ec2Clients {
  return {
    ec2: new EC2Client(app.options),
    lambda: new LambdaClient(app.options),
    ecs: new ECSClient(app.options),
    autoScaling: new AutoScalingClient(app.options),
  };
}

/** `hubfix rollback <changeId>` as the CLI runs it, with clients pointed at moto. */
function rollbackAsTheCli(app: Deployment, changeId: string) {
  return rollbackChange({
    changeId,
    by: 'integration-test',
    scope: MOTO_SCOPE,
    force: false,
    ledger: app.ledger,
    control: async () => ec2_2,
    clients: () => clientsOf(app),
    confirm: async () => true,
    log: quietLog,
  });
}

/** An IAM role in moto for a Lambda function to name (moto checks that it exists). */
async function lambdaRole(app: Deployment): Promise<string> {
  const body = new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: 'orders-api',
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    }),
  });
  const response = await fetch(app.options.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto routes by the credential scope and does not check the signature.
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: body.toString(),
  });
  if (!response.ok) throw new Error(`moto CreateRole failed: ${response.status}`);
  return 'arn:aws:iam::111111111111:role/orders-api';
}

/** The smallest valid zip archive: the function is never invoked. */
const EMPTY_ZIP = Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

async function vpcOf(ec2: EC2Client, groupId: string): Promise<string> {
  const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
    .SecurityGroups?.[0];
  return group?.VpcId ?? '';
}

/** Each interface's groups, sorted, by interface id. */
async function groupLists(
  ec2: EC2Client,
  interfaceIds: string[],
): Promise<Record<string, string[]>> {
  const found = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: interfaceIds }),
  );
  return Object.fromEntries(
    (found.NetworkInterfaces ?? []).map((e) => [
      e.NetworkInterfaceId ?? '',
      (e.Groups ?? []).map((g) => g.GroupId ?? '').sort(),
    ]),
  );
}

const MIGRATE = {
  settings: { mode: 'remediate', dryRun: false, params: { strategy: 'migrate' } },
} as const;

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
    const rollback = await rollbackAsTheCli(app, changeId);

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

  it('changes a group once when two findings for it arrive in two execution environments at once', async () => {
    // Prepare: the same group reported by two standards (two finding ids), no consolidation.
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const fsbp = findingFor(groupId);
    const cis = withChanges(fsbp, {
      Id: `${String(fsbp.Id)}-cis`,
      GeneratorId: 'cis-aws-foundations-benchmark/v/1.4.0/5.3',
    });
    registerFindings([cis]);
    const [a, b] = await Promise.all([
      app.start('EC2.2', REMEDIATE),
      app.start('EC2.2', REMEDIATE),
    ]);

    // Act
    const runs = await Promise.all([
      a.invoke(importedEvent([fsbp])),
      b.invoke(importedEvent([cis])),
    ]);

    // Assess: both handled, one change made and recorded, the other found it done.
    const outcomes = runs
      .map((run) => resultOf(run) as { findings: { outcome: string }[] })
      .flatMap((result) => result.findings.map((f) => f.outcome))
      .sort();
    expect(outcomes).toEqual(['ALREADY_COMPLIANT', 'REMEDIATED']);
    expect(await permissions(ec2, groupId)).toEqual([]);
    expect(await app.ledger.recent(5)).toHaveLength(1);
  });

  it('empties a default group reported by the new Security Hub, and writes back through BatchUpdateFindingsV2', async () => {
    // Prepare: an OCSF finding for the group, registered with the gateway's GetFindingsV2.
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await defaultGroupWithRules(ec2);
    const finding = ocsfFinding('EC2.2', {
      resources: [
        {
          cloud_partition: 'aws',
          owner: { account: { uid: '111111111111' } },
          region: 'us-east-1',
          tags: [],
          type: 'AWS::EC2::SecurityGroup',
          uid: groupId,
          uid_alt: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        },
      ],
    });
    registerOcsfFindings([finding]);

    // Act
    const run = await app.invoke('EC2.2', importedV2Event(finding), REMEDIATE);

    // Assess: changed once, re-fetched and written back through the V2 API, nothing through V1.
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    expect(await permissions(ec2, groupId)).toEqual([]);
    expect(app.securityHub.queriesV2).toHaveLength(1);
    // A verified fix adds the note and leaves the status for Security Hub's next check.
    expect(app.securityHub.updatesV2).toEqual([
      {
        FindingIdentifiers: [
          {
            CloudAccountUid: '111111111111',
            FindingInfoUid: (finding.finding_info as { uid: string }).uid,
            MetadataProductUid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
          },
        ],
        Comment: expect.stringMatching(/^hubfix remediated and verified: revoke all 4 rules/),
      },
    ]);
    expect(app.findingUpdates).toEqual([]);
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
    const eni = await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet?.SubnetId, Groups: [groupId] }),
    );
    // Every filtered describe now answers an empty first page with a token, as EC2 may.
    pageFilteredDescribes(true);

    const run = await app.invoke('EC2.2', importedEvent([findingFor(groupId)]), REMEDIATE);

    pageFilteredDescribes(false);
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'BLOCKED' }] });
    expect(JSON.stringify(await app.published())).toContain(
      `${groupId} is attached to 1 network interface(s): ${eni.NetworkInterface?.NetworkInterfaceId}`,
    );
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
    );
    expect(rules.SecurityGroupRules).toHaveLength(4);
    expect(app.findingUpdates.map((u) => u.Workflow?.Status)).toEqual(['NOTIFIED']);
    expect(await app.published()).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ outcome: 'BLOCKED' }) }),
    ]);
  });
  it('blocks, naming the function, while a Lambda function names the default group', async () => {
    // Prepare: no interface uses the group; a function's VPC configuration names it.
    const app = await deploy();
    const clients = clientsOf(app);
    const groupId = await defaultGroupWithRules(clients.ec2);
    const subnet = await clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: await vpcOf(clients.ec2, groupId),
        CidrBlock: '10.20.2.0/24',
      }),
    );
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'orders-api',
        Runtime: 'nodejs22.x',
        Role: await lambdaRole(app),
        Handler: 'index.handler',
        Code: { ZipFile: EMPTY_ZIP },
        VpcConfig: { SubnetIds: [subnet.Subnet?.SubnetId ?? ''], SecurityGroupIds: [groupId] },
      }),
    );
    pageFilteredDescribes(true);

    // Act
    const run = await app.invoke('EC2.2', importedEvent([findingFor(groupId)]), REMEDIATE);

    // Assess
    pageFilteredDescribes(false);
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'BLOCKED' }] });
    expect(JSON.stringify(await app.published())).toContain(
      `1 Lambda function version(s) name ${groupId}: orders-api. Lambda makes their network interfaces only while they run; change their VPC configuration to another group first.`,
    );
    expect(await permissions(clients.ec2, groupId)).toHaveLength(4);
  });

  it('migrates a default group two instances use and another group references, then rolls back to the exact start', async () => {
    // Prepare: two instances in the default group; "db" allows 5432 from it and sends 443 to it.
    // Those two rules carry no description: moto's DescribeSecurityGroupRules
    // drops the description of rules whose peer is a group (EC2 returns it),
    // so it could not survive any copy. The unit tests copy such descriptions.
    const app = await deploy();
    const { ec2 } = clientsOf(app);
    const groupId = await defaultGroupWithRules(ec2);
    const vpcId = await vpcOf(ec2, groupId);
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.3.0/24' }),
    );
    const db = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'database', VpcId: vpcId }),
    );
    const dbId = db.GroupId ?? '';
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: dbId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            UserIdGroupPairs: [{ GroupId: groupId }],
          },
        ],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: dbId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupId: groupId }],
          },
        ],
      }),
    );
    // moto answers an attached interface's groups as its own plus its
    // instance's launch groups, and ModifyNetworkInterfaceAttribute changes
    // only the former; so the instances launch in "web" and each uses the
    // default group through a second interface, whose groups moto reports
    // as EC2 does.
    const web = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web', VpcId: vpcId }),
    );
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
        MinCount: 2,
        MaxCount: 2,
        SubnetId: subnet.Subnet?.SubnetId,
        SecurityGroupIds: [web.GroupId ?? ''],
      }),
    );
    const interfaceIds: string[] = [];
    for (const instance of run.Instances ?? []) {
      const eni = await ec2.send(
        new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet?.SubnetId, Groups: [groupId] }),
      );
      const id = eni.NetworkInterface?.NetworkInterfaceId ?? '';
      await ec2.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: id,
          InstanceId: instance.InstanceId,
          DeviceIndex: 1,
        }),
      );
      interfaceIds.push(id);
    }
    const startDb = await permissions(ec2, dbId);
    const startRules = [...(await permissions(ec2, groupId)), ...startDb];
    const startLists = await groupLists(ec2, interfaceIds);
    pageFilteredDescribes(true);

    // Act: remediate
    const migration = await app.invoke('EC2.2', importedEvent([findingFor(groupId)]), MIGRATE);

    // Assess: migrated and verified (the test's own reads are not paged)
    pageFilteredDescribes(false);
    expect(interfaceIds).toHaveLength(2);
    const both = (first: string) => [first, web.GroupId ?? ''].sort();
    expect(Object.values(startLists)).toEqual([both(groupId), both(groupId)]);
    expect(resultOf(migration)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    expect(await permissions(ec2, groupId)).toEqual([]);
    const replacement = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: 'group-name', Values: [`${vpcId}-default-replacement`] }],
        }),
      )
    ).SecurityGroups?.[0];
    const replacementId = replacement?.GroupId ?? '';
    expect(replacement?.Tags).toEqual([{ Key: 'hubfix:replaces', Value: groupId }]);
    expect(Object.values(await groupLists(ec2, interfaceIds))).toEqual([
      both(replacementId),
      both(replacementId),
    ]);
    expect(await permissions(ec2, dbId)).toEqual(
      startDb.map((r) => r.replace(groupId, replacementId)).sort(),
    );

    // Act: roll back from the ledger, as the CLI does
    const [entry] = await app.ledger.recent(5);
    expect(JSON.parse(entry?.before ?? '{}').migration.interfaces).toHaveLength(2);
    const rollback = await rollbackAsTheCli(app, entry?.changeId ?? '');

    // Assess: the exact starting state, and the replacement gone
    expect(rollback.kind).toBe('rolled-back');
    expect([...(await permissions(ec2, groupId)), ...(await permissions(ec2, dbId))]).toEqual(
      startRules,
    );
    expect(await groupLists(ec2, interfaceIds)).toEqual(startLists);
    const left = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: 'group-name', Values: [`${vpcId}-default-replacement`] }],
      }),
    );
    expect(left.SecurityGroups).toEqual([]);
  });
});
