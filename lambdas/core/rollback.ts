/**
 * Undoing one recorded change: read it from the ledger, check it can be
 * undone, claim it so two operators cannot undo it at once, run the control's
 * rollback with the operator's credentials, and record what happened, whether
 * it worked, was refused or failed.
 */
import type { ChangeStatus } from './adapters/ledger';
import type { LedgerEntry, RollbackAttempt } from './adapters/ledger-admin';
import type { Control, Log } from './control';
import { describeError, PartialChangeError, RollbackRefusedError } from './errors';

export interface RollbackLedger {
  get(changeId: string): Promise<LedgerEntry | undefined>;
  claimForRollback(changeId: string, from: readonly ChangeStatus[]): Promise<boolean>;
  recordRollback(changeId: string, status: ChangeStatus, attempt: RollbackAttempt): Promise<void>;
}

export type RollbackOutcome =
  | { readonly kind: 'rolled-back'; readonly entry: LedgerEntry; readonly lines: readonly string[] }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: string; readonly stateLeft: string | undefined };

export interface RollbackRequest<Clients> {
  readonly changeId: string;
  /** Who is rolling back (the caller's ARN), for the record. */
  readonly by: string;
  /** Also roll back a change still PENDING or ROLLING_BACK (its function stopped part-way). */
  readonly force: boolean;
  readonly ledger: RollbackLedger;
  readonly control: (
    controlId: string,
  ) => Promise<Control<unknown, unknown, unknown, Clients> | undefined>;
  readonly clients: (control: Control<unknown, unknown, unknown, Clients>) => Clients;
  readonly log: Log;
  readonly now?: () => Date;
}

const UNDOABLE: readonly ChangeStatus[] = ['REMEDIATED', 'FAILED'];
const STUCK: readonly ChangeStatus[] = ['PENDING', 'ROLLING_BACK'];

function refusal(entry: LedgerEntry, force: boolean): string | undefined {
  if (UNDOABLE.includes(entry.status) || (force && STUCK.includes(entry.status))) return undefined;
  switch (entry.status) {
    case 'ROLLED_BACK': {
      const last = entry.rollbacks.at(-1);
      return `change ${entry.changeId} was already rolled back${last ? ` on ${last.at} by ${last.by}` : ''}`;
    }
    case 'PENDING':
      return `change ${entry.changeId} is still PENDING: its function may still be running, or stopped before recording a result. Check ${entry.resource}, then use --force to roll it back anyway`;
    case 'ROLLING_BACK':
      return `a rollback of ${entry.changeId} is in progress, or stopped part-way. Check ${entry.resource}, then use --force to try again`;
    default:
      return `change ${entry.changeId} is ${entry.status} and cannot be rolled back`;
  }
}

export async function rollbackChange<Clients>(
  request: RollbackRequest<Clients>,
): Promise<RollbackOutcome> {
  const now = request.now ?? (() => new Date());
  const { ledger, changeId } = request;

  const entry = await ledger.get(changeId);
  if (!entry) return { kind: 'refused', reason: `no change ${changeId} in the ledger` };
  const refused = refusal(entry, request.force);
  if (refused) return { kind: 'refused', reason: refused };

  const control = await request.control(entry.controlId);
  if (!control) {
    return { kind: 'refused', reason: `this version of hubfix has no control ${entry.controlId}` };
  }
  let rawBefore: unknown;
  try {
    rawBefore = JSON.parse(entry.before);
  } catch (error) {
    return {
      kind: 'refused',
      reason: `the recorded before-state is not JSON: ${describeError(error)}`,
    };
  }
  const before = control.before.parse(rawBefore, 'before');
  if (!before.ok) {
    return {
      kind: 'refused',
      reason: `the recorded before-state does not fit ${control.id}: ${before.issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    };
  }

  const previous = entry.status;
  const claimFrom = request.force ? [...UNDOABLE, ...STUCK] : UNDOABLE;
  if (!(await ledger.claimForRollback(changeId, claimFrom))) {
    return {
      kind: 'refused',
      reason: `change ${changeId} changed state meanwhile (another rollback?); nothing was done`,
    };
  }

  const record = (status: ChangeStatus, attempt: Omit<RollbackAttempt, 'at' | 'by'>) =>
    ledger.recordRollback(changeId, status, {
      at: now().toISOString(),
      by: request.by,
      ...attempt,
    });
  try {
    const lines = await control.rollback(before.value, {
      clients: request.clients(control),
      log: request.log,
      provisioned: {},
    });
    await record('ROLLED_BACK', { outcome: 'ROLLED_BACK', lines: [...lines] });
    return { kind: 'rolled-back', entry, lines };
  } catch (error) {
    if (error instanceof RollbackRefusedError) {
      await record(previous, { outcome: 'REFUSED', lines: [], error: error.message });
      return { kind: 'refused', reason: error.message };
    }
    const stateLeft = error instanceof PartialChangeError ? error.stateLeft : undefined;
    // Back to where it was, so the rollback can be tried again once the cause is fixed.
    await record(previous, {
      outcome: 'FAILED',
      lines: [],
      error: `${describeError(error)}${stateLeft ? ` (state now: ${stateLeft})` : ''}`,
    });
    return { kind: 'failed', error: describeError(error), stateLeft };
  }
}
