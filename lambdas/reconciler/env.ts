/**
 * The reconciler's environment and events, read and validated at the edge.
 * The environment is read once, at cold start: a bad value fails the cold
 * start loudly. The stack sets the variables (lib/constructs/reconciler.ts).
 */

import { ENVIRONMENT } from '../core/env';
import { ConfigurationError, MalformedEventError } from '../core/errors';
import { type OrganizationScope, organizationScopeSchema } from '../core/organization';
import {
  array,
  integer,
  object,
  oneOf,
  optional,
  parseJsonOrThrow,
  parseOrThrow,
  record,
  type Schema,
  string,
} from '../core/schema';
import { controlIdSchema } from '../core/settings';
import { DECISION_LABELS } from './decide';
import type { SweepState } from './sweep';

/** The reconciler's own variables; the others are the controls' (core/env.ts). */
export const RECONCILER_ENVIRONMENT = {
  /** JSON: the control functions by control id, and the grace period. */
  settings: 'HUBFIX_RECONCILER',
  partition: 'HUBFIX_PARTITION',
} as const;

export interface ReconcilerSettings {
  /** Each deployed control's function name, by control id. */
  readonly controls: Readonly<Record<string, string>>;
  readonly graceHours: number;
}

export interface ReconcilerEnvironment {
  readonly settings: ReconcilerSettings;
  readonly topicArn: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** Finding histories (read) and the sweep's claims on its steps. */
  readonly stateTable: string;
  /** This function's name, to hand the sweep on; undefined outside Lambda. */
  readonly functionName: string | undefined;
  /**
   * Org mode: the member accounts and regions the sweep reads (the control
   * functions' own HUBFIX_ORGANIZATION); undefined in single-account mode.
   */
  readonly organization: OrganizationScope | undefined;
}

const functionName = string({
  pattern: /^[\w-]{1,64}$/,
  patternName: 'a Lambda function name',
});

export const reconcilerSettingsSchema = object({
  controls: record(functionName, { key: controlIdSchema }),
  graceHours: integer({ min: 1, max: 720 }),
});

const variablesSchema = object(
  {
    [RECONCILER_ENVIRONMENT.settings]: string({ minLength: 2 }),
    [RECONCILER_ENVIRONMENT.partition]: string({
      pattern: /^aws[a-z-]*$/,
      patternName: 'an AWS partition',
    }),
    [ENVIRONMENT.topicArn]: string({ pattern: /^arn:aws[a-z-]*:sns:/, patternName: 'an ARN' }),
    [ENVIRONMENT.account]: string({ pattern: /^\d{12}$/, patternName: 'a 12-digit account id' }),
    [ENVIRONMENT.region]: string({
      pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
      patternName: 'an AWS region',
    }),
    [ENVIRONMENT.stateTable]: string({
      pattern: /^[\w.-]{3,255}$/,
      patternName: 'a DynamoDB table name',
    }),
    [ENVIRONMENT.functionName]: optional(functionName),
    [ENVIRONMENT.organization]: optional(string({ minLength: 2 })),
  },
  { unknownKeys: 'ignore' },
);

export function readReconcilerEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): ReconcilerEnvironment {
  const source = 'the reconciler environment';
  const toError = (issues: ConstructorParameters<typeof ConfigurationError>[1]) =>
    new ConfigurationError(source, issues);
  const vars = parseOrThrow(variablesSchema, env, toError);
  const readJson = <T>(name: string, text: string, schema: Schema<T>): T =>
    parseJsonOrThrow(schema, text, toError, name);
  const settings = readJson(
    RECONCILER_ENVIRONMENT.settings,
    vars[RECONCILER_ENVIRONMENT.settings],
    reconcilerSettingsSchema,
  );
  if (Object.keys(settings.controls).length === 0) {
    throw toError([
      { path: `${RECONCILER_ENVIRONMENT.settings}.controls`, message: 'names no control' },
    ]);
  }
  const organizationJson = vars[ENVIRONMENT.organization];
  return {
    settings,
    topicArn: vars[ENVIRONMENT.topicArn],
    account: vars[ENVIRONMENT.account],
    region: vars[ENVIRONMENT.region],
    partition: vars[RECONCILER_ENVIRONMENT.partition],
    stateTable: vars[ENVIRONMENT.stateTable],
    functionName: vars[ENVIRONMENT.functionName],
    organization:
      organizationJson === undefined
        ? undefined
        : readJson(ENVIRONMENT.organization, organizationJson, organizationScopeSchema),
  };
}

/** The state table keys of the sweep's step claims start so (a grant names them). */
export const SWEEP_CLAIM_PREFIX = 'reconciler#sweep#';

/** The marker of the reconciler's events: the schedule's, and its own hand-ons. */
export const RECONCILE_EVENT = 'hubfix.reconcile';

const count = integer({ min: 0 });

const stateSchema: Schema<SweepState> = object({
  sweepId: string({ minLength: 1, maxLength: 64 }),
  startedAt: string({ minLength: 1, maxLength: 64 }),
  step: integer({ min: 1, max: 10_000 }),
  query: count,
  page: count,
  // Security Hub's tokens are opaque; a forged one only makes GetFindings refuse.
  nextToken: optional(string({ minLength: 1, maxLength: 16_384 })),
  tally: object({
    pages: count,
    findings: count,
    unreadable: count,
    historyUnreadable: count,
    byControl: record(record(count, { key: oneOf(DECISION_LABELS) }), {
      key: string({ maxLength: 64 }),
    }),
    handed: count,
    requests: count,
    handFailed: count,
    skipped: array(
      object({ product: oneOf(['asff', 'ocsf']), reason: string({ maxLength: 2048 }) }),
      { maxItems: 2 },
    ),
  }),
});

/**
 * What starts or continues a sweep. The schedule sends only the sweep id
 * (its scheduled time, the same on a redelivery); a hand-on also carries
 * the sweep's state.
 */
export interface ReconcileEvent {
  readonly sweepId: string;
  readonly state: SweepState | undefined;
}

const eventSchema = object(
  {
    type: oneOf([RECONCILE_EVENT]),
    sweepId: string({ pattern: /^[\w:.+-]{1,64}$/, patternName: 'a sweep id' }),
    state: optional(stateSchema),
  },
  { unknownKeys: 'reject' },
);

/** @throws MalformedEventError when the event is not one the reconciler reads. */
export function readReconcileEvent(raw: unknown): ReconcileEvent {
  const event = parseOrThrow(eventSchema, raw, (issues) => new MalformedEventError(issues));
  if (event.state !== undefined && event.state.sweepId !== event.sweepId) {
    throw new MalformedEventError([
      { path: 'state.sweepId', message: `is ${event.state.sweepId}, not ${event.sweepId}` },
    ]);
  }
  return { sweepId: event.sweepId, state: event.state };
}
