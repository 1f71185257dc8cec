import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/core/powertools';
import type { OutcomeKind } from '../../lambdas/core/report';
import { FUNCTION_ERROR_TERMS } from './alarms';

/** The outcomes the pipeline counts, one metric each (the outcome's kind). */
export const OUTCOME_METRICS = [
  'REMEDIATED',
  'PLANNED',
  'NOTIFIED',
  'SUPPRESSED',
  'BLOCKED',
  'FAILED',
  'DEFERRED',
  'DRIFTED',
  'IGNORED',
  'ALREADY_COMPLIANT',
] as const;

// A new outcome kind fails the typecheck here until the dashboard shows it.
type Unlisted = Exclude<OutcomeKind, (typeof OUTCOME_METRICS)[number]>;
const everyOutcomeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOutcomeListed;

/** Milliseconds from the start of a fix to its verified end, per control. */
export const REMEDIATION_DURATION_METRIC = 'RemediationDuration';

export interface DashboardControl {
  readonly controlId: string;
  readonly function: IFunction;
  readonly logGroup: ILogGroup;
}

export interface HubfixDashboardProps {
  readonly dashboardName: string;
  readonly controls: readonly DashboardControl[];
  readonly deadLetterQueue: IQueue;
  readonly alarms: readonly IAlarm[];
  /** The metric the function-errors alarm watches. */
  readonly functionErrors: IMetric;
}

const HOUR = Duration.hours(1);

/** The dimensions Powertools Metrics adds to every metric a function emits. */
function controlDimensions(controlId: string): Record<string, string> {
  return { service: SERVICE_NAME, control: controlId };
}

function outcomeMetric(controlId: string, outcome: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: outcome,
    dimensionsMap: controlDimensions(controlId),
    statistic: 'Sum',
    period: HOUR,
    label: outcome,
  });
}

/**
 * What hubfix did and whether it is healthy, on one page. Useful from the
 * first finding: totals over the whole time range beside the time series,
 * and the log lines of the latest failures.
 */
export class HubfixDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: HubfixDashboardProps) {
    super(scope, id);
    const { controls } = props;
    const dashboard = new Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });
    this.dashboard = dashboard;

    dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown: [
          '# hubfix',
          'Findings handled per control and outcome, how long fixes take, and whether the functions are healthy. Built by the hubfix stack: changes made here are lost on the next deploy. Counts start with the first finding handled.',
        ].join('\n'),
      }),
    );
    dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Findings handled in the time range, all controls',
        width: 18,
        height: 4,
        setPeriodToTimeRange: true,
        metrics: OUTCOME_METRICS.map((outcome) => {
          // Ids are unique across the widget's expressions.
          const ids = controls.map((_, i) => `${outcome.toLowerCase()}${i}`);
          return new MathExpression({
            expression: `SUM([${ids.join(', ')}])`,
            usingMetrics: Object.fromEntries(
              controls.map((control, i) => [ids[i], outcomeMetric(control.controlId, outcome)]),
            ),
            label: outcome,
            // The widget sums over its whole time range; this only matches the metrics'.
            period: HOUR,
          });
        }),
      }),
      new AlarmStatusWidget({ title: 'Alarms', width: 6, height: 4, alarms: [...props.alarms] }),
    );
    dashboard.addWidgets(
      ...controls.map(
        (control) =>
          new GraphWidget({
            title: `${control.controlId}: findings handled by outcome (per hour)`,
            width: 8,
            height: 6,
            stacked: true,
            left: OUTCOME_METRICS.map((outcome) => outcomeMetric(control.controlId, outcome)),
          }),
      ),
    );
    dashboard.addWidgets(
      ...(['p50', 'p99'] as const).map(
        (statistic) =>
          new GraphWidget({
            title: `Remediation duration ${statistic} (ms)`,
            width: 12,
            height: 6,
            left: controls.map(
              (control) =>
                new Metric({
                  namespace: METRICS_NAMESPACE,
                  metricName: REMEDIATION_DURATION_METRIC,
                  dimensionsMap: controlDimensions(control.controlId),
                  statistic,
                  period: HOUR,
                  label: control.controlId,
                }),
            ),
          }),
      ),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors (logged errors, timeouts, crashes)',
        width: 8,
        height: 6,
        left: [props.functionErrors],
      }),
      new GraphWidget({
        title: 'Throttles by function',
        width: 8,
        height: 6,
        left: controls.map((control) =>
          control.function.metricThrottles({ label: control.controlId, statistic: 'Sum' }),
        ),
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        width: 8,
        height: 6,
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            label: 'messages waiting',
          }),
        ],
      }),
    );
    const logGroupNames = controls.map((control) => control.logGroup.logGroupName);
    const runtimeFailures = FUNCTION_ERROR_TERMS.filter((term) => term !== 'ERROR').join('|');
    dashboard.addWidgets(
      new LogQueryWidget({
        title: 'Last failures',
        width: 24,
        height: 6,
        logGroupNames,
        queryLines: [
          'fields @timestamp, control, outcome, message, reason, resource, findingId, @message',
          `filter level = "ERROR" or @message like /${runtimeFailures}/`,
          'sort @timestamp desc',
          'limit 50',
        ],
      }),
      new LogQueryWidget({
        title: 'Latest findings handled',
        width: 24,
        height: 6,
        logGroupNames,
        queryLines: [
          'fields @timestamp, control, outcome, decision, reason, resource, findingId',
          'filter message = "finding handled"',
          'sort @timestamp desc',
          'limit 50',
        ],
      }),
    );
  }
}
