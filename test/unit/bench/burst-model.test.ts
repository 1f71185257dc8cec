import { describe, expect, it } from 'vitest';
import {
  AsyncQueue,
  CallCounter,
  LAMBDA_RETRY_DELAYS_MS,
  MAX_EVENT_AGE_MS,
} from '../../../bench/burst-model';

const HOUR = 3600_000;

describe("the function's asynchronous queue, as Lambda runs it", () => {
  it('hands out events oldest first, only once they are available', () => {
    // Prepare
    const queue = new AsyncQueue<string>(6 * HOUR);
    queue.add('later', 5000);
    queue.add('first', 0);
    queue.add('second', 0);

    // Act
    const taken = [queue.take(0)?.event, queue.take(0)?.event, queue.take(0)?.event];

    // Assess
    expect(taken).toEqual(['first', 'second', undefined]);
    expect(queue.soonest()).toBe(5000);
    expect(queue.take(5000)?.event).toBe('later');
    expect(queue.soonest()).toBeUndefined();
  });

  it('retries a failed invocation twice, after 1 and 2 minutes, then gives it to the dead-letter queue', () => {
    // Prepare
    const queue = new AsyncQueue<string>(6 * HOUR);
    queue.add('finding', 0);

    // Act: it fails every time.
    const results: string[] = [];
    let now = 0;
    for (;;) {
      const item = queue.take(now);
      if (!item) break;
      results.push(queue.failed(item, now));
      now = queue.soonest() ?? now;
    }

    // Assess
    expect(results).toEqual(['retried', 'retried', 'dead-letter']);
    expect(now).toBe(LAMBDA_RETRY_DELAYS_MS[0] + LAMBDA_RETRY_DELAYS_MS[1]);
    expect([queue.lambdaRetries, queue.deadLetters]).toEqual([2, 1]);
  });

  it('sends an event that waited longer than its maximum age to the dead-letter queue, retries counted', () => {
    // Prepare: one event fails and is retried; by its retry it is too old.
    const queue = new AsyncQueue<string>(24 * HOUR);
    queue.add('old', 0);
    queue.add('fresh', MAX_EVENT_AGE_MS);
    const item = queue.take(MAX_EVENT_AGE_MS - 1000);
    if (!item) throw new Error('no event');
    queue.failed(item, MAX_EVENT_AGE_MS - 1000);

    // Act
    const now = MAX_EVENT_AGE_MS + LAMBDA_RETRY_DELAYS_MS[0];
    const taken = [queue.take(now)?.event, queue.take(now)?.event];

    // Assess
    expect(taken).toEqual(['fresh', undefined]);
    expect(queue.deadLetters).toBe(1);
    expect(queue.size).toBe(0);
  });

  it("hands a deferred finding on at the reconciler's next sweep, as a new event", () => {
    // Prepare
    const queue = new AsyncQueue<string>(6 * HOUR);
    queue.add('finding', 0);
    const item = queue.take(0);
    if (!item) throw new Error('no event');

    // Act
    const sweep = queue.deferred(item, 40 * 60_000);

    // Assess: not before the sweep; then fresh, however long it waited.
    expect(sweep).toBe(6 * HOUR);
    expect(queue.take(sweep - 1)).toBeUndefined();
    expect(queue.take(sweep)).toMatchObject({ event: 'finding', arrivedAt: sweep, attempts: 0 });
    expect(queue.handedOnBySweep).toBe(1);
  });
});

describe('EC2 calls per API and second', () => {
  it('counts calls, throttles, peaks and the accepted rate over the first pass', () => {
    // Prepare
    const counter = new CallCounter();

    // Act: 3 calls in second 0 (one throttled), 2 in second 1, 1 in second 9.
    counter.record('RevokeSecurityGroupIngress', 0, true);
    counter.record('RevokeSecurityGroupIngress', 100, true);
    counter.record('RevokeSecurityGroupIngress', 999, false);
    counter.record('RevokeSecurityGroupIngress', 1000, true);
    counter.record('RevokeSecurityGroupIngress', 1500, true);
    counter.record('RevokeSecurityGroupIngress', 9000, true);
    counter.record('DescribeSecurityGroups', 0, true);

    // Assess
    expect(counter.total).toEqual({ calls: 7, throttled: 1 });
    expect(counter.summary(2)).toEqual({
      RevokeSecurityGroupIngress: {
        calls: 6,
        throttled: 1,
        peakPerSecond: 3,
        peakAcceptedPerSecond: 2,
        meanAcceptedPerSecond: 2,
      },
      DescribeSecurityGroups: {
        calls: 1,
        throttled: 0,
        peakPerSecond: 1,
        peakAcceptedPerSecond: 1,
        meanAcceptedPerSecond: 0.5,
      },
    });
  });
});
