/**
 * EC2.2 end to end through the exported handler shape: middy, Powertools,
 * environment parsing, the pipeline and the real adapters, with every AWS
 * client mocked strictly.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { ConfigurationError } from '../../../lambdas/core/errors';
import { createControlHandler } from '../../../lambdas/core/handler';
import type { ChangeRecorder } from '../../../lambdas/core/pipeline';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import {
  ACCOUNT,
  EC2_2_FINDING,
  EC2_2_GROUP_ID,
  importedEvent,
  PLAN_ACTION_ARN,
  REGION,
  REMEDIATE_ACTION_ARN,
} from '../../support/fixtures';

const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`;
const settings = {
  controlId: 'EC2.2',
  mode: 'remediate',
  dryRun: false,
  notifyOnly: false,
  tags: {
    optOut: { key: 'hubfix:auto-remediate', values: ['false'] },
    suppress: { key: 'hubfix:suppress' },
  },
  allowList: [],
  params: { strategy: 'empty-if-unused' },
};
const env = {
  HUBFIX_SETTINGS: JSON.stringify(settings),
  HUBFIX_TOPIC_ARN: TOPIC,
  HUBFIX_REMEDIATE_ACTION_ARN: REMEDIATE_ACTION_ARN,
  HUBFIX_PLAN_ACTION_ARN: PLAN_ACTION_ARN,
  HUBFIX_ACCOUNT_ID: ACCOUNT,
  AWS_REGION: REGION,
};
const context = {
  functionName: 'hubfix-ec2-2',
  awsRequestId: 'request-1',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hubfix-ec2-2`,
  getRemainingTimeInMillis: () => 60_000,
} as Context;

const ec2 = strictMock(EC2Client);
const securityHub = strictMock(SecurityHubClient);
const sns = strictMock(SNSClient);
const recorded: unknown[] = [];
const recorder: ChangeRecorder = {
  async recordBefore(record) {
    recorded.push(record.before);
  },
  async recordResult() {},
};

function handler(overrideEnv: Record<string, string | undefined> = {}) {
  return createControlHandler(ec2_2, {
    env: { ...env, ...overrideEnv },
    clients: { ec2: new EC2Client({ region: REGION }) },
    securityHub: new SecurityHubClient({ region: REGION }),
    sns: new SNSClient({ region: REGION }),
    recorder,
    newChangeId: () => 'change-1',
  });
}

function givenUnusedDefaultGroupWithRules() {
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true).resolves({
    SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: 'default', VpcId: 'vpc-1', Tags: [] }],
  });
  ec2
    .on(DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'group-id', Values: [EC2_2_GROUP_ID] }],
      MaxResults: 1000,
    })
    .resolvesOnce({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-1',
          GroupId: EC2_2_GROUP_ID,
          IsEgress: false,
          IpProtocol: '-1',
          ReferencedGroupInfo: { GroupId: EC2_2_GROUP_ID },
        },
        {
          SecurityGroupRuleId: 'sgr-2',
          GroupId: EC2_2_GROUP_ID,
          IsEgress: true,
          IpProtocol: '-1',
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    })
    .resolves({ SecurityGroupRules: [] });
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  ec2
    .on(
      DescribeSecurityGroupsCommand,
      { Filters: [{ Name: 'ip-permission.group-id', Values: [EC2_2_GROUP_ID] }], MaxResults: 25 },
      true,
    )
    .resolves({ SecurityGroups: [] });
  ec2
    .on(
      DescribeSecurityGroupsCommand,
      {
        Filters: [{ Name: 'egress.ip-permission.group-id', Values: [EC2_2_GROUP_ID] }],
        MaxResults: 25,
      },
      true,
    )
    .resolves({ SecurityGroups: [] });
  ec2
    .on(DescribeSecurityGroupReferencesCommand, { GroupId: [EC2_2_GROUP_ID] }, true)
    .resolves({ SecurityGroupReferenceSet: [] });
}

beforeEach(() => {
  resetStrict(ec2);
  resetStrict(securityHub);
  resetStrict(sns);
  recorded.length = 0;
});

describe('EC2.2 handler', () => {
  it('empties an unused default group, resolves the finding and notifies', async () => {
    // Prepare
    givenUnusedDefaultGroupWithRules();
    ec2
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: EC2_2_GROUP_ID, SecurityGroupRuleIds: ['sgr-1'] },
        true,
      )
      .resolves({ Return: true });
    ec2
      .on(
        RevokeSecurityGroupEgressCommand,
        { GroupId: EC2_2_GROUP_ID, SecurityGroupRuleIds: ['sgr-2'] },
        true,
      )
      .resolves({ Return: true });
    securityHub
      .on(BatchUpdateFindingsCommand)
      .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    const result = await handler()(importedEvent([EC2_2_FINDING]), context);

    // Assess
    expect(result).toEqual({
      eventId: '11111111-2222-3333-4444-555555555555',
      status: 'processed',
      findings: [{ findingId: EC2_2_FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' }],
      rejected: 0,
      skipped: 0,
    });
    expect(recorded).toEqual([
      {
        groupId: EC2_2_GROUP_ID,
        vpcId: 'vpc-1',
        rules: [
          {
            ruleId: 'sgr-1',
            groupId: EC2_2_GROUP_ID,
            egress: false,
            protocol: '-1',
            referencedGroupId: EC2_2_GROUP_ID,
          },
          {
            ruleId: 'sgr-2',
            groupId: EC2_2_GROUP_ID,
            egress: true,
            protocol: '-1',
            cidrIpv4: '0.0.0.0/0',
          },
        ],
      },
    ]);
    expect(securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      FindingIdentifiers: [
        { Id: EC2_2_FINDING.Id as string, ProductArn: EC2_2_FINDING.ProductArn as string },
      ],
      Workflow: { Status: 'RESOLVED' },
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: `hubfix REMEDIATED EC2.2 ${EC2_2_GROUP_ID} (${ACCOUNT} ${REGION})`,
    });
  });

  it('notifies instead of emptying a default group that interfaces still use', async () => {
    givenUnusedDefaultGroupWithRules();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Description: 'web server' }],
    });
    securityHub.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    const result = await handler()(importedEvent([EC2_2_FINDING]), context);

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 0);
    expect(securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      Workflow: { Status: 'NOTIFIED' },
    });
  });

  it('makes no mutating call for a finding that names a non-default group', async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true).resolves({
      SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: 'payments-db', VpcId: 'vpc-1' }],
    });

    const result = await handler()(importedEvent([EC2_2_FINDING]), context);

    expect(result.findings[0]?.outcome).toBe('IGNORED');
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(securityHub.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('rejects a malformed event without calling AWS', async () => {
    const result = await handler()({ hello: 'world' }, context);

    expect(result.status).toBe('rejected');
    expect([...ec2.calls(), ...securityHub.calls(), ...sns.calls()]).toHaveLength(0);
  });

  it('surfaces an API failure in the finding and the notification', async () => {
    givenUnusedDefaultGroupWithRules();
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));
    securityHub.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    const result = await handler()(importedEvent([EC2_2_FINDING]), context);

    expect(result.findings[0]?.outcome).toBe('FAILED');
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.Message).toContain('UnauthorizedOperation: not allowed');
    expect(publish?.Message).toContain('State left behind:\n  unchanged: no rule was revoked');
    expect(publish?.MessageAttributes?.outcome?.StringValue).toBe('FAILED');
  });

  it('fails at cold start, naming the variable, when the environment is wrong', () => {
    expect(() => handler({ HUBFIX_TOPIC_ARN: 'not-an-arn' })).toThrow(ConfigurationError);
    expect(() => handler({ HUBFIX_TOPIC_ARN: 'not-an-arn' })).toThrow(
      'HUBFIX_TOPIC_ARN: expected an ARN',
    );
  });
});
