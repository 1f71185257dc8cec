/**
 * From the id a person pastes to the finding Security Hub holds. Three kinds
 * of id are taken:
 *
 * | id                                                        | looked up as                      |
 * |-----------------------------------------------------------|-----------------------------------|
 * | hex digits (`d1bc4b01…`)                                  | OCSF `metadata.uid` (GetFindingsV2) |
 * | `arn:…:securityhub:<region>:<account>:security-control/<control>/finding/<uuid>` | ASFF `Id` (GetFindings), then OCSF `finding_info.uid`: both products name a consolidated finding so |
 * | anything else (`arn:…:subscription/…/finding/<uuid>`, …)  | ASFF `Id` (GetFindings)           |
 *
 * The lookups are the ones the control function makes (SecurityHubFindingStore),
 * with the caller's credentials.
 */
import { FindingFetchError, MalformedFindingError } from '../../lambdas/core/errors';
import type { Finding } from '../../lambdas/core/finding';
import type { FindingLookup } from '../../lambdas/core/intake/types';
import type { FindingReader } from './command';

/** OCSF metadata.uid: a hex digest. No Security Hub control finding's ASFF Id looks so. */
const METADATA_UID = /^[0-9a-f]{16,512}$/i;

/** A consolidated control finding: the same ARN in Security Hub CSPM and the new Security Hub. */
const CONTROL_FINDING_ARN =
  /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{12}:security-control\/[^/]+\/finding\/[^/]+$/;

/** Where Security Hub may know the id, in the order to ask. */
export function lookupsFor(id: string): readonly FindingLookup[] {
  if (METADATA_UID.test(id)) return [{ format: 'ocsf', uid: id }];
  if (CONTROL_FINDING_ARN.test(id)) {
    return [
      { format: 'asff', id },
      { format: 'ocsf', uid: id },
    ];
  }
  return [{ format: 'asff', id }];
}

/** The region an ARN names, when the id is an ARN with one. */
export function regionOfArn(id: string): string | undefined {
  const [prefix, , , region] = id.split(':');
  return prefix === 'arn' && region ? region : undefined;
}

export type Located =
  | { readonly kind: 'found'; readonly finding: Finding; readonly controlId: string }
  /** Security Hub answered, and holds no finding by this id. */
  | { readonly kind: 'unknown'; readonly notes: readonly string[] }
  /** Security Hub holds it, but it is not a control finding hubfix can read. */
  | { readonly kind: 'not-a-control-finding'; readonly why: readonly string[] };

function awsErrorName(error: FindingFetchError): string | undefined {
  return error.cause instanceof Error ? error.cause.name : undefined;
}

/**
 * Asks Security Hub for the finding by each lookup the id allows, first
 * answer wins.
 * @throws FindingFetchError when Security Hub could not be asked (denied,
 * throttled, no network): the cause says why.
 */
export async function locateFinding(reader: FindingReader, id: string): Promise<Located> {
  const notes: string[] = [];
  for (const lookup of lookupsFor(id)) {
    const product = lookup.format === 'asff' ? 'Security Hub CSPM' : 'the new Security Hub';
    let finding: Finding | undefined;
    try {
      finding = await reader.fetch(lookup);
    } catch (error) {
      if (!(error instanceof FindingFetchError)) throw error;
      if (error.cause instanceof MalformedFindingError) {
        return {
          kind: 'not-a-control-finding',
          why: error.cause.issues.map((issue) => `${issue.path}: ${issue.message}`),
        };
      }
      // Not subscribed: this product is not on in the region; the other may be.
      if (awsErrorName(error) === 'InvalidAccessException') {
        notes.push(`${product} is not enabled here`);
        continue;
      }
      throw error;
    }
    if (finding === undefined) continue;
    if (finding.controlId === undefined) {
      return {
        kind: 'not-a-control-finding',
        why: [`it names no security control (product ${finding.productArn})`],
      };
    }
    return { kind: 'found', finding, controlId: finding.controlId };
  }
  return { kind: 'unknown', notes };
}
