/**
 * The remediation pipeline, written once for every control. Each stage is
 * its own module with a small interface; this file takes one delivery, reads
 * it (intake), and hands each of this control's findings, once, to the
 * per-finding flow (handle.ts):
 *
 *   intake ─▶ per finding of this control, once:
 *     trust ─▶ [lease] decide ─▶ act ─▶ deliver ─▶ remember
 *
 * Findings are handled one at a time so that one finding's failure cannot
 * stop the others, and so API pressure stays gentle in a large batch. What
 * does not fit one invocation is handed to another (handon.ts).
 */

import type { Clock } from './clock';
import { systemClock } from './clock';
import type { Provisioned } from './control';
import { NO_DEADLINE } from './deadline';
import { describeError, IncompleteDeliveryError, MalformedEventError } from './errors';
import type { Finding } from './finding';
import {
  createFindingHandler,
  type FindingHandlerDeps,
  type Invocation,
  type PipelineResult,
} from './handle';
import { cannotRequeue, handOnRest } from './handon';
import { readIntake } from './intake';
import type { Intake, IntakeItem } from './intake/types';
import type { OrganizationScope } from './organization';
import {
  type ChangeBudget,
  everyTime,
  type FindingHistory,
  localAccess,
  type MemberAccess,
  noHistory,
  noLease,
  noOutcomeEvents,
  type OnceGuard,
  type OutcomePublisher,
  type Requeue,
  type ResourceLease,
  unlimitedChanges,
} from './ports';
import { type CustomActionArns, onceKey, requestFor } from './request';

export type { Invocation, PipelineResult } from './handle';

/** What {@link createPipeline} fills in when it is not given. */
type Defaulted =
  | 'provisioned'
  | 'events'
  | 'clock'
  | 'lease'
  | 'history'
  | 'requeue'
  | 'organization'
  | 'access'
  | 'budget';

export interface PipelineOptions<State, Before, Params, Clients>
  extends Omit<FindingHandlerDeps<State, Before, Params, Clients>, Defaulted> {
  readonly actions: CustomActionArns;
  /** @default {} */
  readonly provisioned?: Provisioned;
  /** @default noOutcomeEvents */
  readonly events?: OutcomePublisher;
  /** @default everyTime */
  readonly guard?: OnceGuard;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default noLease */
  readonly lease?: ResourceLease;
  /** @default noHistory */
  readonly history?: FindingHistory;
  /** @default a requeue that fails: findings that must be handed on are then retried */
  readonly requeue?: Requeue;
  /**
   * Org mode: the member accounts and regions hubfix may act in.
   * @default undefined — single-account mode
   */
  readonly organization?: OrganizationScope;
  /** @default localAccess(clients): the function's own clients */
  readonly access?: MemberAccess<Clients>;
  /** @default unlimitedChanges */
  readonly budget?: ChangeBudget;
}

export interface BatchResult {
  readonly eventId: string | undefined;
  readonly status: 'processed' | 'rejected';
  readonly handled: readonly PipelineResult[];
  /** Findings that could not be read at all (malformed, unknown): nothing was done with them. */
  readonly rejected: readonly { readonly findingId: string | undefined; readonly error: string }[];
  /** Findings of other controls in the same custom-action event. */
  readonly skipped: number;
  /** Findings already handled (a repeated delivery) or being handled right now. */
  readonly duplicates: number;
  /** Findings handed to another invocation, to keep this one within its time. */
  readonly handedOn: number;
}

type Rejected = { readonly findingId: string | undefined; readonly error: string };

/** What the once-guard keeps of a handled finding: small, and plain JSON. */
function summaryOf({ report }: PipelineResult) {
  const { outcome } = report;
  const changeId =
    outcome.kind === 'REMEDIATED' || outcome.kind === 'FAILED' ? outcome.changeId : undefined;
  return {
    findingId: report.findingId,
    decision: report.decision.kind,
    outcome: outcome.kind,
    ...(changeId ? { changeId } : {}),
  };
}

function undeliveredOf(result: PipelineResult) {
  const { findingUpdate, notification, event, continuation } = result;
  return [findingUpdate, notification, event, continuation].flatMap((status) =>
    status.ok === false ? [{ findingId: result.report.findingId, error: status.error }] : [],
  );
}

export function createPipeline<State, Before, Params, Clients>(
  options: PipelineOptions<State, Before, Params, Clients>,
) {
  const { control, metrics } = options;
  const requeue = options.requeue ?? cannotRequeue;
  const guard = options.guard ?? everyTime;
  const handle = createFindingHandler({
    ...options,
    provisioned: options.provisioned ?? {},
    events: options.events ?? noOutcomeEvents,
    clock: options.clock ?? systemClock,
    lease: options.lease ?? noLease,
    history: options.history ?? noHistory,
    requeue,
    organization: options.organization,
    access: options.access ?? localAccess(options.clients),
    budget: options.budget ?? unlimitedChanges,
  });

  function rejectMalformed(item: Extract<IntakeItem, { ok: false }>): Rejected {
    options.log.error('malformed finding rejected; nothing was changed', {
      findingId: item.findingId,
      error: item.error.message,
    });
    metrics.count('MalformedFinding');
    return { findingId: item.findingId, error: item.error.message };
  }

  /** Fetches findings a request named only by identifiers: Security Hub's copy is the only copy. */
  async function resolve(
    items: readonly IntakeItem[],
    rejected: Rejected[],
  ): Promise<{ readonly finding: Finding; readonly fromSecurityHub: boolean }[]> {
    const resolved: { finding: Finding; fromSecurityHub: boolean }[] = [];
    for (const item of items) {
      if (item.ok === false) {
        rejected.push(rejectMalformed(item));
      } else if (item.ok === true) {
        resolved.push({ finding: item.finding, fromSecurityHub: false });
      } else {
        // A fetch that fails throws: the request is retried rather than lost.
        const finding = await options.findings.fetch(item.lookup);
        if (finding !== undefined) {
          resolved.push({ finding, fromSecurityHub: true });
          continue;
        }
        const name = item.lookup.format === 'asff' ? item.lookup.id : item.lookup.uid;
        options.log.warn('Security Hub does not know a requested finding; nothing was done', {
          findingId: name,
        });
        metrics.count('UnknownFinding');
        rejected.push({ findingId: name, error: 'Security Hub does not know this finding' });
      }
    }
    return resolved;
  }

  function rejectedEvent(error: MalformedEventError): BatchResult {
    options.log.error('malformed event rejected; nothing was changed', { issues: error.issues });
    metrics.count('MalformedEvent');
    return {
      eventId: undefined,
      status: 'rejected',
      handled: [],
      rejected: [],
      skipped: 0,
      duplicates: 0,
      handedOn: 0,
    };
  }

  return {
    /**
     * Handles every finding of this control in the event.
     * @throws IncompleteDeliveryError after handling them all, when any
     * finding could not be written back, announced or handed on, so Lambda
     * retries.
     */
    async processEvent(
      raw: unknown,
      invocation: Invocation = { deadline: NO_DEADLINE, id: 'local' },
    ): Promise<BatchResult> {
      let intake: Intake;
      try {
        intake = readIntake(raw, options.self);
      } catch (error) {
        if (error instanceof MalformedEventError) return rejectedEvent(error);
        throw error;
      }
      const asked = requestFor(intake.trigger, options.actions);
      const handled: PipelineResult[] = [];
      const rejected: Rejected[] = [];
      const failures: { findingId: string; error: string }[] = [];
      let duplicates = 0;

      // A custom action sends every selected finding to every matching
      // rule; the others belong to other controls' functions.
      const resolved = await resolve(intake.findings, rejected);
      const mine = resolved.filter(({ finding }) => finding.controlId === control.id);
      let now: readonly (typeof mine)[number][] = mine;
      let handedOn = 0;
      try {
        const split = await handOnRest(
          requeue,
          intake,
          asked,
          mine,
          control.findingsPerInvocation ?? Number.POSITIVE_INFINITY,
        );
        now = split.now;
        handedOn = split.rest.length;
        if (handedOn > 0) metrics.count('HandedOn');
      } catch (error) {
        options.log.error('could not hand findings to another invocation', {
          error: describeError(error),
        });
        const limit = control.findingsPerInvocation ?? mine.length;
        now = mine.slice(0, limit);
        failures.push(
          ...mine.slice(limit).map(({ finding }) => ({
            findingId: finding.id,
            error: describeError(error),
          })),
        );
      }

      for (const { finding, fromSecurityHub } of now) {
        let result: PipelineResult | undefined;
        try {
          const once = await guard.run(onceKey(intake, finding, asked?.request), async () => {
            result = await handle(intake, finding, asked, fromSecurityHub, invocation);
            const undelivered = undeliveredOf(result);
            // Throwing forgets this run, so the retry handles the finding again.
            if (undelivered.length > 0) throw new IncompleteDeliveryError(undelivered);
            return summaryOf(result);
          });
          if (once.kind === 'ran' && result !== undefined) {
            handled.push(result);
            continue;
          }
          duplicates += 1;
          metrics.count(once.kind === 'replayed' ? 'DuplicateDelivery' : 'DuplicateInProgress');
          options.log.info(
            once.kind === 'replayed'
              ? 'finding already handled; nothing done again'
              : 'finding is being handled by another delivery; nothing done',
            { findingId: finding.id },
          );
        } catch (error) {
          if (error instanceof IncompleteDeliveryError) {
            if (result !== undefined) handled.push(result);
            failures.push(...error.failures);
            continue;
          }
          options.log.error('finding handling failed unexpectedly', {
            findingId: finding.id,
            error: describeError(error),
          });
          metrics.count('Error');
          failures.push({ findingId: finding.id, error: describeError(error) });
        }
      }
      if (failures.length > 0) throw new IncompleteDeliveryError(failures);
      return {
        eventId: intake.eventId,
        status: 'processed',
        handled,
        rejected,
        skipped: resolved.length - mine.length,
        duplicates,
        handedOn,
      };
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
