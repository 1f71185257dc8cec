import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/core/adapters/ledger-admin';
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
});

describe('show', () => {
  it('shows one change with its before-state', async () => {
    const t = fakeCli({ entries: [{ ...ENTRY, account: '111111111111', region: 'us-east-1' }] });

    expect(await main(['show', ENTRY.changeId], t.deps)).toBe(0);
    expect(t.out).toContain('status     REMEDIATED');
    expect(t.out).toContain('where      111111111111, us-east-1');
    expect(t.out).toContain('    "groupId": "sg-1234123f",');
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
