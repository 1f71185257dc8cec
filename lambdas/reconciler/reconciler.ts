/**
 * The reconciler (handler.ts exports it): one function on an EventBridge Scheduler schedule that
 * sweeps the deployed controls' failed findings (sweep.ts; in org mode those
 * of every allowed member account and region, read through this
 * administrator account's Security Hub) and hands those that need it to
 * their control's function. Everything is built once, at
 * cold start; the exported handler is thin, wrapped in middy and the
 * Powertools middlewares as the controls' are.
 *
 * A sweep of any size fits: each invocation reads pages while its time
 * allows, then hands the sweep's state (Security Hub's NextToken and the
 * counts so far) to another invocation of itself. Each step of a sweep is
 * claimed once in the state table (`reconciler#sweep#<id>#<step>`), so a
 * redelivered invocation (the schedule and Lambda both deliver at least
 * once) does nothing, and a step that failed is released for Lambda's retry.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AsyncInvoker } from '../core/adapters/lambda-invoke';
import { LambdaAsyncSender } from '../core/adapters/requeue';
import { SnsNotifier } from '../core/adapters/sns';
import { DynamoDbStateStore } from '../core/adapters/state';
import { awsClientOptions } from '../core/aws';
import { type Clock, systemClock } from '../core/clock';
import { lambdaDeadline } from '../core/deadline';
import { ENVIRONMENT } from '../core/env';
import { describeError, MalformedEventError } from '../core/errors';
import type { FindingHistory, ResourceLease } from '../core/ports';
import { logger, metrics, SERVICE_NAME } from '../core/powertools';
import { parseDaemonAddress, type SegmentSink, Tracer, UdpSegmentSink } from '../core/tracing';
import {
  RECONCILE_EVENT,
  type ReconcileEvent,
  readReconcileEvent,
  readReconcilerEnvironment,
  SWEEP_CLAIM_PREFIX,
} from './env';
import { controlHandoff } from './handoff';
import { describePlaces, SecurityHubSweepSource, sweepTargets } from './source';
import { summaryOf } from './summary';
import {
  runSweep,
  type SweepLimits,
  type SweepRun,
  type SweepSource,
  type SweepState,
  startSweep,
} from './sweep';

/** How long a claimed step stays claimed: far longer than any sweep. */
const CLAIM_MS = 7 * 86_400_000;
/** Kept back from Lambda's deadline to hand the sweep on or publish its summary. */
const CONCLUDE_RESERVE_MS = 15_000;

export const RECONCILER = 'reconciler';

/** Seams for tests; a deployed function uses none of them. */
export interface ReconcilerOverrides {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly securityHub?: SecurityHubClient;
  readonly sns?: SNSClient;
  readonly dynamodb?: DynamoDBClient;
  /** Lambda, for handing requests on and the sweep to the next invocation. */
  readonly invoker?: () => Promise<AsyncInvoker>;
  readonly source?: SweepSource;
  readonly history?: Pick<FindingHistory, 'get'>;
  readonly claims?: ResourceLease;
  readonly clock?: Clock;
  readonly limits?: Partial<SweepLimits>;
  readonly traceSink?: SegmentSink;
}

export interface ReconcilerResult {
  readonly sweepId: string | undefined;
  readonly step: number | undefined;
  /** finished/stopped: the summary went out; paused: handed to the next invocation. */
  readonly status: SweepRun['kind'] | 'duplicate' | 'rejected';
  readonly findings: number;
  readonly handed: number;
}

export function claimKey(state: Pick<SweepState, 'sweepId' | 'step'>): string {
  return `${SWEEP_CLAIM_PREFIX}${state.sweepId}#${state.step}`;
}

export function createReconcilerHandler(overrides: ReconcilerOverrides = {}) {
  const variables = overrides.env ?? process.env;
  const env = readReconcilerEnvironment(variables);
  const clock = overrides.clock ?? systemClock;
  const sdk = awsClientOptions(env.region);
  const daemon = parseDaemonAddress(variables[ENVIRONMENT.xrayDaemon]);
  const tracer = new Tracer({
    sink: overrides.traceSink ?? (daemon ? new UdpSegmentSink(daemon) : undefined),
    traceHeader: () => variables._X_AMZN_TRACE_ID,
    service: SERVICE_NAME,
    region: env.region,
    annotations: { control: RECONCILER },
  });
  const securityHub = overrides.securityHub ?? new SecurityHubClient(sdk);
  const sns = overrides.sns ?? new SNSClient(sdk);
  const dynamodb = overrides.dynamodb ?? new DynamoDBClient(sdk);
  for (const client of [securityHub, sns, dynamodb]) tracer.instrument(client);
  logger.appendPersistentKeys({ control: RECONCILER });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ service: SERVICE_NAME, control: RECONCILER });

  // The reconciler only reads histories, and claims its steps with the lease.
  const stateStore = new DynamoDbStateStore(dynamodb, {
    tableName: env.stateTable,
    historyDays: 0,
    now: () => new Date(clock.now()),
  });
  const history = overrides.history ?? stateStore;
  const claims = overrides.claims ?? stateStore;
  const source = overrides.source ?? new SecurityHubSweepSource(securityHub, env.partition);
  let lambda: Promise<AsyncInvoker> | undefined;
  const connect =
    overrides.invoker ??
    (() => {
      lambda ??= import('../core/adapters/lambda-invoke').then(({ lambdaInvoker }) =>
        lambdaInvoker(sdk, (client) => tracer.instrument(client)),
      );
      return lambda;
    });
  const handoff = controlHandoff(env.settings.controls, connect);
  const self = env.functionName ? new LambdaAsyncSender(connect, env.functionName) : undefined;
  const notifier = new SnsNotifier(sns, env.topicArn);
  const { queries, scope } = sweepTargets(Object.keys(env.settings.controls), env);
  const swept = env.organization ? describePlaces(env) : undefined;

  function count(name: string, value: number): void {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  }

  async function publishSummary(run: SweepRun, incomplete?: string): Promise<void> {
    const { tally } = run.state;
    logger[incomplete || run.kind === 'stopped' ? 'error' : 'info']('sweep ended', {
      sweepId: run.state.sweepId,
      steps: run.state.step + 1,
      status: run.kind,
      incomplete: incomplete ?? (run.kind === 'stopped' ? run.reason : undefined),
      tally,
    });
    try {
      await notifier.publish(
        summaryOf(run, {
          account: env.account,
          region: env.region,
          finishedAt: new Date(clock.now()),
          swept,
          incomplete,
        }),
      );
    } catch (error) {
      logger.error('the sweep summary could not be published', { error: describeError(error) });
      count('NotificationFailed', 1);
    }
  }

  /** Hands a paused sweep to the next invocation, or ends it with what it has. */
  async function conclude(run: SweepRun): Promise<void> {
    if (run.kind !== 'paused') return publishSummary(run);
    const next = { ...run.state, step: run.state.step + 1 };
    if (!self) return publishSummary(run, 'no function name to hand the sweep on to');
    try {
      await self.sendPayload(
        { type: RECONCILE_EVENT, sweepId: next.sweepId, state: next },
        `the sweep's state after ${next.tally.pages} pages`,
      );
      logger.info('sweep handed to the next invocation', {
        sweepId: next.sweepId,
        step: next.step,
        pages: next.tally.pages,
      });
    } catch (error) {
      await publishSummary(run, `the sweep could not be handed on: ${describeError(error)}`);
    }
  }

  async function sweep(request: ReconcileEvent, context: Context): Promise<ReconcilerResult> {
    const from = request.state ?? startSweep(request.sweepId, new Date(clock.now()));
    const key = claimKey(from);
    const holder = context.awsRequestId;
    if (!(await claims.acquire(key, holder, new Date(clock.now() + CLAIM_MS)))) {
      logger.info('this step of the sweep is done or running elsewhere; nothing done again', {
        sweepId: from.sweepId,
        step: from.step,
      });
      count('DuplicateDelivery', 1);
      return {
        sweepId: from.sweepId,
        step: from.step,
        status: 'duplicate',
        findings: 0,
        handed: 0,
      };
    }
    let run: SweepRun;
    try {
      run = await runSweep(
        {
          source,
          history,
          handoff,
          origin: 'reconciler',
          queries,
          scope,
          graceMs: env.settings.graceHours * 3_600_000,
          clock,
          deadline: lambdaDeadline(context, CONCLUDE_RESERVE_MS),
          log: logger,
          ...(overrides.limits ? { limits: overrides.limits } : {}),
        },
        from,
      );
    } catch (error) {
      // Lets Lambda's retry of this invocation do the step again.
      await claims.release(key, holder).catch((releaseError: unknown) =>
        logger.warn('the step claim could not be released; it expires on its own', {
          error: describeError(releaseError),
        }),
      );
      throw error;
    }
    const before = from.tally;
    const after = run.state.tally;
    count('SweptFindings', after.findings - before.findings);
    count('HandedFindings', after.handed - before.handed);
    count('UnreadableFindings', after.unreadable - before.unreadable);
    count('HandOnFailed', after.handFailed - before.handFailed);
    await conclude(run);
    return {
      sweepId: from.sweepId,
      step: from.step,
      status: run.kind,
      findings: after.findings,
      handed: after.handed,
    };
  }

  return middy(async (event: unknown, context: Context): Promise<ReconcilerResult> => {
    let request: ReconcileEvent;
    try {
      request = readReconcileEvent(event);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      logger.error('malformed event rejected; nothing was done', { issues: error.issues });
      count('MalformedEvent', 1);
      return { sweepId: undefined, step: undefined, status: 'rejected', findings: 0, handed: 0 };
    }
    return sweep(request, context);
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracer.middleware())
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
