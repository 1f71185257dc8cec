/**
 * One control's real handler (middy, Powertools, the whole pipeline,
 * idempotency, ledger, leases, history, outcome events) wired to canned AWS
 * answers: the control's own from its bench scenario, Security Hub, SNS and
 * EventBridge accepting everything, DynamoDB as in-memory tables.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { EventBridgeOutcomePublisher } from '../lambdas/core/adapters/events';
import { awsClientOptions } from '../lambdas/core/aws';
import type { Clock } from '../lambdas/core/clock';
import type { Control } from '../lambdas/core/control';
import { ENVIRONMENT } from '../lambdas/core/env';
import { createControlHandler } from '../lambdas/core/handler';
import { type Answers, type CallLog, canned, type Placement } from './canned';
import { MemoryTables } from './dynamodb';
import type { Scenario } from './scenario';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const TABLES = {
  ledger: 'hubfix-ledger',
  idempotency: 'hubfix-idempotency',
  state: 'hubfix-state',
} as const;

/** The stack's tables (lib/hubfix-stack.ts): keys, and the ledger's time index (every attribute). */
export function benchTables(): MemoryTables {
  return new MemoryTables({
    [TABLES.ledger]: {
      key: 'changeId',
      indexes: [{ keys: ['entity', 'createdAt'], projection: 'ALL' }],
    },
    [TABLES.idempotency]: { key: 'id' },
    [TABLES.state]: { key: 'pk' },
  });
}

export type Variant = 'remediate' | 'notify' | 'suppress';

export const benchContext = (remainingMs = 300_000): Context =>
  ({
    functionName: 'hubfix-bench',
    awsRequestId: 'bench',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hubfix-bench`,
    getRemainingTimeInMillis: () => remainingMs,
  }) as Context;

/** Findings of the scenario, each new (its own UpdatedAt), and the copy Security Hub holds. */
export class FindingSource {
  private serial = 0;
  private latest: Record<string, unknown>;
  private readonly byId = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly scenario: Scenario,
    /** Gives each finding its own resource id and finding id, as a burst of many has. */
    private readonly distinct = false,
  ) {
    this.latest = { ...scenario.finding };
  }

  next(): object {
    this.serial += 1;
    const base = this.scenario.finding;
    this.latest = {
      ...base,
      ...(this.distinct ? { Id: `${String(base.Id)}-${this.serial}` } : {}),
      UpdatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, this.serial)).toISOString(),
    };
    if (this.distinct) this.byId.set(String(this.latest.Id), this.latest);
    return {
      version: '0',
      id: `bench-${this.serial}`,
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      account: ACCOUNT,
      region: REGION,
      time: '2026-01-01T00:00:00Z',
      resources: [String(this.latest.Id)],
      detail: { findings: [this.latest] },
    };
  }

  /** What GetFindings answers: the finding its Id filter names, else the last one made. */
  readonly getFindings = (input: Readonly<Record<string, unknown>>): object => {
    const filters = input.Filters as { Id?: { Value?: string }[] } | undefined;
    const id = filters?.Id?.[0]?.Value;
    return { Findings: [(id === undefined ? undefined : this.byId.get(id)) ?? this.latest] };
  };
}

export interface HarnessOptions {
  readonly control: Control<unknown, unknown, unknown, object>;
  readonly scenario: Scenario;
  readonly variant: Variant;
  readonly params: unknown;
  readonly log: CallLog;
  readonly tables: MemoryTables;
  readonly findings: FindingSource;
  /**
   * Where the control's own clients answer; Security Hub, SNS, EventBridge
   * and DynamoDB always answer at once (nothing throttles them here).
   * @default 'instant'
   */
  readonly placement?: Placement;
  /** Wraps every answer, e.g. to throttle or to take time. @default none */
  readonly around?: (call: string, answer: () => Promise<object>) => Promise<object>;
  readonly clock?: Clock;
}

export function benchHandler(options: HarnessOptions) {
  const { control, scenario, variant, log, tables, findings } = options;
  const tags: Record<string, string> =
    variant === 'suppress' ? { 'hubfix:suppress': 'bench: accepted risk' } : {};
  const table =
    (command: string) =>
    (input: Readonly<Record<string, unknown>>): object =>
      tables.answer(command, input);
  const answers: Record<string, Answers> = {
    ...scenario.answers(tags),
    securityhub: {
      GetFindings: findings.getFindings,
      BatchUpdateFindings: { ProcessedFindings: [], UnprocessedFindings: [] },
    },
    sns: { Publish: { MessageId: 'bench' } },
    events: { PutEvents: { FailedEntryCount: 0, Entries: [{ EventId: 'bench' }] } },
    dynamodb: {
      PutItem: table('PutItem'),
      UpdateItem: table('UpdateItem'),
      GetItem: table('GetItem'),
      DeleteItem: table('DeleteItem'),
    },
  };
  const { around } = options;
  const wrapped = (service: string): Answers => {
    const own = answers[service];
    if (!own)
      throw new Error(`scenario for ${control.id} has no answers for its "${service}" client`);
    if (!around) return own;
    return Object.fromEntries(
      Object.entries(own).map(([command, answer]) => [
        command,
        (input: Readonly<Record<string, unknown>>) =>
          around(`${service}:${command}`, async () =>
            typeof answer === 'function'
              ? answer(input)
              : Array.isArray(answer)
                ? log.next(`${service}:${command}`, answer, input)
                : (answer as object),
          ),
      ]),
    );
  };
  const placement = options.placement ?? 'instant';
  const sdk = awsClientOptions(REGION);
  const clients = control.createClients(sdk);
  for (const [name, client] of Object.entries(clients)) {
    canned(client, name, wrapped(name), log, placement);
  }
  const defaults = control.params.parse({}, 'params');
  return createControlHandler(control, {
    env: {
      [ENVIRONMENT.settings]: JSON.stringify({
        controlId: control.id,
        mode: variant === 'notify' ? 'notify' : 'remediate',
        dryRun: false,
        notifyOnly: control.notifyOnly,
        tags: {
          optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
          suppress: { key: 'hubfix:suppress' },
        },
        allowList: [],
        params: options.params ?? (defaults.ok ? defaults.value : undefined),
      }),
      [ENVIRONMENT.topicArn]: `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`,
      [ENVIRONMENT.remediateActionArn]: `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixRemediate`,
      [ENVIRONMENT.planActionArn]: `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixPlan`,
      [ENVIRONMENT.account]: ACCOUNT,
      [ENVIRONMENT.provisioned]: JSON.stringify(scenario.provisioned ?? {}),
      [ENVIRONMENT.ledgerTable]: TABLES.ledger,
      [ENVIRONMENT.ledgerRetentionDays]: '365',
      [ENVIRONMENT.idempotencyTable]: TABLES.idempotency,
      [ENVIRONMENT.stateTable]: TABLES.state,
      [ENVIRONMENT.region]: REGION,
    },
    clients,
    securityHub: canned(
      new SecurityHubClient(sdk),
      'securityhub',
      wrapped('securityhub'),
      log,
      'instant',
    ),
    sns: canned(new SNSClient(sdk), 'sns', wrapped('sns'), log, 'instant'),
    dynamodb: canned(new DynamoDBClient(sdk), 'dynamodb', wrapped('dynamodb'), log, 'instant'),
    events: new EventBridgeOutcomePublisher(
      canned(new EventBridgeClient(sdk), 'events', wrapped('events'), log, 'instant'),
    ),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
