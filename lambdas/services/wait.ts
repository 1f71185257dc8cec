/**
 * Waiting for something in AWS to settle: always bounded, with the clock
 * passed in so tests wait no real time. Shared by every control that waits
 * (EC2.9's interface attach and detach, ECS.16's task set stability).
 */

import type { Clock } from '../core/clock';
import type { VerifyResult } from '../core/control';

export { type Clock, systemClock } from '../core/clock';

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

/**
 * How verify waits for AWS to show a change: EC2 and ECS are eventually
 * consistent, so a describe right after a change may still show the old
 * state. Looks at once, then after 1, 2, 4 and 8 s: 15 s at most.
 */
export const VERIFY_BACKOFF_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];

/**
 * Runs `check` until it passes or the backoff is spent, and answers its last
 * verdict. Errors from `check` propagate: an unreadable state is not a pass.
 */
export async function verifyEventually(
  clock: Clock,
  check: () => Promise<VerifyResult>,
  backoffMs: readonly number[] = VERIFY_BACKOFF_MS,
): Promise<VerifyResult> {
  let verdict = await check();
  for (const delay of backoffMs) {
    if (verdict.ok) return verdict;
    await clock.sleep(delay);
    verdict = await check();
  }
  return verdict;
}
