/**
 * What happened to one finding, and how it is told: the Security Hub note and
 * the SNS subject and body. One renderer serves every control, so every
 * outcome reads the same way wherever a person meets it. Every text stays
 * within its service's limit: long lists are cut with "and N more" (the full
 * list is in the ledger), the note at 512 characters, the SNS message well
 * under 256 KB.
 */
import type { ChangePlan, Plan } from './control';
import type { FindingRef, SeverityLabel } from './finding';
import type { Decision, Request } from './policy';
import type { TagPolicy } from './settings';

export type Outcome =
  | { readonly kind: 'IGNORED'; readonly reason: string }
  | { readonly kind: 'SUPPRESSED'; readonly reason: string }
  | { readonly kind: 'NOTIFIED'; readonly reason: string; readonly plan: Plan<unknown> | undefined }
  /** Nothing changed because something could not be read or was busy; hubfix looks again. */
  | { readonly kind: 'DEFERRED'; readonly reason: string }
  | {
      readonly kind: 'PLANNED';
      readonly reason: string;
      readonly plan: Plan<unknown>;
      readonly blockers: readonly string[];
    }
  | { readonly kind: 'ALREADY_COMPLIANT'; readonly summary: string }
  | {
      readonly kind: 'BLOCKED';
      readonly plan: ChangePlan<unknown>;
      readonly blockers: readonly string[];
    }
  | {
      readonly kind: 'REMEDIATED';
      readonly plan: ChangePlan<unknown>;
      readonly changes: readonly string[];
      readonly changeId: string;
    }
  | {
      readonly kind: 'FAILED';
      readonly stage: 'preflight' | 'apply' | 'verify';
      readonly error: string;
      /** What the resource looks like now, in words. */
      readonly stateLeft: string;
      readonly plan: ChangePlan<unknown>;
      readonly changes: readonly string[];
      readonly changeId: string | undefined;
    }
  /** hubfix fixed it before, the fix did not hold, and hubfix will not fight it again. */
  | {
      readonly kind: 'DRIFTED';
      readonly reason: string;
      readonly plan: Plan<unknown> | undefined;
    };

export type OutcomeKind = Outcome['kind'];

/** How the request reached the function. */
export type Via = 'security-hub' | 'console' | 'cli' | 'requeue' | 'reconciler';

/** A fix hubfix made earlier on this finding's resource that did not hold. */
export interface Drift {
  readonly previousChangeId: string | undefined;
  readonly previousAt: string;
  /** The stack (or other IaC) that owns the resource, when its tags say. */
  readonly owner: string | undefined;
  /** How many times hubfix has fixed this finding's resource, this one not counted. */
  readonly fixes: number;
}

export interface FindingReport {
  readonly findingId: string;
  readonly ref: FindingRef;
  readonly controlId: string;
  readonly controlTitle: string;
  readonly severity: SeverityLabel;
  readonly account: string;
  readonly region: string;
  readonly resourceType: string;
  /** The resource as the finding names it (usually an ARN). */
  readonly resource: string;
  /** The short id (sg-…, i-…), for subjects a person scans. */
  readonly resourceId: string;
  readonly request: Request;
  readonly via: Via;
  /** False for notify-only controls: the plan is then what a person has to do. */
  readonly automatic: boolean;
  /**
   * Whether Security Hub confirmed the finding when asked again. Unconfirmed
   * findings may be planned and notified from the event's copy, never fixed.
   */
  readonly confirmation:
    | { readonly confirmed: true }
    | { readonly confirmed: false; readonly reason: string };
  /** The finding's workflow status as Security Hub had it, before hubfix's update. */
  readonly workflowBefore: string | undefined;
  readonly drift: Drift | undefined;
  readonly decision: Decision;
  readonly outcome: Outcome;
}

export type DeliveryStatus =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string }
  | { readonly ok: 'skipped' };

export const NOTE_LIMIT = 512;
export const SUBJECT_LIMIT = 100;
/**
 * SNS takes 262,144 bytes for message, subject and attributes together;
 * the body keeps this many bytes, leaving room for the rest.
 */
export const MESSAGE_BYTE_LIMIT = 250_000;
/** Lines of one list (steps, changes, blockers) a message shows before "and N more". */
export const LIST_LIMIT = 50;

function clip(value: string, limit: number): string {
  return value.length <= limit ? value : `${value.slice(0, limit - 1)}…`;
}

/** At most `limit` items, then one line saying how many more there are. */
export function clipList(items: readonly string[], limit: number): string[] {
  if (items.length <= limit) return [...items];
  return [
    ...items.slice(0, limit),
    `and ${items.length - limit} more (the full list is in the ledger)`,
  ];
}

/** Cuts a UTF-8 text to at most `bytes` bytes, on a character boundary, saying it was cut. */
export function clipBytes(value: string, bytes: number, notice: string): string {
  if (Buffer.byteLength(value, 'utf8') <= bytes) return value;
  const room = bytes - Buffer.byteLength(notice, 'utf8');
  let cut = value.slice(0, room);
  while (Buffer.byteLength(cut, 'utf8') > room) cut = cut.slice(0, -1);
  return `${cut}${notice}`;
}

function joinSome(items: readonly string[], limit: number, separator: string): string {
  return clipList(items, limit).join(separator);
}

function planSummary(plan: Plan<unknown> | undefined): string | undefined {
  return plan?.summary;
}

function continuing(plan: ChangePlan<unknown>): string {
  return plan.remaining ? ` Still to do, in another invocation: ${plan.remaining}.` : '';
}

function driftNote(report: FindingReport): string {
  const { drift } = report;
  if (!drift) return '';
  const owner = drift.owner
    ? ` ${report.resourceId} belongs to ${drift.owner}: fix the template, or hubfix will fight it.`
    : '';
  return ` hubfix fixed this before (${drift.previousChangeId ?? drift.previousAt}) and it changed back.${owner}`;
}

function unconfirmedNote(report: FindingReport): string {
  return report.confirmation.confirmed
    ? ''
    : ` Security Hub could not confirm the finding (${report.confirmation.reason}); this used the event's copy.`;
}

/** The note written to the finding: a short account a person reads in the console. */
export function noteFor(report: FindingReport): string {
  const o = report.outcome;
  let note: string;
  switch (o.kind) {
    case 'IGNORED':
      note = `hubfix ignored this finding: ${o.reason}.`;
      break;
    case 'SUPPRESSED':
      note = `hubfix suppressed this finding: ${o.reason}.`;
      break;
    case 'NOTIFIED': {
      const would = planSummary(o.plan);
      note = `hubfix did not change anything: ${o.reason}.${would ? ` A fix would ${would}.` : ''}`;
      break;
    }
    case 'DEFERRED':
      note = `hubfix changed nothing and will look again: ${o.reason}.`;
      break;
    case 'PLANNED': {
      const steps =
        o.plan.kind === 'change'
          ? joinSome(
              o.plan.steps.map((step, i) => `${i + 1}) ${step}`),
              5,
              ' ',
            )
          : 'nothing: the live resource is already compliant.';
      const blocked =
        o.blockers.length > 0 ? ` It would be blocked: ${joinSome(o.blockers, 3, '; ')}.` : '';
      note = `hubfix plan (${o.reason}). It would ${steps}${blocked}`;
      break;
    }
    case 'ALREADY_COMPLIANT':
      note = `hubfix found the live resource already compliant (${o.summary}); nothing changed.`;
      break;
    case 'BLOCKED':
      note = `hubfix did not change the resource: ${joinSome(o.blockers, 3, '; ')}. A fix would ${o.plan.summary}.`;
      break;
    case 'REMEDIATED':
      note = `hubfix remediated and verified: ${o.plan.summary}. Change ${o.changeId}.${continuing(o.plan)}${
        o.plan.undo.length > 0 ? ' Undo steps are in the SNS notification.' : ''
      }${o.plan.irreversible ? ` Not reversible: ${o.plan.irreversible}.` : ''}`;
      break;
    case 'FAILED':
      note = `hubfix failed during ${o.stage}: ${o.error}. State now: ${o.stateLeft}.`;
      break;
    case 'DRIFTED':
      note = `hubfix did not fix this again: ${o.reason}.`;
      break;
  }
  return clip(`${note}${driftNote(report)}${unconfirmedNote(report)}`, NOTE_LIMIT);
}

const OUTCOME_HEADLINE: Record<OutcomeKind, string> = {
  IGNORED: 'ignored a finding',
  SUPPRESSED: 'suppressed a finding',
  NOTIFIED: 'needs a person to look at a finding',
  DEFERRED: 'will look at a finding again',
  PLANNED: 'planned a fix (nothing changed)',
  ALREADY_COMPLIANT: 'found a resource already compliant',
  BLOCKED: 'held back a fix',
  REMEDIATED: 'fixed a resource',
  FAILED: 'failed to fix a resource',
  DRIFTED: 'found that a fix did not hold',
};

export function requestLabel(request: Request, via: Via): string {
  const action = request === 'plan-action' ? '"Plan"' : '"Remediate"';
  switch (via) {
    case 'security-hub':
      return 'new failed finding from Security Hub';
    case 'console':
      return `${action} custom action in the Security Hub console`;
    case 'cli':
      return `npx hubfix ${request === 'plan-action' ? 'plan' : 'remediate'}`;
    case 'requeue':
      return 'the rest of an earlier request, handed on by hubfix';
    case 'reconciler':
      return "hubfix's scheduled sweep of failed findings";
  }
}

/** SNS subjects must be ASCII, single-line and at most 100 characters. */
export function subjectFor(report: FindingReport): string {
  const raw = `hubfix ${report.outcome.kind} ${report.controlId} ${report.resourceId} (${report.account} ${report.region})`;
  const ascii = raw.replace(/[^\x20-\x7E]/g, '?');
  return clip(ascii, SUBJECT_LIMIT).replace(/…$/, '.');
}

function numbered(lines: readonly string[]): string[] {
  return clipList(lines, LIST_LIMIT).map((line, i) =>
    i < LIST_LIMIT ? `  ${i + 1}. ${line}` : `  ${line}`,
  );
}

function bulleted(lines: readonly string[]): string[] {
  return clipList(lines, LIST_LIMIT).map((line) => `  - ${line}`);
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : ['', title, ...lines];
}

function planSections(plan: Plan<unknown> | undefined, heading: string): string[] {
  if (!plan) return [];
  if (plan.kind === 'compliant') return section(heading, [`  nothing: ${plan.summary}`]);
  return [
    ...section(heading, numbered(plan.steps)),
    ...(plan.remaining ? section('Left for another invocation:', [`  ${plan.remaining}`]) : []),
    ...section('How to undo it:', plan.undo.length > 0 ? bulleted(plan.undo) : []),
    ...(plan.irreversible ? section('Cannot be undone:', [`  ${plan.irreversible}`]) : []),
  ];
}

function outcomeSections(report: FindingReport): string[] {
  const { outcome } = report;
  switch (outcome.kind) {
    case 'IGNORED':
    case 'SUPPRESSED':
    case 'DEFERRED':
      return [];
    case 'NOTIFIED':
      return planSections(
        outcome.plan,
        report.automatic ? 'What a fix would do:' : 'What to do by hand (no automatic fix exists):',
      );
    case 'DRIFTED':
      return planSections(outcome.plan, 'What it would take to fix it again:');
    case 'PLANNED':
      return [
        ...planSections(outcome.plan, 'What the fix would do:'),
        ...section('It would be blocked because:', bulleted(outcome.blockers)),
      ];
    case 'ALREADY_COMPLIANT':
      return section('Live state:', [`  ${outcome.summary}`]);
    case 'BLOCKED':
      return [
        ...section('Why nothing changed:', bulleted(outcome.blockers)),
        ...planSections(outcome.plan, 'What the fix would do once that is resolved:'),
      ];
    case 'REMEDIATED':
      return [
        ...section('What changed:', numbered(outcome.changes)),
        ...(outcome.plan.remaining
          ? section('Left for another invocation:', [`  ${outcome.plan.remaining}`])
          : []),
        ...section('Change id (ledger):', [`  ${outcome.changeId}`]),
        ...section('How to undo it:', bulleted(outcome.plan.undo)),
        ...(outcome.plan.irreversible
          ? section('Cannot be undone:', [`  ${outcome.plan.irreversible}`])
          : []),
      ];
    case 'FAILED':
      return [
        ...section('What went wrong:', [`  during ${outcome.stage}: ${outcome.error}`]),
        ...section('State left behind:', [`  ${outcome.stateLeft}`]),
        ...section('Changes made before it stopped:', numbered(outcome.changes)),
        ...section(
          'How to undo those changes:',
          outcome.changes.length > 0 ? bulleted(outcome.plan.undo) : [],
        ),
      ];
  }
}

function driftSection(report: FindingReport): string[] {
  const { drift } = report;
  if (!drift) return [];
  return section('The fix did not hold:', [
    `  hubfix changed this resource before (${drift.previousChangeId ?? 'no change id'}, ${drift.previousAt}) and it is non-compliant again.`,
    drift.owner
      ? `  It belongs to ${drift.owner}: fix the template, or hubfix will fight it.`
      : '  Nothing in its tags names an owner (CloudFormation, Service Catalog, ...): look for what puts it back.',
  ]);
}

/** The SNS body: plain text a person can read on a phone. */
export function messageFor(
  report: FindingReport,
  findingUpdate: DeliveryStatus,
  workflow: string | undefined,
  tagPolicy: TagPolicy,
): string {
  const findingLine =
    findingUpdate.ok === true
      ? workflow
        ? `  workflow set to ${workflow}, with a note`
        : '  a note was added; the workflow is left for Security Hub'
      : findingUpdate.ok === false
        ? `  COULD NOT BE UPDATED: ${findingUpdate.error}`
        : '  left unchanged';
  const body = [
    `hubfix ${OUTCOME_HEADLINE[report.outcome.kind]}.`,
    '',
    `Control:   ${report.controlId}  ${report.controlTitle}`,
    `Resource:  ${report.resourceType} ${report.resourceId}`,
    ...(report.resource !== report.resourceId ? [`           ${report.resource}`] : []),
    `Account:   ${report.account}`,
    `Region:    ${report.region}`,
    `Severity:  ${report.severity}`,
    `Request:   ${requestLabel(report.request, report.via)}`,
    `Decision:  ${report.decision.kind}: ${report.decision.reason}`,
    `Outcome:   ${report.outcome.kind}`,
    ...(report.confirmation.confirmed
      ? []
      : [
          `Caution:   Security Hub could not confirm this finding (${report.confirmation.reason}); what follows is from the event's copy, and nothing was changed.`,
        ]),
    ...outcomeSections(report),
    ...driftSection(report),
    '',
    'Finding:',
    `  ${report.findingId}`,
    findingLine,
    '',
    'Owners decide with tags on the resource:',
    `  ${tagPolicy.optOut.key}=${tagPolicy.optOut.values[0] ?? '<any value>'}  hubfix only notifies`,
    `  ${tagPolicy.suppress.key}=<reason>[; until YYYY-MM-DD]  hubfix suppresses the finding, quoting the reason`,
  ].join('\n');
  return clipBytes(
    body,
    MESSAGE_BYTE_LIMIT,
    "\n\n[cut here to stay within SNS's 256 KB limit; `npx hubfix show <change-id>` has the rest]",
  );
}
