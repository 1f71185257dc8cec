/**
 * What one control's function needs to decide: the resolved settings the
 * stack computes from remediation.config.json at synth time and hands to the
 * function as one JSON environment variable. Both sides use these schemas, so
 * a value the synth accepted is a value the function accepts.
 */
import {
  array,
  boolean,
  type Infer,
  integer,
  object,
  oneOf,
  optional,
  record,
  type Schema,
  string,
} from './schema';

export const MODES = ['off', 'notify', 'remediate'] as const;
export type Mode = (typeof MODES)[number];

/** Tag keys and values as AWS allows them (1–128 and 0–256 characters). */
export const tagKeySchema = string({ minLength: 1, maxLength: 128 });
export const tagValueSchema = string({ maxLength: 256 });

export const accountIdSchema = string({
  pattern: /^\d{12}$/,
  patternName: 'a 12-digit AWS account id',
});

export const tagPolicySchema = object({
  optOut: optional(
    object({
      key: tagKeySchema,
      values: optional(array(tagValueSchema), ['false', 'off']),
    }),
    { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
  ),
  suppress: optional(object({ key: tagKeySchema }), { key: 'hubfix:suppress' }),
});
export type TagPolicy = Infer<typeof tagPolicySchema>;

/**
 * One allow-list entry. The criteria it names must all hold (AND); the list
 * matches when any entry does (OR). An empty list allows every resource.
 */
export const allowListEntrySchema = object({
  tags: optional(record(array(tagValueSchema, { maxItems: 50 }), { key: tagKeySchema })),
  resourceIds: optional(array(string({ minLength: 1 }))),
  accountIds: optional(array(accountIdSchema)),
});
export type AllowListEntry = Infer<typeof allowListEntrySchema>;

export const controlIdSchema = string({
  pattern: /^[A-Za-z][A-Za-z0-9]*\.\d+$/,
  patternName: 'a Security Hub control id such as "EC2.2"',
});

export interface RuntimeSettings<Params> {
  readonly controlId: string;
  readonly mode: Mode;
  readonly dryRun: boolean;
  /** No automatic fix exists for this control; it only ever notifies. */
  readonly notifyOnly: boolean;
  readonly tags: TagPolicy;
  readonly allowList: readonly AllowListEntry[];
  /**
   * A person's "Remediate" (custom action or `npx hubfix remediate`) may fix a
   * resource the allow-list does not name. Off unless the config says so:
   * sending findings to a custom action needs only
   * securityhub:SendFindingEvents, which many read-only roles hold.
   */
  readonly overrideAllowList: boolean;
  /**
   * How many times hubfix fixes one finding's resource again after a fix of
   * its did not hold (drift), before it only notifies. From the config's
   * reconcile.maxAttempts.
   */
  readonly maxDriftFixes: number;
  /** The control's own settings, validated by its params schema. */
  readonly params: Params;
}

export function runtimeSettingsSchema<Params>(params: Schema<Params>) {
  return object({
    controlId: controlIdSchema,
    mode: oneOf(MODES),
    dryRun: boolean(),
    notifyOnly: boolean(),
    tags: tagPolicySchema,
    allowList: array(allowListEntrySchema),
    overrideAllowList: optional(boolean(), false),
    maxDriftFixes: optional(integer({ min: 0, max: 10 }), 1),
    params,
  }) satisfies Schema<RuntimeSettings<Params>>;
}
