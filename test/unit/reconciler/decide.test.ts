import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/core/finding';
import { parseAsffFinding } from '../../../lambdas/core/intake/asff';
import { parseOcsfFinding } from '../../../lambdas/core/intake/ocsf';
import type { HistoryEntry } from '../../../lambdas/core/ports';
import {
  decideSweep,
  type SweepDecision,
  type SweepScope,
  securityHubProducts,
} from '../../../lambdas/reconciler/decide';
import { ACCOUNT, EC2_2_FINDING, type Json, REGION, withChanges } from '../../support/fixtures';
import { ocsfFinding } from '../../support/ocsf';
import { asMember, MEMBER, MEMBER_REGION, SCOPE as ORGANIZATION } from '../../support/organization';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const GRACE_MS = 24 * 3_600_000;
const SCOPE: SweepScope = {
  account: ACCOUNT,
  region: REGION,
  products: securityHubProducts('aws', REGION),
  controls: new Set(['EC2.2', 'EC2.9']),
};

function asffOf(raw: Json): Finding {
  const parsed = parseAsffFinding(raw, 0);
  if (!parsed.ok) throw parsed.error;
  return parsed.finding;
}

function ocsfOf(raw: Json): Finding {
  const parsed = parseOcsfFinding(raw, 0);
  if (!parsed.ok) throw parsed.error;
  return parsed.finding;
}

function asff(changes: Record<string, unknown> = {}): Finding {
  return asffOf(withChanges(EC2_2_FINDING, changes));
}

function ocsf(changes: Json = {}): Finding {
  return ocsfOf(ocsfFinding('EC2.2', changes));
}

/** What hubfix last did, `hoursAgo` before NOW. */
function history(
  lastOutcome: HistoryEntry['lastOutcome'],
  hoursAgo: number,
  workflowSet: HistoryEntry['workflowSet'] = undefined,
): HistoryEntry {
  const at = new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString();
  const fixed = lastOutcome === 'REMEDIATED';
  return {
    lastOutcome,
    lastReason: 'the reason',
    lastAt: at,
    lastChangeId: fixed ? 'EC2.2-1' : undefined,
    fixes: fixed ? 1 : 0,
    lastFixAt: fixed ? at : undefined,
    lastFixChangeId: fixed ? 'EC2.2-1' : undefined,
    continuing: false,
    workflowSet,
  };
}

type Row = [
  string,
  Finding,
  HistoryEntry | undefined,
  Pick<SweepDecision, 'kind' | 'why'> & { request?: string },
];

const ROWS: Row[] = [
  // Row 0: never this deployment's.
  [
    'another account',
    asff({ AwsAccountId: '222222222222' }),
    undefined,
    { kind: 'leave', why: 'not-ours' },
  ],
  [
    'another product',
    asff({ ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }),
    undefined,
    { kind: 'leave', why: 'not-ours' },
  ],
  [
    'Security Hub of another region',
    asff({ ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub' }),
    undefined,
    { kind: 'leave', why: 'not-ours' },
  ],
  [
    'a control not deployed',
    asff({ 'ProductFields.ControlId': 'EC2.7', GeneratorId: 'x/EC2.7' }),
    undefined,
    { kind: 'leave', why: 'not-ours' },
  ],
  [
    'passed',
    asff({ 'Compliance.Status': 'PASSED' }),
    undefined,
    { kind: 'leave', why: 'not-ours' },
  ],
  ['archived', asff({ RecordState: 'ARCHIVED' }), undefined, { kind: 'leave', why: 'not-ours' }],
  // Rows 1 and 2: never handled.
  ['never handled, NEW', asff(), undefined, { kind: 'hand', request: 'imported', why: 'backfill' }],
  [
    'never handled, NEW (OCSF)',
    ocsf(),
    undefined,
    { kind: 'hand', request: 'imported', why: 'backfill' },
  ],
  [
    'never handled, NOTIFIED by someone',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    undefined,
    { kind: 'leave', why: 'not-hubfix' },
  ],
  [
    'never handled, SUPPRESSED by someone',
    asff({ 'Workflow.Status': 'SUPPRESSED' }),
    undefined,
    { kind: 'leave', why: 'not-hubfix' },
  ],
  [
    'never handled, RESOLVED by someone',
    ocsf({ status_id: 4, status: 'Resolved' }),
    undefined,
    { kind: 'leave', why: 'not-hubfix' },
  ],
  // Row 3: a person's triage after hubfix's last word.
  [
    'hubfix notified, someone suppressed',
    asff({ 'Workflow.Status': 'SUPPRESSED' }),
    history('NOTIFIED', 100, 'NOTIFIED'),
    { kind: 'leave', why: 'not-hubfix' },
  ],
  [
    'hubfix fixed (note only), someone resolved',
    asff({ 'Workflow.Status': 'RESOLVED' }),
    history('REMEDIATED', 100),
    { kind: 'leave', why: 'not-hubfix' },
  ],
  // Row 4.
  [
    'drifted',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('DRIFTED', 100, 'NOTIFIED'),
    { kind: 'leave', why: 'drifted' },
  ],
  // Rows 5 and 6: fixed, and still failing.
  ['fixed an hour ago', asff(), history('REMEDIATED', 1), { kind: 'leave', why: 'within-grace' }],
  [
    'fixed 23.9 hours ago',
    asff(),
    history('REMEDIATED', 23.9),
    { kind: 'leave', why: 'within-grace' },
  ],
  [
    'fixed 24 hours ago, still failing',
    asff(),
    history('REMEDIATED', 24),
    { kind: 'hand', request: 'reconcile', why: 'still-failing' },
  ],
  [
    'fixed a suppressed finding (set NEW), still failing',
    asff(),
    history('REMEDIATED', 48, 'NEW'),
    { kind: 'hand', request: 'reconcile', why: 'still-failing' },
  ],
  [
    'fixed while NOTIFIED by hubfix, still failing',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('REMEDIATED', 48, 'NOTIFIED'),
    { kind: 'hand', request: 'reconcile', why: 'still-failing' },
  ],
  [
    'found compliant recently',
    asff(),
    history('ALREADY_COMPLIANT', 2),
    { kind: 'leave', why: 'within-grace' },
  ],
  [
    'found compliant, still failing a day later',
    asff(),
    history('ALREADY_COMPLIANT', 30),
    { kind: 'hand', request: 'reconcile', why: 'still-failing' },
  ],
  // Rows 7 and 8: a person must act, or hubfix looks again.
  [
    'failed an hour ago',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('FAILED', 1, 'NOTIFIED'),
    { kind: 'leave', why: 'within-grace' },
  ],
  [
    'failed two days ago',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('FAILED', 48, 'NOTIFIED'),
    { kind: 'hand', request: 'reconcile', why: 're-decide' },
  ],
  [
    'notified',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('NOTIFIED', 1, 'NOTIFIED'),
    { kind: 'hand', request: 'reconcile', why: 're-decide' },
  ],
  [
    'blocked',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('BLOCKED', 1, 'NOTIFIED'),
    { kind: 'hand', request: 'reconcile', why: 're-decide' },
  ],
  [
    'planned',
    asff({ 'Workflow.Status': 'NOTIFIED' }),
    history('PLANNED', 1, 'NOTIFIED'),
    { kind: 'hand', request: 'reconcile', why: 're-decide' },
  ],
  [
    'deferred (note only, still NEW)',
    asff(),
    history('DEFERRED', 0.1),
    { kind: 'hand', request: 'reconcile', why: 're-decide' },
  ],
  // Row 9.
  [
    'suppressed by hubfix',
    asff({ 'Workflow.Status': 'SUPPRESSED' }),
    history('SUPPRESSED', 1, 'SUPPRESSED'),
    { kind: 'hand', request: 'reconcile', why: 'suppression' },
  ],
  [
    'suppressed by hubfix (OCSF)',
    ocsf({ status_id: 3, status: 'Suppressed' }),
    history('SUPPRESSED', 1, 'SUPPRESSED'),
    { kind: 'hand', request: 'reconcile', why: 'suppression' },
  ],
];

describe('decideSweep', () => {
  it.each(ROWS)('%s', (_name, finding, last, expected) => {
    const decision = decideSweep({
      finding,
      history: last,
      now: NOW,
      graceMs: GRACE_MS,
      scope: SCOPE,
    });

    expect(decision).toMatchObject(expected);
    expect(decision.detail.length).toBeGreaterThan(0);
  });

  it('says why a finding is not this deployment’s', () => {
    const decision = decideSweep({
      finding: asff({ AwsAccountId: '222222222222' }),
      history: undefined,
      now: NOW,
      graceMs: GRACE_MS,
      scope: SCOPE,
    });

    expect(decision.detail).toBe('it belongs to account 222222222222, not 111111111111');
  });

  it('looks again at a fix whose time it cannot read, rather than forgetting it', () => {
    const unreadable = { ...history('REMEDIATED', 1), lastAt: 'yesterday' };

    expect(
      decideSweep({
        finding: asff(),
        history: unreadable,
        now: NOW,
        graceMs: GRACE_MS,
        scope: SCOPE,
      }),
    ).toMatchObject({ kind: 'hand', why: 'still-failing' });
  });

  it('uses the grace period it is given', () => {
    const decide = (graceHours: number) =>
      decideSweep({
        finding: asff(),
        history: history('REMEDIATED', 6),
        now: NOW,
        graceMs: graceHours * 3_600_000,
        scope: SCOPE,
      }).why;

    expect([decide(4), decide(8)]).toEqual(['still-failing', 'within-grace']);
  });
});

/** Org mode: the central deployment's scope (every account but one, two regions). */
const ORG_SCOPE: SweepScope = {
  account: ACCOUNT,
  region: REGION,
  products: [REGION, MEMBER_REGION].flatMap((region) => securityHubProducts('aws', region)),
  controls: new Set(['EC2.2', 'EC2.9']),
  organization: ORGANIZATION,
};
const LISTED_SCOPE: SweepScope = {
  ...ORG_SCOPE,
  organization: { ...ORGANIZATION, accounts: [ACCOUNT, MEMBER] },
};

/** Row 0 in org mode: the reason is the trust stage's own (test/unit/org/trust.test.ts). */
const ORG_ROWS: [string, Finding, SweepScope, Pick<SweepDecision, 'kind' | 'why' | 'detail'>][] = [
  [
    'a member account, an allowed region',
    asffOf(asMember(EC2_2_FINDING)),
    ORG_SCOPE,
    { kind: 'hand', why: 'backfill', detail: 'failed and new, and hubfix never handled it' },
  ],
  [
    'a member account, an allowed region (OCSF)',
    ocsfOf(asMember(ocsfFinding('EC2.2'))),
    ORG_SCOPE,
    { kind: 'hand', why: 'backfill', detail: 'failed and new, and hubfix never handled it' },
  ],
  [
    "the administrator's own account",
    asff(),
    ORG_SCOPE,
    { kind: 'hand', why: 'backfill', detail: 'failed and new, and hubfix never handled it' },
  ],
  [
    'a listed account',
    asffOf(asMember(EC2_2_FINDING)),
    LISTED_SCOPE,
    { kind: 'hand', why: 'backfill', detail: 'failed and new, and hubfix never handled it' },
  ],
  [
    'an excluded account',
    asffOf(asMember(EC2_2_FINDING, '999999999999')),
    ORG_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail:
        "the finding is outside hubfix's scope: account 999999999999 is excluded (organization.excludeAccounts)",
    },
  ],
  [
    'an account not listed',
    asffOf(asMember(EC2_2_FINDING, '333333333333')),
    LISTED_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail:
        "the finding is outside hubfix's scope: account 333333333333 is not among the accounts hubfix may act in (organization.accounts)",
    },
  ],
  [
    'an allowed account in a region not allowed',
    asffOf(asMember(EC2_2_FINDING, MEMBER, 'ap-southeast-2')),
    ORG_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail:
        "the finding is outside hubfix's scope: region ap-southeast-2 is not among the regions hubfix may act in (organization.regions: us-east-1, eu-west-1)",
    },
  ],
  [
    'another product',
    asffOf(
      withChanges(asMember(EC2_2_FINDING), {
        ProductArn: `arn:aws:securityhub:${MEMBER_REGION}::product/aws/guardduty`,
      }),
    ),
    ORG_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail: `it is not from Security Hub (arn:aws:securityhub:${MEMBER_REGION}::product/aws/guardduty)`,
    },
  ],
  [
    "Security Hub of another partition's allowed region",
    asff({ ProductArn: `arn:aws-us-gov:securityhub:${REGION}::product/aws/securityhub` }),
    ORG_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail: `it is not from Security Hub in us-east-1, eu-west-1 (arn:aws-us-gov:securityhub:${REGION}::product/aws/securityhub)`,
    },
  ],
  [
    'a Region field that is not the region which produced it',
    asffOf(withChanges(asMember(EC2_2_FINDING), { Region: REGION })),
    ORG_SCOPE,
    {
      kind: 'leave',
      why: 'not-ours',
      detail: `it is in ${REGION}, but Security Hub in ${MEMBER_REGION} produced it`,
    },
  ],
  [
    'a member finding of a control not deployed',
    asffOf(
      withChanges(asMember(EC2_2_FINDING), {
        'ProductFields.ControlId': 'EC2.7',
        GeneratorId: 'x/EC2.7',
      }),
    ),
    ORG_SCOPE,
    { kind: 'leave', why: 'not-ours', detail: 'control EC2.7 is not deployed' },
  ],
];

describe('decideSweep in org mode', () => {
  it.each(ORG_ROWS)('%s', (_name, finding, scope, expected) => {
    expect(
      decideSweep({ finding, history: undefined, now: NOW, graceMs: GRACE_MS, scope }),
    ).toMatchObject(expected);
  });

  it('decides a member finding hubfix handled before by its history, as for its own', () => {
    expect(
      decideSweep({
        finding: asffOf(asMember(EC2_2_FINDING)),
        history: history('REMEDIATED', 30),
        now: NOW,
        graceMs: GRACE_MS,
        scope: ORG_SCOPE,
      }),
    ).toMatchObject({ kind: 'hand', request: 'reconcile', why: 'still-failing' });
  });
});
