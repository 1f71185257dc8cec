/**
 * The decision policy (DESIGN §2) as pure functions. No I/O, no clock of its
 * own: the same facts (and the same `now`) always give the same decision, and
 * every row is table-tested.
 *
 * | # | condition                                                  | decision  |
 * |---|------------------------------------------------------------|-----------|
 * | 1 | not a genuine, FAILED, ACTIVE Security Hub control finding | IGNORE    |
 * | 2 | control mode off (whoever asks)                            | IGNORE    |
 * | - | tags could not be read (fail closed, look again later)     | DEFER     |
 * | 3 | suppress tag with a reason, not past its end date          | SUPPRESS  |
 * | 4 | opt-out tag                                                | NOTIFY    |
 * | 5 | notify-only control, mode notify, or not allow-listed      | NOTIFY    |
 * | 6 | dry run, or a person asked for a plan                      | PLAN      |
 * | 7 | otherwise                                                  | REMEDIATE |
 *
 * A person's Remediate or Plan request lifts row 5's notify mode (that is
 * what it is for) but honours everything else: `off`, the owner's tags, a
 * notify-only control, a dry run, and the allow-list unless the config's
 * `customActions.overrideAllowList` says a person may go past it. Sending
 * findings to a custom action needs only securityhub:SendFindingEvents,
 * which many read-only roles hold.
 */
import type { Tags } from './control';
import type { AllowListEntry, Mode, TagPolicy } from './settings';

/**
 * - `imported`: Security Hub reported the finding (or hubfix re-queued it).
 * - `reconciled`: the reconciler's sweep found it; its workflow may be any.
 * - `remediate-action` / `plan-action`: a person asked, in the console or
 *   with `npx hubfix remediate|plan`.
 */
export type Request = 'imported' | 'reconciled' | 'remediate-action' | 'plan-action';

export type Decision =
  | { readonly kind: 'IGNORE'; readonly reason: string }
  | { readonly kind: 'SUPPRESS'; readonly reason: string; readonly until: string | undefined }
  | { readonly kind: 'NOTIFY'; readonly reason: string }
  /** Facts needed to decide could not be read: change nothing now, look again later. */
  | { readonly kind: 'DEFER'; readonly reason: string }
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
}

export interface ResourceIdentity {
  /** Every name the resource goes by (ARN, short id); any may be allow-listed. */
  readonly ids: readonly string[];
  readonly account: string;
}

export interface DecisionInput extends ScreenInput {
  readonly request: Request;
  readonly tags: TagReading;
  readonly tagPolicy: TagPolicy;
  readonly notifyOnly: boolean;
  readonly dryRun: boolean;
  readonly allowList: readonly AllowListEntry[];
  readonly overrideAllowList: boolean;
  readonly resource: ResourceIdentity;
  /** For the suppress tag's end date. */
  readonly now: Date;
}

export const isPersonRequest = (request: Request): boolean =>
  request === 'remediate-action' || request === 'plan-action';

/**
 * Rows 1 and 2: whether the finding deserves a look at the live resource at
 * all. Keeping this apart lets the pipeline skip every AWS call for findings
 * it will ignore anyway.
 */
export function screen(input: ScreenInput): Decision | undefined {
  if (!input.trust.ok) return { kind: 'IGNORE', reason: input.trust.reason };
  if (input.mode === 'off') {
    return { kind: 'IGNORE', reason: 'the control is switched off (mode "off")' };
  }
  return undefined;
}

/**
 * Whether handling this request could change the resource, before its tags
 * are known: a plan, a dry run, a notify-only control or an automatic
 * request in notify mode never can.
 */
export function mayChange(input: {
  readonly mode: Mode;
  readonly request: Request;
  readonly notifyOnly: boolean;
  readonly dryRun: boolean;
}): boolean {
  if (input.mode === 'off' || input.notifyOnly || input.dryRun) return false;
  if (input.request === 'plan-action') return false;
  return input.mode === 'remediate' || isPersonRequest(input.request);
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

export type Suppression =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'active';
      readonly reason: string;
      /** The last day it holds, as the tag wrote it. */
      readonly until: string | undefined;
      /** The end date the tag gave but that is not a date: reported, and treated as none. */
      readonly malformedUntil: string | undefined;
    }
  | { readonly kind: 'expired'; readonly reason: string; readonly until: string };

const UNTIL = /^(.*?)\s*;\s*until\s+(.+?)\s*$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The first moment a suppression no longer holds: the day after an end date
 * (a tag saying "until 2027-03-31" holds through that day, UTC), or the exact
 * time of an ISO timestamp. Undefined when the text is not a date.
 */
export function suppressionEnd(until: string): Date | undefined {
  const day = DATE_ONLY.exec(until);
  if (day) {
    const [, y, m, d] = day.map(Number);
    if (y === undefined || m === undefined || d === undefined) return undefined;
    const date = new Date(Date.UTC(y, m - 1, d));
    // Date.UTC rolls 2027-02-30 over to March: that is not the day the owner wrote.
    if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
    return new Date(date.getTime() + 86_400_000);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(until)) return undefined;
  const time = new Date(until);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * Reads the suppress tag: `<reason>` or `<reason>; until <YYYY-MM-DD>`. A
 * malformed end date never makes a suppression expire: it is reported, and
 * the suppression holds.
 */
export function readSuppression(tags: Tags, policy: TagPolicy, now: Date): Suppression {
  const value = tags[policy.suppress.key]?.trim();
  if (!value) return { kind: 'none' };
  const match = UNTIL.exec(value);
  const reason = (match?.[1] ?? value).trim();
  const until = match?.[2];
  if (!reason) return { kind: 'none' };
  if (until === undefined)
    return { kind: 'active', reason, until: undefined, malformedUntil: undefined };
  const end = suppressionEnd(until);
  if (end === undefined) return { kind: 'active', reason, until: undefined, malformedUntil: until };
  return end.getTime() <= now.getTime()
    ? { kind: 'expired', reason, until }
    : { kind: 'active', reason, until, malformedUntil: undefined };
}

/** The suppress tag's reason, when it suppresses now. */
export function suppressReason(tags: Tags, policy: TagPolicy, now: Date): string | undefined {
  const suppression = readSuppression(tags, policy, now);
  return suppression.kind === 'active' ? suppression.reason : undefined;
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

function suppressionNote(input: DecisionInput, suppression: Suppression): string {
  if (suppression.kind === 'expired') {
    return `the suppression by tag ${input.tagPolicy.suppress.key} ("${suppression.reason}") ended on ${suppression.until}; `;
  }
  return '';
}

export function decide(input: DecisionInput): Decision {
  const screened = screen(input);
  if (screened) return screened;

  if (!input.tags.readable) {
    return {
      kind: 'DEFER',
      reason: `the resource's tags could not be read, so hubfix will not act blind (${input.tags.reason}); it will look again`,
    };
  }
  const tags = input.tags.tags;

  const suppression = readSuppression(tags, input.tagPolicy, input.now);
  if (suppression.kind === 'active') {
    const malformed = suppression.malformedUntil
      ? ` (its end date "${suppression.malformedUntil}" is not a date such as 2027-03-31, so it has no end)`
      : '';
    return {
      kind: 'SUPPRESS',
      reason: `suppressed by tag ${input.tagPolicy.suppress.key}: "${suppression.reason}"${
        suppression.until ? ` until ${suppression.until}` : ''
      }${malformed}`,
      until: suppression.until,
    };
  }
  const lapsed = suppressionNote(input, suppression);

  const optOut = optOutTag(tags, input.tagPolicy);
  if (optOut !== undefined) {
    return {
      kind: 'NOTIFY',
      reason: `${lapsed}the owner opted out with tag ${input.tagPolicy.optOut.key}=${optOut}`,
    };
  }

  if (input.notifyOnly) {
    return { kind: 'NOTIFY', reason: `${lapsed}no automatic fix exists for this control` };
  }
  const person = isPersonRequest(input.request);
  if (!person && input.mode === 'notify') {
    return { kind: 'NOTIFY', reason: `${lapsed}the control is in notify mode` };
  }
  if (
    !(person && input.overrideAllowList) &&
    !isAllowListed(input.allowList, tags, input.resource)
  ) {
    return { kind: 'NOTIFY', reason: `${lapsed}the resource is not on the allow-list` };
  }

  if (input.dryRun) {
    return { kind: 'PLAN', reason: `${lapsed}dry run is on: nothing was changed` };
  }
  if (input.request === 'plan-action') {
    return { kind: 'PLAN', reason: `${lapsed}a person asked for a plan` };
  }
  return {
    kind: 'REMEDIATE',
    reason: `${lapsed}${
      person
        ? 'a person asked for a fix'
        : 'the resource is allow-listed and the control is in remediate mode'
    }`,
  };
}
