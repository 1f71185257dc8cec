/**
 * Bounded polling for EC2.9's attach, detach and verify steps. Timers are
 * plain setTimeout so tests can drive them with fake timers.
 */

export interface Polling {
  readonly attempts: number;
  readonly intervalMs: number;
}

/** Network interface attach and detach usually settle in seconds. */
export const INTERFACE_POLLING: Polling = { attempts: 30, intervalMs: 2_000 };

/** How long verify waits for a dropped address to disappear from the instance. */
export const VERIFY_POLLING: Polling = { attempts: 5, intervalMs: 2_000 };

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Checks first (no waiting when already settled), then every interval.
 * @returns whether `check` held within the bound.
 */
export async function poll(polling: Polling, check: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 1; ; attempt += 1) {
    if (await check()) return true;
    if (attempt >= polling.attempts) return false;
    await sleep(polling.intervalMs);
  }
}

export function bound(polling: Polling): string {
  return `${((polling.attempts - 1) * polling.intervalMs) / 1000} s`;
}
