/**
 * Publishes one notification per handled finding. The message attributes let
 * subscribers filter (for example, only REMEDIATED and FAILED outcomes of
 * HIGH or CRITICAL findings) without parsing the body.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { describeError, NotificationError } from '../errors';
import type { Notification, Notifier } from '../ports';

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<void> {
    const { control, outcome, severity } = notification.attributes;
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: notification.subject,
          Message: notification.message,
          MessageAttributes: {
            control: { DataType: 'String', StringValue: control },
            outcome: { DataType: 'String', StringValue: outcome },
            severity: { DataType: 'String', StringValue: severity },
          },
        }),
      );
    } catch (error) {
      throw new NotificationError(`SNS Publish failed: ${describeError(error)}`, { cause: error });
    }
  }
}
