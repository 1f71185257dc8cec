import { Aws, CfnOutput, CfnStackSet, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { LEDGER_INDEX } from '../lambdas/core/adapters/ledger';
import { STATE_KEY, STATE_TTL } from '../lambdas/core/adapters/state';
import { type HubfixConfig, resolveSettings } from './config';
import { ActionTarget } from './constructs/action-target';
import { HubfixAlarms } from './constructs/alarms';
import { ControlRemediation } from './constructs/control-remediation';
import { HubfixDashboard } from './constructs/dashboard';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import { NotificationTopic } from './constructs/notification-topic';
import { Reconciler } from './constructs/reconciler';
import { CONTROLS, type ControlDefinition, controlFolder } from './controls';
import {
  type MemberControl,
  memberTemplate,
  type OrganizationConfig,
  scopeOf,
} from './organization';
import {
  functionOutputKey,
  LEDGER_TABLE_OUTPUT,
  ORGANIZATION_SCOPE_OUTPUT,
  RECONCILER_SETTINGS_OUTPUT,
  STATE_TABLE_OUTPUT,
  TOPIC_OUTPUT,
} from './stack-outputs';

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

/** Dashboards are global to an account: the default name carries the region. */
export const DEFAULT_DASHBOARD_NAME = `Hubfix-${Aws.REGION}`;

/** The member roles' StackSet (org mode). */
export const MEMBER_ROLES_STACK_SET_NAME = 'hubfix-member-roles';

/**
 * One deployment per account and region. Environment-agnostic unless `env`
 * is given: every ARN and pattern uses the AWS::Region, AWS::AccountId and
 * AWS::Partition of wherever the template is deployed. In org mode, one
 * deployment for the organization: in the Security Hub delegated
 * administrator account and aggregation region, with the member roles
 * deployed to the organization's accounts by a StackSet.
 */
export class HubfixStack extends Stack {
  readonly notifications: NotificationTopic;
  /** Every change hubfix makes: before-state, result, rollbacks. */
  readonly ledger: TableV2;
  readonly idempotencyTable: TableV2;
  /** Leases on resources being changed, and what hubfix last did with each finding. */
  readonly stateTable: TableV2;
  readonly remediateAction: ActionTarget;
  readonly planAction: ActionTarget;
  readonly controls: ReadonlyMap<string, ControlRemediation>;
  readonly deadLetters: DeadLetterQueue;
  readonly alarms: HubfixAlarms;
  /** Undefined when `dashboard.enabled` is false. */
  readonly dashboard: HubfixDashboard | undefined;
  /** Sweeps failed findings on a schedule: backfill, drift, lapsed suppressions. */
  readonly reconciler: Reconciler;
  /** Org mode: the StackSet that deploys the member roles. */
  readonly memberRoles: CfnStackSet | undefined;

  constructor(scope: Construct, id: string, props: HubfixStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.notifications = new NotificationTopic(this, 'Notifications', {
      emails: config.notifications.emails,
      encryption: config.notifications.kmsKey,
    });
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters');

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

    this.ledger = new TableV2(this, 'Ledger', {
      partitionKey: { name: 'changeId', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      globalSecondaryIndexes: [
        {
          indexName: LEDGER_INDEX,
          partitionKey: { name: 'entity', type: AttributeType.STRING },
          sortKey: { name: 'createdAt', type: AttributeType.STRING },
        },
      ],
      // The ledger is how changes are undone: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.idempotencyTable = new TableV2(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateTable = new TableV2(this, 'State', {
      partitionKey: { name: STATE_KEY, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: STATE_TTL,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Working memory, not a record: losing it only makes drift look like a first fix.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const logRemovalPolicy =
      config.functions.logRemovalPolicy === 'destroy'
        ? RemovalPolicy.DESTROY
        : RemovalPolicy.RETAIN;
    const { organization } = config;
    const controls = new Map<string, ControlRemediation>();
    for (const control of props.controls ?? CONTROLS) {
      controls.set(
        control.meta.id,
        new ControlRemediation(this, `Control-${controlFolder(control.meta.id)}`, {
          control,
          settings: resolveSettings(config, control),
          notifications: this.notifications,
          deadLetters: this.deadLetters,
          ledger: this.ledger,
          ledgerRetentionDays: config.ledger.retentionDays,
          idempotencyTable: this.idempotencyTable,
          stateTable: this.stateTable,
          remediateAction: this.remediateAction,
          planAction: this.planAction,
          reservedConcurrency: config.functions.reservedConcurrency,
          memorySize: config.functions.memorySize,
          logRetention: config.functions.logRetentionDays,
          logRemovalPolicy,
          tracing: config.functions.tracing,
          ...(organization ? { organization } : {}),
        }),
      );
    }
    this.controls = controls;
    this.memberRoles = organization
      ? this.deployMemberRoles(
          organization,
          [...controls.values()].map((remediation) => ({
            definition: remediation.control,
            params: remediation.settings.params,
            centralRoleArn: remediation.handler.role.roleArn,
          })),
        )
      : undefined;

    this.reconciler = new Reconciler(this, 'Reconciler', {
      config: config.reconcile,
      controls: new Map([...controls].map(([controlId, c]) => [controlId, c.handler.function])),
      topic: this.notifications.topic,
      stateTable: this.stateTable,
      memorySize: config.functions.memorySize,
      logRetention: config.functions.logRetentionDays,
      logRemovalPolicy,
      ...(organization ? { organization: scopeOf(organization) } : {}),
      tracing: config.functions.tracing,
      // With "none" nothing is reserved, the reconciler's one too.
      oneAtATime: config.functions.reservedConcurrency !== 'none',
    });

    const deployed = [...controls].map(([controlId, control]) => ({
      controlId,
      function: control.handler.function,
      logGroup: control.handler.logGroup,
    }));
    this.alarms = new HubfixAlarms(this, 'Alarms', {
      topic: this.notifications.topic,
      deadLetterQueue: this.deadLetters.queue,
      // A sweep that stops on an error is as much a failure as a control's.
      functions: [
        ...deployed,
        { controlId: 'reconciler', logGroup: this.reconciler.handler.logGroup },
      ],
      throttles: config.alarms.throttles,
    });
    this.dashboard = config.dashboard.enabled
      ? new HubfixDashboard(this, 'Dashboard', {
          dashboardName: config.dashboard.name ?? DEFAULT_DASHBOARD_NAME,
          controls: deployed,
          deadLetterQueue: this.deadLetters.queue,
          alarms: this.alarms.all,
          functionErrors: this.alarms.functionErrorsMetric,
        })
      : undefined;

    new CfnOutput(this, TOPIC_OUTPUT, { value: this.notifications.topic.topicArn });
    new CfnOutput(this, LEDGER_TABLE_OUTPUT, {
      value: this.ledger.tableName,
      description: 'Read by `npx hubfix history` and `npx hubfix rollback`',
    });
    for (const [controlId, remediation] of controls) {
      new CfnOutput(this, functionOutputKey(controlId), {
        value: remediation.handler.function.functionArn,
        description: `hubfix ${controlId}: the function \`npx hubfix remediate|plan\` invokes`,
      });
    }
    new CfnOutput(this, 'RemediateActionArn', { value: this.remediateAction.actionTargetArn });
    new CfnOutput(this, 'PlanActionArn', { value: this.planAction.actionTargetArn });
    new CfnOutput(this, RECONCILER_SETTINGS_OUTPUT, {
      value: this.reconciler.settings,
      description: 'Read by `npx hubfix backfill`: the control functions and the grace period',
    });
    if (this.reconciler.organization) {
      new CfnOutput(this, ORGANIZATION_SCOPE_OUTPUT, {
        value: this.reconciler.organization,
        description: 'Read by `npx hubfix backfill`: the member accounts and regions it sweeps',
      });
    }
    new CfnOutput(this, STATE_TABLE_OUTPUT, {
      value: this.stateTable.tableName,
      description: 'Read by `npx hubfix backfill`: what hubfix last did with each finding',
    });
    if (this.memberRoles) {
      new CfnOutput(this, 'MemberRolesStackSetId', {
        value: this.memberRoles.attrStackSetId,
        description: 'The member roles, deployed to the organization by a service-managed StackSet',
      });
    }
  }

  /**
   * The member roles as a service-managed StackSet, deployed by this account
   * as the organization's StackSets delegated administrator to every account
   * of the target OUs (and automatically to accounts that join them later).
   * IAM is global, so one region holds each account's roles.
   */
  private deployMemberRoles(
    organization: OrganizationConfig,
    controls: readonly MemberControl[],
  ): CfnStackSet {
    return new CfnStackSet(this, 'MemberRoles', {
      stackSetName: MEMBER_ROLES_STACK_SET_NAME,
      description: 'hubfix member roles: one IAM role per control, and the rollback role',
      permissionModel: 'SERVICE_MANAGED',
      callAs: 'DELEGATED_ADMIN',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: {
            organizationalUnitIds: [...organization.deploymentTargets.organizationalUnitIds],
          },
          regions: [this.region],
        },
      ],
      templateBody: this.toJsonString(
        memberTemplate({
          organization,
          controls,
          administratorAccount: this.account,
          partition: this.partition,
        }),
      ),
    });
  }
}
