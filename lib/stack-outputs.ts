/**
 * The stack outputs the CLI reads, named in one place so that the stack and
 * the CLI cannot drift apart.
 */

/** The ledger table: `history`, `show`, `rollback`, `report`. */
export const LEDGER_TABLE_OUTPUT = 'LedgerTableName';

/** The notification topic: where the CLI says a person's request was announced. */
export const TOPIC_OUTPUT = 'NotificationTopicArn';

/** The reconciler's settings (control functions, grace period): `backfill`. */
export const RECONCILER_SETTINGS_OUTPUT = 'ReconcilerSettings';

/**
 * Org mode only: the organization scope (accounts, regions) the reconciler
 * sweeps, as JSON: `backfill` sweeps the same.
 */
export const ORGANIZATION_SCOPE_OUTPUT = 'OrganizationScope';

/** The state table (what hubfix last did with each finding): `backfill`. */
export const STATE_TABLE_OUTPUT = 'StateTableName';

/** Every control function's output key starts so; the control id follows. */
export const FUNCTION_OUTPUT_PREFIX = 'Function';

/**
 * The output holding a control's function ARN, read by `remediate` and
 * `plan`: `FunctionEC2Dot2` for EC2.2. Output keys are alphanumeric, and a
 * dot simply dropped would make EC2.22 and EC22.2 the same key.
 */
export function functionOutputKey(controlId: string): string {
  return `${FUNCTION_OUTPUT_PREFIX}${controlId.replace(/\./g, 'Dot').replace(/[^A-Za-z0-9]/g, '')}`;
}
