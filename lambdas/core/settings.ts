/**
 * What one control's function needs to decide: the resolved settings the
 * stack computes from remediation.config.json at synth time and hands to the
 * function as one JSON environment variable. Both sides use these schemas, so
 * a value the synth accepted is a value the function accepts.
 */
import {
  array,
  boolean,
  described,
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

/**
 * Account ids are strings: written as a number, one that starts with 0 would
 * lose it, and JSON does not even allow that number.
 */
export const accountIdSchema = string({
  pattern: /^\d{12}$/,
  patternName: 'a string of 12 digits (an AWS account id)',
  patternNameMany: 'strings of 12 digits (AWS account ids)',
});

export const tagPolicySchema = object(
  {
    optOut: optional(
      object(
        {
          key: described(tagKeySchema, 'The opt-out tag key; keys match exactly.'),
          values: optional(
            array(tagValueSchema, {
              description:
                'Values of the opt-out tag that opt out, compared without regard to case. An empty list means any value opts out.',
            }),
            ['false', 'off'],
          ),
        },
        {
          description:
            "The tag with which a resource's owner keeps hubfix from changing it: hubfix notifies instead.",
        },
      ),
      { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
    ),
    suppress: optional(
      object(
        { key: described(tagKeySchema, 'The suppress tag key; keys match exactly.') },
        {
          description:
            'The tag with which an owner suppresses the finding; its value is the reason, quoted in the note. An empty value does nothing.',
        },
      ),
      { key: 'hubfix:suppress' },
    ),
  },
  { description: 'The tags resource owners use to opt out or suppress. Keys match exactly.' },
);
export type TagPolicy = Infer<typeof tagPolicySchema>;

/**
 * One allow-list entry. The criteria it names must all hold (AND); the list
 * matches when any entry does (OR). An empty list allows every resource. An
 * entry, or a criterion, with nothing in it would match nothing (or, for
 * `tags: {}`, everything), which is never what was meant: both are refused.
 */
export const allowListEntrySchema = object(
  {
    tags: optional(
      record(array(tagValueSchema, { maxItems: 50 }), {
        key: tagKeySchema,
        minEntries: 1,
        description:
          'Tag key → allowed values; the resource must carry every key, with one of its values ([] = any value).',
      }),
    ),
    resourceIds: optional(
      array(string({ minLength: 1 }), {
        minItems: 1,
        description:
          'Resource ARNs or short ids (sg-..., i-...); the resource must be one of them.',
      }),
    ),
    accountIds: optional(
      array(accountIdSchema, {
        minItems: 1,
        description: 'Account ids, as strings; the resource must be in one of them.',
      }),
    ),
  },
  {
    requireSome: true,
    description:
      'Criteria that must all match: tags, resourceIds, accountIds. The list allows a resource when any entry matches.',
  },
);
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
