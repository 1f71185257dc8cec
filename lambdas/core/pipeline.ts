/**
 * The remediation pipeline, written once for every control. Each stage is
 * its own module with a small interface; this file only runs them in order:
 *
 *   intake ─▶ per finding of this control, once:
 *     trust (event checks, then Security Hub's own copy)
 *     ─▶ [lease on control + resource, when the finding could change it]
 *        decide (live state + tags ─▶ pure policy) ─▶ act
 *     ─▶ deliver (finding, SNS, outcome event, metrics, log) ─▶ history
 *
 * Findings are handled one at a time so that one finding's failure cannot
 * stop the others, and so API pressure stays gentle in a large batch. What
 * does not fit one invocation is handed to another (`Requeue`).
 */
import { type ChangeRecorder, createActor, type MetricsPort } from './act';
import { type FindingStore, lookupOf } from './adapters/security-hub';
import type { Notifier } from './adapters/sns';
import { type Clock, systemClock } from './clock';
import type { Control, FindingContext, Log, Provisioned } from './control';
import { type Deadline, NO_DEADLINE } from './deadline';
import { decideFor, readLive } from './decide';
import {
  createDelivery,
  type HandledFinding,
  noOutcomeEvents,
  type OutcomePublisher,
} from './deliver';
import {
  describeError,
  IncompleteDeliveryError,
  MalformedEventError,
  RequeueError,
} from './errors';
import { type Finding, findingKey } from './finding';
import { readIntake } from './intake';
import { DIRECT_REQUEST_MARKER, type DirectRequest } from './intake/direct';
import type { DirectRequestKind, Intake, IntakeItem, Trigger } from './intake/types';
import { leaseKey, noLease, type ResourceLease, withLease } from './lease';
import {
  driftOf,
  type FindingHistory,
  type HistoryEntry,
  nextHistory,
  noHistory,
} from './lifecycle';
import { type Decision, mayChange, type Request, screen } from './policy';
import type { DeliveryStatus, Drift, FindingReport, Outcome, Via } from './report';
import type { RuntimeSettings } from './settings';
import { assessTrust, type Confirmation, confirmFinding, type Identity } from './trust';

export type { ChangeRecord, ChangeRecorder, ChangeResult, MetricsPort } from './act';
export type { HandledFinding } from './deliver';

export type OnceResult<T> =
  | { readonly kind: 'ran' | 'replayed'; readonly value: T }
  /** The same work is running elsewhere right now; this delivery does nothing. */
  | { readonly kind: 'in-progress' };

/**
 * Runs work once per key. A repeat gets the first run's result; when the work
 * throws, nothing is remembered, so a retry runs it again.
 */
export interface OnceGuard {
  run<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>>;
  /** Lets in-progress records expire with the invocation that holds them. */
  registerLambdaContext?(context: { getRemainingTimeInMillis(): number }): void;
}

/** For tests and tools that want every delivery handled. */
export const everyTime: OnceGuard = {
  async run(_key, work) {
    return { kind: 'ran', value: await work() };
  },
};

/** Hands findings to another invocation of this function. */
export interface Requeue {
  /** @throws RequeueError when the request could not be handed on. */
  send(request: DirectRequest): Promise<void>;
}

const cannotRequeue: Requeue = {
  async send() {
    throw new RequeueError('this pipeline has no way to hand findings to another invocation');
  },
};

export interface CustomActionArns {
  readonly remediate: string;
  readonly plan: string;
}

export interface PipelineOptions<State, Before, Params, Clients> {
  readonly control: Control<State, Before, Params, Clients>;
  readonly settings: RuntimeSettings<Params>;
  readonly clients: Clients;
  readonly self: Identity;
  readonly actions: CustomActionArns;
  /** @default {} */
  readonly provisioned?: Provisioned;
  readonly findings: FindingStore;
  readonly notifier: Notifier;
  /** @default noOutcomeEvents */
  readonly events?: OutcomePublisher;
  readonly recorder: ChangeRecorder;
  readonly log: Log;
  readonly metrics: MetricsPort;
  readonly newChangeId: () => string;
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
}

/** One invocation of the function. */
export interface Invocation {
  readonly deadline: Deadline;
  /** Lambda's request id: who holds a lease. */
  readonly id: string;
}

export interface PipelineResult extends HandledFinding {
  /** Handing the rest of a partial fix to another invocation, when there was a rest. */
  readonly continuation: DeliveryStatus;
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

/** What the once-guard keeps of a handled finding: small, and plain JSON. */
interface HandledSummary {
  readonly findingId: string;
  readonly decision: string;
  readonly outcome: string;
  readonly changeId?: string;
}

/** Adds the finding's identity to every log line of one finding's handling. */
function logFor(log: Log, keys: Record<string, unknown>): Log {
  return {
    debug: (message, ...extra) => log.debug(message, keys, ...extra),
    info: (message, ...extra) => log.info(message, keys, ...extra),
    warn: (message, ...extra) => log.warn(message, keys, ...extra),
    error: (message, ...extra) => log.error(message, keys, ...extra),
  };
}

/** The request a trigger makes, and how it came; undefined for a custom action that is not hubfix's. */
export function requestFor(
  trigger: Trigger,
  actions: CustomActionArns,
): { readonly request: Request; readonly via: Via } | undefined {
  switch (trigger.kind) {
    case 'imported':
      return { request: 'imported', via: 'security-hub' };
    case 'custom-action':
      if (trigger.actionArn === actions.remediate) {
        return { request: 'remediate-action', via: 'console' };
      }
      if (trigger.actionArn === actions.plan) return { request: 'plan-action', via: 'console' };
      return undefined;
    case 'direct': {
      const request: Record<DirectRequestKind, Request> = {
        remediate: 'remediate-action',
        plan: 'plan-action',
        imported: 'imported',
        reconcile: 'reconciled',
      };
      return { request: request[trigger.request], via: trigger.origin };
    }
  }
}

function directKindOf(request: Request): DirectRequestKind {
  const kinds: Record<Request, DirectRequestKind> = {
    imported: 'imported',
    reconciled: 'reconcile',
    'remediate-action': 'remediate',
    'plan-action': 'plan',
  };
  return kinds[request];
}

/**
 * What makes two deliveries "the same": the finding as of its last update,
 * and the request. A person's request adds its event id, so that choosing
 * Remediate again is a new request while EventBridge redelivering the same
 * event is not.
 */
export function onceKey(
  intake: Pick<Intake, 'eventId' | 'trigger'>,
  finding: Finding,
  request: Request | undefined,
): string {
  const parts = [finding.id, finding.updatedAt, request ?? 'unknown-action'];
  if (intake.trigger.kind !== 'imported') parts.push(intake.eventId);
  return parts.join('|');
}

export function createPipeline<State, Before, Params, Clients>(
  options: PipelineOptions<State, Before, Params, Clients>,
) {
  const { control, settings, self, metrics } = options;
  const clock = options.clock ?? systemClock;
  const lease = options.lease ?? noLease;
  const history = options.history ?? noHistory;
  const requeue = options.requeue ?? cannotRequeue;
  const notifyOnly = settings.notifyOnly || control.notifyOnly;
  const actor = createActor({
    control,
    recorder: options.recorder,
    newChangeId: options.newChangeId,
    metrics,
  });
  const deliver = createDelivery({
    findings: options.findings,
    notifier: options.notifier,
    events: options.events ?? noOutcomeEvents,
    metrics,
    tags: settings.tags,
  });

  async function readHistory(finding: Finding, log: Log): Promise<HistoryEntry | undefined> {
    try {
      return await history.get(control.id, findingKey(finding.ref));
    } catch (error) {
      // Without it, drift looks like a first fix: nothing unsafe, only less said.
      log.warn('finding history could not be read', { error: describeError(error) });
      return undefined;
    }
  }

  async function handleFinding(
    intake: Intake,
    finding: Finding,
    asked: { readonly request: Request; readonly via: Via } | undefined,
    fromSecurityHub: boolean,
    invocation: Invocation,
  ): Promise<PipelineResult> {
    const log = logFor(options.log, { findingId: finding.id, control: control.id });
    const request = asked?.request ?? 'imported';
    const assess = (copy: Finding) =>
      assessTrust({
        event: intake,
        finding: copy,
        request,
        controlId: control.id,
        resourceSpec: control.resource,
        self,
      });
    const trust = assess(finding);
    const named =
      finding.resources.find((r) => control.resource.types.includes(r.type)) ??
      finding.resources[0];
    const resourceRaw = trust.resource?.raw ?? named?.id ?? '(none)';
    let report: Omit<FindingReport, 'decision' | 'outcome' | 'drift'> = {
      findingId: finding.id,
      ref: finding.ref,
      controlId: control.id,
      controlTitle: control.title,
      severity: finding.severity,
      account: trust.resource?.account ?? self.account,
      region: trust.resource?.region ?? self.region,
      resourceType: trust.resource?.type ?? named?.type ?? '(none)',
      resource: resourceRaw,
      resourceId: trust.resource?.id ?? resourceRaw,
      request,
      via: asked?.via ?? 'security-hub',
      automatic: !notifyOnly,
      confirmation: { confirmed: true },
      workflowBefore: finding.workflowStatus,
    };
    let previous: HistoryEntry | undefined;
    const finish = async (
      decision: Decision,
      outcome: Outcome,
      drift?: Drift,
    ): Promise<PipelineResult> => {
      const full: FindingReport = { ...report, decision, outcome, drift };
      const handled = await deliver(full, log);
      metrics.count(outcome.kind);
      if (drift) metrics.count('Drift');
      log[outcome.kind === 'FAILED' ? 'error' : 'info']('finding handled', {
        decision: decision.kind,
        outcome: outcome.kind,
        reason: decision.reason,
        resource: full.resource,
        workflow: handled.workflow.write
          ? (handled.workflow.workflow ?? 'unchanged')
          : 'not written',
        findingUpdate: handled.findingUpdate,
        notification: handled.notification,
        event: handled.event,
      });
      if (handled.workflow.write) await remember(full, handled, log);
      return { ...handled, continuation: await continueIfPartial(full, log) };
    };
    const remember = async (full: FindingReport, handled: HandledFinding, log: Log) => {
      try {
        await history.put(
          control.id,
          findingKey(full.ref),
          nextHistory(previous, full, handled.workflow, new Date(clock.now()).toISOString()),
        );
      } catch (error) {
        log.warn('finding history could not be written', { error: describeError(error) });
        metrics.count('HistoryWriteFailed');
      }
    };

    if (asked === undefined) {
      const decision: Decision = {
        kind: 'IGNORE',
        reason: 'the custom action is not one of hubfix\'s ("Remediate" or "Plan")',
      };
      return finish(decision, { kind: 'IGNORED', reason: decision.reason });
    }
    const screened = screen({ trust, mode: settings.mode });
    if (!trust.ok) log.warn('finding refused', { reason: trust.reason });
    if (screened) return finish(screened, { kind: 'IGNORED', reason: screened.reason });
    if (!trust.ok) throw new Error('screen() let an untrusted finding through');

    const confirmation: Confirmation = fromSecurityHub
      ? { kind: 'confirmed', finding, resource: trust.resource }
      : await confirmFinding({
          store: options.findings,
          finding,
          resource: trust.resource,
          assess,
        });
    if (confirmation.kind === 'refused') {
      log.warn('Security Hub did not confirm the finding; nothing was done', {
        reason: confirmation.reason,
      });
      const decision: Decision = { kind: 'IGNORE', reason: confirmation.reason };
      return finish(decision, { kind: 'IGNORED', reason: confirmation.reason });
    }
    if (confirmation.kind === 'unconfirmed') {
      log.warn('Security Hub could not be asked to confirm the finding', {
        reason: confirmation.reason,
      });
      report = { ...report, confirmation: { confirmed: false, reason: confirmation.reason } };
    } else {
      report = { ...report, workflowBefore: confirmation.finding.workflowStatus };
    }
    const current = confirmation.kind === 'confirmed' ? confirmation.finding : finding;
    const resource = confirmation.kind === 'confirmed' ? confirmation.resource : trust.resource;
    const ctx: FindingContext<Clients, Params> = {
      clients: options.clients,
      params: settings.params,
      finding: current,
      log,
      provisioned: options.provisioned ?? {},
      deadline: invocation.deadline,
      clock,
    };
    previous = await readHistory(current, log);

    const decideAndAct = async (): Promise<{
      decision: Decision;
      outcome: Outcome;
      drift?: Drift;
    }> => {
      const live = await readLive(control, resource, ctx);
      const decision = decideFor({
        live,
        settings,
        notifyOnly,
        request,
        resource,
        now: new Date(clock.now()),
      });
      const drift =
        live.kind === 'found' &&
        (decision.kind === 'REMEDIATE' || decision.kind === 'NOTIFY' || decision.kind === 'PLAN')
          ? driftOf(previous, () => control.plan(live.state, ctx).kind === 'change', live.tags)
          : undefined;
      const outcome = await actor.act({
        decision,
        live,
        ctx,
        resource,
        confirmed: confirmation.kind === 'confirmed',
        drift,
        maxFixes: 1 + settings.maxDriftFixes,
      });
      return { decision, outcome, drift };
    };

    if (!mayChange({ mode: settings.mode, request, notifyOnly, dryRun: settings.dryRun })) {
      const { decision, outcome, drift } = await decideAndAct();
      return finish(decision, outcome, drift);
    }
    const held = await withLease(
      {
        lease,
        key: leaseKey(control.id, resource),
        holder: `${invocation.id}:${findingKey(current.ref)}`,
        clock,
        deadline: invocation.deadline,
        onReleaseError: (error) =>
          log.warn('lease could not be released; it expires on its own', {
            error: describeError(error),
          }),
      },
      decideAndAct,
    );
    if (held.kind === 'busy') {
      const reason = `another hubfix invocation is changing ${resource.id} right now (waited ${Math.round(held.waitedMs / 1000)} s)`;
      metrics.count('LeaseBusy');
      return finish({ kind: 'DEFER', reason }, { kind: 'DEFERRED', reason });
    }
    if (held.waitedMs > 0) log.info('waited for the lease on the resource', { ms: held.waitedMs });
    return finish(held.value.decision, held.value.outcome, held.value.drift);
  }

  /** A fix that covered only part of the resource hands the finding on for the next part. */
  async function continueIfPartial(
    report: FindingReport,
    log: Log,
  ): Promise<PipelineResult['continuation']> {
    const { outcome } = report;
    if (outcome.kind !== 'REMEDIATED' || outcome.plan.remaining === undefined) {
      return { ok: 'skipped' };
    }
    try {
      await requeue.send({
        type: DIRECT_REQUEST_MARKER,
        requestId: `${outcome.changeId}-next`,
        request: directKindOf(report.request),
        origin: 'requeue',
        findings: [lookupOf(report.ref)],
      });
      log.info('handed the rest of the fix to another invocation', {
        remaining: outcome.plan.remaining,
      });
      return { ok: true };
    } catch (error) {
      log.error('could not hand the rest of the fix on', { error: describeError(error) });
      metrics.count('RequeueFailed');
      return { ok: false, error: describeError(error) };
    }
  }

  function rejectMalformed(item: Extract<IntakeItem, { ok: false }>) {
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
    rejected: { findingId: string | undefined; error: string }[],
  ): Promise<{ finding: Finding; fromSecurityHub: boolean }[]> {
    const resolved: { finding: Finding; fromSecurityHub: boolean }[] = [];
    for (const item of items) {
      if (item.ok === false) {
        rejected.push(rejectMalformed(item));
      } else if (item.ok === true) {
        resolved.push({ finding: item.finding, fromSecurityHub: false });
      } else {
        // A fetch that fails throws: the request is retried rather than lost.
        const finding = await options.findings.fetch(item.lookup);
        const name = item.lookup.format === 'asff' ? item.lookup.id : item.lookup.uid;
        if (finding === undefined) {
          options.log.warn('Security Hub does not know a requested finding; nothing was done', {
            findingId: name,
          });
          metrics.count('UnknownFinding');
          rejected.push({ findingId: name, error: 'Security Hub does not know this finding' });
        } else {
          resolved.push({ finding, fromSecurityHub: true });
        }
      }
    }
    return resolved;
  }

  async function handOn(
    intake: Intake,
    asked: { readonly request: Request } | undefined,
    rest: readonly Finding[],
  ): Promise<void> {
    if (rest.length === 0 || asked === undefined) return;
    await requeue.send({
      type: DIRECT_REQUEST_MARKER,
      // The same for a redelivery of this event, so the rest is not handled twice.
      requestId: `${intake.eventId}-rest`,
      request: directKindOf(asked.request),
      origin: 'requeue',
      findings: rest.map((finding) => lookupOf(finding.ref)),
    });
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
        intake = readIntake(raw, self);
      } catch (error) {
        if (!(error instanceof MalformedEventError)) throw error;
        options.log.error('malformed event rejected; nothing was changed', {
          issues: error.issues,
        });
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
      const asked = requestFor(intake.trigger, options.actions);
      const handled: PipelineResult[] = [];
      const rejected: { findingId: string | undefined; error: string }[] = [];
      const failures: { findingId: string; error: string }[] = [];
      let duplicates = 0;
      const guard = options.guard ?? everyTime;

      const resolved = await resolve(intake.findings, rejected);
      // A custom action sends every selected finding to every matching
      // rule; the others belong to other controls' functions.
      const mine = resolved.filter(({ finding }) => finding.controlId === control.id);
      const skipped = resolved.length - mine.length;
      const limit = control.findingsPerInvocation ?? Number.POSITIVE_INFINITY;
      const now = mine.slice(0, limit);
      const rest = mine.slice(limit).map(({ finding }) => finding);
      try {
        await handOn(intake, asked, rest);
        if (rest.length > 0) metrics.count('HandedOn');
      } catch (error) {
        options.log.error('could not hand findings to another invocation', {
          error: describeError(error),
        });
        failures.push(
          ...rest.map((finding) => ({ findingId: finding.id, error: describeError(error) })),
        );
      }

      for (const { finding, fromSecurityHub } of now) {
        let result: PipelineResult | undefined;
        try {
          const once = await guard.run(onceKey(intake, finding, asked?.request), async () => {
            result = await handleFinding(intake, finding, asked, fromSecurityHub, invocation);
            const { report, findingUpdate, notification, event, continuation } = result;
            const undelivered = [findingUpdate, notification, event, continuation].flatMap(
              (status) =>
                status.ok === false ? [{ findingId: finding.id, error: status.error }] : [],
            );
            // Throwing forgets this run, so the retry handles the finding again.
            if (undelivered.length > 0) throw new IncompleteDeliveryError(undelivered);
            const outcome = report.outcome;
            const changeId =
              outcome.kind === 'REMEDIATED' || outcome.kind === 'FAILED'
                ? outcome.changeId
                : undefined;
            const summary: HandledSummary = {
              findingId: report.findingId,
              decision: report.decision.kind,
              outcome: outcome.kind,
              ...(changeId ? { changeId } : {}),
            };
            return summary;
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
        skipped,
        duplicates,
        handedOn: rest.length,
      };
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
