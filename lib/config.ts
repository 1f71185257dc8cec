/**
 * remediation.config.json: loaded and validated at synth time, so a mistake
 * fails `cdk synth` with the path that is wrong and why, long before any
 * finding arrives. The schema is built from the registry: each control's own
 * settings are checked by that control's params schema.
 */
import { readFileSync } from 'node:fs';
import { ConfigurationError, type ValidationIssue } from '../lambdas/core/errors';
import {
  array,
  boolean,
  childPath,
  integer,
  isRecord,
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

export const DEFAULT_CONFIG_PATH = 'remediation.config.json';

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
  readonly functions: {
    readonly reservedConcurrency: number;
    readonly logRetentionDays: number;
    readonly memorySize: number;
  };
  readonly ledger: { readonly retentionDays: number };
}

const retentionDays: Schema<number> = {
  expected: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
  parse(input, path) {
    return typeof input === 'number' && (LOG_RETENTION_DAYS as readonly number[]).includes(input)
      ? { ok: true, value: input }
      : {
          ok: false,
          issues: [{ path, message: `expected ${this.expected}, got ${JSON.stringify(input)}` }],
        };
  },
};

const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:key\/(?:mrk-)?[0-9a-f-]{32,36}$/;

const topicEncryption: Schema<TopicEncryption> = {
  expected:
    '"none", "managed-by-hubfix" or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
  parse(input, path) {
    if (input === 'none' || input === 'managed-by-hubfix')
      return { ok: true, value: { kind: input } };
    if (typeof input === 'string' && KMS_KEY_ARN.test(input)) {
      return { ok: true, value: { kind: 'key', keyArn: input } };
    }
    return {
      ok: false,
      issues: [{ path, message: `expected ${this.expected}, got ${JSON.stringify(input)}` }],
    };
  },
};

const dashboardName = string({
  pattern: /^[A-Za-z0-9_-]{1,255}$/,
  patternName: 'a dashboard name (1-255 letters, digits, "-" or "_")',
});

const email = string({
  pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  patternName: 'an email address',
});

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
        const schema = object({
          mode: optional(oneOf(MODES)),
          dryRun: optional(boolean()),
          ...definition.meta.params.shape,
        });
        const result = schema.parse(value, at);
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
  };
}

const DEFAULT_FUNCTIONS = { reservedConcurrency: 2, logRetentionDays: 30, memorySize: 256 };
const DEFAULT_LEDGER = { retentionDays: 365 };

function fileSchema(controls: readonly ControlDefinition[]) {
  return object({
    $schema: optional(string()),
    $comment: optional(string()),
    notifications: optional(
      object({
        emails: optional(array(email, { unique: true }), []),
        kmsKey: optional(topicEncryption, TOPIC_ENCRYPTION_DEFAULT),
      }),
    ),
    alarms: optional(object({ throttles: optional(oneOf(THROTTLE_ALARMS), 'account') })),
    dashboard: optional(
      object({ enabled: optional(boolean(), true), name: optional(dashboardName) }),
    ),
    tags: optional(tagPolicySchema),
    defaults: optional(
      object({ mode: optional(oneOf(MODES)), dryRun: optional(boolean(), false) }),
    ),
    allowList: optional(array(allowListEntrySchema), []),
    controls: optional(controlsSchema(controls), {}),
    functions: optional(
      object({
        reservedConcurrency: optional(
          integer({ min: 1, max: 1000 }),
          DEFAULT_FUNCTIONS.reservedConcurrency,
        ),
        logRetentionDays: optional(retentionDays, DEFAULT_FUNCTIONS.logRetentionDays),
        memorySize: optional(integer({ min: 128, max: 10240 }), DEFAULT_FUNCTIONS.memorySize),
      }),
      DEFAULT_FUNCTIONS,
    ),
    ledger: optional(
      object({
        retentionDays: optional(integer({ min: 1, max: 3650 }), DEFAULT_LEDGER.retentionDays),
      }),
      DEFAULT_LEDGER,
    ),
  });
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
    functions: file.functions,
    ledger: file.ledger,
  };
}

export function defaultTagPolicy(): TagPolicy {
  const parsed = tagPolicySchema.parse({}, 'tags');
  if (!parsed.ok) throw new Error('the default tag policy does not validate');
  return parsed.value;
}

/** @throws ConfigurationError when the file is missing, not JSON, or invalid. */
export function loadConfig(
  filePath: string = DEFAULT_CONFIG_PATH,
  controls: readonly ControlDefinition[] = CONTROLS,
): HubfixConfig {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new ConfigurationError(filePath, [
      {
        path: '(file)',
        message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(filePath, [
      { path: '(file)', message: `is not valid JSON: ${(error as Error).message}` },
    ]);
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
    // The config key is customActions.overrideAllowList (added with its schema).
    overrideAllowList: false,
    // The config key is reconcile.maxAttempts (added with the reconciler).
    maxDriftFixes: 1,
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
