/**
 * `burst <control-id> <out.json> <findings> <concurrency> <cpu-ms> <timeout-s>`:
 * many findings of one control arriving at once, run through the real
 * handler (bench/harness.ts) in simulated time (bench/virtual-time.ts).
 *
 * Modelled: Lambda's asynchronous queue drained by as many execution
 * environments as the reserved concurrency, each with its own SDK clients
 * (so its own adaptive rate limiter); every API call takes COST_ASSUMPTIONS'
 * latency and every finding its measured CPU time; EC2 answers
 * RequestLimitExceeded when the call's per-API token bucket is empty
 * (bench/token-bucket.ts), and the SDK's real adaptive retry strategy
 * (hubfix's 5 attempts) backs off and slows down; an invocation that throws
 * is retried by Lambda twice (after 1 and 2 minutes), then goes to the
 * dead-letter queue, as does an event still queued after 6 hours.
 *
 * Not modelled: other traffic on the account's EC2 buckets, Lambda's own
 * throttling back-off when it polls its queue, cold starts, lease contention
 * (every finding names the scenario's one resource; conditions are not
 * evaluated), Security Hub, DynamoDB, SNS and EventBridge limits (their
 * answers always succeed), and the hand-on of batches (one finding per event).
 */
import { writeFileSync } from 'node:fs';
import { loadControl } from '../lib/cli/aws';
import { controlFolder } from '../lib/controls';
import { CallLog } from './canned';
import { COST_ASSUMPTIONS } from './fix-cost';
import { benchContext, benchHandler, benchTables, FindingSource } from './harness';
import type { Scenario } from './scenario';
import { ApiBuckets, EC2_BUCKETS, ec2BucketFor } from './token-bucket';
import { VirtualTime } from './virtual-time';

export const MAX_EVENT_AGE_MS = 6 * 3600 * 1000;
/** Lambda's waits before its two retries of a failed asynchronous invocation. */
const LAMBDA_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface BurstResult {
  readonly controlId: string;
  readonly findings: number;
  readonly concurrency: number;
  readonly cpuMsPerFinding: number;
  readonly apiLatencyMs: number;
  readonly buckets: typeof EC2_BUCKETS;
  /** Simulated seconds until the last finding was handled. */
  readonly seconds: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly deadLetters: number;
  readonly lambdaRetries: number;
  readonly ec2Calls: number;
  readonly throttled: number;
  /** Highest EC2 calls in one simulated second, per action. */
  readonly peakPerSecond: Readonly<Record<string, number>>;
  /** Mean EC2 calls per second over the run, per action. */
  readonly meanPerSecond: Readonly<Record<string, number>>;
}

class RequestLimitExceeded extends Error {
  override readonly name = 'RequestLimitExceeded';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 503 };
}

async function main(): Promise<void> {
  const [controlId, outFile, countArg, concurrencyArg, cpuArg, timeoutArg] = process.argv.slice(2);
  if (!controlId || !outFile)
    throw new Error(
      'usage: burst <control-id> <out.json> <findings> <concurrency> <cpu-ms> <timeout-s>',
    );
  const count = Number(countArg ?? 10_000);
  const concurrency = Number(concurrencyArg ?? 2);
  const cpuMs = Number(cpuArg ?? 2);
  const timeoutMs = Number(timeoutArg ?? 300) * 1000;
  const { scenario } = (await import(`./scenarios/${controlFolder(controlId)}.ts`)) as {
    scenario: Scenario;
  };
  const control = await loadControl(controlId);
  if (!control) throw new Error(`no control ${controlId}`);
  // The SDK signs requests before the canned answer; it needs credentials to sign with.
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  // Logs and metrics are printed as in production; the burst does not need them.
  process.stdout.write = (() => true) as typeof process.stdout.write;

  const loaded = control;
  const time = new VirtualTime();
  time.install();
  const buckets = new ApiBuckets(ec2BucketFor);
  const perSecond = new Map<string, Map<number, number>>();
  let ec2Calls = 0;
  let throttled = 0;
  const around = async (call: string, answer: () => Promise<object>): Promise<object> => {
    await time.sleep(COST_ASSUMPTIONS.apiLatencyMs);
    const [service, action = ''] = call.split(':');
    if (service === 'ec2') {
      ec2Calls += 1;
      const second = Math.floor(time.now / 1000);
      const counts = perSecond.get(action) ?? new Map<number, number>();
      counts.set(second, (counts.get(second) ?? 0) + 1);
      perSecond.set(action, counts);
      if (!buckets.take(action, time.now / 1000)) {
        throttled += 1;
        throw new RequestLimitExceeded('Request limit exceeded.');
      }
    }
    return answer();
  };

  const tables = benchTables();
  const findings = new FindingSource(scenario, true);
  const events = Array.from({ length: count }, () => ({
    event: findings.next(),
    availableAt: 0,
    attempts: 0,
  }));
  const outcomes: Record<string, number> = {};
  let deadLetters = 0;
  let lambdaRetries = 0;
  let finished = 0;

  async function environment(): Promise<void> {
    const log = new CallLog();
    const handler = benchHandler({
      control: loaded,
      scenario,
      variant: 'remediate',
      params: scenario.params,
      log,
      tables,
      findings,
      placement: 'after-retry',
      around,
      clock: time.clock,
    });
    for (;;) {
      const ready = events.findIndex((e) => e.availableAt <= time.now);
      if (ready < 0) {
        if (events.length === 0) return;
        const soonest = Math.min(...events.map((e) => e.availableAt));
        await time.sleep(soonest - time.now);
        continue;
      }
      const [item] = events.splice(ready, 1);
      if (!item) continue;
      if (time.now > MAX_EVENT_AGE_MS) {
        deadLetters += 1;
        continue;
      }
      log.reset();
      await time.sleep(cpuMs);
      const started = time.now;
      try {
        const result = await handler(item.event, {
          ...benchContext(),
          getRemainingTimeInMillis: () => timeoutMs - (time.now - started),
        });
        for (const f of result.findings) outcomes[f.outcome] = (outcomes[f.outcome] ?? 0) + 1;
        finished = time.now;
      } catch {
        if (item.attempts < LAMBDA_RETRY_DELAYS_MS.length) {
          lambdaRetries += 1;
          events.push({
            ...item,
            availableAt: time.now + (LAMBDA_RETRY_DELAYS_MS[item.attempts] ?? 0),
            attempts: item.attempts + 1,
          });
        } else {
          deadLetters += 1;
        }
      }
    }
  }
  const runs = Array.from({ length: concurrency }, () => environment());
  await time.run();
  await Promise.all(runs);

  const peak: Record<string, number> = {};
  const mean: Record<string, number> = {};
  for (const [action, counts] of perSecond) {
    peak[action] = Math.max(...counts.values());
    const total = [...counts.values()].reduce((n, c) => n + c, 0);
    mean[action] = total / Math.max(1, finished / 1000);
  }
  const result: BurstResult = {
    controlId,
    findings: count,
    concurrency,
    cpuMsPerFinding: cpuMs,
    apiLatencyMs: COST_ASSUMPTIONS.apiLatencyMs,
    buckets: EC2_BUCKETS,
    seconds: finished / 1000,
    outcomes,
    deadLetters,
    lambdaRetries,
    ec2Calls,
    throttled,
    peakPerSecond: peak,
    meanPerSecond: mean,
  };
  writeFileSync(outFile, JSON.stringify(result, null, 2));
}

await main();
// middy arms a real timer per invocation (its early-timeout guard, from
// node:timers/promises, which simulated time does not replace); nothing is
// left to do once the result is written.
process.exit(0);
