/**
 * EC2.8 end to end through the exported handler shape, with every AWS
 * client mocked strictly.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceMetadataOptionsCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_8 } from '../../../lambdas/controls/ec2-8/remediate';
import { strictMock } from '../../support/aws';
import { importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const FINDING = readJson('asr-ec2.8-finding.json');
const INSTANCE = 'i-077c4d5f32561ac45';
/** The harness's fake clock starts here. */
const NOW = new Date('2026-11-22T10:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

function setup() {
  const ec2Client = new EC2Client({ region: REGION });
  const cloudwatchClient = new CloudWatchClient({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const cloudwatch = strictMock(cloudwatchClient);
  const harness = controlHarness(ec2_8, {
    clients: { ec2: ec2Client, cloudwatch: cloudwatchClient },
  });
  return { ec2, cloudwatch, ...harness };
}

function givenInstance(
  t: ReturnType<typeof setup>,
  launched: Date,
  ...tokens: ('optional' | 'required')[]
) {
  const stub = t.ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true);
  for (const HttpTokens of tokens) {
    stub.resolvesOnce({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE,
              State: { Name: 'running' },
              LaunchTime: launched,
              MetadataOptions: { State: 'applied', HttpTokens, HttpEndpoint: 'enabled' },
              Tags: [],
            },
          ],
        },
      ],
    });
  }
}

describe('EC2.8 handler', () => {
  it('requires IMDSv2 on an instance that made no IMDSv1 call, notes the finding and records the before-state', async () => {
    // Prepare
    const t = setup();
    givenInstance(t, daysAgo(30), 'optional', 'required');
    t.cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'imdsv1', Values: new Array<number>(14).fill(0), StatusCode: 'Complete' },
      ],
    });
    t.ec2
      .on(
        ModifyInstanceMetadataOptionsCommand,
        { InstanceId: INSTANCE, HttpTokens: 'required' },
        true,
      )
      .resolves({ InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required' } });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      { instanceId: INSTANCE, httpTokens: 'optional' },
    ]);
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    // One read, one metric query, one change, one verifying read.
    expect(t.ec2.calls()).toHaveLength(3);
    expect(t.cloudwatch.calls()).toHaveLength(1);
  });

  it('holds back and notifies when the instance still serves IMDSv1 calls', async () => {
    const t = setup();
    givenInstance(t, daysAgo(30), 'optional');
    t.cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'imdsv1', Values: [4, ...new Array<number>(13).fill(0)], StatusCode: 'Complete' },
      ],
    });
    t.acceptDeliveries();

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.published()[0]?.Message).toContain('answered 4 IMDSv1 call(s) in the last 14 days');
  });

  it('holds back, for lack of evidence, on an instance started 3 days ago, and says so', async () => {
    // Prepare: CloudWatch would show no data before it started; it is not even asked.
    const t = setup();
    givenInstance(t, daysAgo(3), 'optional');
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(t.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
    expect(t.records).toEqual([]);
    expect(t.notes()[0]).toContain('not enough evidence: running for 3 of the 14 days');
    expect(t.published()[0]?.Message).toContain('Not met now: not enough evidence');
  });
});
