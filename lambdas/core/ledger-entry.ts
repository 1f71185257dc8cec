/**
 * A ledger entry as the operator's tools read it back: its statuses, the
 * rollback attempts and drift recorded on it. The ledger adapters write and
 * read this shape; rollback and the CLI reason about it without loading them.
 */
import { array, type Infer, integer, object, oneOf, optional, string } from './schema';

export const CHANGE_STATUSES = [
  'PENDING',
  'REMEDIATED',
  'FAILED',
  'ROLLING_BACK',
  'ROLLED_BACK',
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export const ROLLBACK_OUTCOMES = ['ROLLED_BACK', 'REFUSED', 'DECLINED', 'FAILED'] as const;

const rollbackAttemptSchema = object({
  at: string(),
  by: string(),
  /** DECLINED: the operator did not confirm. REFUSED: hubfix would not, saying why in `error`. */
  outcome: oneOf(ROLLBACK_OUTCOMES),
  lines: optional(array(string()), []),
  error: optional(string()),
});
export type RollbackAttempt = Infer<typeof rollbackAttemptSchema>;

/** What the pipeline notes on a change whose fix did not hold (DriftMark in ports.ts). */
const driftSchema = object(
  {
    detectedAt: string(),
    findingId: optional(string()),
    /** What a fix would have to do again. */
    changedBack: string(),
    owner: optional(string()),
    outcome: optional(string()),
  },
  { unknownKeys: 'ignore' },
);
export type DriftRecord = Infer<typeof driftSchema>;

export const ledgerEntrySchema = object(
  {
    changeId: string({ minLength: 1 }),
    controlId: string({ minLength: 1 }),
    findingId: string(),
    resource: string(),
    /** Where the change was made; absent in entries written before they were recorded. */
    account: optional(string()),
    region: optional(string()),
    summary: string(),
    /** The before-state as JSON text, exactly as the control produced it. */
    before: string(),
    status: oneOf(CHANGE_STATUSES),
    createdAt: string(),
    completedAt: optional(string()),
    changes: optional(array(string()), []),
    error: optional(string()),
    stateLeft: optional(string()),
    rollbacks: optional(array(rollbackAttemptSchema), []),
    /** Set when the fix did not hold: its resource changed back later. */
    drift: optional(driftSchema),
    expiresAt: integer(),
  },
  { unknownKeys: 'ignore' },
);
export type LedgerEntry = Infer<typeof ledgerEntrySchema>;
