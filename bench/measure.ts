/**
 * `measure <control-id> <out.json> [iterations]`: runs one control's real
 * handler (bench/harness.ts) with canned SDK answers, and writes, per
 * outcome, the API calls it makes, what it consumes of every billed service
 * (DynamoDB capacity per table, bytes published to SNS and EventBridge, bytes
 * it logs) and the CPU time per finding. Run in a child process so its logs
 * and metrics, printed as in production, are counted and stay out of the
 * bench's report.
 */
import { writeFileSync } from 'node:fs';
import { loadControl } from '../lib/cli/aws';
import { controlFolder } from '../lib/controls';
import { CallLog } from './canned';
import type { TableUsage } from './dynamodb';
import { COST_ASSUMPTIONS } from './fix-cost';
import { benchContext, benchHandler, benchTables, FindingSource, type Variant } from './harness';
import type { Scenario } from './scenario';
import { quantile } from './stats';
import { VirtualTime } from './virtual-time';

export interface OutcomeCalls {
  readonly outcome: string;
  /** Calls to the control's own services, e.g. ec2:DescribeSecurityGroups. */
  readonly resource: readonly string[];
  readonly findingUpdates: number;
  /** Security Hub GetFindings: the re-fetch of the finding before any mutation. */
  readonly findingReads: number;
  readonly publishes: number;
  /** Idempotency, ledger, lease and history calls (DynamoDB). */
  readonly bookkeeping: readonly string[];
}

/** What one finding of one outcome consumes of the services billed per use. */
export interface OutcomeUsage {
  /** Per table name: commands, write and read request units, largest item. */
  readonly dynamodb: Readonly<Record<string, TableUsage>>;
  /** Bytes of each SNS publish (message, subject and attributes). */
  readonly snsBytes: readonly number[];
  /** Bytes of each PutEvents entry, as EventBridge sizes them. */
  readonly eventBytes: readonly number[];
  /** Bytes and lines the handler wrote to stdout and stderr (logs and EMF metrics). */
  readonly logBytes: number;
  readonly logLines: number;
  /** CloudWatch metrics requested with GetMetricData (billed per metric). */
  readonly metricsRequested: number;
  /** CPU of this outcome's invocation, ms: trimmed to the median of the samples. */
  readonly cpuMs: number;
  /**
   * How long the invocation waits for AWS when every call takes
   * COST_ASSUMPTIONS.apiLatencyMs: measured in simulated time, so calls the
   * pipeline or the control makes at once (Promise.all) overlap.
   */
  readonly apiWaitMs: number;
}

export interface Measurement {
  readonly controlId: string;
  readonly calls: {
    readonly remediate: OutcomeCalls;
    readonly notify: OutcomeCalls;
    /** Absent where the control's findings cannot be suppressed by tag. */
    readonly suppress?: OutcomeCalls;
  };
  readonly usage: {
    readonly remediate: OutcomeUsage;
    readonly notify: OutcomeUsage;
    readonly suppress?: OutcomeUsage;
  };
  readonly cpu: { readonly iterations: number; readonly medianMs: number; readonly p95Ms: number };
}

const utf8 = (text: unknown) => Buffer.byteLength(typeof text === 'string' ? text : '', 'utf8');

/** SNS bills per 64 KB chunk of the message with its subject and attributes. */
function snsBytes(input: Readonly<Record<string, unknown>>): number {
  const attributes = Object.entries(
    (input.MessageAttributes ?? {}) as Record<string, { DataType?: string; StringValue?: string }>,
  ).reduce((n, [name, v]) => n + utf8(name) + utf8(v.DataType) + utf8(v.StringValue), 0);
  return utf8(input.Message) + utf8(input.Subject) + attributes;
}

/** EventBridge's entry size ("Calculating PutEvents event entry size"). */
function eventBytes(input: Readonly<Record<string, unknown>>): number[] {
  const entries = (input.Entries ?? []) as {
    Time?: unknown;
    Source?: string;
    DetailType?: string;
    Detail?: string;
    Resources?: string[];
  }[];
  return entries.map(
    (e) =>
      (e.Time ? 14 : 0) +
      utf8(e.Source) +
      utf8(e.DetailType) +
      utf8(e.Detail) +
      (e.Resources ?? []).reduce((n, r) => n + utf8(r), 0),
  );
}

/** Counts what the process writes to stdout and stderr while `work` runs, and swallows it. */
async function capturingOutput<T>(
  work: () => Promise<T>,
): Promise<{ value: T; bytes: number; lines: number; text: string }> {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  let bytes = 0;
  let lines = 0;
  let text = '';
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      const written = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      bytes += Buffer.byteLength(written, 'utf8');
      lines += written.split('\n').filter((line) => line.length > 0).length;
      text += written;
      return true;
    }) as typeof stream.write;
  }
  try {
    return { value: await work(), bytes, lines, text };
  } finally {
    streams.forEach((s, i) => {
      s.write = originals[i] as typeof s.write;
    });
  }
}

async function main(): Promise<void> {
  const [controlId, outFile, iterationsArg] = process.argv.slice(2);
  if (!controlId || !outFile)
    throw new Error('usage: measure <control-id> <out.json> [iterations]');
  const iterations = Number(iterationsArg ?? 1000);
  const { scenario } = (await import(`./scenarios/${controlFolder(controlId)}.ts`)) as {
    scenario: Scenario;
  };
  const control = await loadControl(controlId);
  if (!control) throw new Error(`no control ${controlId}`);
  // A const the closures below can see as found.
  const found = control;
  const log = new CallLog();
  const tables = benchTables();
  const findings = new FindingSource(scenario);
  const handlerFor = (variant: Variant) =>
    benchHandler({
      control,
      scenario,
      variant,
      params: scenario.params,
      log,
      tables,
      findings,
      ...(scenario.clock ? { clock: scenario.clock } : {}),
    });

  const expected: Record<Variant, string> = {
    remediate: control.notifyOnly ? 'NOTIFIED' : 'REMEDIATED',
    notify: 'NOTIFIED',
    suppress: 'SUPPRESSED',
  };

  async function once(handler: ReturnType<typeof handlerFor>, variant: Variant) {
    log.reset();
    tables.reset();
    const before = process.cpuUsage();
    const captured = await capturingOutput(() => handler(findings.next(), benchContext()));
    const used = process.cpuUsage(before);
    const outcome = captured.value.findings[0]?.outcome ?? 'none';
    if (outcome !== expected[variant]) {
      throw new Error(
        `${controlId} ${variant}: expected ${expected[variant]}, got ${outcome}; the scenario's answers are wrong. The handler logged:\n${captured.text.slice(-3000)}`,
      );
    }
    return { captured, outcome, cpuMs: (used.user + used.system) / 1000 };
  }

  /**
   * One invocation in simulated time where every call takes the assumed
   * latency: the time it waits for AWS is the simulated time it takes.
   */
  async function apiWait(variant: Variant): Promise<number> {
    const time = new VirtualTime();
    time.install();
    try {
      const handler = benchHandler({
        control: found,
        scenario,
        variant,
        params: scenario.params,
        log,
        tables,
        findings,
        around: async (_call, answer) => {
          await time.sleep(COST_ASSUMPTIONS.apiLatencyMs);
          return answer();
        },
        clock: scenario.clock ?? time.clock,
      });
      log.reset();
      tables.reset();
      const run = capturingOutput(() => handler(findings.next(), benchContext()));
      await time.run();
      const { value } = await run;
      const outcome = value.findings[0]?.outcome ?? 'none';
      if (outcome !== expected[variant]) {
        throw new Error(`${controlId} ${variant} in simulated time: got ${outcome}`);
      }
      return time.now;
    } finally {
      time.uninstall();
    }
  }

  async function measureVariant(variant: Variant, samples: number) {
    const handler = handlerFor(variant);
    // The first runs let the JIT settle, as in a warm Lambda.
    for (let i = 0; i < 30; i += 1) await once(handler, variant);
    const cpu: number[] = [];
    for (let i = 0; i < samples; i += 1) cpu.push((await once(handler, variant)).cpuMs);
    const apiWaitMs = await apiWait(variant);
    // One more, whose calls and usage are recorded.
    const { captured, outcome } = await once(handler, variant);
    const sent = log.calls.map((call, i) => ({ call, input: log.inputs[i] ?? {} }));
    const core = new Set(['securityhub', 'sns', 'dynamodb', 'events']);
    const calls: OutcomeCalls = {
      outcome,
      resource: log.calls.filter((c) => !core.has(c.split(':')[0] ?? '')),
      findingUpdates: log.calls.filter((c) => c === 'securityhub:BatchUpdateFindings').length,
      findingReads: log.calls.filter((c) => c === 'securityhub:GetFindings').length,
      publishes: log.calls.filter((c) => c === 'sns:Publish').length,
      bookkeeping: log.calls.filter((c) => c.startsWith('dynamodb:')),
    };
    const usage: OutcomeUsage = {
      dynamodb: Object.fromEntries(tables.usage),
      snsBytes: sent.filter((s) => s.call === 'sns:Publish').map((s) => snsBytes(s.input)),
      eventBytes: sent
        .filter((s) => s.call === 'events:PutEvents')
        .flatMap((s) => eventBytes(s.input)),
      logBytes: captured.bytes,
      logLines: captured.lines,
      metricsRequested: sent
        .filter((s) => s.call === 'cloudwatch:GetMetricData')
        .reduce(
          (n, s) => n + ((s.input.MetricDataQueries as unknown[] | undefined)?.length ?? 0),
          0,
        ),
      cpuMs: quantile(cpu, 0.5),
      apiWaitMs,
    };
    return { calls, usage, cpu };
  }

  const remediate = await measureVariant('remediate', iterations);
  const notify = await measureVariant('notify', Math.ceil(iterations / 4));
  const suppress = scenario.minimum.suppress
    ? await measureVariant('suppress', Math.ceil(iterations / 4))
    : undefined;

  const measurement: Measurement = {
    controlId,
    calls: {
      remediate: remediate.calls,
      notify: notify.calls,
      ...(suppress ? { suppress: suppress.calls } : {}),
    },
    usage: {
      remediate: remediate.usage,
      notify: notify.usage,
      ...(suppress ? { suppress: suppress.usage } : {}),
    },
    cpu: {
      iterations,
      medianMs: quantile(remediate.cpu, 0.5),
      p95Ms: quantile(remediate.cpu, 0.95),
    },
  };
  writeFileSync(outFile, JSON.stringify(measurement, null, 2));
}

await main();
