/**
 * EC2.18 end to end through the exported handler shape, with a consolidated
 * finding that carries the control's parameters, and every AWS client mocked
 * strictly.
 */
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type EC2ClientResolvedConfig,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import type { AwsStub } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ec2_18 } from '../../../lambdas/controls/ec2-18/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, EC2_2_FINDING, importedEvent, REGION, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const GROUP = 'sg-1234123f';
const FINDING = withChanges(EC2_2_FINDING, {
  Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.18/finding/7c2f`,
  GeneratorId: 'security-control/EC2.18',
  'Compliance.SecurityControlId': 'EC2.18',
  'Compliance.SecurityControlParameters': [
    { Name: 'authorizedTcpPorts', Value: ['443', '8080-8090'] },
  ],
  'ProductFields.ControlId': undefined,
});

function rule(id: string, from: number, to: number): SecurityGroupRule {
  return {
    SecurityGroupRuleId: id,
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: from,
    ToPort: to,
    CidrIpv4: '0.0.0.0/0',
  };
}

/** The group as EC2 describes it, and a stub for the listings of its rules. */
function givenGroup(ec2: AwsStub<ServiceInputTypes, ServiceOutputTypes, EC2ClientResolvedConfig>) {
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }, true).resolves({
    SecurityGroups: [{ GroupId: GROUP, GroupName: 'web', VpcId: 'vpc-1', Tags: [] }],
  });
  return ec2.on(
    DescribeSecurityGroupRulesCommand,
    { Filters: [{ Name: 'group-id', Values: [GROUP] }], MaxResults: 1000, NextToken: undefined },
    true,
  );
}

describe('EC2.18 handler', () => {
  it("revokes what the finding's parameters do not authorize, resolves the finding", async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    // The settings authorize 80 as well; the finding's parameters win.
    const t = controlHarness(ec2_18, {
      clients: { ec2: ec2Client },
      params: { authorizedTcpPorts: [80, 443], authorizedUdpPorts: [] },
    });
    givenGroup(ec2)
      .resolvesOnce({
        SecurityGroupRules: [
          rule('sgr-1', 443, 443),
          rule('sgr-2', 8085, 8085),
          rule('sgr-3', 80, 80),
        ],
      })
      .resolvesOnce({ SecurityGroupRules: [rule('sgr-1', 443, 443), rule('sgr-2', 8085, 8085)] });
    ec2
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: GROUP, SecurityGroupRuleIds: ['sgr-3'] },
        true,
      )
      .resolves({ Return: true });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    const message = t.published()[0]?.Message;
    expect(message).toContain('revoked inbound rule sgr-3: tcp 80 from 0.0.0.0/0');
    expect(message).toContain(
      `aws ec2 authorize-security-group-ingress --group-id ${GROUP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":80,"ToPort":80,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
    );
  });

  it('revokes a world-open SSH rule and keeps the world-open ICMP rule beside it', async () => {
    // Prepare: path-MTU discovery needs ICMP "fragmentation needed" from anywhere.
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_18, { clients: { ec2: ec2Client } });
    const icmp: SecurityGroupRule = {
      SecurityGroupRuleId: 'sgr-icmp',
      GroupId: GROUP,
      IsEgress: false,
      IpProtocol: 'icmp',
      FromPort: 3,
      ToPort: 4,
      CidrIpv4: '0.0.0.0/0',
    };
    givenGroup(ec2)
      .resolvesOnce({ SecurityGroupRules: [icmp, rule('sgr-ssh', 22, 22)] })
      .resolves({ SecurityGroupRules: [icmp] });
    ec2
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: GROUP, SecurityGroupRuleIds: ['sgr-ssh'] },
        true,
      )
      .resolves({ Return: true });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(
      importedEvent([withChanges(FINDING, { 'Compliance.SecurityControlParameters': undefined })]),
    );

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(t.records[0]?.before).toMatchObject({ rules: [{ ruleId: 'sgr-ssh' }] });
    expect(t.published()[0]?.Message).not.toContain('sgr-icmp');
  });
});
