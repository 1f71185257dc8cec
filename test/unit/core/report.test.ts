import { describe, expect, it } from 'vitest';
import type { ChangePlan } from '../../../lambdas/core/control';
import { workflowFor } from '../../../lambdas/core/lifecycle';
import {
  clipBytes,
  clipList,
  type FindingReport,
  MESSAGE_BYTE_LIMIT,
  messageFor,
  NOTE_LIMIT,
  noteFor,
  type Outcome,
  SUBJECT_LIMIT,
  subjectFor,
} from '../../../lambdas/core/report';
import type { TagPolicy } from '../../../lambdas/core/settings';

const plan: ChangePlan<unknown> = {
  kind: 'change',
  summary: 'revoke all 2 rules (1 inbound, 1 outbound) of the default security group sg-1 of vpc-1',
  steps: [
    'revoke inbound rule sgr-1: all traffic from sg-1',
    'revoke outbound rule sgr-2: all traffic to 0.0.0.0/0',
  ],
  before: { rules: ['sgr-1', 'sgr-2'] },
  undo: ["aws ec2 authorize-security-group-ingress --group-id sg-1 --ip-permissions '[...]'"],
};

const tagPolicy: TagPolicy = {
  optOut: { key: 'hubfix:auto-remediate', values: ['false'] },
  suppress: { key: 'hubfix:suppress' },
};

function report(outcome: Outcome): FindingReport {
  return {
    findingId: 'arn:aws:securityhub:us-east-1:111111111111:subscription/x/finding/1',
    ref: {
      format: 'asff',
      id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/x/finding/1',
      productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    },
    controlId: 'EC2.2',
    controlTitle: 'VPC default security groups should not allow inbound or outbound traffic',
    severity: 'MEDIUM',
    account: '111111111111',
    region: 'us-east-1',
    resourceType: 'AwsEc2SecurityGroup',
    resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
    resourceId: 'sg-1',
    request: 'imported',
    via: 'security-hub',
    automatic: true,
    confirmation: { confirmed: true },
    workflowBefore: 'NEW',
    drift: undefined,
    decision: { kind: 'REMEDIATE', reason: 'allow-listed' },
    outcome,
  };
}

const OUTCOMES: readonly [Outcome, string | undefined][] = [
  [{ kind: 'IGNORED', reason: 'not FAILED' }, undefined],
  [{ kind: 'SUPPRESSED', reason: 'suppressed by tag hubfix:suppress: "accepted"' }, 'SUPPRESSED'],
  [{ kind: 'NOTIFIED', reason: 'the control is in notify mode', plan }, 'NOTIFIED'],
  [{ kind: 'PLANNED', reason: 'dry run is on', plan, blockers: ['in use by eni-1'] }, 'NOTIFIED'],
  [{ kind: 'ALREADY_COMPLIANT', summary: 'sg-1 has no rules' }, 'note only'],
  [{ kind: 'BLOCKED', plan, blockers: ['sg-1 is attached to 3 network interfaces'] }, 'NOTIFIED'],
  [
    { kind: 'REMEDIATED', plan, changes: ['revoked inbound rule sgr-1'], changeId: 'c-1' },
    'note only',
  ],
  [
    {
      kind: 'FAILED',
      stage: 'apply',
      error: 'UnauthorizedOperation',
      stateLeft: 'unchanged',
      plan,
      changes: [],
      changeId: 'c-2',
    },
    'NOTIFIED',
  ],
];

describe('workflowFor (the lifecycle rules)', () => {
  it.each(OUTCOMES)('$kind → %s', (outcome, workflow) => {
    const update = workflowFor(report(outcome));
    const shown = !update.write ? undefined : (update.workflow ?? 'note only');
    expect(shown).toBe(workflow);
  });

  it.each([
    ['REMEDIATED', 'SUPPRESSED', 'NEW'],
    ['REMEDIATED', 'RESOLVED', 'NEW'],
    ['REMEDIATED', 'NOTIFIED', undefined],
    ['ALREADY_COMPLIANT', 'SUPPRESSED', 'NEW'],
    ['ALREADY_COMPLIANT', 'RESOLVED', undefined],
    ['DEFERRED', 'SUPPRESSED', 'NEW'],
    ['DEFERRED', 'NEW', undefined],
  ] as const)('a note-only %s on a %s finding sets %s', (kind, before, expected) => {
    const outcome = OUTCOMES.map(([o]) => o).find((o) => o.kind === kind) ?? {
      kind: 'DEFERRED' as const,
      reason: 'throttled',
    };
    expect(workflowFor({ ...report(outcome), workflowBefore: before })).toEqual({
      write: true,
      workflow: expected,
    });
  });

  it('sets NOTIFIED, naming the owner, whenever a fix did not hold', () => {
    const drift = {
      previousChangeId: 'c-0',
      previousAt: '2026-11-01T00:00:00Z',
      owner: 'CloudFormation stack "web"',
      fixes: 1,
    };
    const fixedAgain = { ...report(OUTCOMES[6]?.[0] as Outcome), drift };
    expect(workflowFor(fixedAgain)).toEqual({ write: true, workflow: 'NOTIFIED' });
    expect(noteFor(fixedAgain)).toContain(
      'belongs to CloudFormation stack "web": fix the template, or hubfix will fight it',
    );
  });
});

describe('noteFor', () => {
  it.each(OUTCOMES)('$kind fits in 512 characters and says what happened', (outcome) => {
    const note = noteFor(report(outcome));

    expect(note.length).toBeLessThanOrEqual(NOTE_LIMIT);
    expect(note).toMatch(/^hubfix /);
  });

  it('clips a long note to exactly the limit, marking the cut', () => {
    const long: Outcome = { kind: 'BLOCKED', plan, blockers: ['x'.repeat(2000)] };

    const note = noteFor(report(long));

    expect(note).toHaveLength(NOTE_LIMIT);
    expect(note.endsWith('…')).toBe(true);
  });

  it('quotes the suppress reason, the plan steps and the blockers', () => {
    expect(noteFor(report(OUTCOMES[1]?.[0] as Outcome))).toContain('"accepted"');
    const planned = noteFor(report(OUTCOMES[3]?.[0] as Outcome));
    expect(planned).toContain('1) revoke inbound rule sgr-1');
    expect(planned).toContain('It would be blocked: in use by eni-1');
  });
});

describe('subjectFor', () => {
  it('is one ASCII line of at most 100 characters a person can scan', () => {
    const subject = subjectFor(report(OUTCOMES[6]?.[0] as Outcome));

    expect(subject).toBe('hubfix REMEDIATED EC2.2 sg-1 (111111111111 us-east-1)');
  });

  it('replaces non-ASCII and clips long resource ids', () => {
    const r = { ...report(OUTCOMES[6]?.[0] as Outcome), resourceId: `sg-é${'9'.repeat(200)}` };

    const subject = subjectFor(r);

    expect(subject.length).toBeLessThanOrEqual(SUBJECT_LIMIT);
    expect(subject).toMatch(/^[\x20-\x7E]+$/);
    expect(subject).toContain('sg-?');
  });
});

describe('messageFor', () => {
  it('names control, resource, account, region, decision, what changed and how to undo it', () => {
    const body = messageFor(
      report(OUTCOMES[6]?.[0] as Outcome),
      { ok: true },
      undefined,
      tagPolicy,
    );

    for (const expected of [
      'hubfix fixed a resource.',
      'Control:   EC2.2  VPC default security groups',
      'Resource:  AwsEc2SecurityGroup sg-1',
      'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
      'Account:   111111111111',
      'Region:    us-east-1',
      'Severity:  MEDIUM',
      'Decision:  REMEDIATE: allow-listed',
      'What changed:\n  1. revoked inbound rule sgr-1',
      'Change id (ledger):\n  c-1',
      'How to undo it:\n  - aws ec2 authorize-security-group-ingress',
      'a note was added; the workflow is left for Security Hub',
      'hubfix:auto-remediate=false',
      'hubfix:suppress=<reason>',
    ]) {
      expect(body).toContain(expected);
    }
  });

  it('says plainly when the finding could not be updated', () => {
    const body = messageFor(
      report(OUTCOMES[2]?.[0] as Outcome),
      { ok: false, error: 'FindingNotFound' },
      'NOTIFIED',
      tagPolicy,
    );

    expect(body).toContain('COULD NOT BE UPDATED: FindingNotFound');
    expect(body).toContain('What a fix would do:\n  1. revoke inbound rule sgr-1');
  });

  it('calls the plan of a notify-only control what to do by hand', () => {
    const manual = { ...report(OUTCOMES[2]?.[0] as Outcome), automatic: false };

    expect(messageFor(manual, { ok: true }, 'NOTIFIED', tagPolicy)).toContain(
      'What to do by hand (no automatic fix exists):\n  1. revoke inbound rule sgr-1',
    );
  });

  it('tells the state left behind after a failure', () => {
    const body = messageFor(
      report(OUTCOMES[7]?.[0] as Outcome),
      { ok: true },
      'NOTIFIED',
      tagPolicy,
    );

    expect(body).toContain('during apply: UnauthorizedOperation');
    expect(body).toContain('State left behind:\n  unchanged');
  });
});

describe('limits', () => {
  const many = Array.from(
    { length: 5_000 },
    (_, i) =>
      `made snap-${String(i).padStart(17, '0')} private (1,024 GiB, "nightly backup of the payments database")`,
  );
  const big: Outcome = {
    kind: 'REMEDIATED',
    plan: { ...plan, steps: many, undo: many },
    changes: many,
    changeId: 'EC2.1-1',
  };

  it('cuts long lists with "and N more", keeping the full list for the ledger', () => {
    expect(clipList(['a', 'b', 'c'], 2)).toEqual([
      'a',
      'b',
      'and 1 more (the full list is in the ledger)',
    ]);
    expect(clipList(['a'], 2)).toEqual(['a']);
  });

  it('keeps an SNS message for 5,000 snapshots within 256 KB', () => {
    const body = messageFor(report(big), { ok: true }, undefined, tagPolicy);
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThan(MESSAGE_BYTE_LIMIT);
    expect(body).toContain('and 4950 more (the full list is in the ledger)');
  });

  it('cuts any message over the byte limit on a character boundary, saying so', () => {
    const cut = clipBytes('é'.repeat(200), 101, '[cut]');
    expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(101);
    expect(cut.endsWith('[cut]')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });

  it('keeps the note within 512 characters, whatever the lists', () => {
    const blocked: Outcome = { kind: 'BLOCKED', plan, blockers: many };
    expect(noteFor(report(blocked)).length).toBeLessThanOrEqual(NOTE_LIMIT);
    expect(noteFor(report(big)).length).toBeLessThanOrEqual(NOTE_LIMIT);
  });
});
