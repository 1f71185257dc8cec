/**
 * EC2.6 in org mode through the exported handler: a member account's VPC
 * gets its flow log in the member account, with the member role's
 * credentials, delivered by the delivery role the StackSet made in that
 * account (never the central account's), into a log group hubfix makes
 * there first (CreateFlowLogs does not make one).
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateFlowLogsCommand,
  DescribeFlowLogsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { memberFlowLogDeliveryRole } from '../../../lambdas/controls/ec2-6/provision';
import { ec2_6 } from '../../../lambdas/controls/ec2-6/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';
import { asMember, MEMBER, MEMBER_REGION, SCOPE } from '../../support/organization';

const FINDING = asMember(readJson('asr-ec2.6-finding.json'));
const VPC = 'vpc-e5b8f483';
const GROUP = `/hubfix/vpc-flow-logs/${VPC}`;
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/hubfix-member-ec2-6`;
const DELIVERY_ROLE = `arn:aws:iam::${MEMBER}:role/hubfix-ec2-6-flow-logs`;
const EXPIRES = new Date('2099-01-01T00:00:00Z');

describe('EC2.6 in org mode', () => {
  it("creates the member's flow log with the delivery role of the member's own account", async () => {
    // Prepare: the function is told the name the StackSet gives the role, as the stack tells it.
    const ec2Client = new EC2Client({ region: REGION });
    const logsClient = new CloudWatchLogsClient({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const logs = strictMock(logsClient);
    const t = controlHarness(ec2_6, {
      clients: { ec2: ec2Client, logs: logsClient },
      organization: SCOPE,
      provisioned: memberFlowLogDeliveryRole(SCOPE).provisioned,
    });
    t.sts
      .on(
        AssumeRoleCommand,
        { RoleArn: MEMBER_ROLE, RoleSessionName: 'hubfix-EC2.6', DurationSeconds: 3600 },
        true,
      )
      .resolves({
        Credentials: {
          AccessKeyId: 'ASIAMEMBER',
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: EXPIRES,
        },
        AssumedRoleUser: { AssumedRoleId: 'AROAMEMBER:hubfix-EC2.6', Arn: `${MEMBER_ROLE}/x` },
      });
    ec2.on(DescribeVpcsCommand, { VpcIds: [VPC] }, true).resolves({ Vpcs: [{ VpcId: VPC }] });
    ec2
      .on(DescribeFlowLogsCommand)
      .resolvesOnce({ FlowLogs: [] })
      .resolvesOnce({
        FlowLogs: [
          {
            FlowLogId: 'fl-1',
            FlowLogStatus: 'ACTIVE',
            TrafficType: 'REJECT',
            LogGroupName: GROUP,
          },
        ],
      });
    logs.on(CreateLogGroupCommand, { logGroupName: GROUP }, true).resolves({});
    logs
      .on(PutRetentionPolicyCommand, { logGroupName: GROUP, retentionInDays: 365 }, true)
      .resolves({});
    ec2
      .on(
        CreateFlowLogsCommand,
        {
          ResourceIds: [VPC],
          ResourceType: 'VPC',
          TrafficType: 'REJECT',
          LogDestinationType: 'cloud-watch-logs',
          LogGroupName: GROUP,
          DeliverLogsPermissionArn: DELIVERY_ROLE,
        },
        true,
      )
      .resolves({ FlowLogIds: ['fl-1'] });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess: everything happened in the member's account and region, nothing in the central one.
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.memberClients).toHaveLength(1);
    expect(t.memberClients[0]?.region).toBe(MEMBER_REGION);
    expect(ec2.commandCalls(CreateFlowLogsCommand)).toHaveLength(1);
    expect(JSON.stringify(ec2.calls().map((c) => c.args[0].input))).not.toContain(ACCOUNT);
    expect(t.records).toEqual([
      expect.objectContaining({
        account: MEMBER,
        region: MEMBER_REGION,
        resource: `arn:aws:ec2:${MEMBER_REGION}:${MEMBER}:vpc/${VPC}`,
      }),
    ]);
  });
});
