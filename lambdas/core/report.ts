/**
 * What happened to one finding, and how it is told: the Security Hub note, the
 * SNS subject and body, and the workflow status. One renderer serves every
 * control, so every outcome reads the same way wherever a person meets it.
 */
import type { ChangePlan, Plan } from './control';
import type { SeverityLabel } from './finding';
import type { Decision, Request } from './policy';
import type { TagPolicy } from './settings';

export type Outcome =
  | { readonly kind: 'IGNORED'; readonly reason: string }
  | { readonly kind: 'SUPPRESSED'; readonly reason: string }
  | { readonly kind: 'NOTIFIED'; readonly reason: string; readonly plan: Plan<unknown> | undefined }
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
    };

export type OutcomeKind = Outcome['kind'];
export type WorkflowStatus = 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

export function workflowFor(outcome: Outcome): WorkflowStatus | undefined {
  switch (outcome.kind) {
    case 'IGNORED':
      return undefined;
    case 'SUPPRESSED':
      return 'SUPPRESSED';
    case 'REMEDIATED':
    case 'ALREADY_COMPLIANT':
      return 'RESOLVED';
    case 'NOTIFIED':
    case 'PLANNED':
    case 'BLOCKED':
    case 'FAILED':
      return 'NOTIFIED';
  }
}

export interface FindingReport {
  readonly findingId: string;
  readonly productArn: string;
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
  /** False for notify-only controls: the plan is then what a person has to do. */
  readonly automatic: boolean;
  readonly decision: Decision;
  readonly outcome: Outcome;
}

export type DeliveryStatus =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string }
  | { readonly ok: 'skipped' };

export const NOTE_LIMIT = 512;
export const SUBJECT_LIMIT = 100;

function clip(value: string, limit: number): string {
  return value.length <= limit ? value : `${value.slice(0, limit - 1)}…`;
}

function planSummary(plan: Plan<unknown> | undefined): string | undefined {
  return plan?.summary;
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
    case 'PLANNED': {
      const steps =
        o.plan.kind === 'change'
          ? o.plan.steps.map((step, i) => `${i + 1}) ${step}`).join(' ')
          : 'nothing: the live resource is already compliant.';
      const blocked =
        o.blockers.length > 0 ? ` It would be blocked: ${o.blockers.join('; ')}.` : '';
      note = `hubfix plan (${o.reason}). It would ${steps}${blocked}`;
      break;
    }
    case 'ALREADY_COMPLIANT':
      note = `hubfix found the live resource already compliant (${o.summary}); nothing changed.`;
      break;
    case 'BLOCKED':
      note = `hubfix did not change the resource: ${o.blockers.join('; ')}. A fix would ${o.plan.summary}.`;
      break;
    case 'REMEDIATED':
      note = `hubfix remediated and verified: ${o.plan.summary}. Change ${o.changeId}.${
        o.plan.undo.length > 0 ? ' Undo steps are in the SNS notification.' : ''
      }${o.plan.irreversible ? ` Not reversible: ${o.plan.irreversible}.` : ''}`;
      break;
    case 'FAILED':
      note = `hubfix failed during ${o.stage}: ${o.error}. State now: ${o.stateLeft}.`;
      break;
  }
  return clip(note, NOTE_LIMIT);
}

const OUTCOME_HEADLINE: Record<OutcomeKind, string> = {
  IGNORED: 'ignored a finding',
  SUPPRESSED: 'suppressed a finding',
  NOTIFIED: 'needs a person to look at a finding',
  PLANNED: 'planned a fix (nothing changed)',
  ALREADY_COMPLIANT: 'found a resource already compliant',
  BLOCKED: 'held back a fix',
  REMEDIATED: 'fixed a resource',
  FAILED: 'failed to fix a resource',
};

const REQUEST_LABEL: Record<Request, string> = {
  imported: 'new failed finding from Security Hub',
  'remediate-action': '"Remediate" custom action in the Security Hub console',
  'plan-action': '"Plan" custom action in the Security Hub console',
};

/** SNS subjects must be ASCII, single-line and at most 100 characters. */
export function subjectFor(report: FindingReport): string {
  const raw = `hubfix ${report.outcome.kind} ${report.controlId} ${report.resourceId} (${report.account} ${report.region})`;
  const ascii = raw.replace(/[^\x20-\x7E]/g, '?');
  return clip(ascii, SUBJECT_LIMIT).replace(/…$/, '.');
}

function numbered(lines: readonly string[]): string[] {
  return lines.map((line, i) => `  ${i + 1}. ${line}`);
}

function bulleted(lines: readonly string[]): string[] {
  return lines.map((line) => `  - ${line}`);
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : ['', title, ...lines];
}

function planSections(plan: Plan<unknown> | undefined, heading: string): string[] {
  if (!plan) return [];
  if (plan.kind === 'compliant') return section(heading, [`  nothing: ${plan.summary}`]);
  return [
    ...section(heading, numbered(plan.steps)),
    ...section('How to undo it:', plan.undo.length > 0 ? bulleted(plan.undo) : []),
    ...(plan.irreversible ? section('Cannot be undone:', [`  ${plan.irreversible}`]) : []),
  ];
}

function outcomeSections(report: FindingReport): string[] {
  const { outcome } = report;
  switch (outcome.kind) {
    case 'IGNORED':
    case 'SUPPRESSED':
      return [];
    case 'NOTIFIED':
      return planSections(
        outcome.plan,
        report.automatic ? 'What a fix would do:' : 'What to do by hand (no automatic fix exists):',
      );
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

/** The SNS body: plain text a person can read on a phone. */
export function messageFor(
  report: FindingReport,
  findingUpdate: DeliveryStatus,
  tagPolicy: TagPolicy,
): string {
  const workflow = workflowFor(report.outcome);
  const findingLine =
    findingUpdate.ok === true
      ? `  workflow set to ${workflow ?? 'unchanged'}, with a note`
      : findingUpdate.ok === false
        ? `  COULD NOT BE UPDATED: ${findingUpdate.error}`
        : '  left unchanged';
  return [
    `hubfix ${OUTCOME_HEADLINE[report.outcome.kind]}.`,
    '',
    `Control:   ${report.controlId}  ${report.controlTitle}`,
    `Resource:  ${report.resourceType} ${report.resourceId}`,
    ...(report.resource !== report.resourceId ? [`           ${report.resource}`] : []),
    `Account:   ${report.account}`,
    `Region:    ${report.region}`,
    `Severity:  ${report.severity}`,
    `Request:   ${REQUEST_LABEL[report.request]}`,
    `Decision:  ${report.decision.kind}: ${report.decision.reason}`,
    `Outcome:   ${report.outcome.kind}`,
    ...outcomeSections(report),
    '',
    'Finding:',
    `  ${report.findingId}`,
    findingLine,
    '',
    'Owners decide with tags on the resource:',
    `  ${tagPolicy.optOut.key}=${tagPolicy.optOut.values[0] ?? '<any value>'}  hubfix only notifies`,
    `  ${tagPolicy.suppress.key}=<reason>  hubfix suppresses the finding, quoting the reason`,
  ].join('\n');
}
