import { describe, expect, it } from 'vitest';
import {
  bound,
  type Clock,
  poll,
  VERIFY_BACKOFF_MS,
  verifyEventually,
  waitFor,
} from '../../../lambdas/services/wait';

/** A clock that only moves when something sleeps. */
function fakeClock() {
  let now = 0;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { clock, sleeps };
}

describe('waitFor', () => {
  it('sleeps before the first look by default: a new thing is never settled at once', async () => {
    const { clock, sleeps } = fakeClock();

    const waited = await waitFor(
      clock,
      { timeoutMs: 60_000, intervalMs: 15_000 },
      async () => 'steady',
    );

    expect(waited).toEqual({ done: true, value: 'steady', waitedMs: 15_000 });
    expect(sleeps).toEqual([15_000]);
  });

  it('looks first when asked, and never waits past the deadline', async () => {
    const { clock, sleeps } = fakeClock();
    let looks = 0;

    const waited = await waitFor(
      clock,
      { timeoutMs: 5_000, intervalMs: 2_000, checkFirst: true },
      async () => {
        looks += 1;
        return undefined;
      },
    );

    expect(waited).toEqual({ done: false, waitedMs: 5_000 });
    expect(looks).toBe(4);
    expect(sleeps).toEqual([2_000, 2_000, 1_000]);
  });

  it('lets errors from the probe through', async () => {
    const { clock } = fakeClock();

    await expect(
      waitFor(clock, { timeoutMs: 1_000, intervalMs: 100 }, async () => {
        throw new Error('AccessDenied');
      }),
    ).rejects.toThrow('AccessDenied');
  });
});

describe('poll', () => {
  it('looks exactly `attempts` times, the first at once', async () => {
    const { clock, sleeps } = fakeClock();
    let looks = 0;

    const settled = await poll(clock, { attempts: 5, intervalMs: 2_000 }, async () => {
      looks += 1;
      return false;
    });

    expect(settled).toBe(false);
    expect(looks).toBe(5);
    expect(sleeps).toEqual([2_000, 2_000, 2_000, 2_000]);
    expect(bound({ attempts: 5, intervalMs: 2_000 })).toBe('8 s');
  });

  it('stops as soon as the check holds', async () => {
    const { clock, sleeps } = fakeClock();

    expect(await poll(clock, { attempts: 30, intervalMs: 2_000 }, async () => true)).toBe(true);
    expect(sleeps).toEqual([]);
  });
});

describe('verifyEventually', () => {
  it('passes at once without waiting when the change is already visible', async () => {
    const { clock, sleeps } = fakeClock();
    const verdict = await verifyEventually(clock, async () => ({ ok: true }));
    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([]);
  });

  it('backs off while AWS still shows the old state, and passes once it shows the new', async () => {
    const { clock, sleeps } = fakeClock();
    const answers = [false, false, true];
    const verdict = await verifyEventually(clock, async () =>
      answers.shift() ? { ok: true } : { ok: false, reason: 'still there' },
    );
    expect(verdict).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('answers the last failure once the backoff is spent', async () => {
    const { clock, sleeps } = fakeClock();
    let looks = 0;
    const verdict = await verifyEventually(clock, async () => {
      looks += 1;
      return { ok: false, reason: `look ${looks}` };
    });
    expect(verdict).toEqual({ ok: false, reason: 'look 5' });
    expect(sleeps).toEqual(VERIFY_BACKOFF_MS);
  });
});
