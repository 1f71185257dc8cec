import { describe, expect, it } from 'vitest';
import type { ChangePlan } from '../../../lambdas/core/control';
import {
  driftOf,
  nextHistory,
  ownerFromTags,
  repeatsLastWord,
} from '../../../lambdas/core/lifecycle';
import type { HistoryEntry } from '../../../lambdas/core/ports';

const plan: ChangePlan<unknown> = {
  kind: 'change',
  summary: 'revoke 2 rules',
  steps: [],
  before: {},
  undo: [],
};
const remediate = { kind: 'REMEDIATE' as const, reason: 'allow-listed' };
const fixed: HistoryEntry = {
  lastOutcome: 'REMEDIATED',
  lastReason: 'the resource is allow-listed and the control is in remediate mode',
  lastAt: '2026-11-01T00:00:00Z',
  lastChangeId: 'EC2.2-1',
  fixes: 1,
  lastFixAt: '2026-11-01T00:00:00Z',
  lastFixChangeId: 'EC2.2-1',
  continuing: false,
  workflowSet: undefined,
};

describe('driftOf', () => {
  it.each([
    ['never handled', undefined, true, false],
    ['handled, never fixed', { ...fixed, fixes: 0 }, true, false],
    ['fixed, and compliant now', fixed, false, false],
    ['fixed, and needs fixing again', fixed, true, true],
    ['fixed in part, the rest handed on', { ...fixed, continuing: true }, true, false],
  ] as const)('%s → drift: %s', (_name, history, needsFix, drifted) => {
    let asked = false;
    const drift = driftOf(
      history,
      () => {
        asked = true;
        return needsFix;
      },
      {},
    );
    expect(drift !== undefined).toBe(drifted);
    // The plan is worked out only when hubfix fixed this finding before.
    expect(asked).toBe(history !== undefined && history.fixes > 0 && !history.continuing);
  });

  it('names the previous change and the owner', () => {
    expect(driftOf(fixed, () => true, { 'aws:cloudformation:stack-name': 'net' })).toEqual({
      previousChangeId: 'EC2.2-1',
      previousAt: '2026-11-01T00:00:00Z',
      owner: 'CloudFormation stack "net"',
      fixes: 1,
    });
  });
});

describe('ownerFromTags', () => {
  it.each([
    [{ 'aws:cloudformation:stack-name': 'web' }, 'CloudFormation stack "web"'],
    [{ 'aws:servicecatalog:provisionedProductArn': 'arn:pp' }, 'Service Catalog product arn:pp'],
    [{ ManagedBy: 'terraform' }, 'terraform (tag ManagedBy)'],
    [{ 'managed-by': 'pulumi' }, 'pulumi (tag managed-by)'],
    [{ Name: 'web' }, undefined],
  ])('%o → %s', (tags, owner) => {
    expect(ownerFromTags(tags)).toBe(owner);
  });
});

describe('nextHistory', () => {
  it('counts verified fixes and remembers the last one', () => {
    const first = nextHistory(
      undefined,
      {
        decision: remediate,
        outcome: { kind: 'REMEDIATED', plan, changes: [], changeId: 'EC2.2-1' },
      },
      { write: true, workflow: undefined },
      '2026-11-01T00:00:00Z',
    );
    const then = nextHistory(
      first,
      {
        decision: { kind: 'NOTIFY', reason: 'notify mode' },
        outcome: { kind: 'NOTIFIED', reason: 'notify mode', plan: undefined },
      },
      { write: true, workflow: 'NOTIFIED' },
      '2026-11-02T00:00:00Z',
    );

    expect(then).toEqual({
      lastOutcome: 'NOTIFIED',
      lastReason: 'notify mode',
      lastAt: '2026-11-02T00:00:00Z',
      lastChangeId: undefined,
      fixes: 1,
      lastFixAt: '2026-11-01T00:00:00Z',
      lastFixChangeId: 'EC2.2-1',
      continuing: false,
      workflowSet: 'NOTIFIED',
    });
  });

  it('marks a fix that handed the rest on as continuing', () => {
    const partial = nextHistory(
      undefined,
      {
        decision: remediate,
        outcome: {
          kind: 'REMEDIATED',
          plan: { ...plan, remaining: '4,400 snapshots' },
          changes: [],
          changeId: 'EC2.1-1',
        },
      },
      { write: true, workflow: undefined },
      '2026-11-01T00:00:00Z',
    );
    expect(partial.continuing).toBe(true);
  });
});

describe('repeatsLastWord', () => {
  const notified = {
    decision: { kind: 'NOTIFY' as const, reason: 'the control is in notify mode' },
    outcome: {
      kind: 'NOTIFIED' as const,
      reason: 'the control is in notify mode',
      plan: undefined,
    },
    drift: undefined,
  };
  const told: HistoryEntry = {
    ...fixed,
    fixes: 0,
    lastOutcome: 'NOTIFIED',
    lastReason: 'the control is in notify mode',
  };

  it.each([
    ['a sweep that would say the same again', 'reconciled', told, notified, true],
    ['an event (Security Hub asked again)', 'imported', told, notified, false],
    ["a person's request", 'remediate-action', told, notified, false],
    [
      'a sweep with a new reason',
      'reconciled',
      { ...told, lastReason: 'the owner opted out' },
      notified,
      false,
    ],
    ['a sweep that never told anything', 'reconciled', undefined, notified, false],
    [
      'a sweep that finds the resource compliant again, as it said last time',
      'reconciled',
      { ...told, lastOutcome: 'ALREADY_COMPLIANT' as const, lastReason: 'compliant' },
      {
        decision: { kind: 'NOTIFY' as const, reason: 'compliant' },
        outcome: { kind: 'ALREADY_COMPLIANT' as const, summary: 'no rule left to revoke' },
        drift: undefined,
      },
      true,
    ],
    [
      'a sweep that finds compliant what it last fixed',
      'reconciled',
      { ...told, lastOutcome: 'REMEDIATED' as const, lastReason: 'compliant' },
      {
        decision: { kind: 'NOTIFY' as const, reason: 'compliant' },
        outcome: { kind: 'ALREADY_COMPLIANT' as const, summary: 'no rule left to revoke' },
        drift: undefined,
      },
      false,
    ],
    [
      'a sweep that fixes',
      'reconciled',
      { ...told, lastOutcome: 'REMEDIATED' as const },
      { ...notified, outcome: { kind: 'REMEDIATED' as const, plan, changes: [], changeId: 'c' } },
      false,
    ],
  ])('%s → quiet: %s', (_name, request, previous, report, quiet) => {
    expect(repeatsLastWord(request, previous, report)).toBe(quiet);
  });
});
