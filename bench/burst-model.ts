/**
 * The parts of the burst simulation that are bookkeeping, not hubfix: the
 * function's asynchronous event queue as Lambda runs it, the reconciler
 * handing deferred findings on at its next sweep, and counting EC2 calls per
 * API and second. Pure: simulated milliseconds in, counts out.
 */

/** Lambda drops an asynchronous event older than this (hubfix's maxEventAge) to the dead-letter queue. */
export const MAX_EVENT_AGE_MS = 6 * 3600 * 1000;
/** Lambda's waits before its two retries of a failed asynchronous invocation. */
export const LAMBDA_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface QueuedEvent<E> {
  readonly event: E;
  /** When Lambda received it: its age counts from here, through Lambda's retries. */
  readonly arrivedAt: number;
  readonly availableAt: number;
  /** Lambda retries so far. */
  readonly attempts: number;
}

/**
 * One function's asynchronous queue: events wait until available, oldest
 * first; a failed invocation is retried by Lambda twice, then goes to the
 * dead-letter queue, as does an event that waited past its maximum age. A
 * finding the function deferred is handed on again by the reconciler at its
 * next sweep (README, "The reconciler"), as a new event.
 */
export class AsyncQueue<E> {
  private readonly items: QueuedEvent<E>[] = [];
  deadLetters = 0;
  lambdaRetries = 0;
  handedOnBySweep = 0;

  constructor(
    /** The reconciler's schedule; its first sweep is assumed this long after the burst began. */
    private readonly sweepEveryMs: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(event: E, at: number): void {
    this.items.push({ event, arrivedAt: at, availableAt: at, attempts: 0 });
  }

  /** The oldest event available at `now`; those past their age go to the dead-letter queue on the way. */
  take(now: number): QueuedEvent<E> | undefined {
    for (;;) {
      let index = -1;
      for (let i = 0; i < this.items.length; i += 1) {
        const item = this.items[i];
        if (item && item.availableAt <= now) {
          const best = this.items[index];
          if (!best || item.availableAt < best.availableAt) index = i;
        }
      }
      if (index < 0) return undefined;
      const [item] = this.items.splice(index, 1);
      if (!item) return undefined;
      if (now - item.arrivedAt <= MAX_EVENT_AGE_MS) return item;
      this.deadLetters += 1;
    }
  }

  /** When the next event becomes available, if any is left. */
  soonest(): number | undefined {
    return this.items.length === 0
      ? undefined
      : Math.min(...this.items.map((item) => item.availableAt));
  }

  /** The invocation threw: Lambda tries again later, or gives the event to the dead-letter queue. */
  failed(item: QueuedEvent<E>, now: number): 'retried' | 'dead-letter' {
    const delay = LAMBDA_RETRY_DELAYS_MS[item.attempts];
    if (delay === undefined) {
      this.deadLetters += 1;
      return 'dead-letter';
    }
    this.lambdaRetries += 1;
    this.items.push({ ...item, availableAt: now + delay, attempts: item.attempts + 1 });
    return 'retried';
  }

  /** The function deferred the finding: the reconciler's next sweep hands it on as a new event. */
  deferred(item: QueuedEvent<E>, now: number): number {
    const sweep = (Math.floor(now / this.sweepEveryMs) + 1) * this.sweepEveryMs;
    this.handedOnBySweep += 1;
    this.items.push({ event: item.event, arrivedAt: sweep, availableAt: sweep, attempts: 0 });
    return sweep;
  }
}

export interface ActionCalls {
  /** Calls made, throttled ones included. */
  readonly calls: number;
  readonly throttled: number;
  /** Most calls made in one simulated second. */
  readonly peakPerSecond: number;
  /** Most calls EC2 accepted in one simulated second. */
  readonly peakAcceptedPerSecond: number;
  /** Accepted calls a second over the span summary() is given (the burst's first pass). */
  readonly meanAcceptedPerSecond: number;
}

/** EC2 calls per API, counted per simulated second. */
export class CallCounter {
  private readonly byAction = new Map<
    string,
    { calls: Map<number, number>; accepted: Map<number, number>; throttled: number }
  >();

  record(action: string, atMs: number, accepted: boolean): void {
    const second = Math.floor(atMs / 1000);
    const counts = this.byAction.get(action) ?? {
      calls: new Map<number, number>(),
      accepted: new Map<number, number>(),
      throttled: 0,
    };
    counts.calls.set(second, (counts.calls.get(second) ?? 0) + 1);
    if (accepted) counts.accepted.set(second, (counts.accepted.get(second) ?? 0) + 1);
    else counts.throttled += 1;
    this.byAction.set(action, counts);
  }

  get total(): { readonly calls: number; readonly throttled: number } {
    let calls = 0;
    let throttled = 0;
    for (const counts of this.byAction.values()) {
      for (const n of counts.calls.values()) calls += n;
      throttled += counts.throttled;
    }
    return { calls, throttled };
  }

  /** Per API; the mean counts accepted calls of the first `spanSeconds` over that span. */
  summary(spanSeconds: number): Record<string, ActionCalls> {
    const sum = (m: Map<number, number>) => [...m.values()].reduce((n, c) => n + c, 0);
    const span = Math.max(1, Math.ceil(spanSeconds));
    return Object.fromEntries(
      [...this.byAction].map(([action, counts]) => {
        const within = new Map([...counts.accepted].filter(([second]) => second < span));
        return [
          action,
          {
            calls: sum(counts.calls),
            throttled: counts.throttled,
            peakPerSecond: Math.max(...counts.calls.values()),
            peakAcceptedPerSecond: Math.max(0, ...counts.accepted.values()),
            meanAcceptedPerSecond: sum(within) / span,
          },
        ];
      }),
    );
  }
}
