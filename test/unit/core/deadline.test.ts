import { describe, expect, it } from 'vitest';
import {
  DELIVERY_RESERVE_MS,
  deadlineIn,
  hasTimeFor,
  lambdaDeadline,
  NO_DEADLINE,
} from '../../../lambdas/core/deadline';

describe('deadline', () => {
  it("keeps the delivery reserve back from Lambda's remaining time", () => {
    let remaining = 60_000;
    const deadline = lambdaDeadline({ getRemainingTimeInMillis: () => remaining });
    expect(deadline.remainingMs()).toBe(60_000 - DELIVERY_RESERVE_MS);
    remaining = 5_000;
    expect(deadline.remainingMs()).toBe(0);
  });

  it('counts down on the clock it is given', () => {
    let now = 1_000;
    const deadline = deadlineIn(30_000, () => now);
    now += 25_000;
    expect(deadline.remainingMs()).toBe(5_000);
    expect(hasTimeFor(deadline, 5_000)).toBe(true);
    expect(hasTimeFor(deadline, 5_001)).toBe(false);
  });

  it('never runs out without an invocation', () => {
    expect(hasTimeFor(NO_DEADLINE, 3_600_000)).toBe(true);
  });
});
