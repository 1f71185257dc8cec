/**
 * `npm run bench`: for every registered control, the numbers behind the claim
 * that hubfix is fast and cheap, each checked against its budget, and what
 * the stack costs while idle and under a burst.
 *
 * - bundle size, raw and gzip, of the real esbuild output (lib/bundling);
 * - cold import cost of the bundle as CPU time, as a ratio to a baseline
 *   bundle holding only the AWS SDK code the handler uses, measured in pairs
 *   (bench/import-cost.ts), with the spread of its repeats and how far it
 *   moved from the run before (bench/run-to-run.ts); a verdict only beyond
 *   both;
 * - per outcome, the API calls and what every billed service consumes,
 *   through the whole pipeline with canned SDK answers (bench/measure.ts),
 *   priced per 1,000 findings (bench/fix-cost.ts, bench/prices.ts);
 * - the idle cost a month, walked from the synthesized template (bench/idle-cost.ts);
 * - a burst of findings for one control in simulated time (bench/burst.ts),
 *   at the deployed reserved concurrency and at a higher one.
 *
 * Writes bench/results.json and bench/results.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ENVIRONMENT } from '../lambdas/core/env';
import { bundleHandler, HANDLER_FILE } from '../lib/bundling/esbuild';
import { DEFAULT_CONFIG_PATH } from '../lib/config';
import { CONTROLS, controlFolder, handlerEntry } from '../lib/controls';
import { resolveIntrinsics } from '../test/support/intrinsics';
import { resourcesOf, synthesize } from '../test/support/stack';
import type { BurstResult } from './burst';
import { COST_ASSUMPTIONS, type FixCost, fixCost, type TracingMode } from './fix-cost';
import { type IdleCost, idleCost, idleCostByType } from './idle-cost';
import {
  type ImportFigure,
  importCpuMs,
  measurePairs,
  pinnedCpu,
  type RatioFigure,
} from './import-cost';
import type { Measurement, OutcomeCalls, OutcomeUsage } from './measure';
import { PRICE_REGION, PRICE_SOURCES, PRICES, PRICES_AS_OF } from './prices';
import { type ImportRun, importRunOf, runToRun } from './run-to-run';
import type { MinimumCalls, Scenario } from './scenario';
import { type Verdict, verdictAgainst } from './stats';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');
const OUT = path.join(ROOT, 'bench', 'out');
/**
 * Pairs of imports (handler, baseline) per repeat; at least 2 repeats, and
 * more, up to the limit, while the repeats' ratios spread more than the target.
 */
const IMPORT = {
  pairsPerRepeat: Number(process.env.BENCH_IMPORT_PAIRS ?? 16),
  minRepeats: 2,
  maxRepeats: Number(process.env.BENCH_IMPORT_MAX_REPEATS ?? 4),
  targetSpread: 0.03,
} as const;
const CPU_ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 400);
const BURST_FINDINGS = Number(process.env.BENCH_BURST_FINDINGS ?? 10_000);
const BURST_CONTROL = process.env.BENCH_BURST_CONTROL ?? 'EC2.18';
/** A reserved concurrency above the default, where EC2's mutating bucket throttles. */
const BURST_HIGH_CONCURRENCY = Number(process.env.BENCH_BURST_HIGH_CONCURRENCY ?? 20);
/** Run to run, the import ratio should move less than this. */
const RUN_TO_RUN_GOAL = 0.05;

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
  readonly tracing: TracingMode;
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
    /** Interquartile mean of the pairs' handler / baseline, per repeat, spread. */
    readonly ratio: RatioFigure;
    readonly pairs: number;
    /** (this − the run before) / the run before, when bench/results.json held one. */
    readonly runToRun: number | undefined;
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
  cpu: string | undefined,
  previous: ImportRun | undefined,
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
  const imports = await measurePairs(
    { handler: handlerFile, baseline: baselineFile },
    IMPORT,
    (file) => importCpuMs(file, env, cpu),
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
      apiWaitMs: use.apiWaitMs,
      waitSeconds: outcome === 'remediate' ? waitSeconds : 0,
      memoryMb: deployed.memoryMb,
      tracing: deployed.tracing,
    });
  }
  const { ratio } = imports;
  const moved = runToRun([{ controlId, ratio: ratio.ratio }], previous).get(controlId);
  // The measurement's spread is the larger of its own repeats' and how far it moved since the run before.
  const spread = Math.max(ratio.spread, Math.abs(moved ?? 0));
  const row: Omit<Row, 'pass'> = {
    controlId,
    bundle: { raw, gzip, pass: raw <= BUDGETS.bundleBytes },
    importTime: {
      handler: imports.handler,
      baseline: imports.baseline,
      ratio,
      pairs: imports.pairs.length,
      runToRun: moved,
      sdkClients: usage.map((u) => u.pkg),
      sdkCommands: usage.reduce((n, u) => n + u.commands.length, 0),
      verdict: verdictAgainst(ratio.ratio, BUDGETS.importRatio, spread),
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
const signed = (share: number | undefined) =>
  share === undefined ? 'n/a' : `${share >= 0 ? '+' : '−'}${pct(Math.abs(share))}`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const usd = (value: number, digits = 4) => `$${value.toFixed(digits)}`;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'over budget');

function fixVerdict(row: Row): string {
  const cost = row.costs.remediate;
  if (!cost) return 'n/a';
  if (cost.per1000 <= BUDGETS.per1000Fixes) return 'PASS';
  if (row.typicalWaitSeconds > 0)
    return `over: waits ${row.typicalWaitSeconds} s for AWS to settle`;
  // A preflight that reads CloudWatch for its evidence (EC2.8: has the instance used IMDSv1?).
  const evidence = cost.lines
    .filter((l) => l.service === 'CloudWatch GetMetricData')
    .reduce((n, l) => n + l.per1000, 0);
  return evidence > 0 && cost.per1000 - evidence <= BUDGETS.per1000Fixes
    ? `over: ${usd(evidence)} of it is the CloudWatch metric its preflight reads as evidence; ${usd(cost.per1000 - evidence)} without`
    : 'over budget';
}

function printRow(row: Row): void {
  const { calls } = row;
  process.stdout.write(
    [
      `${row.controlId.padEnd(7)} ${verdict(row.pass)}`,
      `  bundle    ${kb(row.bundle.raw)} raw, ${kb(row.bundle.gzip)} gzip (budget ${kb(BUDGETS.bundleBytes)})  ${verdict(row.bundle.pass)}`,
      `  import    ${ms(row.importTime.handler)} vs ${ms(row.importTime.baseline)} of CPU for the AWS SDK code it uses (${row.importTime.sdkCommands} commands): ${times(row.importTime.ratio)} over ${row.importTime.pairs} pairs, ${signed(row.importTime.runToRun)} since the run before (budget x${BUDGETS.importRatio})  ${row.importTime.verdict}`,
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

/** Org mode's fixed costs: the central stack, and the member template each account gets. */
export interface OrgIdle {
  readonly central: IdleCost;
  readonly member: IdleCost;
}

/**
 * The same config in org mode (two regions, every account): the central
 * stack's template, and the member template its StackSet deploys, walked as
 * the single-account one is.
 */
function orgIdle(config: Record<string, unknown>): OrgIdle {
  const { template } = synthesize({
    config: {
      ...config,
      organization: {
        accounts: '*',
        regions: ['eu-west-1', 'us-east-1'],
        deploymentTargets: { organizationalUnitIds: ['ou-abcd-11111111'] },
      },
    },
  });
  const central = resourcesOf(template);
  const stackSet = Object.values(central).find((r) => r.Type === 'AWS::CloudFormation::StackSet');
  if (!stackSet) throw new Error('the org-mode template has no StackSet');
  const body = JSON.parse(String(resolveIntrinsics(stackSet.Properties.TemplateBody))) as {
    Resources: Parameters<typeof idleCost>[0];
  };
  return { central: idleCost(central), member: idleCost(body.Resources) };
}

function deployedSettings(): {
  byControl: Map<string, Deployed>;
  idle: IdleCost;
  org: OrgIdle;
} {
  const config = JSON.parse(readFileSync(path.join(ROOT, DEFAULT_CONFIG_PATH), 'utf8')) as Record<
    string,
    unknown
  >;
  const { template } = synthesize({ config });
  const resources = resourcesOf(template);
  const byControl = new Map<string, Deployed>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const p = resource.Properties;
    const controlId = /^hubfix (\S+):/.exec(String(p.Description ?? ''))?.[1];
    if (!controlId) continue;
    const tracing = (p.TracingConfig as { Mode?: string } | undefined)?.Mode;
    byControl.set(controlId, {
      memoryMb: Number(p.MemorySize),
      reservedConcurrency: Number(p.ReservedConcurrentExecutions),
      timeoutSeconds: Number(p.Timeout),
      tracing: tracing === 'Active' ? 'active' : 'pass-through',
    });
  }
  return { byControl, idle: idleCost(resources), org: orgIdle(config) };
}

function runBurst(
  controlId: string,
  cpuMs: number,
  deployed: Deployed,
  concurrency: number,
): BurstResult {
  const out = path.join(OUT, `burst-${concurrency}.json`);
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench', 'burst.ts'),
      controlId,
      out,
      String(BURST_FINDINGS),
      String(concurrency),
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

interface RunInfo {
  readonly startedAt: Date;
  readonly seconds: number;
  readonly load: { readonly start: number; readonly end: number };
  readonly cpu: string | undefined;
}

/** Remediate cost per 1,000 of a run kept for comparison, by control. */
interface CostBaseline {
  readonly generatedAt: string;
  readonly note: string;
  readonly per1000: Readonly<Record<string, number>>;
}

const IMPORT_METHOD = `pairs of fresh processes (handler, baseline; then baseline, handler), pinned to one CPU; the figure is the interquartile mean of the pairs' ratios; ${IMPORT.pairsPerRepeat} pairs a repeat, ${IMPORT.minRepeats} to ${IMPORT.maxRepeats} repeats (another while the repeats spread more than ${pct(IMPORT.targetSpread)})`;

function importRunOfRows(rows: readonly Row[], info: RunInfo): ImportRun {
  return {
    generatedAt: info.startedAt.toISOString(),
    load: info.load,
    method: IMPORT_METHOD,
    rows: rows.map((r) => ({
      controlId: r.controlId,
      ratio: r.importTime.ratio.ratio,
      spread: r.importTime.ratio.spread,
      repeats: r.importTime.ratio.repeats,
      handlerMs: r.importTime.handler.ms,
      baselineMs: r.importTime.baseline.ms,
      samples: r.importTime.pairs,
      verdict: r.importTime.verdict,
    })),
  };
}

const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const loadText = (load: ImportRun['load']) =>
  load
    ? `load average ${load.start.toFixed(2)} at the start, ${load.end.toFixed(2)} at the end`
    : 'load not recorded';

function markdown(
  rows: readonly Row[],
  idle: IdleCost,
  org: OrgIdle,
  bursts: readonly BurstResult[],
  summary: string,
  info: RunInfo,
  previous: ImportRun | undefined,
  baseline: CostBaseline | undefined,
): string {
  const a = COST_ASSUMPTIONS;
  const first = rows[0];
  const byType = idleCostByType(idle);
  const moved = rows.flatMap((r) =>
    r.importTime.runToRun === undefined ? [] : [{ id: r.controlId, by: r.importTime.runToRun }],
  );
  const within = moved.filter((m) => Math.abs(m.by) <= RUN_TO_RUN_GOAL);
  const worst = [...moved].sort((x, y) => Math.abs(y.by) - Math.abs(x.by))[0];
  const tracing = first?.deployed.tracing ?? 'pass-through';
  return [
    '# hubfix benchmark',
    '',
    `Generated by \`npm run bench\` on ${when(info.startedAt.toISOString())}, Node ${process.version}, ${process.arch}, ${info.cpu === undefined ? 'imports not pinned (no taskset)' : `imports pinned to CPU ${info.cpu}`}; the run took ${(info.seconds / 60).toFixed(1)} min; ${loadText(info.load)} (2 shared cores). ${summary}`,
    '',
    `Budgets: bundle ≤ ${kb(BUDGETS.bundleBytes)} raw; cold import ≤ x${BUDGETS.importRatio} of a bundle holding only the AWS SDK code the handler uses; API calls ≤ the minimum + ${BUDGETS.extraCalls}; ≤ $${BUDGETS.per1000Fixes} per 1,000 fixes, every billed service counted; ≤ $${BUDGETS.idleMonthly} a month while idle (single-account mode, per account and region).`,
    '',
    '## Cold import',
    '',
    `Import cost is the CPU time (user + system) a fresh Node process spends in \`import()\` of the bundle, not wall time: on a shared machine wall time mostly measures the neighbours. CPU time still grows when a neighbour shares the core (here by up to x1.5 under load), and by a different factor from one second to the next. So the handler's bundle and its baseline (a bundle built the same way holding only the AWS SDK clients the handler uses and the commands it sends, read from esbuild's metafile) are measured in pairs, one right after the other in fresh processes (handler first, then baseline first, in turn), pinned to one CPU: the two of a pair see the same neighbours, and their ratio cancels the slowdown. The figure is the interquartile mean of the pairs' ratios (a spike in either import of a pair is trimmed, whichever way it moves the ratio); ${IMPORT.pairsPerRepeat} pairs a repeat, at least ${IMPORT.minRepeats} repeats, and another, up to ${IMPORT.maxRepeats}, while the repeats' ratios spread more than ${pct(IMPORT.targetSpread)}. "±" is half the range of the repeats' figures. The handler and baseline milliseconds are each bundle's lowest 30% of samples, for scale (the ratio is not their quotient). "Since the run before" is how far the ratio moved from the previous \`npm run bench\` (below); a verdict is given only where the ratio is farther from the budget than both the run's own spread and that move ("within noise" otherwise).`,
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
        'pairs',
        'since the run before',
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
        String(r.importTime.pairs),
        signed(r.importTime.runToRun),
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
    ...(previous
      ? [
          `**Run to run:** ${within.length} of ${moved.length} controls within ±${pct(RUN_TO_RUN_GOAL)} of the run before${worst ? `; the largest move ${worst.id} ${signed(worst.by)}` : ''}.`,
          '',
          `The run before, ${when(previous.generatedAt)}, ${loadText(previous.load)}; ${previous.method}:`,
          '',
          ...table(
            ['control', 'ratio', 'ratio per repeat', 'handler', 'its SDK code', 'verdict'],
            previous.rows.map((r) => [
              r.controlId,
              `x${r.ratio.toFixed(3)} ±${pct(r.spread / 2)}`,
              r.repeats.map((x) => `x${x.toFixed(3)}`).join(', '),
              `${r.handlerMs.toFixed(1)} ms`,
              `${r.baselineMs.toFixed(1)} ms`,
              r.verdict,
            ]),
          ),
          '',
        ]
      : ['No run before this one to compare with (bench/results.json held none).', '']),
    "Calls count the resource's own API calls plus one finding update and one publish. Each outcome also re-fetches the finding from Security Hub, puts one outcome event on the default bus, and makes DynamoDB bookkeeping calls (idempotency, ledger, lease, history), all counted in the costs below.",
    '',
    '## Cost per 1,000 findings, every billed service',
    '',
    `List prices of ${PRICE_REGION} as recorded on ${PRICES_AS_OF} (bench/prices.ts): Lambda arm64 $${PRICES.lambda.perGbSecond} per GB-second and $${PRICES.lambda.perRequest * 1e6} per million requests; DynamoDB on-demand $${PRICES.dynamodb.perWriteRequestUnit * 1e6} per million write and $${PRICES.dynamodb.perReadRequestUnit * 1e6} per million read request units; SNS $${PRICES.sns.perPublishChunk * 1e6} per million publishes (64 KB chunks); EventBridge $${PRICES.eventBridge.perEventChunk * 1e6} per million custom events (64 KB chunks; Security Hub's own events are free); CloudWatch Logs $${PRICES.logs.perGbIngested} per GB ingested; X-Ray $${PRICES.xray.perTraceRecorded * 1e6} per million traces; CloudWatch GetMetricData $${PRICES.cloudWatch.perMetricRequested * 1000} per 1,000 metrics. First tiers, before any free tier. Security Hub GetFindings and BatchUpdateFindings are not billed per call (Security Hub bills checks and findings ingested from integrations); the EC2 and ECS APIs are free. Email deliveries from the topic are $${PRICES.sns.perEmailDelivery * 1e5} per 100,000 per subscribed address, on top (none are subscribed by default). Where each price was checked:`,
    '',
    ...table(
      ['price', 'confirmed by', 'source'],
      PRICE_SOURCES.map((p) => [
        p.price,
        p.confirmed === 'aws'
          ? "AWS's pricing page"
          : p.confirmed === 'secondary'
            ? 'third-party pages quoting it'
            : 'not confirmed',
        p.source,
      ]),
    ),
    '',
    `Model (bench/fix-cost.ts): duration = CPU per finding measured here + the time the invocation waits for its API calls, each taking ${a.apiLatencyMs} ms, measured by running the handler once more in simulated time (calls the pipeline or the control makes at once overlap, as they do in Lambda) + ${a.coldStartShare * 100}% cold starts × ${a.coldStartInitMs} ms + the time a fix waits for AWS to settle (ECS.16: ${rows.find((r) => r.typicalWaitSeconds > 0)?.typicalWaitSeconds ?? 0} s for its replacement task set; the others do not wait), at the deployed memory (${first?.deployed.memoryMb ?? '?'} MB, from the synthesized template). DynamoDB request units from the items the pipeline really wrote and read, sized by DynamoDB's rules, the ledger's time index (every attribute) included where a write changes what it holds. Logs: the bytes the handler wrote (log lines and EMF metrics), plus Lambda's START/END/REPORT lines (${a.platformLogBytes} B) and ${a.logEventOverheadBytes} B per log event. X-Ray: tracing \`${tracing}\` as deployed (\`functions.tracing\`), ${a.tracesPerInvocation[tracing]} trace per invocation; with \`active\`, Lambda traces the first invocation each second and 5% of the rest, which for findings arriving apart is every one: +$${(1000 * a.tracesPerInvocation.active * PRICES.xray.perTraceRecorded).toFixed(4)} per 1,000.`,
    '',
    ...table(
      [
        'control',
        'outcome',
        'duration (API wait)',
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
              `${cost.durationMs.toFixed(0)} ms (${use.apiWaitMs.toFixed(0)} ms)`,
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
    ...(baseline
      ? [
          `Per 1,000 fixes (REMEDIATED; EC2.24: NOTIFIED), now and in the run of ${when(baseline.generatedAt)} (${baseline.note}):`,
          '',
          ...table(
            ['control', 'then', 'now', 'change'],
            rows.flatMap((r) => {
              const then = baseline.per1000[r.controlId];
              const now = r.costs.remediate?.per1000;
              return then === undefined || now === undefined
                ? []
                : [[r.controlId, usd(then), usd(now), signed((now - then) / then)]];
            }),
          ),
          '',
        ]
      : []),
    '## Fixed cost while idle',
    '',
    `Walked from the template \`cdk synth\` makes of remediation.config.json (bench/idle-cost.ts): every resource is priced or free with its reason; a type the walker does not know is listed, not priced at $0. Single-account mode, per account and region, a month with no findings: **${usd(idle.monthly, 2)}** (budget $${BUDGETS.idleMonthly}; ${idle.monthly <= BUDGETS.idleMonthly + 1e-9 ? 'PASS' : 'over budget'}), plus ${usd(idle.dashboardsBeyondFree, 2)} for the dashboard only if the account already has ${PRICES.cloudWatch.freeDashboardsPerAccount} others. ${idle.unpriced.length === 0 ? 'No resource type is unpriced.' : `Unpriced: ${idle.unpriced.map((u) => `${u.logicalId} (${u.type})`).join(', ')}.`} Org mode, the same config with two regions: per member account (the StackSet's template, ${org.member.lines.length} resources) **${usd(org.member.monthly, 2)}** (goal $0; ${org.member.monthly === 0 && org.member.unpriced.length === 0 ? 'PASS' : 'over'}); the central stack ${usd(org.central.monthly, 2)}.`,
    '',
    ...table(
      ['resource type', 'count', 'a month', 'basis'],
      byType.map((t) => [t.type, String(t.count), usd(t.monthly, 2), t.basis]),
    ),
    '',
    '## A burst',
    '',
    ...(bursts.length > 0 ? burstSection(bursts) : ['Not run (only some controls were measured).']),
    '',
  ].join('\n');
}

function burstSection(bursts: readonly BurstResult[]): string[] {
  const [b] = bursts;
  if (!b) return [];
  const hours = (seconds: number) =>
    seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`;
  const revoke = (r: BurstResult) =>
    Object.entries(r.perAction).filter(([action]) => !/^(Describe|Get|List)/.test(action));
  return [
    `${b.findings.toLocaleString('en-US')} ${b.controlId} findings arrive at once (a large account's first scan), each about its own security group, run through the real handler with canned answers in simulated time (bench/burst.ts), at the reserved concurrency the template deploys and at a higher one. ${b.cpuMsPerFinding.toFixed(2)} ms of CPU per finding (measured above), ${b.apiLatencyMs} ms per API call. EC2 throttles each API with its own token bucket (EC2 Developer Guide, "Request throttling for the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): non-mutating actions ${b.buckets.nonMutating.capacity} tokens refilled at ${b.buckets.nonMutating.refillPerSecond} a second (the page's own example, DescribeHosts, confirmed there); mutating actions ${b.buckets.mutating.capacity} tokens at ${b.buckets.mutating.refillPerSecond} a second (the page's table of request token limits, from memory: its stored copy does not reach the table). The SDK's own adaptive retry strategy (5 attempts, a client-side rate limiter per execution environment) answers the throttles; a finding whose calls stay throttled is deferred (nothing changed) and the reconciler hands it on at its next sweep (every ${b.sweepEveryHours} h; the first assumed ${b.sweepEveryHours} h after the burst began); an invocation that throws is retried by Lambda twice (after 1 and 2 minutes), then sent to the dead-letter queue, as is any event older than ${b.maxEventAgeHours} hours.`,
    '',
    ...table(
      [
        'reserved concurrency',
        'first pass',
        'all fixed after',
        'outcomes',
        'deferred, handed on by a sweep',
        'dead-letter queue',
        'Lambda retries',
        'EC2 calls (throttled)',
        'mutating API: calls, throttled, accepted a second (mean / peak)',
        'peak calls in one second, per API',
      ],
      bursts.map((r) => [
        String(r.concurrency),
        hours(r.firstPassSeconds),
        hours(r.seconds),
        Object.entries(r.outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        String(r.handedOnBySweep),
        String(r.deadLetters),
        String(r.lambdaRetries),
        `${r.ec2Calls} (${r.throttled})`,
        revoke(r)
          .map(
            ([action, c]) =>
              `${action}: ${c.calls}, ${c.throttled}, ${c.meanAcceptedPerSecond.toFixed(1)} / ${c.peakAcceptedPerSecond}`,
          )
          .join('; '),
        Object.entries(r.perAction)
          .map(([action, c]) => `${action} ${c.peakPerSecond}`)
          .join(', '),
      ]),
    ),
    '',
    "Not modelled: other traffic on the account's EC2 buckets (it shares them), Lambda's own back-off when it polls a throttled queue, cold starts, lease contention (conditions are not evaluated), limits of Security Hub, DynamoDB, SNS and EventBridge (they always answer), and real latency spread.",
  ];
}

/** The remediate cost per 1,000 fixes of the run before, kept from the first run this bench compared with. */
function costBaselineOf(results: unknown): CostBaseline | undefined {
  if (typeof results !== 'object' || results === null) return undefined;
  // results.json as an earlier run of this file wrote it; every field is checked before use.
  const r = results as { costBaseline?: CostBaseline; generatedAt?: unknown; rows?: unknown };
  if (r.costBaseline) return r.costBaseline;
  if (typeof r.generatedAt !== 'string' || !Array.isArray(r.rows)) return undefined;
  const per1000: Record<string, number> = {};
  for (const row of r.rows as {
    controlId?: unknown;
    costs?: { remediate?: { per1000?: unknown } };
  }[]) {
    const cost = row.costs?.remediate?.per1000;
    if (typeof row.controlId === 'string' && typeof cost === 'number')
      per1000[row.controlId] = cost;
  }
  return Object.keys(per1000).length === 0
    ? undefined
    : {
        generatedAt: r.generatedAt,
        note: "X-Ray active tracing counted at a trace per fix, the ledger's time index projecting every attribute, API calls one after the other",
        per1000,
      };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = loadavg()[0] ?? Number.NaN;
  const only = process.argv.slice(2);
  const controls = CONTROLS.filter((c) => only.length === 0 || only.includes(c.meta.id));
  mkdirSync(OUT, { recursive: true });
  const resultsJson = path.join(ROOT, 'bench', 'results.json');
  const before: unknown = existsSync(resultsJson)
    ? JSON.parse(readFileSync(resultsJson, 'utf8'))
    : undefined;
  const previous = importRunOf(before);
  const baseline = costBaselineOf(before);
  const cpu = pinnedCpu();
  const { byControl, idle, org } = deployedSettings();
  const rows: Row[] = [];
  for (const control of controls) {
    const { scenario } = (await import(`./scenarios/${controlFolder(control.meta.id)}.ts`)) as {
      scenario: Scenario;
    };
    const deployed = byControl.get(control.meta.id);
    if (!deployed) throw new Error(`${control.meta.id} is not in the synthesized template`);
    const row = await measureControl(control.meta.id, scenario, deployed, cpu, previous);
    printRow(row);
    rows.push(row);
  }
  const burstRow = rows.find((r) => r.controlId === BURST_CONTROL);
  const bursts = burstRow
    ? [burstRow.deployed.reservedConcurrency, BURST_HIGH_CONCURRENCY].map((concurrency) =>
        runBurst(BURST_CONTROL, burstRow.cpu.medianMs, burstRow.deployed, concurrency),
      )
    : [];
  for (const burst of bursts) {
    process.stdout.write(
      `burst     ${burst.findings} ${burst.controlId} findings at concurrency ${burst.concurrency}: first pass ${(burst.firstPassSeconds / 60).toFixed(1)} min, all fixed after ${(burst.seconds / 60).toFixed(1)} min; ${burst.handedOnBySweep} deferred and handed on by a sweep; ${burst.deadLetters} to the dead-letter queue; ${burst.throttled} throttled EC2 calls of ${burst.ec2Calls}\n`,
    );
  }
  process.stdout.write(
    `idle      $${idle.monthly.toFixed(2)} a month (budget $${BUDGETS.idleMonthly})\n`,
  );
  const over = rows.filter((r) => !r.pass).map((r) => r.controlId);
  const moved = rows.filter(
    (r) => r.importTime.runToRun !== undefined && Math.abs(r.importTime.runToRun) > RUN_TO_RUN_GOAL,
  );
  const compared = rows.filter((r) => r.importTime.runToRun !== undefined).length;
  const summary = [
    over.length === 0
      ? `All ${rows.length} controls within their size, import and call budgets.`
      : `${over.length} of ${rows.length} controls over a size, import or call budget: ${over.join(', ')}.`,
    compared > 0
      ? `Import ratios within ±${pct(RUN_TO_RUN_GOAL)} of the run before: ${compared - moved.length} of ${compared}${moved.length > 0 ? ` (moved more: ${moved.map((r) => `${r.controlId} ${signed(r.importTime.runToRun)}`).join(', ')})` : ''}.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  process.stdout.write(`${summary}\n`);
  const info: RunInfo = {
    startedAt,
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    load: { start: loadStart, end: loadavg()[0] ?? Number.NaN },
    cpu,
  };
  process.stdout.write(`took      ${(info.seconds / 60).toFixed(1)} min\n`);
  if (only.length === 0) {
    writeFileSync(
      resultsJson,
      JSON.stringify({
        generatedAt: startedAt.toISOString(),
        node: process.version,
        budgets: BUDGETS,
        prices: { asOf: PRICES_AS_OF, region: PRICE_REGION, PRICES, sources: PRICE_SOURCES },
        costAssumptions: COST_ASSUMPTIONS,
        importRuns: [importRunOfRows(rows, info), ...(previous ? [previous] : [])],
        ...(baseline ? { costBaseline: baseline } : {}),
        rows,
        idle,
        orgIdle: org,
        bursts,
      }),
    );
    writeFileSync(
      path.join(ROOT, 'bench', 'results.md'),
      markdown(rows, idle, org, bursts, summary, info, previous, baseline),
    );
    // Committed results pass `npm run lint` as written, with no exception for them.
    const format = spawnSync(BIOME, ['format', '--write', resultsJson], { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`formatting ${resultsJson} failed:\n${format.stderr}`);
  } else
    writeFileSync(
      path.join(OUT, 'results.md'),
      markdown(rows, idle, org, bursts, summary, info, previous, baseline),
    );
  process.exitCode = over.length === 0 ? 0 : 1;
}

await main();
