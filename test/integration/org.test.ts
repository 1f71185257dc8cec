/**
 * Org mode end to end against moto with two accounts: the synthesized EC2.2
 * bundle, run as the central deployment (account 111111111111, us-east-1,
 * with the organization scope its template would give it), handles a member
 * account's aggregated finding by assuming the member role with STS (moto
 * acts as the role's account for credentials it issued for it), empties the
 * member's default group in the member's region, leaves the administrator's
 * own groups alone, and records the change with the member's account and
 * region. The reconciler's bundle, run with the same scope, sweeps the
 * member's failed findings through the administrator's Security Hub and
 * hands them to EC2.2's bundle, which fixes them the same way.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../lambdas/core/env';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { asMember, MEMBER, MEMBER_REGION, SCOPE } from '../support/organization';
import { RECONCILER_FUNCTION_ID } from './assembly';
import { deploy, registerFindings, resultOf } from './deployed';
import { againstMoto, motoAvailable } from './support';

const ORG_MODE = {
  settings: { mode: 'remediate', dryRun: false, params: { strategy: 'empty-if-unused' } },
  env: { [ENVIRONMENT.organization]: JSON.stringify(SCOPE) },
} as const;

type Options = Awaited<ReturnType<typeof deploy>>['options'];

/** EC2 in the member account and region, as the member role (the test plays the central function's part). */
async function memberEc2(options: Options): Promise<EC2Client> {
  const { Credentials: c } = await new STSClient(options).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${MEMBER}:role/hubfix-member-ec2-2`,
      RoleSessionName: 'integration-test',
    }),
  );
  const credentials = {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
  const who = await new STSClient({ ...options, credentials }).send(
    new GetCallerIdentityCommand({}),
  );
  // moto honours assumed-role credentials as the role's account: checked, not assumed.
  expect(who.Account).toBe(MEMBER);
  return new EC2Client({ ...options, region: MEMBER_REGION, credentials });
}

/** A new VPC's default group, with an inbound rule: what EC2.2 empties. */
async function defaultGroupWithRule(ec2: EC2Client): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
  const group = (
    await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.Vpc?.VpcId ?? ''] },
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
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  return groupId;
}

async function ruleCount(ec2: EC2Client, groupId: string): Promise<number> {
  const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
    .SecurityGroups?.[0];
  return (group?.IpPermissions?.length ?? 0) + (group?.IpPermissionsEgress?.length ?? 0);
}

describe.skipIf(!motoAvailable)(againstMoto('org mode, the deployed EC2.2 bundle'), () => {
  it("fixes a member account's group through its member role and records the member's account and region", async () => {
    // Prepare: a default group with rules in the member account, and one in the administrator's.
    const app = await deploy();
    const member = await memberEc2(app.options);
    const groupId = await defaultGroupWithRule(member);
    const administrator = new EC2Client({ ...app.options, region: MEMBER_REGION });
    const ownGroupId = await defaultGroupWithRule(administrator);
    const finding = withChanges(asMember(EC2_2_FINDING), {
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:${MEMBER_REGION}:${MEMBER}:security-group/${groupId}`,
          Region: MEMBER_REGION,
        },
      ],
    });
    registerFindings([finding]);
    const before = await ruleCount(member, groupId);

    // Act: the aggregated event reaches the administrator account in its own region.
    const run = await app.invoke('EC2.2', importedEvent([finding]), ORG_MODE);

    // Assess
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    expect(before).toBeGreaterThan(0);
    expect(await ruleCount(member, groupId)).toBe(0);
    expect(await ruleCount(administrator, ownGroupId)).toBeGreaterThan(0);
    const [entry, ...others] = await app.ledger.recent(5);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      status: 'REMEDIATED',
      controlId: 'EC2.2',
      account: MEMBER,
      region: MEMBER_REGION,
    });
    expect(app.findingUpdates).toEqual([
      expect.objectContaining({
        FindingIdentifiers: [{ Id: finding.Id, ProductArn: finding.ProductArn }],
      }),
    ]);
  });

  it('ignores a member finding in a region outside the scope, and touches nothing', async () => {
    const app = await deploy();
    const member = await memberEc2(app.options);
    const groupId = await defaultGroupWithRule(member);
    const finding = withChanges(asMember(EC2_2_FINDING, MEMBER, 'ap-southeast-2'), {
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:ap-southeast-2:${MEMBER}:security-group/${groupId}`,
          Region: 'ap-southeast-2',
        },
      ],
    });
    registerFindings([finding]);

    const run = await app.invoke('EC2.2', importedEvent([finding]), ORG_MODE);

    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'IGNORED' }] });
    expect(await ruleCount(member, groupId)).toBeGreaterThan(0);
    expect(await app.ledger.recent(5)).toEqual([]);
  });

  it("the reconciler's bundle sweeps a member account's finding, and EC2.2's fixes the member's group", async () => {
    // Prepare: a failed, never-handled finding of the member's default group in eu-west-1,
    // and one of the excluded account, which the sweep's query must leave out.
    const app = await deploy();
    const member = await memberEc2(app.options);
    const groupId = await defaultGroupWithRule(member);
    const finding = withChanges(asMember(EC2_2_FINDING), {
      Region: MEMBER_REGION,
      'Compliance.SecurityControlId': 'EC2.2',
      GeneratorId: 'security-control/EC2.2',
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:${MEMBER_REGION}:${MEMBER}:security-group/${groupId}`,
          Region: MEMBER_REGION,
        },
      ],
    });
    const excluded = withChanges(asMember(EC2_2_FINDING, '999999999999'), {
      Region: MEMBER_REGION,
    });
    registerFindings([finding, excluded]);
    app.lambdaInvocations.length = 0;

    // Act: the schedule starts a sweep; then Lambda delivers what it handed on.
    const sweep = await app.invoke(
      RECONCILER_FUNCTION_ID,
      { type: 'hubfix.reconcile', sweepId: '2026-11-30T06:00:00Z' },
      { env: ORG_MODE.env },
    );
    const handedOn = [...app.lambdaInvocations];
    const runs = [];
    for (const { payload } of handedOn) runs.push(await app.invoke('EC2.2', payload, ORG_MODE));

    // Assess
    expect(resultOf(sweep)).toMatchObject({ status: 'finished', findings: 1, handed: 1 });
    expect(handedOn).toEqual([
      {
        functionName: app.function('EC2.2').functionName,
        payload: expect.objectContaining({
          request: 'imported',
          origin: 'reconciler',
          findings: [{ format: 'asff', id: finding.Id, productArn: finding.ProductArn }],
        }),
      },
    ]);
    expect(runs.map((run) => resultOf(run))).toMatchObject([
      { findings: [{ findingId: finding.Id, outcome: 'REMEDIATED' }] },
    ]);
    expect(await ruleCount(member, groupId)).toBe(0);
    expect(await app.ledger.recent(5)).toMatchObject([
      { status: 'REMEDIATED', controlId: 'EC2.2', account: MEMBER, region: MEMBER_REGION },
    ]);
    const [query] = app.securityHub.queries;
    expect(query?.Filters).toMatchObject({
      AwsAccountId: [{ Value: '999999999999', Comparison: 'NOT_EQUALS' }],
      Region: [
        { Value: 'us-east-1', Comparison: 'EQUALS' },
        { Value: MEMBER_REGION, Comparison: 'EQUALS' },
      ],
    });
    const summary = (await app.published()).find((p) => p.attributes.outcome === 'SWEPT');
    expect(summary?.message).toContain(
      `Swept:     accounts every account Security Hub aggregates except 999999999999; regions us-east-1, ${MEMBER_REGION}`,
    );
  });
});
