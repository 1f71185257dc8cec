import { DescribeLaunchConfigurationsCommand } from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  ListClustersCommand,
  ListServicesCommand,
} from '@aws-sdk/client-ecs';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_2Params } from '../../../lambdas/controls/ec2-2/meta';
import {
  type DefaultGroupState,
  type Ec2_2Before,
  type Ec2Clients,
  ec2_2,
} from '../../../lambdas/controls/ec2-2/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';
import { ec2_2Clients, noOtherUsers } from '../../support/ec2-2';

const GROUP = 'sg-0a1b2c3d4e5f60718';
const VPC = 'vpc-0123456789abcdef0';
const ref = ec2Ref('AwsEc2SecurityGroup', 'security-group', GROUP);

const SELF_INGRESS: SecurityGroupRule = {
  SecurityGroupRuleId: 'sgr-00000000000000001',
  GroupId: GROUP,
  GroupOwnerId: '111111111111',
  IsEgress: false,
  IpProtocol: '-1',
  FromPort: -1,
  ToPort: -1,
  ReferencedGroupInfo: { GroupId: GROUP, UserId: '111111111111' },
};
const OPEN_EGRESS: SecurityGroupRule = {
  SecurityGroupRuleId: 'sgr-00000000000000002',
  GroupId: GROUP,
  IsEgress: true,
  IpProtocol: '-1',
  FromPort: -1,
  ToPort: -1,
  CidrIpv4: '0.0.0.0/0',
};
const SSH_INGRESS: SecurityGroupRule = {
  SecurityGroupRuleId: 'sgr-00000000000000003',
  GroupId: GROUP,
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  CidrIpv6: '::/0',
  Description: 'temporary ssh',
};

const ec2Client = new EC2Client({ region: 'us-east-1' });
const ec2Mock = strictMock(ec2Client);
const others = ec2_2Clients(ec2Client);
const clients: Ec2Clients = others.clients;
const params: Ec2_2Params = { strategy: 'empty-if-unused', migrate: { maxInterfaces: 25 } };
const ctx: FindingContext<Ec2Clients, Ec2_2Params> = findingContext(clients, params);

function givenGroup(name: string, tags: { Key: string; Value: string }[] = []) {
  ec2Mock
    .on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }, true)
    .resolves({ SecurityGroups: [{ GroupId: GROUP, GroupName: name, VpcId: VPC, Tags: tags }] });
}

function givenRules(...pages: SecurityGroupRule[][]) {
  pages.forEach((rules, index) => {
    ec2Mock
      .on(
        DescribeSecurityGroupRulesCommand,
        {
          Filters: [{ Name: 'group-id', Values: [GROUP] }],
          MaxResults: 1000,
          NextToken: index === 0 ? undefined : `page-${index}`,
        },
        true,
      )
      .resolvesOnce({
        SecurityGroupRules: rules,
        NextToken: index < pages.length - 1 ? `page-${index + 1}` : undefined,
      });
  });
}

function givenUsage(
  options: {
    enis?: string[];
    ingressRefs?: string[];
    egressRefs?: string[];
    peers?: string[];
  } = {},
) {
  // As EC2 answers a filtered describe: an empty first page that still has a token.
  const eniInput = {
    Filters: [{ Name: 'group-id', Values: [GROUP] }],
    MaxResults: 1000,
    IncludeManagedResources: true,
  };
  ec2Mock
    .on(DescribeNetworkInterfacesCommand, { ...eniInput, NextToken: undefined }, true)
    .resolves({ NetworkInterfaces: [], NextToken: 'page-2' });
  ec2Mock
    .on(DescribeNetworkInterfacesCommand, { ...eniInput, NextToken: 'page-2' }, true)
    .resolves({
      NetworkInterfaces: (options.enis ?? []).map((id) => ({
        NetworkInterfaceId: id,
        Description: `ENI ${id}`,
      })),
    });
  for (const [filter, ids] of [
    ['ip-permission.group-id', options.ingressRefs ?? []],
    ['egress.ip-permission.group-id', options.egressRefs ?? []],
  ] as const) {
    const input = { Filters: [{ Name: filter, Values: [GROUP] }], MaxResults: 1000 };
    ec2Mock
      .on(DescribeSecurityGroupsCommand, { ...input, NextToken: undefined }, true)
      .resolves({ SecurityGroups: [], NextToken: 'page-2' });
    ec2Mock.on(DescribeSecurityGroupsCommand, { ...input, NextToken: 'page-2' }, true).resolves({
      SecurityGroups: [
        // The default group references itself; that must not count.
        { GroupId: GROUP, GroupName: 'default' },
        ...ids.map((id) => ({ GroupId: id, GroupName: `app-${id}` })),
      ],
    });
  }
  noOtherUsers(ec2Mock, others);
  ec2Mock.on(DescribeSecurityGroupReferencesCommand, { GroupId: [GROUP] }, true).resolves({
    SecurityGroupReferenceSet: (options.peers ?? []).map((vpc) => ({
      GroupId: GROUP,
      ReferencingVpcId: vpc,
      VpcPeeringConnectionId: 'pcx-1',
    })),
  });
}

async function readFound(): Promise<DefaultGroupState> {
  const read = await ec2_2.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: DefaultGroupState): ChangePlan<Ec2_2Before> {
  const plan = ec2_2.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
  resetStrict(others.lambda);
  resetStrict(others.ecs);
  resetStrict(others.autoScaling);
});

describe('EC2.2 readState', () => {
  it('reads the default group, its tags and every rule across pages', async () => {
    // Prepare
    givenGroup('default', [{ Key: 'environment', Value: 'dev' }]);
    givenRules([SELF_INGRESS], [OPEN_EGRESS]);

    // Act
    const read = await ec2_2.readState(ref, ctx);

    // Assess
    expect(read).toEqual({
      kind: 'found',
      tags: { environment: 'dev' },
      state: {
        groupId: GROUP,
        vpcId: VPC,
        rules: [
          {
            ruleId: 'sgr-00000000000000001',
            groupId: GROUP,
            egress: false,
            protocol: '-1',
            fromPort: -1,
            toPort: -1,
            referencedGroupId: GROUP,
            referencedUserId: '111111111111',
          },
          {
            ruleId: 'sgr-00000000000000002',
            groupId: GROUP,
            egress: true,
            protocol: '-1',
            fromPort: -1,
            toPort: -1,
            cidrIpv4: '0.0.0.0/0',
          },
        ],
      },
    });
  });

  it('does not apply to a group that is not named "default", whatever the finding says', async () => {
    givenGroup('web-servers');

    const read = await ec2_2.readState(ref, ctx);

    expect(read).toEqual({
      kind: 'not-applicable',
      reason: expect.stringContaining('"web-servers", not a VPC\'s default security group'),
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 0);
  });

  it('does not apply to a group that no longer exists', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(serviceError('InvalidGroup.NotFound'));

    expect(await ec2_2.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${GROUP} no longer exists`,
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_2.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('EC2.2 plan', () => {
  it('lists every rule it would revoke, and how to put them back', async () => {
    givenGroup('default');
    givenRules([SELF_INGRESS, OPEN_EGRESS, SSH_INGRESS]);

    const plan = changePlan(await readFound());

    expect(plan.summary).toBe(
      `revoke all 3 rules (2 inbound, 1 outbound) of the default security group ${GROUP} of ${VPC}`,
    );
    expect(plan.steps).toEqual([
      `revoke inbound rule sgr-00000000000000001: all traffic from ${GROUP} (account 111111111111)`,
      'revoke outbound rule sgr-00000000000000002: all traffic to 0.0.0.0/0',
      'revoke inbound rule sgr-00000000000000003: tcp 22 from ::/0 ("temporary ssh")',
      `check that ${GROUP} has no rules left`,
    ]);
    expect(plan.undo).toEqual([
      `aws ec2 authorize-security-group-ingress --group-id ${GROUP} --ip-permissions '[{"IpProtocol":"-1","UserIdGroupPairs":[{"GroupId":"${GROUP}","UserId":"111111111111"}]},{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"Ipv6Ranges":[{"CidrIpv6":"::/0","Description":"temporary ssh"}]}]'`,
      `aws ec2 authorize-security-group-egress --group-id ${GROUP} --ip-permissions '[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
    ]);
    expect(plan.before.rules).toHaveLength(3);
  });

  it('sees an already empty group as compliant', async () => {
    givenGroup('default');
    givenRules([]);

    expect(ec2_2.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `the default security group ${GROUP} of ${VPC} has no rules`,
    });
  });
});

describe('EC2.2 preflight', () => {
  const state: DefaultGroupState = { groupId: GROUP, vpcId: VPC, rules: [] };

  it('finds nothing in the way of an unused group', async () => {
    givenUsage();

    expect(await ec2_2.preflight(state, ctx)).toEqual([]);
  });

  it('blocks and explains when network interfaces use the group', async () => {
    givenUsage({ enis: ['eni-1', 'eni-2', 'eni-3', 'eni-4', 'eni-5', 'eni-6', 'eni-7'] });

    const [blocker, ...rest] = await ec2_2.preflight(state, ctx);

    expect(rest).toEqual([]);
    expect(blocker).toContain(`${GROUP} is attached to 7 network interface(s): eni-1 (ENI eni-1)`);
    expect(blocker).toContain('and 2 more');
    expect(blocker).toContain('Move them to a group of their own first');
  });

  it('blocks when other groups reference it, inbound or outbound, but not for its self-reference', async () => {
    givenUsage({ ingressRefs: ['sg-aaaaaaaa'], egressRefs: ['sg-bbbbbbbb'] });

    const blockers = await ec2_2.preflight(state, ctx);

    expect(blockers).toEqual([
      `the rules of sg-aaaaaaaa (app-sg-aaaaaaaa), sg-bbbbbbbb (app-sg-bbbbbbbb) reference ${GROUP}. Point them at a replacement group first.`,
    ]);
  });

  it('blocks when groups in peered VPCs reference it', async () => {
    givenUsage({ peers: ['vpc-peer'] });

    expect(await ec2_2.preflight(state, ctx)).toEqual([
      `security groups in peered VPC(s) vpc-peer via pcx-1 reference ${GROUP}. Point them at another group first.`,
    ]);
  });

  it('fails rather than guess when a check cannot run', async () => {
    givenUsage();
    ec2Mock.on(DescribeNetworkInterfacesCommand).rejects(serviceError('RequestLimitExceeded'));

    await expect(ec2_2.preflight(state, ctx)).rejects.toThrow('RequestLimitExceeded');
  });
});

describe('EC2.2 apply, verify, rollback', () => {
  it('revokes inbound and outbound rules by id', async () => {
    // Prepare
    givenGroup('default');
    givenRules([SELF_INGRESS, OPEN_EGRESS, SSH_INGRESS]);
    const state = await readFound();
    ec2Mock
      .on(
        RevokeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          SecurityGroupRuleIds: ['sgr-00000000000000001', 'sgr-00000000000000003'],
        },
        true,
      )
      .resolves({ Return: true });
    ec2Mock
      .on(
        RevokeSecurityGroupEgressCommand,
        { GroupId: GROUP, SecurityGroupRuleIds: ['sgr-00000000000000002'] },
        true,
      )
      .resolves({ Return: true });

    // Act
    const result = await ec2_2.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes).toHaveLength(3);
    expect(result.changes[0]).toBe(
      `revoked inbound rule sgr-00000000000000001: all traffic from ${GROUP} (account 111111111111)`,
    );
  });

  it('says what is left when outbound revocation fails after inbound succeeded', async () => {
    givenGroup('default');
    givenRules([SELF_INGRESS, OPEN_EGRESS]);
    const state = await readFound();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    ec2Mock.on(RevokeSecurityGroupEgressCommand).rejects(serviceError('UnauthorizedOperation'));

    const apply = ec2_2.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      stateLeft: 'the 1 inbound rule(s) were revoked; the outbound rules are still in place',
      // Recorded, so a rollback may give back the inbound rule, and only it.
      changes: [
        `revoked inbound rule sgr-00000000000000001: all traffic from ${GROUP} (account 111111111111)`,
      ],
    });
  });

  it('treats a revoke EC2 did not confirm as a failure', async () => {
    givenGroup('default');
    givenRules([SELF_INGRESS]);
    const state = await readFound();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: false });

    await expect(ec2_2.apply(state, changePlan(state), ctx)).rejects.toMatchObject({
      stateLeft: 'unchanged: no rule was revoked',
    });
  });

  it('verifies that no rule is left', async () => {
    givenRules([], []);

    expect(await ec2_2.verify({ groupId: GROUP, vpcId: VPC, rules: [] }, ctx)).toEqual({
      ok: true,
    });
  });

  it('reports the rules that are still there once its backoff is spent', async () => {
    // Prepare
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [OPEN_EGRESS] });
    const { clock, sleeps } = fakeClock();

    // Act
    const verdict = await ec2_2.verify(
      { groupId: GROUP, vpcId: VPC, rules: [] },
      { ...ctx, clock },
    );

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: `1 rule(s) remain on ${GROUP}: sgr-00000000000000002`,
    });
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
  });

  it('waits for EC2 to show the revoke: a first read that still has the rule is not a failure', async () => {
    ec2Mock
      .on(DescribeSecurityGroupRulesCommand)
      .resolvesOnce({ SecurityGroupRules: [OPEN_EGRESS] })
      .resolves({ SecurityGroupRules: [] });
    const { clock, sleeps } = fakeClock();

    const verdict = await ec2_2.verify(
      { groupId: GROUP, vpcId: VPC, rules: [] },
      { ...ctx, clock },
    );

    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([1000]);
  });

  it('rolls back by re-authorizing each recorded rule exactly, skipping ones already back', async () => {
    // Prepare
    givenGroup('default');
    givenRules([SELF_INGRESS, OPEN_EGRESS, SSH_INGRESS]);
    const before = changePlan(await readFound()).before;
    // All three gone when the rollback reads the group.
    ec2Mock
      .on(
        DescribeSecurityGroupRulesCommand,
        {
          Filters: [{ Name: 'group-id', Values: [GROUP] }],
          MaxResults: 1000,
          NextToken: undefined,
        },
        true,
      )
      .resolves({ SecurityGroupRules: [] });
    ec2Mock
      .on(
        AuthorizeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: GROUP, UserId: '111111111111' }] },
          ],
        },
        true,
      )
      .resolves({ Return: true });
    ec2Mock
      .on(
        AuthorizeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 22,
              ToPort: 22,
              Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'temporary ssh' }],
            },
          ],
        },
        true,
      )
      .resolves({ Return: true });
    ec2Mock
      .on(
        AuthorizeSecurityGroupEgressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        },
        true,
      )
      .rejects(serviceError('InvalidPermission.Duplicate'));

    // Act
    const restored = await ec2_2.rollback(before, rollbackContext(clients));

    // Assess
    expect(restored).toEqual([
      `restored inbound rule sgr-00000000000000001: all traffic from ${GROUP} (account 111111111111)`,
      'already present: outbound rule sgr-00000000000000002: all traffic to 0.0.0.0/0',
      'restored inbound rule sgr-00000000000000003: tcp 22 from ::/0 ("temporary ssh")',
    ]);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(
      ec2_2.before.parse({ groupId: GROUP, vpcId: VPC, rules: [{ ruleId: 'x' }] }, 'before').ok,
    ).toBe(false);
    expect(ec2_2.before.parse({ groupId: GROUP, vpcId: VPC, rules: [] }, 'before').ok).toBe(true);
  });
});

describe('EC2.2 preflight: users without an interface right now', () => {
  const state: DefaultGroupState = { groupId: GROUP, vpcId: VPC, rules: [] };

  /** Everything answers "nothing uses it", except what a test prepares after this. */
  function givenOnly(prepare: () => void) {
    givenUsage();
    prepare();
  }

  it('reads every filtered describe to the end: an item on page two blocks, for each call site', async () => {
    // Prepare: each call site answers an empty first page with a token, then a page with a user.
    givenOnly(() => {
      others.lambda
        .on(ListFunctionsCommand, { FunctionVersion: 'ALL', MaxItems: 50, Marker: undefined }, true)
        .resolves({ Functions: [], NextMarker: 'm-2' });
      others.lambda
        .on(ListFunctionsCommand, { FunctionVersion: 'ALL', MaxItems: 50, Marker: 'm-2' }, true)
        .resolves({
          Functions: [{ FunctionName: 'orders', VpcConfig: { SecurityGroupIds: [GROUP] } }],
        });
      const versions = {
        Versions: ['$Latest', '$Default'],
        MaxResults: 200,
        IncludeManagedResources: true,
      };
      ec2Mock
        .on(DescribeLaunchTemplateVersionsCommand, { ...versions, NextToken: undefined }, true)
        .resolves({ LaunchTemplateVersions: [], NextToken: 't-2' });
      ec2Mock
        .on(DescribeLaunchTemplateVersionsCommand, { ...versions, NextToken: 't-2' }, true)
        .resolves({
          LaunchTemplateVersions: [
            {
              LaunchTemplateId: 'lt-0a',
              LaunchTemplateName: 'web',
              VersionNumber: 3,
              DefaultVersion: true,
              LaunchTemplateData: { SecurityGroupIds: [GROUP] },
            },
          ],
        });
      others.autoScaling
        .on(DescribeLaunchConfigurationsCommand, { MaxRecords: 100, NextToken: undefined }, true)
        .resolves({ LaunchConfigurations: [], NextToken: 'c-2' });
      others.autoScaling
        .on(DescribeLaunchConfigurationsCommand, { MaxRecords: 100, NextToken: 'c-2' }, true)
        .resolves({
          LaunchConfigurations: [
            {
              LaunchConfigurationName: 'legacy-workers',
              SecurityGroups: [GROUP],
              ImageId: 'ami-1',
              InstanceType: 't3.micro',
              CreatedTime: new Date(),
            },
          ],
        });
      others.ecs
        .on(ListClustersCommand, { maxResults: 100, nextToken: undefined }, true)
        .resolves({ clusterArns: [], nextToken: 'k-2' });
      others.ecs
        .on(ListClustersCommand, { maxResults: 100, nextToken: 'k-2' }, true)
        .resolves({ clusterArns: ['arn:aws:ecs:us-east-1:111111111111:cluster/prod'] });
      const cluster = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
      others.ecs
        .on(ListServicesCommand, { cluster, maxResults: 100, nextToken: undefined }, true)
        .resolves({ serviceArns: [], nextToken: 's-2' });
      others.ecs
        .on(ListServicesCommand, { cluster, maxResults: 100, nextToken: 's-2' }, true)
        .resolves({ serviceArns: ['arn:aws:ecs:us-east-1:111111111111:service/prod/api'] });
      others.ecs
        .on(
          DescribeServicesCommand,
          { cluster, services: ['arn:aws:ecs:us-east-1:111111111111:service/prod/api'] },
          true,
        )
        .resolves({
          services: [
            {
              serviceArn: 'arn:aws:ecs:us-east-1:111111111111:service/prod/api',
              status: 'ACTIVE',
              desiredCount: 0,
              networkConfiguration: {
                awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [GROUP] },
              },
            },
          ],
        });
    });

    // Act
    const blockers = await ec2_2.preflight(state, ctx);

    // Assess: each user is named.
    expect(blockers).toEqual([
      `1 Lambda function version(s) name ${GROUP}: orders. Lambda makes their network interfaces only while they run; change their VPC configuration to another group first.`,
      `1 launch template version(s) name ${GROUP}: lt-0a (web) version 3 (default). hubfix does not change launch templates: create a version that names another group (the replacement, with migrate) and make it the default, then delete or replace the old default and latest versions.`,
      `1 Auto Scaling launch configuration(s) name ${GROUP}: legacy-workers. Launch configurations cannot be changed: move their Auto Scaling groups to a launch template or configuration with another group first.`,
      `1 ECS service(s) name ${GROUP}: prod/api. A service scaled to 0 still starts its tasks in it: update the services to another group first.`,
    ]);
  });

  it('names Lambda versions apart from $LATEST, and says "and N more" past five', async () => {
    givenOnly(() => {
      others.lambda.on(ListFunctionsCommand).resolves({
        Functions: [
          ...['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({
            FunctionName: name,
            Version: '$LATEST',
            VpcConfig: { SecurityGroupIds: ['sg-other', GROUP] },
          })),
          { FunctionName: 'a', Version: '7', VpcConfig: { SecurityGroupIds: [GROUP] } },
          { FunctionName: 'g', Version: '$LATEST', VpcConfig: { SecurityGroupIds: ['sg-other'] } },
        ],
      });
    });

    const [blocker] = await ec2_2.preflight(state, ctx);

    expect(blocker).toMatch(
      new RegExp(`^7 Lambda function version\\(s\\) name ${GROUP}: a, b, c, d, e and 2 more\\.`),
    );
  });

  it('judges launch templates by id in either place, by the name "default" only in the default VPC, and by naming none', async () => {
    // Prepare
    givenOnly(() => {
      ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-nic',
            LaunchTemplateName: 'nic',
            VersionNumber: 2,
            LaunchTemplateData: { NetworkInterfaces: [{ DeviceIndex: 0, Groups: [GROUP] }] },
          },
          // $Latest and $Default are the same version: named once.
          {
            LaunchTemplateId: 'lt-named',
            LaunchTemplateName: 'named',
            VersionNumber: 1,
            DefaultVersion: true,
            LaunchTemplateData: { SecurityGroups: ['default'] },
          },
          {
            LaunchTemplateId: 'lt-named',
            LaunchTemplateName: 'named',
            VersionNumber: 1,
            DefaultVersion: true,
            LaunchTemplateData: { SecurityGroups: ['default'] },
          },
          {
            LaunchTemplateId: 'lt-bare',
            LaunchTemplateName: 'bare',
            VersionNumber: 4,
            LaunchTemplateData: { InstanceType: 't3.micro' },
          },
          {
            LaunchTemplateId: 'lt-other',
            LaunchTemplateName: 'other',
            VersionNumber: 1,
            LaunchTemplateData: { SecurityGroupIds: ['sg-other'] },
          },
        ],
      });
      ec2Mock
        .on(DescribeVpcsCommand, { VpcIds: [VPC] }, true)
        .resolves({ Vpcs: [{ VpcId: VPC, IsDefault: true }] });
    });

    // Act
    const blockers = await ec2_2.preflight(state, ctx);

    // Assess
    expect(blockers).toEqual([
      expect.stringMatching(
        new RegExp(
          `^1 launch template version\\(s\\) name ${GROUP}: lt-nic \\(nic\\) version 2\\.`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^1 launch template version\\(s\\) name the group "default" by name, which in the default VPC ${VPC} is ${GROUP}: lt-named \\(named\\) version 1 \\(default\\)\\.`,
        ),
      ),
      `1 launch template version(s) name no security group, so what they start gets the default group of its VPC, possibly ${GROUP}: lt-bare (bare) version 4. Give them a security group of their own.`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcsCommand, 1);
  });

  it('does not count the name "default" outside the default VPC', async () => {
    givenOnly(() => {
      ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-named',
            LaunchTemplateName: 'named',
            VersionNumber: 1,
            LaunchTemplateData: { SecurityGroups: ['default'] },
          },
        ],
      });
      others.autoScaling.on(DescribeLaunchConfigurationsCommand).resolves({
        LaunchConfigurations: [
          {
            LaunchConfigurationName: 'classic',
            SecurityGroups: ['default'],
            ImageId: 'ami-1',
            InstanceType: 't3.micro',
            CreatedTime: new Date(),
          },
        ],
      });
      ec2Mock
        .on(DescribeVpcsCommand, { VpcIds: [VPC] }, true)
        .resolves({ Vpcs: [{ VpcId: VPC, IsDefault: false }] });
    });

    expect(await ec2_2.preflight(state, ctx)).toEqual([]);
    // Asked once, however many templates and configurations name "default".
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcsCommand, 1);
  });

  it('counts a launch configuration that names no group as a possible user', async () => {
    givenOnly(() => {
      others.autoScaling.on(DescribeLaunchConfigurationsCommand).resolves({
        LaunchConfigurations: [
          {
            LaunchConfigurationName: 'bare',
            SecurityGroups: [],
            ImageId: 'ami-1',
            InstanceType: 't3.micro',
            CreatedTime: new Date(),
          },
        ],
      });
    });

    expect(await ec2_2.preflight(state, ctx)).toEqual([
      `1 Auto Scaling launch configuration(s) name no security group, so what they start gets the default group of its VPC, possibly ${GROUP}: bare. Give them a security group of their own.`,
    ]);
  });

  it('describes ECS services ten at a time, and judges deployments and task sets too', async () => {
    // Prepare: 12 services in one cluster.
    const cluster = 'arn:aws:ecs:us-east-1:111111111111:cluster/batch';
    const arns = Array.from(
      { length: 12 },
      (_, i) => `arn:aws:ecs:us-east-1:111111111111:service/batch/svc-${i}`,
    );
    givenOnly(() => {
      others.ecs.on(ListClustersCommand).resolves({ clusterArns: [cluster] });
      others.ecs.on(ListServicesCommand).resolves({ serviceArns: arns });
      const service = (arn: string, extra: object) => ({
        serviceArn: arn,
        status: 'ACTIVE',
        networkConfiguration: {
          awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-other'] },
        },
        ...extra,
      });
      others.ecs
        .on(DescribeServicesCommand, { cluster, services: arns.slice(0, 10) }, true)
        .resolves({
          services: [
            // A deployment still rolling out with the default group.
            service(arns[0] ?? '', {
              deployments: [
                {
                  networkConfiguration: {
                    awsvpcConfiguration: { subnets: ['s'], securityGroups: [GROUP] },
                  },
                },
              ],
            }),
            // A task set without any group: ECS gives its tasks the VPC's default group.
            service(arns[1] ?? '', {
              taskSets: [{ networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } } }],
            }),
            // A deleted service that DescribeServices still shows for a while.
            service(arns[2] ?? '', {
              status: 'INACTIVE',
              networkConfiguration: {
                awsvpcConfiguration: { subnets: ['s'], securityGroups: [GROUP] },
              },
            }),
            ...arns.slice(3, 10).map((arn) => service(arn, {})),
          ],
        });
      others.ecs
        .on(DescribeServicesCommand, { cluster, services: arns.slice(10) }, true)
        .resolves({ services: arns.slice(10).map((arn) => service(arn, {})) });
    });

    // Act
    const blockers = await ec2_2.preflight(state, ctx);

    // Assess
    expect(blockers).toEqual([
      expect.stringContaining(`1 ECS service(s) name ${GROUP}: batch/svc-0.`),
      expect.stringContaining(
        '1 ECS service(s) name no security group, so what they start gets the default group of its VPC',
      ),
    ]);
    expect(others.ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
  });
});
