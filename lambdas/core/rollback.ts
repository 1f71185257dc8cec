/**
 * Undoing one recorded change: read it from the ledger, check it can be
 * undone and that its before-state is bound to it (rollback-checks.ts), show
 * the exact calls and let the operator confirm, claim it so two operators
 * cannot undo it at once, run the control's rollback with the operator's
 * credentials (able to make only the calls shown), and record the attempt,
 * whatever its outcome: rolled back, refused, declined or failed.
 */
import type { Control, Log, RollbackCall } from './control';
import { describeError, PartialChangeError, RollbackRefusedError } from './errors';
import type { ChangeStatus, LedgerEntry, RollbackAttempt } from './ledger-entry';
import type { ResourceRef } from './resource';
import {
  bindRollback,
  givesBackUnrecorded,
  type RollbackScope,
  wideningProblems,
} from './rollback-checks';
import { guardClients } from './rollback-guard';

export type { RollbackScope } from './rollback-checks';

export interface RollbackLedger {
  get(changeId: string): Promise<LedgerEntry | undefined>;
  claimForRollback(changeId: string, from: readonly ChangeStatus[]): Promise<boolean>;
  /** Records an attempt that ran, and the status the entry ends in. */
  recordRollback(changeId: string, status: ChangeStatus, attempt: RollbackAttempt): Promise<void>;
  /** Records an attempt that changed nothing, leaving the status as it is. */
  recordRefusal(changeId: string, attempt: RollbackAttempt): Promise<void>;
}

/** What the operator is shown and confirms before anything is changed. */
export interface RollbackPreview {
  readonly entry: LedgerEntry;
  /** The entry's resource, as the control reads it (its `id` is what the operator types). */
  readonly resource: ResourceRef;
  readonly calls: readonly RollbackCall[];
  /**
   * Calls the before-state describes that would give back what the entry does
   * not record its change taking away: a change that stopped part-way never
   * made them. They are shown, not made; the guard refuses them if tried.
   */
  readonly withheld: readonly RollbackCall[];
}

export type RollbackOutcome =
  | { readonly kind: 'rolled-back'; readonly entry: LedgerEntry; readonly lines: readonly string[] }
  | { readonly kind: 'refused'; readonly reason: string }
  /** The operator did not confirm; nothing was changed. */
  | { readonly kind: 'declined' }
  | { readonly kind: 'failed'; readonly error: string; readonly stateLeft: string | undefined };

export interface RollbackRequest<Clients> {
  readonly changeId: string;
  /** Who is rolling back (the caller's ARN), for the record. */
  readonly by: string;
  /** The operator's account and region: the change must have been made there. */
  readonly scope: RollbackScope;
  /** Also roll back a change still PENDING or ROLLING_BACK (its function stopped part-way). */
  readonly force: boolean;
  readonly ledger: RollbackLedger;
  readonly control: (
    controlId: string,
  ) => Promise<Control<unknown, unknown, unknown, Clients> | undefined>;
  readonly clients: (control: Control<unknown, unknown, unknown, Clients>) => Clients;
  /** Shows the calls; resolves true to go on. */
  readonly confirm: (preview: RollbackPreview) => Promise<boolean>;
  readonly log: Log;
  readonly now?: () => Date;
}

const UNDOABLE: readonly ChangeStatus[] = ['REMEDIATED', 'FAILED'];
const STUCK: readonly ChangeStatus[] = ['PENDING', 'ROLLING_BACK'];

function statusRefusal(entry: LedgerEntry, force: boolean): string | undefined {
  if (UNDOABLE.includes(entry.status) || (force && STUCK.includes(entry.status))) return undefined;
  switch (entry.status) {
    case 'ROLLED_BACK': {
      const last = entry.rollbacks.filter((r) => r.outcome === 'ROLLED_BACK').at(-1);
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

type Prepared<Clients> =
  | { readonly ok: false; readonly reason: string }
  | {
      readonly ok: true;
      readonly control: Control<unknown, unknown, unknown, Clients>;
      readonly before: unknown;
      readonly preview: RollbackPreview;
    };

/** Every check that needs no AWS call, in the order a person would ask. */
async function prepare<Clients>(
  entry: LedgerEntry,
  request: RollbackRequest<Clients>,
): Promise<Prepared<Clients>> {
  const refused = statusRefusal(entry, request.force);
  if (refused) return { ok: false, reason: refused };
  const control = await request.control(entry.controlId);
  if (!control) {
    return { ok: false, reason: `this version of hubfix has no control ${entry.controlId}` };
  }
  let rawBefore: unknown;
  try {
    rawBefore = JSON.parse(entry.before);
  } catch (error) {
    return {
      ok: false,
      reason: `the recorded before-state is not JSON: ${describeError(error)}`,
    };
  }
  const before = control.before.parse(rawBefore, 'before');
  if (!before.ok) {
    return {
      ok: false,
      reason: `the recorded before-state does not fit ${control.id}: ${before.issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    };
  }
  const description = control.describeRollback(before.value);
  const binding = bindRollback(entry, control, description, request.scope);
  if (!binding.ok) {
    return {
      ok: false,
      reason: `the recorded before-state is not bound to this entry: ${binding.problems.join('; ')}`,
    };
  }
  const withheld = description.calls.filter((call) => givesBackUnrecorded(entry, call));
  // A change recorded as done names everything it took away: a grant it does
  // not name means the entry and its before-state disagree, so nothing is trusted.
  if (withheld.length > 0 && entry.status === 'REMEDIATED') {
    return {
      ok: false,
      reason: `the rollback would give back more than the change took away: ${wideningProblems(entry, withheld).join('; ')}`,
    };
  }
  const calls = description.calls.filter((call) => !withheld.includes(call));
  if (withheld.length > 0 && calls.length === 0) {
    return {
      ok: false,
      reason: `the change stopped before recording anything it took away, so the rollback may give nothing back: ${wideningProblems(entry, withheld).join('; ')}`,
    };
  }
  return {
    ok: true,
    control,
    before: before.value,
    preview: { entry, resource: binding.ref, calls, withheld },
  };
}

export async function rollbackChange<Clients>(
  request: RollbackRequest<Clients>,
): Promise<RollbackOutcome> {
  const now = request.now ?? (() => new Date());
  const { ledger, changeId } = request;
  const attempt = (rest: Omit<RollbackAttempt, 'at' | 'by'>): RollbackAttempt => ({
    at: now().toISOString(),
    by: request.by,
    ...rest,
  });
  /** A refusal is recorded too; failing to record it must not hide the refusal itself. */
  const refuse = async (reason: string): Promise<RollbackOutcome> => {
    try {
      await ledger.recordRefusal(
        changeId,
        attempt({ outcome: 'REFUSED', lines: [], error: reason }),
      );
    } catch (error) {
      request.log.warn(`the refusal could not be recorded in the ledger: ${describeError(error)}`);
    }
    return { kind: 'refused', reason };
  };

  const entry = await ledger.get(changeId);
  // Nothing to record an attempt on.
  if (!entry) return { kind: 'refused', reason: `no change ${changeId} in the ledger` };

  const prepared = await prepare(entry, request);
  if (!prepared.ok) return refuse(prepared.reason);
  const { control, before, preview } = prepared;
  const clients = guardClients(request.clients(control), preview.calls);
  const context = { clients, log: request.log, provisioned: {} };

  if (control.checkRollback) {
    let problems: readonly string[];
    try {
      problems = await control.checkRollback(before, context);
    } catch (error) {
      return refuse(`the live state could not be checked: ${describeError(error)}`);
    }
    if (problems.length > 0) {
      return refuse(`the live state does not fit the entry: ${problems.join('; ')}`);
    }
  }

  if (!(await request.confirm(preview))) {
    try {
      await ledger.recordRefusal(changeId, attempt({ outcome: 'DECLINED', lines: [] }));
    } catch (error) {
      request.log.warn(`the declined attempt could not be recorded: ${describeError(error)}`);
    }
    return { kind: 'declined' };
  }

  const previous = entry.status;
  const claimFrom = request.force ? [...UNDOABLE, ...STUCK] : UNDOABLE;
  if (!(await ledger.claimForRollback(changeId, claimFrom))) {
    return refuse(
      `change ${changeId} changed state meanwhile (another rollback?); nothing was done`,
    );
  }

  const record = (status: ChangeStatus, rest: Omit<RollbackAttempt, 'at' | 'by'>) =>
    ledger.recordRollback(changeId, status, attempt(rest));
  try {
    const lines = await control.rollback(before, context);
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
