/**
 * What every intake adapter produces: the event's own facts (who sent it,
 * why) and its findings, each either the event's full copy, only the
 * identifiers to fetch it by, or a finding that could not be read.
 */
import type { MalformedFindingError } from '../errors';
import type { Finding, FindingRef } from '../finding';

export type ParsedFinding =
  | { readonly ok: true; readonly finding: Finding }
  | {
      readonly ok: false;
      readonly error: MalformedFindingError;
      /** The id, when even that much could be read, so logs can name it. */
      readonly findingId: string | undefined;
    };

/** What a finding can be looked up by in Security Hub. */
export type FindingLookup =
  | { readonly format: 'asff'; readonly id: string; readonly productArn?: string }
  /** finding_info.uid or metadata.uid of a new Security Hub (OCSF) finding. */
  | { readonly format: 'ocsf'; readonly uid: string };

export function lookupOf(ref: FindingRef): FindingLookup {
  return ref.format === 'asff'
    ? { format: 'asff', id: ref.id, productArn: ref.productArn }
    : { format: 'ocsf', uid: ref.uid };
}

export type IntakeItem =
  | ParsedFinding
  /** Identifiers only (a person's request, a re-queued finding): fetched before anything else. */
  | { readonly ok: 'lookup'; readonly lookup: FindingLookup };

/** Who asked for the findings to be handled, and how. */
export type Trigger =
  /** Security Hub reported new findings. */
  | { readonly kind: 'imported' }
  /** A person chose a custom action in the Security Hub CSPM console. */
  | { readonly kind: 'custom-action'; readonly actionArn: string }
  /** hubfix itself or a person through `npx hubfix`, by invoking the function. */
  | {
      readonly kind: 'direct';
      readonly request: DirectRequestKind;
      readonly origin: DirectOrigin;
      /** Who asked (the caller's ARN), when a person did. */
      readonly by: string | undefined;
    };

export const DIRECT_REQUEST_KINDS = ['remediate', 'plan', 'imported', 'reconcile'] as const;
export type DirectRequestKind = (typeof DIRECT_REQUEST_KINDS)[number];
export const DIRECT_ORIGINS = ['cli', 'requeue', 'reconciler'] as const;
export type DirectOrigin = (typeof DIRECT_ORIGINS)[number];

export interface Intake {
  /** Unique per delivery of a request; the same on a redelivery. */
  readonly eventId: string;
  readonly account: string;
  readonly region: string;
  readonly trigger: Trigger;
  readonly findings: readonly IntakeItem[];
}
