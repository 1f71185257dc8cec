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
import { type Ec2_18Params, ec2_18Params } from '../../../lambdas/controls/ec2-18/meta';
import {
  authorizedJudge,
  authorizedPorts,
  type Ec2Clients,
  ec2_18,
} from '../../../lambdas/controls/ec2-18/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError } from '../../../lambdas/core/errors';
import {
  type OpenIngressBefore,
  offences,
  type SecurityGroupState,
} from '../../../lambdas/services/ec2/open-ingress';
import {
  firstUncovered,
  type PortRange,
  parsePortSpec,
  portSpecSchema,
} from '../../../lambdas/services/ec2/ports';
import type { SecurityGroupRuleRecord } from '../../../lambdas/services/ec2/security-group-rules';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import {
  ec2Ref,
  fakeClock,
  findingContext,
  rollbackContext,
  typedFinding,
} from '../../support/control';

const GROUP = 'sg-0a1b2c3d4e5f60718';
const VPC = 'vpc-0123456789abcdef0';
const ref = ec2Ref('AwsEc2SecurityGroup', 'security-group', GROUP);
const DEFAULTS: Ec2_18Params = { authorizedTcpPorts: [80, 443], authorizedUdpPorts: [] };

/** A finding carrying the control's parameters, as consolidated findings do. */
function findingWith(parameters: Record<string, string[]>) {
  return {
    Id: 'finding-18',
    ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    GeneratorId: 'security-control/EC2.18',
    AwsAccountId: '111111111111',
    UpdatedAt: '2026-11-22T10:00:00Z',
    Resources: [],
    Compliance: {
      Status: 'FAILED',
      SecurityControlId: 'EC2.18',
      SecurityControlParameters: Object.entries(parameters).map(([Name, Value]) => ({
        Name,
        Value,
      })),
    },
  };
}

function sdkRule(id: number, rule: Partial<SecurityGroupRule>): SecurityGroupRule {
  return {
    SecurityGroupRuleId: `sgr-0000000000000000${id}`,
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: 'tcp',
    ...rule,
  };
}

const HTTPS_WORLD = sdkRule(1, { FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0' });
const APP_WORLD = sdkRule(2, { FromPort: 8000, ToPort: 8000, CidrIpv6: '::/0' });
const PING_WORLD = sdkRule(3, {
  IpProtocol: 'icmp',
  FromPort: -1,
  ToPort: -1,
  CidrIpv4: '0.0.0.0/0',
});
const SSH_OFFICE = sdkRule(4, { FromPort: 22, ToPort: 22, CidrIpv4: '203.0.113.0/24' });
const ALL_OUT = sdkRule(5, { IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' });
const ALL_WORLD = sdkRule(6, { IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' });

const ec2Mock = strictMock(EC2Client);
const clients: Ec2Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2Clients, Ec2_18Params> = findingContext(clients, DEFAULTS);

function givenGroup() {
  ec2Mock.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }, true).resolves({
    SecurityGroups: [{ GroupId: GROUP, GroupName: 'app', VpcId: VPC, Tags: [] }],
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
  const read = await ec2_18.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(
  state: SecurityGroupState,
  context: FindingContext<Ec2Clients, Ec2_18Params> = ctx,
): ChangePlan<OpenIngressBefore> {
  const plan = ec2_18.plan(state, context);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

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

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('port specs', () => {
  it.each<[string | number, PortRange | undefined]>([
    [443, { from: 443, to: 443 }],
    ['443', { from: 443, to: 443 }],
    [' 1024 - 2048 ', { from: 1024, to: 2048 }],
    ['0', { from: 0, to: 0 }],
    ['65535', { from: 65535, to: 65535 }],
    ['65536', undefined],
    ['2048-1024', undefined],
    ['80,443', undefined],
    ['http', undefined],
    ['', undefined],
    [-1, undefined],
    [80.5, undefined],
  ])('%j → %j', (spec, range) => {
    expect(parsePortSpec(spec)).toEqual(range);
  });

  it.each<[PortRange, PortRange[], number | undefined]>([
    [
      { from: 443, to: 443 },
      [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
      ],
      undefined,
    ],
    [{ from: 22, to: 22 }, [{ from: 80, to: 80 }], 22],
    [
      { from: 80, to: 443 },
      [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
      ],
      81,
    ],
    [
      { from: 1000, to: 3000 },
      [
        { from: 2001, to: 3000 },
        { from: 1000, to: 2000 },
      ],
      undefined,
    ],
    [
      { from: 1000, to: 3000 },
      [
        { from: 1000, to: 2000 },
        { from: 2002, to: 3000 },
      ],
      2001,
    ],
    [{ from: 0, to: 65535 }, [{ from: 1, to: 65535 }], 0],
    [{ from: 5, to: 5 }, [], 5],
  ])('in %j, outside %j: first uncovered %s', (range, allowed, first) => {
    expect(firstUncovered(range, allowed)).toBe(first);
  });

  it('accepts ports and ranges in the config, keeping them as written', () => {
    expect(portSpecSchema.parse('1024-2048', 'p')).toEqual({ ok: true, value: '1024-2048' });
    expect(portSpecSchema.parse(70000, 'p').ok).toBe(false);
    expect(ec2_18Params.parse({}, 'EC2.18')).toEqual({ ok: true, value: DEFAULTS });
    expect(ec2_18Params.parse({ authorizedTcpPorts: [443, '8000-8080'] }, 'EC2.18')).toEqual({
      ok: true,
      value: { authorizedTcpPorts: [443, '8000-8080'], authorizedUdpPorts: [] },
    });
    expect(ec2_18Params.parse({ authorizedUdpPorts: ['dns'] }, 'EC2.18')).toEqual({
      ok: false,
      issues: [
        {
          path: 'EC2.18.authorizedUdpPorts[0]',
          message: 'expected a port number (0-65535) or a range such as "1024-2048", got "dns"',
        },
      ],
    });
  });
});

describe('EC2.18: where the authorized ports come from', () => {
  it("uses the finding's parameters when present, ranges and lists included", () => {
    const ports = authorizedPorts(
      typedFinding(findingWith({ authorizedTcpPorts: ['22', '1024-2048,443'] })),
      DEFAULTS,
    );

    expect(ports).toEqual({
      tcp: {
        ranges: [
          { from: 22, to: 22 },
          { from: 1024, to: 2048 },
          { from: 443, to: 443 },
        ],
        source: 'the finding',
      },
      udp: { ranges: [], source: 'hubfix settings' },
      unreadable: [],
    });
  });

  it('falls back to the settings per protocol, then to their defaults (80, 443)', () => {
    const settings = authorizedPorts(typedFinding(findingWith({ authorizedUdpPorts: ['53'] })), {
      authorizedTcpPorts: ['8443'],
      authorizedUdpPorts: [],
    });
    const defaults = authorizedPorts(ctx.finding, DEFAULTS);

    expect(settings.tcp).toEqual({ ranges: [{ from: 8443, to: 8443 }], source: 'hubfix settings' });
    expect(settings.udp).toEqual({ ranges: [{ from: 53, to: 53 }], source: 'the finding' });
    expect(defaults.tcp.ranges).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
    ]);
  });

  it('takes an empty parameter in the finding as "none authorized"', () => {
    const ports = authorizedPorts(typedFinding(findingWith({ authorizedTcpPorts: [] })), DEFAULTS);

    expect(ports.tcp).toEqual({ ranges: [], source: 'the finding' });
  });

  it('collects values that name no port', () => {
    const ports = authorizedPorts(
      typedFinding(findingWith({ authorizedTcpPorts: ['443', 'https'] })),
      DEFAULTS,
    );

    expect(ports.unreadable).toEqual(['authorizedTcpPorts "https"']);
    expect(ports.tcp.ranges).toEqual([{ from: 443, to: 443 }]);
  });
});

describe('EC2.18: which rules offend', () => {
  const judge = authorizedJudge(authorizedPorts(ctx.finding, DEFAULTS));
  const withRange = authorizedJudge(
    authorizedPorts(
      typedFinding(findingWith({ authorizedTcpPorts: ['1024-2048'], authorizedUdpPorts: ['53'] })),
      DEFAULTS,
    ),
  );

  it.each<[string, Partial<SecurityGroupRuleRecord>, boolean]>([
    ['tcp 443 (authorized)', { fromPort: 443, toPort: 443 }, false],
    [
      'tcp 80 from ::/0 (authorized)',
      { fromPort: 80, toPort: 80, cidrIpv4: undefined, cidrIpv6: '::/0' },
      false,
    ],
    ['tcp 22', { fromPort: 22, toPort: 22 }, true],
    ['tcp 80-443 (covers 81..442)', { fromPort: 80, toPort: 443 }, true],
    ['udp 443 (no UDP authorized)', { protocol: 'udp', fromPort: 443, toPort: 443 }, true],
    ['all traffic', { protocol: '-1' }, true],
    ['icmp', { protocol: 'icmp', fromPort: -1, toPort: -1 }, false],
    ['tcp without ports', {}, true],
    ['tcp 22 from a narrower CIDR', { fromPort: 22, toPort: 22, cidrIpv4: '10.0.0.0/16' }, false],
    [
      'tcp 22 from another group',
      { fromPort: 22, toPort: 22, cidrIpv4: undefined, referencedGroupId: 'sg-2' },
      false,
    ],
    [
      'tcp 22 from a prefix list',
      { fromPort: 22, toPort: 22, cidrIpv4: undefined, prefixListId: 'pl-2' },
      false,
    ],
    ['outbound tcp 22', { egress: true, fromPort: 22, toPort: 22 }, false],
  ])('with the defaults: %s → offending: %s', (_name, rule, offending) => {
    expect(offences([record(rule)], judge).length > 0).toBe(offending);
  });

  it.each<[string, Partial<SecurityGroupRuleRecord>, boolean]>([
    ['tcp 1500 (inside 1024-2048)', { fromPort: 1500, toPort: 1500 }, false],
    ['tcp 1024-2048 (exactly the range)', { fromPort: 1024, toPort: 2048 }, false],
    ['tcp 1000-1500 (starts below the range)', { fromPort: 1000, toPort: 1500 }, true],
    ['tcp 443 (the finding replaces the defaults)', { fromPort: 443, toPort: 443 }, true],
    ['udp 53', { protocol: 'udp', fromPort: 53, toPort: 53 }, false],
    ['protocol 17 (udp) 53', { protocol: '17', fromPort: 53, toPort: 53 }, false],
  ])('with the finding\'s "1024-2048" and UDP 53: %s → offending: %s', (_name, rule, offending) => {
    expect(offences([record(rule)], withRange).length > 0).toBe(offending);
  });

  // EC2 names tcp, udp, icmp and icmpv6, and numbers every other protocol
  // (and any of these when the rule was made with a number).
  it.each<[string, string, number | undefined, boolean]>([
    ['tcp', 'tcp', 22, true],
    ['6 (tcp)', '6', 22, true],
    ['udp', 'udp', 500, true],
    ['17 (udp)', '17', 500, true],
    ['-1 (all traffic)', '-1', undefined, true],
    ['icmp (path-MTU discovery)', 'icmp', 3, false],
    ['1 (icmp)', '1', -1, false],
    ['icmpv6', 'icmpv6', -1, false],
    ['58 (icmpv6)', '58', -1, false],
    ['50 (ESP, IPsec)', '50', undefined, false],
    ['51 (AH, IPsec)', '51', undefined, false],
    ['47 (GRE)', '47', undefined, false],
    ['132 (SCTP)', '132', undefined, false],
  ])('a world-open %s rule offends: %s', (_name, protocol, port, offending) => {
    const ports = port === undefined ? {} : { fromPort: port, toPort: port };
    expect(offences([record({ protocol, ...ports })], judge).length > 0).toBe(offending);
  });

  it('says which port is not authorized and where the list came from', () => {
    expect(judge({ kind: 'ports', protocol: 'tcp', range: { from: 80, to: 443 } })).toBe(
      'tcp port 81 is not authorized (authorized TCP ports, from hubfix settings: 80, 443)',
    );
    expect(judge({ kind: 'all' })).toBe(
      'it lets in all traffic, and only authorized TCP and UDP ports may be open',
    );
  });
});

describe('EC2.18 readState, plan and preflight', () => {
  it('plans to revoke only the world-open rules on unauthorized ports, keeping ICMP', async () => {
    // Prepare
    givenGroup();
    givenRules([HTTPS_WORLD, APP_WORLD, PING_WORLD, SSH_OFFICE, ALL_OUT, ALL_WORLD]);

    // Act
    const plan = changePlan(await readFound());

    // Assess
    expect(plan.summary).toBe(
      `revoke 2 inbound rule(s) of ${GROUP} (app) of ${VPC} open to the internet on a port that is not authorized`,
    );
    expect(plan.steps).toEqual([
      'revoke inbound rule sgr-00000000000000002: tcp 8000 from ::/0: tcp port 8000 is not authorized (authorized TCP ports, from hubfix settings: 80, 443)',
      'revoke inbound rule sgr-00000000000000006: all traffic from 0.0.0.0/0: it lets in all traffic, and only authorized TCP and UDP ports may be open',
      `check that no inbound rule of ${GROUP} is open to the internet on a port that is not authorized; every other rule stays`,
    ]);
    expect(plan.before.rules.map((r) => r.ruleId)).toEqual([
      'sgr-00000000000000002',
      'sgr-00000000000000006',
    ]);
    expect(plan.undo).toHaveLength(1);
  });

  it('reads every page of the rules: an empty page with a token says nothing', async () => {
    // Prepare: EC2 filters after cutting a page, so the first page may be empty.
    givenGroup();
    const filters = [{ Name: 'group-id', Values: [GROUP] }];
    ec2Mock
      .on(
        DescribeSecurityGroupRulesCommand,
        { Filters: filters, MaxResults: 1000, NextToken: undefined },
        true,
      )
      .resolves({ SecurityGroupRules: [], NextToken: 'page-2' });
    ec2Mock
      .on(
        DescribeSecurityGroupRulesCommand,
        { Filters: filters, MaxResults: 1000, NextToken: 'page-2' },
        true,
      )
      .resolves({ SecurityGroupRules: [APP_WORLD] });

    // Act
    const plan = changePlan(await readFound());

    // Assess
    expect(plan.before.rules.map((r) => r.ruleId)).toEqual(['sgr-00000000000000002']);
  });

  it("judges by the finding's parameters when it carries them", async () => {
    givenGroup();
    givenRules([HTTPS_WORLD, APP_WORLD]);
    const state = await readFound();
    const fromFinding = findingContext(clients, DEFAULTS, {
      finding: findingWith({ authorizedTcpPorts: ['8000'] }),
    });

    const plan = changePlan(state, fromFinding);

    expect(plan.before.rules.map((r) => r.ruleId)).toEqual(['sgr-00000000000000001']);
    expect(plan.steps[0]).toContain('from the finding: 8000');
  });

  it('sees a group whose world-open rules are all authorized as compliant', async () => {
    givenGroup();
    givenRules([HTTPS_WORLD, SSH_OFFICE, ALL_OUT]);

    expect(ec2_18.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `no inbound rule of ${GROUP} (app) of ${VPC} is open to the internet on a port that is not authorized`,
    });
  });

  it('does not apply to a group that no longer exists', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    expect(await ec2_18.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${GROUP} no longer exists`,
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_18.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });

  it('has no blockers when the parameters are readable', async () => {
    givenGroup();
    givenRules([APP_WORLD]);

    expect(await ec2_18.preflight(await readFound(), ctx)).toEqual([]);
  });

  it('blocks, rather than guess, when a parameter of the finding names no port', async () => {
    // Prepare
    givenGroup();
    givenRules([APP_WORLD]);
    const state = await readFound();
    const unreadable = findingContext(clients, DEFAULTS, {
      finding: findingWith({ authorizedTcpPorts: ['443', 'https'] }),
    });

    // Act
    const blockers = await ec2_18.preflight(state, unreadable);

    // Assess
    expect(blockers).toEqual([
      'the finding\'s EC2.18 parameters hold authorizedTcpPorts "https", which name no port or port range; hubfix will not guess which ports are authorized. Correct the control\'s parameters in Security Hub.',
    ]);
  });
});

describe('EC2.18 apply, verify, rollback', () => {
  it('revokes the offending inbound rules by id and verifies none is left', async () => {
    // Prepare
    givenGroup();
    givenRules([HTTPS_WORLD, APP_WORLD, PING_WORLD, ALL_OUT], [HTTPS_WORLD, PING_WORLD, ALL_OUT]);
    const state = await readFound();
    ec2Mock
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: GROUP, SecurityGroupRuleIds: ['sgr-00000000000000002'] },
        true,
      )
      .resolves({ Return: true });

    // Act
    const result = await ec2_18.apply(state, changePlan(state), ctx);
    const verdict = await ec2_18.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      'revoked inbound rule sgr-00000000000000002: tcp 8000 from ::/0',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 0);
    expect(verdict).toEqual({ ok: true });
  });

  it('verifies through eventual consistency: a listing that still shows the rule is retried', async () => {
    // Prepare: the first listing after the revoke still shows it, the next does not.
    givenGroup();
    givenRules([APP_WORLD], [APP_WORLD], [HTTPS_WORLD]);
    const state = await readFound();
    const { clock, sleeps } = fakeClock();

    // Act
    const verdict = await ec2_18.verify(state, { ...ctx, clock });

    // Assess
    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('treats a revoke EC2 did not confirm as a failure that changed nothing', async () => {
    givenGroup();
    givenRules([APP_WORLD]);
    const state = await readFound();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: false });

    const apply = ec2_18.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({ stateLeft: 'unchanged: no rule was revoked' });
  });

  it('fails verification while an offending rule remains after the whole backoff', async () => {
    givenGroup();
    givenRules([APP_WORLD], [APP_WORLD, HTTPS_WORLD]);
    const state = await readFound();
    const { clock, sleeps } = fakeClock();

    expect(await ec2_18.verify(state, { ...ctx, clock })).toEqual({
      ok: false,
      reason: `1 inbound rule(s) of ${GROUP} are still open to the internet on a port that is not authorized: sgr-00000000000000002`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('rolls back a change that stopped part-way by authorizing only the rules that are gone', async () => {
    // Prepare: the world-open all-traffic rule is still there
    givenGroup();
    givenRules([APP_WORLD, ALL_WORLD], [ALL_WORLD]);
    const before = changePlan(await readFound()).before;
    ec2Mock
      .on(
        AuthorizeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
          ],
        },
        true,
      )
      .resolves({ Return: true });

    // Act
    const lines = await ec2_18.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      'restored inbound rule sgr-00000000000000002: tcp 8000 from ::/0',
      'already present: inbound rule sgr-00000000000000006: all traffic from 0.0.0.0/0',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
  });

  it('rolls back by re-authorizing each revoked rule, skipping one put back meanwhile', async () => {
    // Prepare: both gone when read; one is back by the time it is authorized
    givenGroup();
    givenRules([APP_WORLD, ALL_WORLD], []);
    const before = changePlan(await readFound()).before;
    ec2Mock
      .on(
        AuthorizeSecurityGroupIngressCommand,
        {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
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
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        },
        true,
      )
      .rejects(serviceError('InvalidPermission.Duplicate'));

    // Act
    const lines = await ec2_18.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      'restored inbound rule sgr-00000000000000002: tcp 8000 from ::/0',
      'already present: inbound rule sgr-00000000000000006: all traffic from 0.0.0.0/0',
    ]);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ec2_18.before.parse({ groupId: GROUP, vpcId: VPC, rules: [] }, 'before').ok).toBe(true);
    expect(ec2_18.before.parse({ groupId: GROUP, vpcId: VPC, rules: 'all' }, 'before').ok).toBe(
      false,
    );
  });
});
