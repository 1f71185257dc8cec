/**
 * The finding's lifecycle (DESIGN §7). Security Hub resets NOTIFIED or
 * RESOLVED to NEW only when compliance goes PASSED→FAILED or the record
 * ARCHIVED→ACTIVE, and never resets SUPPRESSED, so the workflow hubfix sets
 * decides whether anybody hears of a finding again:
 *
 * | outcome                                   | workflow it sets                      |
 * |-------------------------------------------|---------------------------------------|
 * | IGNORED                                   | nothing is written                    |
 * | REMEDIATED, ALREADY_COMPLIANT, DEFERRED   | note only (Security Hub resolves it   |
 * |                                           | when its next check passes; NEW again |
 * |                                           | if it was SUPPRESSED or RESOLVED)     |
 * | NOTIFIED, PLANNED, BLOCKED, FAILED        | NOTIFIED: a person must act           |
 * | SUPPRESSED                                | SUPPRESSED                            |
 * | DRIFTED, or any fix of a drifted resource | NOTIFIED, naming the IaC owner        |
 *
 * hubfix also remembers, per finding, what it last did (`FindingHistory`),
 * so a fix that did not hold is recognised as drift and not fought forever.
 */
import type { Plan, Tags } from './control';
import type { WorkflowStatus } from './finding';
import type { DriftMark, HistoryEntry } from './ports';
import type { Drift, FindingReport, Outcome } from './report';

export type WorkflowUpdate =
  | { readonly write: false }
  /** `workflow` undefined: write the note and leave the workflow as it is. */
  | { readonly write: true; readonly workflow: WorkflowStatus | undefined };

/** Pure: what to write to the finding for this report. */
export function workflowFor(
  report: Pick<FindingReport, 'outcome' | 'workflowBefore' | 'drift'>,
): WorkflowUpdate {
  const kind = report.outcome.kind;
  if (kind === 'IGNORED') return { write: false };
  if (kind === 'SUPPRESSED') return { write: true, workflow: 'SUPPRESSED' };
  if (report.drift !== undefined) return { write: true, workflow: 'NOTIFIED' };
  switch (kind) {
    case 'NOTIFIED':
    case 'PLANNED':
    case 'BLOCKED':
    case 'FAILED':
    case 'DRIFTED':
      return { write: true, workflow: 'NOTIFIED' };
    case 'REMEDIATED':
    case 'DEFERRED':
      // A lifted suppression, or a failing finding marked RESOLVED, must be seen again.
      return {
        write: true,
        workflow:
          report.workflowBefore === 'SUPPRESSED' || report.workflowBefore === 'RESOLVED'
            ? 'NEW'
            : undefined,
      };
    case 'ALREADY_COMPLIANT':
      return {
        write: true,
        workflow: report.workflowBefore === 'SUPPRESSED' ? 'NEW' : undefined,
      };
  }
}

/** The next history entry after one handling of the finding. */
export function nextHistory(
  previous: HistoryEntry | undefined,
  report: Pick<FindingReport, 'outcome' | 'decision'>,
  workflow: WorkflowUpdate,
  at: string,
): HistoryEntry {
  const { outcome } = report;
  const fixed = outcome.kind === 'REMEDIATED';
  const changeId =
    outcome.kind === 'REMEDIATED' || outcome.kind === 'FAILED' ? outcome.changeId : undefined;
  return {
    lastOutcome: outcome.kind,
    lastReason: report.decision.reason,
    lastAt: at,
    lastChangeId: changeId,
    fixes: (previous?.fixes ?? 0) + (fixed ? 1 : 0),
    lastFixAt: fixed ? at : previous?.lastFixAt,
    lastFixChangeId: fixed ? changeId : previous?.lastFixChangeId,
    continuing: fixed ? outcome.plan.remaining !== undefined : (previous?.continuing ?? false),
    workflowSet: workflow.write
      ? (workflow.workflow ?? previous?.workflowSet)
      : previous?.workflowSet,
  };
}

/**
 * Outcomes that change nothing: told once, not again at every sweep. A
 * resource found compliant while Security Hub still reports it failing (its
 * next check is late) is one of them: its note is written once.
 */
const UNCHANGING = new Set([
  'NOTIFIED',
  'SUPPRESSED',
  'BLOCKED',
  'PLANNED',
  'DEFERRED',
  'DRIFTED',
  'ALREADY_COMPLIANT',
]);

/**
 * Whether a sweep's result only repeats what hubfix last said about the
 * finding (same outcome, same reason, nothing changed): then the finding
 * keeps its note and nobody is told again. Events and people's requests are
 * always answered.
 */
export function repeatsLastWord(
  request: string,
  previous: HistoryEntry | undefined,
  report: Pick<FindingReport, 'outcome' | 'decision' | 'drift'>,
): boolean {
  return (
    request === 'reconciled' &&
    previous !== undefined &&
    report.drift === undefined &&
    UNCHANGING.has(report.outcome.kind) &&
    previous.lastOutcome === report.outcome.kind &&
    previous.lastReason === report.decision.reason
  );
}

/** Tags by which infrastructure as code marks what it owns, and how to name the owner. */
const OWNER_TAGS: readonly (readonly [string, (value: string) => string])[] = [
  ['aws:cloudformation:stack-name', (v) => `CloudFormation stack "${v}"`],
  ['aws:servicecatalog:provisionedProductArn', (v) => `Service Catalog product ${v}`],
  ['aws:elasticbeanstalk:environment-name', (v) => `Elastic Beanstalk environment "${v}"`],
  ['aws:eks:cluster-name', (v) => `EKS cluster "${v}"`],
];

/** Tags people commonly use to say what manages a resource (case-insensitive keys). */
const MANAGED_BY = new Set(['managed-by', 'managedby', 'managed_by', 'iac', 'provisioner']);

/** The IaC owner named by the resource's tags, for "fix the template, or hubfix will fight it". */
export function ownerFromTags(tags: Tags): string | undefined {
  for (const [key, name] of OWNER_TAGS) {
    const value = tags[key];
    if (value) return name(value);
  }
  for (const [key, value] of Object.entries(tags)) {
    if (MANAGED_BY.has(key.toLowerCase()) && value) return `${value} (tag ${key})`;
  }
  return undefined;
}

/**
 * Drift: hubfix fixed this finding's resource (verified) and the live
 * resource needs fixing again. Not drift when the last fix only covered part
 * of the resource and handed the rest on.
 */
export function driftOf(
  history: HistoryEntry | undefined,
  /** Asked only when hubfix has fixed this finding before. */
  needsFix: () => boolean,
  tags: Tags,
): Drift | undefined {
  if (history === undefined || history.fixes === 0 || history.continuing || !needsFix()) {
    return undefined;
  }
  return {
    previousChangeId: history.lastFixChangeId,
    previousAt: history.lastFixAt ?? history.lastAt,
    owner: ownerFromTags(tags),
    fixes: history.fixes,
  };
}

/** The plan an outcome carries, when it carries one. */
function planOf(outcome: Outcome): Plan<unknown> | undefined {
  switch (outcome.kind) {
    case 'NOTIFIED':
    case 'DRIFTED':
    case 'PLANNED':
    case 'BLOCKED':
    case 'REMEDIATED':
    case 'FAILED':
      return outcome.plan;
    case 'IGNORED':
    case 'SUPPRESSED':
    case 'DEFERRED':
    case 'ALREADY_COMPLIANT':
      return undefined;
  }
}

/**
 * What the ledger notes on the earlier fix when its resource changed back:
 * what a fix would have to do again (the new plan's summary) and who owns
 * the resource. Undefined when nothing drifted.
 */
export function driftMarkOf(
  report: Pick<FindingReport, 'findingId' | 'outcome' | 'drift'>,
  at: string,
): DriftMark | undefined {
  if (report.drift === undefined) return undefined;
  return {
    detectedAt: at,
    findingId: report.findingId,
    changedBack: planOf(report.outcome)?.summary ?? 'the live resource needs the fix again',
    owner: report.drift.owner,
    outcome: report.outcome.kind,
  };
}
