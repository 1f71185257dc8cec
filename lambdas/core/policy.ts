/**
 * The decision policy (DESIGN §2) as pure functions. No I/O, no clock: the
 * same facts always give the same decision, and every row is table-tested.
 *
 * | # | condition                                                  | decision  |
 * |---|------------------------------------------------------------|-----------|
 * | 1 | not a genuine, FAILED, ACTIVE Security Hub control finding | IGNORE    |
 * | 2 | control mode off                                           | IGNORE    |
 * | - | tags could not be read (fail closed)                       | NOTIFY    |
 * | 3 | suppress tag with a non-empty reason                       | SUPPRESS  |
 * | 4 | opt-out tag                                                | NOTIFY    |
 * | 5 | notify-only control, mode notify, or not allow-listed      | NOTIFY    |
 * | 6 | dry run, or the Plan custom action                         | PLAN      |
 * | 7 | otherwise                                                  | REMEDIATE |
 *
 * A person's Remediate or Plan request skips rows 2 and 5's mode and
 * allow-list checks (Plan previews what Remediate would do); owners' tags
 * (rows 3 and 4) and a notify-only control still win, and a dry run still
 * turns Remediate into a plan.
 */
import type { Tags } from './control';
import type { AllowListEntry, Mode, TagPolicy } from './settings';

export type Request = 'imported' | 'remediate-action' | 'plan-action';

export type Decision =
  | { readonly kind: 'IGNORE'; readonly reason: string }
  | { readonly kind: 'SUPPRESS'; readonly reason: string }
  | { readonly kind: 'NOTIFY'; readonly reason: string }
  | { readonly kind: 'PLAN'; readonly reason: string }
  | { readonly kind: 'REMEDIATE'; readonly reason: string };

export type DecisionKind = Decision['kind'];

export type TrustVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type TagReading =
  | { readonly readable: true; readonly tags: Tags }
  | { readonly readable: false; readonly reason: string };

export interface ScreenInput {
  readonly trust: TrustVerdict;
  readonly mode: Mode;
  readonly request: Request;
}

export interface ResourceIdentity {
  /** Every name the resource goes by (ARN, short id); any may be allow-listed. */
  readonly ids: readonly string[];
  readonly account: string;
}

export interface DecisionInput extends ScreenInput {
  readonly tags: TagReading;
  readonly tagPolicy: TagPolicy;
  readonly notifyOnly: boolean;
  readonly dryRun: boolean;
  readonly allowList: readonly AllowListEntry[];
  readonly resource: ResourceIdentity;
}

const isPersonRequest = (request: Request): boolean => request !== 'imported';

/**
 * Rows 1 and 2: whether the finding deserves a look at the live resource at
 * all. Keeping this apart lets the pipeline skip every AWS call for findings
 * it will ignore anyway.
 */
export function screen(input: ScreenInput): Decision | undefined {
  if (!input.trust.ok) return { kind: 'IGNORE', reason: input.trust.reason };
  if (input.mode === 'off' && !isPersonRequest(input.request)) {
    return { kind: 'IGNORE', reason: 'the control is switched off (mode "off")' };
  }
  return undefined;
}

function normalise(value: string): string {
  return value.trim().toLowerCase();
}

export function optOutTag(tags: Tags, policy: TagPolicy): string | undefined {
  const value = tags[policy.optOut.key];
  if (value === undefined) return undefined;
  const values = policy.optOut.values.map(normalise);
  return values.length === 0 || values.includes(normalise(value)) ? value : undefined;
}

export function suppressReason(tags: Tags, policy: TagPolicy): string | undefined {
  const reason = tags[policy.suppress.key]?.trim();
  return reason ? reason : undefined;
}

function entryMatches(entry: AllowListEntry, tags: Tags, resource: ResourceIdentity): boolean {
  const criteria: boolean[] = [];
  if (entry.tags !== undefined) {
    criteria.push(
      Object.entries(entry.tags).every(([key, allowed]) => {
        const value = tags[key];
        return value !== undefined && (allowed.length === 0 || allowed.includes(value));
      }),
    );
  }
  if (entry.resourceIds !== undefined) {
    criteria.push(entry.resourceIds.some((id) => resource.ids.includes(id)));
  }
  if (entry.accountIds !== undefined) {
    criteria.push(entry.accountIds.includes(resource.account));
  }
  // An entry with no criteria would allow everything by accident; it allows nothing.
  return criteria.length > 0 && criteria.every(Boolean);
}

export function isAllowListed(
  allowList: readonly AllowListEntry[],
  tags: Tags,
  resource: ResourceIdentity,
): boolean {
  return allowList.length === 0 || allowList.some((entry) => entryMatches(entry, tags, resource));
}

export function decide(input: DecisionInput): Decision {
  const screened = screen(input);
  if (screened) return screened;

  if (!input.tags.readable) {
    return {
      kind: 'NOTIFY',
      reason: `the resource's tags could not be read, so hubfix will not act blind (${input.tags.reason})`,
    };
  }
  const tags = input.tags.tags;

  const suppress = suppressReason(tags, input.tagPolicy);
  if (suppress !== undefined) {
    return {
      kind: 'SUPPRESS',
      reason: `suppressed by tag ${input.tagPolicy.suppress.key}: "${suppress}"`,
    };
  }

  const optOut = optOutTag(tags, input.tagPolicy);
  if (optOut !== undefined) {
    return {
      kind: 'NOTIFY',
      reason: `the owner opted out with tag ${input.tagPolicy.optOut.key}=${optOut}`,
    };
  }

  if (input.notifyOnly) {
    return { kind: 'NOTIFY', reason: 'no automatic fix exists for this control' };
  }
  if (!isPersonRequest(input.request)) {
    if (input.mode === 'notify') {
      return { kind: 'NOTIFY', reason: 'the control is in notify mode' };
    }
    if (!isAllowListed(input.allowList, tags, input.resource)) {
      return { kind: 'NOTIFY', reason: 'the resource is not on the allow-list' };
    }
  }

  if (input.dryRun) {
    return { kind: 'PLAN', reason: 'dry run is on: nothing was changed' };
  }
  if (input.request === 'plan-action') {
    return { kind: 'PLAN', reason: 'a plan was requested from the Security Hub console' };
  }
  return {
    kind: 'REMEDIATE',
    reason:
      input.request === 'remediate-action'
        ? 'a fix was requested from the Security Hub console'
        : 'the resource is allow-listed and the control is in remediate mode',
  };
}
