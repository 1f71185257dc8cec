/**
 * The remediation pipeline, written once for every control:
 *
 *   parse ─▶ per finding: trust ─▶ screen ─▶ live state + tags ─▶ decide
 *   REMEDIATE: plan ─▶ preflight ─▶ record before-state ─▶ apply ─▶ verify
 *   ─▶ update the finding ─▶ publish ─▶ metrics + log
 *
 * Findings are handled one at a time so that one finding's failure cannot
 * stop the others, and so API pressure stays gentle in a large batch.
 */
import type { Context } from 'aws-lambda';
import type { FindingUpdate, FindingWriter } from './adapters/security-hub';
import type { Notification, Notifier } from './adapters/sns';
import { type Clock, systemClock } from './clock';
import type { ChangePlan, Control, FindingContext, Log, Provisioned } from './control';
import { type Deadline, NO_DEADLINE } from './deadline';
import {
  describeError,
  IncompleteDeliveryError,
  MalformedEventError,
  PartialChangeError,
} from './errors';
import {
  type Finding,
  type FindingsEvent,
  type ParsedFinding,
  parseFindingsEvent,
} from './finding';
import { type Decision, decide, type Request, screen, type TagReading } from './policy';
import {
  type DeliveryStatus,
  type FindingReport,
  messageFor,
  noteFor,
  type Outcome,
  subjectFor,
  workflowFor,
} from './report';
import type { ResourceRef } from './resource';
import type { RuntimeSettings } from './settings';
import { assessTrust, type Identity } from './trust';

export interface ChangeRecord {
  readonly changeId: string;
  readonly controlId: string;
  readonly findingId: string;
  readonly resource: string;
  readonly summary: string;
  readonly before: unknown;
}

export type ChangeResult =
  | { readonly status: 'REMEDIATED'; readonly changes: readonly string[] }
  | {
      readonly status: 'FAILED';
      readonly changes: readonly string[];
      readonly error: string;
      readonly stateLeft: string;
    };

/** Stores what a change will remove before the change is made. */
export interface ChangeRecorder {
  /** @throws when the before-state could not be stored; the change is then not made. */
  recordBefore(record: ChangeRecord): Promise<void>;
  recordResult(changeId: string, result: ChangeResult): Promise<void>;
}

export interface MetricsPort {
  count(name: string): void;
}

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
  registerLambdaContext?(context: Context): void;
}

/** For tests and tools that want every delivery handled. */
export const everyTime: OnceGuard = {
  async run(_key, work) {
    return { kind: 'ran', value: await work() };
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
  readonly findings: FindingWriter;
  readonly notifier: Notifier;
  readonly recorder: ChangeRecorder;
  readonly log: Log;
  readonly metrics: MetricsPort;
  readonly newChangeId: () => string;
  /** @default everyTime */
  readonly guard?: OnceGuard;
  /** @default systemClock */
  readonly clock?: Clock;
}

export interface HandledFinding {
  readonly report: FindingReport;
  readonly findingUpdate: DeliveryStatus;
  readonly notification: DeliveryStatus;
}

export interface BatchResult {
  readonly eventId: string | undefined;
  readonly status: 'processed' | 'rejected';
  readonly handled: readonly HandledFinding[];
  /** Findings that could not be read at all (malformed): nothing was done with them. */
  readonly rejected: readonly { readonly findingId: string | undefined; readonly error: string }[];
  /** Findings of other controls in the same custom-action event. */
  readonly skipped: number;
  /** Findings already handled (a repeated delivery) or being handled right now. */
  readonly duplicates: number;
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

/**
 * What makes two deliveries "the same": the finding as of its last update,
 * and the request. A person's custom action adds the event id, so that
 * choosing Remediate again is a new request while EventBridge redelivering the
 * same event is not.
 */
export function onceKey(
  event: FindingsEvent,
  finding: Finding,
  request: Request | undefined,
): string {
  const parts = [finding.id, finding.updatedAt, request ?? 'unknown-action'];
  if (event.trigger.kind === 'custom-action') parts.push(event.eventId);
  return parts.join('|');
}

export function requestFor(event: FindingsEvent, actions: CustomActionArns): Request | undefined {
  if (event.trigger.kind === 'imported') return 'imported';
  if (event.trigger.actionArn === actions.remediate) return 'remediate-action';
  if (event.trigger.actionArn === actions.plan) return 'plan-action';
  return undefined;
}

export function createPipeline<State, Before, Params, Clients>(
  options: PipelineOptions<State, Before, Params, Clients>,
) {
  const { control, settings, clients, self, findings, notifier, recorder, metrics } = options;

  async function execute(
    decision: Decision,
    state: State | undefined,
    ctx: FindingContext<Clients, Params>,
    resource: ResourceRef,
  ): Promise<Outcome> {
    switch (decision.kind) {
      case 'IGNORE':
        return { kind: 'IGNORED', reason: decision.reason };
      case 'SUPPRESS':
        return { kind: 'SUPPRESSED', reason: decision.reason };
      case 'NOTIFY':
        return {
          kind: 'NOTIFIED',
          reason: decision.reason,
          plan: state === undefined ? undefined : control.plan(state, ctx),
        };
      case 'PLAN':
      case 'REMEDIATE':
        break;
    }
    if (state === undefined) {
      // decide() never reaches PLAN or REMEDIATE without a live read; be loud if it ever does.
      throw new Error(`${decision.kind} decided without live state`);
    }
    const plan = control.plan(state, ctx);
    if (decision.kind === 'PLAN') {
      const blockers = plan.kind === 'change' ? await control.preflight(state, ctx) : [];
      return { kind: 'PLANNED', reason: decision.reason, plan, blockers };
    }
    if (plan.kind === 'compliant') return { kind: 'ALREADY_COMPLIANT', summary: plan.summary };
    return remediate(state, plan, ctx, resource);
  }

  async function remediate(
    state: State,
    plan: ChangePlan<Before>,
    ctx: FindingContext<Clients, Params>,
    resource: ResourceRef,
  ): Promise<Outcome> {
    const failed = (
      stage: 'preflight' | 'apply' | 'verify',
      error: unknown,
      stateLeft: string,
      changes: readonly string[],
      changeId: string | undefined,
    ): Outcome => ({
      kind: 'FAILED',
      stage,
      error: describeError(error),
      stateLeft,
      plan,
      changes,
      changeId,
    });

    let blockers: readonly string[];
    try {
      blockers = await control.preflight(state, ctx);
    } catch (error) {
      return failed('preflight', error, 'unchanged', [], undefined);
    }
    if (blockers.length > 0) return { kind: 'BLOCKED', plan, blockers };

    const changeId = options.newChangeId();
    try {
      await recorder.recordBefore({
        changeId,
        controlId: control.id,
        findingId: ctx.finding.id,
        resource: resource.raw,
        summary: plan.summary,
        before: plan.before,
      });
    } catch (error) {
      return failed(
        'apply',
        new Error(
          `the before-state could not be recorded, so nothing was changed: ${describeError(error)}`,
        ),
        'unchanged',
        [],
        undefined,
      );
    }

    let changes: readonly string[];
    try {
      changes = (await control.apply(state, plan, ctx)).changes;
    } catch (error) {
      const stateLeft =
        error instanceof PartialChangeError
          ? error.stateLeft
          : 'unknown: the change failed part-way';
      const outcome = failed('apply', error, stateLeft, [], changeId);
      await recordResult(
        changeId,
        { status: 'FAILED', changes: [], error: describeError(error), stateLeft },
        ctx.log,
      );
      return outcome;
    }

    let verdict: Awaited<ReturnType<typeof control.verify>>;
    try {
      verdict = await control.verify(state, ctx);
    } catch (error) {
      verdict = { ok: false, reason: `verification could not run: ${describeError(error)}` };
    }
    if (!verdict.ok) {
      const stateLeft = `changed but not verified: ${verdict.reason}`;
      await recordResult(
        changeId,
        { status: 'FAILED', changes, error: verdict.reason, stateLeft },
        ctx.log,
      );
      return failed('verify', new Error(verdict.reason), stateLeft, changes, changeId);
    }
    await recordResult(changeId, { status: 'REMEDIATED', changes }, ctx.log);
    return { kind: 'REMEDIATED', plan, changes, changeId };
  }

  async function recordResult(changeId: string, result: ChangeResult, log: Log): Promise<void> {
    try {
      await recorder.recordResult(changeId, result);
    } catch (error) {
      // The change itself happened and its before-state is safe; losing the
      // result line must not hide the outcome from the finding and SNS.
      log.error('could not record the result of a change', {
        changeId,
        error: describeError(error),
      });
      metrics.count('LedgerWriteFailed');
    }
  }

  async function deliver(report: FindingReport, log: Log): Promise<HandledFinding> {
    const workflow = workflowFor(report.outcome);
    if (workflow === undefined) {
      return { report, findingUpdate: { ok: 'skipped' }, notification: { ok: 'skipped' } };
    }
    let findingUpdate: DeliveryStatus;
    const update: FindingUpdate = { workflow, note: noteFor(report) };
    try {
      await findings.update({ id: report.findingId, productArn: report.productArn }, update);
      findingUpdate = { ok: true };
    } catch (error) {
      findingUpdate = { ok: false, error: describeError(error) };
      log.error('finding update failed', { error: findingUpdate.error });
      metrics.count('FindingUpdateFailed');
    }
    const notification: Notification = {
      subject: subjectFor(report),
      message: messageFor(report, findingUpdate, settings.tags),
      attributes: {
        control: report.controlId,
        outcome: report.outcome.kind,
        severity: report.severity,
      },
    };
    let published: DeliveryStatus;
    try {
      await notifier.publish(notification);
      published = { ok: true };
    } catch (error) {
      published = { ok: false, error: describeError(error) };
      log.error('notification failed', { error: published.error });
      metrics.count('NotificationFailed');
    }
    return { report, findingUpdate, notification: published };
  }

  async function handleFinding(
    event: FindingsEvent,
    finding: Finding,
    request: Request | undefined,
    deadline: Deadline,
  ): Promise<HandledFinding> {
    const log = logFor(options.log, { findingId: finding.id, control: control.id });
    const trust = assessTrust({
      event,
      finding,
      request: request ?? 'imported',
      controlId: control.id,
      resourceSpec: control.resource,
      self,
    });
    const named =
      finding.resources.find((r) => control.resource.types.includes(r.type)) ??
      finding.resources[0];
    const resourceRaw = trust.resource?.raw ?? named?.id ?? '(none)';
    const baseReport = {
      findingId: finding.id,
      productArn: finding.productArn,
      controlId: control.id,
      controlTitle: control.title,
      severity: finding.severity,
      account: self.account,
      region: self.region,
      resourceType: trust.resource?.type ?? named?.type ?? '(none)',
      resource: resourceRaw,
      resourceId: trust.resource?.id ?? resourceRaw,
      request: request ?? 'imported',
      automatic: !(settings.notifyOnly || control.notifyOnly),
    };
    const finish = async (decision: Decision, outcome: Outcome) => {
      const report: FindingReport = { ...baseReport, decision, outcome };
      const handled = await deliver(report, log);
      metrics.count(outcome.kind);
      log[outcome.kind === 'FAILED' ? 'error' : 'info']('finding handled', {
        decision: decision.kind,
        outcome: outcome.kind,
        reason: decision.reason,
        resource: report.resource,
        findingUpdate: handled.findingUpdate,
        notification: handled.notification,
      });
      return handled;
    };

    if (request === undefined) {
      const decision: Decision = {
        kind: 'IGNORE',
        reason: 'the custom action is not one of hubfix\'s ("Remediate" or "Plan")',
      };
      return finish(decision, { kind: 'IGNORED', reason: decision.reason });
    }

    const screened = screen({ trust, mode: settings.mode, request });
    if (!trust.ok) log.warn('finding refused', { reason: trust.reason });
    if (screened) return finish(screened, { kind: 'IGNORED', reason: screened.reason });
    if (!trust.ok) throw new Error('screen() let an untrusted finding through');

    const ctx: FindingContext<Clients, Params> = {
      clients,
      params: settings.params,
      finding,
      log,
      provisioned: options.provisioned ?? {},
      deadline,
      clock: options.clock ?? systemClock,
    };
    let state: State | undefined;
    let tags: TagReading;
    try {
      const live = await control.readState(trust.resource, ctx);
      if (live.kind === 'not-applicable') {
        log.warn('live resource is not applicable', { reason: live.reason });
        const decision: Decision = { kind: 'IGNORE', reason: live.reason };
        return finish(decision, { kind: 'IGNORED', reason: live.reason });
      }
      state = live.state;
      tags = { readable: true, tags: live.tags };
    } catch (error) {
      log.warn('live state could not be read; failing closed', { error: describeError(error) });
      tags = { readable: false, reason: describeError(error) };
    }

    const decision = decide({
      trust,
      mode: settings.mode,
      request,
      tags,
      tagPolicy: settings.tags,
      notifyOnly: settings.notifyOnly || control.notifyOnly,
      dryRun: settings.dryRun,
      allowList: settings.allowList,
      resource: { ids: [trust.resource.raw, trust.resource.id], account: trust.resource.account },
    });
    let outcome: Outcome;
    try {
      outcome = await execute(decision, state, ctx, trust.resource);
    } catch (error) {
      // Only PLAN's read-only preflight can throw here; report it rather than lose the finding.
      log.error('planning failed', { error: describeError(error) });
      outcome = {
        kind: 'NOTIFIED',
        reason: `hubfix could not work out a plan: ${describeError(error)}`,
        plan: undefined,
      };
    }
    return finish(decision, outcome);
  }

  function rejectMalformed(parsed: Extract<ParsedFinding, { ok: false }>) {
    options.log.error('malformed finding rejected; nothing was changed', {
      findingId: parsed.findingId,
      error: parsed.error.message,
    });
    metrics.count('MalformedFinding');
    return { findingId: parsed.findingId, error: parsed.error.message };
  }

  return {
    /**
     * Handles every finding of this control in the event.
     * @throws IncompleteDeliveryError after handling them all, when any
     * finding could not be written back or announced, so Lambda retries.
     */
    async processEvent(raw: unknown, deadline: Deadline = NO_DEADLINE): Promise<BatchResult> {
      let event: FindingsEvent;
      try {
        event = parseFindingsEvent(raw);
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
        };
      }
      const request = requestFor(event, options.actions);
      const handled: HandledFinding[] = [];
      const rejected: { findingId: string | undefined; error: string }[] = [];
      const failures: { findingId: string; error: string }[] = [];
      let skipped = 0;
      let duplicates = 0;
      const guard = options.guard ?? everyTime;

      for (const parsed of event.findings) {
        if (!parsed.ok) {
          rejected.push(rejectMalformed(parsed));
          continue;
        }
        const finding = parsed.finding;
        // A custom action sends every selected finding to every matching
        // rule; the others belong to other controls' functions.
        if (finding.controlId !== control.id) {
          skipped += 1;
          continue;
        }
        try {
          const once = await guard.run(onceKey(event, finding, request), async () => {
            const result = await handleFinding(event, finding, request, deadline);
            const undelivered = [result.findingUpdate, result.notification].flatMap((status) =>
              status.ok === false ? [{ findingId: finding.id, error: status.error }] : [],
            );
            // Throwing forgets this run, so the retry handles the finding again.
            if (undelivered.length > 0) throw new IncompleteDeliveryError(undelivered);
            return result;
          });
          if (once.kind === 'ran') {
            handled.push(once.value);
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
        eventId: event.eventId,
        status: 'processed',
        handled,
        rejected,
        skipped,
        duplicates,
      };
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
