/**
 * Every price the bench and the idle-cost figure use, in one place: AWS list
 * prices for us-east-1 (US East, N. Virginia), on-demand, before free tiers
 * and volume tiers, recorded here on PRICES_AS_OF. The machine that runs the
 * bench cannot reach the pricing pages; each price was checked against the
 * stored copies of public pages the `search` tool reaches, and
 * PRICE_SOURCES says where, how directly, and on which day. Check again
 * before quoting a figure long after that date.
 */
export const PRICES_AS_OF = '2026-12-01';
export const PRICE_REGION = 'us-east-1';

export const PRICES = {
  lambda: {
    /** arm64, first tier (the first 7.5 billion GB-seconds a month). */
    perGbSecond: 0.0000133334,
    perRequest: 0.2 / 1e6,
  },
  dynamodb: {
    /** On-demand, Standard table class (prices of November 2024). */
    perWriteRequestUnit: 0.625 / 1e6,
    perReadRequestUnit: 0.125 / 1e6,
    perGbMonthStorage: 0.25,
    perGbMonthPitr: 0.2,
  },
  sns: {
    /** Standard topic: each 64 KB chunk of a publish is one request. */
    perPublishChunk: 0.5 / 1e6,
    perEmailDelivery: 2 / 1e5,
  },
  eventBridge: {
    /** Custom events put on a bus: each 64 KB chunk of an entry is one event. */
    perEventChunk: 1 / 1e6,
    /** Events of AWS services (Security Hub findings) on the default bus are free. */
    perAwsServiceEvent: 0,
  },
  scheduler: { perInvocation: 1 / 1e6 },
  logs: {
    /** Standard log class. */
    perGbIngested: 0.5,
    perGbMonthStored: 0.03,
  },
  xray: { perTraceRecorded: 5 / 1e6 },
  cloudWatch: {
    /** Standard resolution, per metric an alarm reads, per month. */
    perAlarmMetricMonth: 0.1,
    perHighResolutionAlarmMetricMonth: 0.3,
    /** Beyond the 3 free dashboards of an account (not per region). */
    perDashboardMonth: 3,
    freeDashboardsPerAccount: 3,
    perMetricRequested: 0.01 / 1000,
  },
  kms: { perKeyMonth: 1 },
  sqs: { perRequest: 0.4 / 1e6 },
} as const;

/** 64 KB: the chunk SNS and EventBridge bill a message by. */
export const BILLING_CHUNK_BYTES = 64 * 1024;

export const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / BILLING_CHUNK_BYTES));

/**
 * Where each price was checked (2026-12-01). `aws`: AWS's own pricing page
 * states it. `secondary`: the AWS page renders its prices in the browser, so
 * its stored copy holds none; the price is as third-party pages quoting it
 * in 2025–2026 state it, and they agree. `unconfirmed`: no stored page states
 * it; the figure is from memory of the AWS page.
 */
export const PRICE_SOURCES: readonly {
  readonly price: string;
  readonly confirmed: 'aws' | 'secondary' | 'unconfirmed';
  readonly source: string;
}[] = [
  {
    price: 'Lambda arm64 $0.0000133334 per GB-second, $0.20 per million requests',
    confirmed: 'secondary',
    source:
      'https://aws.amazon.com/lambda/pricing/ (prices not in its stored text); cloudchipr.com/blog/aws-lambda-pricing; artillery lib/platform/aws-lambda/prices.js (arm64 1333340e-11)',
  },
  {
    price:
      'DynamoDB on-demand $0.625 per million WRU, $0.125 per million RRU (since November 2024)',
    confirmed: 'secondary',
    source:
      'https://aws.amazon.com/dynamodb/pricing/on-demand/ (not stored); airbyte.com/data-engineering-resources/dynamodb-pricing; AWS News Blog, "Amazon DynamoDB On-Demand" (updated 2025-01-31 for the reduced price)',
  },
  {
    price: 'SNS $0.50 per million publishes (64 KB chunks); email $2 per 100,000',
    confirmed: 'secondary',
    source:
      'https://aws.amazon.com/sns/pricing/ (not stored); factualminds.com SNS pricing (2026-06-13)',
  },
  {
    price: 'EventBridge $1.00 per million custom events (64 KB chunks); AWS service events free',
    confirmed: 'secondary',
    source:
      'https://aws.amazon.com/eventbridge/pricing/ (not stored); cloudburn.io/blog/amazon-eventbridge-pricing (March 2026); factualminds.com EventBridge pricing (June 2026)',
  },
  {
    price: 'CloudWatch Logs $0.50 per GB ingested (standard class)',
    confirmed: 'secondary',
    source:
      'https://aws.amazon.com/cloudwatch/pricing/ (not stored); factualminds.com CloudWatch pricing (2026-06-13); cloudburn.io/blog/amazon-cloudwatch-pricing (February 2026)',
  },
  {
    price: 'X-Ray $5.00 per million traces recorded (first 100,000 a month free)',
    confirmed: 'aws',
    source:
      'https://aws.amazon.com/xray/pricing/ (stored in German, Chinese and Vietnamese: $0.000005 per trace)',
  },
  {
    price: 'CloudWatch alarm $0.10 per standard-resolution metric a month, $0.30 high resolution',
    confirmed: 'secondary',
    source: 'c3x.dev aws_cloudwatch_metric_alarm cost estimation',
  },
  {
    price: 'CloudWatch dashboard $3 a month beyond the first 3',
    confirmed: 'secondary',
    source: 'factualminds.com CloudWatch pricing (2026-06-13)',
  },
  {
    price: 'CloudWatch GetMetricData $0.01 per 1,000 metrics requested',
    confirmed: 'secondary',
    source: 'support.site24x7.com, "CloudWatch metrics cost calculation"',
  },
  {
    price: 'KMS $1 per customer managed key a month',
    confirmed: 'aws',
    source: 'https://aws.amazon.com/kms/pricing/',
  },
  {
    price: 'SQS $0.40 per million requests (standard queue)',
    confirmed: 'secondary',
    source:
      'cloudburn.io/blog/amazon-sqs-pricing (March 2026); factualminds.com SQS pricing (June 2026)',
  },
  {
    price: 'EventBridge Scheduler $1.00 per million invocations',
    confirmed: 'secondary',
    source: 'cloudburn.io/blog/amazon-eventbridge-pricing (March 2026)',
  },
  {
    price: 'DynamoDB storage $0.25 per GB-month, point-in-time recovery $0.20 per GB-month',
    confirmed: 'unconfirmed',
    source:
      'memory of https://aws.amazon.com/dynamodb/pricing/ (an empty table costs $0 either way)',
  },
  {
    price: 'CloudWatch Logs storage $0.03 per GB-month',
    confirmed: 'unconfirmed',
    source: 'memory of https://aws.amazon.com/cloudwatch/pricing/',
  },
];
