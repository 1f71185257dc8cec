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
 * (hubfix's 5 attempts) backs off and slows down; a finding whose calls stay
 * throttled is deferred by the pipeline and handed on again by the
 * reconciler at its next sweep; an invocation that throws is retried by
 * Lambda twice (after 1 and 2 minutes), then goes to the dead-letter queue,
 * as does an event still queued after 6 hours (bench/burst-model.ts); middy's
 * early-timeout guard runs on the same simulated clock.
 *
 * Not modelled: other traffic on the account's EC2 buckets, Lambda's own
 * throttling back-off when it polls its queue, cold starts, lease contention
 * (conditions are not evaluated), Security Hub, DynamoDB, SNS and
 * EventBridge limits (their answers always succeed), and the hand-on of
 * batches (one finding per event).
 */
import { writeFileSync } from 'node:fs';
import { loadControl } from '../lib/cli/aws';
import { DEFAULT_RECONCILE } from '../lib/config';
import { controlFolder } from '../lib/controls';
import { type ActionCalls, AsyncQueue, CallCounter, MAX_EVENT_AGE_MS } from './burst-model';
import { CallLog } from './canned';
import { COST_ASSUMPTIONS } from './fix-cost';
import { benchContext, benchHandler, benchTables, FindingSource } from './harness';
import type { Scenario } from './scenario';
import { ApiBuckets, EC2_BUCKETS, ec2BucketFor } from './token-bucket';
import { VirtualTime } from './virtual-time';

/** The reconciler's default schedule, rate(6 hours), in milliseconds. */
const SWEEP_EVERY_MS = (() => {
  const hours = /^rate\((\d+) hours?\)$/.exec(DEFAULT_RECONCILE.schedule)?.[1];
  if (!hours)
    throw new Error(`the burst reads only rate(N hours), not ${DEFAULT_RECONCILE.schedule}`);
  return Number(hours) * 3600_000;
})();

export interface BurstResult {
  readonly controlId: string;
  readonly findings: number;
  readonly concurrency: number;
  readonly cpuMsPerFinding: number;
  readonly apiLatencyMs: number;
  readonly buckets: typeof EC2_BUCKETS;
  readonly maxEventAgeHours: number;
  readonly sweepEveryHours: number;
  /** Simulated seconds until the first pass over the burst ended (every event taken once). */
  readonly firstPassSeconds: number;
  /** Simulated seconds until the last finding was handled, deferred ones handed on again included. */
  readonly seconds: number;
  /** Outcomes of every invocation, a deferred finding's later one included. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Findings left deferred when the simulation ended: none, unless a sweep deferred them again. */
  readonly deferredAtEnd: number;
  readonly handedOnBySweep: number;
  readonly deadLetters: number;
  readonly lambdaRetries: number;
  readonly ec2Calls: number;
  readonly throttled: number;
  readonly perAction: Readonly<Record<string, ActionCalls>>;
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
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;

  const loaded = control;
  // A burst not over after a week of sweeps is a simulation stuck in a loop.
  const time = new VirtualTime({ horizonMs: 7 * 24 * 3600_000 });
  time.install();
  const buckets = new ApiBuckets(ec2BucketFor);
  const counter = new CallCounter();
  const around = async (call: string, answer: () => Promise<object>): Promise<object> => {
    await time.sleep(COST_ASSUMPTIONS.apiLatencyMs);
    const [service, action = ''] = call.split(':');
    if (service === 'ec2') {
      const accepted = buckets.take(action, time.now / 1000);
      counter.record(action, time.now, accepted);
      if (!accepted) throw new RequestLimitExceeded('Request limit exceeded.');
    }
    return answer();
  };

  const tables = benchTables();
  const findings = new FindingSource(scenario, true);
  const queue = new AsyncQueue<object>(SWEEP_EVERY_MS);
  for (let i = 0; i < count; i += 1) queue.add(findings.next(), 0);
  const outcomes: Record<string, number> = {};
  const deferredNow = new Set<object>();
  let taken = 0;
  let firstPass = 0;
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
      const item = queue.take(time.now);
      if (!item) {
        const soonest = queue.soonest();
        if (soonest === undefined) return;
        await time.sleep(Math.max(1, soonest - time.now));
        continue;
      }
      taken += 1;
      if (taken === count) firstPass = time.now;
      // Answer lists (read, then verify) start again for each finding.
      log.reset();
      await time.sleep(cpuMs);
      const started = time.now;
      try {
        const result = await handler(item.event, {
          ...benchContext(),
          getRemainingTimeInMillis: () => timeoutMs - (time.now - started),
        });
        for (const f of result.findings) {
          outcomes[f.outcome] = (outcomes[f.outcome] ?? 0) + 1;
          if (f.outcome === 'DEFERRED') {
            deferredNow.add(item.event);
            queue.deferred(item, time.now);
          } else deferredNow.delete(item.event);
        }
        finished = time.now;
      } catch {
        queue.failed(item, time.now);
      }
    }
  }
  const runs = Array.from({ length: concurrency }, () => environment());
  await time.run();
  await Promise.all(runs);
  time.uninstall();
  process.stdout.write = write;

  const { calls, throttled } = counter.total;
  const result: BurstResult = {
    controlId,
    findings: count,
    concurrency,
    cpuMsPerFinding: cpuMs,
    apiLatencyMs: COST_ASSUMPTIONS.apiLatencyMs,
    buckets: EC2_BUCKETS,
    maxEventAgeHours: MAX_EVENT_AGE_MS / 3600_000,
    sweepEveryHours: SWEEP_EVERY_MS / 3600_000,
    firstPassSeconds: (firstPass || finished) / 1000,
    seconds: finished / 1000,
    outcomes,
    deferredAtEnd: deferredNow.size,
    handedOnBySweep: queue.handedOnBySweep,
    deadLetters: queue.deadLetters,
    lambdaRetries: queue.lambdaRetries,
    ec2Calls: calls,
    throttled,
    perAction: counter.summary((firstPass || finished) / 1000),
  };
  writeFileSync(outFile, JSON.stringify(result, null, 2));
}

await main();
