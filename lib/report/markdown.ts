/** The report as Markdown, short enough to paste in a ticket. */
import { CHANGE_STATUSES } from '../../lambdas/core/ledger-entry';
import { escapeTerminal, shortResource, when } from '../cli/text';
import { formatSeconds, type Report } from './model';

const LISTED = 10;

/**
 * Ledger text in a table cell: no line breaks, pipes, HTML or Markdown
 * emphasis and links that would change what the reader sees.
 */
export function cell(text: string): string {
  return escapeTerminal(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function renderMarkdown(report: Report, tableName: string): string {
  const { period, counts, duration } = report;
  const lines = [
    `## hubfix report: ${when(period.since.toISOString())} to ${when(period.until.toISOString())}`,
    '',
    `Ledger \`${cell(tableName)}\`, generated ${when(report.generatedAt.toISOString())} (UTC).`,
    '',
    `**${report.total}** changes: ${CHANGE_STATUSES.map((s) => `${counts[s]} ${s.toLowerCase().replace('_', ' ')}`).join(', ')}.`,
  ];
  if (duration) {
    lines.push(
      `Time to fix: median ${formatSeconds(duration.median)}, 90th percentile ${formatSeconds(duration.p90)}, longest ${formatSeconds(duration.max)}.`,
    );
  }
  if (report.byControl.length > 0) {
    lines.push(
      '',
      '### Per control',
      '',
      row(['control', 'total', ...CHANGE_STATUSES.map((s) => s.toLowerCase().replace('_', ' '))]),
      row(['---', ...Array(CHANGE_STATUSES.length + 1).fill('---:')]),
      ...report.byControl.map((c) =>
        row([
          cell(c.controlId),
          String(c.total),
          ...CHANGE_STATUSES.map((s) => String(c.counts[s])),
        ]),
      ),
    );
  }
  if (report.failed.length > 0) {
    lines.push(
      '',
      `### Failed fixes (${report.failed.length})`,
      '',
      row(['when', 'control', 'resource', 'error', 'change']),
      row(['---', '---', '---', '---', '---']),
      ...report.failed
        .slice(0, LISTED)
        .map((e) =>
          row([
            when(e.createdAt),
            cell(e.controlId),
            cell(shortResource(e.resource)),
            cell(e.error ?? ''),
            `\`${cell(e.changeId)}\``,
          ]),
        ),
      ...(report.failed.length > LISTED ? ['', `and ${report.failed.length - LISTED} more.`] : []),
    );
  }
  if (report.slowest.length > 0) {
    lines.push(
      '',
      '### Slowest fixes',
      '',
      row(['when', 'control', 'resource', 'took']),
      row(['---', '---', '---', '---:']),
      ...report.slowest
        .slice(0, 5)
        .map(({ entry, seconds }) =>
          row([
            when(entry.createdAt),
            cell(entry.controlId),
            cell(shortResource(entry.resource)),
            formatSeconds(seconds),
          ]),
        ),
    );
  }
  const rc = report.rollbackCounts;
  lines.push(
    '',
    '### Rollbacks',
    '',
    report.rollbacks.length === 0
      ? 'No rollback was attempted on the changes of this period.'
      : `${rc.ROLLED_BACK} rolled back, ${rc.REFUSED} refused, ${rc.DECLINED} declined, ${rc.FAILED} failed.`,
    '',
    '### Drift',
    '',
    report.drift === undefined
      ? 'No fix of this period changed back.'
      : `${report.drift.length} fixes were undone later: ${report.drift
          .slice(0, LISTED)
          .map((d) => `${cell(d.entry.controlId)} ${cell(shortResource(d.entry.resource))}`)
          .join(', ')}.`,
    '',
    '### Suppressions',
    '',
    report.suppressions === undefined
      ? 'The ledger holds no suppressions (they live on the findings, with the owner’s reason).'
      : report.suppressions
          .slice(0, LISTED)
          .map(
            (s) =>
              `- ${cell(s.controlId)} ${cell(shortResource(s.resource))}: ${cell(s.reason)} (expires ${cell(s.expires ?? 'never')})`,
          )
          .join('\n'),
    '',
  );
  return lines.join('\n');
}
