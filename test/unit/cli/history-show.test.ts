import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { formatHistory, main } from '../../../lib/cli/main';
import { escapeTerminal } from '../../../lib/cli/text';
import { ENTRY, fakeCli } from '../../support/cli';

describe('history', () => {
  it('lists recent changes as a table', async () => {
    const t = fakeCli({ entries: [ENTRY] });

    expect(await main(['history'], t.deps)).toBe(0);
    expect(t.out[0]).toMatch(/^CHANGE ID\s+WHEN\s+CONTROL\s+STATUS\s+RESOURCE\s+SUMMARY$/);
    expect(t.out[1]).toContain('2026-11-22 10:00:00Z  EC2.2    REMEDIATED  sg-1234123f');
  });

  it('prints a friendly line when the ledger is empty', () => {
    expect(formatHistory([])).toEqual(['no changes recorded yet']);
  });

  it('marks a change whose fix did not hold', () => {
    const lines = formatHistory([
      { ...ENTRY, drift: DRIFT },
      { ...ENTRY, changeId: 'EC2.2-held' },
    ]);

    expect(lines[1]).toContain('EC2.2    REMEDIATED (drifted)  sg-1234123f');
    expect(lines[2]).toMatch(/EC2\.2 {4}REMEDIATED {12}sg-1234123f/);
  });
});

describe('history across accounts', () => {
  it('names the account and region when changes were made in more than one', () => {
    const lines = formatHistory([
      { ...ENTRY, changeId: 'EC2.2-member', account: '222222222222', region: 'eu-west-1' },
      { ...ENTRY, changeId: 'EC2.2-admin', account: '111111111111', region: 'us-east-1' },
    ]);

    expect(lines[0]).toMatch(/STATUS\s+WHERE\s+RESOURCE/);
    expect(lines[1]).toMatch(/EC2\.2-member .*REMEDIATED\s+222222222222 eu-west-1\s+sg-1234123f/);
    expect(lines[2]).toMatch(/EC2\.2-admin .*REMEDIATED\s+111111111111 us-east-1\s+sg-1234123f/);
  });

  it('leaves the column out when every change was made in one place', () => {
    const here = { ...ENTRY, account: '111111111111', region: 'us-east-1' };

    expect(formatHistory([here, { ...here, changeId: 'EC2.2-two' }])[0]).not.toContain('WHERE');
  });
});

const DRIFT = {
  detectedAt: '2026-11-29T06:00:01.000Z',
  findingId: 'finding-1',
  changedBack: 'revoke all 1 rules of the default security group sg-1234123f',
  owner: 'CloudFormation stack "network"',
  outcome: 'DRIFTED',
};

describe('show', () => {
  it('shows one change with its before-state', async () => {
    const t = fakeCli({ entries: [{ ...ENTRY, account: '111111111111', region: 'us-east-1' }] });

    expect(await main(['show', ENTRY.changeId], t.deps)).toBe(0);
    expect(t.out).toContain('status     REMEDIATED');
    expect(t.out).toContain('where      111111111111, us-east-1');
    expect(t.out).toContain('    "groupId": "sg-1234123f",');
  });

  it('says what changed back and which stack owns the resource', async () => {
    const t = fakeCli({ entries: [{ ...ENTRY, drift: DRIFT }] });

    expect(await main(['show', ENTRY.changeId], t.deps)).toBe(0);
    expect(t.out).toContain(
      'drifted    2026-11-29 06:00:01Z: the fix did not hold; a fix now would revoke all 1 rules of the default security group sg-1234123f (hubfix: DRIFTED)',
    );
    expect(t.out).toContain(
      'owner      CloudFormation stack "network": fix the template, or hubfix will fight it',
    );
  });

  it('says when no tag names who puts a drifted resource back', async () => {
    const t = fakeCli({ entries: [{ ...ENTRY, drift: { ...DRIFT, owner: undefined } }] });

    await main(['show', ENTRY.changeId], t.deps);

    expect(t.out.find((line) => line.startsWith('owner'))).toContain(
      "not named by the resource's tags",
    );
  });

  it('says when a change is not in the ledger', async () => {
    const t = fakeCli();

    expect(await main(['show', 'nope'], t.deps)).toBe(1);
    expect(t.err).toEqual(['hubfix: no change nope in Hubfix-Ledger123']);
  });

  it('prints ledger text with every control and bidi character made visible', async () => {
    // Prepare: an entry written to fake a prompt and to reverse what a line says.
    const hostile: LedgerEntry = {
      ...ENTRY,
      summary: 'ok\u001b[2J\u001b[1;1Hrollback complete\u0007',
      error: 'see \u202edetacer\u202c and \u2066isolate\u2069 \u009b31m',
      changes: ['line one\nFAKE: rolled back', 'zero\u200bwidth'],
    };
    const t = fakeCli({ entries: [hostile] });

    // Act
    await main(['show', ENTRY.changeId], t.deps);
    await main(['history'], t.deps);

    // Assess
    // Every printed line is free of control, format (bidi, zero-width) and separator characters.
    expect(t.out.filter((line) => /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(line))).toEqual([]);
    expect(t.out).toContain('summary    ok\\x1b[2J\\x1b[1;1Hrollback complete\\x07');
    expect(t.out).toContain(
      'error      see \\u202edetacer\\u202c and \\u2066isolate\\u2069 \\x9b31m',
    );
    expect(t.out).toContain('  - line one\\x0aFAKE: rolled back');
  });
});

describe('escapeTerminal', () => {
  it.each([
    ['plain text, accents and CJK', 'café — 東京 ✓', 'café — 東京 ✓'],
    ['C0 escape and bell', '\u001b]0;title\u0007', '\\x1b]0;title\\x07'],
    ['carriage return and tab', 'a\rb\tc', 'a\\x0db\\x09c'],
    ['DEL and C1 CSI', '\u007f\u009b', '\\x7f\\x9b'],
    [
      'bidi overrides and isolates',
      '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069',
      '\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069',
    ],
    [
      'marks, BOM and separators',
      '\u200e\u200f\u061c\ufeff\u2028\u2029',
      '\\u200e\\u200f\\u061c\\ufeff\\u2028\\u2029',
    ],
    ['a lone surrogate', 'x\ud800y', 'x\\ud800y'],
  ])('%s', (_name, input, expected) => {
    expect(escapeTerminal(input)).toBe(expected);
  });
});
