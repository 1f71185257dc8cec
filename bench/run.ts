/**
 * `npm run bench`: for every registered control, the numbers behind the claim
 * that hubfix is fast and cheap, each checked against its budget.
 *
 * - bundle size, raw and gzip, of the real esbuild output (lib/bundling);
 * - cold import time of the bundle, as a ratio to a baseline bundle holding
 *   only the AWS SDK clients that handler uses (median of fresh processes);
 * - CPU time per finding through the whole pipeline with instant, canned SDK
 *   answers (median over 1,000 findings);
 * - AWS API calls per outcome against the control's minimum.
 *
 * Writes bench/results.json and bench/results.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ENVIRONMENT } from '../lambdas/core/env';
import { bundleHandler, HANDLER_FILE } from '../lib/bundling/esbuild';
import { CONTROLS, controlFolder, handlerEntry } from '../lib/controls';
import {
  type ImportFigure,
  importCpuMs,
  measureImports,
  type RatioFigure,
  ratioOf,
} from './import-cost';
import type { Measurement, OutcomeCalls } from './measure';
import type { MinimumCalls, Scenario } from './scenario';
import { type Verdict, verdictAgainst } from './stats';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');
const OUT = path.join(ROOT, 'bench', 'out');
/** Fresh processes per bundle in each repeat, and repeats per run. */
const IMPORT_SAMPLES = Number(process.env.BENCH_IMPORT_SAMPLES ?? 12);
const IMPORT_REPEATS = Number(process.env.BENCH_IMPORT_REPEATS ?? 2);
const CPU_ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000);

export const BUDGETS = {
  bundleBytes: 1024 * 1024,
  importRatio: 1.25,
  extraCalls: 1,
} as const;

/** Assumptions of the cost model, stated so they can be checked and changed. */
export const COST_ASSUMPTIONS = {
  region: 'us-east-1',
  architecture: 'arm64',
  memoryGb: 0.25,
  /** Lambda arm64 price per GB-second (first pricing tier). */
  pricePerGbSecond: 0.0000133334,
  pricePerMillionRequests: 0.2,
  /** Average latency of one AWS API call made from Lambda in the same region. */
  apiLatencyMs: 40,
  /** Share of invocations that start cold, and what a cold start adds. */
  coldStartShare: 0.05,
  coldStartInitMs: 400,
} as const;

interface Row {
  readonly controlId: string;
  readonly bundle: { readonly raw: number; readonly gzip: number; readonly pass: boolean };
  readonly importTime: {
    /** CPU ms of the import: trimmed mean, per repeat, spread of the repeats. */
    readonly handler: ImportFigure;
    /** The AWS SDK code the handler uses: its clients and the commands it sends. */
    readonly baseline: ImportFigure;
    readonly ratio: RatioFigure;
    /** For comparison only: the clients without their commands. */
    readonly clientsOnly: ImportFigure;
    readonly clientsOnlyRatio: RatioFigure;
    readonly sdkClients: readonly string[];
    readonly sdkCommands: number;
    readonly verdict: Verdict;
  };
  readonly cpu: Measurement['cpu'];
  readonly calls: Record<'remediate' | 'notify', CallsRow> & { readonly suppress?: CallsRow };
  readonly typicalWaitSeconds: number;
  readonly pass: boolean;
}

interface CallsRow {
  readonly made: number;
  readonly minimum: number;
  readonly why: string;
  readonly bookkeeping: number;
  readonly detail: OutcomeCalls;
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

async function measureControl(controlId: string, scenario: Scenario): Promise<Row> {
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
  const clientsOnlyFile = await sdkOnlyBundle(usage, path.join(dir, 'clients-only'), false);

  const env = HANDLER_ENV(controlId);
  const figures = measureImports(
    { handler: handlerFile, baseline: baselineFile, clientsOnly: clientsOnlyFile },
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
  const ratio = ratioOf(figures.handler, figures.baseline);
  const row: Omit<Row, 'pass'> = {
    controlId,
    bundle: { raw, gzip, pass: raw <= BUDGETS.bundleBytes },
    importTime: {
      handler: figures.handler,
      baseline: figures.baseline,
      ratio,
      clientsOnly: figures.clientsOnly,
      clientsOnlyRatio: ratioOf(figures.handler, figures.clientsOnly),
      sdkClients: usage.map((u) => u.pkg),
      sdkCommands: usage.reduce((n, u) => n + u.commands.length, 0),
      verdict: verdictAgainst(ratio.ratio, BUDGETS.importRatio, ratio.spread),
    },
    cpu: measurement.cpu,
    calls,
    typicalWaitSeconds: scenario.typicalWaitSeconds ?? 0,
  };
  return {
    ...row,
    pass:
      row.bundle.pass &&
      row.importTime.verdict !== 'over budget' &&
      Object.values(calls).every((c) => c.pass),
  };
}

const verdict = (pass: boolean) => (pass ? 'PASS' : 'over budget');
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (f: ImportFigure) => `${f.ms.toFixed(1)} ms ±${pct(f.spread / 2)}`;
const times = (f: RatioFigure) => `x${f.ratio.toFixed(3)} ±${pct(f.spread / 2)}`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

function printRow(row: Row): void {
  const { calls } = row;
  process.stdout.write(
    [
      `${row.controlId.padEnd(7)} ${verdict(row.pass)}`,
      `  bundle    ${kb(row.bundle.raw)} raw, ${kb(row.bundle.gzip)} gzip (budget ${kb(BUDGETS.bundleBytes)})  ${verdict(row.bundle.pass)}`,
      `  import    ${ms(row.importTime.handler)} vs ${ms(row.importTime.baseline)} of CPU for the AWS SDK code it uses (${row.importTime.sdkClients.join(', ')}; ${row.importTime.sdkCommands} commands): ${times(row.importTime.ratio)} (budget x${BUDGETS.importRatio})  ${row.importTime.verdict}; ${times(row.importTime.clientsOnlyRatio)} of the clients alone`,
      `  cpu       ${row.cpu.medianMs.toFixed(2)} ms per finding (median of ${row.cpu.iterations}; p95 ${row.cpu.p95Ms.toFixed(2)} ms)`,
      ...(['remediate', 'notify', 'suppress'] as const).map((o) => {
        const c = calls[o];
        return c
          ? `  ${o.padEnd(9)} ${c.made} calls, minimum ${c.minimum} (+${BUDGETS.extraCalls} allowed)  ${verdict(c.pass)}; bookkeeping ${c.bookkeeping}`
          : `  ${o.padEnd(9)} n/a: account-level findings carry no tags to suppress by`;
      }),
      '',
    ].join('\n'),
  );
}

/** Cost of 1,000 remediations at list prices, from the measured CPU and calls. */
function costModel(rows: readonly Row[]) {
  const a = COST_ASSUMPTIONS;
  return rows.map((row) => {
    const calls = row.calls.remediate.made + row.calls.remediate.bookkeeping;
    const durationMs =
      row.cpu.medianMs +
      calls * a.apiLatencyMs +
      a.coldStartShare * a.coldStartInitMs +
      row.typicalWaitSeconds * 1000;
    const gbSeconds = (durationMs / 1000) * a.memoryGb * 1000;
    const usd = gbSeconds * a.pricePerGbSecond + (1000 / 1_000_000) * a.pricePerMillionRequests;
    return { controlId: row.controlId, callsPerRemediation: calls, durationMs, gbSeconds, usd };
  });
}

function markdown(rows: readonly Row[], summary: string): string {
  const costs = costModel(rows);
  const a = COST_ASSUMPTIONS;
  return [
    '# hubfix benchmark',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.arch}. ${summary}`,
    '',
    `Budgets: bundle ≤ ${kb(BUDGETS.bundleBytes)} raw; cold import ≤ x${BUDGETS.importRatio} of a bundle holding only the AWS SDK code the handler uses; API calls ≤ the minimum + ${BUDGETS.extraCalls}.`,
    '',
    "The import baseline is a bundle built the same way (esbuild, ESM, minified, SDK bundled) that holds the AWS SDK clients the handler uses, created as the handler creates them, and the commands it sends, read from esbuild's metafile. The ratio is then hubfix's own overhead: Powertools logger, metrics and idempotency, middy, and hubfix's code. The last column compares with the clients alone, without their commands, for reference: a control that sends many commands carries their schemas there.",
    '',
    '| control | bundle raw | gzip | import (handler / its SDK code) | ratio | CPU per finding (median) | REMEDIATE calls | NOTIFY calls | SUPPRESS calls | verdict | ratio vs clients alone |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        r.controlId,
        kb(r.bundle.raw),
        kb(r.bundle.gzip),
        `${ms(r.importTime.handler)} / ${ms(r.importTime.baseline)}`,
        times(r.importTime.ratio),
        `${r.cpu.medianMs.toFixed(2)} ms`,
        `${r.calls.remediate.made} / min ${r.calls.remediate.minimum}`,
        `${r.calls.notify.made} / min ${r.calls.notify.minimum}`,
        r.calls.suppress
          ? `${r.calls.suppress.made} / min ${r.calls.suppress.minimum}`
          : 'n/a (no tags)',
        verdict(r.pass),
        times(r.importTime.clientsOnlyRatio),
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
    '',
    "Calls count the resource's own API calls plus one finding update and one publish. Each outcome also makes",
    'bookkeeping calls to DynamoDB that are listed apart: 2 for idempotency (every outcome) and 2 for the ledger (a fix',
    'only). They are the safety record of "nothing lost", not work on the resource.',
    '',
    '## Minimum calls, and why',
    '',
    '| control | outcome | minimum resource calls | why | calls made |',
    '|---|---|---|---|---|',
    ...rows.flatMap((r) =>
      (['remediate', 'notify', 'suppress'] as const).flatMap((o) => {
        const c = r.calls[o];
        return c
          ? [
              `| ${r.controlId} | ${o.toUpperCase()} | ${c.minimum - 2} | ${c.why} | ${c.detail.resource.join(', ') || 'none'} |`,
            ]
          : [];
      }),
    ),
    '',
    '## Cost per 1,000 remediations',
    '',
    `Assumptions: Lambda ${a.architecture} in ${a.region} at $${a.pricePerGbSecond} per GB-second and $${a.pricePerMillionRequests} per million requests (list prices, first tier, before free tier); ${a.memoryGb * 1024} MB memory; every AWS API call waits ${a.apiLatencyMs} ms; ${a.coldStartShare * 100}% of invocations start cold and spend ${a.coldStartInitMs} ms more. Duration = CPU per finding + calls (including bookkeeping) × latency + cold-start share + the time a fix typically waits for AWS to settle (an assumption per scenario: ECS.16 waits 60 s for its replacement task set to become steady; the others do not wait). EventBridge delivery of AWS service events, SNS publishes to email, DynamoDB on-demand writes and CloudWatch Logs are extra and small at this volume.`,
    '',
    '| control | calls per fix | duration per fix | GB-seconds per 1,000 | Lambda cost per 1,000 |',
    '|---|---|---|---|---|',
    ...costs.map(
      (c) =>
        `| ${c.controlId} | ${c.callsPerRemediation} | ${c.durationMs.toFixed(0)} ms | ${c.gbSeconds.toFixed(1)} | $${c.usd.toFixed(4)} |`,
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const controls = CONTROLS.filter((c) => only.length === 0 || only.includes(c.meta.id));
  mkdirSync(OUT, { recursive: true });
  const rows: Row[] = [];
  for (const control of controls) {
    const { scenario } = (await import(`./scenarios/${controlFolder(control.meta.id)}.ts`)) as {
      scenario: Scenario;
    };
    const row = await measureControl(control.meta.id, scenario);
    printRow(row);
    rows.push(row);
  }
  const over = rows.filter((r) => !r.pass).map((r) => r.controlId);
  const summary =
    over.length === 0
      ? `All ${rows.length} controls within every budget.`
      : `${over.length} of ${rows.length} controls over budget: ${over.join(', ')}.`;
  process.stdout.write(`${summary}\n`);
  if (only.length === 0) {
    const resultsJson = path.join(ROOT, 'bench', 'results.json');
    writeFileSync(
      resultsJson,
      JSON.stringify({
        generatedAt: new Date().toISOString(),
        node: process.version,
        budgets: BUDGETS,
        costAssumptions: COST_ASSUMPTIONS,
        rows,
        costs: costModel(rows),
      }),
    );
    writeFileSync(path.join(ROOT, 'bench', 'results.md'), markdown(rows, summary));
    // Committed results pass `npm run lint` as written, with no exception for them.
    const format = spawnSync(BIOME, ['format', '--write', resultsJson], { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`formatting ${resultsJson} failed:\n${format.stderr}`);
  }
  process.exitCode = over.length === 0 ? 0 : 1;
}

await main();
