import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  ModifyInstanceMetadataOptionsCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_8Params } from '../../../lambdas/controls/ec2-8/meta';
import {
  createEc2_8,
  type Ec2_8Before,
  type Ec2_8Clients,
  type InstanceMetadataState,
} from '../../../lambdas/controls/ec2-8/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, findingContext, rollbackContext } from '../../support/control';

const INSTANCE = 'i-077c4d5f32561ac45';
const NOW = new Date('2026-11-22T10:00:00Z');
const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);

const ec2Mock = strictMock(EC2Client);
const cloudwatchMock = strictMock(CloudWatchClient);
const clients: Ec2_8Clients = {
  ec2: new EC2Client({ region: 'us-east-1' }),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
};
const ctx: FindingContext<Ec2_8Clients, Ec2_8Params> = findingContext(clients, {
  imdsv1UsageWindowDays: 14,
});
const ec2_8 = createEc2_8(() => NOW);

function instance(metadata: Instance['MetadataOptions'], overrides: Partial<Instance> = {}) {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running' as const },
    MetadataOptions: metadata,
    Tags: [{ Key: 'environment', Value: 'dev' }],
    ...overrides,
  };
}

const OPTIONAL = {
  State: 'applied',
  HttpTokens: 'optional',
  HttpEndpoint: 'enabled',
  HttpPutResponseHopLimit: 2,
} as const;

function givenInstance(...answers: ReturnType<typeof instance>[]) {
  const stub = ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true);
  for (const answer of answers) stub.resolvesOnce({ Reservations: [{ Instances: [answer] }] });
}

function metricQuery(days: number) {
  return {
    MetricDataQueries: [
      {
        Id: 'imdsv1',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/EC2',
            MetricName: 'MetadataNoToken',
            Dimensions: [{ Name: 'InstanceId', Value: INSTANCE }],
          },
          Period: 86_400,
          Stat: 'Sum',
        },
        ReturnData: true,
      },
    ],
    StartTime: new Date(NOW.getTime() - days * 86_400_000),
    EndTime: NOW,
  };
}

function givenMetric(values: number[], status: 'Complete' | 'PartialData' = 'Complete', days = 14) {
  cloudwatchMock.on(GetMetricDataCommand, metricQuery(days), true).resolves({
    MetricDataResults: [{ Id: 'imdsv1', Values: values, StatusCode: status }],
  });
}

async function readFound(): Promise<InstanceMetadataState> {
  const read = await ec2_8.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: InstanceMetadataState): ChangePlan<Ec2_8Before> {
  const plan = ec2_8.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

const STATE: InstanceMetadataState = {
  instanceId: INSTANCE,
  httpTokens: 'optional',
  httpEndpoint: 'enabled',
  hopLimit: 2,
};

beforeEach(() => {
  resetStrict(ec2Mock);
  resetStrict(cloudwatchMock);
});

describe('EC2.8 happy path', () => {
  it('reads the instance live, plans, requires tokens with exactly HttpTokens, and verifies', async () => {
    // Prepare
    givenInstance(
      instance(OPTIONAL),
      instance({ ...OPTIONAL, HttpTokens: 'required', State: 'applied' }),
    );
    givenMetric([0, 0, 0]);
    ec2Mock
      .on(
        ModifyInstanceMetadataOptionsCommand,
        { InstanceId: INSTANCE, HttpTokens: 'required' },
        true,
      )
      .resolves({
        InstanceId: INSTANCE,
        InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required' },
      });

    // Act
    const read = await ec2_8.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = changePlan(read.state);
    const blockers = await ec2_8.preflight(read.state, ctx);
    const applied = await ec2_8.apply(read.state, plan, ctx);
    const verdict = await ec2_8.verify(read.state, ctx);

    // Assess
    expect(read.tags).toEqual({ environment: 'dev' });
    expect(read.state).toEqual(STATE);
    expect(plan.summary).toBe(`require IMDSv2 on ${INSTANCE} (HttpTokens optional → required)`);
    expect(plan.before).toEqual({ instanceId: INSTANCE, httpTokens: 'optional' });
    expect(plan.undo).toEqual([
      `aws ec2 modify-instance-metadata-options --instance-id ${INSTANCE} --http-tokens optional`,
    ]);
    expect(plan.steps[1]).toContain(
      'the metadata endpoint stays enabled and the hop limit stays 2',
    );
    expect(blockers).toEqual([]);
    expect(applied.changes).toEqual([
      `set HttpTokens=required on ${INSTANCE} (was optional); EC2 reports the metadata options as pending`,
    ]);
    expect(verdict).toEqual({ ok: true });
    // Only HttpTokens is sent: the endpoint and hop limit are never touched.
    expect(
      ec2Mock.commandCalls(ModifyInstanceMetadataOptionsCommand)[0]?.args[0].input,
    ).toStrictEqual({ InstanceId: INSTANCE, HttpTokens: 'required' });
  });
});

describe('EC2.8 readState', () => {
  it('does not apply to an instance that no longer exists', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));

    expect(await ec2_8.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `${INSTANCE} no longer exists or is terminated`,
    });
  });

  it('does not apply to a terminated instance', async () => {
    givenInstance(instance(OPTIONAL, { State: { Name: 'terminated' } }));

    expect((await ec2_8.readState(ref, ctx)).kind).toBe('not-applicable');
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_8.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('EC2.8 plan', () => {
  it('sees an instance that already requires tokens as compliant', async () => {
    givenInstance(instance({ ...OPTIONAL, HttpTokens: 'required' }));

    expect(ec2_8.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `${INSTANCE} already requires IMDSv2 (HttpTokens=required)`,
    });
  });

  it('says a disabled endpoint stays disabled', () => {
    const plan = changePlan({ ...STATE, httpEndpoint: 'disabled', hopLimit: 1 });

    expect(plan.steps[1]).toContain(
      'the metadata endpoint stays disabled and the hop limit stays 1',
    );
  });
});

describe('EC2.8 preflight', () => {
  it('blocks with the count when something used IMDSv1 in the window', async () => {
    // Prepare
    givenMetric([0, 12, 3]);

    // Act
    const blockers = await ec2_8.preflight(STATE, ctx);

    // Assess
    expect(blockers).toEqual([
      `${INSTANCE} answered 15 IMDSv1 call(s) in the last 14 days (CloudWatch MetadataNoToken); requiring IMDSv2 would break the software making them. Update it to use IMDSv2 (current AWS SDKs and the CLI do), then remediate again once the metric stays at 0.`,
    ]);
  });

  it('reads the configured window', async () => {
    givenMetric([0], 'Complete', 30);
    const wider = findingContext(clients, { imdsv1UsageWindowDays: 30 });

    expect(await ec2_8.preflight(STATE, wider)).toEqual([]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
  });

  it('reads no data points (a stopped instance) as no IMDSv1 use', async () => {
    givenMetric([]);

    expect(await ec2_8.preflight(STATE, ctx)).toEqual([]);
  });

  it('refuses to rule out IMDSv1 use on a partial answer without calls', async () => {
    givenMetric([0], 'PartialData');

    await expect(ec2_8.preflight(STATE, ctx)).rejects.toThrow('IMDSv1 use cannot be ruled out');
  });

  it('fails rather than guess when CloudWatch cannot be read', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(serviceError('AccessDenied'));

    await expect(ec2_8.preflight(STATE, ctx)).rejects.toThrow('AccessDenied');
  });
});

describe('EC2.8 apply, verify, rollback', () => {
  it('reports the instance unchanged when the change is refused', async () => {
    ec2Mock
      .on(ModifyInstanceMetadataOptionsCommand)
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));

    const apply = ec2_8.apply(STATE, changePlan(STATE), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: `requiring IMDSv2 on ${INSTANCE} failed: UnauthorizedOperation: not allowed`,
      stateLeft: 'unchanged: HttpTokens is still optional',
    });
  });

  it('accepts HttpTokens=required while EC2 still applies it', async () => {
    givenInstance(instance({ ...OPTIONAL, HttpTokens: 'required', State: 'pending' }));

    expect(await ec2_8.verify(STATE, ctx)).toEqual({ ok: true });
  });

  it('fails verification when tokens are still optional', async () => {
    givenInstance(instance(OPTIONAL));

    expect(await ec2_8.verify(STATE, ctx)).toEqual({
      ok: false,
      reason: `${INSTANCE} reads HttpTokens=optional, not required`,
    });
  });

  it('fails verification when the instance disappeared', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(serviceError('InvalidInstanceID.NotFound'));

    expect(await ec2_8.verify(STATE, ctx)).toEqual({
      ok: false,
      reason: `${INSTANCE} no longer exists`,
    });
  });

  it('rolls back by making tokens optional again', async () => {
    // Prepare
    ec2Mock
      .on(
        ModifyInstanceMetadataOptionsCommand,
        { InstanceId: INSTANCE, HttpTokens: 'optional' },
        true,
      )
      .resolves({ InstanceId: INSTANCE });

    // Act
    const lines = await ec2_8.rollback(
      { instanceId: INSTANCE, httpTokens: 'optional' },
      rollbackContext(clients),
    );

    // Assess
    expect(lines).toEqual([
      `set HttpTokens=optional on ${INSTANCE} again: it accepts IMDSv1 calls once more`,
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 1);
  });

  it('refuses a rollback for an instance that is gone', async () => {
    ec2Mock
      .on(ModifyInstanceMetadataOptionsCommand)
      .rejects(serviceError('InvalidInstanceID.NotFound'));

    await expect(
      ec2_8.rollback({ instanceId: INSTANCE, httpTokens: 'optional' }, rollbackContext(clients)),
    ).rejects.toBeInstanceOf(RollbackRefusedError);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ec2_8.before.parse({ instanceId: INSTANCE, httpTokens: 'optional' }, 'before').ok).toBe(
      true,
    );
    expect(ec2_8.before.parse({ instanceId: INSTANCE, httpTokens: 'required' }, 'before').ok).toBe(
      false,
    );
    expect(ec2_8.before.parse({ instanceId: 'sg-1', httpTokens: 'optional' }, 'before').ok).toBe(
      false,
    );
  });

  it('refuses a window CloudWatch cannot answer in its config', () => {
    expect(ec2_8.params.parse({}, 'params')).toEqual({
      ok: true,
      value: { imdsv1UsageWindowDays: 14 },
    });
    expect(ec2_8.params.parse({ imdsv1UsageWindowDays: 0 }, 'params').ok).toBe(false);
    expect(ec2_8.params.parse({ imdsv1UsageWindowDays: 456 }, 'params').ok).toBe(false);
  });
});
