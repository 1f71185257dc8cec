/**
 * One resource, one change at a time. Without consolidated findings, each
 * standard raises its own finding for the same resource, and the new
 * Security Hub raises one more; they arrive together. Whoever holds the lease
 * on control + resource reads, decides and changes; the others wait, then
 * read what the holder left (usually: already compliant).
 */
import type { Clock } from './clock';
import { type Deadline, hasTimeFor } from './deadline';
import type { ResourceLease } from './ports';
import type { ResourceRef } from './resource';

export function leaseKey(controlId: string, resource: ResourceRef): string {
  return `${controlId}#lease#${resource.account}#${resource.region}#${resource.id}`;
}

/**
 * How long to wait for another invocation to finish with the resource: long
 * enough for a security group or subnet change (seconds), not for an ECS task
 * set (minutes): that finding is deferred and handled again later.
 */
export const LEASE_WAIT_MS = 30_000;
const LEASE_BACKOFF_MS: readonly number[] = [500, 1_000, 2_000, 4_000, 8_000];
/** A lease never outlives Lambda's 15-minute maximum, whatever the deadline says. */
const LEASE_MAX_MS = 15 * 60_000;

export type Held<T> =
  | { readonly kind: 'held'; readonly value: T; readonly waitedMs: number }
  | { readonly kind: 'busy'; readonly waitedMs: number };

/**
 * Runs `work` holding the lease. The lease expires when this invocation must
 * have ended, so a function that dies holding it blocks nobody for longer.
 */
export async function withLease<T>(
  options: {
    readonly lease: ResourceLease;
    readonly key: string;
    readonly holder: string;
    readonly clock: Clock;
    readonly deadline: Deadline;
    /** @default LEASE_WAIT_MS */
    readonly waitMs?: number;
    /** A lease that cannot be released expires on its own; this only reports it. */
    readonly onReleaseError?: (error: unknown) => void;
  },
  work: () => Promise<T>,
): Promise<Held<T>> {
  const { lease, key, holder, clock, deadline } = options;
  const start = clock.now();
  const waitMs = options.waitMs ?? LEASE_WAIT_MS;
  const until = () =>
    new Date(clock.now() + Math.min(LEASE_MAX_MS, deadline.remainingMs()) + 1_000);
  for (let attempt = 0; ; attempt += 1) {
    if (await lease.acquire(key, holder, until())) break;
    const delay = LEASE_BACKOFF_MS[Math.min(attempt, LEASE_BACKOFF_MS.length - 1)] ?? 1_000;
    const waited = clock.now() - start;
    if (waited + delay > waitMs || !hasTimeFor(deadline, delay)) {
      return { kind: 'busy', waitedMs: waited };
    }
    await clock.sleep(delay);
  }
  const waitedMs = clock.now() - start;
  try {
    return { kind: 'held', value: await work(), waitedMs };
  } finally {
    await lease.release(key, holder).catch((error: unknown) => options.onReleaseError?.(error));
  }
}
