import * as path from 'node:path';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ENVIRONMENT } from '../../lambdas/core/env';
import type { OrganizationScope } from '../../lambdas/core/organization';
import {
  RECONCILE_EVENT,
  RECONCILER_ENVIRONMENT,
  SWEEP_CLAIM_PREFIX,
} from '../../lambdas/reconciler/env';
import type { ReconcileConfig, TracingMode } from '../config';
import { HUBS } from '../controls';
import { RemediationFunction } from './remediation-function';

const ENTRY = path.resolve(import.meta.dirname, '..', '..', 'lambdas', 'reconciler', 'handler.ts');

export interface ReconcilerProps {
  /** reconcile.* from the config: schedule, whether it runs, grace period. */
  readonly config: ReconcileConfig;
  /** The deployed controls' functions, by control id: the only functions it may invoke. */
  readonly controls: ReadonlyMap<string, IFunction>;
  /** Where the sweep's summary goes. */
  readonly topic: ITopic;
  /** Finding histories (read) and the sweep's step claims. */
  readonly stateTable: ITableV2;
  /**
   * Org mode: the member accounts and regions to sweep, as the control
   * functions get them (HUBFIX_ORGANIZATION).
   * @default undefined — single-account mode: this account and region
   */
  readonly organization?: OrganizationScope;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 'pass-through' */
  readonly tracing?: TracingMode;
  /**
   * Reserve one concurrent execution, so one sweep runs at a time (a step's
   * claim keeps a redelivery from running twice either way).
   * @default true
   */
  readonly oneAtATime?: boolean;
}

/**
 * The reconciler: one function on an EventBridge Scheduler schedule that
 * sweeps the deployed controls' failed findings (in org mode those of the
 * allowed member accounts and regions, through this account's Security
 * Hub) and hands those that need it to their control's function (README,
 * "Lifecycle").
 */
export class Reconciler extends Construct {
  readonly handler: RemediationFunction;
  readonly schedule: Schedule;
  /** The sweep's settings as the function gets them (JSON): `npx hubfix backfill` reads them too. */
  readonly settings: string;
  /** Org mode: the organization scope as the function gets it (JSON), for `backfill` too. */
  readonly organization: string | undefined;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const controls = [...props.controls.entries()];
    this.settings = stack.toJsonString({
      controls: Object.fromEntries(controls.map(([controlId, fn]) => [controlId, fn.functionName])),
      graceHours: props.config.graceHours,
    });
    this.organization = props.organization ? JSON.stringify(props.organization) : undefined;
    this.handler = new RemediationFunction(this, 'Handler', {
      entry: ENTRY,
      description: 'hubfix reconciler: backfill, drift and lapsed suppressions of failed findings',
      // Long pages of work per invocation; a sweep longer than that hands itself on.
      timeout: Duration.minutes(15),
      memorySize: props.memorySize,
      // One sweep at a time; a hand-on waits for the invocation that sent it.
      reservedConcurrentExecutions: (props.oneAtATime ?? true) ? 1 : 'none',
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      tracing: props.tracing,
      environment: {
        [RECONCILER_ENVIRONMENT.settings]: this.settings,
        [RECONCILER_ENVIRONMENT.partition]: stack.partition,
        [ENVIRONMENT.topicArn]: props.topic.topicArn,
        [ENVIRONMENT.account]: stack.account,
        [ENVIRONMENT.stateTable]: props.stateTable.tableName,
        ...(this.organization ? { [ENVIRONMENT.organization]: this.organization } : {}),
      },
    });
    const fn = this.handler.function;
    // A step that fails releases its claim, so Lambda's retry does it again.
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    this.grant(
      props,
      controls.map(([, control]) => control),
    );

    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'hubfix: lets EventBridge Scheduler start the reconciler',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'hubfix: sweep the failed findings of the deployed controls',
      schedule: ScheduleExpression.expression(props.config.schedule),
      enabled: props.config.enabled,
      target: new LambdaInvoke(fn, {
        // The scheduled time names the sweep: a redelivery of it is recognised.
        input: ScheduleTargetInput.fromObject({
          type: RECONCILE_EVENT,
          sweepId: ContextAttribute.scheduledTime,
        }),
        role: scheduleRole,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });
    NagSuppressions.addResourceSuppressions(
      scheduleRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "EventBridge Scheduler's Lambda target grants the reconciler function and its versions (:*), that one function only.",
          appliesTo: [{ regex: '/^Resource::<ReconcilerHandlerFunction[0-9A-F]+\\.Arn>:\\*$/' }],
        },
      ],
      true,
    );
  }

  private grant(props: ReconcilerProps, controls: readonly IFunction[]): void {
    const stack = Stack.of(this);
    const { role } = this.handler;
    props.topic.grantPublish(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadFailedFindings',
        // Authorizes GetFindingsV2 too: IAM has no securityhub:GetFindingsV2 action.
        actions: ['securityhub:GetFindings'],
        resources: HUBS.map((hub) => stack.formatArn(hub)),
      }),
    );
    // Histories of the deployed controls' findings, read only.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadFindingHistories',
        actions: ['dynamodb:GetItem'],
        resources: [props.stateTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [...props.controls.keys()].map((id) => `${id}#finding#*`),
          },
        },
      }),
    );
    // Its own step claims, nothing else.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ClaimSweepSteps',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.stateTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SWEEP_CLAIM_PREFIX}*`] },
        },
      }),
    );
    // A policy of its own: in the default policy the function would depend on itself.
    new Policy(this, 'InvokePolicy', {
      roles: [role],
      statements: [
        new PolicyStatement({
          sid: 'HandFindingsToTheirControls',
          actions: ['lambda:InvokeFunction'],
          resources: controls.map((control) => control.functionArn),
        }),
        new PolicyStatement({
          sid: 'HandTheSweepOn',
          actions: ['lambda:InvokeFunction'],
          resources: [this.handler.function.functionArn],
        }),
      ],
    });
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray accepts no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "Security Hub's new hub is named by an id assigned when it is enabled (hubv2/<id>); there is one per account and region, and hubv2/* in this account and region is that one.",
          appliesTo: [{ regex: '/^Resource::arn:.*:securityhub:.*:hubv2\\/\\*$/' }],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Publishing to the encrypted topic needs the GenerateDataKey variants, granted on the topic key only.',
          appliesTo: ['Action::kms:GenerateDataKey*'],
        },
      ],
      true,
    );
  }
}
