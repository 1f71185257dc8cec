import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { parseWhen, periodOf } from '../../../lib/cli/commands/report';
import { main } from '../../../lib/cli/main';
import { html, niceMax, renderHtml } from '../../../lib/report/html';
import { cell, renderMarkdown } from '../../../lib/report/markdown';
import { buildReport, formatSeconds } from '../../../lib/report/model';
import { ENTRY, fakeCli } from '../../support/cli';
import { fixtureLedger } from '../../support/report-fixture';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const PERIOD = { since: new Date('2026-10-31T12:00:00.000Z'), until: NOW };

function entry(changes: Partial<LedgerEntry>): LedgerEntry {
  return { ...ENTRY, ...changes };
}

describe('the period', () => {
  it.each([
    ['30d', '2026-10-31T12:00:00.000Z'],
    ['12h', '2026-11-30T00:00:00.000Z'],
    ['2w', '2026-11-16T12:00:00.000Z'],
    ['2026-11-01', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T06:30:00Z', '2026-11-01T06:30:00.000Z'],
  ])('%s means from %s', (raw, iso) => {
    expect(parseWhen(raw, NOW, '--since').toISOString()).toBe(iso);
  });

  it.each(['30', 'yesterday', '2026-13-01', '2026-02-30', '-3d'])('refuses %j', (raw) => {
    expect(() => parseWhen(raw, NOW, '--since')).toThrow('--since takes a duration like 30d');
  });

  it('defaults to the last 30 days and refuses an empty period', () => {
    expect(periodOf({}, NOW)).toEqual(PERIOD);
    expect(() => periodOf({ since: '2026-12-01' }, NOW)).toThrow('the period is empty');
  });
});

describe('buildReport', () => {
  it('counts per control and outcome, times the finished fixes, lists failures and rollbacks', () => {
    // Prepare
    const entries = [
      entry({
        changeId: 'EC2.2-a',
        createdAt: '2026-11-29T10:00:00.000Z',
        completedAt: '2026-11-29T10:00:02.000Z',
      }),
      entry({
        changeId: 'EC2.2-b',
        createdAt: '2026-11-29T11:00:00.000Z',
        completedAt: '2026-11-29T11:00:30.000Z',
        status: 'FAILED',
        error: 'throttled',
      }),
      entry({
        changeId: 'EC2.15-c',
        controlId: 'EC2.15',
        createdAt: '2026-11-28T11:00:00.000Z',
        completedAt: '2026-11-28T11:00:01.000Z',
        status: 'ROLLED_BACK',
        rollbacks: [
          { at: '2026-11-28T12:00:00.000Z', by: 'alice', outcome: 'ROLLED_BACK', lines: [] },
        ],
      }),
      entry({ changeId: 'EC2.2-old', createdAt: '2026-10-01T00:00:00.000Z' }),
    ];

    // Act
    const report = buildReport(entries, PERIOD, NOW);

    // Assess
    expect(report.total).toBe(3);
    expect(report.byControl.map((c) => [c.controlId, c.total, c.counts.FAILED])).toEqual([
      ['EC2.2', 2, 1],
      ['EC2.15', 1, 0],
    ]);
    expect(report.bucket).toBe('day');
    expect(report.timeline).toHaveLength(31);
    expect(report.timeline.find((b) => b.start === '2026-11-29')?.total).toBe(2);
    expect(report.duration).toEqual({ median: 2, p90: 30, max: 30 });
    expect(report.slowest.map((s) => s.entry.changeId)).toEqual(['EC2.2-b', 'EC2.2-a', 'EC2.15-c']);
    expect(report.failed.map((e) => e.changeId)).toEqual(['EC2.2-b']);
    expect(report.rollbackCounts).toEqual({ ROLLED_BACK: 1, REFUSED: 0, DECLINED: 0, FAILED: 0 });
    expect(report.drift).toBeUndefined();
    expect(report.suppressions).toBeUndefined();
  });

  it('charts a long period by week', () => {
    const report = buildReport([], { since: new Date('2026-01-01T00:00:00Z'), until: NOW }, NOW);

    expect(report.bucket).toBe('week');
    expect(report.timeline.every((b) => new Date(`${b.start}T00:00:00Z`).getUTCDay() === 1)).toBe(
      true,
    );
  });

  it.each([
    [0.25, '0.3 s'],
    [12.4, '12 s'],
    [200, '3 min 20 s'],
  ])('formats %s seconds as %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it.each([
    [0, 1],
    [7, 8],
    [43, 50],
    [225, 250],
    [501, 600],
  ])('rounds an axis of %s up to %s', (max, nice) => {
    expect(niceMax(max)).toBe(nice);
  });
});

describe('the HTML page', () => {
  const thousand = fixtureLedger(1000, NOW);
  const hostile = entry({
    changeId: 'EC2.2-hostile',
    status: 'FAILED',
    createdAt: '2026-11-30T11:00:00.000Z',
    error: 'hostile \u202egnp.exe\u202c <img src=x onerror=alert(1)> & "quotes"',
  });
  const page = renderHtml(buildReport([...thousand, hostile], PERIOD, NOW), 'Hubfix-Ledger123');

  it('is one self-contained file: no script, no external resource, a strict CSP', () => {
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(page).not.toMatch(/<script|<link|<iframe|<object|<embed|@import|url\(/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i);
    // Ledger text has every < escaped, so each < starts a tag hubfix wrote.
    const tags = page.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.filter((tag) => /\son[a-z]+=/i.test(tag))).toEqual([]);
  });

  it('escapes ledger text and makes bidi overrides visible', () => {
    expect(page).toContain(
      'hostile \\u202egnp.exe\\u202c &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;',
    );
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('\u202e');
  });

  it('has a chart per control and per day, and every section', () => {
    expect(page.match(/<svg viewBox=/g)).toHaveLength(2);
    for (const id of [
      'controls',
      'timeline',
      'slowest',
      'failed',
      'rollbacks',
      'drift',
      'suppressions',
    ]) {
      expect(page).toContain(`<section id="${id}">`);
    }
    expect(page).toContain('The ledger holds no suppressions');
    expect(page).toContain('No fix of this period changed back.');
  });

  it('lists the changes whose fix did not hold, with what changed back and the owner', () => {
    const drifted = entry({
      changeId: 'EC2.2-drifted',
      createdAt: '2026-11-20T10:00:00.000Z',
      drift: {
        detectedAt: '2026-11-21T10:00:00.000Z',
        findingId: 'finding-1',
        changedBack: 'revoke all 2 rules of the default security group sg-1234123f',
        owner: 'CloudFormation stack "net"',
        outcome: 'DRIFTED',
      },
    });

    const report = buildReport([drifted, entry({ changeId: 'EC2.2-held' })], PERIOD, NOW);
    const drift = renderHtml(report, 't').split('<section id="drift">')[1]?.split('</section>')[0];

    expect(report.drift?.map((d) => [d.entry.changeId, d.detectedAt, d.detail])).toEqual([
      [
        'EC2.2-drifted',
        '2026-11-21T10:00:00.000Z',
        'revoke all 2 rules of the default security group sg-1234123f; owned by CloudFormation stack "net"',
      ],
    ]);
    expect(drift).toContain('2026-11-21 10:00:00Z');
    expect(drift).toContain('owned by CloudFormation stack &quot;net&quot;');
    expect(renderMarkdown(report, 't')).toContain('1 fixes were undone later: EC2.2 sg-1234123f.');
  });

  it('stays small for 1,000 changes', () => {
    expect(Buffer.byteLength(page)).toBeLessThan(150_000);
  });

  it('says so when the period holds no change', () => {
    const empty = renderHtml(buildReport([], PERIOD, NOW), 't');

    expect(empty).toContain('No changes were recorded in this period.');
    expect(empty.match(/<svg viewBox=/g)).toBeNull();
  });

  it.each([
    ['<b>', '&lt;b&gt;'],
    [`"'&`, '&quot;&#39;&amp;'],
    ['\u001b[31m', '\\x1b[31m'],
  ])('html(%j) is %j', (text, escaped) => {
    expect(html(text)).toBe(escaped);
  });
});

describe('the Markdown summary', () => {
  it('holds the totals, per control, the failures and rollbacks, with ledger text escaped', () => {
    const entries = [
      entry({ status: 'FAILED', error: 'boom | <b>bold</b> *x* [link](http://e.vil)' }),
    ];

    const text = renderMarkdown(
      buildReport(entries, { since: new Date('2026-11-01T00:00:00Z'), until: NOW }, NOW),
      'Hubfix-Ledger123',
    );

    expect(text).toContain(
      '**1** changes: 0 pending, 0 remediated, 1 failed, 0 rolling back, 0 rolled back.',
    );
    expect(text).toContain('| EC2.2 | 1 | 0 | 0 | 1 | 0 | 0 |');
    expect(text).toContain('boom \\| &lt;b&gt;bold&lt;/b&gt; \\*x\\* \\[link\\](http://e.vil)');
    expect(text).toContain('No rollback was attempted');
    expect(text).toContain('The ledger holds no suppressions');
  });

  it.each([
    ['a|b', 'a\\|b'],
    ['line\nbreak', 'line\\\\x0abreak'],
    ['`code`', '\\`code\\`'],
  ])('cell(%j) is %j', (text, escaped) => {
    expect(cell(text)).toBe(escaped);
  });
});

describe('npx hubfix report', () => {
  it('reads the period from the ledger and writes the page to the named file', async () => {
    const t = fakeCli({ entries: fixtureLedger(20, NOW), now: NOW });

    expect(await main(['report', '--since', '2026-11-01', '--out', 'r.html'], t.deps)).toBe(0);

    expect(t.calls).toContain('between 2026-11-01T00:00:00.000Z 2026-11-30T12:00:00.000Z');
    expect(t.files.get('r.html')).toMatch(/^<!doctype html>/);
    expect(t.err[0]).toMatch(
      /^wrote r\.html: 20 change\(s\) from 2026-11-01T00:00:00\.000Z to 2026-11-30T12:00:00\.000Z, \d+ bytes$/,
    );
  });

  it('writes the page to a dated file by default, and Markdown to stdout', async () => {
    const page = fakeCli({ now: NOW });
    const markdown = fakeCli({ now: NOW });

    await main(['report'], page.deps);
    await main(['report', '--format', 'md'], markdown.deps);

    expect([...page.files.keys()]).toEqual(['hubfix-report-2026-11-30.html']);
    expect(markdown.files.size).toBe(0);
    expect(markdown.out[0]).toBe('## hubfix report: 2026-10-31 12:00:00Z to 2026-11-30 12:00:00Z');
  });
});
