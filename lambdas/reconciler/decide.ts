/**
 * What the sweep does with one failed finding (pure, table-tested). The
 * sweep only chooses whether to hand the finding to its control's pipeline
 * and as which request; the pipeline then fetches the finding again, reads
 * the live resource and decides as it always does. First match wins:
 *
 * | # | the finding, and what hubfix last did with it                  | decision                     |
 * |---|----------------------------------------------------------------|------------------------------|
 * | 0 | another account, region or product (org mode: an account or    | leave: not-ours              |
 * |   | region the organization scope leaves out); a control not       |                              |
 * |   | deployed; not FAILED or not ACTIVE                             |                              |
 * | 1 | never handled by hubfix, workflow NEW                          | hand as imported: backfill   |
 * | 2 | never handled by hubfix, any other workflow                    | leave: not-hubfix            |
 * | 3 | workflow is not NEW and not the one hubfix last set            | leave: not-hubfix            |
 * | 4 | last outcome DRIFTED                                           | leave: drifted               |
 * | 5 | REMEDIATED or ALREADY_COMPLIANT less than the grace period ago | leave: within-grace          |
 * | 6 | REMEDIATED or ALREADY_COMPLIANT, still FAILED after the grace  | hand as reconcile: still-failing |
 * | 7 | FAILED less than the grace period ago                          | leave: within-grace          |
 * | 8 | FAILED, NOTIFIED, BLOCKED, PLANNED, DEFERRED                    | hand as reconcile: re-decide |
 * | 9 | SUPPRESSED                                                     | hand as reconcile: suppression |
 *
 * Row 3 keeps a person's triage: a workflow someone set in the console
 * (SUPPRESSED, NOTIFIED, RESOLVED) after hubfix's last word is theirs. NEW is
 * nobody's triage: Security Hub sets it, and hubfix leaves it after a fix it
 * lets Security Hub resolve.
 */
import { type Finding, securityHubRegion } from '../core/finding';
import { type OrganizationScope, scopeRefusal } from '../core/organization';
import type { HistoryEntry } from '../core/ports';

/** Why a finding is handed to its control's pipeline. */
export const HAND_REASONS = ['backfill', 'still-failing', 're-decide', 'suppression'] as const;
export type HandReason = (typeof HAND_REASONS)[number];

/** Why a finding is left as it is. */
export const LEAVE_REASONS = ['within-grace', 'drifted', 'not-hubfix', 'not-ours'] as const;
export type LeaveReason = (typeof LEAVE_REASONS)[number];

export type DecisionLabel = HandReason | LeaveReason;
export const DECISION_LABELS: readonly DecisionLabel[] = [...HAND_REASONS, ...LEAVE_REASONS];

export type SweepDecision =
  | {
      readonly kind: 'hand';
      /** The direct request the control's function gets. */
      readonly request: 'imported' | 'reconcile';
      readonly why: HandReason;
      readonly detail: string;
    }
  | { readonly kind: 'leave'; readonly why: LeaveReason; readonly detail: string };

/**
 * What this deployment may act on: its own account, region, product and
 * controls; in org mode, the accounts and regions of the organization scope.
 */
export interface SweepScope {
  /** This deployment's own account and region. */
  readonly account: string;
  readonly region: string;
  /**
   * Security Hub's own product ARNs (ASFF `product/`, OCSF `productv2/`) in
   * this region, or in org mode in each allowed region.
   */
  readonly products: readonly string[];
  readonly controls: ReadonlySet<string>;
  /**
   * Org mode: the member accounts and regions hubfix may act in, checked as
   * the trust stage checks them. @default undefined — single-account mode
   */
  readonly organization?: Pick<OrganizationScope, 'accounts' | 'excludeAccounts' | 'regions'>;
}

export interface DecisionInput {
  readonly finding: Finding;
  /** What hubfix last did with this finding; undefined when it never handled it. */
  readonly history: HistoryEntry | undefined;
  readonly now: Date;
  /** How long a fix is given before a finding that still fails is looked at again. */
  readonly graceMs: number;
  readonly scope: SweepScope;
}

/** Security Hub's own product ARNs in a region. */
export function securityHubProducts(partition: string, region: string): string[] {
  return [
    `arn:${partition}:securityhub:${region}::product/aws/securityhub`,
    `arn:${partition}:securityhub:${region}::productv2/aws/securityhub`,
  ];
}

/** Row 0 in org mode: is the finding of an allowed account and region, as trust asks? */
function outsideOrganization(
  finding: Finding,
  scope: SweepScope,
  organization: NonNullable<SweepScope['organization']>,
): string | undefined {
  // Aggregated findings keep the region that produced them in their product ARN.
  const producedIn = securityHubRegion(finding.productArn);
  if (producedIn === undefined) return `it is not from Security Hub (${finding.productArn})`;
  const outside = scopeRefusal(organization, finding.awsAccountId, producedIn);
  if (outside !== undefined) return outside;
  if (!scope.products.includes(finding.productArn)) {
    return `it is not from Security Hub in ${organization.regions.join(', ')} (${finding.productArn})`;
  }
  if (finding.region !== undefined && finding.region !== producedIn) {
    return `it is in ${finding.region}, but Security Hub in ${producedIn} produced it`;
  }
  return undefined;
}

/** Row 0: why a finding is not this deployment's to hand on, or undefined when it is. */
export function outOfScope(finding: Finding, scope: SweepScope): string | undefined {
  if (scope.organization !== undefined) {
    const outside = outsideOrganization(finding, scope, scope.organization);
    if (outside !== undefined) return outside;
  } else if (finding.awsAccountId !== scope.account) {
    return `it belongs to account ${finding.awsAccountId}, not ${scope.account}`;
  } else if (!scope.products.includes(finding.productArn)) {
    return `it is not from Security Hub in ${scope.region} (${finding.productArn})`;
  } else if (finding.region !== undefined && finding.region !== scope.region) {
    return `it is in ${finding.region}, not ${scope.region}`;
  }
  if (finding.controlId === undefined || !scope.controls.has(finding.controlId)) {
    return `control ${finding.controlId ?? '(none)'} is not deployed`;
  }
  if (finding.complianceStatus !== 'FAILED') {
    return `its compliance status is ${finding.complianceStatus ?? 'missing'}`;
  }
  if (finding.recordState !== 'ACTIVE') {
    return `it is ${finding.recordState ?? 'in no record state'}`;
  }
  return undefined;
}

function withinGrace(history: HistoryEntry, now: Date, graceMs: number): boolean {
  const age = now.getTime() - Date.parse(history.lastAt);
  // A date hubfix cannot read counts as long ago: the finding is looked at, not forgotten.
  return Number.isFinite(age) && age < graceMs;
}

function hours(ms: number): string {
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}

export function decideSweep(input: DecisionInput): SweepDecision {
  const { finding, history, now, graceMs } = input;
  const notOurs = outOfScope(finding, input.scope);
  if (notOurs !== undefined) return { kind: 'leave', why: 'not-ours', detail: notOurs };
  const workflow = finding.workflowStatus;

  if (history === undefined) {
    return workflow === 'NEW'
      ? {
          kind: 'hand',
          request: 'imported',
          why: 'backfill',
          detail: 'failed and new, and hubfix never handled it',
        }
      : {
          kind: 'leave',
          why: 'not-hubfix',
          detail: `its workflow is ${workflow ?? 'missing'} and hubfix never handled it`,
        };
  }
  if (workflow !== 'NEW' && workflow !== history.workflowSet) {
    return {
      kind: 'leave',
      why: 'not-hubfix',
      detail: `its workflow is ${workflow ?? 'missing'}, set by someone else after hubfix's last word (${history.lastOutcome})`,
    };
  }

  const reconcile = (why: HandReason, detail: string): SweepDecision => ({
    kind: 'hand',
    request: 'reconcile',
    why,
    detail,
  });
  const since = `${history.lastOutcome} ${history.lastAt}`;
  switch (history.lastOutcome) {
    case 'DRIFTED':
      return {
        kind: 'leave',
        why: 'drifted',
        detail: 'hubfix stopped fighting drift on it; it needs a person (or its template)',
      };
    case 'REMEDIATED':
    case 'ALREADY_COMPLIANT':
      return withinGrace(history, now, graceMs)
        ? {
            kind: 'leave',
            why: 'within-grace',
            detail: `${since}: Security Hub has ${hours(graceMs)} to see the fix`,
          }
        : reconcile(
            'still-failing',
            `${since} and still failing after ${hours(graceMs)}: the fix may not have held`,
          );
    case 'FAILED':
      return withinGrace(history, now, graceMs)
        ? {
            kind: 'leave',
            why: 'within-grace',
            detail: `${since}: a failed fix is tried again at most once per ${hours(graceMs)}`,
          }
        : reconcile('re-decide', `${since}: tried again`);
    case 'NOTIFIED':
    case 'BLOCKED':
    case 'PLANNED':
    case 'DEFERRED':
    case 'IGNORED':
      return reconcile('re-decide', `${since}: decided again (quiet if nothing differs)`);
    case 'SUPPRESSED':
      return reconcile('suppression', `${since}: lifted if the suppress tag is gone or expired`);
  }
}
