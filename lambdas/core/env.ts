/**
 * The function's environment, read and validated once at cold start. A bad
 * value fails the cold start loudly instead of surfacing later as a wrong
 * decision. Adapters never read process.env; they get what they need here.
 */

import type { Provisioned } from './control';
import { ConfigurationError } from './errors';
import { type OrganizationScope, organizationScopeSchema } from './organization';
import type { CustomActionArns } from './request';
import {
  object,
  optional,
  parseJsonOrThrow,
  parseOrThrow,
  record,
  type Schema,
  string,
} from './schema';
import { type RuntimeSettings, runtimeSettingsSchema } from './settings';
import { type DaemonAddress, parseDaemonAddress } from './tracing';
import type { Identity } from './trust';

/** Variable names, shared with the stack that sets them. */
export const ENVIRONMENT = {
  settings: 'HUBFIX_SETTINGS',
  topicArn: 'HUBFIX_TOPIC_ARN',
  remediateActionArn: 'HUBFIX_REMEDIATE_ACTION_ARN',
  planActionArn: 'HUBFIX_PLAN_ACTION_ARN',
  account: 'HUBFIX_ACCOUNT_ID',
  provisioned: 'HUBFIX_PROVISIONED',
  ledgerTable: 'HUBFIX_LEDGER_TABLE',
  ledgerRetentionDays: 'HUBFIX_LEDGER_RETENTION_DAYS',
  idempotencyTable: 'HUBFIX_IDEMPOTENCY_TABLE',
  stateTable: 'HUBFIX_STATE_TABLE',
  /** Org mode's scope (JSON); absent in single-account mode. */
  organization: 'HUBFIX_ORGANIZATION',
  /** Set by Lambda: the function hands findings on by invoking itself. */
  functionName: 'AWS_LAMBDA_FUNCTION_NAME',
  /** Set by Lambda when active tracing is on. */
  xrayDaemon: 'AWS_XRAY_DAEMON_ADDRESS',
  region: 'AWS_REGION',
} as const;

export interface FunctionEnvironment<Params> {
  readonly settings: RuntimeSettings<Params>;
  readonly topicArn: string;
  readonly actions: CustomActionArns;
  readonly self: Identity;
  readonly provisioned: Provisioned;
  readonly ledger: { readonly tableName: string; readonly retentionDays: number };
  readonly idempotencyTable: string;
  /** Leases and finding history. */
  readonly stateTable: string;
  /** This function's name; undefined outside Lambda, where nothing is handed on. */
  readonly functionName: string | undefined;
  /** Where trace segments go; undefined when tracing is off. */
  readonly xrayDaemon: DaemonAddress | undefined;
  /** Org mode: which member accounts and regions, through which roles; undefined in single-account mode. */
  readonly organization: OrganizationScope | undefined;
}

const arn = string({ pattern: /^arn:aws[a-z-]*:[a-z0-9-]+:/, patternName: 'an ARN' });

const tableName = string({ pattern: /^[\w.-]{3,255}$/, patternName: 'a DynamoDB table name' });

const variablesSchema = object(
  {
    [ENVIRONMENT.settings]: string({ minLength: 2 }),
    [ENVIRONMENT.topicArn]: arn,
    [ENVIRONMENT.remediateActionArn]: arn,
    [ENVIRONMENT.planActionArn]: arn,
    [ENVIRONMENT.account]: string({ pattern: /^\d{12}$/, patternName: 'a 12-digit account id' }),
    [ENVIRONMENT.region]: string({
      pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
      patternName: 'an AWS region',
    }),
    [ENVIRONMENT.provisioned]: optional(string(), '{}'),
    [ENVIRONMENT.ledgerTable]: tableName,
    [ENVIRONMENT.ledgerRetentionDays]: string({
      pattern: /^[1-9]\d{0,4}$/,
      patternName: 'a number of days',
    }),
    [ENVIRONMENT.idempotencyTable]: tableName,
    [ENVIRONMENT.stateTable]: tableName,
    [ENVIRONMENT.organization]: optional(string({ minLength: 2 })),
    [ENVIRONMENT.functionName]: optional(
      string({ pattern: /^[\w-]{1,140}$/, patternName: 'a Lambda function name' }),
    ),
  },
  { unknownKeys: 'ignore' },
);

export function readEnvironment<Params>(
  env: Readonly<Record<string, string | undefined>>,
  control: { readonly id: string; readonly params: Schema<Params> },
): FunctionEnvironment<Params> {
  const source = 'the function environment';
  const toError = (issues: ConstructorParameters<typeof ConfigurationError>[1]) =>
    new ConfigurationError(source, issues);
  const vars = parseOrThrow(variablesSchema, env, toError);

  const readJson = <T>(name: string, text: string, schema: Schema<T>): T =>
    parseJsonOrThrow(schema, text, toError, name);
  const settings = readJson(
    ENVIRONMENT.settings,
    vars[ENVIRONMENT.settings],
    runtimeSettingsSchema(control.params),
  );
  if (settings.controlId !== control.id) {
    throw toError([
      {
        path: `${ENVIRONMENT.settings}.controlId`,
        message: `is ${settings.controlId}, but this function handles ${control.id}`,
      },
    ]);
  }
  const provisioned = readJson(
    ENVIRONMENT.provisioned,
    vars[ENVIRONMENT.provisioned],
    record(string()),
  );
  const organizationJson = vars[ENVIRONMENT.organization];
  const organization =
    organizationJson === undefined
      ? undefined
      : readJson(ENVIRONMENT.organization, organizationJson, organizationScopeSchema);
  return {
    provisioned,
    organization,
    ledger: {
      tableName: vars[ENVIRONMENT.ledgerTable],
      retentionDays: Number(vars[ENVIRONMENT.ledgerRetentionDays]),
    },
    idempotencyTable: vars[ENVIRONMENT.idempotencyTable],
    stateTable: vars[ENVIRONMENT.stateTable],
    functionName: vars[ENVIRONMENT.functionName],
    xrayDaemon: parseDaemonAddress(env[ENVIRONMENT.xrayDaemon]),
    settings,
    topicArn: vars[ENVIRONMENT.topicArn],
    actions: {
      remediate: vars[ENVIRONMENT.remediateActionArn],
      plan: vars[ENVIRONMENT.planActionArn],
    },
    self: { account: vars[ENVIRONMENT.account], region: vars[ENVIRONMENT.region] },
  };
}
