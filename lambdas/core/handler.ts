/**
 * Builds a control's Lambda handler. Everything here runs once, at cold
 * start: the environment is validated, clients are created and instrumented,
 * and the pipeline is assembled. The exported handler is thin and wrapped
 * with middy and the Powertools middlewares.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbChangeBudget } from './adapters/change-budget';
import { EventBridgeOutcomePublisher } from './adapters/events';
import { DynamoDbOnceGuard } from './adapters/idempotency';
import { DynamoDbLedger } from './adapters/ledger';
import { MemberRoles } from './adapters/member-roles';
import { LambdaRequeue } from './adapters/requeue';
import { SecurityHubFindingStore } from './adapters/security-hub';
import { SnsNotifier } from './adapters/sns';
import { DynamoDbStateStore } from './adapters/state';
import { type AwsClientOptions, awsClientOptions } from './aws';
import { type Clock, systemClock } from './clock';
import type { Control } from './control';
import { lambdaDeadline } from './deadline';
import { readEnvironment } from './env';
import { isDirectRequest } from './intake/direct';
import { memberRoleNameFor } from './organization';
import { type BatchResult, createPipeline } from './pipeline';
import type {
  ChangeBudget,
  ChangeRecorder,
  FindingHistory,
  MemberAccess,
  OnceGuard,
  OutcomePublisher,
  Requeue,
  ResourceLease,
} from './ports';
import { countMetric, logger, metrics, SERVICE_NAME } from './powertools';
import { noteFor } from './report';
import { type SegmentSink, Tracer, UdpSegmentSink } from './tracing';

/** Seams for tests; a deployed function uses none of them. */
export interface HandlerOverrides<Clients> {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clients?: Clients;
  readonly securityHub?: SecurityHubClient;
  readonly sns?: SNSClient;
  readonly recorder?: ChangeRecorder;
  readonly guard?: OnceGuard;
  readonly dynamodb?: DynamoDBClient;
  readonly newChangeId?: () => string;
  readonly traceSink?: SegmentSink;
  readonly clock?: Clock;
  readonly events?: OutcomePublisher;
  readonly lease?: ResourceLease;
  readonly history?: FindingHistory;
  readonly requeue?: Requeue;
  /** Org mode: STS, to assume member roles. */
  readonly sts?: STSClient;
  /** Org mode: how member accounts' clients are made (tests capture the credentials). */
  readonly createClients?: (options: AwsClientOptions) => Clients;
  readonly budget?: ChangeBudget;
}

export interface HandlerFindingResult {
  readonly findingId: string;
  readonly decision: string;
  readonly outcome: string;
  /**
   * Only in the answer to a direct request, whose sender may be a person
   * waiting on a synchronous invocation (`npx hubfix remediate|plan`): the
   * decision's reason, the note as written to the finding, and the ledger
   * change, so the answer can be read without looking anything up.
   */
  readonly reason?: string;
  readonly note?: string;
  readonly changeId?: string;
}

export interface HandlerResult {
  readonly eventId: string | undefined;
  readonly status: BatchResult['status'];
  readonly findings: readonly HandlerFindingResult[];
  readonly rejected: number;
  readonly skipped: number;
  readonly duplicates: number;
  readonly handedOn: number;
}

function summarise(result: BatchResult, detailed: boolean): HandlerResult {
  return {
    eventId: result.eventId,
    status: result.status,
    findings: result.handled.map(({ report }): HandlerFindingResult => {
      const summary = {
        findingId: report.findingId,
        decision: report.decision.kind,
        outcome: report.outcome.kind,
      };
      if (!detailed) return summary;
      const { outcome } = report;
      const changeId =
        outcome.kind === 'REMEDIATED' || outcome.kind === 'FAILED' ? outcome.changeId : undefined;
      return {
        ...summary,
        reason: report.decision.reason,
        note: noteFor(report),
        ...(changeId ? { changeId } : {}),
      };
    }),
    rejected: result.rejected.length,
    skipped: result.skipped,
    duplicates: result.duplicates,
    handedOn: result.handedOn,
  };
}

/** A ledger key: the control's id, then a random UUID (e.g. `EC2.2-7c0f…`). */
export function changeIdFor(controlId: string): string {
  return `${controlId}-${crypto.randomUUID()}`;
}

export function createControlHandler<State, Before, Params, Clients extends object>(
  control: Control<State, Before, Params, Clients>,
  overrides: HandlerOverrides<Clients> = {},
) {
  const env = readEnvironment(overrides.env ?? process.env, control);
  const sdk = awsClientOptions(env.self.region);
  const clients = overrides.clients ?? control.createClients(sdk);
  const securityHub = overrides.securityHub ?? new SecurityHubClient(sdk);
  const sns = overrides.sns ?? new SNSClient(sdk);
  const dynamodb = overrides.dynamodb ?? new DynamoDBClient(sdk);
  const eventBridge = overrides.events ? undefined : new EventBridgeClient(sdk);
  const variables = overrides.env ?? process.env;
  const tracer = new Tracer({
    sink: overrides.traceSink ?? (env.xrayDaemon ? new UdpSegmentSink(env.xrayDaemon) : undefined),
    // Lambda sets the trace header anew for each invocation.
    traceHeader: () => variables._X_AMZN_TRACE_ID,
    service: SERVICE_NAME,
    region: env.self.region,
    annotations: { control: control.id },
  });
  const { organization } = env;
  // In org mode the control's own clients are never used: member clients are instrumented as made.
  const local = organization ? [] : Object.values(clients);
  for (const client of [securityHub, sns, dynamodb, eventBridge, ...local]) {
    if (client) tracer.instrument(client);
  }
  logger.appendPersistentKeys({ control: control.id });
  // Replaced, not added to: a process that builds more than one handler
  // (tests, the bench) would otherwise warn that the dimension exists.
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ service: SERVICE_NAME, control: control.id });
  const state = new DynamoDbStateStore(dynamodb, {
    tableName: env.stateTable,
    historyDays: env.ledger.retentionDays,
  });
  const { functionName } = env;
  const requeue =
    overrides.requeue ??
    (functionName === undefined
      ? undefined
      : new LambdaRequeue(async () => {
          const { lambdaInvoker } = await import('./adapters/lambda-invoke');
          return lambdaInvoker(sdk, (client) => tracer.instrument(client));
        }, functionName));

  const guard =
    overrides.guard ?? new DynamoDbOnceGuard(dynamodb, { tableName: env.idempotencyTable });

  const clock = overrides.clock ?? systemClock;
  let access: MemberAccess<Clients> | undefined;
  let budget: ChangeBudget | undefined;
  if (organization) {
    const sts = overrides.sts ?? new STSClient(sdk);
    tracer.instrument(sts);
    const createClients = overrides.createClients ?? ((options) => control.createClients(options));
    access = new MemberRoles({
      sts,
      roleName: memberRoleNameFor(organization.memberRoleName, control.id),
      sessionName: `hubfix-${control.id}`,
      createClients: (options) => {
        const made = createClients(options);
        for (const client of Object.values(made)) tracer.instrument(client);
        return made;
      },
      now: () => clock.now(),
    });
    budget =
      overrides.budget ??
      new DynamoDbChangeBudget(dynamodb, {
        tableName: env.stateTable,
        maxChangesPerAccountPerHour: organization.maxChangesPerAccountPerHour,
        now: () => clock.now(),
      });
  }

  const pipeline = createPipeline({
    control,
    settings: env.settings,
    clients,
    self: env.self,
    actions: env.actions,
    provisioned: env.provisioned,
    findings: new SecurityHubFindingStore(securityHub),
    notifier: new SnsNotifier(sns, env.topicArn),
    events:
      overrides.events ??
      new EventBridgeOutcomePublisher(eventBridge ?? new EventBridgeClient(sdk)),
    lease: overrides.lease ?? state,
    history: overrides.history ?? state,
    ...(requeue ? { requeue } : {}),
    recorder: overrides.recorder ?? new DynamoDbLedger(dynamodb, env.ledger),
    guard,
    log: logger,
    metrics: countMetric,
    // The control id leads the key, so each function's grant can be limited
    // to its own control's ledger entries (dynamodb:LeadingKeys).
    newChangeId: overrides.newChangeId ?? (() => changeIdFor(control.id)),
    clock,
    ...(organization ? { organization } : {}),
    ...(access ? { access } : {}),
    ...(budget ? { budget } : {}),
  });

  return middy(async (event: unknown, context: Context): Promise<HandlerResult> => {
    guard.registerLambdaContext?.(context);
    return summarise(
      await pipeline.processEvent(event, {
        deadline: lambdaDeadline(context),
        id: context.awsRequestId,
      }),
      isDirectRequest(event),
    );
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracer.middleware())
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
