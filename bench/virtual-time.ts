/**
 * Simulated time for the burst: setTimeout, clearTimeout and Date.now are
 * replaced in this process, so the SDK's real retry backoff and adaptive
 * rate limiter, the pipeline's clock and the simulated API latency all wait
 * on the same clock, and hours of simulated work take seconds. Time moves
 * only when nothing else can run: every pending promise settles first.
 */
import type { Clock } from '../lambdas/core/clock';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fire: () => void;
}

export class VirtualTime {
  /** Milliseconds since the start. */
  now = 0;
  private readonly timers: Timer[] = [];
  private serial = 0;
  private readonly epoch = Date.UTC(2026, 0, 1);

  install(): void {
    const schedule = (fire: () => void, ms: number) => {
      this.serial += 1;
      const timer = { id: this.serial, at: this.now + Math.max(0, ms || 0), fire };
      // Keep the list ordered by time, then by order of scheduling.
      let i = this.timers.length;
      while (i > 0 && (this.timers[i - 1]?.at ?? 0) > timer.at) i -= 1;
      this.timers.splice(i, 0, timer);
      const handle = {
        id: timer.id,
        unref: () => handle,
        ref: () => handle,
        hasRef: () => true,
        [Symbol.toPrimitive]: () => timer.id,
      };
      return handle;
    };
    // The double cast is deliberate: Node's setTimeout type carries overloads
    // and a __promisify__ member that a simulated clock has no use for, and
    // the handle above gives everything the handler's code calls on a timer.
    globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      schedule(() => fn(...args), ms ?? 0)) as unknown as typeof setTimeout;
    globalThis.clearTimeout = ((handle: unknown) => {
      const id =
        typeof handle === 'object' && handle !== null && 'id' in handle
          ? (handle as { id: number }).id
          : Number(handle);
      const index = this.timers.findIndex((t) => t.id === id);
      if (index >= 0) this.timers.splice(index, 1);
    }) as typeof clearTimeout;
    Date.now = () => this.epoch + this.now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  readonly clock: Clock = {
    now: () => Date.now(),
    sleep: (ms: number) => this.sleep(ms),
  } as Clock;

  /** Runs until no timer is left. */
  async run(): Promise<void> {
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      await turn();
      const next = this.timers.shift();
      if (!next) {
        await turn();
        if (this.timers.length === 0) return;
        continue;
      }
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
  }
}
