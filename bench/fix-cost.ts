/**
 * What one handled finding costs, every billed service counted, from what
 * the real pipeline consumed against canned answers (bench/measure.ts) and
 * the list prices (bench/prices.ts). Pure: the numbers in, dollars out.
 */
import { chunks, PRICES } from './prices';

/** Assumptions of the model, stated so they can be checked and changed. */
export const COST_ASSUMPTIONS = {
  /** Average latency of one AWS API call made from Lambda in the same region. */
  apiLatencyMs: 40,
  /** Share of invocations that start cold, and what a cold start adds. */
  coldStartShare: 0.05,
  coldStartInitMs: 400,
  /**
   * Lambda's own lines per invocation (START, END, REPORT with the X-Ray
   * trace id, text log format), bytes and lines.
   */
  platformLogBytes: 380,
  platformLogLines: 3,
  /** CloudWatch Logs counts 26 bytes per log event on top of its message. */
  logEventOverheadBytes: 26,
  /**
   * Traces recorded per invocation, by the functions' tracing mode. Active:
   * Lambda records the first invocation each second and 5% of the rest
   * ("Using AWS Lambda with AWS X-Ray"; not configurable for Lambda), so
   * findings that arrive apart are each traced: 1 is the worst case and the
   * usual one. Pass-through: only a caller's sampled trace is recorded, and
   * neither Security Hub nor EventBridge sends one.
   */
  tracesPerInvocation: { active: 1, 'pass-through': 0 },
} as const;

export type TracingMode = keyof typeof COST_ASSUMPTIONS.tracesPerInvocation;

export interface TableUse {
  readonly wru: number;
  readonly rru: number;
}

export interface FixUsage {
  readonly cpuMs: number;
  /** Every AWS API call the invocation made, bookkeeping included. */
  readonly apiCalls: number;
  /**
   * Time the invocation spent waiting for those calls, each taking
   * COST_ASSUMPTIONS.apiLatencyMs: calls made at once overlap, so this is
   * their critical path (bench/measure.ts runs the handler in simulated time).
   * @default apiCalls × apiLatencyMs: every call one after the other
   */
  readonly apiWaitMs?: number;
  /** The functions' X-Ray tracing mode, as deployed. */
  readonly tracing: TracingMode;
  /** Time a real fix waits for AWS to settle (canned answers settle at once). */
  readonly waitSeconds: number;
  readonly memoryMb: number;
  readonly dynamodb: Readonly<Record<string, TableUse>>;
  readonly snsBytes: readonly number[];
  readonly eventBytes: readonly number[];
  readonly logBytes: number;
  readonly logLines: number;
  readonly metricsRequested: number;
}

export interface CostLine {
  readonly service: string;
  readonly detail: string;
  /** Dollars per 1,000 findings of this outcome. */
  readonly per1000: number;
}

export interface FixCost {
  readonly durationMs: number;
  readonly lines: readonly CostLine[];
  readonly per1000: number;
}

export function fixCost(use: FixUsage): FixCost {
  const a = COST_ASSUMPTIONS;
  const apiWaitMs = use.apiWaitMs ?? use.apiCalls * a.apiLatencyMs;
  const durationMs =
    use.cpuMs + apiWaitMs + a.coldStartShare * a.coldStartInitMs + use.waitSeconds * 1000;
  const traces = a.tracesPerInvocation[use.tracing];
  const gbSeconds = (durationMs / 1000) * (use.memoryMb / 1024);
  const logEvents = use.logLines + a.platformLogLines;
  const logBytes = use.logBytes + a.platformLogBytes + logEvents * a.logEventOverheadBytes;
  const snsChunks = use.snsBytes.reduce((n, b) => n + chunks(b), 0);
  const eventChunks = use.eventBytes.reduce((n, b) => n + chunks(b), 0);
  const lines: CostLine[] = [
    {
      service: 'Lambda duration',
      detail: `${durationMs.toFixed(0)} ms × ${use.memoryMb} MB (${use.apiCalls} calls, ${apiWaitMs.toFixed(0)} ms waiting on them)`,
      per1000: 1000 * gbSeconds * PRICES.lambda.perGbSecond,
    },
    {
      service: 'Lambda requests',
      detail: '1 invocation',
      per1000: 1000 * PRICES.lambda.perRequest,
    },
    ...Object.entries(use.dynamodb).map(([table, t]) => ({
      service: `DynamoDB ${table}`,
      detail: `${t.wru} WRU, ${t.rru} RRU`,
      per1000:
        1000 *
        (t.wru * PRICES.dynamodb.perWriteRequestUnit + t.rru * PRICES.dynamodb.perReadRequestUnit),
    })),
    {
      service: 'SNS',
      detail: `${use.snsBytes.length} publish (${use.snsBytes.join(', ')} B), ${snsChunks} chunk`,
      per1000: 1000 * snsChunks * PRICES.sns.perPublishChunk,
    },
    {
      service: 'EventBridge',
      detail: `${use.eventBytes.length} outcome event (${use.eventBytes.join(', ')} B), ${eventChunks} chunk`,
      per1000: 1000 * eventChunks * PRICES.eventBridge.perEventChunk,
    },
    {
      service: 'CloudWatch Logs',
      detail: `${logBytes} B in ${logEvents} events (${use.logBytes} B from the handler)`,
      per1000: (1000 * logBytes * PRICES.logs.perGbIngested) / 1024 ** 3,
    },
    {
      service: 'X-Ray',
      detail: `${traces} trace (tracing ${use.tracing})`,
      per1000: 1000 * traces * PRICES.xray.perTraceRecorded,
    },
    ...(use.metricsRequested > 0
      ? [
          {
            service: 'CloudWatch GetMetricData',
            detail: `${use.metricsRequested} metrics`,
            per1000: 1000 * use.metricsRequested * PRICES.cloudWatch.perMetricRequested,
          },
        ]
      : []),
  ];
  return { durationMs, lines, per1000: lines.reduce((n, l) => n + l.per1000, 0) };
}
