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
  type Ec2_8Before,
  type Ec2_8Clients,
  ec2_8,
  type InstanceMetadataState,
  runningEvidence,
  stoppedAtOf,
} from '../../../lambdas/controls/ec2-8/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';

const INSTANCE = 'i-077c4d5f32561ac45';
/** The fake clock's start. */
const NOW = new Date('2026-11-22T10:00:00Z');
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const ref = ec2Ref('AwsEc2Instance', 'instance', INSTANCE);

const ec2Mock = strictMock(EC2Client);
const cloudwatchMock = strictMock(CloudWatchClient);
const clients: Ec2_8Clients = {
  ec2: new EC2Client({ region: 'us-east-1' }),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
};

function contextOf(days = 14) {
  const { clock, sleeps } = fakeClock(NOW.getTime());
  const ctx: FindingContext<Ec2_8Clients, Ec2_8Params> = findingContext(
    clients,
    { imdsv1UsageWindowDays: days },
    { clock },
  );
  return { ctx, sleeps };
}

let ctx: FindingContext<Ec2_8Clients, Ec2_8Params>;
let sleeps: number[];

function instance(metadata: Instance['MetadataOptions'], overrides: Partial<Instance> = {}) {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running' as const },
    LaunchTime: daysAgo(52),
    StateTransitionReason: '',
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

function metricQuery(days: number, nextToken?: string) {
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
    StartTime: daysAgo(days),
    EndTime: NOW,
    NextToken: nextToken,
  };
}

/** One data point a day, as GetMetricData answers a Sum per day. */
function page(values: number[], status: 'Complete' | 'PartialData' | 'InternalError') {
  return {
    Id: 'imdsv1',
    Label: 'MetadataNoToken',
    Timestamps: values.map((_, i) => daysAgo(i + 1)),
    Values: values,
    StatusCode: status,
  };
}

function givenMetric(
  values: number[],
  status: 'Complete' | 'PartialData' | 'InternalError' = 'Complete',
  days = 14,
) {
  cloudwatchMock
    .on(GetMetricDataCommand, metricQuery(days), true)
    .resolves({ MetricDataResults: [page(values, status)], Messages: [] });
}

const zeros = (count: number) => new Array<number>(count).fill(0);

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
  lifecycle: 'running',
  launchedAt: daysAgo(52),
  stoppedAt: undefined,
};

beforeEach(() => {
  resetStrict(ec2Mock);
  resetStrict(cloudwatchMock);
  ({ ctx, sleeps } = contextOf());
});

describe('EC2.8 happy path', () => {
  it('reads the instance live, plans, requires tokens with exactly HttpTokens, and verifies', async () => {
    // Prepare
    givenInstance(
      instance(OPTIONAL),
      instance({ ...OPTIONAL, HttpTokens: 'required', State: 'applied' }),
    );
    givenMetric(zeros(14));
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
  it('reads when a stopped instance last started and when it stopped', async () => {
    givenInstance(
      instance(OPTIONAL, {
        State: { Name: 'stopped' },
        LaunchTime: daysAgo(20),
        StateTransitionReason: 'User initiated (2026-11-17 10:00:00 GMT)',
      }),
    );

    expect(await readFound()).toEqual({
      ...STATE,
      lifecycle: 'stopped',
      launchedAt: daysAgo(20),
      stoppedAt: daysAgo(5),
    });
  });

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

  it('states the evidence it needs', () => {
    expect(changePlan(STATE).steps[0]).toBe(
      `check the evidence that nothing on ${INSTANCE} calls IMDSv1: it must have been running for the whole 14 days (LaunchTime, which EC2 resets at every start, at or before 2026-11-08), and CloudWatch MetadataNoToken must have a data point for each of those days and add up to 0`,
    );
  });

  it('says in the plan that a recently started instance has not given enough evidence yet', () => {
    const plan = changePlan({ ...STATE, launchedAt: daysAgo(3) });

    expect(plan.steps[0]).toContain(
      '. Not met now: not enough evidence: running for 3 of the 14 days.',
    );
  });

  it('says a disabled endpoint stays disabled, and needs no evidence', () => {
    const plan = changePlan({ ...STATE, httpEndpoint: 'disabled', hopLimit: 1 });

    expect(plan.steps[0]).toBe(
      `check nothing more: the metadata endpoint of ${INSTANCE} is disabled, so nothing on it can call IMDS, with or without a token`,
    );
    expect(plan.steps[1]).toContain(
      'the metadata endpoint stays disabled and the hop limit stays 1',
    );
  });
});

describe('EC2.8 preflight: evidence, not absence of it', () => {
  it('blocks with the count when something used IMDSv1 in the window', async () => {
    // Prepare
    givenMetric([0, 12, 3, ...zeros(11)]);

    // Act
    const blockers = await ec2_8.preflight(STATE, ctx);

    // Assess
    expect(blockers).toEqual([
      `${INSTANCE} answered 15 IMDSv1 call(s) in the last 14 days (CloudWatch MetadataNoToken); requiring IMDSv2 would break the software making them. Update it to use IMDSv2 (current AWS SDKs and the CLI do), then remediate again once the metric stays at 0.`,
    ]);
  });

  it('does not take no data points for an instance started 3 days ago as no IMDSv1 use', async () => {
    // Prepare: CloudWatch would answer no data points for the days before it started.
    givenMetric([]);

    // Act
    const blockers = await ec2_8.preflight({ ...STATE, launchedAt: daysAgo(3.5) }, ctx);

    // Assess
    expect(blockers).toEqual([
      `not enough evidence: running for 3 of the 14 days. ${INSTANCE} last started at 2026-11-18T22:00:00.000Z (EC2 resets LaunchTime at every start), and before that CloudWatch has no MetadataNoToken data that could show IMDSv1 calls; no data is not proof that nothing makes them. hubfix can decide from 2026-12-02 if it keeps running.`,
    ]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
  });

  it('blocks a stopped instance, saying how much of the window it ran', async () => {
    const blockers = await ec2_8.preflight(
      { ...STATE, lifecycle: 'stopped', launchedAt: daysAgo(20), stoppedAt: daysAgo(5) },
      ctx,
    );

    expect(blockers).toEqual([
      `not enough evidence: ${INSTANCE} is stopped, and CloudWatch records MetadataNoToken only while an instance runs; it ran for 9 of the last 14 days. Software that calls IMDSv1 may simply not have run. Remediate again once it has been running for 14 days in a row.`,
    ]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
  });

  it('blocks an instance whose start EC2 does not report', async () => {
    const blockers = await ec2_8.preflight({ ...STATE, launchedAt: undefined }, ctx);

    expect(blockers[0]).toMatch(/^not enough evidence: EC2 did not report when/);
  });

  it('blocks when CloudWatch has no data at all for an instance that ran throughout', async () => {
    givenMetric([]);

    expect(await ec2_8.preflight(STATE, ctx)).toEqual([
      `not enough evidence: ${INSTANCE} ran for the whole 14 days, but CloudWatch has MetadataNoToken data for only 0 of them; days without data could have held IMDSv1 calls, so hubfix does not take them for none.`,
    ]);
  });

  it('blocks when days of the window have no data point', async () => {
    givenMetric(zeros(10));

    expect((await ec2_8.preflight(STATE, ctx))[0]).toContain('data for only 10 of them');
  });

  it('reads GetMetricData to its last page', async () => {
    // Prepare: half the days on a partial first page with a NextToken, the rest after it.
    cloudwatchMock
      .on(GetMetricDataCommand, metricQuery(14), true)
      .resolves({ MetricDataResults: [page(zeros(7), 'PartialData')], NextToken: 'more' });
    cloudwatchMock
      .on(GetMetricDataCommand, metricQuery(14, 'more'), true)
      .resolves({ MetricDataResults: [page(zeros(7), 'Complete')] });

    // Act
    const blockers = await ec2_8.preflight(STATE, ctx);

    // Assess
    expect(blockers).toEqual([]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
  });

  it('finds IMDSv1 calls behind an empty first page', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand, metricQuery(14), true)
      .resolves({ MetricDataResults: [page([], 'PartialData')], NextToken: 'more' });
    cloudwatchMock
      .on(GetMetricDataCommand, metricQuery(14, 'more'), true)
      .resolves({ MetricDataResults: [page([0, 2, ...zeros(12)], 'Complete')] });

    const blockers = await ec2_8.preflight(STATE, ctx);

    expect(blockers[0]).toContain('answered 2 IMDSv1 call(s)');
  });

  it('reads the configured window', async () => {
    const { ctx: wider } = contextOf(30);
    givenMetric(zeros(30), 'Complete', 30);

    expect(await ec2_8.preflight(STATE, wider)).toEqual([]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
  });

  it('requires no evidence where the metadata endpoint is disabled', async () => {
    expect(
      await ec2_8.preflight({ ...STATE, httpEndpoint: 'disabled', launchedAt: daysAgo(1) }, ctx),
    ).toEqual([]);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
  });

  it('refuses to rule out IMDSv1 use on an answer that ends short of Complete', async () => {
    givenMetric(zeros(14), 'InternalError');

    await expect(ec2_8.preflight(STATE, ctx)).rejects.toThrow('IMDSv1 use cannot be ruled out');
  });

  it('fails rather than guess when CloudWatch cannot be read', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(serviceError('AccessDenied'));

    await expect(ec2_8.preflight(STATE, ctx)).rejects.toThrow('AccessDenied');
  });
});

describe('EC2.8 evidence rules', () => {
  it.each([
    ['running since before the window', 'running', 15, undefined, true],
    ['running since exactly the window start', 'running', 14, undefined, true],
    ['started inside the window', 'running', 13.9, undefined, false],
    ['stopped since, after running the window', 'stopped', 30, 0.5, false],
    ['pending', 'pending', 30, undefined, false],
  ] as const)('%s', (_, lifecycle, launchedDaysAgo, stoppedDaysAgo, covered) => {
    const state: InstanceMetadataState = {
      ...STATE,
      lifecycle,
      launchedAt: daysAgo(launchedDaysAgo),
      stoppedAt: stoppedDaysAgo === undefined ? undefined : daysAgo(stoppedDaysAgo),
    };

    expect(runningEvidence(state, 14, NOW.getTime()).covered).toBe(covered);
  });

  it('reads the stop time EC2 writes into StateTransitionReason, and nothing else', () => {
    expect(stoppedAtOf('User initiated (2026-11-17 10:00:00 GMT)')).toEqual(daysAgo(5));
    expect(
      stoppedAtOf('Server.ScheduledStop: Stopped due to scheduled retirement'),
    ).toBeUndefined();
    expect(stoppedAtOf('')).toBeUndefined();
    expect(stoppedAtOf(undefined)).toBeUndefined();
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

  it('waits out a describe that does not show the change yet (eventual consistency)', async () => {
    givenInstance(instance(OPTIONAL), instance({ ...OPTIONAL, HttpTokens: 'required' }));

    expect(await ec2_8.verify(STATE, ctx)).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('fails verification when tokens are still optional after the backoff', async () => {
    givenInstance(...new Array(5).fill(instance(OPTIONAL)));

    expect(await ec2_8.verify(STATE, ctx)).toEqual({
      ok: false,
      reason: `${INSTANCE} reads HttpTokens=optional, not required`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
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
