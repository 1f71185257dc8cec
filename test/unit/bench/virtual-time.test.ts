import { setTimeout as timersSetTimeout } from 'node:timers';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeDelay, VirtualTime } from '../../../bench/virtual-time';

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  now: Date.now,
};
let installed: VirtualTime | undefined;

function install(options?: ConstructorParameters<typeof VirtualTime>[0]): VirtualTime {
  installed = new VirtualTime(options);
  installed.install();
  return installed;
}

afterEach(() => {
  installed?.uninstall();
  installed = undefined;
});

describe('simulated time for the burst', () => {
  it('runs hours of waits in order, at once, and moves Date.now with them', async () => {
    // Prepare
    const time = install();
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

  it('also drives timers set with the setTimeout a module imported from node:timers (middy does)', async () => {
    // Prepare
    const time = install();
    const start = Date.now();
    let fired = 0;

    // Act: a five-minute guard, as middy arms for a function's timeout.
    timersSetTimeout(() => {
      fired = Date.now() - start;
    }, 300_000);
    const cleared = timersSetTimeout(() => {
      fired = -1;
    }, 1000);
    clearTimeout(cleared);
    await time.run();

    // Assess
    expect(fired).toBe(300_000);
    expect(time.pending).toBe(0);
  });

  it('cancels a real timer with the real clearTimeout, and no simulated timer in its place', async () => {
    // Prepare: a real timer made before simulated time, and simulated ones after.
    let realFired = false;
    const realTimer = real.setTimeout(() => {
      realFired = true;
    }, 20);
    const time = install();
    const woke: number[] = [];
    for (const ms of [1000, 2000, 3000]) void time.sleep(ms).then(() => woke.push(ms));

    // Act
    clearTimeout(realTimer);
    await time.run();
    time.uninstall();
    await new Promise((resolve) => real.setTimeout(resolve, 40));

    // Assess
    expect(woke).toEqual([1000, 2000, 3000]);
    expect(realFired).toBe(false);
  });

  it('waits at least 1 ms, as Node does, so a loop polling with a tiny delay sees time move', async () => {
    // Prepare: a rate limiter's loop, as the SDK's adaptive retry has:
    // wait for the next token, then look at the clock again.
    const time = install();
    const start = Date.now();
    let tokens = 0.9999999;
    let polls = 0;

    // Act
    const waited = (async () => {
      while (tokens < 1) {
        polls += 1;
        await new Promise((resolve) => setTimeout(resolve, (1 - tokens) * 1000 * 1e-6));
        tokens += (Date.now() - start) * 0.001;
      }
    })();
    await time.run();
    await waited;

    // Assess
    expect(polls).toBe(1);
    expect(Date.now() - start).toBe(1);
    expect([0, -5, Number.NaN, undefined, 2 ** 31].map(nodeDelay)).toEqual([1, 1, 1, 1, 1]);
    expect(nodeDelay(2.5)).toBe(2.5);
  });

  it('says so, rather than spin forever, when timers keep firing and time never moves', async () => {
    // Prepare: more timers due at one moment than the limit allows.
    const time = install({ stallLimit: 100 });
    for (let i = 0; i < 102; i += 1) setTimeout(() => {}, 5);

    // Act, Assess
    await expect(time.run()).rejects.toThrow('simulated time stalled at 5 ms');
  });

  it('says so when a loop keeps waiting past the horizon', async () => {
    // Prepare: a poller that never stops.
    const time = install({ horizonMs: 10_000 });
    const poll = () => {
      setTimeout(poll, 1000);
    };
    poll();

    // Act, Assess
    await expect(time.run()).rejects.toThrow('simulated time ran past 10000 ms');
  });

  it('puts the real timers and Date.now back', () => {
    const time = install();
    time.uninstall();

    expect(globalThis.setTimeout).toBe(real.setTimeout);
    expect(globalThis.clearTimeout).toBe(real.clearTimeout);
    expect(Date.now).toBe(real.now);
  });
});
