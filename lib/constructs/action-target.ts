import { Stack, Validations } from 'aws-cdk-lib';
import { CfnActionTarget } from 'aws-cdk-lib/aws-securityhub';
import { Construct } from 'constructs';
import { ConfigurationError, type ValidationIssue } from '../../lambdas/core/errors';

/** A Security Hub custom action: an entry in the console's "Actions" menu. */
export interface IActionTarget {
  /** `arn:<partition>:securityhub:<region>:<account>:action/custom/<id>` */
  readonly actionTargetArn: string;
  readonly actionTargetId: string;
}

export interface ActionTargetProps {
  /** Alphanumeric, at most 20 characters; part of the ARN. */
  readonly actionTargetId: string;
  /** Shown in the console's Actions menu; at most 20 characters. */
  readonly displayName: string;
  /** At most 256 characters. */
  readonly description: string;
}

export class ActionTarget extends Construct implements IActionTarget {
  readonly actionTargetArn: string;
  readonly actionTargetId: string;

  constructor(scope: Construct, id: string, props: ActionTargetProps) {
    super(scope, id);
    const issues: ValidationIssue[] = [];
    if (!/^[A-Za-z0-9]{1,20}$/.test(props.actionTargetId)) {
      issues.push({
        path: 'actionTargetId',
        message: `must be 1-20 letters or digits, got "${props.actionTargetId}"`,
      });
    }
    if (props.displayName.length < 1 || props.displayName.length > 20) {
      issues.push({
        path: 'displayName',
        message: `must be 1-20 characters, got "${props.displayName}"`,
      });
    }
    if (props.description.length < 1 || props.description.length > 256) {
      issues.push({ path: 'description', message: 'must be 1-256 characters' });
    }
    if (issues.length > 0) throw new ConfigurationError(`ActionTarget ${this.node.path}`, issues);
    const resource = new CfnActionTarget(this, 'Resource', {
      id: props.actionTargetId,
      name: props.displayName,
      description: props.description,
    });
    Validations.of(resource).acknowledge({
      id: 'CloudFormation-Validate::F3006',
      reason:
        "the resource-type list aws-cdk-lib validates with lacks AWS::SecurityHub::ActionTarget in some regions (eu-west-1), where CloudFormation has it: Security Hub's custom actions exist in every region Security Hub CSPM runs in",
    });
    this.actionTargetId = props.actionTargetId;
    // Built rather than read from the resource so that rule patterns hold a
    // plain string that tests and EventBridge can compare directly.
    this.actionTargetArn = Stack.of(this).formatArn({
      service: 'securityhub',
      resource: 'action',
      resourceName: `custom/${props.actionTargetId}`,
    });
  }
}
