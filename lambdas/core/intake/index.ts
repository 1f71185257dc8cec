/**
 * Intake: whichever way findings arrive (Security Hub CSPM's ASFF, the new
 * Security Hub's OCSF, a direct request), one `Intake` leaves. Each format
 * has its own adapter; this picks the adapter by the event's own marks.
 */
import { readAsffEvent } from './asff';
import { isDirectRequest, readDirectRequest } from './direct';
import { isOcsfEvent, readOcsfEvent } from './ocsf';
import type { Intake } from './types';

/** @throws MalformedEventError when no adapter can read the event. */
export function readIntake(
  raw: unknown,
  self: { readonly account: string; readonly region: string },
): Intake {
  if (isDirectRequest(raw)) return readDirectRequest(raw, self);
  if (isOcsfEvent(raw)) return readOcsfEvent(raw);
  // Anything else must be a Security Hub CSPM event; its adapter says what is wrong if not.
  return readAsffEvent(raw);
}
