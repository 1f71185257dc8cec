import { describe, expect, it } from 'vitest';
import { measurePairs, pairedRatio } from '../../../bench/import-cost';
import { lowMean, median, relativeSpread, trimmedMean, verdictAgainst } from '../../../bench/stats';

describe('bench statistics', () => {
  it('trims the lowest and highest fifth before the mean, so one slow sample moves nothing', () => {
    // Prepare: ten samples, one of them a neighbour's busy moment.
    const samples = [10, 10, 10, 10, 10, 10, 10, 10, 10, 500];

    // Act
    const figure = trimmedMean(samples, 0.2);

    // Assess
    expect(figure).toBe(10);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it('takes the low end of CPU samples, where the work is and the neighbours are not', () => {
    expect(lowMean([30, 10, 11, 50, 12, 90, 13, 14, 15, 16], 0.3)).toBe(11);
    expect(lowMean([7], 0.3)).toBe(7);
    expect(lowMean([], 0.3)).toBeNaN();
  });

  it('keeps at least one sample however much is trimmed', () => {
    expect(trimmedMean([4], 0.4)).toBe(4);
    expect(trimmedMean([1, 9], 0.4)).toBe(5);
    expect(trimmedMean([], 0.2)).toBeNaN();
  });

  it('states the spread of repeats as their range over their mean', () => {
    expect(relativeSpread([98, 102])).toBeCloseTo(0.04);
    expect(relativeSpread([5, 5, 5])).toBe(0);
  });

  it.each([
    { value: 1.1, budget: 1.25, spread: 0.04, verdict: 'PASS' },
    { value: 1.24, budget: 1.25, spread: 0.04, verdict: 'within noise' },
    { value: 1.27, budget: 1.25, spread: 0.04, verdict: 'within noise' },
    { value: 1.4, budget: 1.25, spread: 0.04, verdict: 'over budget' },
    { value: 1.25, budget: 1.25, spread: 0, verdict: 'PASS' },
  ])(
    'gives a verdict only beyond the spread: $value against $budget ±$spread is $verdict',
    ({ value, budget, spread, verdict }) => {
      expect(verdictAgainst(value, budget, spread)).toBe(verdict);
    },
  );
});

describe('paired import measurement', () => {
  it('measures handler and baseline in pairs, alternating which goes first, after one warm-up each', async () => {
    // Prepare: a sampler that records the order and answers a fixed cost per file.
    const order: string[] = [];
    const cost: Record<string, number> = { h: 12, b: 10 };
    const sampler = async (file: string) => {
      order.push(file);
      return cost[file] ?? 0;
    };

    // Act
    const measured = await measurePairs(
      { handler: 'h', baseline: 'b' },
      { pairsPerRepeat: 2, minRepeats: 2, maxRepeats: 4, targetSpread: 0.01 },
      sampler,
    );

    // Assess: h b, then b h, per repeat; no third repeat where the two agree.
    expect(order).toEqual(['h', 'b', 'h', 'b', 'b', 'h', 'h', 'b', 'b', 'h']);
    expect(measured.handler).toEqual({ ms: 12, repeats: [12, 12], spread: 0 });
    expect(measured.ratio).toEqual({ ratio: 1.2, repeats: [1.2, 1.2], spread: 0 });
    expect(measured.pairs).toHaveLength(4);
  });

  it('cancels a neighbour that slows both imports of a pair, and trims a spike in either', async () => {
    // Prepare: true costs 110 and 100 ms; the machine's slowdown changes from
    // pair to pair (x1 to x1.6); one handler and one baseline import are hit
    // by a 200 ms spike of their own.
    const slowdown = [1, 1.6, 1.2, 1.5, 1.1, 1.4, 1.3, 1.05, 1.55, 1.25, 1.15, 1.45];
    let n = 0;
    const sampler = async (file: string) => {
      const i = n++;
      const factor = slowdown[Math.floor(Math.max(0, i - 2) / 2) % slowdown.length] ?? 1;
      const spike = i === 7 || i === 16 ? 200 : 0;
      return (file === 'h' ? 110 : 100) * factor + spike;
    };

    // Act
    const measured = await measurePairs(
      { handler: 'h', baseline: 'b' },
      { pairsPerRepeat: 6, minRepeats: 2, maxRepeats: 2, targetSpread: 0.01 },
      sampler,
    );

    // Assess
    expect(measured.ratio.ratio).toBeCloseTo(1.1, 6);
    expect(pairedRatio(measured.pairs)).toBe(measured.ratio.ratio);
  });

  it('measures another repeat while the repeats disagree, up to the limit', async () => {
    // Prepare: every second repeat of pairs is 20% dearer for the handler.
    let n = 0;
    const sampler = async (file: string) => {
      const repeat = Math.floor(Math.max(0, n++ - 2) / 4);
      return file === 'h' ? (repeat % 2 === 0 ? 100 : 120) : 100;
    };

    // Act
    const measured = await measurePairs(
      { handler: 'h', baseline: 'b' },
      { pairsPerRepeat: 2, minRepeats: 2, maxRepeats: 3, targetSpread: 0.05 },
      sampler,
    );

    // Assess
    expect(measured.ratio.repeats).toEqual([1, 1.2, 1]);
    expect(measured.ratio.spread).toBeCloseTo(0.2 / (3.2 / 3));
  });
});
