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

/** Node's longest timer; a delay above it, below 1 ms, or not a number becomes 1 ms, as in Node. */
const TIMEOUT_MAX = 2 ** 31 - 1;
export interface VirtualTimeOptions {
  /**
   * Timers fired without time moving before the simulation calls itself stuck.
   * @default 1,000,000
   */
  readonly stallLimit?: number;
  /**
   * Simulated milliseconds after which the simulation calls itself stuck: a
   * loop that keeps waiting and never ends.
   * @default 30 days
   */
  readonly horizonMs?: number;
}

/** The delay Node's setTimeout really waits for `ms`. */
export function nodeDelay(ms: unknown): number {
  const after = Number(ms);
  return after >= 1 && after <= TIMEOUT_MAX ? after : 1;
}

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
  private readonly stallLimit: number;
  private readonly horizonMs: number;

  constructor(options: VirtualTimeOptions = {}) {
    this.stallLimit = options.stallLimit ?? 1_000_000;
    this.horizonMs = options.horizonMs ?? 30 * 24 * 3600_000;
  }

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
      // Node waits at least 1 ms: code that polls with setTimeout(fn, 0) (the
      // SDK's rate limiter, with a tiny delay) sees time move, as it does there.
      const timer = { id: this.serial, at: this.now + nodeDelay(ms), fire };
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
    // Whole milliseconds, as the real one gives.
    Date.now = () => this.epoch + Math.floor(this.now);
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

  /**
   * Runs until no timer is left.
   * @throws Error when timers keep firing without time moving, or time runs
   * past the horizon: a loop that would spin forever, rather than a result.
   */
  async run(): Promise<void> {
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    let still = 0;
    for (;;) {
      await turn();
      const next = this.timers.shift();
      if (!next) {
        await turn();
        if (this.timers.length === 0) return;
        continue;
      }
      still = next.at > this.now ? 0 : still + 1;
      if (still > this.stallLimit) {
        throw new Error(
          `simulated time stalled at ${this.now} ms: timers keep firing and time never moves`,
        );
      }
      if (next.at > this.horizonMs) {
        throw new Error(
          `simulated time ran past ${this.horizonMs} ms with timers still waiting: a loop that never ends`,
        );
      }
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
  }
}
