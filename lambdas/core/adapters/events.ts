/**
 * Puts one "Remediation Outcome" event per handled finding on the account's
 * default event bus, so teams route outcomes with the EventBridge rules and
 * API destinations they already use. PutEvents answers 200 even when it
 * refuses an entry (FailedEntryCount); that is turned into an error here.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describeError, OutcomeEventError } from '../errors';
import type { OutcomeEvent, OutcomePublisher } from '../ports';

export const OUTCOME_EVENT_SOURCE = 'hubfix';
export const OUTCOME_DETAIL_TYPE = 'Remediation Outcome';

export class EventBridgeOutcomePublisher implements OutcomePublisher {
  constructor(
    private readonly client: EventBridgeClient,
    /** @default the account's default bus */
    private readonly eventBusName: string = 'default',
  ) {}

  async publish(event: OutcomeEvent): Promise<void> {
    let failed: { ErrorCode?: string; ErrorMessage?: string } | undefined;
    try {
      const response = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: OUTCOME_EVENT_SOURCE,
              DetailType: OUTCOME_DETAIL_TYPE,
              Detail: JSON.stringify(event),
              EventBusName: this.eventBusName,
              Resources: event.resource.startsWith('arn:') ? [event.resource] : [],
            },
          ],
        }),
      );
      if ((response.FailedEntryCount ?? 0) > 0) failed = response.Entries?.[0] ?? {};
    } catch (error) {
      throw new OutcomeEventError(`EventBridge PutEvents failed: ${describeError(error)}`, {
        cause: error,
      });
    }
    if (failed) {
      throw new OutcomeEventError(
        `EventBridge refused the outcome event: ${failed.ErrorCode ?? 'unknown'}: ${failed.ErrorMessage ?? 'no message'}`,
      );
    }
  }
}
