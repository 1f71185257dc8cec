/**
 * Handing findings to another invocation, so each invocation's work fits its
 * time: the rest of a batch when a control handles only so many findings per
 * invocation, and the next part of a fix that covered only part of a
 * resource. A hand-on names only finding identifiers; the next invocation
 * fetches each finding from Security Hub again.
 */

import { RequeueError } from './errors';
import type { Finding } from './finding';
import { DIRECT_REQUEST_MARKER } from './intake/direct';
import { type Intake, lookupOf } from './intake/types';
import type { Requeue } from './ports';
import type { FindingReport } from './report';
import { type Asked, directKindOf } from './request';

/** The default: nothing can be handed on, so the invocation fails and is retried. */
export const cannotRequeue: Requeue = {
  async send() {
    throw new RequeueError('this pipeline has no way to hand findings to another invocation');
  },
};

/** Hands the findings after `limit` to another invocation; returns them. */
export async function handOnRest<T extends { readonly finding: Finding }>(
  requeue: Requeue,
  intake: Pick<Intake, 'eventId'>,
  asked: Asked | undefined,
  findings: readonly T[],
  limit: number,
): Promise<{ readonly now: readonly T[]; readonly rest: readonly T[] }> {
  const now = findings.slice(0, limit);
  const rest = findings.slice(limit);
  if (rest.length > 0 && asked !== undefined) {
    await requeue.send({
      type: DIRECT_REQUEST_MARKER,
      // The same for a redelivery of this event, so the rest is not handled twice.
      requestId: `${intake.eventId}-rest`,
      request: directKindOf(asked.request),
      origin: 'requeue',
      findings: rest.map(({ finding }) => lookupOf(finding.ref)),
    });
  }
  return { now, rest };
}

/** A verified fix that covered only part of the resource hands the finding on for the next part. */
export function needsContinuation(report: FindingReport): boolean {
  return report.outcome.kind === 'REMEDIATED' && report.outcome.plan.remaining !== undefined;
}

export async function handOnNextPart(requeue: Requeue, report: FindingReport): Promise<void> {
  const { outcome } = report;
  if (outcome.kind !== 'REMEDIATED') return;
  await requeue.send({
    type: DIRECT_REQUEST_MARKER,
    requestId: `${outcome.changeId}-next`,
    request: directKindOf(report.request),
    origin: 'requeue',
    findings: [lookupOf(report.ref)],
  });
}
