/**
 * remediation.config.json: loaded and validated at synth time, so a mistake
 * fails `cdk synth` with the path that is wrong and why, long before any
 * finding arrives. The schema is built from the registry: each control's own
 * settings are checked by that control's params schema.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError, type ValidationIssue } from '../lambdas/core/errors';
import {
  anyOf,
  array,
  boolean,
  childPath,
  integer,
  isRecord,
  type JsonSchema,
  jsonSchemaOf,
  object,
  oneOf,
  optional,
  type Schema,
  string,
} from '../lambdas/core/schema';
import {
  type AllowListEntry,
  allowListEntrySchema,
  MODES,
  type Mode,
  type RuntimeSettings,
  type TagPolicy,
  tagPolicySchema,
} from '../lambdas/core/settings';
import { CONTROLS, type ControlDefinition } from './controls';
import { findJsonSyntaxError, lineAndColumn } from './json-syntax';
import { type OrganizationConfig, organizationConfigSchema } from './organization';

export const DEFAULT_CONFIG_PATH = 'remediation.config.json';

/** The editor schema, generated from `configJsonSchema()` by `npm run schema`. */
export const CONFIG_SCHEMA_FILE = 'remediation.config.schema.json';

/** The context key of `cdk synth -c config=path`. */
export const CONFIG_CONTEXT_KEY = 'config';

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Lambda's limit is 4 KB for all variables together; leave room for the others. */
export const SETTINGS_ENV_LIMIT = 3000;

export interface ControlConfig {
  readonly mode: Mode | undefined;
  readonly dryRun: boolean | undefined;
  readonly params: unknown;
}

/**
 * How the notification topic is encrypted at rest. CloudWatch alarms cannot
 * publish to a topic under the AWS-managed `aws/sns` key, so the choice is no
 * KMS encryption, a key hubfix creates ($1 a month), or a key you already
 * have (its policy must let CloudWatch use it; see the README).
 */
export type TopicEncryption =
  | { readonly kind: 'none' }
  | { readonly kind: 'managed-by-hubfix' }
  | { readonly kind: 'key'; readonly keyArn: string };

export const TOPIC_ENCRYPTION_DEFAULT: TopicEncryption = { kind: 'none' };

/**
 * What the throttle alarm watches. Lambda reports throttles per function or
 * for the whole account-region, and CloudWatch bills an alarm per metric it
 * reads: `account` is one metric ($0.10 a month) that also counts other
 * functions of the account-region; `off` has no throttle alarm. A per-function
 * alarm is not offered: a metric-math alarm reads at most 10 metrics (hubfix
 * has 12 functions) and would cost $0.10 for each.
 */
export const THROTTLE_ALARMS = ['account', 'off'] as const;
export type ThrottleAlarm = (typeof THROTTLE_ALARMS)[number];

export interface DashboardConfig {
  readonly enabled: boolean;
  /**
   * Dashboards are global to the account, so the default carries the region.
   * @default `Hubfix-<region>`
   */
  readonly name: string | undefined;
}

/** `none`: no reservation, for accounts whose quota cannot reserve some for each function. */
export type ReservedConcurrency = number | 'none';

export const LOG_REMOVAL_POLICIES = ['retain', 'destroy'] as const;
export type LogRemovalPolicy = (typeof LOG_REMOVAL_POLICIES)[number];

/**
 * X-Ray tracing of the functions. Lambda's active tracing records the first
 * invocation each second and 5% of the rest, a rate Lambda does not let you
 * change: findings arrive seconds or minutes apart, so nearly every one is
 * traced ($5 per million traces, a third of what a fix costs otherwise).
 * `pass-through` records only an invocation whose caller's trace is sampled
 * (none of Security Hub's or EventBridge's are): logs, metrics, the ledger
 * and the outcome events still say what happened to every finding.
 */
export const TRACING_MODES = ['pass-through', 'active'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

export interface HubfixConfig {
  readonly notifications: {
    readonly emails: readonly string[];
    readonly kmsKey: TopicEncryption;
  };
  readonly alarms: { readonly throttles: ThrottleAlarm };
  readonly dashboard: DashboardConfig;
  readonly tags: TagPolicy;
  readonly defaults: { readonly mode: Mode | undefined; readonly dryRun: boolean };
  readonly allowList: readonly AllowListEntry[];
  readonly controls: Readonly<Record<string, ControlConfig>>;
  readonly customActions: { readonly overrideAllowList: boolean };
  readonly functions: {
    readonly reservedConcurrency: ReservedConcurrency;
    readonly logRetentionDays: number;
    readonly logRemovalPolicy: LogRemovalPolicy;
    readonly memorySize: number;
    readonly tracing: TracingMode;
  };
  readonly ledger: { readonly retentionDays: number };
  readonly reconcile: ReconcileConfig;
  /** Org mode: one central deployment for the organization's accounts. Undefined: single-account mode. */
  readonly organization: OrganizationConfig | undefined;
}

/** The reconciler's sweep (README, "The reconciler"). */
export interface ReconcileConfig {
  /** Whether the schedule runs; `npx hubfix backfill` works either way. */
  readonly enabled: boolean;
  /** An EventBridge Scheduler expression: rate(...) or cron(...). */
  readonly schedule: string;
  /** How long a fix is given before a finding that still fails counts as drift. */
  readonly graceHours: number;
  /** How many times hubfix fixes a finding's resource again after drift, before it only notifies. */
  readonly maxAttempts: number;
}

/**
 * What EventBridge Scheduler accepts as a recurring schedule: `rate(1 hour)`,
 * `rate(6 hours)` (a unit in the singular for 1 only), or a six-field `cron(...)`.
 */
export const scheduleExpression = string({
  pattern:
    /^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$/,
  patternName: 'a schedule such as "rate(6 hours)" or "cron(0 */6 * * ? *)"',
  description:
    'When the reconciler sweeps: an EventBridge Scheduler rate(...) or six-field cron(...) expression (UTC).',
});

const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:key\/(?:mrk-)?[0-9a-f-]{32,36}$/;

const topicEncryptionChoice = anyOf(
  [
    oneOf(['none', 'managed-by-hubfix']),
    string({
      pattern: KMS_KEY_ARN,
      patternName: 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
    }),
  ],
  {
    description:
      'How the SNS topic is encrypted at rest: "none", "managed-by-hubfix" (a key hubfix creates, $1 a month) or the ARN of your own key (its policy must let CloudWatch use it).',
  },
);

const topicEncryption: Schema<TopicEncryption> = {
  expected: topicEncryptionChoice.expected,
  parse(input, path) {
    const parsed = topicEncryptionChoice.parse(input, path);
    if (!parsed.ok) return parsed;
    const value = parsed.value;
    if (value === 'none' || value === 'managed-by-hubfix')
      return { ok: true, value: { kind: value } };
    return { ok: true, value: { kind: 'key', keyArn: value } };
  },
  toJsonSchema: () => jsonSchemaOf(topicEncryptionChoice),
};

const dashboardName = string({
  pattern: /^[A-Za-z0-9_-]{1,255}$/,
  patternName: 'a dashboard name (1-255 letters, digits, "-" or "_")',
  description:
    "The dashboard's name. Dashboards are global to an account. Default: Hubfix-<region>.",
});

const email = string({
  pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  patternName: 'an email address',
  patternNameMany: 'email addresses',
});

/** What a control's entry under "controls" may hold: mode, dryRun and its own settings. */
function controlEntrySchema(definition: ControlDefinition) {
  return object(
    {
      mode: optional(oneOf(MODES)),
      dryRun: optional(boolean({ description: 'Plan instead of changing anything.' })),
      ...definition.meta.params.shape,
    },
    { description: definition.meta.title },
  );
}

const MODE_DESCRIPTION =
  '"off": ignore its findings, custom actions included. "notify": notify only. "remediate": fix allow-listed resources.';

/** The schema of the "controls" object, one known key per registered control. */
function controlsSchema(
  controls: readonly ControlDefinition[],
): Schema<Readonly<Record<string, ControlConfig>>> {
  const known = controls.map((c) => c.meta.id);
  return {
    expected: 'an object keyed by control id',
    parse(input, path) {
      if (!isRecord(input)) {
        return { ok: false, issues: [{ path, message: 'expected an object keyed by control id' }] };
      }
      const out: Record<string, ControlConfig> = {};
      const issues: ValidationIssue[] = [];
      for (const [id, value] of Object.entries(input)) {
        const at = childPath(path, id);
        const definition = controls.find((c) => c.meta.id === id);
        if (!definition) {
          issues.push({
            path: at,
            message: `is not a control hubfix knows (known: ${known.join(', ')})`,
          });
          continue;
        }
        const result = controlEntrySchema(definition).parse(value, at);
        if (!result.ok) {
          issues.push(...result.issues);
          continue;
        }
        const { mode, dryRun, ...rest } = result.value as Record<string, unknown> & {
          mode?: Mode;
          dryRun?: boolean;
        };
        if (definition.meta.notifyOnly && mode === 'remediate') {
          issues.push({
            path: childPath(at, 'mode'),
            message: `${id} has no automatic fix; use "notify" or "off"`,
          });
          continue;
        }
        const params = definition.meta.params.parse(rest, at);
        if (!params.ok) {
          issues.push(...params.issues);
          continue;
        }
        out[id] = { mode, dryRun, params: params.value };
      }
      return issues.length > 0 ? { ok: false, issues } : { ok: true, value: out };
    },
    toJsonSchema: () => ({
      type: 'object',
      description:
        'Per-control settings, keyed by control id. A control left out runs with its defaults.',
      properties: Object.fromEntries(
        controls.map((definition) => {
          const entry = jsonSchemaOf(controlEntrySchema(definition), definition.meta.id);
          const modes = definition.meta.notifyOnly ? MODES.filter((m) => m !== 'remediate') : MODES;
          const mode: JsonSchema = {
            description: definition.meta.notifyOnly
              ? `${definition.meta.id} has no automatic fix: "notify" or "off". Default "${definition.defaultMode}".`
              : `${MODE_DESCRIPTION} Default "${definition.defaultMode}".`,
            type: 'string',
            enum: modes,
          };
          return [
            definition.meta.id,
            { ...entry, properties: { ...entry.properties, mode } } satisfies JsonSchema,
          ];
        }),
      ),
      additionalProperties: false,
    }),
  };
}

const DEFAULT_FUNCTIONS: HubfixConfig['functions'] = {
  reservedConcurrency: 2,
  logRetentionDays: 30,
  logRemovalPolicy: 'retain',
  memorySize: 256,
  tracing: 'pass-through',
};
const DEFAULT_LEDGER = { retentionDays: 365 };
export const DEFAULT_RECONCILE: ReconcileConfig = {
  enabled: true,
  schedule: 'rate(6 hours)',
  graceHours: 24,
  maxAttempts: 1,
};
const DEFAULT_CUSTOM_ACTIONS = { overrideAllowList: false };

function fileSchema(controls: readonly ControlDefinition[]) {
  return object(
    {
      $schema: optional(
        string({ description: 'The JSON Schema editors check this file with; hubfix ignores it.' }),
      ),
      $comment: optional(string({ description: 'A note for people; hubfix ignores it.' })),
      notifications: optional(
        object(
          {
            emails: optional(
              array(email, {
                unique: true,
                description: 'Email addresses subscribed to the SNS topic (each must confirm).',
              }),
              [],
            ),
            kmsKey: optional(topicEncryption, TOPIC_ENCRYPTION_DEFAULT),
          },
          { description: "hubfix's SNS topic: every handled finding is published there." },
        ),
      ),
      alarms: optional(
        object(
          {
            throttles: optional(
              oneOf(THROTTLE_ALARMS, {
                description:
                  '"account": one alarm on the account-region\'s Lambda throttles ($0.10 a month; it also counts other functions); "off": none.',
              }),
              'account',
            ),
          },
          { description: 'The CloudWatch alarms that reach people through the topic.' },
        ),
      ),
      dashboard: optional(
        object(
          {
            enabled: optional(boolean({ description: 'Make the CloudWatch dashboard.' }), true),
            name: optional(dashboardName),
          },
          { description: 'The CloudWatch dashboard of what hubfix did.' },
        ),
      ),
      tags: optional(tagPolicySchema),
      defaults: optional(
        object(
          {
            mode: optional(
              oneOf(MODES, {
                description: `${MODE_DESCRIPTION} Default: each control's own.`,
              }),
            ),
            dryRun: optional(boolean({ description: 'Plan instead of changing anything.' }), false),
          },
          { description: 'What every control without its own setting does.' },
        ),
      ),
      allowList: optional(
        array(allowListEntrySchema, {
          description:
            'The resources hubfix may fix. An empty list allows every resource; otherwise a resource must match an entry.',
        }),
        [],
      ),
      customActions: optional(
        object(
          {
            overrideAllowList: optional(
              boolean({
                description:
                  'Let a person\'s "Remediate" custom action fix resources the allow-list leaves out. Anyone allowed securityhub:SendFindingEvents can send that action.',
              }),
              DEFAULT_CUSTOM_ACTIONS.overrideAllowList,
            ),
          },
          { description: 'The "Remediate" and "Plan" custom actions in Security Hub.' },
        ),
        DEFAULT_CUSTOM_ACTIONS,
      ),
      controls: optional(controlsSchema(controls), {}),
      functions: optional(
        object(
          {
            reservedConcurrency: optional(
              anyOf([integer({ min: 1, max: 1000 }), oneOf(['none'])], {
                description:
                  'Reserved concurrency of each function, capping parallel work. "none" reserves nothing, for accounts whose concurrency quota cannot spare some for each function.',
              }),
              DEFAULT_FUNCTIONS.reservedConcurrency,
            ),
            logRetentionDays: optional(
              oneOf(LOG_RETENTION_DAYS, {
                description: "Retention of each function's log group, in days.",
              }),
              DEFAULT_FUNCTIONS.logRetentionDays,
            ),
            logRemovalPolicy: optional(
              oneOf(LOG_REMOVAL_POLICIES, {
                description:
                  'What deleting the stack does to the functions\' log groups: "retain" keeps them (and their record of what hubfix did) until their retention ends; "destroy" deletes them.',
              }),
              DEFAULT_FUNCTIONS.logRemovalPolicy,
            ),
            memorySize: optional(
              integer({ min: 128, max: 10240, description: 'Memory of each function, in MB.' }),
              DEFAULT_FUNCTIONS.memorySize,
            ),
            tracing: optional(
              oneOf(TRACING_MODES, {
                description:
                  'X-Ray tracing of the functions. "pass-through" (the default) traces only what a traced caller sends, which Security Hub and EventBridge never are: no trace cost. "active": Lambda traces the first invocation each second and 5% of the rest, which for findings arriving apart is nearly every one ($5 per million traces after the free tier).',
              }),
              DEFAULT_FUNCTIONS.tracing,
            ),
          },
          { description: 'The Lambda functions, one per control.' },
        ),
        DEFAULT_FUNCTIONS,
      ),
      ledger: optional(
        object(
          {
            retentionDays: optional(
              integer({
                min: 1,
                max: 3650,
                description:
                  'How long the ledger keeps each change (its before-state, result and rollbacks), in days.',
              }),
              DEFAULT_LEDGER.retentionDays,
            ),
          },
          { description: 'The DynamoDB table recording every change, for rollback.' },
        ),
        DEFAULT_LEDGER,
      ),
      reconcile: optional(
        object(
          {
            enabled: optional(
              boolean({ description: 'Run the reconciler on its schedule.' }),
              DEFAULT_RECONCILE.enabled,
            ),
            schedule: optional(scheduleExpression, DEFAULT_RECONCILE.schedule),
            graceHours: optional(
              integer({
                min: 1,
                max: 720,
                description:
                  'Hours Security Hub is given to see a fix before a finding that still fails counts as drift.',
              }),
              DEFAULT_RECONCILE.graceHours,
            ),
            maxAttempts: optional(
              integer({
                min: 0,
                max: 10,
                description:
                  "How many times hubfix fixes a finding's resource again after its fix did not hold, before it only notifies.",
              }),
              DEFAULT_RECONCILE.maxAttempts,
            ),
          },
          {
            description:
              'The reconciler: a scheduled sweep of failed findings (backfill, drift, lapsed suppressions).',
          },
        ),
        DEFAULT_RECONCILE,
      ),
      organization: optional(organizationConfigSchema),
    },
    { description: 'hubfix configuration: see README.md, "Configuration".' },
  );
}

/**
 * remediation.config.json's rules as JSON Schema, for editors. Made from the
 * schema `parseConfig` checks with, so the two accept the same files (except
 * where JSON Schema cannot say it: a port range's ends must be in order).
 */
export function configJsonSchema(controls: readonly ControlDefinition[] = CONTROLS): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'hubfix remediation.config.json',
    ...jsonSchemaOf(fileSchema(controls)),
  };
}

/** @throws ConfigurationError naming every bad path. */
export function parseConfig(
  input: unknown,
  source: string,
  controls: readonly ControlDefinition[] = CONTROLS,
): HubfixConfig {
  const result = fileSchema(controls).parse(input, '');
  if (!result.ok) throw new ConfigurationError(source, result.issues);
  const file = result.value;
  return {
    notifications: {
      emails: file.notifications?.emails ?? [],
      kmsKey: file.notifications?.kmsKey ?? TOPIC_ENCRYPTION_DEFAULT,
    },
    alarms: { throttles: file.alarms?.throttles ?? 'account' },
    dashboard: { enabled: file.dashboard?.enabled ?? true, name: file.dashboard?.name },
    tags: file.tags ?? defaultTagPolicy(),
    defaults: { mode: file.defaults?.mode, dryRun: file.defaults?.dryRun ?? false },
    allowList: file.allowList,
    controls: file.controls,
    customActions: file.customActions,
    functions: file.functions,
    ledger: file.ledger,
    reconcile: file.reconcile,
    organization: file.organization,
  };
}

export function defaultTagPolicy(): TagPolicy {
  const parsed = tagPolicySchema.parse({}, 'tags');
  if (!parsed.ok) throw new Error('the default tag policy does not validate');
  return parsed.value;
}

/**
 * The config path `-c config=...` names, or the default.
 * @throws ConfigurationError when the option is given without a path.
 */
export function configPathFromContext(value: unknown): string {
  if (value === undefined) return DEFAULT_CONFIG_PATH;
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new ConfigurationError(
    `-c ${CONFIG_CONTEXT_KEY}=`,
    [
      {
        path: '(option)',
        message: `a path is required, e.g. -c ${CONFIG_CONTEXT_KEY}=${DEFAULT_CONFIG_PATH} (leave the option out to use that file)`,
      },
    ],
    { headline: 'names no file' },
  );
}

function readConfigText(filePath: string): string {
  try {
    return readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const absolute = path.resolve(filePath);
    const message =
      code === 'ENOENT'
        ? `not found: ${absolute} (choose another file with -c ${CONFIG_CONTEXT_KEY}=path/to/file.json)`
        : code === 'EISDIR'
          ? `${absolute} is a folder, not a file`
          : `cannot be read: ${absolute} (${code ?? String(error)})`;
    throw new ConfigurationError(filePath, [{ path: '(file)', message }], {
      headline: 'cannot be read',
      cause: error,
    });
  }
}

/** Line and column of a JSON syntax error, from the text itself or from JSON.parse's position. */
function jsonSyntaxIssue(text: string, error: unknown): ValidationIssue {
  const problem = findJsonSyntaxError(text);
  if (problem)
    return { path: `line ${problem.line}, column ${problem.column}`, message: problem.message };
  // The scanner and JSON.parse disagree: fall back on whatever position JSON.parse gives.
  const parseMessage = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(parseMessage)?.[1];
  if (position === undefined)
    return { path: '(file)', message: `is not valid JSON: ${parseMessage}` };
  const { line, column } = lineAndColumn(text, Number(position));
  return { path: `line ${line}, column ${column}`, message: parseMessage };
}

/** @throws ConfigurationError when the file is missing, not JSON, or invalid. */
export function loadConfig(
  filePath: string = DEFAULT_CONFIG_PATH,
  controls: readonly ControlDefinition[] = CONTROLS,
): HubfixConfig {
  // Editors on Windows may start the file with a byte order mark, which JSON.parse refuses.
  const text = readConfigText(filePath).replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(filePath, [jsonSyntaxIssue(text, error)], {
      headline: 'is not valid JSON',
      cause: error,
    });
  }
  return parseConfig(json, filePath, controls);
}

/** The settings one control's function runs with. */
export function resolveSettings(
  config: HubfixConfig,
  control: ControlDefinition,
): RuntimeSettings<unknown> {
  const own = config.controls[control.meta.id];
  const params = own?.params ?? defaultParams(control);
  const mode = own?.mode ?? config.defaults.mode ?? control.defaultMode;
  return {
    controlId: control.meta.id,
    // A notify-only control never remediates, whatever the defaults say.
    mode: control.meta.notifyOnly && mode === 'remediate' ? 'notify' : mode,
    dryRun: own?.dryRun ?? config.defaults.dryRun,
    notifyOnly: control.meta.notifyOnly,
    tags: config.tags,
    allowList: config.allowList,
    overrideAllowList: config.customActions.overrideAllowList,
    maxDriftFixes: config.reconcile.maxAttempts,
    params,
  };
}

function defaultParams(control: ControlDefinition): unknown {
  const parsed = control.meta.params.parse({}, control.meta.id);
  if (!parsed.ok) {
    throw new ConfigurationError(`the defaults of ${control.meta.id}`, parsed.issues);
  }
  return parsed.value;
}

/** @throws ConfigurationError when the settings would not fit a Lambda environment variable. */
export function encodeSettings(settings: RuntimeSettings<unknown>): string {
  const json = JSON.stringify(settings);
  if (json.length > SETTINGS_ENV_LIMIT) {
    throw new ConfigurationError('remediation.config.json', [
      {
        path: 'allowList',
        message: `the settings for ${settings.controlId} are ${json.length} bytes; Lambda environment variables allow about ${SETTINGS_ENV_LIMIT}. Shorten the allow-list (prefer tags to long id lists).`,
      },
    ]);
  }
  return json;
}
