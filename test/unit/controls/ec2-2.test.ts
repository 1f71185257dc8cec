import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
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
import { ec2Ref, findingContext, rollbackContext } from '../../support/control';

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

const ec2Mock = strictMock(EC2Client);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2Clients, Ec2_2Params> = findingContext(clients, {
  strategy: 'empty-if-unused',
});

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
  ec2Mock
    .on(
      DescribeNetworkInterfacesCommand,
      { Filters: [{ Name: 'group-id', Values: [GROUP] }], MaxResults: 25 },
      true,
    )
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
    ec2Mock
      .on(
        DescribeSecurityGroupsCommand,
        { Filters: [{ Name: filter, Values: [GROUP] }], MaxResults: 25 },
        true,
      )
      .resolves({
        SecurityGroups: [
          // The default group references itself; that must not count.
          { GroupId: GROUP, GroupName: 'default' },
          ...ids.map((id) => ({ GroupId: id, GroupName: `app-${id}` })),
        ],
      });
  }
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
      `security groups in peered VPC(s) vpc-peer via pcx-1 reference ${GROUP}.`,
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
    givenRules([]);

    expect(await ec2_2.verify({ groupId: GROUP, vpcId: VPC, rules: [] }, ctx)).toEqual({
      ok: true,
    });
  });

  it('reports the rules that are still there', async () => {
    givenRules([OPEN_EGRESS]);

    expect(await ec2_2.verify({ groupId: GROUP, vpcId: VPC, rules: [] }, ctx)).toEqual({
      ok: false,
      reason: `1 rule(s) remain on ${GROUP}: sgr-00000000000000002`,
    });
  });

  it('rolls back by re-authorizing each recorded rule exactly, skipping ones already back', async () => {
    // Prepare
    givenGroup('default');
    givenRules([SELF_INGRESS, OPEN_EGRESS, SSH_INGRESS]);
    const before = changePlan(await readFound()).before;
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
