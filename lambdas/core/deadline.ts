/**
 * The invocation's deadline, as a control sees it. Lambda stops a function
 * mid-call when its time is up; a control that knows how long it has left can
 * refuse to start a step it cannot finish (and its cleanup), and stop with
 * the state it left reported instead of being cut off part-way.
 */

export interface Deadline {
  /** Milliseconds left before the invocation must have finished its work. */
  remainingMs(): number;
}

/**
 * Time kept back from Lambda's own deadline for what the pipeline does after
 * a control returns: recording the result, updating the finding, publishing.
 */
export const DELIVERY_RESERVE_MS = 10_000;

/** The deadline of a Lambda invocation, less the reserve the pipeline needs afterwards. */
export function lambdaDeadline(
  context: { getRemainingTimeInMillis(): number },
  reserveMs: number = DELIVERY_RESERVE_MS,
): Deadline {
  return { remainingMs: () => Math.max(0, context.getRemainingTimeInMillis() - reserveMs) };
}

/** A deadline `ms` from now on `now`'s clock (tests, tools and the CLI). */
export function deadlineIn(ms: number, now: () => number = Date.now): Deadline {
  const end = now() + ms;
  return { remainingMs: () => Math.max(0, end - now()) };
}

/** For work with no invocation around it (the CLI's rollback). */
export const NO_DEADLINE: Deadline = { remainingMs: () => Number.POSITIVE_INFINITY };

/** Whether a step expected to take `ms` (cleanup included) can still finish. */
export function hasTimeFor(deadline: Deadline, ms: number): boolean {
  return deadline.remainingMs() >= ms;
}
