/**
 * Waiting for something in AWS to settle, with the clock passed in so tests
 * wait no real time and the wait is always bounded.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

export type Waited<T> =
  | { readonly done: true; readonly value: T; readonly waitedMs: number }
  | { readonly done: false; readonly waitedMs: number };

/**
 * Calls `probe` every `intervalMs` (sleeping first: nothing settles at once)
 * until it returns a value or `timeoutMs` has passed. Errors from `probe`
 * propagate: the caller decides what an unreadable state means.
 */
export async function waitFor<T>(
  clock: Clock,
  options: { readonly timeoutMs: number; readonly intervalMs: number },
  probe: () => Promise<T | undefined>,
): Promise<Waited<T>> {
  const start = clock.now();
  const deadline = start + options.timeoutMs;
  for (;;) {
    await clock.sleep(Math.max(0, Math.min(options.intervalMs, deadline - clock.now())));
    const value = await probe();
    const waitedMs = clock.now() - start;
    if (value !== undefined) return { done: true, value, waitedMs };
    if (clock.now() >= deadline) return { done: false, waitedMs };
  }
}
