/**
 * The deliver stage: every outcome is told in three places — the finding
 * (a note, and the workflow the lifecycle rules say), SNS (whose message
 * says whether the finding update worked, so it follows it), and an outcome
 * event on EventBridge (sent alongside both) — and counted and logged. One
 * failed delivery does not stop the others; the caller decides what an
 * undelivered finding means.
 */
import type { Log } from './control';
import { describeError } from './errors';
import { type WorkflowUpdate, workflowFor } from './lifecycle';
import type {
  FindingStore,
  FindingUpdate,
  MetricsPort,
  Notification,
  Notifier,
  OutcomeEvent,
  OutcomePublisher,
} from './ports';
import { type DeliveryStatus, type FindingReport, messageFor, noteFor, subjectFor } from './report';
import type { TagPolicy } from './settings';

export interface HandledFinding {
  readonly report: FindingReport;
  readonly workflow: WorkflowUpdate;
  readonly findingUpdate: DeliveryStatus;
  readonly notification: DeliveryStatus;
  readonly event: DeliveryStatus;
}

export function outcomeEventOf(report: FindingReport, workflow: WorkflowUpdate): OutcomeEvent {
  const { outcome } = report;
  return {
    control: report.controlId,
    outcome: outcome.kind,
    decision: report.decision.kind,
    reason: report.decision.reason,
    account: report.account,
    region: report.region,
    resource: report.resource,
    resourceType: report.resourceType,
    findingId: report.findingId,
    changeId:
      outcome.kind === 'REMEDIATED' || outcome.kind === 'FAILED' ? outcome.changeId : undefined,
    severity: report.severity,
    request: report.request,
    via: report.via,
    workflow: workflow.write ? workflow.workflow : undefined,
    drifted: report.drift !== undefined,
  };
}

export function createDelivery(ports: {
  readonly findings: FindingStore;
  readonly notifier: Notifier;
  readonly events: OutcomePublisher;
  readonly metrics: MetricsPort;
  readonly tags: TagPolicy;
}) {
  const { findings, notifier, events, metrics } = ports;

  async function attempt(
    what: string,
    metric: string,
    log: Log,
    send: () => Promise<void>,
  ): Promise<DeliveryStatus> {
    try {
      await send();
      return { ok: true };
    } catch (error) {
      const status = { ok: false as const, error: describeError(error) };
      log.error(`${what} failed`, { error: status.error });
      metrics.count(metric);
      return status;
    }
  }

  return async function deliver(report: FindingReport, log: Log): Promise<HandledFinding> {
    const workflow = workflowFor(report);
    if (!workflow.write) {
      // Ignored findings are logged and counted, never announced: an echo of
      // hubfix's own update, or another control's finding, is nobody's news.
      const skipped = { ok: 'skipped' as const };
      return { report, workflow, findingUpdate: skipped, notification: skipped, event: skipped };
    }
    // The outcome event needs nothing the other two say: it goes out alongside
    // them, and the invocation waits for one call less.
    const eventSent = attempt('outcome event', 'OutcomeEventFailed', log, () =>
      events.publish(outcomeEventOf(report, workflow)),
    );
    const update: FindingUpdate = { workflow: workflow.workflow, note: noteFor(report) };
    const findingUpdate = await attempt('finding update', 'FindingUpdateFailed', log, () =>
      findings.update(report.ref, update),
    );
    const notification: Notification = {
      subject: subjectFor(report),
      message: messageFor(report, findingUpdate, workflow.workflow, ports.tags),
      attributes: {
        control: report.controlId,
        outcome: report.outcome.kind,
        severity: report.severity,
      },
    };
    const published = await attempt('notification', 'NotificationFailed', log, () =>
      notifier.publish(notification),
    );
    const event = await eventSent;
    return { report, workflow, findingUpdate, notification: published, event };
  };
}
