import { Duration, Lazy } from 'aws-cdk-lib';
import type { IRule, IRuleTarget, RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/**
 * One dead-letter queue for every control: events EventBridge could not
 * deliver and invocations Lambda gave up on. One queue means one alarm
 * ($0.10 a month) instead of one per control; each message still says which
 * rule or function it came from (EventBridge's RULE_ARN and TARGET_ARN
 * attributes, Lambda's `requestContext.functionArn`).
 *
 * EventBridge needs the queue's permission per rule. CDK would add one
 * statement per rule, and an SQS policy holds at most 20: the rules are
 * gathered into one statement instead.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: IQueue;
  private readonly rules: IRule[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = queue;
    queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'HubfixRules',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: {
          ArnEquals: {
            'aws:SourceArn': Lazy.list({ produce: () => this.rules.map((rule) => rule.ruleArn) }),
          },
        },
      }),
    );
    NagSuppressions.addResourceSuppressions(queue, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the rules and the functions.',
      },
    ]);
  }

  /** `target`, with undeliverable events parked in this queue. */
  catchFailuresOf(target: IRuleTarget): IRuleTarget {
    return {
      bind: (rule: IRule, id?: string): RuleTargetConfig => {
        this.rules.push(rule);
        return { ...target.bind(rule, id), deadLetterConfig: { arn: this.queue.queueArn } };
      },
    };
  }
}
