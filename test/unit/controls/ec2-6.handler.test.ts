/**
 * EC2.6 end to end through the exported handler shape, with the delivery
 * role the stack provisions and every AWS client mocked strictly.
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
import { describe, expect, it } from 'vitest';
import { ec2_6 } from '../../../lambdas/controls/ec2-6/remediate';
import { strictMock } from '../../support/aws';
import { importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const FINDING = readJson('asr-ec2.6-finding.json');
const VPC = 'vpc-e5b8f483';
const GROUP = `/hubfix/vpc-flow-logs/${VPC}`;
const ROLE = 'arn:aws:iam::111111111111:role/Hubfix-FlowLogsDeliveryRole';

describe('EC2.6 handler', () => {
  it('creates the log group and a flow log with the provisioned role, and resolves the finding', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const logsClient = new CloudWatchLogsClient({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const logs = strictMock(logsClient);
    const t = controlHarness(ec2_6, {
      clients: { ec2: ec2Client, logs: logsClient },
      provisioned: { deliveryRoleArn: ROLE },
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
          DeliverLogsPermissionArn: ROLE,
        },
        true,
      )
      .resolves({ FlowLogIds: ['fl-1'] });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      {
        vpcId: VPC,
        logGroupName: GROUP,
        trafficType: 'REJECT',
        retentionDays: 365,
        existingFlowLogIds: [],
      },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]?.Message).toContain(`created flow log fl-1 for ${VPC}`);
    expect(ec2.calls()).toHaveLength(4);
    expect(logs.calls()).toHaveLength(2);
  });
});
