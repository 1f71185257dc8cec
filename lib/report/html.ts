/**
 * The report as one self-contained HTML page: inline CSS, inline SVG charts,
 * no script, no font, no image, nothing fetched when it is opened (the
 * Content-Security-Policy forbids it too). Ledger text is untrusted: every
 * piece goes through {@link html}, which also makes control and bidi
 * characters visible.
 */
import {
  CHANGE_STATUSES,
  type ChangeStatus,
  type LedgerEntry,
} from '../../lambdas/core/ledger-entry';
import { escapeTerminal, shortResource, when } from '../cli/text';
import { type Bucket, type ControlRow, formatSeconds, type Report } from './model';

/** How many failed changes and rollback attempts the page lists before summarising. */
export const LISTED = 50;

export const STATUS_COLOURS: Readonly<Record<ChangeStatus, string>> = {
  REMEDIATED: '#2e7d32',
  FAILED: '#c62828',
  PENDING: '#8d8d8d',
  ROLLING_BACK: '#ef8f00',
  ROLLED_BACK: '#1565c0',
};

const STATUS_LABELS: Readonly<Record<ChangeStatus, string>> = {
  REMEDIATED: 'remediated',
  FAILED: 'failed',
  PENDING: 'pending',
  ROLLING_BACK: 'rolling back',
  ROLLED_BACK: 'rolled back',
};

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe in element content and in quoted attributes. */
export function html(text: string): string {
  return escapeTerminal(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function number(n: number): string {
  return n.toLocaleString('en-US');
}

/** A round tick step (1, 2, 2.5 or 5 × 10^n) giving about `ticks` steps up to `max`. */
export function tickStep(max: number, ticks = 5): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= raw) ?? 10;
  return Math.max(1, step * magnitude);
}

/** The axis maximum: the first whole tick at or above `max`. */
export function niceMax(max: number): number {
  const step = tickStep(max);
  return Math.max(step, Math.ceil(max / step) * step);
}

function tickValues(max: number): number[] {
  const step = tickStep(max);
  const values: number[] = [];
  for (let v = 0; v <= niceMax(max) + step / 2; v += step) values.push(v);
  return values;
}

function legend(): string {
  return `<p class="legend">${CHANGE_STATUSES.map(
    (s) =>
      `<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${STATUS_COLOURS[s]}"/></svg> ${STATUS_LABELS[s]}</span>`,
  ).join(' ')}</p>`;
}

function segments(
  counts: Bucket['counts'],
  scale: number,
  place: (offset: number, length: number) => string,
  label: string,
): string {
  let offset = 0;
  return CHANGE_STATUSES.flatMap((status) => {
    const n = counts[status];
    if (n === 0) return [];
    const length = n * scale;
    const rect = `<rect ${place(offset, length)} fill="${STATUS_COLOURS[status]}"><title>${html(
      `${label}: ${n} ${STATUS_LABELS[status]}`,
    )}</title></rect>`;
    offset += length;
    return [rect];
  }).join('');
}

/** Horizontal stacked bars, one per control. */
export function controlChart(rows: readonly ControlRow[]): string {
  const labelWidth = 70;
  const barWidth = 560;
  const rowHeight = 24;
  const top = 8;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.total)));
  const scale = barWidth / max;
  const height = top + rows.length * rowHeight + 24;
  const ticks = tickValues(max).map((value) => {
    const x = (labelWidth + value * scale).toFixed(1);
    return `<line x1="${x}" y1="${top}" x2="${x}" y2="${height - 20}" class="grid"/><text x="${x}" y="${height - 6}" class="tick" text-anchor="middle">${number(value)}</text>`;
  });
  const bars = rows.map((row, i) => {
    const y = top + i * rowHeight + 4;
    return `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end" class="label">${html(row.controlId)}</text>${segments(
      row.counts,
      scale,
      (offset, length) =>
        `x="${(labelWidth + offset).toFixed(1)}" y="${y}" width="${length.toFixed(1)}" height="16"`,
      row.controlId,
    )}<text x="${(labelWidth + row.total * scale + 6).toFixed(1)}" y="${y + 12}" class="value">${number(row.total)}</text>`;
  });
  return `<svg viewBox="0 0 ${labelWidth + barWidth + 50} ${height}" role="img" aria-label="changes per control and outcome">${ticks.join('')}${bars.join('')}</svg>`;
}

/** Stacked columns, one per day (or week). */
export function timelineChart(buckets: readonly Bucket[], bucket: 'day' | 'week'): string {
  const left = 40;
  const width = 640;
  const plotHeight = 160;
  const top = 8;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.total)));
  const scale = plotHeight / max;
  const step = width / Math.max(1, buckets.length);
  const barWidth = Math.max(1, step * 0.8);
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 8));
  const ticks = tickValues(max).map((value) => {
    const y = (top + plotHeight - value * scale).toFixed(1);
    return `<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" class="grid"/><text x="${left - 6}" y="${Number(y) + 4}" text-anchor="end" class="tick">${number(value)}</text>`;
  });
  const columns = buckets.map((b, i) => {
    const x = left + i * step + (step - barWidth) / 2;
    const label =
      i % labelEvery === 0
        ? `<text x="${(x + barWidth / 2).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" class="tick">${b.start.slice(5)}</text>`
        : '';
    return `${segments(
      b.counts,
      scale,
      (offset, length) =>
        `x="${x.toFixed(1)}" y="${(top + plotHeight - offset - length).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${length.toFixed(1)}"`,
      `${bucket === 'week' ? 'week of ' : ''}${b.start}`,
    )}${label}`;
  });
  return `<svg viewBox="0 0 ${left + width + 10} ${top + plotHeight + 24}" role="img" aria-label="changes per ${bucket}">${ticks.join('')}${columns.join('')}</svg>`;
}

function more(total: number, shown: number, what: string): string {
  return total > shown
    ? `<p class="note">and ${number(total - shown)} more ${what}; <code>npx hubfix history</code> and <code>npx hubfix show &lt;change-id&gt;</code> list them all.</p>`
    : '';
}

function changeCells(entry: LedgerEntry): string {
  return `<td class="nowrap">${html(when(entry.createdAt))}</td><td>${html(entry.controlId)}</td><td title="${html(entry.resource)}">${html(shortResource(entry.resource))}</td>`;
}

function section(title: string, id: string, body: string): string {
  return `<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

function tiles(report: Report): string {
  const { counts, duration } = report;
  const tile = (value: string, label: string, colour?: string) =>
    `<div class="tile"${colour ? ` style="border-color:${colour}"` : ''}><b>${value}</b><span>${label}</span></div>`;
  return `<div class="tiles">${[
    tile(number(report.total), 'changes'),
    tile(number(counts.REMEDIATED), 'remediated', STATUS_COLOURS.REMEDIATED),
    tile(number(counts.FAILED), 'failed', STATUS_COLOURS.FAILED),
    tile(number(counts.ROLLED_BACK), 'rolled back', STATUS_COLOURS.ROLLED_BACK),
    tile(duration ? formatSeconds(duration.median) : '–', 'median time to fix'),
    tile(duration ? formatSeconds(duration.p90) : '–', '90th percentile'),
  ].join('')}</div>`;
}

const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;background:#fff}
body{max-width:960px;margin:24px auto;padding:0 16px;line-height:1.45}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#59636e;margin:0 0 16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px}
.tile{border:1px solid #d0d7de;border-left:4px solid #59636e;border-radius:6px;padding:8px 12px}
.tile b{display:block;font-size:1.5em}.tile span{color:#59636e;font-size:.9em}
svg{max-width:100%;height:auto;display:block}
svg .label{font-size:12px;fill:#1f2328}svg .value,svg .tick{font-size:11px;fill:#59636e}svg .grid{stroke:#eaeef2}
.legend{font-size:.85em;color:#59636e}.legend span{margin-right:12px;white-space:nowrap}.legend svg{display:inline}
table{border-collapse:collapse;width:100%;font-size:.88em}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right}.nowrap{white-space:nowrap}
td.text{word-break:break-word;max-width:420px}
.note{color:#59636e;font-size:.9em}code{font-size:.9em;background:#f6f8fa;padding:0 3px;border-radius:3px}
.status{font-weight:600}
footer{margin:40px 0 16px;color:#59636e;font-size:.85em}
@media print{body{margin:0}}
`;

export function renderHtml(report: Report, tableName: string): string {
  const { period } = report;
  const periodText = `${when(period.since.toISOString())} to ${when(period.until.toISOString())}`;
  const empty = report.total === 0;
  const controls = empty
    ? '<p class="note">No changes were recorded in this period.</p>'
    : `${legend()}${controlChart(report.byControl)}`;
  const timeline = empty ? '' : timelineChart(report.timeline, report.bucket);

  const slowest =
    report.slowest.length === 0
      ? '<p class="note">No change finished in this period.</p>'
      : `<table><thead><tr><th>when</th><th>control</th><th>resource</th><th>took</th><th>outcome</th><th>summary</th></tr></thead><tbody>${report.slowest
          .map(
            ({ entry, seconds }) =>
              `<tr>${changeCells(entry)}<td class="num nowrap">${formatSeconds(seconds)}</td><td class="status" style="color:${STATUS_COLOURS[entry.status]}">${html(STATUS_LABELS[entry.status])}</td><td class="text">${html(entry.summary)}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const failedShown = report.failed.slice(0, LISTED);
  const failed =
    report.failed.length === 0
      ? '<p class="note">No fix failed in this period.</p>'
      : `<table><thead><tr><th>when</th><th>control</th><th>resource</th><th>error</th><th>state left</th><th>change</th></tr></thead><tbody>${failedShown
          .map(
            (entry) =>
              `<tr>${changeCells(entry)}<td class="text">${html(entry.error ?? '')}</td><td class="text">${html(entry.stateLeft ?? '')}</td><td><code>${html(entry.changeId)}</code></td></tr>`,
          )
          .join(
            '',
          )}</tbody></table>${more(report.failed.length, failedShown.length, 'failed changes')}`;

  const rollbacksShown = report.rollbacks.slice(0, LISTED);
  const rc = report.rollbackCounts;
  const rollbacks =
    report.rollbacks.length === 0
      ? '<p class="note">No rollback was attempted on the changes of this period.</p>'
      : `<p>${number(rc.ROLLED_BACK)} rolled back, ${number(rc.REFUSED)} refused, ${number(rc.DECLINED)} declined, ${number(rc.FAILED)} failed.</p><table><thead><tr><th>attempted</th><th>control</th><th>resource</th><th>outcome</th><th>by</th><th>detail</th></tr></thead><tbody>${rollbacksShown
          .map(
            ({ entry, attempt }) =>
              `<tr><td class="nowrap">${html(when(attempt.at))}</td><td>${html(entry.controlId)}</td><td title="${html(entry.resource)}">${html(shortResource(entry.resource))}</td><td>${html(attempt.outcome.toLowerCase().replace('_', ' '))}</td><td class="text">${html(attempt.by)}</td><td class="text">${html(attempt.error ?? attempt.lines.join('; '))}</td></tr>`,
          )
          .join(
            '',
          )}</tbody></table>${more(report.rollbacks.length, rollbacksShown.length, 'rollback attempts')}`;

  const drift =
    report.drift === undefined
      ? '<p class="note">No fix of this period changed back. hubfix checks whether a fix held each time it sees the finding again (Security Hub’s events and its scheduled sweep), and marks the change here when it did not.</p>'
      : `<table><thead><tr><th>when</th><th>control</th><th>resource</th><th>detected</th><th>what changed</th></tr></thead><tbody>${report.drift
          .map(
            (d) =>
              `<tr>${changeCells(d.entry)}<td class="nowrap">${html(when(d.detectedAt))}</td><td class="text">${html(d.detail)}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const suppressions =
    report.suppressions === undefined
      ? '<p class="note">The ledger holds no suppressions: it records the changes hubfix makes. A suppression lives on its finding (workflow <code>SUPPRESSED</code>), with the owner’s reason from the <code>hubfix:suppress</code> tag in its note; look for them in Security Hub.</p>'
      : `<table><thead><tr><th>control</th><th>resource</th><th>reason</th><th>expires</th></tr></thead><tbody>${report.suppressions
          .map(
            (s) =>
              `<tr><td>${html(s.controlId)}</td><td>${html(shortResource(s.resource))}</td><td class="text">${html(s.reason)}</td><td>${html(s.expires ?? 'never')}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const duration = report.duration
    ? `<p class="note">Time to fix: from the before-state being recorded to the result (verified or failed). Median ${formatSeconds(report.duration.median)}, 90th percentile ${formatSeconds(report.duration.p90)}, longest ${formatSeconds(report.duration.max)}.</p>`
    : '';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hubfix report, ${html(periodText)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>hubfix report</h1>
<p class="sub">${html(periodText)} · ledger ${html(tableName)} · generated ${html(when(report.generatedAt.toISOString()))}</p>
${tiles(report)}
${section('Changes per control and outcome', 'controls', controls)}
${section(`Changes per ${report.bucket}`, 'timeline', `${timeline}${empty ? '' : legend()}`)}
${section('Slowest fixes', 'slowest', `${duration}${slowest}`)}
${section('Failed fixes', 'failed', failed)}
${section('Rollbacks', 'rollbacks', rollbacks)}
${section('Drift', 'drift', drift)}
${section('Suppressions', 'suppressions', suppressions)}
<footer>Made by <code>npx hubfix report</code> from the ledger’s time index. Times are UTC.</footer>
</body>
</html>
`;
}
