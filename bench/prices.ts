/**
 * Every price the bench and the idle-cost figure use, in one place: AWS list
 * prices for us-east-1 (US East, N. Virginia), on-demand, before free tiers
 * and volume tiers, as published on each service's pricing page and recorded
 * here on PRICES_AS_OF. The machine that runs the bench cannot reach the
 * pricing pages: check them before quoting a figure after that date.
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
