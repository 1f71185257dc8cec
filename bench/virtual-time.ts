/**
 * Simulated time for the burst: setTimeout, clearTimeout and Date.now are
 * replaced in this process, so the SDK's real retry backoff and adaptive
 * rate limiter, middy's early-timeout guard, the pipeline's clock and the
 * simulated API latency all wait on the same clock, and hours of simulated
 * work take seconds. Time moves only when nothing else can run: every
 * pending promise settles first.
 *
 * Both ways code reaches a timer are replaced: the globals, and the exports
 * of `node:timers`, which a module may import by name (middy does:
 * `import { setTimeout } from "node:timers"`, then calls the global
 * clearTimeout). A timer left real there outlives the simulation by the
 * function's whole timeout in real time, and its handle, passed to a
 * simulated clearTimeout, used to be read as a number and cancelled whichever
 * simulated timer had that number: a waiter that never woke.
 */
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import type { Clock } from '../lambdas/core/clock';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fire: () => void;
}

/** What a simulated setTimeout returns: enough of Node's Timeout for the code that runs here. */
export interface VirtualHandle {
  readonly id: number;
  unref(): VirtualHandle;
  ref(): VirtualHandle;
  hasRef(): boolean;
  [Symbol.toPrimitive](): number;
}

interface Replaced {
  readonly globalSetTimeout: typeof setTimeout;
  readonly globalClearTimeout: typeof clearTimeout;
  readonly timersSetTimeout: typeof timers.setTimeout;
  readonly timersClearTimeout: typeof timers.clearTimeout;
  readonly now: typeof Date.now;
}

export class VirtualTime {
  /** Milliseconds since the start. */
  now = 0;
  private readonly timers: Timer[] = [];
  private readonly handles = new WeakSet<object>();
  /**
   * Simulated timers count down from -1: Node's own timers convert to
   * positive numbers, so a number alone says which clock it belongs to.
   */
  private serial = 0;
  private readonly epoch = Date.UTC(2026, 0, 1);
  private replaced: Replaced | undefined;

  /** Simulated timers still to fire. */
  get pending(): number {
    return this.timers.length;
  }

  install(): void {
    if (this.replaced) return;
    const replaced: Replaced = {
      globalSetTimeout: globalThis.setTimeout,
      globalClearTimeout: globalThis.clearTimeout,
      timersSetTimeout: timers.setTimeout,
      timersClearTimeout: timers.clearTimeout,
      now: Date.now,
    };
    this.replaced = replaced;
    const schedule = (fire: () => void, ms: number): VirtualHandle => {
      this.serial -= 1;
      const timer = { id: this.serial, at: this.now + Math.max(0, ms || 0), fire };
      // Keep the list ordered by time, then by order of scheduling.
      let i = this.timers.length;
      while (i > 0 && (this.timers[i - 1]?.at ?? 0) > timer.at) i -= 1;
      this.timers.splice(i, 0, timer);
      const handle: VirtualHandle = {
        id: timer.id,
        unref: () => handle,
        ref: () => handle,
        hasRef: () => true,
        [Symbol.toPrimitive]: () => timer.id,
      };
      this.handles.add(handle);
      return handle;
    };
    const cancel = (id: number) => {
      const index = this.timers.findIndex((t) => t.id === id);
      if (index >= 0) this.timers.splice(index, 1);
    };
    // The double cast is deliberate: Node's setTimeout type carries overloads
    // and a __promisify__ member that a simulated clock has no use for, and
    // VirtualHandle gives everything the handler's code calls on a timer.
    const simulatedSetTimeout = ((
      fn: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => schedule(() => fn(...args), ms ?? 0)) as unknown as typeof setTimeout;
    const simulatedClearTimeout = ((handle: unknown) => {
      if (typeof handle === 'object' && handle !== null && this.handles.has(handle)) {
        cancel((handle as VirtualHandle).id);
      } else if (typeof handle === 'number' && handle < 0) {
        cancel(handle);
      } else {
        // A real timer (made before install, or by code holding the real
        // function): only the real clearTimeout can cancel it.
        replaced.globalClearTimeout(handle as Parameters<typeof clearTimeout>[0]);
      }
    }) as typeof clearTimeout;
    globalThis.setTimeout = simulatedSetTimeout;
    globalThis.clearTimeout = simulatedClearTimeout;
    timers.setTimeout = simulatedSetTimeout;
    timers.clearTimeout = simulatedClearTimeout;
    // Modules that imported these by name see the new ones (live ESM bindings).
    syncBuiltinESMExports();
    Date.now = () => this.epoch + this.now;
  }

  /** Puts the real timers and Date.now back. */
  uninstall(): void {
    const replaced = this.replaced;
    if (!replaced) return;
    globalThis.setTimeout = replaced.globalSetTimeout;
    globalThis.clearTimeout = replaced.globalClearTimeout;
    timers.setTimeout = replaced.timersSetTimeout;
    timers.clearTimeout = replaced.timersClearTimeout;
    syncBuiltinESMExports();
    Date.now = replaced.now;
    this.replaced = undefined;
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
