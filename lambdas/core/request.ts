/**
 * Who asked, and what for: the policy's `Request` and the report's `Via`
 * from an intake's trigger, and what makes two deliveries of a request "the
 * same" for the once-only guard.
 */
import { type Finding, findingKey } from './finding';
import type { DirectRequestKind, Intake, Trigger } from './intake/types';
import type { Request } from './policy';
import type { Via } from './report';

export interface CustomActionArns {
  readonly remediate: string;
  readonly plan: string;
}

export interface Asked {
  readonly request: Request;
  readonly via: Via;
}

const FROM_DIRECT: Record<DirectRequestKind, Request> = {
  remediate: 'remediate-action',
  plan: 'plan-action',
  imported: 'imported',
  reconcile: 'reconciled',
};

const TO_DIRECT: Record<Request, DirectRequestKind> = {
  imported: 'imported',
  reconciled: 'reconcile',
  'remediate-action': 'remediate',
  'plan-action': 'plan',
};

/** The request a trigger makes; undefined for a custom action that is not hubfix's. */
export function requestFor(trigger: Trigger, actions: CustomActionArns): Asked | undefined {
  switch (trigger.kind) {
    case 'imported':
      return { request: 'imported', via: 'security-hub' };
    case 'custom-action':
      if (trigger.actionArn === actions.remediate) {
        return { request: 'remediate-action', via: 'console' };
      }
      if (trigger.actionArn === actions.plan) return { request: 'plan-action', via: 'console' };
      return undefined;
    case 'direct':
      return { request: FROM_DIRECT[trigger.request], via: trigger.origin };
  }
}

/** The same request, asked again through a direct request (handing findings on). */
export function directKindOf(request: Request): DirectRequestKind {
  return TO_DIRECT[request];
}

/**
 * What makes two deliveries "the same": the finding as of its last update,
 * and the request. A person's request (and any direct request) adds its
 * event id, so that asking again is a new request while a redelivery of the
 * same event is not.
 */
export function onceKey(
  intake: Pick<Intake, 'eventId' | 'trigger'>,
  finding: Finding,
  request: Request | undefined,
): string {
  const parts = [findingKey(finding.ref), finding.updatedAt, request ?? 'unknown-action'];
  if (intake.trigger.kind !== 'imported') parts.push(intake.eventId);
  return parts.join('|');
}
