import { describe, expect, it } from 'vitest';
import { COST_ASSUMPTIONS, type FixUsage, fixCost } from '../../../bench/fix-cost';
import { PRICES } from '../../../bench/prices';

const idle: FixUsage = {
  cpuMs: 0,
  apiCalls: 0,
  waitSeconds: 0,
  memoryMb: 1024,
  dynamodb: {},
  snsBytes: [],
  eventBytes: [],
  logBytes: 0,
  logLines: 0,
  metricsRequested: 0,
  tracing: 'pass-through',
};

const line = (cost: ReturnType<typeof fixCost>, service: string) =>
  cost.lines.find((l) => l.service === service)?.per1000;

describe('cost per 1,000 findings', () => {
  it('bills Lambda by duration × memory: calls × latency, CPU, the cold-start share and any wait', () => {
    // Prepare: 1 GB, 10 calls, 5 ms of CPU, a 60-second wait.
    const use = { ...idle, cpuMs: 5, apiCalls: 10, waitSeconds: 60 };
    const a = COST_ASSUMPTIONS;
    const durationMs = 5 + 10 * a.apiLatencyMs + a.coldStartShare * a.coldStartInitMs + 60_000;

    // Act
    const cost = fixCost(use);

    // Assess
    expect(cost.durationMs).toBeCloseTo(durationMs);
    expect(line(cost, 'Lambda duration')).toBeCloseTo(durationMs * PRICES.lambda.perGbSecond);
    expect(line(cost, 'Lambda requests')).toBeCloseTo(0.0002);
  });

  it('waits for calls made at once only as long as the longest chain of them', () => {
    // Prepare: 10 calls, 4 of them in parallel with others.
    const a = COST_ASSUMPTIONS;
    const use = { ...idle, apiCalls: 10, apiWaitMs: 6 * a.apiLatencyMs };

    // Act
    const cost = fixCost(use);

    // Assess
    expect(cost.durationMs).toBeCloseTo(6 * a.apiLatencyMs + a.coldStartShare * a.coldStartInitMs);
  });

  it('counts a trace per invocation with active tracing, none passing through', () => {
    expect(line(fixCost({ ...idle, tracing: 'active' }), 'X-Ray')).toBeCloseTo(0.005);
    expect(line(fixCost(idle), 'X-Ray')).toBe(0);
  });

  it('bills DynamoDB per request unit, and SNS and EventBridge per started 64 KB', () => {
    // Prepare
    const use = {
      ...idle,
      dynamodb: { ledger: { wru: 4, rru: 0 }, state: { wru: 3, rru: 1 } },
      snsBytes: [1500],
      eventBytes: [70 * 1024],
    };

    // Act
    const cost = fixCost(use);

    // Assess
    expect(line(cost, 'DynamoDB ledger')).toBeCloseTo(4 * 0.000625);
    expect(line(cost, 'DynamoDB state')).toBeCloseTo(3 * 0.000625 + 0.000125);
    expect(line(cost, 'SNS')).toBeCloseTo(0.0005);
    expect(line(cost, 'EventBridge')).toBeCloseTo(2 * 0.001);
  });

  it('bills logs by the bytes logged, with Lambda’s own lines and the per-event overhead', () => {
    // Prepare
    const use = { ...idle, logBytes: 1000, logLines: 2 };
    const a = COST_ASSUMPTIONS;
    const bytes = 1000 + a.platformLogBytes + (2 + a.platformLogLines) * a.logEventOverheadBytes;

    // Act
    const cost = fixCost(use);

    // Assess
    expect(line(cost, 'CloudWatch Logs')).toBeCloseTo((1000 * bytes * 0.5) / 1024 ** 3, 10);
    expect(line(cost, 'CloudWatch GetMetricData')).toBeUndefined();
    expect(cost.per1000).toBeCloseTo(cost.lines.reduce((n, l) => n + l.per1000, 0));
  });
});
