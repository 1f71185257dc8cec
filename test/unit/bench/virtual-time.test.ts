import { afterEach, describe, expect, it } from 'vitest';
import { VirtualTime } from '../../../bench/virtual-time';

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  now: Date.now,
};

afterEach(() => {
  globalThis.setTimeout = real.setTimeout;
  globalThis.clearTimeout = real.clearTimeout;
  Date.now = real.now;
});

describe('simulated time for the burst', () => {
  it('runs hours of waits in order, at once, and moves Date.now with them', async () => {
    // Prepare
    const time = new VirtualTime();
    time.install();
    const start = Date.now();
    const seen: string[] = [];

    // Act: two waiters, one of six hours, one of a minute that then waits again.
    const long = time.sleep(6 * 3600_000).then(() => seen.push(`long at ${Date.now() - start}`));
    const short = (async () => {
      await time.sleep(60_000);
      seen.push(`short at ${Date.now() - start}`);
      await time.sleep(60_000);
      seen.push(`again at ${Date.now() - start}`);
    })();
    const cancelled = setTimeout(() => seen.push('cancelled'), 10);
    clearTimeout(cancelled);
    await time.run();
    await Promise.all([long, short]);

    // Assess
    expect(seen).toEqual(['short at 60000', 'again at 120000', 'long at 21600000']);
    expect(time.now).toBe(6 * 3600_000);
  });
});
