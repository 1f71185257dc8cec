import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { type HubfixConfig, resolveSettings } from './config';
import { ActionTarget } from './constructs/action-target';
import { ControlRemediation } from './constructs/control-remediation';
import { CONTROLS, type ControlDefinition, controlFolder } from './controls';

export interface HubfixStackProps extends StackProps {
  /** The validated remediation.config.json. */
  readonly config: HubfixConfig;
  /**
   * The controls to deploy.
   * @default CONTROLS, every registered control
   */
  readonly controls?: readonly ControlDefinition[];
}

/** Ids of the Security Hub custom actions (at most 20 characters). */
export const REMEDIATE_ACTION_ID = 'HubfixRemediate';
export const PLAN_ACTION_ID = 'HubfixPlan';

/** One deployment per account and region. */
export class HubfixStack extends Stack {
  readonly topic: Topic;
  readonly remediateAction: ActionTarget;
  readonly planAction: ActionTarget;
  readonly controls: ReadonlyMap<string, ControlRemediation>;

  constructor(scope: Construct, id: string, props: HubfixStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.topic = new Topic(this, 'Notifications', {
      displayName: 'hubfix',
      // The AWS-managed key: encrypted at rest with nothing to administer.
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    for (const email of config.notifications.emails) {
      this.topic.addSubscription(new EmailSubscription(email));
    }

    this.remediateAction = new ActionTarget(this, 'RemediateAction', {
      actionTargetId: REMEDIATE_ACTION_ID,
      displayName: 'hubfix: Remediate',
      description:
        "Fix the selected findings now with hubfix (owners' opt-out and suppress tags still apply).",
    });
    this.planAction = new ActionTarget(this, 'PlanAction', {
      actionTargetId: PLAN_ACTION_ID,
      displayName: 'hubfix: Plan',
      description:
        'Dry run: write into each selected finding what hubfix would change, and change nothing.',
    });

    const controls = new Map<string, ControlRemediation>();
    for (const control of props.controls ?? CONTROLS) {
      controls.set(
        control.meta.id,
        new ControlRemediation(this, `Control-${controlFolder(control.meta.id)}`, {
          control,
          settings: resolveSettings(config, control),
          topic: this.topic,
          remediateAction: this.remediateAction,
          planAction: this.planAction,
          reservedConcurrency: config.functions.reservedConcurrency,
          memorySize: config.functions.memorySize,
          logRetention: config.functions.logRetentionDays,
        }),
      );
    }
    this.controls = controls;

    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'RemediateActionArn', { value: this.remediateAction.actionTargetArn });
    new CfnOutput(this, 'PlanActionArn', { value: this.planAction.actionTargetArn });
  }
}
