/**
 * What a sweep says when it ends: one SNS message and one log line with the
 * counts per control and decision. The same table is what
 * `npx hubfix backfill` prints.
 */
import type { Notification } from '../core/ports';
import { clipBytes, MESSAGE_BYTE_LIMIT, SUBJECT_LIMIT } from '../core/report';
import { DECISION_LABELS, type DecisionLabel } from './decide';
import { PRODUCT_NAMES, type SweepRun, type SweepTally } from './sweep';

/** What each decision means, for the table's legend. */
export const DECISION_MEANINGS: Readonly<Record<DecisionLabel, string>> = {
  backfill: 'never handled and NEW: handed on as a new finding',
  'still-failing':
    'fixed (or found compliant) and still failing after the grace period: looked at again for drift',
  're-decide':
    'notified, blocked, planned, deferred or failed (after the grace period): decided again, quiet if nothing differs',
  suppression: 'suppressed by hubfix: lifted if the suppress tag is gone or expired',
  'within-grace': 'left: fixed or failed less than the grace period ago',
  drifted: 'left: hubfix stopped fighting drift on it, a person must act',
  'not-hubfix': "left: someone else set its workflow, or it was never hubfix's",
  'not-ours': 'left: another account, region, product or control',
};

function total(counts: Partial<Record<DecisionLabel, number>>): number {
  return DECISION_LABELS.reduce((n, label) => n + (counts[label] ?? 0), 0);
}

/** Rows of cells: a header, one row per control, and a total. */
export function tallyTable(tally: SweepTally): string[][] {
  const controls = Object.keys(tally.byControl).sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const header = ['CONTROL', 'FINDINGS', ...DECISION_LABELS.map((l) => l.toUpperCase())];
  const rows = controls.map((control) => {
    const counts = tally.byControl[control] ?? {};
    return [control, String(total(counts)), ...DECISION_LABELS.map((l) => String(counts[l] ?? 0))];
  });
  const sum = (label: DecisionLabel) =>
    controls.reduce((n, c) => n + (tally.byControl[c]?.[label] ?? 0), 0);
  const totals = [
    'TOTAL',
    String(controls.reduce((n, c) => n + total(tally.byControl[c] ?? {}), 0)),
    ...DECISION_LABELS.map((l) => String(sum(l))),
  ];
  return [header, ...rows, totals];
}

/** Columns padded to their widest cell, numbers right-aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((cells) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export interface SummaryContext {
  readonly account: string;
  readonly region: string;
  readonly finishedAt: Date;
  /** Org mode: the member accounts and regions swept, in words (source.ts describePlaces). */
  readonly swept?: { readonly accounts: string; readonly regions: string } | undefined;
  /** Why the sweep ended early, when it did. */
  readonly incomplete?: string;
}

/** The lines under the table: every count the table does not show (a plan hands nothing on). */
export function tallyLines(tally: SweepTally, options: { planOnly?: boolean } = {}): string[] {
  return [
    ...(options.planOnly
      ? []
      : [
          `Handed on: ${tally.handed} finding(s) in ${tally.requests} request(s) to the controls' functions, which fetch each finding and read its resource again before anything is done.`,
        ]),
    ...(tally.handFailed > 0
      ? [`Could not hand on: ${tally.handFailed} finding(s); the next sweep tries again.`]
      : []),
    ...(tally.unreadable > 0
      ? [
          `Unreadable: ${tally.unreadable} finding(s) Security Hub returned that hubfix cannot read (logged; nothing was done).`,
        ]
      : []),
    ...(tally.historyUnreadable > 0
      ? [`History unreadable: ${tally.historyUnreadable} finding(s) left for the next sweep.`]
      : []),
    ...tally.skipped.map((s) => `Not read: ${PRODUCT_NAMES[s.product]}: ${s.reason}`),
  ];
}

export function legend(): string[] {
  return DECISION_LABELS.map((label) => `  ${label}: ${DECISION_MEANINGS[label]}`);
}

export function summaryOf(run: SweepRun, context: SummaryContext): Notification {
  const { state } = run;
  const { tally } = state;
  const findings = Object.values(tally.byControl).reduce((n, c) => n + total(c), 0);
  const took = context.finishedAt.getTime() - Date.parse(state.startedAt);
  const incomplete = context.incomplete ?? (run.kind === 'stopped' ? run.reason : undefined);
  const subject = `hubfix sweep${incomplete ? ' (incomplete)' : ''}: ${findings} failed findings, ${tally.handed} handed on (${context.account} ${context.region})`;
  const message = [
    `hubfix ${incomplete ? 'stopped a sweep before the end' : 'swept the failed findings of its controls'}.`,
    '',
    `Account:   ${context.account}`,
    `Region:    ${context.region}`,
    ...(context.swept
      ? [`Swept:     accounts ${context.swept.accounts}; regions ${context.swept.regions}`]
      : []),
    `Sweep:     ${state.sweepId}, ${state.step + 1} invocation(s), ${tally.pages} page(s), ${duration(Number.isFinite(took) ? took : 0)}`,
    ...(incomplete ? [`Stopped:   ${incomplete}. The next sweep starts over.`] : []),
    '',
    ...formatTable(tallyTable(tally)),
    '',
    ...tallyLines(tally),
    '',
    'What the columns mean:',
    ...legend(),
  ].join('\n');
  return {
    subject: subject.replace(/[^\x20-\x7E]/g, '?').slice(0, SUBJECT_LIMIT),
    message: clipBytes(message, MESSAGE_BYTE_LIMIT, '\n\n[cut to stay within SNS limits]'),
    attributes: { control: 'ALL', outcome: 'SWEPT', severity: 'INFORMATIONAL' },
  };
}
