import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateFlowLogsCommand,
  type CreateFlowLogsCommandInput,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type FlowLog,
} from '@aws-sdk/client-ec2';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_6Params } from '../../../lambdas/controls/ec2-6/meta';
import { provisionFlowLogDeliveryRole } from '../../../lambdas/controls/ec2-6/provision';
import {
  type Ec2_6Before,
  type Ec2_6Clients,
  ec2_6,
  type VpcFlowLogState,
} from '../../../lambdas/controls/ec2-6/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { ConfigurationError, PartialChangeError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';

const ACCOUNT = '111111111111';
const VPC = 'vpc-e5b8f483';
const GROUP = `/hubfix/vpc-flow-logs/${VPC}`;
const ROLE = 'arn:aws:iam::111111111111:role/Hubfix-FlowLogsDeliveryRole';
const ref = ec2Ref('AwsEc2Vpc', 'vpc', VPC);

const ec2Mock = strictMock(EC2Client);
const logsMock = strictMock(CloudWatchLogsClient);
const clients: Ec2_6Clients = {
  ec2: new EC2Client({ region: 'us-east-1' }),
  logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
};
const params: Ec2_6Params = { logRetentionDays: 365, trafficType: 'REJECT' };
const ctx: FindingContext<Ec2_6Clients, Ec2_6Params> = findingContext(clients, params, {
  provisioned: { deliveryRoleArn: ROLE },
});
const EMPTY: VpcFlowLogState = { vpcId: VPC, account: ACCOUNT, partition: 'aws', flowLogs: [] };

const CREATE_FLOW_LOGS: CreateFlowLogsCommandInput = {
  ResourceIds: [VPC],
  ResourceType: 'VPC',
  TrafficType: 'REJECT',
  LogDestinationType: 'cloud-watch-logs',
  LogGroupName: GROUP,
  DeliverLogsPermissionArn: ROLE,
};

function givenVpc(tags: { Key: string; Value: string }[] = []) {
  ec2Mock
    .on(DescribeVpcsCommand, { VpcIds: [VPC] }, true)
    .resolves({ Vpcs: [{ VpcId: VPC, Tags: tags }] });
}

/** Each argument is what one DescribeFlowLogs call by VPC answers; the last one from then on. */
function givenFlowLogs(...answers: FlowLog[][]) {
  const stub = ec2Mock.on(
    DescribeFlowLogsCommand,
    { Filter: [{ Name: 'resource-id', Values: [VPC] }], NextToken: undefined },
    true,
  );
  for (const flowLogs of answers) stub.resolvesOnce({ FlowLogs: flowLogs });
  const last = answers.at(-1);
  if (last) stub.resolves({ FlowLogs: last });
}

function flowLog(
  id: string,
  trafficType: 'ALL' | 'ACCEPT' | 'REJECT',
  extra: Partial<FlowLog> = {},
) {
  return { FlowLogId: id, FlowLogStatus: 'ACTIVE', TrafficType: trafficType, ...extra };
}

function givenLogGroupCreated() {
  logsMock.on(CreateLogGroupCommand, { logGroupName: GROUP }, true).resolves({});
  logsMock
    .on(PutRetentionPolicyCommand, { logGroupName: GROUP, retentionInDays: 365 }, true)
    .resolves({});
}

function changePlan(state: VpcFlowLogState, context = ctx): ChangePlan<Ec2_6Before> {
  const plan = ec2_6.plan(state, context);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
  resetStrict(logsMock);
});

describe('EC2.6 happy path', () => {
  it('reads the VPC and its flow logs, creates the log group and a REJECT flow log with exact inputs, and verifies', async () => {
    // Prepare
    givenVpc([{ Key: 'team', Value: 'net' }]);
    givenFlowLogs([], [flowLog('fl-0123456789abcdef0', 'REJECT', { LogGroupName: GROUP })]);
    givenLogGroupCreated();
    ec2Mock
      .on(CreateFlowLogsCommand, CREATE_FLOW_LOGS, true)
      .resolves({ FlowLogIds: ['fl-0123456789abcdef0'], Unsuccessful: [] });

    // Act
    const read = await ec2_6.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = changePlan(read.state);
    const blockers = await ec2_6.preflight(read.state, ctx);
    const applied = await ec2_6.apply(read.state, plan, ctx);
    const verdict = await ec2_6.verify(read.state, ctx);

    // Assess
    expect(read.tags).toEqual({ team: 'net' });
    expect(plan.summary).toBe(
      `turn on flow logs (REJECT) for ${VPC} into CloudWatch Logs group ${GROUP}`,
    );
    expect(plan.steps[1]).toContain(`delivered by the role hubfix made for it (${ROLE})`);
    expect(plan.before).toEqual({
      vpcId: VPC,
      logGroupName: GROUP,
      trafficType: 'REJECT',
      retentionDays: 365,
      existingFlowLogIds: [],
    });
    expect(blockers).toEqual([]);
    expect(applied.changes).toEqual([
      `created log group ${GROUP}`,
      `set the retention of ${GROUP} to 365 days`,
      `created flow log fl-0123456789abcdef0 for ${VPC} (REJECT traffic into ${GROUP})`,
    ]);
    expect(verdict).toEqual({ ok: true });
  });
});

describe('EC2.6 readState and plan', () => {
  it('sees an existing active flow log of any destination as compliant', async () => {
    givenVpc();
    givenFlowLogs([flowLog('fl-1', 'ALL', { LogDestination: 'arn:aws:s3:::central-flow-logs' })]);

    const read = await ec2_6.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');

    expect(ec2_6.plan(read.state, ctx)).toEqual({
      kind: 'compliant',
      summary: `${VPC} already has flow log fl-1 (ACTIVE, ALL traffic to arn:aws:s3:::central-flow-logs)`,
    });
  });

  it('does not count an ACCEPT-only flow log, which records no rejected traffic, and leaves it alone', () => {
    const plan = changePlan({
      ...EMPTY,
      flowLogs: [
        { flowLogId: 'fl-2', status: 'ACTIVE', trafficType: 'ACCEPT', destination: 'other' },
      ],
    });

    expect(plan.steps).toContain(
      "leave the VPC's other flow logs as they are: fl-2 (ACTIVE, ACCEPT traffic to other)",
    );
    expect(plan.before.existingFlowLogIds).toEqual(['fl-2']);
  });

  it('does not apply to a VPC that no longer exists', async () => {
    ec2Mock.on(DescribeVpcsCommand).rejects(serviceError('InvalidVpcID.NotFound'));

    expect(await ec2_6.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${VPC} no longer exists`,
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    givenVpc();
    ec2Mock.on(DescribeFlowLogsCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_6.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('EC2.6 preflight', () => {
  it('blocks when the stack did not provision the delivery role', async () => {
    const bare = findingContext(clients, params);

    expect(await ec2_6.preflight(EMPTY, bare)).toEqual([
      'the stack did not provision the flow-log delivery role (HUBFIX_PROVISIONED has neither deliveryRoleArn nor deliveryRoleName); deploy hubfix again so the EC2.6 function gets it',
    ]);
  });

  it('refuses to apply without the role even if preflight was skipped', async () => {
    const bare = findingContext(clients, params);

    await expect(ec2_6.apply(EMPTY, changePlan(EMPTY, bare), bare)).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    expect(logsMock.calls()).toHaveLength(0);
  });
});

describe('EC2.6 apply', () => {
  it("in org mode, names the delivery role in the VPC's own account, told only its name", async () => {
    // Prepare: a member account's VPC, and the function's environment as the central stack sets it.
    const member = { ...EMPTY, account: '222222222222', partition: 'aws-us-gov' };
    const central = findingContext(clients, params, {
      provisioned: { deliveryRoleName: 'hubfix-ec2-6-flow-logs' },
    });
    const memberRole = 'arn:aws-us-gov:iam::222222222222:role/hubfix-ec2-6-flow-logs';
    givenLogGroupCreated();
    ec2Mock
      .on(
        CreateFlowLogsCommand,
        { ...CREATE_FLOW_LOGS, DeliverLogsPermissionArn: memberRole },
        true,
      )
      .resolves({ FlowLogIds: ['fl-1'] });

    // Act
    const plan = changePlan(member, central);
    const blockers = await ec2_6.preflight(member, central);
    await ec2_6.apply(member, plan, central);

    // Assess
    expect(plan.steps[1]).toContain(`(${memberRole})`);
    expect(blockers).toEqual([]);
    expect(ec2Mock.commandCalls(CreateFlowLogsCommand)).toHaveLength(1);
  });

  it('reuses an existing log group', async () => {
    logsMock
      .on(CreateLogGroupCommand, { logGroupName: GROUP }, true)
      .rejects(serviceError('ResourceAlreadyExistsException'));
    logsMock
      .on(PutRetentionPolicyCommand, { logGroupName: GROUP, retentionInDays: 365 }, true)
      .resolves({});
    ec2Mock.on(CreateFlowLogsCommand, CREATE_FLOW_LOGS, true).resolves({ FlowLogIds: ['fl-9'] });

    const applied = await ec2_6.apply(EMPTY, changePlan(EMPTY), ctx);

    expect(applied.changes[0]).toBe(`log group ${GROUP} already existed; reused it`);
  });

  it('reports the log group left behind when EC2 lists the flow log as unsuccessful', async () => {
    // Prepare
    givenLogGroupCreated();
    ec2Mock.on(CreateFlowLogsCommand, CREATE_FLOW_LOGS, true).resolves({
      FlowLogIds: [],
      Unsuccessful: [
        {
          ResourceId: VPC,
          Error: { Code: 'AccessDenied', Message: 'cannot assume the delivery role' },
        },
      ],
    });

    // Act
    const apply = ec2_6.apply(EMPTY, changePlan(EMPTY), ctx);

    // Assess
    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: `creating the flow log for ${VPC} failed: ${VPC}: AccessDenied cannot assume the delivery role`,
      stateLeft: `log group ${GROUP} was created (empty) with a retention of 365 days; no flow log was created`,
    });
  });

  it('reports the log group left behind when the flow-log call fails', async () => {
    givenLogGroupCreated();
    ec2Mock.on(CreateFlowLogsCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_6.apply(EMPTY, changePlan(EMPTY), ctx)).rejects.toMatchObject({
      stateLeft: `log group ${GROUP} was created (empty) with a retention of 365 days; no flow log was created`,
    });
  });

  it('changes nothing when the log group cannot be created', async () => {
    logsMock.on(CreateLogGroupCommand).rejects(serviceError('AccessDeniedException'));

    await expect(ec2_6.apply(EMPTY, changePlan(EMPTY), ctx)).rejects.toMatchObject({
      stateLeft: 'unchanged: no log group and no flow log was created',
    });
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('says the retention is unset when it cannot be set', async () => {
    logsMock.on(CreateLogGroupCommand, { logGroupName: GROUP }, true).resolves({});
    logsMock.on(PutRetentionPolicyCommand).rejects(serviceError('AccessDeniedException'));

    await expect(ec2_6.apply(EMPTY, changePlan(EMPTY), ctx)).rejects.toMatchObject({
      stateLeft: `log group ${GROUP} was created (empty), its retention was not set; no flow log was created`,
    });
  });
});

describe('EC2.6 verify and rollback', () => {
  it('fails verification when no active flow log records rejected traffic after the backoff', async () => {
    givenFlowLogs([flowLog('fl-2', 'ACCEPT', { LogGroupName: 'x' })]);
    const { clock, sleeps } = fakeClock();

    expect(await ec2_6.verify(EMPTY, { ...ctx, clock })).toEqual({
      ok: false,
      reason: `${VPC} has no active flow log recording rejected traffic (found: fl-2 (ACTIVE, ACCEPT traffic to x))`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging DescribeFlowLogs shows the new flow log', async () => {
    givenFlowLogs([], [flowLog('fl-new', 'REJECT', { LogGroupName: GROUP })]);
    const { clock, sleeps } = fakeClock();

    expect(await ec2_6.verify(EMPTY, { ...ctx, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('reads every page of flow logs: an empty page with a token says nothing', async () => {
    // Prepare: a filtered describe may answer an empty first page that still carries a token.
    givenVpc();
    const filter = [{ Name: 'resource-id', Values: [VPC] }];
    ec2Mock
      .on(DescribeFlowLogsCommand, { Filter: filter, NextToken: undefined }, true)
      .resolves({ FlowLogs: [], NextToken: 'page-2' });
    ec2Mock
      .on(DescribeFlowLogsCommand, { Filter: filter, NextToken: 'page-2' }, true)
      .resolves({ FlowLogs: [flowLog('fl-1', 'REJECT', { LogGroupName: 'theirs' })] });

    // Act
    const read = await ec2_6.readState(ref, ctx);

    // Assess: the flow log on page two makes the VPC compliant.
    if (read.kind !== 'found') throw new Error('expected found');
    expect(ec2_6.plan(read.state, ctx)).toMatchObject({ kind: 'compliant' });
  });

  it('deletes only the flow log hubfix created and keeps the log group and its records', async () => {
    // Prepare
    ec2Mock
      .on(
        DescribeFlowLogsCommand,
        {
          Filter: [
            { Name: 'resource-id', Values: [VPC] },
            { Name: 'log-group-name', Values: [GROUP] },
          ],
          NextToken: undefined,
        },
        true,
      )
      .resolves({ FlowLogs: [flowLog('fl-old', 'ALL'), flowLog('fl-new', 'REJECT')] });
    ec2Mock
      .on(DeleteFlowLogsCommand, { FlowLogIds: ['fl-new'] }, true)
      .resolves({ Unsuccessful: [] });
    const before: Ec2_6Before = {
      vpcId: VPC,
      logGroupName: GROUP,
      trafficType: 'REJECT',
      retentionDays: 365,
      existingFlowLogIds: ['fl-old'],
    };

    // Act
    const lines = await ec2_6.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      `deleted flow log fl-new of ${VPC}`,
      `kept log group ${GROUP} and the records in it (remove them by hand with: aws logs delete-log-group --log-group-name ${GROUP})`,
    ]);
    expect(logsMock.calls()).toHaveLength(0);
  });

  it('is idempotent: nothing to delete the second time', async () => {
    ec2Mock.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [] });

    const lines = await ec2_6.rollback(
      {
        vpcId: VPC,
        logGroupName: GROUP,
        trafficType: 'REJECT',
        retentionDays: 365,
        existingFlowLogIds: [],
      },
      rollbackContext(clients),
    );

    expect(lines[0]).toBe(`no flow log of hubfix's is left on ${VPC}; nothing to delete`);
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteFlowLogsCommand, 0);
  });

  it('says what is still present when a delete is unsuccessful', async () => {
    ec2Mock.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [flowLog('fl-new', 'REJECT')] });
    ec2Mock.on(DeleteFlowLogsCommand, { FlowLogIds: ['fl-new'] }, true).resolves({
      Unsuccessful: [
        { ResourceId: 'fl-new', Error: { Code: 'UnauthorizedOperation', Message: 'no' } },
      ],
    });

    await expect(
      ec2_6.rollback(
        {
          vpcId: VPC,
          logGroupName: GROUP,
          trafficType: 'REJECT',
          retentionDays: 365,
          existingFlowLogIds: [],
        },
        rollbackContext(clients),
      ),
    ).rejects.toMatchObject({ stateLeft: 'deleted: none; still present: fl-new' });
  });

  it('validates a before-state read back from the ledger', () => {
    const valid = {
      vpcId: VPC,
      logGroupName: GROUP,
      trafficType: 'REJECT',
      retentionDays: 365,
      existingFlowLogIds: [],
    };
    expect(ec2_6.before.parse(valid, 'before').ok).toBe(true);
    expect(ec2_6.before.parse({ ...valid, vpcId: 'sg-1' }, 'before').ok).toBe(false);
    expect(ec2_6.before.parse({ ...valid, existingFlowLogIds: undefined }, 'before').ok).toBe(
      false,
    );
  });

  it('accepts only CloudWatch retention values and traffic types that satisfy the control', () => {
    expect(ec2_6.params.parse({}, 'p')).toEqual({
      ok: true,
      value: { logRetentionDays: 365, trafficType: 'REJECT' },
    });
    expect(ec2_6.params.parse({ logRetentionDays: 100 }, 'p').ok).toBe(false);
    expect(ec2_6.params.parse({ trafficType: 'ACCEPT' }, 'p').ok).toBe(false);
    expect(ec2_6.params.parse({ logRetentionDays: 731, trafficType: 'ALL' }, 'p').ok).toBe(true);
  });
});

describe('EC2.6 delivery role (provisioned by the stack)', () => {
  it('is assumable only by flow logs of this account and writes only into hubfix log groups', () => {
    // Prepare
    const stack = new Stack(new App(), 'Test', {
      env: { account: '111111111111', region: 'us-east-1' },
    });

    // Act
    const provisioned = provisionFlowLogDeliveryRole(stack);

    // Assess
    expect(Object.keys(provisioned)).toEqual(['deliveryRoleArn']);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: { 'Fn::Join': ['', ['hubfix-ec2-6-flow-logs-', { Ref: 'AWS::Region' }]] },
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '111111111111' },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:us-east-1:111111111111:log-group:/hubfix/vpc-flow-logs/*',
                ],
              ],
            },
          },
        ]),
      },
    });
  });
});
