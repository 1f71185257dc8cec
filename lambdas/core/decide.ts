/**
 * The decide stage: read the live resource and its tags (never the finding's
 * copy), then apply the pure policy. A read that fails leaves the tags
 * unknown, and the policy fails closed.
 */
import type { Control, FindingContext, Tags } from './control';
import { describeError } from './errors';
import { driftOf } from './lifecycle';
import { type Decision, decide, type Request, type TagReading } from './policy';
import type { HistoryEntry } from './ports';
import type { Drift } from './report';
import type { ResourceRef } from './resource';
import type { RuntimeSettings } from './settings';

export type LiveRead<State> =
  | { readonly kind: 'found'; readonly state: State; readonly tags: Tags }
  | { readonly kind: 'not-applicable'; readonly reason: string }
  | { readonly kind: 'unreadable'; readonly reason: string };

export async function readLive<State, Before, Params, Clients>(
  control: Control<State, Before, Params, Clients>,
  resource: ResourceRef,
  ctx: FindingContext<Clients, Params>,
): Promise<LiveRead<State>> {
  try {
    const live = await control.readState(resource, ctx);
    if (live.kind === 'not-applicable') {
      ctx.log.warn('live resource is not applicable', { reason: live.reason });
    }
    return live;
  } catch (error) {
    ctx.log.warn('live state could not be read; failing closed', { error: describeError(error) });
    return { kind: 'unreadable', reason: describeError(error) };
  }
}

export function decideFor<Params>(input: {
  readonly live: LiveRead<unknown>;
  readonly settings: RuntimeSettings<Params>;
  readonly notifyOnly: boolean;
  readonly request: Request;
  readonly resource: ResourceRef;
  readonly now: Date;
}): Decision {
  const { live, settings } = input;
  if (live.kind === 'not-applicable') return { kind: 'IGNORE', reason: live.reason };
  const tags: TagReading =
    live.kind === 'found'
      ? { readable: true, tags: live.tags }
      : { readable: false, reason: live.reason };
  return decide({
    trust: { ok: true },
    mode: settings.mode,
    request: input.request,
    tags,
    tagPolicy: settings.tags,
    notifyOnly: input.notifyOnly,
    dryRun: settings.dryRun,
    allowList: settings.allowList,
    overrideAllowList: settings.overrideAllowList,
    resource: { ids: [input.resource.raw, input.resource.id], account: input.resource.account },
    now: input.now,
  });
}

export interface Decided<State> {
  readonly live: LiveRead<State>;
  readonly decision: Decision;
  /** Set when hubfix fixed this finding before and the live resource needs fixing again. */
  readonly drift: Drift | undefined;
}

/** The decide stage, whole: read the live resource, decide, and see whether a past fix held. */
export async function decideLive<State, Before, Params, Clients>(input: {
  readonly control: Control<State, Before, Params, Clients>;
  readonly settings: RuntimeSettings<Params>;
  readonly notifyOnly: boolean;
  readonly request: Request;
  readonly resource: ResourceRef;
  readonly ctx: FindingContext<Clients, Params>;
  readonly history: HistoryEntry | undefined;
}): Promise<Decided<State>> {
  const { control, ctx } = input;
  const live = await readLive(control, input.resource, ctx);
  const decision = decideFor({ ...input, live, now: new Date(ctx.clock.now()) });
  const mayFix =
    decision.kind === 'REMEDIATE' || decision.kind === 'NOTIFY' || decision.kind === 'PLAN';
  const drift =
    live.kind === 'found' && mayFix
      ? driftOf(input.history, () => control.plan(live.state, ctx).kind === 'change', live.tags)
      : undefined;
  return { live, decision, drift };
}
