/**
 * What a rollback trusts. The ledger can be written by more principals than
 * the operator who runs `hubfix rollback` with their own credentials, so a
 * before-state is bound to its entry (control, resource, account, region)
 * and its calls may give back only what the entry records its change took
 * away. Pure, so every rule is table-tested.
 */
import type { Control, RollbackCall, RollbackDescription } from './control';
import { describeError } from './errors';
import type { LedgerEntry } from './ledger-entry';
import type { ResourceRef } from './resource';

/** The account and region the operator's credentials and client act in. */
export interface RollbackScope {
  readonly account: string;
  readonly region: string;
}

export type Binding =
  | { readonly ok: true; readonly ref: ResourceRef }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Ledger keys are `<controlId>-<uuid>` so that IAM (`dynamodb:LeadingKeys`)
 * lets each function write only its own control's entries: an entry whose
 * key is not led by its control id was not written by that control.
 */
export function keyMatchesControl(entry: Pick<LedgerEntry, 'changeId' | 'controlId'>): boolean {
  return entry.changeId.startsWith(`${entry.controlId}-`);
}

/**
 * The before-state acts on the entry's resource, of the entry's control, in
 * the entry's account and region, which are the operator's. An entry that
 * records no account or region is taken to be in the operator's.
 */
export function bindRollback(
  entry: LedgerEntry,
  control: Pick<Control<unknown, unknown, unknown, unknown>, 'id' | 'resource'>,
  description: RollbackDescription,
  scope: RollbackScope,
): Binding {
  const problems: string[] = [];
  if (entry.controlId !== control.id) {
    problems.push(`the entry is for ${entry.controlId}, but the control loaded is ${control.id}`);
  }
  if (!keyMatchesControl(entry)) {
    problems.push(
      `the change id ${entry.changeId} does not start with "${entry.controlId}-", so ${entry.controlId} did not write it`,
    );
  }
  const account = entry.account ?? scope.account;
  const region = entry.region ?? scope.region;
  if (account !== scope.account) {
    problems.push(
      `the change was made in account ${account}, but your credentials are for ${scope.account}`,
    );
  }
  if (region !== scope.region) {
    problems.push(
      `the change was made in ${region}, but this rollback runs in ${scope.region}; run it again with --region ${region}`,
    );
  }
  let ref: ResourceRef | undefined;
  try {
    ref = control.resource.parse(entry.resource, control.resource.types[0] ?? '', region);
  } catch (error) {
    problems.push(
      `the entry's resource is not one ${control.id} acts on: ${describeError(error).replace(/^\w+Error: /, '')}`,
    );
  }
  if (ref) {
    if (ref.account !== account) {
      problems.push(`the entry's resource is in account ${ref.account}, not ${account}`);
    }
    if (ref.region !== region) {
      problems.push(`the entry's resource is in ${ref.region}, not ${region}`);
    }
    const { target } = description;
    if (target.resourceId !== ref.id) {
      problems.push(
        `the recorded before-state acts on ${target.resourceId}, but the entry's resource is ${ref.id}`,
      );
    }
    if (target.account !== undefined && target.account !== account) {
      problems.push(`the recorded before-state names account ${target.account}, not ${account}`);
    }
    if (target.region !== undefined && target.region !== region) {
      problems.push(`the recorded before-state names region ${target.region}, not ${region}`);
    }
  }
  problems.push(...(description.problems ?? []));
  return ref && problems.length === 0 ? { ok: true, ref } : { ok: false, problems };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `token` stands on its own in `line`: `sgr-1` is not found in `sgr-12`. */
export function names(line: string, token: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_-])${escapeRegExp(token)}($|[^A-Za-z0-9_-])`).test(line);
}

/**
 * A call that gives access back must give back something the entry records
 * as removed: its `changes`, written by the function after the change from
 * what the change really did (not the plan, which the before-state holds).
 */
export function givesBackUnrecorded(
  entry: Pick<LedgerEntry, 'changes'>,
  call: RollbackCall,
): boolean {
  const removed = call.grants?.removed;
  return removed !== undefined && !entry.changes.some((line) => names(line, removed));
}

/** Why each call in `calls` would give back more than the entry records its change took away. */
export function wideningProblems(
  entry: Pick<LedgerEntry, 'changes' | 'stateLeft'>,
  calls: readonly RollbackCall[],
): string[] {
  return calls
    .filter((call) => givesBackUnrecorded(entry, call))
    .map(
      (call) =>
        `${call.action} on ${call.resource} would give back "${call.grants?.what}", but the entry does not record that its change removed ${call.grants?.removed}${
          entry.changes.length === 0 && entry.stateLeft
            ? ` (the change stopped part-way; it left: ${entry.stateLeft})`
            : ''
        }`,
    );
}
