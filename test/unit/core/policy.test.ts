import { describe, expect, it } from 'vitest';
import {
  type DecisionInput,
  type DecisionKind,
  decide,
  isAllowListed,
  mayChange,
  optOutTag,
  readSuppression,
  screen,
  suppressionEnd,
  suppressReason,
} from '../../../lambdas/core/policy';
import type { TagPolicy } from '../../../lambdas/core/settings';

const tagPolicy: TagPolicy = {
  optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
  suppress: { key: 'hubfix:suppress' },
};

const base: DecisionInput = {
  trust: { ok: true },
  mode: 'remediate',
  request: 'imported',
  tags: { readable: true, tags: { environment: 'dev' } },
  tagPolicy,
  notifyOnly: false,
  dryRun: false,
  allowList: [],
  overrideAllowList: false,
  now: new Date('2026-12-01T12:00:00Z'),
  resource: {
    ids: ['arn:aws:ec2:us-east-1:111111111111:security-group/sg-1', 'sg-1'],
    account: '111111111111',
  },
};

const untrusted = { trust: { ok: false as const, reason: 'not FAILED' } };
const suppressed = {
  tags: { readable: true as const, tags: { 'hubfix:suppress': 'accepted risk, ticket SEC-1' } },
};
const optedOut = { tags: { readable: true as const, tags: { 'hubfix:auto-remediate': 'false' } } };
const unreadable = { tags: { readable: false as const, reason: 'AccessDenied' } };
const onlyProd = { allowList: [{ tags: { environment: ['prod'] } }] };

/** [row, description, changes to the base input, expected decision] */
const TABLE: readonly [string, string, Partial<DecisionInput>, DecisionKind][] = [
  ['1', 'untrusted finding', untrusted, 'IGNORE'],
  [
    '1',
    'untrusted finding, even when a person asks',
    { ...untrusted, request: 'remediate-action' },
    'IGNORE',
  ],
  ['2', 'mode off', { mode: 'off' }, 'IGNORE'],
  ['2', 'mode off, even with a suppress tag', { mode: 'off', ...suppressed }, 'IGNORE'],
  [
    '2',
    'mode off means off, even when a person asks',
    { mode: 'off', request: 'remediate-action' },
    'IGNORE',
  ],
  ['2', 'mode off, even for a plan', { mode: 'off', request: 'plan-action' }, 'IGNORE'],
  ['-', 'tags unreadable: fail closed, look again later', unreadable, 'DEFER'],
  [
    '-',
    'tags unreadable on a person request',
    { ...unreadable, request: 'remediate-action' },
    'DEFER',
  ],
  ['3', 'suppress tag with a reason', suppressed, 'SUPPRESS'],
  [
    '3',
    'suppress tag beats opt-out',
    {
      tags: { readable: true, tags: { 'hubfix:suppress': 'why', 'hubfix:auto-remediate': 'off' } },
    },
    'SUPPRESS',
  ],
  [
    '3',
    'suppress tag with a blank reason falls through',
    { tags: { readable: true, tags: { 'hubfix:suppress': '  ' } } },
    'REMEDIATE',
  ],
  [
    '3',
    'suppress honoured on a person request',
    { ...suppressed, request: 'remediate-action' },
    'SUPPRESS',
  ],
  ['4', 'opt-out tag', optedOut, 'NOTIFY'],
  [
    '4',
    'opt-out value matched case-insensitively',
    { tags: { readable: true, tags: { 'hubfix:auto-remediate': ' OFF ' } } },
    'NOTIFY',
  ],
  [
    '4',
    'opt-out key with another value does not opt out',
    { tags: { readable: true, tags: { 'hubfix:auto-remediate': 'true' } } },
    'REMEDIATE',
  ],
  [
    '4',
    'opt-out honoured on a person request',
    { ...optedOut, request: 'remediate-action' },
    'NOTIFY',
  ],
  ['4', 'opt-out beats dry run', { ...optedOut, dryRun: true }, 'NOTIFY'],
  ['5', 'mode notify', { mode: 'notify' }, 'NOTIFY'],
  ['5', 'not allow-listed', onlyProd, 'NOTIFY'],
  ['5', 'notify-only control', { notifyOnly: true }, 'NOTIFY'],
  [
    '5',
    'notify-only control, even when a person asks',
    { notifyOnly: true, request: 'remediate-action' },
    'NOTIFY',
  ],
  [
    '5',
    'person request skips mode notify',
    { mode: 'notify', request: 'remediate-action' },
    'REMEDIATE',
  ],
  [
    '5',
    'person request honours the allow-list',
    { ...onlyProd, request: 'remediate-action' },
    'NOTIFY',
  ],
  [
    '5',
    'person request goes past the allow-list when the config says so',
    { ...onlyProd, request: 'remediate-action', overrideAllowList: true },
    'REMEDIATE',
  ],
  [
    '5',
    'the override is for people only: an imported finding still needs the allow-list',
    { ...onlyProd, overrideAllowList: true },
    'NOTIFY',
  ],
  ['5', 'Plan honours the allow-list too', { ...onlyProd, request: 'plan-action' }, 'NOTIFY'],
  [
    '5',
    'the reconciler is automatic: notify mode holds',
    { mode: 'notify', request: 'reconciled' },
    'NOTIFY',
  ],
  [
    '3',
    'suppression still in force before its end date',
    { tags: { readable: true, tags: { 'hubfix:suppress': 'lab; until 2026-12-01' } } },
    'SUPPRESS',
  ],
  [
    '3',
    'suppression past its end date no longer suppresses',
    { tags: { readable: true, tags: { 'hubfix:suppress': 'lab; until 2026-11-30' } } },
    'REMEDIATE',
  ],
  [
    '3',
    'a malformed end date is never taken as expired',
    { tags: { readable: true, tags: { 'hubfix:suppress': 'lab; until 30/11/2026' } } },
    'SUPPRESS',
  ],
  ['6', 'dry run', { dryRun: true }, 'PLAN'],
  ['6', 'Plan custom action', { request: 'plan-action' }, 'PLAN'],
  [
    '6',
    'Plan previews Remediate: skips mode notify',
    { mode: 'notify', request: 'plan-action' },
    'PLAN',
  ],
  [
    '6',
    'dry run wins over a Remediate request',
    { dryRun: true, request: 'remediate-action' },
    'PLAN',
  ],
  ['7', 'allow-listed, remediate mode', {}, 'REMEDIATE'],
  [
    '7',
    'allow-listed by tag',
    { allowList: [{ tags: { environment: ['dev', 'staging'] } }] },
    'REMEDIATE',
  ],
  ['7', 'Remediate custom action', { request: 'remediate-action' }, 'REMEDIATE'],
];

describe('decide: the decision table, row by row', () => {
  it.each(TABLE)('row %s: %s → %s', (_row, _description, changes, expected) => {
    // Prepare
    const input: DecisionInput = { ...base, ...changes };

    // Act
    const decision = decide(input);

    // Assess
    expect(decision.kind).toBe(expected);
    expect(decision.reason.length).toBeGreaterThan(0);
  });

  it('quotes the suppress reason and names the opt-out tag', () => {
    expect(decide({ ...base, ...suppressed }).reason).toContain('"accepted risk, ticket SEC-1"');
    expect(decide({ ...base, ...optedOut }).reason).toContain('hubfix:auto-remediate=false');
  });

  it('says why tags could not be read', () => {
    expect(decide({ ...base, ...unreadable }).reason).toContain('AccessDenied');
  });

  it('says when a suppression has ended, and still decides on the rest', () => {
    const decision = decide({
      ...base,
      tags: { readable: true, tags: { 'hubfix:suppress': 'lab VPC; until 2026-11-30' } },
      mode: 'notify',
    });
    expect(decision).toEqual({
      kind: 'NOTIFY',
      reason:
        'the suppression by tag hubfix:suppress ("lab VPC") ended on 2026-11-30; the control is in notify mode',
    });
  });

  it('reports a malformed end date and treats the suppression as having none', () => {
    const decision = decide({
      ...base,
      tags: { readable: true, tags: { 'hubfix:suppress': 'lab; until next year' } },
    });
    expect(decision).toMatchObject({ kind: 'SUPPRESS', until: undefined });
    expect(decision.reason).toContain('its end date "next year" is not a date');
  });
});

describe('suppression end dates', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it.each([
    [
      'risk accepted',
      { kind: 'active', reason: 'risk accepted', until: undefined, malformedUntil: undefined },
    ],
    [
      'risk accepted; until 2027-03-31',
      { kind: 'active', reason: 'risk accepted', until: '2027-03-31', malformedUntil: undefined },
    ],
    [
      'risk accepted ;Until 2026-12-01',
      { kind: 'active', reason: 'risk accepted', until: '2026-12-01', malformedUntil: undefined },
    ],
    [
      'risk accepted; until 2026-11-30',
      { kind: 'expired', reason: 'risk accepted', until: '2026-11-30' },
    ],
    [
      'risk accepted; until 2026-12-01T11:59:59Z',
      { kind: 'expired', reason: 'risk accepted', until: '2026-12-01T11:59:59Z' },
    ],
    [
      'risk accepted; until 2027-02-30',
      { kind: 'active', reason: 'risk accepted', until: undefined, malformedUntil: '2027-02-30' },
    ],
    ['; until 2027-01-01', { kind: 'none' }],
    ['', { kind: 'none' }],
  ])('"%s"', (value, expected) => {
    expect(readSuppression({ 'hubfix:suppress': value }, tagPolicy, now)).toEqual(expected);
  });

  it('holds through the whole end day, UTC', () => {
    expect(suppressionEnd('2027-03-31')?.toISOString()).toBe('2027-04-01T00:00:00.000Z');
  });
});

describe('mayChange: whether a request could change anything, before tags are read', () => {
  it.each([
    [{ mode: 'remediate', request: 'imported', notifyOnly: false, dryRun: false }, true],
    [{ mode: 'notify', request: 'imported', notifyOnly: false, dryRun: false }, false],
    [{ mode: 'notify', request: 'remediate-action', notifyOnly: false, dryRun: false }, true],
    [{ mode: 'remediate', request: 'plan-action', notifyOnly: false, dryRun: false }, false],
    [{ mode: 'remediate', request: 'imported', notifyOnly: false, dryRun: true }, false],
    [{ mode: 'remediate', request: 'imported', notifyOnly: true, dryRun: false }, false],
    [{ mode: 'off', request: 'remediate-action', notifyOnly: false, dryRun: false }, false],
    [{ mode: 'remediate', request: 'reconciled', notifyOnly: false, dryRun: false }, true],
  ] as const)('%o → %s', (input, expected) => {
    expect(mayChange(input)).toBe(expected);
  });
});

describe('screen: rows 1 and 2 before any AWS call', () => {
  it.each([
    ['untrusted', { ...untrusted }, 'IGNORE'],
    ['mode off', { mode: 'off' as const }, 'IGNORE'],
    [
      'mode off, even when a person asks',
      { mode: 'off' as const, request: 'remediate-action' as const },
      'IGNORE',
    ],
    ['worth a look', {}, undefined],
  ])('%s', (_name, changes, expected) => {
    const screened = screen({ ...base, ...changes });
    expect(screened?.kind).toBe(expected);
  });

  it('agrees with decide on every row it answers', () => {
    for (const [, , changes] of TABLE) {
      const input = { ...base, ...changes };
      const screened = screen(input);
      if (screened) expect(decide(input)).toEqual(screened);
    }
  });
});

describe('allow-list matching', () => {
  const resource = base.resource;
  const tags = { environment: 'dev', team: 'payments' };

  it.each([
    ['empty list allows everything', [], true],
    ['tag value in the list', [{ tags: { environment: ['dev', 'staging'] } }], true],
    ['tag value not in the list', [{ tags: { environment: ['prod'] } }], false],
    ['tag key present, any value (empty list)', [{ tags: { team: [] } }], true],
    ['tag key absent', [{ tags: { owner: [] } }], false],
    [
      'every tag of an entry must match',
      [{ tags: { environment: ['dev'], team: ['search'] } }],
      false,
    ],
    ['short resource id', [{ resourceIds: ['sg-1'] }], true],
    ['resource ARN', [{ resourceIds: [resource.ids[0] ?? ''] }], true],
    ['other resource id', [{ resourceIds: ['sg-2'] }], false],
    ['account id', [{ accountIds: ['111111111111'] }], true],
    ['other account id', [{ accountIds: ['222222222222'] }], false],
    [
      'criteria within an entry are ANDed',
      [{ accountIds: ['111111111111'], resourceIds: ['sg-2'] }],
      false,
    ],
    ['entries are ORed', [{ resourceIds: ['sg-2'] }, { accountIds: ['111111111111'] }], true],
    ['an entry with no criteria allows nothing', [{}], false],
  ])('%s', (_name, allowList, expected) => {
    expect(isAllowListed(allowList, tags, resource)).toBe(expected);
  });
});

describe('owner tags', () => {
  it('reads the suppress reason trimmed, and ignores a blank one', () => {
    expect(suppressReason({ 'hubfix:suppress': '  risk accepted ' }, tagPolicy, base.now)).toBe(
      'risk accepted',
    );
    expect(suppressReason({ 'hubfix:suppress': '' }, tagPolicy, base.now)).toBeUndefined();
  });

  it('treats any value as opt-out when the policy lists no values', () => {
    const anyValue: TagPolicy = { ...tagPolicy, optOut: { key: 'no-fix', values: [] } };
    expect(optOutTag({ 'no-fix': 'whatever' }, anyValue)).toBe('whatever');
    expect(optOutTag({}, anyValue)).toBeUndefined();
  });

  it('matches tag keys exactly (AWS tag keys are case-sensitive)', () => {
    expect(optOutTag({ 'HUBFIX:AUTO-REMEDIATE': 'false' }, tagPolicy)).toBeUndefined();
  });
});
