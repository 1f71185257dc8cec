import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarm,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/core/powertools';
import type { ThrottleAlarm } from '../config';

/**
 * Every function's log group counts its failures into this one metric, with
 * no dimension, so one alarm ($0.10 a month) watches all of them. A log
 * metric filter costs nothing; its metric is billed only for the hours it
 * receives data, so nothing while hubfix is idle.
 */
export const FUNCTION_ERRORS_METRIC = {
  namespace: METRICS_NAMESPACE,
  metricName: 'FunctionErrors',
} as const;

/**
 * What a failure looks like in a function's log (text log format): the
 * pipeline's structured lines at level ERROR (a FAILED outcome, a finding
 * update or notification that failed, an unexpected error), the runtime's
 * own ERROR lines (an uncaught error, a bad environment at cold start), a
 * timeout and a crashed runtime.
 */
export const FUNCTION_ERROR_TERMS = ['ERROR', 'Task timed out', 'Runtime exited'] as const;

const PERIOD = Duration.minutes(5);

export interface FunctionLogs {
  readonly controlId: string;
  readonly logGroup: ILogGroup;
}

export interface HubfixAlarmsProps {
  /** Where every alarm goes. */
  readonly topic: ITopic;
  readonly deadLetterQueue: IQueue;
  readonly functions: readonly FunctionLogs[];
  /** @default 'account' */
  readonly throttles?: ThrottleAlarm;
}

/** Three alarms to the topic: dead letters, function errors, throttles. */
export class HubfixAlarms extends Construct {
  readonly deadLetters: Alarm;
  readonly functionErrors: Alarm;
  /** Undefined when `throttles` is 'off'. */
  readonly throttles: Alarm | undefined;
  readonly functionErrorsMetric: IMetric;

  constructor(scope: Construct, id: string, props: HubfixAlarmsProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);

    this.deadLetters = this.alarm('DeadLetters', action, {
      description:
        'hubfix: events could not be delivered to a control function, or kept failing; they are in the dead-letter queue (each message names its rule or function).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: 'Maximum',
      }),
    });

    for (const fn of props.functions) {
      new MetricFilter(this, `Errors-${fn.controlId}`, {
        logGroup: fn.logGroup,
        metricNamespace: FUNCTION_ERRORS_METRIC.namespace,
        metricName: FUNCTION_ERRORS_METRIC.metricName,
        filterPattern: FilterPattern.anyTerm(...FUNCTION_ERROR_TERMS),
        metricValue: '1',
      });
    }
    this.functionErrorsMetric = new Metric({
      ...FUNCTION_ERRORS_METRIC,
      period: PERIOD,
      statistic: 'Sum',
    });
    this.functionErrors = this.alarm('FunctionErrors', action, {
      description:
        'hubfix: a control function logged an error, timed out or crashed. The dashboard\'s "Last failures" shows which finding and why.',
      metric: this.functionErrorsMetric,
    });

    this.throttles =
      (props.throttles ?? 'account') === 'account'
        ? this.alarm('Throttles', action, {
            description:
              'Lambda throttled invocations in this account and region for 15 minutes (any function, hubfix or not). hubfix functions have small reserved concurrency on purpose; their throttled events are retried for 6 hours and reach the dead-letter queue only after that. The dashboard shows throttles per hubfix function.',
            metric: LambdaFunction.metricAllThrottles({ period: PERIOD, statistic: 'Sum' }),
            // A burst of findings throttles for a moment by design; only a
            // throttle that lasts means hubfix is falling behind.
            evaluationPeriods: 3,
          })
        : undefined;
  }

  get all(): readonly IAlarm[] {
    return [this.deadLetters, this.functionErrors, ...(this.throttles ? [this.throttles] : [])];
  }

  private alarm(
    id: string,
    action: SnsAction,
    options: { description: string; metric: IMetric; evaluationPeriods?: number },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: 1,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
