/**
 * Writes the report of a fixture ledger of 1,000 changes (the page's look and
 * size are checked from it): `node --import tsx scripts/report-fixture.ts <file> [html|md]`.
 */
import { writeFileSync } from 'node:fs';
import { renderHtml } from '../lib/report/html';
import { renderMarkdown } from '../lib/report/markdown';
import { buildReport } from '../lib/report/model';
import { fixtureLedger } from '../test/support/report-fixture';

const [file, format = 'html'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: report-fixture.ts <file> [html|md]\n');
  process.exit(2);
}
const until = new Date('2026-11-30T12:00:00.000Z');
const since = new Date(until.getTime() - 30 * 86_400_000);
const report = buildReport(fixtureLedger(1000, until), { since, until }, until);
const text =
  format === 'md'
    ? renderMarkdown(report, 'Hubfix-Ledger123')
    : renderHtml(report, 'Hubfix-Ledger123');
writeFileSync(file, text);
process.stdout.write(`${file}: ${report.total} changes, ${Buffer.byteLength(text)} bytes\n`);
