import { describe, expect, it } from 'vitest';
import { measureImports, ratioOf } from '../../../bench/import-cost';
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

describe('interleaved import measurement', () => {
  it('samples every bundle in turn, rotating the order, and reports each repeat', async () => {
    // Prepare: a sampler that records the order and answers a fixed cost per file.
    const order: string[] = [];
    const cost: Record<string, number> = { a: 12, b: 10 };
    const sampler = async (file: string) => {
      order.push(file);
      return cost[file] ?? 0;
    };

    // Act
    const figures = await measureImports(
      { handler: 'a', baseline: 'b' },
      { samplesPerRepeat: 2, repeats: 2 },
      sampler,
    );

    // Assess: one warm-up each, then a b, b a per repeat.
    expect(order).toEqual(['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
    expect(figures.handler).toEqual({ ms: 12, repeats: [12, 12], spread: 0 });
    expect(ratioOf(figures.handler, figures.baseline)).toEqual({
      ratio: 1.2,
      repeats: [1.2, 1.2],
      spread: 0,
    });
  });
});
