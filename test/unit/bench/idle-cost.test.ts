import { describe, expect, it } from 'vitest';
import { idleCost, runsPerMonth } from '../../../bench/idle-cost';
import { PRICES } from '../../../bench/prices';

const alarm = (metrics?: readonly unknown[]) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: metrics ? { Metrics: metrics } : { MetricName: 'Errors', Period: 300 },
});

describe('idle cost, walked from a template', () => {
  it('prices a new alarm as soon as it is in the template', () => {
    // Prepare
    const one = { A: alarm() };
    const two = { A: alarm(), B: alarm() };

    // Act / Assess
    expect(idleCost(two).monthly - idleCost(one).monthly).toBeCloseTo(
      PRICES.cloudWatch.perAlarmMetricMonth,
    );
  });

  it('bills a metric-math alarm per metric it reads, and a high-resolution one at its price', () => {
    // Prepare: three metrics and one expression over them; one metric at 10 seconds.
    const math = alarm([
      { Id: 'a', MetricStat: { Period: 300 } },
      { Id: 'b', MetricStat: { Period: 300 } },
      { Id: 'c', MetricStat: { Period: 10 } },
      { Id: 'total', Expression: 'a+b+c' },
    ]);

    // Act
    const cost = idleCost({ Math: math });

    // Assess
    expect(cost.monthly).toBeCloseTo(
      2 * PRICES.cloudWatch.perAlarmMetricMonth +
        PRICES.cloudWatch.perHighResolutionAlarmMetricMonth,
    );
  });

  it('counts keys and dashboards, and lists a type it has no rule for instead of pricing it $0', () => {
    // Prepare
    const template = {
      Key: { Type: 'AWS::KMS::Key', Properties: {} },
      Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} },
    };

    // Act
    const cost = idleCost(template);

    // Assess
    expect(cost.monthly).toBe(PRICES.kms.perKeyMonth);
    expect(cost.dashboardsBeyondFree).toBe(PRICES.cloudWatch.perDashboardMonth);
    expect(cost.unpriced).toEqual([{ logicalId: 'Nat', type: 'AWS::EC2::NatGateway' }]);
  });

  it('prices a schedule per run', () => {
    // Prepare
    const schedule = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: { ScheduleExpression: 'rate(1 hour)' },
    };

    // Act
    const cost = idleCost({ Sweep: schedule });

    // Assess
    expect(runsPerMonth('rate(1 hour)')).toBe(720);
    expect(runsPerMonth('rate(15 minutes)')).toBe(2880);
    expect(runsPerMonth('cron(0 */6 * * ? *)')).toBe(120);
    expect(cost.monthly).toBeCloseTo(720 * PRICES.scheduler.perInvocation);
    expect(() => runsPerMonth('at(2026-01-01T00:00:00)')).toThrow(/cannot read/);
  });
});
