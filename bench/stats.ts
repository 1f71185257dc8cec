/**
 * The few statistics the bench reports. On a shared machine one slow or one
 * lucky sample must not move a figure, so figures are trimmed means, and
 * every figure carries the spread of the repeats it was made from.
 */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/** The value below which `q` (0..1) of the samples lie (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Mean of the samples left once `share` of them is dropped at each end
 * (0.2: the lowest and the highest fifth). At least one sample is kept.
 */
export function trimmedMean(values: readonly number[], share = 0.2): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.min(Math.floor(sorted.length * share), Math.floor((sorted.length - 1) / 2));
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

/**
 * Mean of the lowest `share` of the samples (at least one). Contention on a
 * shared machine only ever adds CPU time to a fixed piece of work, so the
 * low end of the samples is the work and the high end the neighbours.
 */
export function lowMean(values: readonly number[], share = 0.3): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const kept = sorted.slice(0, Math.max(1, Math.round(sorted.length * share)));
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

/**
 * How far apart repeated measurements of one figure are, as a share of
 * their mean: (max − min) / mean. 0.03 means the repeats span 3%.
 */
export function relativeSpread(repeats: readonly number[]): number {
  if (repeats.length === 0) return Number.NaN;
  const mean = repeats.reduce((sum, v) => sum + v, 0) / repeats.length;
  return (Math.max(...repeats) - Math.min(...repeats)) / mean;
}

export type Verdict = 'PASS' | 'over budget' | 'within noise';

/**
 * A verdict only where the figure is farther from its budget than the
 * measurement's own spread: otherwise the machine, not the code, decides it.
 * `spread` is relative (as relativeSpread returns).
 */
export function verdictAgainst(value: number, budget: number, spread: number): Verdict {
  const margin = value * spread;
  if (value + margin <= budget) return 'PASS';
  if (value - margin > budget) return 'over budget';
  return 'within noise';
}
