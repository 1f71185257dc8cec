/**
 * What one run of the bench measured of cold imports, kept in
 * bench/results.json so the next run can say how far it moved: a
 * measurement on a shared machine is only as good as its agreement with
 * itself a few minutes later.
 */

export interface ImportRunRow {
  readonly controlId: string;
  readonly ratio: number;
  /** relativeSpread of the run's own repeats. */
  readonly spread: number;
  readonly repeats: readonly number[];
  readonly handlerMs: number;
  readonly baselineMs: number;
  /** Pairs (or, in runs before pairing, samples per bundle) the figure was made from. */
  readonly samples: number;
  readonly verdict: string;
}

export interface ImportRun {
  readonly generatedAt: string;
  /** 1-minute load average (as `uptime` prints it) when the run started and ended; absent in older runs. */
  readonly load?: { readonly start: number; readonly end: number };
  readonly method: string;
  readonly rows: readonly ImportRunRow[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * The import run a results.json holds: `importRuns[0]` as this bench writes
 * it, or, from a results.json written before runs were kept, its rows'
 * importTime. Undefined when there is none or it cannot be read.
 */
export function importRunOf(results: unknown): ImportRun | undefined {
  if (!isRecord(results)) return undefined;
  const runs = results.importRuns;
  if (Array.isArray(runs) && isRecord(runs[0])) {
    const run = runs[0];
    const rows = Array.isArray(run.rows) ? run.rows.filter(isRecord) : [];
    const generatedAt = typeof run.generatedAt === 'string' ? run.generatedAt : undefined;
    if (!generatedAt || rows.length === 0) return undefined;
    return run as unknown as ImportRun; // Written by this module's own ImportRun, read back as such.
  }
  if (typeof results.generatedAt !== 'string' || !Array.isArray(results.rows)) return undefined;
  const rows: ImportRunRow[] = [];
  for (const row of results.rows) {
    if (!isRecord(row) || typeof row.controlId !== 'string' || !isRecord(row.importTime)) continue;
    const { ratio, handler, baseline, verdict } = row.importTime;
    if (!isRecord(ratio) || !isRecord(handler) || !isRecord(baseline)) continue;
    const value = num(ratio.ratio);
    if (value === undefined) continue;
    const repeats = Array.isArray(ratio.repeats) ? ratio.repeats.flatMap((r) => num(r) ?? []) : [];
    rows.push({
      controlId: row.controlId,
      ratio: value,
      spread: num(ratio.spread) ?? Number.NaN,
      repeats,
      handlerMs: num(handler.ms) ?? Number.NaN,
      baselineMs: num(baseline.ms) ?? Number.NaN,
      samples: Number.NaN,
      verdict: typeof verdict === 'string' ? verdict : '',
    });
  }
  return rows.length === 0
    ? undefined
    : {
        generatedAt: results.generatedAt,
        method: 'lowest 30% of each bundle’s samples, their ratio (the method before pairs)',
        rows,
      };
}

/** (this − before) / before, per control both runs measured. */
export function runToRun(
  current: readonly Pick<ImportRunRow, 'controlId' | 'ratio'>[],
  previous: ImportRun | undefined,
): Map<string, number> {
  const before = new Map((previous?.rows ?? []).map((r) => [r.controlId, r.ratio]));
  const moved = new Map<string, number>();
  for (const row of current) {
    const was = before.get(row.controlId);
    if (was !== undefined && was > 0) moved.set(row.controlId, (row.ratio - was) / was);
  }
  return moved;
}
