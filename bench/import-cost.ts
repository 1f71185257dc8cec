/**
 * What importing a bundle costs a cold start, measured as CPU time (user +
 * system) the importing process spends in `import()`, not as wall time: on a
 * shared machine wall time mostly measures the neighbours, CPU time mostly
 * the work. Mostly: a busy neighbour on the same core (or its other
 * hyperthread) still slows the same work down by a factor that changes from
 * second to second, and on this 2-core machine by up to x1.5.
 *
 * So the handler's bundle and its baseline are measured in pairs, one right
 * after the other (handler first, then baseline first, in turn), each in a
 * fresh Node process pinned to one CPU where `taskset` exists. The two of a
 * pair see the same neighbours, and their ratio cancels the factor; the
 * figure is the interquartile mean of the pairs' ratios, so a spike in either
 * import of a pair (a collection, a preemption) is trimmed whichever way it
 * moves the ratio. The pairs come in repeats; the spread of the repeats'
 * figures is reported, and while it exceeds the target another repeat is
 * measured, up to a limit.
 */
import { execFileSync, spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { lowMean, relativeSpread, trimmedMean } from './stats';

/** The CPU imports are pinned to (the last one this process may use), or none without taskset. */
export function pinnedCpu(): string | undefined {
  try {
    const affinity = execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
    // "pid 123's current affinity list: 0,1" or "0-3"
    const list = /list:\s*(\S+)/.exec(affinity)?.[1] ?? '';
    const last = list.split(',').at(-1)?.split('-').at(-1);
    return last && /^\d+$/.test(last) ? last : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds of CPU a fresh Node process spends importing `file`. */
export function importCpuMs(
  file: string,
  env: Readonly<Record<string, string>>,
  cpu: string | undefined,
): Promise<number> {
  const code = [
    'const before = process.cpuUsage();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const used = process.cpuUsage(before);',
    'process.stdout.write(String((used.user + used.system) / 1000));',
  ].join('');
  const node = [process.execPath, '--input-type=module', '--no-warnings', '-e', code];
  const [command, ...args] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? process.execPath, args, {
      env: { PATH: process.env.PATH ?? '', ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0 ? resolve(Number(out)) : reject(new Error(`importing ${file} failed:\n${err}`)),
    );
  });
}

export interface ImportFigure {
  /** Mean of the lowest 30% of all samples, ms of CPU: what the import costs on a quiet core. */
  readonly ms: number;
  /** The same figure per repeat. */
  readonly repeats: readonly number[];
  /** relativeSpread of the repeats. */
  readonly spread: number;
}

export interface RatioFigure {
  /** Interquartile mean of every pair's handler / baseline. */
  readonly ratio: number;
  /** The same figure per repeat. */
  readonly repeats: readonly number[];
  /** relativeSpread of the repeats. */
  readonly spread: number;
}

export interface PairedImports {
  readonly handler: ImportFigure;
  readonly baseline: ImportFigure;
  readonly ratio: RatioFigure;
  /** Every pair, in the order measured, ms of CPU. */
  readonly pairs: readonly { readonly handler: number; readonly baseline: number }[];
}

export interface PairOptions {
  readonly pairsPerRepeat: number;
  readonly minRepeats: number;
  readonly maxRepeats: number;
  /** Another repeat is measured while the repeats' ratios spread more than this (relative). */
  readonly targetSpread: number;
}

/** The interquartile mean of the pairs' ratios. */
export function pairedRatio(
  pairs: readonly { readonly handler: number; readonly baseline: number }[],
): number {
  return trimmedMean(
    pairs.map((p) => p.handler / p.baseline),
    0.25,
  );
}

/**
 * Measures the handler's and the baseline's import in pairs, one after the
 * other, alternating which goes first, each in a fresh process. One at a
 * time: two imports at once on a 2-core machine slow each other unevenly.
 * `measure` is the sampler (importCpuMs in the bench; a stand-in in tests).
 */
export async function measurePairs(
  files: { readonly handler: string; readonly baseline: string },
  options: PairOptions,
  measure: (file: string) => Promise<number>,
): Promise<PairedImports> {
  // One throw-away import each, so the file system cache is warm for both.
  await measure(files.handler);
  await measure(files.baseline);
  const repeats: { handler: number; baseline: number }[][] = [];
  const spreadOf = () => relativeSpread(repeats.map(pairedRatio));
  while (
    repeats.length < options.minRepeats ||
    (repeats.length < options.maxRepeats && spreadOf() > options.targetSpread)
  ) {
    const pairs: { handler: number; baseline: number }[] = [];
    for (let i = 0; i < options.pairsPerRepeat; i += 1) {
      if (i % 2 === 0) {
        const handler = await measure(files.handler);
        pairs.push({ handler, baseline: await measure(files.baseline) });
      } else {
        const baseline = await measure(files.baseline);
        pairs.push({ handler: await measure(files.handler), baseline });
      }
    }
    repeats.push(pairs);
  }
  const all = repeats.flat();
  const figure = (of: 'handler' | 'baseline'): ImportFigure => {
    const perRepeat = repeats.map((pairs) => lowMean(pairs.map((p) => p[of])));
    return {
      ms: lowMean(all.map((p) => p[of])),
      repeats: perRepeat,
      spread: relativeSpread(perRepeat),
    };
  };
  const ratios = repeats.map(pairedRatio);
  return {
    handler: figure('handler'),
    baseline: figure('baseline'),
    ratio: { ratio: pairedRatio(all), repeats: ratios, spread: relativeSpread(ratios) },
    pairs: all,
  };
}
