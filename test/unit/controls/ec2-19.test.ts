import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_19Params } from '../../../lambdas/controls/ec2-19/meta';
import { type Ec2Clients, ec2_19, highRiskJudge } from '../../../lambdas/controls/ec2-19/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError } from '../../../lambdas/core/errors';
import {
  isOpenToInternet,
  type OpenIngressBefore,
  offences,
  type SecurityGroupState,
  trafficOf,
} from '../../../lambdas/services/ec2/open-ingress';
import type { SecurityGroupRuleRecord } from '../../../lambdas/services/ec2/security-group-rules';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';

const GROUP = 'sg-0a1b2c3d4e5f60718';
const VPC = 'vpc-0123456789abcdef0';
const ref = ec2Ref('AwsEc2SecurityGroup', 'security-group', GROUP);

/** A rule as DescribeSecurityGroupRules returns it. */
function sdkRule(id: number, rule: Partial<SecurityGroupRule>): SecurityGroupRule {
  return {
    SecurityGroupRuleId: `sgr-0000000000000000${id}`,
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: 'tcp',
    ...rule,
  };
}

const SSH_WORLD = sdkRule(1, { FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0' });
const HTTPS_WORLD = sdkRule(2, { FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0' });
const RDP_WORLD_V6 = sdkRule(3, {
  FromPort: 3389,
  ToPort: 3389,
  CidrIpv6: '::/0',
  Description: 'admin',
});
const SSH_FROM_GROUP = sdkRule(4, {
  FromPort: 22,
  ToPort: 22,
  ReferencedGroupInfo: { GroupId: 'sg-0fedcba9876543210', UserId: '111111111111' },
});
const ALL_OUT = sdkRule(5, { IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' });

const ec2Mock = strictMock(EC2Client);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2Clients, Ec2_19Params> = findingContext(clients, {});

function givenGroup(tags: { Key: string; Value: string }[] = []) {
  ec2Mock.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }, true).resolves({
    SecurityGroups: [{ GroupId: GROUP, GroupName: 'web', VpcId: VPC, Tags: tags }],
  });
}

/** Each listing of the group's rules answers with the next of `listings`, the last one from then on. */
function givenRules(...listings: SecurityGroupRule[][]) {
  const list = ec2Mock.on(
    DescribeSecurityGroupRulesCommand,
    { Filters: [{ Name: 'group-id', Values: [GROUP] }], MaxResults: 1000, NextToken: undefined },
    true,
  );
  for (const rules of listings) list.resolvesOnce({ SecurityGroupRules: rules });
  const last = listings.at(-1);
  if (last) list.resolves({ SecurityGroupRules: last });
}

async function readFound(): Promise<SecurityGroupState> {
  const read = await ec2_19.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: SecurityGroupState): ChangePlan<OpenIngressBefore> {
  const plan = ec2_19.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

/** A recorded rule, for the pure judgements. */
function record(rule: Partial<SecurityGroupRuleRecord>): SecurityGroupRuleRecord {
  return {
    ruleId: 'sgr-1',
    groupId: GROUP,
    egress: false,
    protocol: 'tcp',
    cidrIpv4: '0.0.0.0/0',
    ...rule,
  };
}

describe('EC2.19: which rules offend', () => {
  it.each<[string, Partial<SecurityGroupRuleRecord>, boolean]>([
    ['tcp 22 from 0.0.0.0/0', { fromPort: 22, toPort: 22 }, true],
    ['udp 5432 from 0.0.0.0/0', { protocol: 'udp', fromPort: 5432, toPort: 5432 }, true],
    ['protocol number 6 (tcp) 3389', { protocol: '6', fromPort: 3389, toPort: 3389 }, true],
    ['protocol number 17 (udp) 9300', { protocol: '17', fromPort: 9300, toPort: 9300 }, true],
    ['a range that includes 1433', { fromPort: 1000, toPort: 2000 }, true],
    ['a range that ends on 20', { fromPort: 10, toPort: 20 }, true],
    ['a range that starts on 9300', { fromPort: 9300, toPort: 9400 }, true],
    ['a range between high-risk ports', { fromPort: 8100, toPort: 8887 }, false],
    ['all traffic', { protocol: '-1', fromPort: -1, toPort: -1 }, true],
    ['tcp without ports (all tcp ports)', {}, true],
    ['tcp 443', { fromPort: 443, toPort: 443 }, false],
    ['tcp 22 from ::/0', { fromPort: 22, toPort: 22, cidrIpv4: undefined, cidrIpv6: '::/0' }, true],
    ['icmp, which has no ports', { protocol: 'icmp', fromPort: -1, toPort: -1 }, false],
    ['protocol number 1 (icmp), even typed 22', { protocol: '1', fromPort: 22, toPort: -1 }, false],
    ['icmpv6 (58)', { protocol: '58', fromPort: -1, toPort: -1 }, false],
    ['esp (50), which has no ports', { protocol: '50' }, false],
    ['ah (51), which has no ports', { protocol: '51' }, false],
    ['gre (47), which has no ports', { protocol: '47' }, false],
    ['tcp 22 from a narrower CIDR', { fromPort: 22, toPort: 22, cidrIpv4: '10.0.0.0/8' }, false],
    ['tcp 22 from 0.0.0.0/1', { fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/1' }, false],
    [
      'tcp 22 from another group',
      { fromPort: 22, toPort: 22, cidrIpv4: undefined, referencedGroupId: 'sg-1' },
      false,
    ],
    [
      'tcp 22 from a prefix list',
      { fromPort: 22, toPort: 22, cidrIpv4: undefined, prefixListId: 'pl-1' },
      false,
    ],
    ['outbound all traffic to 0.0.0.0/0', { egress: true, protocol: '-1' }, false],
    ['outbound tcp 22 to 0.0.0.0/0', { egress: true, fromPort: 22, toPort: 22 }, false],
  ])('%s → offending: %s', (_name, rule, offending) => {
    expect(offences([record(rule)], highRiskJudge).length > 0).toBe(offending);
  });

  it('names the high-risk ports a range opens', () => {
    expect(highRiskJudge({ kind: 'ports', protocol: 'tcp', range: { from: 1400, to: 3400 } })).toBe(
      'it opens high-risk tcp ports 1433, 1434, 3000, 3306, 3389',
    );
    expect(highRiskJudge({ kind: 'all' })).toBe('it lets in all traffic, high-risk ports included');
  });

  it('reads protocol numbers and missing ports the way EC2 means them', () => {
    expect(trafficOf(record({ protocol: '6', fromPort: 80, toPort: 80 }))).toEqual({
      kind: 'ports',
      protocol: 'tcp',
      range: { from: 80, to: 80 },
    });
    expect(trafficOf(record({ protocol: 'udp', fromPort: -1, toPort: -1 }))).toEqual({
      kind: 'ports',
      protocol: 'udp',
      range: { from: 0, to: 65535 },
    });
    expect(trafficOf(record({ protocol: 'icmpv6' }))).toEqual({
      kind: 'other',
      protocol: 'icmpv6',
    });
    expect(isOpenToInternet(record({ cidrIpv4: undefined, cidrIpv6: '::/0' }))).toBe(true);
  });
});

describe('EC2.19 readState and plan', () => {
  it('reads the group, its tags and every rule live', async () => {
    givenGroup([{ Key: 'team', Value: 'web' }]);
    givenRules([SSH_WORLD, ALL_OUT]);

    const read = await ec2_19.readState(ref, ctx);

    expect(read).toMatchObject({
      kind: 'found',
      tags: { team: 'web' },
      state: { groupId: GROUP, groupName: 'web', vpcId: VPC },
    });
    expect(read.kind === 'found' && read.state.rules.map((r) => r.ruleId)).toEqual([
      'sgr-00000000000000001',
      'sgr-00000000000000005',
    ]);
  });

  it('plans to revoke only the world-open high-risk rules, and how to put them back', async () => {
    // Prepare
    givenGroup();
    givenRules([SSH_WORLD, HTTPS_WORLD, RDP_WORLD_V6, SSH_FROM_GROUP, ALL_OUT]);

    // Act
    const plan = changePlan(await readFound());

    // Assess
    expect(plan.summary).toBe(
      `revoke 2 inbound rule(s) of ${GROUP} (web) of ${VPC} open to the internet on a high-risk port`,
    );
    expect(plan.steps).toEqual([
      'revoke inbound rule sgr-00000000000000001: tcp 22 from 0.0.0.0/0: it opens high-risk tcp port 22',
      'revoke inbound rule sgr-00000000000000003: tcp 3389 from ::/0 ("admin"): it opens high-risk tcp port 3389',
      `check that no inbound rule of ${GROUP} is open to the internet on a high-risk port; every other rule stays`,
    ]);
    expect(plan.before.rules.map((r) => r.ruleId)).toEqual([
      'sgr-00000000000000001',
      'sgr-00000000000000003',
    ]);
    expect(plan.undo).toEqual([
      `aws ec2 authorize-security-group-ingress --group-id ${GROUP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]},{"IpProtocol":"tcp","FromPort":3389,"ToPort":3389,"Ipv6Ranges":[{"CidrIpv6":"::/0","Description":"admin"}]}]'`,
    ]);
  });

  it('sees a group with no world-open high-risk rule as compliant', async () => {
    givenGroup();
    givenRules([HTTPS_WORLD, SSH_FROM_GROUP, ALL_OUT]);

    expect(ec2_19.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `no inbound rule of ${GROUP} (web) of ${VPC} is open to the internet on a high-risk port`,
    });
  });

  it('does not apply to a group that no longer exists', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(serviceError('InvalidGroup.NotFound'));

    expect(await ec2_19.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${GROUP} no longer exists`,
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    givenGroup();
    ec2Mock.on(DescribeSecurityGroupRulesCommand).rejects(serviceError('RequestLimitExceeded'));

    await expect(ec2_19.readState(ref, ctx)).rejects.toThrow('RequestLimitExceeded');
  });

  it('has no preflight blockers', async () => {
    givenGroup();
    givenRules([SSH_WORLD]);

    expect(await ec2_19.preflight(await readFound(), ctx)).toEqual([]);
  });
});

describe('EC2.19 apply, verify, rollback', () => {
  it('revokes the offending inbound rules by id, never outbound, and verifies', async () => {
    // Prepare
    givenGroup();
    givenRules(
      [SSH_WORLD, HTTPS_WORLD, RDP_WORLD_V6, ALL_OUT],
      [HTTPS_WORLD, ALL_OUT], // what verify sees
    );
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

    // Act
    const result = await ec2_19.apply(state, changePlan(state), ctx);
    const verdict = await ec2_19.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      'revoked inbound rule sgr-00000000000000001: tcp 22 from 0.0.0.0/0',
      'revoked inbound rule sgr-00000000000000003: tcp 3389 from ::/0 ("admin")',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 0);
    expect(verdict).toEqual({ ok: true });
  });

  it('reports the group unchanged when the revoke fails', async () => {
    givenGroup();
    givenRules([SSH_WORLD]);
    const state = await readFound();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(serviceError('UnauthorizedOperation'));

    const apply = ec2_19.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({ stateLeft: 'unchanged: no rule was revoked' });
  });

  it('fails verification while an offending rule remains after the whole backoff', async () => {
    givenGroup();
    givenRules([SSH_WORLD], [SSH_WORLD]);
    const state = await readFound();
    const { clock, sleeps } = fakeClock();

    expect(await ec2_19.verify(state, { ...ctx, clock })).toEqual({
      ok: false,
      reason: `1 inbound rule(s) of ${GROUP} are still open to the internet on a high-risk port: sgr-00000000000000001`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging listing no longer shows the revoked rule', async () => {
    givenGroup();
    givenRules([SSH_WORLD], [SSH_WORLD], [SSH_WORLD], [HTTPS_WORLD]);
    const state = await readFound();
    const { clock, sleeps } = fakeClock();

    expect(await ec2_19.verify(state, { ...ctx, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('rolls back by re-authorizing each revoked rule exactly', async () => {
    // Prepare
    givenGroup();
    givenRules([RDP_WORLD_V6], []);
    const before = changePlan(await readFound()).before;
    ec2Mock
      .on(
        AuthorizeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 3389,
              ToPort: 3389,
              Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'admin' }],
            },
          ],
        },
        true,
      )
      .resolves({ Return: true });

    // Act
    const lines = await ec2_19.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      'restored inbound rule sgr-00000000000000003: tcp 3389 from ::/0 ("admin")',
    ]);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ec2_19.before.parse({ groupId: GROUP, vpcId: VPC, rules: [] }, 'before').ok).toBe(true);
    expect(
      ec2_19.before.parse({ groupId: GROUP, vpcId: VPC, rules: [{ ruleId: 'x' }] }, 'before').ok,
    ).toBe(false);
    expect(ec2_19.before.parse({ groupId: GROUP, rules: [] }, 'before').ok).toBe(false);
  });
});
