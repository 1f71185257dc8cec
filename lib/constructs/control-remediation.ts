import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { BUDGET_KEY_PREFIX } from '../../lambdas/core/adapters/change-budget';
import { OUTCOME_EVENT_SOURCE } from '../../lambdas/core/adapters/events';
import { ENVIRONMENT } from '../../lambdas/core/env';
import { memberRoleNameFor, placeholder } from '../../lambdas/core/organization';
import type { RuntimeSettings } from '../../lambdas/core/settings';
import { encodeSettings, type TracingMode } from '../config';
import {
  type ControlDefinition,
  FINDING_PERMISSIONS,
  handlerEntry,
  type Permission,
  permissionsFor,
} from '../controls';
import {
  customActionPattern,
  type FindingSource,
  importedFindingsPattern,
  importedV2FindingsPattern,
} from '../event-patterns';
import { type OrganizationConfig, scopeOf } from '../organization';
import type { IActionTarget } from './action-target';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { NotificationTopic } from './notification-topic';
import { RemediationFunction } from './remediation-function';

export interface ControlRemediationProps {
  readonly control: ControlDefinition;
  readonly settings: RuntimeSettings<unknown>;
  readonly notifications: NotificationTopic;
  /** Where before-states and results of changes are recorded. */
  readonly ledger: ITableV2;
  /** How long ledger entries are kept, in days. */
  readonly ledgerRetentionDays: number;
  /** Where the function remembers which findings it has handled. */
  readonly idempotencyTable: ITableV2;
  /** Leases on resources and the history of each finding. */
  readonly stateTable: ITableV2;
  readonly remediateAction: IActionTarget;
  readonly planAction: IActionTarget;
  /**
   * Reserved concurrency of the function; `'none'` reserves nothing.
   * @default 2
   */
  readonly reservedConcurrency?: number | 'none';
  /** @default 256 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 'pass-through' */
  readonly tracing?: TracingMode;
  /** Where events go once EventBridge and Lambda have given up on them. */
  readonly deadLetters: DeadLetterQueue;
  /**
   * Org mode: route findings of the organization's member accounts and
   * regions, and act in them through the control's member role instead of
   * with permissions of the function's own.
   * @default undefined — single-account mode
   */
  readonly organization?: OrganizationConfig;
}

/** One ARN field as cdk-nag renders it: a literal or an <AWS::...> token. */
const ARN_PART = '(?:<AWS::[A-Za-z]+>|[^:]*)';

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Retries before an event is parked in the dead-letter queue. */
const EVENTBRIDGE_RETRY_ATTEMPTS = 8;
const LAMBDA_ASYNC_RETRY_ATTEMPTS = 2;

/**
 * One control, wired end to end: its function, the rules that route its
 * findings and custom actions to it, the shared dead-letter queue for events
 * that cannot be delivered or keep failing, and exactly the permissions it
 * needs.
 */
export class ControlRemediation extends Construct {
  readonly handler: RemediationFunction;
  readonly importedRule: Rule;
  /** The new Security Hub's OCSF findings of this control. */
  readonly importedV2Rule: Rule;
  readonly customActionRule: Rule;
  readonly control: ControlDefinition;
  /** What the function runs with: its params decide its setting permissions. */
  readonly settings: RuntimeSettings<unknown>;

  constructor(scope: Construct, id: string, props: ControlRemediationProps) {
    super(scope, id);
    this.control = props.control;
    this.settings = props.settings;
    const stack = Stack.of(this);
    const { control } = props;
    const controlId = control.meta.id;

    this.handler = new RemediationFunction(this, 'Handler', {
      entry: handlerEntry(controlId),
      description: `hubfix ${controlId}: ${control.meta.title}`.slice(0, 256),
      timeout: control.timeout,
      memorySize: props.memorySize,
      reservedConcurrentExecutions: props.reservedConcurrency,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      tracing: props.tracing,
      environment: {
        [ENVIRONMENT.settings]: encodeSettings(props.settings),
        [ENVIRONMENT.topicArn]: props.notifications.topic.topicArn,
        [ENVIRONMENT.remediateActionArn]: props.remediateAction.actionTargetArn,
        [ENVIRONMENT.planActionArn]: props.planAction.actionTargetArn,
        [ENVIRONMENT.account]: stack.account,
        [ENVIRONMENT.ledgerTable]: props.ledger.tableName,
        [ENVIRONMENT.ledgerRetentionDays]: String(props.ledgerRetentionDays),
        [ENVIRONMENT.idempotencyTable]: props.idempotencyTable.tableName,
        [ENVIRONMENT.stateTable]: props.stateTable.tableName,
        ...(props.organization
          ? { [ENVIRONMENT.organization]: JSON.stringify(scopeOf(props.organization)) }
          : {}),
      },
    });
    // In org mode the control acts in member accounts, where the StackSet
    // made what it needs: the central account gets none of it.
    const provisioned =
      (props.organization
        ? control.provision?.inMembers(props.organization).provisioned
        : control.provision?.inStack(this, this.handler.role)) ?? {};
    if (Object.keys(provisioned).length > 0) {
      this.handler.function.addEnvironment(
        ENVIRONMENT.provisioned,
        stack.toJsonString(provisioned),
      );
    }
    const fn = this.handler.function;
    fn.configureAsyncInvoke({
      retryAttempts: LAMBDA_ASYNC_RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(props.deadLetters.queue),
    });

    this.grantPermissions(props);
    if (props.organization) this.grantMemberRole(props.organization, controlId, props.stateTable);
    this.grantHandingOn();

    const source = findingSource(stack, props.organization);
    const target = props.deadLetters.catchFailuresOf(
      new LambdaFunction(fn, {
        retryAttempts: EVENTBRIDGE_RETRY_ATTEMPTS,
        maxEventAge: Duration.hours(6),
      }),
    );
    this.importedRule = new Rule(this, 'ImportedFindings', {
      description: `hubfix: new failed ${controlId} findings to their remediation function`,
      eventPattern: importedFindingsPattern(controlId, source),
      targets: [target],
    });
    this.importedV2Rule = new Rule(this, 'ImportedV2Findings', {
      description: `hubfix: new failed ${controlId} findings of the new Security Hub (OCSF) to their remediation function`,
      eventPattern: importedV2FindingsPattern(controlId, source),
      targets: [target],
    });
    this.customActionRule = new Rule(this, 'CustomActions', {
      description: `hubfix: Remediate and Plan custom actions on ${controlId} findings`,
      eventPattern: customActionPattern(controlId, source, [
        props.remediateAction.actionTargetArn,
        props.planAction.actionTargetArn,
      ]),
      targets: [target],
    });
  }

  /**
   * Org mode: the function may assume its control's member role in any
   * account of its own organization (aws:ResourceOrgID equal to the
   * function's aws:PrincipalOrgID), and count changes against each account's
   * hourly budget in the State table.
   */
  private grantMemberRole(
    organization: OrganizationConfig,
    controlId: string,
    stateTable: ITableV2,
  ): void {
    const stack = Stack.of(this);
    const { role } = this.handler;
    const roleName = memberRoleNameFor(organization.memberRoleName, controlId);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${stack.partition}:iam::*:role/${roleName}`],
        conditions: {
          StringEquals: { 'aws:ResourceOrgID': placeholder('aws:PrincipalOrgID') },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [stateTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${BUDGET_KEY_PREFIX}*`] },
        },
      }),
    );
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: `The member role ${roleName} has the same name in every member account, which is the account field; aws:ResourceOrgID limits it to this organization, and each member role trusts only this function's role.`,
          appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${roleName}`],
        },
      ],
      true,
    );
  }

  /**
   * What does not fit one invocation is handed to another invocation of the
   * same function (an asynchronous invoke of itself). The grant is a policy
   * of its own: in the role's default policy it would make the function
   * depend on a statement that names the function.
   */
  private grantHandingOn(): void {
    const fn = this.handler.function;
    new Policy(this, 'HandOnPolicy', {
      roles: [this.handler.role],
      statements: [
        new PolicyStatement({
          sid: 'InvokeItselfToHandFindingsOn',
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        }),
      ],
    });
  }

  private grantPermissions(props: ControlRemediationProps): void {
    const stack = Stack.of(this);
    const { role } = this.handler;
    const controlId = props.control.meta.id;
    props.notifications.grantPublish(role);
    // The ledger records changes; a control that never changes anything
    // (notify-only) writes none. The others write only their own entries:
    // every change id starts with the control's id.
    if (!props.control.meta.notifyOnly) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [props.ledger.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${controlId}-*`] },
          },
        }),
      );
    }
    // Exactly the item operations Powertools idempotency uses, on the table
    // itself (not its indexes).
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [props.idempotencyTable.tableArn],
      }),
    );
    // Leases and finding history: only this control's own items.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.stateTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${props.control.meta.id}#*`] },
        },
      }),
    );
    // Re-reading and updating findings: FINDING_PERMISSIONS, below.
    // One outcome event per handled finding, from source hubfix only, on the default bus.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [
          stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        ],
        conditions: { StringEquals: { 'events:source': OUTCOME_EVENT_SOURCE } },
      }),
    );

    // cdk-nag shows the first acknowledgement that matches a finding, so
    // every reason for `Resource::*` is gathered into one.
    const anyResourceReasons = ['X-Ray accepts no resource-level permissions'];
    const scoped: { id: string; reason: string; appliesTo: { regex: string }[] }[] = [];
    // In org mode the function acts only through its member role: its own
    // account grants it none of the control's permissions.
    const permissions: readonly Permission[] = [
      ...FINDING_PERMISSIONS,
      ...(props.organization ? [] : permissionsFor(props.control, props.settings.params)),
    ];
    for (const permission of permissions) {
      if (permission.resources === '*') {
        role.addToPrincipalPolicy(
          new PolicyStatement({
            actions: [...permission.actions],
            resources: ['*'],
            conditions: permission.conditions,
          }),
        );
        anyResourceReasons.push(
          permission.reason ??
            `${permission.actions.join(', ')} support no resource-level permissions`,
        );
        continue;
      }
      const arns = permission.resources.map((arn) => stack.formatArn(arn));
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [...permission.actions],
          resources: arns,
          conditions: permission.conditions,
        }),
      );
      const wildcards = permission.resources.filter((arn) => arn.resourceName.includes('*'));
      if (wildcards.length > 0) {
        scoped.push({
          id: 'AwsSolutions-IAM5',
          reason:
            permission.reason ??
            `${permission.actions.join(', ')} must reach any ${wildcards
              .map((w) => w.resource)
              .join(
                ', ',
              )} a finding names, in this account and region only; the function re-reads and checks each one before acting`,
          appliesTo: wildcards.map((w) => ({
            // Partition, region and account render as <AWS::...> tokens or literals.
            regex: `/^Resource::arn:${ARN_PART}:${w.service}:${ARN_PART}:${ARN_PART}:${escapeRegex(`${w.resource}/${w.resourceName}`)}$/`,
          })),
        });
      }
    }
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: `${anyResourceReasons.join('; ')}.`,
          appliesTo: ['Resource::*'],
        },
        ...(props.notifications.key
          ? [
              {
                id: 'AwsSolutions-IAM5',
                reason:
                  'Publishing to the encrypted topic needs the GenerateDataKey variants, granted on the topic key only.',
                appliesTo: ['Action::kms:GenerateDataKey*'],
              },
            ]
          : []),
        ...scoped,
      ],
      true,
    );
  }
}

/** Where the control's findings come from: this account and region, or the organization's. */
function findingSource(stack: Stack, organization: OrganizationConfig | undefined): FindingSource {
  const productIn = (resource: 'product' | 'productv2', region?: string) =>
    stack.formatArn({
      service: 'securityhub',
      account: '',
      region,
      resource,
      resourceName: 'aws/securityhub',
    });
  if (!organization) {
    return {
      productArn: productIn('product'),
      productV2Uid: productIn('productv2'),
      account: stack.account,
    };
  }
  const { accounts, excludeAccounts } = organization;
  return {
    productArn: organization.regions.map((region) => productIn('product', region)),
    productV2Uid: organization.regions.map((region) => productIn('productv2', region)),
    account:
      accounts === '*'
        ? { anythingBut: excludeAccounts }
        : accounts.filter((account) => !excludeAccounts.includes(account)),
  };
}
