/**
 * What `npx hubfix report` says about a period, computed from ledger entries
 * alone (pure, so the HTML and Markdown renderings share one set of numbers).
 */
import {
  CHANGE_STATUSES,
  type ChangeStatus,
  type LedgerEntry,
  ROLLBACK_OUTCOMES,
  type RollbackAttempt,
} from '../../lambdas/core/ledger-entry';

export type StatusCounts = Readonly<Record<ChangeStatus, number>>;

export interface Period {
  readonly since: Date;
  readonly until: Date;
}

export interface ControlRow {
  readonly controlId: string;
  readonly counts: StatusCounts;
  readonly total: number;
}

export interface Bucket {
  /** The bucket's first day, YYYY-MM-DD (UTC). */
  readonly start: string;
  readonly counts: StatusCounts;
  readonly total: number;
}

export interface TimedChange {
  readonly entry: LedgerEntry;
  readonly seconds: number;
}

export interface RollbackRow {
  readonly entry: LedgerEntry;
  readonly attempt: RollbackAttempt;
}

/**
 * A fix that was later undone outside hubfix: the pipeline marks the
 * earlier change's ledger entry when it sees the resource changed back
 * ({@link driftOf} reads the mark).
 */
export interface DriftRow {
  readonly entry: LedgerEntry;
  readonly detectedAt: string;
  readonly detail: string;
}

/** An owner's suppression: its reason and when it lapses. */
export interface SuppressionRow {
  readonly resource: string;
  readonly controlId: string;
  readonly reason: string;
  readonly expires: string | undefined;
}

export interface Report {
  readonly period: Period;
  readonly generatedAt: Date;
  readonly total: number;
  readonly counts: StatusCounts;
  readonly byControl: readonly ControlRow[];
  /** `day` for periods up to 92 days, else `week` (buckets start on Mondays). */
  readonly bucket: 'day' | 'week';
  readonly timeline: readonly Bucket[];
  /** Seconds from the before-state being recorded to the result; finished changes only. */
  readonly duration:
    | { readonly median: number; readonly p90: number; readonly max: number }
    | undefined;
  readonly slowest: readonly TimedChange[];
  readonly failed: readonly LedgerEntry[];
  readonly rollbacks: readonly RollbackRow[];
  readonly rollbackCounts: Readonly<Record<RollbackAttempt['outcome'], number>>;
  /** Undefined when no change of the period drifted. */
  readonly drift: readonly DriftRow[] | undefined;
  /** Undefined while the ledger records no suppressions at all. */
  readonly suppressions: readonly SuppressionRow[] | undefined;
}

const DAY_MS = 86_400_000;
/** Longest period still charted per day. */
const DAILY_UP_TO_DAYS = 92;
export const SLOWEST_SHOWN = 10;

function zero(): Record<ChangeStatus, number> {
  return Object.fromEntries(CHANGE_STATUSES.map((s) => [s, 0])) as Record<ChangeStatus, number>;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function bucketStart(date: Date, bucket: 'day' | 'week'): string {
  if (bucket === 'day') return day(date);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const sinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
  return day(new Date(midnight - sinceMonday * DAY_MS));
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? 0;
}

export function secondsTaken(entry: LedgerEntry): number | undefined {
  if (!entry.completedAt) return undefined;
  const seconds = (Date.parse(entry.completedAt) - Date.parse(entry.createdAt)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The drift mark of an entry: when it changed back, what, and who owns the resource. */
export function driftOf(entry: LedgerEntry): DriftRow | undefined {
  const { drift } = entry;
  if (!drift) return undefined;
  return {
    entry,
    detectedAt: drift.detectedAt,
    detail: `${drift.changedBack}${drift.owner ? `; owned by ${drift.owner}` : ''}`,
  };
}

/** Suppressions live on findings, not in the ledger, which records changes only. */
export function suppressionsOf(_entries: readonly LedgerEntry[]): SuppressionRow[] | undefined {
  return undefined;
}

export function buildReport(
  entries: readonly LedgerEntry[],
  period: Period,
  generatedAt: Date,
): Report {
  const inPeriod = entries.filter((e) => {
    const at = Date.parse(e.createdAt);
    return at >= period.since.getTime() && at < period.until.getTime();
  });
  const counts = zero();
  const perControl = new Map<string, Record<ChangeStatus, number>>();
  const bucket =
    (period.until.getTime() - period.since.getTime()) / DAY_MS <= DAILY_UP_TO_DAYS ? 'day' : 'week';
  const perBucket = new Map<string, Record<ChangeStatus, number>>();
  // Every bucket of the period, the partial last one included, so quiet days show as gaps.
  const last = bucketStart(new Date(period.until.getTime() - 1), bucket);
  for (let t = period.since.getTime(); ; t += DAY_MS) {
    const start = bucketStart(new Date(t), bucket);
    if (!perBucket.has(start)) perBucket.set(start, zero());
    if (start >= last) break;
  }
  for (const entry of inPeriod) {
    counts[entry.status] += 1;
    const control = perControl.get(entry.controlId) ?? zero();
    control[entry.status] += 1;
    perControl.set(entry.controlId, control);
    const start = bucketStart(new Date(entry.createdAt), bucket);
    const inBucket = perBucket.get(start) ?? zero();
    inBucket[entry.status] += 1;
    perBucket.set(start, inBucket);
  }
  const sum = (c: StatusCounts) => CHANGE_STATUSES.reduce((n, s) => n + c[s], 0);

  const timed = inPeriod.flatMap((entry) => {
    const seconds = secondsTaken(entry);
    return seconds === undefined ? [] : [{ entry, seconds }];
  });
  const sortedSeconds = timed.map((t) => t.seconds).sort((a, b) => a - b);

  const rollbacks = inPeriod
    .flatMap((entry) => entry.rollbacks.map((attempt) => ({ entry, attempt })))
    .sort((a, b) => b.attempt.at.localeCompare(a.attempt.at));
  const rollbackCounts = Object.fromEntries(ROLLBACK_OUTCOMES.map((o) => [o, 0])) as Record<
    RollbackAttempt['outcome'],
    number
  >;
  for (const { attempt } of rollbacks) rollbackCounts[attempt.outcome] += 1;

  const drift = inPeriod.flatMap((entry) => {
    const row = driftOf(entry);
    return row ? [row] : [];
  });

  return {
    period,
    generatedAt,
    total: inPeriod.length,
    counts,
    byControl: [...perControl.entries()]
      .map(([controlId, c]) => ({ controlId, counts: c, total: sum(c) }))
      .sort((a, b) => b.total - a.total || a.controlId.localeCompare(b.controlId)),
    bucket,
    timeline: [...perBucket.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([start, c]) => ({ start, counts: c, total: sum(c) })),
    duration:
      sortedSeconds.length === 0
        ? undefined
        : {
            median: percentile(sortedSeconds, 0.5),
            p90: percentile(sortedSeconds, 0.9),
            max: sortedSeconds.at(-1) ?? 0,
          },
    slowest: [...timed].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST_SHOWN),
    failed: inPeriod
      .filter((e) => e.status === 'FAILED')
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    rollbacks,
    rollbackCounts,
    drift: drift.length > 0 ? drift : undefined,
    suppressions: suppressionsOf(inPeriod),
  };
}

/** "1.2 s", "3 min 20 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
