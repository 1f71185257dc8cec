import { describe, expect, it } from 'vitest';
import type { ChangePlan } from '../../../lambdas/core/control';
import {
  type FindingReport,
  messageFor,
  NOTE_LIMIT,
  noteFor,
  type Outcome,
  SUBJECT_LIMIT,
  subjectFor,
  workflowFor,
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
    productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    controlId: 'EC2.2',
    controlTitle: 'VPC default security groups should not allow inbound or outbound traffic',
    severity: 'MEDIUM',
    account: '111111111111',
    region: 'us-east-1',
    resourceType: 'AwsEc2SecurityGroup',
    resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
    resourceId: 'sg-1',
    request: 'imported',
    automatic: true,
    decision: { kind: 'REMEDIATE', reason: 'allow-listed' },
    outcome,
  };
}

const OUTCOMES: readonly [Outcome, string | undefined][] = [
  [{ kind: 'IGNORED', reason: 'not FAILED' }, undefined],
  [{ kind: 'SUPPRESSED', reason: 'suppressed by tag hubfix:suppress: "accepted"' }, 'SUPPRESSED'],
  [{ kind: 'NOTIFIED', reason: 'the control is in notify mode', plan }, 'NOTIFIED'],
  [{ kind: 'PLANNED', reason: 'dry run is on', plan, blockers: ['in use by eni-1'] }, 'NOTIFIED'],
  [{ kind: 'ALREADY_COMPLIANT', summary: 'sg-1 has no rules' }, 'RESOLVED'],
  [{ kind: 'BLOCKED', plan, blockers: ['sg-1 is attached to 3 network interfaces'] }, 'NOTIFIED'],
  [
    { kind: 'REMEDIATED', plan, changes: ['revoked inbound rule sgr-1'], changeId: 'c-1' },
    'RESOLVED',
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

describe('workflowFor', () => {
  it.each(OUTCOMES)('$kind → %s', (outcome, workflow) => {
    expect(workflowFor(outcome)).toBe(workflow);
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
    const body = messageFor(report(OUTCOMES[6]?.[0] as Outcome), { ok: true }, tagPolicy);

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
      'workflow set to RESOLVED',
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
      tagPolicy,
    );

    expect(body).toContain('COULD NOT BE UPDATED: FindingNotFound');
    expect(body).toContain('What a fix would do:\n  1. revoke inbound rule sgr-1');
  });

  it('calls the plan of a notify-only control what to do by hand', () => {
    const manual = { ...report(OUTCOMES[2]?.[0] as Outcome), automatic: false };

    expect(messageFor(manual, { ok: true }, tagPolicy)).toContain(
      'What to do by hand (no automatic fix exists):\n  1. revoke inbound rule sgr-1',
    );
  });

  it('tells the state left behind after a failure', () => {
    const body = messageFor(report(OUTCOMES[7]?.[0] as Outcome), { ok: true }, tagPolicy);

    expect(body).toContain('during apply: UnauthorizedOperation');
    expect(body).toContain('State left behind:\n  unchanged');
  });
});
