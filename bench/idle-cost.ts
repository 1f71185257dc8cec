/**
 * What a synthesized template costs a month while no finding arrives,
 * computed by walking its resources: each resource type is either priced
 * (alarms per metric they read, KMS keys, dashboards beyond the free ones,
 * schedules per run) or free while idle, with the reason. A type the walker
 * does not know is listed as unpriced, so a new kind of resource cannot slip
 * into the figure unseen, and a new alarm or key shows up in it at once.
 */
import { PRICES } from './prices';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export interface IdleLine {
  readonly logicalId: string;
  readonly type: string;
  /** Dollars a month while idle. */
  readonly monthly: number;
  /** What the figure is made of, or why it is $0. */
  readonly basis: string;
}

export interface IdleCost {
  /** Dollars a month while idle, dashboards counted as free (within the account's first three). */
  readonly monthly: number;
  /** What the dashboards add when the account already has three. */
  readonly dashboardsBeyondFree: number;
  readonly lines: readonly IdleLine[];
  /** Resource types the walker has no rule for: the figure leaves them out. */
  readonly unpriced: readonly { readonly logicalId: string; readonly type: string }[];
}

type Rule = (properties: Readonly<Record<string, unknown>>) => { monthly: number; basis: string };

const free =
  (basis: string): Rule =>
  () => ({ monthly: 0, basis });

/** Runs a month of a `rate(...)` or `cron(...)` expression (cron: only its minute and hour fields). */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const every = Number(rate[1]);
    const unit = rate[2] ?? '';
    const perDay = unit.startsWith('minute')
      ? 1440 / every
      : unit.startsWith('hour')
        ? 24 / every
        : 1 / every;
    return perDay * 30;
  }
  const cron = /^cron\((\S+)\s+(\S+)\s/.exec(expression.trim());
  if (cron) {
    const count = (field: string, size: number) =>
      field === '*'
        ? size
        : field.includes('/')
          ? size / Number(field.split('/')[1])
          : field.split(',').length;
    return count(cron[1] ?? '0', 60) * count(cron[2] ?? '0', 24) * 30;
  }
  throw new Error(`the idle-cost walker cannot read the schedule "${expression}"`);
}

const alarm: Rule = (p) => {
  const metrics = p.Metrics as readonly { MetricStat?: { Period?: number } }[] | undefined;
  const read = metrics
    ? metrics.filter((m) => m.MetricStat)
    : [{ MetricStat: { Period: Number(p.Period ?? 60) } }];
  const highResolution = (period: number | undefined) => period !== undefined && period < 60;
  const monthly = read.reduce(
    (n, m) =>
      n +
      (highResolution(m.MetricStat?.Period)
        ? PRICES.cloudWatch.perHighResolutionAlarmMetricMonth
        : PRICES.cloudWatch.perAlarmMetricMonth),
    0,
  );
  return {
    monthly,
    basis: `${read.length} metric${read.length === 1 ? '' : 's'} read, $${PRICES.cloudWatch.perAlarmMetricMonth} each (standard resolution)`,
  };
};

const schedule: Rule = (p) => {
  const expression = String(p.ScheduleExpression ?? '');
  const runs = runsPerMonth(expression);
  return {
    monthly: runs * PRICES.scheduler.perInvocation,
    basis: `${expression}: ${Math.round(runs)} runs a month at $${PRICES.scheduler.perInvocation * 1e6} per million (the first 14 million a month are free); each run also costs what its target does`,
  };
};

const RULES: Readonly<Record<string, Rule>> = {
  'AWS::CloudWatch::Alarm': alarm,
  'AWS::KMS::Key': (p) => ({
    monthly: p.Enabled === false ? 0 : PRICES.kms.perKeyMonth,
    basis: `a customer-managed key, $${PRICES.kms.perKeyMonth} a month (requests extra)`,
  }),
  'AWS::CloudWatch::Dashboard': () => ({
    monthly: 0,
    basis: `$0 within the account's first ${PRICES.cloudWatch.freeDashboardsPerAccount} dashboards, else $${PRICES.cloudWatch.perDashboardMonth} a month`,
  }),
  'AWS::Scheduler::Schedule': schedule,
  'AWS::Events::Rule': (p) =>
    p.ScheduleExpression === undefined
      ? { monthly: 0, basis: 'matches events; AWS service events on the default bus are free' }
      : {
          monthly: 0,
          basis: `scheduled rule, ${Math.round(runsPerMonth(String(p.ScheduleExpression)))} runs a month; each run costs what its target does`,
        },
  'AWS::DynamoDB::GlobalTable': (p) => {
    const replicas = (p.Replicas ?? []) as {
      PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled?: boolean };
    }[];
    const pitr = replicas.some(
      (r) => r.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled,
    );
    return {
      monthly: 0,
      basis: `on-demand: $0 without requests; storage $${PRICES.dynamodb.perGbMonthStorage}/GB-month${pitr ? ` and point-in-time recovery $${PRICES.dynamodb.perGbMonthPitr}/GB-month` : ''} of what it holds (an empty table: $0)`,
    };
  },
  'AWS::DynamoDB::Table': free('on-demand: $0 without requests; storage by what it holds'),
  'AWS::Logs::LogGroup': (p) => ({
    monthly: 0,
    basis: `$${PRICES.logs.perGbMonthStored}/GB-month of what it holds, kept ${String(p.RetentionInDays ?? 'forever')} days; nothing is logged while idle`,
  }),
  'AWS::Logs::MetricFilter': free('free; its metric is billed only for the hours it receives data'),
  'AWS::Lambda::Function': free('billed per request and duration: nothing while idle'),
  'AWS::Lambda::EventInvokeConfig': free('configuration'),
  'AWS::Lambda::Permission': free('configuration'),
  'AWS::SQS::Queue': free('billed per request: nothing is sent or polled while idle'),
  'AWS::SQS::QueuePolicy': free('configuration'),
  'AWS::SNS::Topic': free('billed per publish and delivery: nothing while idle'),
  'AWS::SNS::TopicPolicy': free('configuration'),
  'AWS::SNS::Subscription': free('billed per delivery: nothing while idle'),
  'AWS::IAM::Role': free('IAM is free'),
  'AWS::IAM::Policy': free('IAM is free'),
  'AWS::IAM::ManagedPolicy': free('IAM is free'),
  'AWS::SecurityHub::ActionTarget': free('custom actions are free'),
  'AWS::CloudFormation::StackSet': free(
    'StackSets are free; what they deploy is priced in its own template',
  ),
  'AWS::CDK::Metadata': free('CDK bookkeeping'),
};

export function idleCost(resources: Readonly<Record<string, TemplateResource>>): IdleCost {
  const lines: IdleLine[] = [];
  const unpriced: { logicalId: string; type: string }[] = [];
  let dashboards = 0;
  for (const [logicalId, resource] of Object.entries(resources)) {
    const rule =
      RULES[resource.Type] ??
      (resource.Type.startsWith('Custom::') ? free('runs at deploy time only') : undefined);
    if (!rule) {
      unpriced.push({ logicalId, type: resource.Type });
      continue;
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') dashboards += 1;
    lines.push({ logicalId, type: resource.Type, ...rule(resource.Properties ?? {}) });
  }
  return {
    monthly: lines.reduce((n, l) => n + l.monthly, 0),
    dashboardsBeyondFree: dashboards * PRICES.cloudWatch.perDashboardMonth,
    lines,
    unpriced,
  };
}

/** The idle cost by resource type: count and dollars, for a table. */
export function idleCostByType(
  cost: IdleCost,
): { type: string; count: number; monthly: number; basis: string }[] {
  const byType = new Map<string, { type: string; count: number; monthly: number; basis: string }>();
  for (const line of cost.lines) {
    const row = byType.get(line.type) ?? {
      type: line.type,
      count: 0,
      monthly: 0,
      basis: line.basis,
    };
    row.count += 1;
    row.monthly += line.monthly;
    byType.set(line.type, row);
  }
  return [...byType.values()].sort((a, b) => b.monthly - a.monthly || a.type.localeCompare(b.type));
}
