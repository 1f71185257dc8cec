/**
 * Module singletons, created once per execution environment as Powertools
 * recommends. Service name and namespace come from POWERTOOLS_* variables set
 * by the stack; the defaults keep local runs and tests quiet and consistent.
 * Tracing is lambdas/core/tracing.ts (see why there).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsPort } from './ports';

export const SERVICE_NAME = 'hubfix';
export const METRICS_NAMESPACE = 'hubfix';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

export const countMetric: MetricsPort = {
  count(name) {
    metrics.addMetric(name, MetricUnit.Count, 1);
  },
  timing(name, milliseconds) {
    metrics.addMetric(name, MetricUnit.Milliseconds, milliseconds);
  },
};
