/**
 * The sweep: page through the deployed controls' failed findings, decide
 * for each what to do (decide.ts), and hand those that need it to their
 * control's function as direct requests. The reconciler runs it on a
 * schedule; `npx hubfix backfill` runs the same sweep with a person's
 * credentials.
 *
 * It works page by page and can stop between pages: its whole position is
 * a `SweepState` (which query, which page, Security Hub's NextToken, the
 * counts so far), so the reconciler hands the state to its next invocation
 * when its time runs short and a sweep of any size fits. Request ids are
 * built from the sweep id and the page's position, so a page handled twice
 * (a redelivered invocation) hands the same requests again, and each
 * control's once-only guard turns the repeat away.
 */
import type { Clock } from '../core/clock';
import type { Log } from '../core/control';
import { type Deadline, hasTimeFor } from '../core/deadline';
import { describeError, isTransient } from '../core/errors';
import { type Finding, findingKey } from '../core/finding';
import {
  DIRECT_REQUEST_MARKER,
  type DirectRequest,
  MAX_FINDINGS_PER_REQUEST,
} from '../core/intake/direct';
import { type DirectOrigin, type FindingLookup, lookupOf } from '../core/intake/types';
import type { FindingHistory, HistoryEntry } from '../core/ports';
import { mapWithLimit } from './concurrency';
import {
  type DecisionLabel,
  decideSweep,
  outOfScope,
  type SweepDecision,
  type SweepScope,
} from './decide';

export type QueryForm = 'security-control-id' | 'product-fields' | 'ocsf';

/** Which accounts a query reads: these, or every account but these. */
export type AccountFilter =
  | { readonly only: readonly string[] }
  | { readonly except: readonly string[] };

/**
 * One query of the sweep: one form of finding, for up to 20 controls, in up
 * to 20 accounts and 20 regions (this deployment's own one of each, or a
 * share of the organization's).
 */
export interface SweepQuery {
  readonly form: QueryForm;
  readonly controls: readonly string[];
  readonly accounts: AccountFilter;
  readonly regions: readonly string[];
}

export type Product = 'asff' | 'ocsf';

export function productOf(query: SweepQuery): Product {
  return query.form === 'ocsf' ? 'ocsf' : 'asff';
}

export const PRODUCT_NAMES: Readonly<Record<Product, string>> = {
  asff: 'Security Hub CSPM (GetFindings)',
  ocsf: 'the new Security Hub (GetFindingsV2)',
};

export type SweptItem =
  | { readonly kind: 'finding'; readonly finding: Finding }
  | { readonly kind: 'unreadable'; readonly findingId: string | undefined; readonly error: string }
  /** Another query of the same sweep returns this finding: counted there. */
  | { readonly kind: 'duplicate' };

export interface SweptPage {
  readonly items: readonly SweptItem[];
  readonly nextToken: string | undefined;
}

export interface SweepSource {
  /** @throws when Security Hub could not be asked. */
  page(query: SweepQuery, nextToken: string | undefined): Promise<SweptPage>;
}

/** Hands a direct request to a control's function. */
export interface Handoff {
  /** @throws RequeueError when the request could not be handed on. */
  hand(controlId: string, request: DirectRequest): Promise<void>;
}

export type DecisionCounts = Partial<Record<DecisionLabel, number>>;

export interface SkippedProduct {
  readonly product: Product;
  readonly reason: string;
}

export interface SweepTally {
  readonly pages: number;
  /** Findings read and parsed, whatever was decided. */
  readonly findings: number;
  /** Findings Security Hub returned that hubfix cannot read: logged, never acted on. */
  readonly unreadable: number;
  /** Findings whose history could not be read: left for the next sweep. */
  readonly historyUnreadable: number;
  /** Decisions per control. */
  readonly byControl: Readonly<Record<string, DecisionCounts>>;
  /** Findings handed to the controls' functions, and in how many requests. */
  readonly handed: number;
  readonly requests: number;
  /** Findings whose request could not be handed on: the next sweep tries again. */
  readonly handFailed: number;
  /** Products the sweep could not read (not enabled, not allowed), and why. */
  readonly skipped: readonly SkippedProduct[];
}

export interface SweepState {
  /** The same for every invocation of one sweep, and for a redelivery of one. */
  readonly sweepId: string;
  readonly startedAt: string;
  /** Which invocation of the sweep this is, from 0. */
  readonly step: number;
  /** The query being read, and the page of it next to read. */
  readonly query: number;
  readonly page: number;
  /** Security Hub's token for that page; none for a query's first page. */
  readonly nextToken?: string | undefined;
  readonly tally: SweepTally;
}

export type SweepRun =
  | { readonly kind: 'finished'; readonly state: SweepState }
  /** Out of time: hand `state` to another invocation. */
  | { readonly kind: 'paused'; readonly state: SweepState }
  /** Security Hub could not be read even after backing off: the next sweep starts over. */
  | { readonly kind: 'stopped'; readonly state: SweepState; readonly reason: string };

export interface SweepLimits {
  /** Time a page needs (read, histories, hand-ons), kept back from the deadline. */
  readonly pageReserveMs: number;
  readonly historyConcurrency: number;
  readonly handoffConcurrency: number;
  /** Waits when Security Hub still throttles after the SDK's own retries. */
  readonly backoffMs: readonly number[];
}

export const DEFAULT_LIMITS: SweepLimits = {
  pageReserveMs: 30_000,
  historyConcurrency: 10,
  handoffConcurrency: 4,
  backoffMs: [2_000, 4_000, 8_000, 16_000],
};

export interface SweepDeps {
  readonly source: SweepSource;
  readonly history: Pick<FindingHistory, 'get'>;
  /** Undefined for a plan: decide and count, hand nothing on. */
  readonly handoff: Handoff | undefined;
  readonly origin: DirectOrigin;
  /** Who asked, for a person's sweep. */
  readonly by?: string;
  readonly queries: readonly SweepQuery[];
  readonly scope: SweepScope;
  readonly graceMs: number;
  readonly clock: Clock;
  readonly deadline: Deadline;
  readonly log: Log;
  readonly limits?: Partial<SweepLimits>;
  /** After each page (the CLI's progress line). */
  readonly onPage?: (state: SweepState) => void;
  /** For each finding read (the CLI's --list). */
  readonly onDecision?: (finding: Finding, decision: SweepDecision) => void;
}

export function emptyTally(): SweepTally {
  return {
    pages: 0,
    findings: 0,
    unreadable: 0,
    historyUnreadable: 0,
    byControl: {},
    handed: 0,
    requests: 0,
    handFailed: 0,
    skipped: [],
  };
}

export function startSweep(sweepId: string, startedAt: Date): SweepState {
  return {
    sweepId,
    startedAt: startedAt.toISOString(),
    step: 0,
    query: 0,
    page: 0,
    nextToken: undefined,
    tally: emptyTally(),
  };
}

/** Errors that say the product is not there for this account (not enabled, not allowed). */
const UNAVAILABLE = new Set(['AccessDeniedException', 'InvalidAccessException']);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Handed {
  readonly controlId: string;
  readonly request: 'imported' | 'reconcile';
  /** Which request of this control and kind, on this page. */
  readonly part: number;
  readonly lookups: readonly FindingLookup[];
}

/** Groups what a page hands on by control and request, at most 100 findings a request. */
function requestsOf(
  handed: readonly { finding: Finding; decision: Extract<SweepDecision, { kind: 'hand' }> }[],
): Handed[] {
  const groups = new Map<
    string,
    { controlId: string; request: Handed['request']; lookups: FindingLookup[] }
  >();
  for (const { finding, decision } of handed) {
    const controlId = finding.controlId ?? '';
    const key = `${controlId}|${decision.request}`;
    const group = groups.get(key) ?? { controlId, request: decision.request, lookups: [] };
    group.lookups.push(lookupOf(finding.ref));
    groups.set(key, group);
  }
  const out: Handed[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.lookups.length; i += MAX_FINDINGS_PER_REQUEST) {
      out.push({
        ...group,
        part: i / MAX_FINDINGS_PER_REQUEST,
        lookups: group.lookups.slice(i, i + MAX_FINDINGS_PER_REQUEST),
      });
    }
  }
  return out;
}

export async function runSweep(deps: SweepDeps, from: SweepState): Promise<SweepRun> {
  const limits: SweepLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const { log, clock } = deps;
  let query = from.query;
  let page = from.page;
  let nextToken = from.nextToken;
  const { byControl: fromControls, skipped: fromSkipped, ...counts } = from.tally;
  const tally: Mutable<Omit<SweepTally, 'byControl' | 'skipped'>> = { ...counts };
  const byControl: Record<string, DecisionCounts> = Object.fromEntries(
    Object.entries(fromControls).map(([control, decided]) => [control, { ...decided }]),
  );
  const skipped: SkippedProduct[] = [...fromSkipped];
  const state = (): SweepState => ({
    ...from,
    query,
    page,
    nextToken,
    tally: {
      ...tally,
      byControl: Object.fromEntries(
        Object.entries(byControl).map(([control, decided]) => [control, { ...decided }]),
      ),
      skipped: [...skipped],
    },
  });
  const skippedProduct = (q: SweepQuery) => skipped.some((s) => s.product === productOf(q));
  const nextQuery = () => {
    query += 1;
    page = 0;
    nextToken = undefined;
  };

  /** One page, retrying throttling with backoff while the deadline allows. */
  async function read(q: SweepQuery): Promise<SweptPage> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await deps.source.page(q, nextToken);
      } catch (error) {
        const wait = limits.backoffMs[attempt];
        if (
          !isTransient(error) ||
          wait === undefined ||
          !hasTimeFor(deps.deadline, wait + limits.pageReserveMs)
        ) {
          throw error;
        }
        log.warn('Security Hub is throttling the sweep; backing off', {
          waitMs: wait,
          error: describeError(error),
        });
        await clock.sleep(wait);
      }
    }
  }

  async function historyOf(
    finding: Finding,
  ): Promise<{ ok: true; entry: HistoryEntry | undefined } | { ok: false }> {
    // Another account's or control's finding is decided without it (and its key is not ours to read).
    if (outOfScope(finding, deps.scope) !== undefined) return { ok: true, entry: undefined };
    try {
      return {
        ok: true,
        entry: await deps.history.get(finding.controlId ?? '', findingKey(finding.ref)),
      };
    } catch (error) {
      log.warn('finding history could not be read; the finding is left for the next sweep', {
        findingId: finding.id,
        error: describeError(error),
      });
      return { ok: false };
    }
  }

  async function handOn(q: number, p: number, requests: readonly Handed[]): Promise<void> {
    const handoff = deps.handoff;
    if (handoff === undefined) return;
    await mapWithLimit(requests, limits.handoffConcurrency, async (r) => {
      const request: DirectRequest = {
        type: DIRECT_REQUEST_MARKER,
        // The same for the same page of the same sweep: a redelivery is turned away.
        requestId: `${deps.origin}-${from.sweepId}-${q}.${p}-${r.controlId}-${r.request}-${r.part}`,
        request: r.request,
        origin: deps.origin,
        ...(deps.by ? { by: deps.by } : {}),
        findings: r.lookups,
      };
      try {
        await handoff.hand(r.controlId, request);
        tally.handed += r.lookups.length;
        tally.requests += 1;
      } catch (error) {
        log.error('could not hand findings to their control; the next sweep tries again', {
          control: r.controlId,
          findings: r.lookups.length,
          error: describeError(error),
        });
        tally.handFailed += r.lookups.length;
      }
    });
  }

  while (query < deps.queries.length) {
    const q = deps.queries[query];
    if (q === undefined || skippedProduct(q)) {
      nextQuery();
      continue;
    }
    if (!hasTimeFor(deps.deadline, limits.pageReserveMs)) return { kind: 'paused', state: state() };
    let answer: SweptPage;
    try {
      answer = await read(q);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (UNAVAILABLE.has(name)) {
        const reason = describeError(error);
        log.warn('a Security Hub product cannot be read; the sweep skips it', {
          product: PRODUCT_NAMES[productOf(q)],
          error: reason,
        });
        skipped.push({ product: productOf(q), reason });
        nextQuery();
        continue;
      }
      if (isTransient(error) && !hasTimeFor(deps.deadline, limits.pageReserveMs)) {
        return { kind: 'paused', state: state() };
      }
      log.error('the sweep could not read Security Hub and stops here', {
        error: describeError(error),
      });
      return {
        kind: 'stopped',
        state: state(),
        reason: `${PRODUCT_NAMES[productOf(q)]} failed: ${describeError(error)}`,
      };
    }

    tally.pages += 1;
    const findings: Finding[] = [];
    for (const item of answer.items) {
      if (item.kind === 'duplicate') continue;
      if (item.kind === 'unreadable') {
        tally.unreadable += 1;
        log.warn('Security Hub returned a finding hubfix cannot read; nothing was done with it', {
          findingId: item.findingId,
          error: item.error,
        });
        continue;
      }
      findings.push(item.finding);
    }
    tally.findings += findings.length;
    const now = new Date(clock.now());
    const histories = await mapWithLimit(findings, limits.historyConcurrency, historyOf);
    const handed: { finding: Finding; decision: Extract<SweepDecision, { kind: 'hand' }> }[] = [];
    for (const [index, finding] of findings.entries()) {
      const history = histories[index];
      if (history === undefined || !history.ok) {
        tally.historyUnreadable += 1;
        continue;
      }
      const decision = decideSweep({
        finding,
        history: history.entry,
        now,
        graceMs: deps.graceMs,
        scope: deps.scope,
      });
      const control = finding.controlId ?? '(none)';
      const counts = byControl[control] ?? {};
      counts[decision.why] = (counts[decision.why] ?? 0) + 1;
      byControl[control] = counts;
      deps.onDecision?.(finding, decision);
      if (decision.kind === 'hand') handed.push({ finding, decision });
    }
    await handOn(query, page, requestsOf(handed));

    if (answer.nextToken === undefined) {
      nextQuery();
    } else {
      page += 1;
      nextToken = answer.nextToken;
    }
    deps.onPage?.(state());
  }
  return { kind: 'finished', state: state() };
}
