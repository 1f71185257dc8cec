/**
 * The act stage: turn a decision into an outcome. Only REMEDIATE changes
 * anything, and only on a finding Security Hub confirmed, in this order:
 * plan ─▶ preflight ─▶ record the before-state ─▶ apply ─▶ verify ─▶ record
 * the result. No record, no change. What could not be done now because
 * something was unreadable or busy is DEFERRED (hubfix looks again); what a
 * person must look at is FAILED or BLOCKED.
 */
import type { ChangePlan, Control, FindingContext, Plan } from './control';
import type { LiveRead } from './decide';
import { describeError, isTransient, leftUnchanged, PartialChangeError } from './errors';
import type { Decision } from './policy';
import type { ChangeBudget, ChangeRecorder, ChangeResult, MetricsPort } from './ports';
import type { Drift, Outcome } from './report';
import type { ResourceRef } from './resource';

export interface ActInput<State, Params, Clients> {
  readonly decision: Decision;
  readonly live: LiveRead<State>;
  readonly ctx: FindingContext<Clients, Params>;
  readonly resource: ResourceRef;
  /** Security Hub's own copy backs this finding; without it nothing is changed. */
  readonly confirmed: boolean;
  readonly drift: Drift | undefined;
  /** How many fixes of one finding's resource hubfix makes before it stops fighting drift. */
  readonly maxFixes: number;
}

export function createActor<State, Before, Params, Clients>(ports: {
  readonly control: Control<State, Before, Params, Clients>;
  readonly recorder: ChangeRecorder;
  readonly newChangeId: () => string;
  readonly metrics: MetricsPort;
  /** Org mode's changes per account per hour. */
  readonly budget: ChangeBudget;
}) {
  const { control, recorder, metrics, budget } = ports;

  async function act(input: ActInput<State, Params, Clients>): Promise<Outcome> {
    const { decision, live, ctx } = input;
    const state = live.kind === 'found' ? live.state : undefined;
    switch (decision.kind) {
      case 'IGNORE':
        return { kind: 'IGNORED', reason: decision.reason };
      case 'SUPPRESS':
        return { kind: 'SUPPRESSED', reason: decision.reason };
      case 'DEFER':
        return { kind: 'DEFERRED', reason: decision.reason };
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
    if (decision.kind === 'PLAN') return planned(decision.reason, plan, state, ctx);
    if (plan.kind === 'compliant') return { kind: 'ALREADY_COMPLIANT', summary: plan.summary };
    if (input.drift !== undefined && input.drift.fixes >= input.maxFixes) {
      return {
        kind: 'DRIFTED',
        reason: `it was fixed ${input.drift.fixes} time(s) and changed back each time; it needs a person (or its template) to keep it fixed`,
        plan,
      };
    }
    if (!input.confirmed) {
      return {
        kind: 'DEFERRED',
        reason:
          'Security Hub could not confirm the finding, and hubfix changes nothing on the word of an event alone',
      };
    }
    return remediate(state, plan, input);
  }

  async function planned(
    reason: string,
    plan: Plan<Before>,
    state: State,
    ctx: FindingContext<Clients, Params>,
  ): Promise<Outcome> {
    try {
      const blockers = plan.kind === 'change' ? await control.preflight(state, ctx) : [];
      return { kind: 'PLANNED', reason, plan, blockers };
    } catch (error) {
      ctx.log.error('planning failed', { error: describeError(error) });
      return {
        kind: 'NOTIFIED',
        reason: `hubfix could not work out a plan: ${describeError(error)}`,
        plan,
      };
    }
  }

  async function remediate(
    state: State,
    plan: ChangePlan<Before>,
    input: ActInput<State, Params, Clients>,
  ): Promise<Outcome> {
    const { ctx, resource } = input;
    const started = ctx.clock.now();
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
      if (isTransient(error)) {
        return { kind: 'DEFERRED', reason: `preflight could not finish: ${describeError(error)}` };
      }
      return failed('preflight', error, 'unchanged', [], undefined);
    }
    if (blockers.length > 0) return { kind: 'BLOCKED', plan, blockers };

    let taken: Awaited<ReturnType<ChangeBudget['take']>>;
    try {
      taken = await budget.take(resource.account);
    } catch (error) {
      return {
        kind: 'DEFERRED',
        reason: `the account's hourly change budget could not be counted, so nothing was changed: ${describeError(error)}`,
      };
    }
    if (taken.kind === 'spent') {
      metrics.count('ChangeBudgetSpent');
      return {
        kind: 'NOTIFIED',
        reason: `hubfix already made ${taken.limit} changes in account ${resource.account} this hour (organization.maxChangesPerAccountPerHour), so it notifies instead of changing until the next hour`,
        plan,
      };
    }

    const changeId = ports.newChangeId();
    try {
      await recorder.recordBefore({
        changeId,
        controlId: control.id,
        findingId: ctx.finding.id,
        resource: resource.raw,
        account: resource.account,
        region: resource.region,
        summary: plan.summary,
        before: plan.before,
      });
    } catch (error) {
      ctx.log.error('the before-state could not be recorded; nothing was changed', {
        error: describeError(error),
      });
      metrics.count('LedgerWriteFailed');
      return {
        kind: 'DEFERRED',
        reason: `the before-state could not be recorded, so nothing was changed: ${describeError(error)}`,
      };
    }

    let changes: readonly string[];
    try {
      changes = (await control.apply(state, plan, ctx)).changes;
    } catch (error) {
      const partial = error instanceof PartialChangeError ? error : undefined;
      const stateLeft = partial?.stateLeft ?? 'unknown: the change failed part-way';
      const done = partial?.changes ?? [];
      await recordResult(
        changeId,
        { status: 'FAILED', changes: done, error: describeError(error), stateLeft },
        ctx,
      );
      if (leftUnchanged(error) && isTransient(error)) {
        return { kind: 'DEFERRED', reason: `nothing was changed: ${describeError(error)}` };
      }
      return failed('apply', error, stateLeft, done, changeId);
    }

    let verdict: Awaited<ReturnType<typeof control.verify>>;
    try {
      verdict = await control.verify(state, ctx);
    } catch (error) {
      verdict = { ok: false, reason: `verification could not run: ${describeError(error)}` };
    }
    metrics.timing('RemediationDuration', ctx.clock.now() - started);
    if (!verdict.ok) {
      const stateLeft = `changed but not verified: ${verdict.reason}`;
      await recordResult(
        changeId,
        { status: 'FAILED', changes, error: verdict.reason, stateLeft },
        ctx,
      );
      return failed('verify', new Error(verdict.reason), stateLeft, changes, changeId);
    }
    await recordResult(changeId, { status: 'REMEDIATED', changes }, ctx);
    return { kind: 'REMEDIATED', plan, changes, changeId };
  }

  async function recordResult(
    changeId: string,
    result: ChangeResult,
    ctx: FindingContext<Clients, Params>,
  ): Promise<void> {
    try {
      await recorder.recordResult(changeId, result);
    } catch (error) {
      // The change itself happened and its before-state is safe; losing the
      // result line must not hide the outcome from the finding and SNS.
      ctx.log.error('could not record the result of a change', {
        changeId,
        error: describeError(error),
      });
      metrics.count('LedgerWriteFailed');
    }
  }

  return { act };
}
