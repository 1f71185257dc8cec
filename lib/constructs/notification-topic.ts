import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import {
  AnyPrincipal,
  Effect,
  type IRole,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { TOPIC_ENCRYPTION_DEFAULT, type TopicEncryption } from '../config';

export const CLOUDWATCH_SERVICE = 'cloudwatch.amazonaws.com';

export interface NotificationTopicProps {
  /** Email addresses subscribed to the topic (each must confirm). */
  readonly emails: readonly string[];
  /** @default no KMS encryption (TOPIC_ENCRYPTION_DEFAULT) */
  readonly encryption?: TopicEncryption;
}

/**
 * The topic every outcome and every alarm goes to. Only the roles granted
 * through `grantPublish` and CloudWatch alarms of this account and region may
 * publish to it, and only over TLS.
 */
export class NotificationTopic extends Construct {
  readonly topic: ITopic;
  /** The key the topic is encrypted with, if any. */
  readonly key: IKey | undefined;
  private readonly publishers: IRole[] = [];

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const encryption = props.encryption ?? TOPIC_ENCRYPTION_DEFAULT;
    const alarmsOfThisAccount = {
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };

    this.key = this.keyFor(encryption, alarmsOfThisAccount);
    const topic = new Topic(this, 'Topic', {
      displayName: 'hubfix',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic = topic;
    for (const email of props.emails) topic.addSubscription(new EmailSubscription(email));

    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal(CLOUDWATCH_SERVICE)],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: alarmsOfThisAccount,
      }),
    );
    // An identity policy with sns:Publish on * elsewhere in the account would
    // otherwise reach this topic too: hubfix's notes and alarms must come from
    // hubfix. CloudWatch carries no principal ARN, hence the second key.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyHubfixAndItsAlarms',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringNotEquals: {
            'aws:PrincipalArn': Lazy.list({
              produce: () => this.publishers.map((role) => role.roleArn),
            }),
            'aws:PrincipalServiceName': CLOUDWATCH_SERVICE,
          },
        },
      }),
    );

    if (encryption.kind === 'none') {
      NagSuppressions.addResourceSuppressions(topic, [
        {
          id: 'AwsSolutions-SNS2',
          reason:
            'notifications.kmsKey is "none" (the default): CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key, and a customer-managed key costs $1 a month, over the stack\'s idle budget. The topic refuses requests without TLS and accepts publishes only from hubfix\'s roles and alarms; set kmsKey to "managed-by-hubfix" or a key ARN to encrypt it at rest.',
        },
      ]);
    }
  }

  /** Lets `role` publish (and use the topic's key), and adds it to the topic policy's publishers. */
  grantPublish(role: IRole): void {
    this.topic.grantPublish(role);
    this.publishers.push(role);
  }

  private keyFor(
    encryption: TopicEncryption,
    alarmsOfThisAccount: Readonly<Record<string, Record<string, string>>>,
  ): IKey | undefined {
    switch (encryption.kind) {
      case 'none':
        return undefined;
      case 'key':
        // Its policy is its owner's: the README shows the statement CloudWatch needs.
        return Key.fromKeyArn(this, 'Key', encryption.keyArn);
      case 'managed-by-hubfix': {
        const key = new Key(this, 'Key', {
          description: 'hubfix: encrypts the notification topic',
          enableKeyRotation: true,
        });
        key.addToResourcePolicy(
          new PolicyStatement({
            sid: 'CloudWatchAlarmsOfThisAccount',
            principals: [new ServicePrincipal(CLOUDWATCH_SERVICE)],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
            conditions: alarmsOfThisAccount,
          }),
        );
        return key;
      }
    }
  }
}
