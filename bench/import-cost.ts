/**
 * What importing a bundle costs a cold start, measured as CPU time (user +
 * system) the importing process spends in `import()`, not as wall time: on a
 * shared machine wall time mostly measures the neighbours, CPU time mostly
 * the work. Bundles are sampled interleaved (A B C, B C A, ...) so a busy
 * moment hits all alike, each in a fresh Node process, and the whole
 * measurement is repeated so it can state its own spread.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { lowMean, relativeSpread } from './stats';

/** Milliseconds of CPU a fresh Node process spends importing `file`. */
export function importCpuMs(file: string, env: Readonly<Record<string, string>>): Promise<number> {
  const code = [
    'const before = process.cpuUsage();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const used = process.cpuUsage(before);',
    'process.stdout.write(String((used.user + used.system) / 1000));',
  ].join('');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', code], {
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
  /** Mean of the lowest share of every sample of every repeat, ms of CPU. */
  readonly ms: number;
  /** The same figure per repeat. */
  readonly repeats: readonly number[];
  /** relativeSpread of the repeats. */
  readonly spread: number;
}

export interface RatioFigure {
  readonly ratio: number;
  readonly repeats: readonly number[];
  readonly spread: number;
}

export interface ImportOptions {
  readonly samplesPerRepeat: number;
  readonly repeats: number;
  /** Share of the lowest samples a figure is the mean of. @default 0.3 */
  readonly low?: number;
}

/**
 * Imports every bundle `samplesPerRepeat` times per repeat, one after the
 * other in a rotating order (A B, B A, ...), each in a fresh process, and
 * returns each bundle's figure. One at a time: two imports at once on a
 * shared 2-core machine slow each other down unevenly. `measure` is the
 * sampler (importCpuMs in the bench; a stand-in in tests).
 */
export async function measureImports<Label extends string>(
  files: Readonly<Record<Label, string>>,
  options: ImportOptions,
  measure: (file: string) => Promise<number>,
): Promise<Record<Label, ImportFigure>> {
  const labels = Object.keys(files) as Label[];
  const samples = new Map<Label, number[][]>(labels.map((l) => [l, []]));
  // One throw-away import each, so the file system cache is warm for all.
  for (const label of labels) await measure(files[label]);
  for (let repeat = 0; repeat < options.repeats; repeat += 1) {
    for (const series of samples.values()) series.push([]);
    for (let i = 0; i < options.samplesPerRepeat; i += 1) {
      // Rotate the order, so no bundle always runs first.
      for (let k = 0; k < labels.length; k += 1) {
        const label = labels[(i + k) % labels.length] as Label;
        samples.get(label)?.[repeat]?.push(await measure(files[label]));
      }
    }
  }
  const figures = {} as Record<Label, ImportFigure>;
  for (const label of labels) {
    const series = samples.get(label) ?? [];
    const repeats = series.map((s) => lowMean(s, options.low));
    figures[label] = {
      ms: lowMean(series.flat(), options.low),
      repeats,
      spread: relativeSpread(repeats),
    };
  }
  return figures;
}

/** A bundle's figure over another's, per repeat and overall. */
export function ratioOf(numerator: ImportFigure, denominator: ImportFigure): RatioFigure {
  const repeats = numerator.repeats.map((n, i) => n / (denominator.repeats[i] ?? Number.NaN));
  return {
    ratio: numerator.ms / denominator.ms,
    repeats,
    spread: relativeSpread(repeats),
  };
}
