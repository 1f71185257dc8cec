import { describe, expect, it } from 'vitest';
import type { RollbackCall, RollbackDescription } from '../../../lambdas/core/control';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { accountResource } from '../../../lambdas/core/resource';
import {
  bindRollback,
  keyMatchesControl,
  names,
  wideningProblems,
} from '../../../lambdas/core/rollback-checks';
import { securityGroupResource } from '../../../lambdas/services/ec2/resources';

const SCOPE = { account: '111111111111', region: 'us-east-1' };
const GROUP_ARN = 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f';

function entry(changes: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    changeId: 'EC2.2-0b6f6c1e',
    controlId: 'EC2.2',
    findingId: 'finding-1',
    resource: GROUP_ARN,
    summary: 'revoke 1 rule',
    before: '{}',
    status: 'REMEDIATED',
    createdAt: '2026-11-22T10:00:00.000Z',
    changes: [],
    rollbacks: [],
    expiresAt: 1,
    ...changes,
  };
}

const groupControl = { id: 'EC2.2', resource: securityGroupResource() };
const accountControl = { id: 'EC2.7', resource: accountResource() };

function described(
  target: RollbackDescription['target'],
  problems?: string[],
): RollbackDescription {
  return { target, calls: [], ...(problems ? { problems } : {}) };
}

describe('bindRollback', () => {
  it('binds a before-state that acts on the entry resource in the operator account and region', () => {
    const binding = bindRollback(
      entry(),
      groupControl,
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
    );

    expect(binding).toMatchObject({
      ok: true,
      ref: { id: 'sg-1234123f', account: '111111111111' },
    });
  });

  it.each<[string, Partial<LedgerEntry>, RollbackDescription, typeof SCOPE, string]>([
    [
      'another resource',
      {},
      described({ resourceId: 'sg-9999999f' }),
      SCOPE,
      "the recorded before-state acts on sg-9999999f, but the entry's resource is sg-1234123f",
    ],
    [
      'a change id not led by its control',
      { changeId: 'EC2.18-0b6f6c1e' },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      'does not start with "EC2.2-"',
    ],
    [
      'an entry recorded in another account',
      { account: '222222222222' },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      'the change was made in account 222222222222, but your credentials are for 111111111111',
    ],
    [
      'an entry recorded in another region',
      { region: 'eu-west-1' },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      'run it again with --region eu-west-1',
    ],
    [
      'a resource ARN of another account',
      { resource: GROUP_ARN.replace('111111111111', '333333333333') },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      "the entry's resource is in account 333333333333, not 111111111111",
    ],
    [
      'a resource ARN of another region',
      { resource: GROUP_ARN.replace('us-east-1', 'eu-west-1') },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      "the entry's resource is in eu-west-1, not us-east-1",
    ],
    [
      'a resource that is not the control kind',
      { resource: 'arn:aws:ec2:us-east-1:111111111111:subnet/subnet-1234123f' },
      described({ resourceId: 'sg-1234123f' }),
      SCOPE,
      "the entry's resource is not one EC2.2 acts on: expected an ec2 security-group ARN",
    ],
    [
      'a before-state the control says it could not have written',
      {},
      described({ resourceId: 'sg-1234123f' }, ['rule sgr-1 belongs to sg-2']),
      SCOPE,
      'rule sgr-1 belongs to sg-2',
    ],
    [
      'an operator in another account',
      {},
      described({ resourceId: 'sg-1234123f' }),
      { account: '444444444444', region: 'us-east-1' },
      "the entry's resource is in account 111111111111, not 444444444444",
    ],
  ])('refuses %s', (_name, changes, description, scope, problem) => {
    const binding = bindRollback(entry(changes), groupControl, description, scope);

    expect(binding.ok).toBe(false);
    expect(binding.ok ? [] : binding.problems).toContainEqual(expect.stringContaining(problem));
  });

  it('binds an account-level change by the account and region its before-state names', () => {
    const account = entry({
      changeId: 'EC2.7-1',
      controlId: 'EC2.7',
      resource: 'AWS::::Account:111111111111',
    });

    expect(
      bindRollback(
        account,
        accountControl,
        described({ resourceId: '111111111111', account: '111111111111', region: 'us-east-1' }),
        SCOPE,
      ).ok,
    ).toBe(true);
    expect(
      bindRollback(
        account,
        accountControl,
        described({ resourceId: '111111111111', region: 'eu-west-1' }),
        SCOPE,
      ),
    ).toEqual({
      ok: false,
      problems: ['the recorded before-state names region eu-west-1, not us-east-1'],
    });
  });
});

describe('keyMatchesControl', () => {
  it.each([
    ['EC2.2-7c0f', 'EC2.2', true],
    ['EC2.2-7c0f', 'EC2.22', false],
    ['EC2.22-7c0f', 'EC2.2', false],
    ['7c0f', 'EC2.2', false],
  ])('%s of %s: %s', (changeId, controlId, expected) => {
    expect(keyMatchesControl({ changeId, controlId })).toBe(expected);
  });
});

function grant(removed: string, action = 'ModifySnapshotAttribute'): RollbackCall {
  return {
    service: 'ec2',
    action,
    resource: removed,
    parameters: {},
    grants: { what: `anyone may create a volume from ${removed}`, removed },
  };
}

describe('wideningProblems', () => {
  it.each<[string, string[], RollbackCall[], number]>([
    [
      'EC2.1 re-shares only the snapshots the change made private',
      ['made snap-0aaaaaaaaaaaaaaa1 private (group "all" may no longer restore it)'],
      [grant('snap-0aaaaaaaaaaaaaaa1')],
      0,
    ],
    [
      'EC2.1 never re-shares a snapshot the change did not touch',
      ['made snap-0aaaaaaaaaaaaaaa1 private (group "all" may no longer restore it)'],
      [grant('snap-0aaaaaaaaaaaaaaa1'), grant('snap-0bbbbbbbbbbbbbbb2')],
      1,
    ],
    [
      'EC2.18 restores only the rules it revoked',
      ['revoked inbound rule sgr-1: tcp 22 from 0.0.0.0/0'],
      [
        grant('sgr-1', 'AuthorizeSecurityGroupIngress'),
        grant('sgr-12', 'AuthorizeSecurityGroupIngress'),
      ],
      1,
    ],
    [
      'a change that failed before recording any change gives nothing back',
      [],
      [grant('sgr-1', 'AuthorizeSecurityGroupIngress')],
      1,
    ],
    [
      'calls that give nothing back need no record',
      [],
      [{ service: 'ec2', action: 'DeleteFlowLogs', resource: 'vpc-1', parameters: {} }],
      0,
    ],
  ])('%s', (_name, changes, calls, count) => {
    expect(wideningProblems({ changes, stateLeft: undefined }, calls)).toHaveLength(count);
  });

  it('says what the change left when it stopped part-way', () => {
    const [problem] = wideningProblems(
      { changes: [], stateLeft: 'made private: none; still public: snap-1' },
      [grant('snap-1')],
    );

    expect(problem).toBe(
      'ModifySnapshotAttribute on snap-1 would give back "anyone may create a volume from snap-1", but the entry does not record that its change removed snap-1 (the change stopped part-way; it left: made private: none; still public: snap-1)',
    );
  });

  it.each([
    ['revoked rule sgr-1: tcp 22', 'sgr-1', true],
    ['revoked rule sgr-12: tcp 22', 'sgr-1', false],
    ['deleted the old task set ecs-svc/123 (its tasks drain)', 'ecs-svc/123', true],
    ['turned on EBS encryption by default in us-east-1', 'EBS encryption by default', true],
  ])('names(%j, %j) is %s', (line, token, expected) => {
    expect(names(line, token)).toBe(expected);
  });
});
