import { UsageError } from '../../../lambdas/core/errors';
import { renderHtml } from '../../report/html';
import { renderMarkdown } from '../../report/markdown';
import { buildReport, type Period } from '../../report/model';
import { type Command, type OptionValues, stringOption } from '../command';

const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `30d`, `12h`, `2w`, `2026-11-01` or an ISO timestamp; relative to `now`. */
export function parseWhen(raw: string, now: Date, option: string): Date {
  const relative = /^(\d{1,4})([hdw])$/.exec(raw);
  if (relative) {
    const [, amount, unit] = relative;
    return new Date(now.getTime() - Number(amount) * (UNIT_MS[unit ?? 'd'] ?? 0));
  }
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(raw)) {
    const date = new Date(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw);
    if (!Number.isNaN(date.getTime()) && date.toISOString().startsWith(raw.slice(0, 10))) {
      return date;
    }
  }
  throw new UsageError(
    `${option} takes a duration like 30d, 12h or 2w, or a date like 2026-11-01 (UTC), got "${raw}"`,
  );
}

export function periodOf(values: OptionValues, now: Date): Period {
  const since = parseWhen(stringOption(values, 'since') ?? '30d', now, '--since');
  const untilRaw = stringOption(values, 'until');
  const until = untilRaw ? parseWhen(untilRaw, now, '--until') : now;
  if (since.getTime() >= until.getTime()) {
    throw new UsageError(
      `the period is empty: --since ${since.toISOString()} is not before --until ${until.toISOString()}`,
    );
  }
  return { since, until };
}

function formatOf(values: OptionValues): 'html' | 'md' {
  const format = stringOption(values, 'format') ?? 'html';
  if (format !== 'html' && format !== 'md') {
    throw new UsageError(`--format must be html or md, got "${format}"`);
  }
  return format;
}

export const report: Command = {
  name: 'report',
  summary: 'what hubfix did in a period, as a page or Markdown',
  usage: 'report [--since 30d] [--until <when>] [--format html|md] [--out <file>]',
  help: [
    'Reads the ledger for a period and writes a report: changes per control and',
    'outcome (charts), the slowest and the failed fixes, rollbacks, drift and',
    'suppressions. The HTML page is one self-contained file: no script, and',
    'nothing is fetched when it is opened. Markdown is a summary for a ticket.',
  ],
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
  },
  optionHelp: [
    '--since <when>      start of the period: 30d, 12h, 2w, or a date 2026-11-01 (default: 30d)',
    '--until <when>      end of the period, same forms (default: now)',
    '--format html|md    a self-contained HTML page (default) or a Markdown summary',
    '--out <file>        where to write it; "-" for stdout (default: hubfix-report-<date>.html,',
    '                    or stdout for md)',
  ],
  maxPositionals: 0,
  validate(values) {
    formatOf(values);
    periodOf(values, new Date());
  },
  async run(context) {
    const { deps, values } = context;
    const now = deps.now();
    const period = periodOf(values, now);
    const format = formatOf(values);
    const tableName = await context.tableName();
    const entries = await (await context.ledger()).between(period.since, period.until);
    const model = buildReport(entries, period, now);
    const text =
      format === 'html' ? renderHtml(model, tableName) : renderMarkdown(model, tableName);
    const out =
      stringOption(values, 'out') ??
      (format === 'html' ? `hubfix-report-${now.toISOString().slice(0, 10)}.html` : '-');
    if (out === '-') {
      for (const line of text.split('\n')) deps.out(line);
      return 0;
    }
    await deps.writeFile(out, text);
    context.warn(
      `wrote ${out}: ${model.total} change(s) from ${period.since.toISOString()} to ${period.until.toISOString()}, ${Buffer.byteLength(text)} bytes`,
    );
    return 0;
  },
};
