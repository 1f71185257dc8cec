/**
 * Waiting for something in AWS to settle: always bounded, with the clock
 * passed in so tests wait no real time. Shared by every control that waits
 * (EC2.9's interface attach and detach, ECS.16's task set stability).
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

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /**
   * Look before the first sleep: right for what is often settled already
   * (a dropped address), wrong for what never is (a new task set).
   * @default false
   */
  readonly checkFirst?: boolean;
}

/**
 * Calls `probe` every `intervalMs` until it returns a value or `timeoutMs`
 * has passed. Errors from `probe` propagate: the caller decides what an
 * unreadable state means.
 */
export async function waitFor<T>(
  clock: Clock,
  options: WaitOptions,
  probe: () => Promise<T | undefined>,
): Promise<Waited<T>> {
  const start = clock.now();
  const deadline = start + options.timeoutMs;
  for (let first = true; ; first = false) {
    if (!(first && options.checkFirst)) {
      await clock.sleep(Math.max(0, Math.min(options.intervalMs, deadline - clock.now())));
    }
    const value = await probe();
    const waitedMs = clock.now() - start;
    if (value !== undefined) return { done: true, value, waitedMs };
    if (clock.now() >= deadline) return { done: false, waitedMs };
  }
}

/** A number of looks, `intervalMs` apart, the first one at once. */
export interface Polling {
  readonly attempts: number;
  readonly intervalMs: number;
}

export function pollingWindow(polling: Polling): WaitOptions {
  return {
    timeoutMs: (polling.attempts - 1) * polling.intervalMs,
    intervalMs: polling.intervalMs,
    checkFirst: true,
  };
}

/** @returns whether `check` held within the polling's bound. */
export async function poll(
  clock: Clock,
  polling: Polling,
  check: () => Promise<boolean>,
): Promise<boolean> {
  const waited = await waitFor(clock, pollingWindow(polling), async () =>
    (await check()) ? true : undefined,
  );
  return waited.done;
}

/** How long a polling waits at most, for messages. */
export function bound(polling: Polling): string {
  return `${((polling.attempts - 1) * polling.intervalMs) / 1000} s`;
}
