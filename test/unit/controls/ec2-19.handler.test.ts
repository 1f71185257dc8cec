/**
 * EC2.19 end to end through the exported handler shape, with every AWS
 * client mocked strictly.
 */
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_19 } from '../../../lambdas/controls/ec2-19/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, EC2_2_FINDING, importedEvent, REGION, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const GROUP = 'sg-1234123f';
/** The sample finding, as the consolidated EC2.19 finding for the same group. */
const FINDING = withChanges(EC2_2_FINDING, {
  Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.19/finding/0e1a`,
  GeneratorId: 'security-control/EC2.19',
  'Compliance.SecurityControlId': 'EC2.19',
  'ProductFields.ControlId': undefined,
});

function setup(mode: 'remediate' | 'notify') {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const harness = controlHarness(ec2_19, { clients: { ec2: ec2Client }, settings: { mode } });
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }, true).resolves({
    SecurityGroups: [{ GroupId: GROUP, GroupName: 'web', VpcId: 'vpc-1', Tags: [] }],
  });
  ec2
    .on(
      DescribeSecurityGroupRulesCommand,
      { Filters: [{ Name: 'group-id', Values: [GROUP] }], MaxResults: 1000, NextToken: undefined },
      true,
    )
    .resolvesOnce({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-1',
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 3306,
          ToPort: 3306,
          CidrIpv4: '0.0.0.0/0',
        },
        {
          SecurityGroupRuleId: 'sgr-2',
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    })
    .resolvesOnce({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-2',
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    });
  harness.acceptDeliveries();
  return { ec2, ...harness };
}

describe('EC2.19 handler', () => {
  it('revokes the world-open MySQL rule, keeps HTTPS, notes the finding', async () => {
    // Prepare
    const t = setup('remediate');
    t.ec2
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: GROUP, SecurityGroupRuleIds: ['sgr-1'] },
        true,
      )
      .resolves({ Return: true });

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      {
        groupId: GROUP,
        vpcId: 'vpc-1',
        rules: [
          {
            ruleId: 'sgr-1',
            groupId: GROUP,
            egress: false,
            protocol: 'tcp',
            fromPort: 3306,
            toPort: 3306,
            cidrIpv4: '0.0.0.0/0',
          },
        ],
      },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]?.Message).toContain(
      'revoked inbound rule sgr-1: tcp 3306 from 0.0.0.0/0',
    );
  });

  it('in its default notify mode, changes nothing and lists what a fix would revoke', async () => {
    const t = setup('notify');

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('NOTIFIED');
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.published()[0]?.Message).toContain(
      'revoke inbound rule sgr-1: tcp 3306 from 0.0.0.0/0: it opens high-risk tcp port 3306',
    );
  });
});
