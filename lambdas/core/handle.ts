/**
 * One finding, start to end: trust ─▶ [lease] decide ─▶ act ─▶ deliver ─▶
 * remember, and hand the finding on when its fix covered only a part.
 * Each step is a stage module; this file only runs them in order and keeps
 * what every step needs to know about the finding.
 */
import { createActor } from './act';
import type { Clock } from './clock';
import type { Control, FindingContext, Log, Provisioned } from './control';
import type { Deadline } from './deadline';
import { decideLive } from './decide';
import { createDelivery, type HandledFinding } from './deliver';
import { describeError, isTransient } from './errors';
import { type Finding, findingKey } from './finding';
import { handOnNextPart, needsContinuation } from './handon';
import { leaseKey, withLease } from './lease';
import { driftMarkOf, nextHistory, repeatsLastWord } from './lifecycle';
import type { OrganizationScope } from './organization';
import { type Decision, mayChange } from './policy';
import type {
  ChangeBudget,
  ChangeRecorder,
  FindingHistory,
  FindingStore,
  HistoryEntry,
  MemberAccess,
  MetricsPort,
  Notifier,
  OutcomePublisher,
  Requeue,
  ResourceLease,
} from './ports';
import type { DeliveryStatus, Drift, FindingReport, Outcome } from './report';
import type { Asked } from './request';
import type { ResourceRef } from './resource';
import type { RuntimeSettings } from './settings';
import { admit, type Identity } from './trust';

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

export interface FindingHandlerDeps<State, Before, Params, Clients> {
  readonly control: Control<State, Before, Params, Clients>;
  readonly settings: RuntimeSettings<Params>;
  readonly clients: Clients;
  readonly self: Identity;
  readonly provisioned: Provisioned;
  readonly findings: FindingStore;
  readonly notifier: Notifier;
  readonly events: OutcomePublisher;
  readonly recorder: ChangeRecorder;
  readonly log: Log;
  readonly metrics: MetricsPort;
  readonly newChangeId: () => string;
  readonly clock: Clock;
  readonly lease: ResourceLease;
  readonly history: FindingHistory;
  readonly requeue: Requeue;
  /** Org mode's scope; undefined in single-account mode. */
  readonly organization: OrganizationScope | undefined;
  /** The control's clients for the account and region of a finding's resource. */
  readonly access: MemberAccess<Clients>;
  readonly budget: ChangeBudget;
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

type ReportBase = Omit<FindingReport, 'decision' | 'outcome' | 'drift'>;

interface Concluded {
  readonly decision: Decision;
  readonly outcome: Outcome;
  readonly drift?: Drift | undefined;
}

export function createFindingHandler<State, Before, Params, Clients>(
  deps: FindingHandlerDeps<State, Before, Params, Clients>,
) {
  const { control, settings, metrics, clock } = deps;
  const notifyOnly = settings.notifyOnly || control.notifyOnly;
  const actor = createActor(deps);
  const deliver = createDelivery({ ...deps, tags: settings.tags });

  function reportBase(
    finding: Finding,
    resource: ResourceRef | undefined,
    asked: Asked | undefined,
  ): ReportBase {
    const named =
      finding.resources.find((r) => control.resource.types.includes(r.type)) ??
      finding.resources[0];
    const raw = resource?.raw ?? named?.id ?? '(none)';
    return {
      findingId: finding.id,
      ref: finding.ref,
      controlId: control.id,
      controlTitle: control.title,
      severity: finding.severity,
      account: resource?.account ?? deps.self.account,
      region: resource?.region ?? deps.self.region,
      resourceType: resource?.type ?? named?.type ?? '(none)',
      resource: raw,
      resourceId: resource?.id ?? raw,
      request: asked?.request ?? 'imported',
      via: asked?.via ?? 'security-hub',
      automatic: !notifyOnly,
      confirmation: { confirmed: true },
      workflowBefore: finding.workflowStatus,
    };
  }

  async function readHistory(finding: Finding, log: Log): Promise<HistoryEntry | undefined> {
    try {
      return await deps.history.get(control.id, findingKey(finding.ref));
    } catch (error) {
      // Without it, drift looks like a first fix: nothing unsafe, only less said.
      log.warn('finding history could not be read', { error: describeError(error) });
      return undefined;
    }
  }

  async function remember(
    report: FindingReport,
    handled: HandledFinding,
    previous: HistoryEntry | undefined,
    log: Log,
  ): Promise<void> {
    if (!handled.workflow.write) return;
    try {
      await deps.history.put(
        control.id,
        findingKey(report.ref),
        nextHistory(previous, report, handled.workflow, new Date(clock.now()).toISOString()),
      );
    } catch (error) {
      log.warn('finding history could not be written', { error: describeError(error) });
      metrics.count('HistoryWriteFailed');
    }
  }

  /** Notes on the earlier fix, in the ledger, that it did not hold (`hubfix history`, `show`). */
  async function markDrift(report: FindingReport, log: Log): Promise<void> {
    const previous = report.drift?.previousChangeId;
    const mark = driftMarkOf(report, new Date(clock.now()).toISOString());
    if (previous === undefined || mark === undefined) return;
    try {
      await deps.recorder.markDrifted(previous, mark);
    } catch (error) {
      log.warn('the earlier change could not be marked as drifted in the ledger', {
        changeId: previous,
        error: describeError(error),
      });
      metrics.count('LedgerWriteFailed');
    }
  }

  async function continuation(report: FindingReport, log: Log): Promise<DeliveryStatus> {
    if (!needsContinuation(report)) return { ok: 'skipped' };
    try {
      await handOnNextPart(deps.requeue, report);
      log.info('handed the rest of the fix to another invocation');
      return { ok: true };
    } catch (error) {
      log.error('could not hand the rest of the fix on', { error: describeError(error) });
      metrics.count('RequeueFailed');
      return { ok: false, error: describeError(error) };
    }
  }

  async function conclude(
    base: ReportBase,
    { decision, outcome, drift }: Concluded,
    previous: HistoryEntry | undefined,
    log: Log,
  ): Promise<PipelineResult> {
    const report: FindingReport = { ...base, decision, outcome, drift };
    if (repeatsLastWord(report.request, previous, report)) {
      metrics.count('Unchanged');
      log.info('finding unchanged since hubfix last said so; nothing told again', {
        outcome: outcome.kind,
      });
      const skipped = { ok: 'skipped' as const };
      return {
        report,
        workflow: { write: false },
        findingUpdate: skipped,
        notification: skipped,
        event: skipped,
        continuation: skipped,
      };
    }
    const handled = await deliver(report, log);
    metrics.count(outcome.kind);
    if (drift) metrics.count('Drift');
    log[outcome.kind === 'FAILED' ? 'error' : 'info']('finding handled', {
      decision: decision.kind,
      outcome: outcome.kind,
      reason: decision.reason,
      resource: report.resource,
      workflow: handled.workflow.write ? (handled.workflow.workflow ?? 'unchanged') : 'not written',
      findingUpdate: handled.findingUpdate,
      notification: handled.notification,
      event: handled.event,
    });
    await remember(report, handled, previous, log);
    await markDrift(report, log);
    return { ...handled, continuation: await continuation(report, log) };
  }

  return async function handle(
    event: { readonly account: string; readonly region: string },
    finding: Finding,
    asked: Asked | undefined,
    fromSecurityHub: boolean,
    invocation: Invocation,
  ): Promise<PipelineResult> {
    const log = logFor(deps.log, { findingId: finding.id, control: control.id });
    if (asked === undefined) {
      const reason = 'the custom action is not one of hubfix\'s ("Remediate" or "Plan")';
      return conclude(
        reportBase(finding, undefined, asked),
        { decision: { kind: 'IGNORE', reason }, outcome: { kind: 'IGNORED', reason } },
        undefined,
        log,
      );
    }
    const { request } = asked;
    const admission = await admit({
      event,
      finding,
      fromSecurityHub,
      request,
      controlId: control.id,
      resourceSpec: control.resource,
      self: deps.self,
      organization: deps.organization,
      mode: settings.mode,
      store: deps.findings,
    });
    if (admission.kind === 'refused') {
      if (admission.suspicious) log.warn('finding refused', { reason: admission.reason });
      const { reason } = admission;
      return conclude(
        reportBase(finding, admission.resource, asked),
        { decision: { kind: 'IGNORE', reason }, outcome: { kind: 'IGNORED', reason } },
        undefined,
        log,
      );
    }
    const { resource, confirmation } = admission;
    if (!confirmation.confirmed) {
      log.warn('Security Hub could not be asked to confirm the finding', {
        reason: confirmation.reason,
      });
    }
    const current = admission.finding;
    const base: ReportBase = {
      ...reportBase(current, resource, asked),
      confirmation,
      workflowBefore: current.workflowStatus,
    };
    // Read while the member role is assumed and the lease taken: neither needs it.
    const historyRead = readHistory(current, log);
    let clients: Clients;
    try {
      clients = await deps.access.clientsFor(resource);
    } catch (error) {
      // Told once per finding, never thrown: a missing member role is a
      // person's to fix, and a retried event would only ask STS again.
      const reason = describeError(error);
      log.warn('no access to the account of the finding', { reason, account: resource.account });
      metrics.count('MemberAccessFailed');
      return conclude(
        base,
        isTransient(error)
          ? { decision: { kind: 'DEFER', reason }, outcome: { kind: 'DEFERRED', reason } }
          : {
              decision: { kind: 'NOTIFY', reason },
              outcome: { kind: 'NOTIFIED', reason, plan: undefined },
            },
        await historyRead,
        log,
      );
    }
    const ctx: FindingContext<Clients, Params> = {
      clients,
      params: settings.params,
      finding: current,
      log,
      provisioned: deps.provisioned,
      deadline: invocation.deadline,
      clock,
    };
    const decideAndAct = async (): Promise<Concluded> => {
      const previous = await historyRead;
      const decided = await decideLive({
        control,
        settings,
        notifyOnly,
        request,
        resource,
        ctx,
        history: previous,
      });
      const outcome = await actor.act({
        ...decided,
        ctx,
        resource,
        confirmed: confirmation.confirmed,
        maxFixes: 1 + settings.maxDriftFixes,
      });
      return { decision: decided.decision, outcome, drift: decided.drift };
    };

    if (!mayChange({ mode: settings.mode, request, notifyOnly, dryRun: settings.dryRun })) {
      return conclude(base, await decideAndAct(), await historyRead, log);
    }
    const held = await withLease(
      {
        lease: deps.lease,
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
      return conclude(
        base,
        { decision: { kind: 'DEFER', reason }, outcome: { kind: 'DEFERRED', reason } },
        await historyRead,
        log,
      );
    }
    if (held.waitedMs > 0) log.info('waited for the lease on the resource', { ms: held.waitedMs });
    return conclude(base, held.value, await historyRead, log);
  };
}
