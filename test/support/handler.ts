/**
 * Runs a control's real handler (middy, Powertools, environment parsing,
 * pipeline, adapters) with strict mocks for Security Hub and SNS, so a
 * control's end-to-end tests only prepare its own service calls.
 */
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  type GetFindingsCommandInput,
  GetFindingsV2Command,
  type GetFindingsV2CommandInput,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import type { AwsClientOptions } from '../../lambdas/core/aws';
import type { Control } from '../../lambdas/core/control';
import { createControlHandler } from '../../lambdas/core/handler';
import type { DirectRequest } from '../../lambdas/core/intake/direct';
import type { OrganizationScope } from '../../lambdas/core/organization';
import {
  type ChangeBudget,
  type ChangeRecord,
  type ChangeRecorder,
  type ChangeResult,
  type DriftMark,
  everyTime,
  type FindingHistory,
  type HistoryEntry,
  noLease,
  type OnceGuard,
  type OutcomeEvent,
  type ResourceLease,
  unlimitedChanges,
} from '../../lambdas/core/ports';
import type { RuntimeSettings } from '../../lambdas/core/settings';
import { strictMock } from './aws';
import { fakeClock } from './control';
import { ACCOUNT, PLAN_ACTION_ARN, REGION, REMEDIATE_ACTION_ARN } from './fixtures';

export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`;

export const LAMBDA_CONTEXT = {
  functionName: 'hubfix-test',
  awsRequestId: 'request-1',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hubfix-test`,
  getRemainingTimeInMillis: () => 60_000,
} as Context;

export interface HarnessOptions<Params, Clients> {
  /** The control's SDK clients, usually instances the test has mocked. */
  readonly clients: Clients;
  /** Settings on top of: mode remediate, no dry run, default tags, empty allow-list. */
  readonly settings?: Partial<Omit<RuntimeSettings<Params>, 'params'>>;
  /** The control's params; defaults to what its schema fills in for `{}`. */
  readonly params?: Params;
  readonly provisioned?: Readonly<Record<string, string>>;
  /** Raw environment overrides, to test cold-start validation. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default everyTime: every delivery is handled (idempotency has its own tests) */
  readonly guard?: OnceGuard;
  /** @default noLease: one invocation at a time (the lease has its own tests) */
  readonly lease?: ResourceLease;
  /**
   * What Lambda's context says is left of the invocation (ECS.16 needs
   * minutes to replace a task set).
   * @default 60_000
   */
  readonly remainingTimeMs?: number;
  /**
   * Org mode: the function runs with this scope, assumes member roles with
   * the harness's `sts` (a strict mock), and gets `clients` for every member
   * account and region (`memberClients` says for which, with what credentials).
   * @default single-account mode
   */
  readonly organization?: OrganizationScope;
  /** Org mode's change budget. @default unlimitedChanges (the DynamoDB budget has its own tests) */
  readonly budget?: ChangeBudget;
}

type Json = Record<string, unknown>;

/** The findings an event carries, which Security Hub knows as they are unless a test says otherwise. */
function findingsOfEvent(event: unknown): Json[] {
  const detail = (event as { detail?: { findings?: unknown } } | undefined)?.detail;
  return Array.isArray(detail?.findings)
    ? detail.findings.filter((f): f is Json => typeof f === 'object' && f !== null)
    : [];
}

/** GetFindings as Security Hub answers it: EQUALS filters on Id and ProductArn, one page. */
function answerGetFindings(
  known: ReadonlyMap<string, Json | undefined>,
  input: GetFindingsCommandInput,
) {
  const id = input.Filters?.Id?.[0]?.Value;
  const product = input.Filters?.ProductArn?.[0]?.Value;
  const found = id === undefined ? undefined : known.get(id);
  const matches = found && (product === undefined || found.ProductArn === product) ? [found] : [];
  return { Findings: matches as never[] };
}

/** GetFindingsV2 as the new Security Hub answers it: one EQUALS string filter on a uid. */
function answerGetFindingsV2(
  known: ReadonlyMap<string, Json | undefined>,
  input: GetFindingsV2CommandInput,
) {
  const filter = input.Filters?.CompositeFilters?.[0]?.StringFilters?.[0];
  const found = filter?.Filter?.Value === undefined ? undefined : known.get(filter.Filter.Value);
  return { Findings: found ? [found as never] : [] };
}

/** The keys Security Hub finds a finding by: ASFF Id, or OCSF finding_info.uid and metadata.uid. */
function keysOf(finding: Json): string[] {
  if (typeof finding.Id === 'string') return [finding.Id];
  const info = finding.finding_info as { uid?: unknown } | undefined;
  const metadata = finding.metadata as { uid?: unknown } | undefined;
  return [info?.uid, metadata?.uid].filter((k): k is string => typeof k === 'string');
}

export function controlHarness<State, Before, Params, Clients extends object>(
  control: Control<State, Before, Params, Clients>,
  options: HarnessOptions<Params, Clients>,
) {
  const securityHubClient = new SecurityHubClient({ region: REGION });
  const snsClient = new SNSClient({ region: REGION });
  const securityHub = strictMock(securityHubClient);
  const sns = strictMock(snsClient);
  /** What Security Hub knows: every finding the test's events carried, as carried. */
  const known = new Map<string, Json | undefined>();
  const events: OutcomeEvent[] = [];
  const requeued: DirectRequest[] = [];
  const historyItems = new Map<string, HistoryEntry>();
  const history: FindingHistory = {
    async get(controlId, key) {
      return historyItems.get(`${controlId}#${key}`);
    },
    async put(controlId, key, entry) {
      historyItems.set(`${controlId}#${key}`, entry);
    },
  };
  securityHub
    .on(GetFindingsCommand)
    .callsFake(async (input: GetFindingsCommandInput) => answerGetFindings(known, input));
  securityHub
    .on(GetFindingsV2Command)
    .callsFake(async (input: GetFindingsV2CommandInput) => answerGetFindingsV2(known, input));
  const records: ChangeRecord[] = [];
  const results: { changeId: string; result: ChangeResult }[] = [];
  const driftMarks: { changeId: string; mark: DriftMark }[] = [];
  const recorder: ChangeRecorder = {
    async recordBefore(record) {
      records.push(record);
    },
    async recordResult(changeId, result) {
      results.push({ changeId, result });
    },
    async markDrifted(changeId, mark) {
      driftMarks.push({ changeId, mark });
    },
  };

  const defaults = control.params.parse({}, 'params');
  if (!defaults.ok && options.params === undefined) {
    throw new Error(`${control.id} params need explicit values in this test`);
  }
  const settings = {
    controlId: control.id,
    mode: 'remediate',
    dryRun: false,
    notifyOnly: control.notifyOnly,
    tags: {
      optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
      suppress: { key: 'hubfix:suppress' },
    },
    allowList: [],
    overrideAllowList: false,
    maxDriftFixes: 1,
    ...options.settings,
    params: options.params ?? (defaults.ok ? defaults.value : undefined),
  };
  const env = {
    HUBFIX_SETTINGS: JSON.stringify(settings),
    HUBFIX_TOPIC_ARN: TOPIC_ARN,
    HUBFIX_REMEDIATE_ACTION_ARN: REMEDIATE_ACTION_ARN,
    HUBFIX_PLAN_ACTION_ARN: PLAN_ACTION_ARN,
    HUBFIX_ACCOUNT_ID: ACCOUNT,
    HUBFIX_PROVISIONED: JSON.stringify(options.provisioned ?? {}),
    HUBFIX_LEDGER_TABLE: 'hubfix-ledger',
    HUBFIX_LEDGER_RETENTION_DAYS: '365',
    HUBFIX_IDEMPOTENCY_TABLE: 'hubfix-idempotency',
    HUBFIX_STATE_TABLE: 'hubfix-state',
    AWS_REGION: REGION,
    ...(options.organization ? { HUBFIX_ORGANIZATION: JSON.stringify(options.organization) } : {}),
    ...options.env,
  };

  const stsClient = new STSClient({ region: REGION });
  const sts = strictMock(stsClient);
  /** The options each member account's clients were made with (org mode). */
  const memberClients: AwsClientOptions[] = [];

  const handler = createControlHandler(control, {
    sts: stsClient,
    createClients(clientOptions) {
      memberClients.push(clientOptions);
      return options.clients;
    },
    budget: options.budget ?? unlimitedChanges,
    env,
    clients: options.clients,
    securityHub: securityHubClient,
    sns: snsClient,
    recorder,
    guard: options.guard ?? everyTime,
    newChangeId: () => 'change-1',
    clock: fakeClock().clock,
    lease: options.lease ?? noLease,
    history,
    events: {
      async publish(event) {
        events.push(event);
      },
    },
    requeue: {
      async send(request) {
        requeued.push(request);
      },
    },
  });

  return {
    /**
     * Invokes the handler as Lambda would. Security Hub then knows the
     * event's findings as the event carries them (call `securityHubHas` first
     * to make it answer otherwise).
     */
    invoke: (event: unknown) => {
      for (const finding of findingsOfEvent(event)) {
        for (const key of keysOf(finding)) if (!known.has(key)) known.set(key, finding);
      }
      return handler(
        event,
        options.remainingTimeMs === undefined
          ? LAMBDA_CONTEXT
          : { ...LAMBDA_CONTEXT, getRemainingTimeInMillis: () => options.remainingTimeMs ?? 0 },
      );
    },
    /** What Security Hub's own copy of a finding is (or `undefined`: it does not know it). */
    securityHubHas(id: string, finding: Json | undefined) {
      known.set(id, finding);
    },
    events,
    requeued,
    historyItems,
    securityHub,
    sns,
    sts,
    memberClients,
    records,
    results,
    driftMarks,
    /** Lets finding updates (both products') and publishes succeed. */
    acceptDeliveries() {
      securityHub
        .on(BatchUpdateFindingsCommand)
        .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
      securityHub
        .on(BatchUpdateFindingsV2Command)
        .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
      sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
    },
    /** The workflow statuses written to findings, in order. */
    workflows(): (string | undefined)[] {
      return securityHub
        .commandCalls(BatchUpdateFindingsCommand)
        .map((c) => c.args[0].input.Workflow?.Status);
    },
    /** The notes written to findings, in order. */
    notes(): (string | undefined)[] {
      return securityHub
        .commandCalls(BatchUpdateFindingsCommand)
        .map((c) => c.args[0].input.Note?.Text);
    },
    /** What was published to SNS, in order. */
    published(): PublishCommandInput[] {
      return sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    },
  };
}
