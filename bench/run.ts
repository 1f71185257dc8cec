/**
 * `npm run bench`: for every registered control, the numbers behind the claim
 * that hubfix is fast and cheap, each checked against its budget, and what
 * the stack costs while idle and under a burst.
 *
 * - bundle size, raw and gzip, of the real esbuild output (lib/bundling);
 * - cold import cost of the bundle as CPU time, as a ratio to a baseline
 *   bundle holding only the AWS SDK code the handler uses, with the spread
 *   of its repeats (bench/import-cost.ts); a verdict only beyond the spread;
 * - per outcome, the API calls and what every billed service consumes,
 *   through the whole pipeline with canned SDK answers (bench/measure.ts),
 *   priced per 1,000 findings (bench/fix-cost.ts, bench/prices.ts);
 * - the idle cost a month, walked from the synthesized template (bench/idle-cost.ts);
 * - a burst of findings for one control in simulated time (bench/burst.ts).
 *
 * Writes bench/results.json and bench/results.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ENVIRONMENT } from '../lambdas/core/env';
import { bundleHandler, HANDLER_FILE } from '../lib/bundling/esbuild';
import { DEFAULT_CONFIG_PATH } from '../lib/config';
import { CONTROLS, controlFolder, handlerEntry } from '../lib/controls';
import { resourcesOf, synthesize } from '../test/support/stack';
import type { BurstResult } from './burst';
import { COST_ASSUMPTIONS, type FixCost, fixCost } from './fix-cost';
import { type IdleCost, idleCost, idleCostByType } from './idle-cost';
import {
  type ImportFigure,
  importCpuMs,
  measureImports,
  type RatioFigure,
  ratioOf,
} from './import-cost';
import type { Measurement, OutcomeCalls, OutcomeUsage } from './measure';
import { PRICE_REGION, PRICES, PRICES_AS_OF } from './prices';
import type { MinimumCalls, Scenario } from './scenario';
import { type Verdict, verdictAgainst } from './stats';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');
const OUT = path.join(ROOT, 'bench', 'out');
/** Fresh processes per bundle in each repeat, and repeats per run. */
const IMPORT_SAMPLES = Number(process.env.BENCH_IMPORT_SAMPLES ?? 12);
const IMPORT_REPEATS = Number(process.env.BENCH_IMPORT_REPEATS ?? 2);
const CPU_ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 400);
const BURST_FINDINGS = Number(process.env.BENCH_BURST_FINDINGS ?? 10_000);
const BURST_CONTROL = process.env.BENCH_BURST_CONTROL ?? 'EC2.18';

export const BUDGETS = {
  bundleBytes: 1024 * 1024,
  importRatio: 1.25,
  extraCalls: 1,
  /** Dollars per 1,000 fixes, every billed service counted. */
  per1000Fixes: 0.01,
  /** Dollars a month, per account and region, single-account mode. */
  idleMonthly: 0.3,
} as const;

interface Deployed {
  readonly memoryMb: number;
  readonly reservedConcurrency: number;
  readonly timeoutSeconds: number;
}

interface CallsRow {
  readonly made: number;
  readonly minimum: number;
  readonly why: string;
  readonly bookkeeping: number;
  readonly detail: OutcomeCalls;
  readonly pass: boolean;
}

type Outcome = 'remediate' | 'notify' | 'suppress';
const OUTCOMES: readonly Outcome[] = ['remediate', 'notify', 'suppress'];

interface Row {
  readonly controlId: string;
  readonly bundle: { readonly raw: number; readonly gzip: number; readonly pass: boolean };
  readonly importTime: {
    /** CPU ms of the import: low-end mean, per repeat, spread of the repeats. */
    readonly handler: ImportFigure;
    /** The AWS SDK code the handler uses: its clients and the commands it sends. */
    readonly baseline: ImportFigure;
    readonly ratio: RatioFigure;
    readonly sdkClients: readonly string[];
    readonly sdkCommands: number;
    readonly verdict: Verdict;
  };
  readonly cpu: Measurement['cpu'];
  readonly calls: Record<'remediate' | 'notify', CallsRow> & { readonly suppress?: CallsRow };
  readonly usage: Measurement['usage'];
  readonly costs: Partial<Record<Outcome, FixCost>>;
  readonly typicalWaitSeconds: number;
  readonly deployed: Deployed;
  readonly pass: boolean;
}

interface SdkUsage {
  readonly pkg: string;
  readonly className: string;
  readonly commands: readonly string[];
}

/** The AWS SDK clients a bundle contains and the commands it sends, read from esbuild's metafile. */
async function sdkUsageOf(inputs: readonly string[]): Promise<SdkUsage[]> {
  const commands = new Map<string, Set<string>>();
  for (const input of inputs) {
    const match =
      /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\/(?:dist-es\/commands\/(\w+Command)\.js)?/.exec(
        input,
      );
    if (!match?.[1]) continue;
    const set = commands.get(match[1]) ?? new Set<string>();
    if (match[2]) set.add(match[2]);
    commands.set(match[1], set);
  }
  const usage: SdkUsage[] = [];
  for (const [pkg, used] of [...commands].sort(([a], [b]) => a.localeCompare(b))) {
    const module = (await import(pkg)) as Record<string, unknown>;
    const className = Object.keys(module).find((name) => /^[A-Z][A-Za-z0-9]*Client$/.test(name));
    if (!className) throw new Error(`${pkg} exports no client class`);
    usage.push({ pkg, className, commands: [...used].sort() });
  }
  return usage;
}

/** A bundle of only AWS SDK code, created as the handler creates it. */
async function sdkOnlyBundle(
  usage: readonly SdkUsage[],
  dir: string,
  withCommands: boolean,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    [
      withCommands
        ? '// The AWS SDK code the handler uses: its clients and the commands it sends.'
        : '// The AWS SDK clients the handler uses, without their commands.',
      // Commands are aliased: two clients may each have a TagResourceCommand.
      ...usage.map(
        (u, i) =>
          `import { ${[u.className, ...(withCommands ? u.commands.map((c) => `${c} as ${c}${i}`) : [])].join(', ')} } from '${u.pkg}';`,
      ),
      `export const clients = [${usage.map((u) => `new ${u.className}({ region: 'us-east-1' })`).join(', ')}];`,
      ...(withCommands
        ? [
            `export const commands = [${usage.flatMap((u, i) => u.commands.map((c) => `${c}${i}`)).join(', ')}];`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  await bundleHandler(entry, dir);
  return path.join(dir, HANDLER_FILE);
}

const HANDLER_ENV = (controlId: string): Record<string, string> => ({
  [ENVIRONMENT.settings]: JSON.stringify({
    controlId,
    mode: 'notify',
    dryRun: false,
    notifyOnly: false,
    tags: { optOut: { key: 'k', values: [] }, suppress: { key: 's' } },
    allowList: [],
    params: {},
  }),
  [ENVIRONMENT.topicArn]: 'arn:aws:sns:us-east-1:111111111111:hubfix',
  [ENVIRONMENT.remediateActionArn]:
    'arn:aws:securityhub:us-east-1:111111111111:action/custom/HubfixRemediate',
  [ENVIRONMENT.planActionArn]:
    'arn:aws:securityhub:us-east-1:111111111111:action/custom/HubfixPlan',
  [ENVIRONMENT.account]: '111111111111',
  [ENVIRONMENT.provisioned]: JSON.stringify({
    deliveryRoleArn: 'arn:aws:iam::111111111111:role/bench',
  }),
  [ENVIRONMENT.ledgerTable]: 'hubfix-ledger',
  [ENVIRONMENT.ledgerRetentionDays]: '365',
  [ENVIRONMENT.idempotencyTable]: 'hubfix-idempotency',
  [ENVIRONMENT.stateTable]: 'hubfix-state',
  [ENVIRONMENT.region]: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
});

async function measureControl(
  controlId: string,
  scenario: Scenario,
  deployed: Deployed,
): Promise<Row> {
  const { minimum } = scenario;
  const dir = path.join(OUT, controlFolder(controlId));
  rmSync(dir, { recursive: true, force: true });
  const handlerDir = path.join(dir, 'handler');
  const baselineDir = path.join(dir, 'baseline');
  mkdirSync(baselineDir, { recursive: true });

  const metafile = await bundleHandler(handlerEntry(controlId), handlerDir);
  const handlerFile = path.join(handlerDir, HANDLER_FILE);
  const raw = statSync(handlerFile).size;
  const gzip = gzipSync(readFileSync(handlerFile)).length;

  // Only what is really in the bundle: the top-level list also names files tree-shaken away.
  const [output] = Object.values(metafile.outputs);
  const inBundle = Object.entries(output?.inputs ?? {}).filter(
    ([, input]) => input.bytesInOutput > 0,
  );
  const usage = await sdkUsageOf(inBundle.map(([file]) => file));
  const baselineFile = await sdkOnlyBundle(usage, baselineDir, true);

  const env = HANDLER_ENV(controlId);
  const figures = await measureImports(
    { handler: handlerFile, baseline: baselineFile },
    { samplesPerRepeat: IMPORT_SAMPLES, repeats: IMPORT_REPEATS },
    (file) => importCpuMs(file, env),
  );

  const measured = path.join(dir, 'measure.json');
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench', 'measure.ts'),
      controlId,
      measured,
      String(CPU_ITERATIONS),
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (child.status !== 0)
    throw new Error(`measuring ${controlId} failed:\n${child.stderr.slice(-3000)}`);
  const measurement = JSON.parse(readFileSync(measured, 'utf8')) as Measurement;

  const callsRow = (detail: OutcomeCalls, least: MinimumCalls): CallsRow => {
    const made = detail.resource.length + detail.findingUpdates + detail.publishes;
    const minimum = least.resourceCalls + 2;
    return {
      made,
      minimum,
      why: least.why,
      bookkeeping: detail.bookkeeping.length,
      detail,
      pass: made <= minimum + BUDGETS.extraCalls,
    };
  };
  const { remediate, notify, suppress } = measurement.calls;
  const calls = {
    remediate: callsRow(remediate, minimum.remediate),
    notify: callsRow(notify, minimum.notify),
    ...(suppress && minimum.suppress ? { suppress: callsRow(suppress, minimum.suppress) } : {}),
  };
  const waitSeconds = scenario.typicalWaitSeconds ?? 0;
  const costs: Partial<Record<Outcome, FixCost>> = {};
  for (const outcome of OUTCOMES) {
    const use: OutcomeUsage | undefined = measurement.usage[outcome];
    const made = measurement.calls[outcome];
    if (!use || !made) continue;
    costs[outcome] = fixCost({
      ...use,
      apiCalls:
        made.resource.length +
        made.findingUpdates +
        made.findingReads +
        made.publishes +
        made.bookkeeping.length +
        use.eventBytes.length,
      waitSeconds: outcome === 'remediate' ? waitSeconds : 0,
      memoryMb: deployed.memoryMb,
    });
  }
  const ratio = ratioOf(figures.handler, figures.baseline);
  const row: Omit<Row, 'pass'> = {
    controlId,
    bundle: { raw, gzip, pass: raw <= BUDGETS.bundleBytes },
    importTime: {
      handler: figures.handler,
      baseline: figures.baseline,
      ratio,
      sdkClients: usage.map((u) => u.pkg),
      sdkCommands: usage.reduce((n, u) => n + u.commands.length, 0),
      verdict: verdictAgainst(ratio.ratio, BUDGETS.importRatio, ratio.spread),
    },
    cpu: measurement.cpu,
    calls,
    usage: measurement.usage,
    costs,
    typicalWaitSeconds: waitSeconds,
    deployed,
  };
  return {
    ...row,
    pass:
      row.bundle.pass &&
      row.importTime.verdict !== 'over budget' &&
      Object.values(calls).every((c) => c.pass),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
/** A figure with half the range of its repeats: value ± (max − min) / 2. */
const ms = (f: ImportFigure) => `${f.ms.toFixed(1)} ms ±${pct(f.spread / 2)}`;
const times = (f: RatioFigure) => `x${f.ratio.toFixed(3)} ±${pct(f.spread / 2)}`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const usd = (value: number, digits = 4) => `$${value.toFixed(digits)}`;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'over budget');

function fixVerdict(row: Row): string {
  const cost = row.costs.remediate;
  if (!cost) return 'n/a';
  if (cost.per1000 <= BUDGETS.per1000Fixes) return 'PASS';
  return row.typicalWaitSeconds > 0
    ? `over: waits ${row.typicalWaitSeconds} s for AWS to settle`
    : 'over budget';
}

function printRow(row: Row): void {
  const { calls } = row;
  process.stdout.write(
    [
      `${row.controlId.padEnd(7)} ${verdict(row.pass)}`,
      `  bundle    ${kb(row.bundle.raw)} raw, ${kb(row.bundle.gzip)} gzip (budget ${kb(BUDGETS.bundleBytes)})  ${verdict(row.bundle.pass)}`,
      `  import    ${ms(row.importTime.handler)} vs ${ms(row.importTime.baseline)} of CPU for the AWS SDK code it uses (${row.importTime.sdkCommands} commands): ${times(row.importTime.ratio)} (budget x${BUDGETS.importRatio})  ${row.importTime.verdict}`,
      `  cpu       ${row.cpu.medianMs.toFixed(2)} ms per finding (median of ${row.cpu.iterations}; p95 ${row.cpu.p95Ms.toFixed(2)} ms)`,
      ...OUTCOMES.map((o) => {
        const c = calls[o];
        const cost = row.costs[o];
        return c && cost
          ? `  ${o.padEnd(9)} ${c.made} calls, minimum ${c.minimum} (+${BUDGETS.extraCalls} allowed)  ${verdict(c.pass)}; bookkeeping ${c.bookkeeping}; ${usd(cost.per1000)} per 1,000`
          : `  ${o.padEnd(9)} n/a: account-level findings carry no tags to suppress by`;
      }),
      '',
    ].join('\n'),
  );
}

function deployedSettings(): { byControl: Map<string, Deployed>; idle: IdleCost } {
  const config = JSON.parse(readFileSync(path.join(ROOT, DEFAULT_CONFIG_PATH), 'utf8')) as unknown;
  const { template } = synthesize({ config });
  const resources = resourcesOf(template);
  const byControl = new Map<string, Deployed>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const p = resource.Properties;
    const controlId = /^hubfix (\S+):/.exec(String(p.Description ?? ''))?.[1];
    if (!controlId) continue;
    byControl.set(controlId, {
      memoryMb: Number(p.MemorySize),
      reservedConcurrency: Number(p.ReservedConcurrentExecutions),
      timeoutSeconds: Number(p.Timeout),
    });
  }
  return { byControl, idle: idleCost(resources) };
}

function runBurst(controlId: string, cpuMs: number, deployed: Deployed): BurstResult {
  const out = path.join(OUT, 'burst.json');
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench', 'burst.ts'),
      controlId,
      out,
      String(BURST_FINDINGS),
      String(deployed.reservedConcurrency),
      String(cpuMs),
      String(deployed.timeoutSeconds),
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`the burst failed:\n${child.stderr.slice(-3000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as BurstResult;
}

const table = (header: readonly string[], rows: readonly (readonly string[])[]) => [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function markdown(
  rows: readonly Row[],
  idle: IdleCost,
  burst: BurstResult | undefined,
  summary: string,
): string {
  const a = COST_ASSUMPTIONS;
  const first = rows[0];
  const byType = idleCostByType(idle);
  return [
    '# hubfix benchmark',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${process.arch}. ${summary}`,
    '',
    `Budgets: bundle ≤ ${kb(BUDGETS.bundleBytes)} raw; cold import ≤ x${BUDGETS.importRatio} of a bundle holding only the AWS SDK code the handler uses; API calls ≤ the minimum + ${BUDGETS.extraCalls}; ≤ $${BUDGETS.per1000Fixes} per 1,000 fixes, every billed service counted; ≤ $${BUDGETS.idleMonthly} a month while idle (single-account mode, per account and region).`,
    '',
    '## Cold import',
    '',
    `Import cost is the CPU time (user + system) a fresh Node process spends in \`import()\` of the bundle, not wall time: on a shared machine wall time mostly measures the neighbours. The handler's bundle and its baseline (a bundle built the same way holding only the AWS SDK clients the handler uses and the commands it sends, read from esbuild's metafile) are imported in turn (A B, B A, ...) in fresh processes, ${IMPORT_SAMPLES} times each per repeat, ${IMPORT_REPEATS} repeats; each figure is the mean of the lowest 30% of its samples (contention only ever adds CPU time to the same work: the low end is the work). "±" is half the range of the repeats' figures: the run's own spread. A verdict is given only where the ratio is farther from the budget than that spread ("within noise" otherwise).`,
    '',
    ...table(
      [
        'control',
        'bundle raw',
        'gzip',
        'import CPU: handler',
        'its SDK code',
        'ratio',
        'ratio per repeat',
        'verdict',
        'CPU per finding (median)',
        'REMEDIATE calls',
        'NOTIFY calls',
        'SUPPRESS calls',
      ],
      rows.map((r) => [
        r.controlId,
        kb(r.bundle.raw),
        kb(r.bundle.gzip),
        ms(r.importTime.handler),
        ms(r.importTime.baseline),
        times(r.importTime.ratio),
        r.importTime.ratio.repeats.map((x) => `x${x.toFixed(3)}`).join(', '),
        r.importTime.verdict,
        `${r.cpu.medianMs.toFixed(2)} ms`,
        `${r.calls.remediate.made} / min ${r.calls.remediate.minimum}`,
        `${r.calls.notify.made} / min ${r.calls.notify.minimum}`,
        r.calls.suppress
          ? `${r.calls.suppress.made} / min ${r.calls.suppress.minimum}`
          : 'n/a (no tags)',
      ]),
    ),
    '',
    "Calls count the resource's own API calls plus one finding update and one publish. Each outcome also re-fetches the finding from Security Hub, puts one outcome event on the default bus, and makes DynamoDB bookkeeping calls (idempotency, ledger, lease, history), all counted in the costs below.",
    '',
    '## Cost per 1,000 findings, every billed service',
    '',
    `List prices of ${PRICE_REGION} as recorded on ${PRICES_AS_OF} (bench/prices.ts): Lambda arm64 $${PRICES.lambda.perGbSecond} per GB-second and $${PRICES.lambda.perRequest * 1e6} per million requests; DynamoDB on-demand $${PRICES.dynamodb.perWriteRequestUnit * 1e6} per million write and $${PRICES.dynamodb.perReadRequestUnit * 1e6} per million read request units; SNS $${PRICES.sns.perPublishChunk * 1e6} per million publishes (64 KB chunks); EventBridge $${PRICES.eventBridge.perEventChunk * 1e6} per million custom events (64 KB chunks; Security Hub's own events are free); CloudWatch Logs $${PRICES.logs.perGbIngested} per GB ingested; X-Ray $${PRICES.xray.perTraceRecorded * 1e6} per million traces; CloudWatch GetMetricData $${PRICES.cloudWatch.perMetricRequested * 1000} per 1,000 metrics. First tiers, before any free tier. Security Hub GetFindings and BatchUpdateFindings are not billed per call (Security Hub bills checks and findings ingested from integrations); the EC2 and ECS APIs are free. Email deliveries from the topic are $${PRICES.sns.perEmailDelivery * 1e5} per 100,000 per subscribed address, on top (none are subscribed by default).`,
    '',
    `Model (bench/fix-cost.ts): duration = CPU per finding measured here + every API call × ${a.apiLatencyMs} ms + ${a.coldStartShare * 100}% cold starts × ${a.coldStartInitMs} ms + the time a fix waits for AWS to settle (ECS.16: ${rows.find((r) => r.typicalWaitSeconds > 0)?.typicalWaitSeconds ?? 0} s for its replacement task set; the others do not wait), at the deployed memory (${first?.deployed.memoryMb ?? '?'} MB, from the synthesized template). DynamoDB request units from the items the pipeline really wrote and read, sized by DynamoDB's rules, the ledger's index included. Logs: the bytes the handler wrote (log lines and EMF metrics), plus Lambda's START/END/REPORT lines (${a.platformLogBytes} B) and ${a.logEventOverheadBytes} B per log event. X-Ray: ${a.tracesPerInvocation} trace per invocation (the worst case of the default sampling).`,
    '',
    ...table(
      [
        'control',
        'outcome',
        'duration',
        'Lambda',
        'DynamoDB (WRU / RRU)',
        'SNS',
        'EventBridge',
        'Logs (bytes)',
        'X-Ray',
        'other',
        'total per 1,000',
        'verdict',
      ],
      rows.flatMap((r) =>
        OUTCOMES.flatMap((o) => {
          const cost = r.costs[o];
          const use = r.usage[o];
          if (!cost || !use) return [];
          const sum = (prefix: string) =>
            cost.lines
              .filter((l) => l.service.startsWith(prefix))
              .reduce((n, l) => n + l.per1000, 0);
          const tables = Object.values(use.dynamodb);
          return [
            [
              r.controlId,
              r.calls[o]?.detail.outcome ?? o,
              `${cost.durationMs.toFixed(0)} ms`,
              usd(sum('Lambda')),
              `${usd(sum('DynamoDB'))} (${tables.reduce((n, t) => n + t.wru, 0)} / ${tables.reduce((n, t) => n + t.rru, 0)})`,
              usd(sum('SNS')),
              usd(sum('EventBridge')),
              `${usd(sum('CloudWatch Logs'), 5)} (${use.logBytes})`,
              usd(sum('X-Ray')),
              usd(sum('CloudWatch GetMetricData')),
              `**${usd(cost.per1000)}**`,
              o === 'remediate' ? fixVerdict(r) : '',
            ],
          ];
        }),
      ),
    ),
    '',
    'DynamoDB per table, for one fix (REMEDIATED; the notify-only EC2.24: NOTIFIED):',
    '',
    ...table(
      ['control', 'table', 'commands', 'WRU', 'RRU', 'largest item'],
      rows.flatMap((r) =>
        Object.entries(r.usage.remediate.dynamodb).map(([name, t]) => [
          r.controlId,
          name,
          Object.entries(t.commands)
            .map(([c, n]) => `${c} ×${n}`)
            .join(', '),
          String(t.wru),
          String(t.rru),
          `${t.largestItem} B`,
        ]),
      ),
    ),
    '',
    '## Fixed cost while idle',
    '',
    `Walked from the template \`cdk synth\` makes of remediation.config.json (bench/idle-cost.ts): every resource is priced or free with its reason; a type the walker does not know is listed, not priced at $0. Single-account mode, per account and region, a month with no findings: **${usd(idle.monthly, 2)}** (budget $${BUDGETS.idleMonthly}; ${idle.monthly <= BUDGETS.idleMonthly + 1e-9 ? 'PASS' : 'over budget'}), plus ${usd(idle.dashboardsBeyondFree, 2)} for the dashboard only if the account already has ${PRICES.cloudWatch.freeDashboardsPerAccount} others. ${idle.unpriced.length === 0 ? 'No resource type is unpriced.' : `Unpriced: ${idle.unpriced.map((u) => `${u.logicalId} (${u.type})`).join(', ')}.`} Org mode (per member account, goal $0) is not on main yet: pending.`,
    '',
    ...table(
      ['resource type', 'count', 'a month', 'basis'],
      byType.map((t) => [t.type, String(t.count), usd(t.monthly, 2), t.basis]),
    ),
    '',
    '## A burst',
    '',
    ...(burst ? burstSection(burst) : ['Not run (only some controls were measured).']),
    '',
  ].join('\n');
}

function burstSection(b: BurstResult): string[] {
  const minutes = (b.seconds / 60).toFixed(1);
  return [
    `${b.findings.toLocaleString('en-US')} ${b.controlId} findings arrive at once (a large account's first scan), run through the real handler with canned answers in simulated time (bench/burst.ts). Reserved concurrency ${b.concurrency} (from the synthesized template), ${b.cpuMsPerFinding.toFixed(2)} ms of CPU per finding (measured above), ${b.apiLatencyMs} ms per API call. EC2 throttles per API with token buckets (EC2 Developer Guide, "Request throttling for the Amazon EC2 API"): non-mutating actions ${b.buckets.nonMutating.capacity} tokens refilled at ${b.buckets.nonMutating.refillPerSecond} a second, mutating ${b.buckets.mutating.capacity} at ${b.buckets.mutating.refillPerSecond} a second. The SDK's own adaptive retry strategy (5 attempts, client-side rate limiter per execution environment) answers the throttles. Lambda retries a failed invocation twice (after 1 and 2 minutes), then sends it to the dead-letter queue, as it does any event older than 6 hours.`,
    '',
    ...table(
      [
        'all handled after',
        'outcomes',
        'dead-letter queue',
        'Lambda retries',
        'EC2 calls',
        'throttled',
        'peak EC2 calls in one second, per API',
        'mean per second',
      ],
      [
        [
          `${minutes} min`,
          Object.entries(b.outcomes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
          String(b.deadLetters),
          String(b.lambdaRetries),
          String(b.ec2Calls),
          String(b.throttled),
          Object.entries(b.peakPerSecond)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
          Object.entries(b.meanPerSecond)
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', '),
        ],
      ],
    ),
    '',
    "Not modelled: other traffic on the account's EC2 buckets (it shares them), Lambda's own back-off when it polls a throttled queue, cold starts, lease contention (every finding names the scenario's one resource), limits of Security Hub, DynamoDB, SNS and EventBridge (they always answer), and real latency spread.",
  ];
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const controls = CONTROLS.filter((c) => only.length === 0 || only.includes(c.meta.id));
  mkdirSync(OUT, { recursive: true });
  const { byControl, idle } = deployedSettings();
  const rows: Row[] = [];
  for (const control of controls) {
    const { scenario } = (await import(`./scenarios/${controlFolder(control.meta.id)}.ts`)) as {
      scenario: Scenario;
    };
    const deployed = byControl.get(control.meta.id);
    if (!deployed) throw new Error(`${control.meta.id} is not in the synthesized template`);
    const row = await measureControl(control.meta.id, scenario, deployed);
    printRow(row);
    rows.push(row);
  }
  const burstRow = rows.find((r) => r.controlId === BURST_CONTROL);
  const burst = burstRow
    ? runBurst(BURST_CONTROL, burstRow.cpu.medianMs, burstRow.deployed)
    : undefined;
  if (burst) {
    process.stdout.write(
      `burst     ${burst.findings} ${burst.controlId} findings handled in ${(burst.seconds / 60).toFixed(1)} min; ${burst.deadLetters} to the dead-letter queue; ${burst.throttled} throttled EC2 calls of ${burst.ec2Calls}\n`,
    );
  }
  process.stdout.write(
    `idle      $${idle.monthly.toFixed(2)} a month (budget $${BUDGETS.idleMonthly})\n`,
  );
  const over = rows.filter((r) => !r.pass).map((r) => r.controlId);
  const summary =
    over.length === 0
      ? `All ${rows.length} controls within their size, import and call budgets.`
      : `${over.length} of ${rows.length} controls over a size, import or call budget: ${over.join(', ')}.`;
  process.stdout.write(`${summary}\n`);
  if (only.length === 0) {
    const resultsJson = path.join(ROOT, 'bench', 'results.json');
    writeFileSync(
      resultsJson,
      JSON.stringify({
        generatedAt: new Date().toISOString(),
        node: process.version,
        budgets: BUDGETS,
        prices: { asOf: PRICES_AS_OF, region: PRICE_REGION, PRICES },
        costAssumptions: COST_ASSUMPTIONS,
        rows,
        idle,
        burst,
      }),
    );
    writeFileSync(path.join(ROOT, 'bench', 'results.md'), markdown(rows, idle, burst, summary));
    // Committed results pass `npm run lint` as written, with no exception for them.
    const format = spawnSync(BIOME, ['format', '--write', resultsJson], { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`formatting ${resultsJson} failed:\n${format.stderr}`);
  } else writeFileSync(path.join(OUT, 'results.md'), markdown(rows, idle, burst, summary));
  process.exitCode = over.length === 0 ? 0 : 1;
}

await main();
