import { describe, expect, it } from 'vitest';
import type { ChangeStatus } from '../../../lambdas/core/adapters/ledger';
import type { LedgerEntry, RollbackAttempt } from '../../../lambdas/core/adapters/ledger-admin';
import type { Control } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import { type RollbackLedger, rollbackChange } from '../../../lambdas/core/rollback';
import { array, integer, object } from '../../../lambdas/core/schema';
import { silentLog } from '../../support/control';

function entry(changes: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    changeId: 'change-1',
    controlId: 'EC2.2',
    findingId: 'finding-1',
    resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
    summary: 'revoke 2 rules',
    before: '{"rules":[1,2]}',
    status: 'REMEDIATED',
    createdAt: '2026-11-22T10:00:00.000Z',
    changes: ['revoked rule 1', 'revoked rule 2'],
    rollbacks: [],
    expiresAt: 1,
    ...changes,
  };
}

/** An in-memory ledger that behaves like the DynamoDB one, including the claim. */
function memoryLedger(initial: LedgerEntry | undefined) {
  let current = initial;
  const attempts: { status: ChangeStatus; attempt: RollbackAttempt }[] = [];
  const ledger: RollbackLedger = {
    async get() {
      return current;
    },
    async claimForRollback(_id, from) {
      if (!current || !from.includes(current.status)) return false;
      current = { ...current, status: 'ROLLING_BACK' };
      return true;
    },
    async recordRollback(_id, status, attempt) {
      attempts.push({ status, attempt });
      if (current) current = { ...current, status, rollbacks: [...current.rollbacks, attempt] };
    },
  };
  return { ledger, attempts, current: () => current };
}

type Behaviour = (before: { rules: readonly number[] }) => Promise<readonly string[]>;

function control(rollback: Behaviour): Control<unknown, unknown, unknown, object> {
  return {
    id: 'EC2.2',
    title: 'fake',
    resource: {
      types: [],
      parse: () => {
        throw new Error('unused');
      },
    },
    params: object({}),
    before: object({ rules: array(integer()) }),
    notifyOnly: false,
    createClients: () => ({}),
    readState: async () => ({ kind: 'not-applicable', reason: 'unused' }),
    plan: () => ({ kind: 'compliant', summary: 'unused' }),
    preflight: async () => [],
    apply: async () => ({ changes: [] }),
    verify: async () => ({ ok: true }),
    rollback: (before) => rollback(before as { rules: readonly number[] }),
  };
}

function run(
  ledger: RollbackLedger,
  rollback: Behaviour,
  options: { force?: boolean; known?: boolean } = {},
) {
  return rollbackChange({
    changeId: 'change-1',
    by: 'arn:aws:iam::111111111111:user/ops',
    force: options.force ?? false,
    ledger,
    control: async (id) =>
      options.known === false || id !== 'EC2.2' ? undefined : control(rollback),
    clients: () => ({}),
    log: silentLog,
    now: () => new Date('2026-11-23T09:00:00.000Z'),
  });
}

const restores: Behaviour = async (before) => before.rules.map((r) => `restored rule ${r}`);

describe('rollbackChange', () => {
  it('restores the recorded before-state and records who did it', async () => {
    // Prepare
    const memory = memoryLedger(entry());
    let received: unknown;

    // Act
    const outcome = await run(memory.ledger, async (before) => {
      received = before;
      return restores(before);
    });

    // Assess
    expect(received).toEqual({ rules: [1, 2] });
    expect(outcome).toMatchObject({
      kind: 'rolled-back',
      lines: ['restored rule 1', 'restored rule 2'],
    });
    expect(memory.attempts).toEqual([
      {
        status: 'ROLLED_BACK',
        attempt: {
          at: '2026-11-23T09:00:00.000Z',
          by: 'arn:aws:iam::111111111111:user/ops',
          outcome: 'ROLLED_BACK',
          lines: ['restored rule 1', 'restored rule 2'],
        },
      },
    ]);
  });

  it('refuses a change that was already rolled back, saying when and by whom', async () => {
    const memory = memoryLedger(
      entry({
        status: 'ROLLED_BACK',
        rollbacks: [{ at: '2026-11-22T12:00:00Z', by: 'alice', outcome: 'ROLLED_BACK', lines: [] }],
      }),
    );

    const outcome = await run(memory.ledger, restores);

    expect(outcome).toEqual({
      kind: 'refused',
      reason: 'change change-1 was already rolled back on 2026-11-22T12:00:00Z by alice',
    });
    expect(memory.attempts).toEqual([]);
  });

  it('refuses a PENDING change unless forced', async () => {
    expect(await run(memoryLedger(entry({ status: 'PENDING' })).ledger, restores)).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('use --force'),
    });
    expect(
      await run(memoryLedger(entry({ status: 'PENDING' })).ledger, restores, { force: true }),
    ).toMatchObject({
      kind: 'rolled-back',
    });
  });

  it('refuses what the control says cannot be undone, recording the refusal and keeping the status', async () => {
    const memory = memoryLedger(entry());

    const outcome = await run(memory.ledger, async () => {
      throw new RollbackRefusedError(
        'an auto-assigned public IP, once released, cannot be got back',
      );
    });

    expect(outcome).toEqual({
      kind: 'refused',
      reason: 'an auto-assigned public IP, once released, cannot be got back',
    });
    expect(memory.attempts[0]?.status).toBe('REMEDIATED');
    expect(memory.attempts[0]?.attempt.outcome).toBe('REFUSED');
    expect(memory.current()?.status).toBe('REMEDIATED');
  });

  it('reports a failed rollback with the state left, and allows another try', async () => {
    const memory = memoryLedger(entry());

    const outcome = await run(memory.ledger, async () => {
      throw new PartialChangeError('restoring rule 2 failed', 'restored so far: rule 1');
    });

    expect(outcome).toEqual({
      kind: 'failed',
      error: 'PartialChangeError: restoring rule 2 failed',
      stateLeft: 'restored so far: rule 1',
    });
    expect(memory.attempts[0]?.attempt).toMatchObject({
      outcome: 'FAILED',
      error: expect.stringContaining('state now: restored so far: rule 1'),
    });
    expect(memory.current()?.status).toBe('REMEDIATED');
  });

  it('refuses when another rollback claimed the change first', async () => {
    const memory = memoryLedger(entry());
    const racing: RollbackLedger = { ...memory.ledger, claimForRollback: async () => false };

    expect(await run(racing, restores)).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('changed state meanwhile'),
    });
  });

  it.each([
    ['an unknown change', undefined, {}, 'no change change-1 in the ledger'],
    [
      'an unknown control',
      entry(),
      { known: false },
      'this version of hubfix has no control EC2.2',
    ],
    [
      'a before-state that is not JSON',
      entry({ before: '{oops' }),
      {},
      'the recorded before-state is not JSON',
    ],
    [
      'a before-state of the wrong shape',
      entry({ before: '{"rules":"all"}' }),
      {},
      'does not fit EC2.2: before.rules',
    ],
  ])('refuses %s without touching AWS', async (_name, initial, options, reason) => {
    let called = false;

    const outcome = await run(
      memoryLedger(initial).ledger,
      async () => {
        called = true;
        return [];
      },
      options,
    );

    expect(outcome).toMatchObject({ kind: 'refused', reason: expect.stringContaining(reason) });
    expect(called).toBe(false);
  });
});
