/**
 * Synthesizes the real app for the integration tier, as `npx cdk synth`
 * does: the CDK CLI runs `bin/app.ts` (cdk.json's app, with its feature
 * flags), every handler is bundled by the local esbuild, cdk-nag runs, and
 * the cloud assembly (template, assets manifest, one `asset.<hash>` folder
 * per function) is written out. Offline: no AWS account, no credentials, no
 * Docker.
 *
 * The config is permissive (every control's mode `remediate` unless it is
 * notify-only, no dry run, empty allow-list): tests choose per invocation by
 * overriding the function's HUBFIX_SETTINGS (see deployed.ts), which the
 * stack encodes from exactly this kind of config.
 *
 * The synth costs about 20 s of CPU. Its output is kept in
 * node_modules/.cache/hubfix-integration-synth under a hash of everything it
 * depends on (bin, lib, lambdas, cdk.json, tsconfig.json, package-lock.json,
 * this config, the Node version), so a rerun with nothing changed reuses it;
 * a clean clone (CI) always synthesizes. HUBFIX_FRESH_SYNTH=1 forces a synth.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const CACHE_ROOT = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'hubfix-integration-synth');
const SYNTH_INPUTS = ['bin', 'lib', 'lambdas', 'cdk.json', 'tsconfig.json', 'package-lock.json'];

/** The remediation.config.json the integration tier deploys with. */
export const INTEGRATION_CONFIG = {
  notifications: { emails: [] },
  defaults: { mode: 'remediate', dryRun: false },
  allowList: [],
} as const;

/** The AWS environment the CLI must not see: the template stays account- and region-agnostic. */
function offlineEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_DEFAULT_)/.test(name) || name === 'AWS_CA_BUNDLE') env[name] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
  };
}

function filesUnder(relative: string): string[] {
  const absolute = path.join(PROJECT_ROOT, relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute)
    .sort()
    .flatMap((name) => filesUnder(path.join(relative, name)));
}

/** A hash of everything the synthesized assembly depends on. */
function inputHash(): string {
  const hash = createHash('sha256');
  hash.update(`${process.version}\n${JSON.stringify(INTEGRATION_CONFIG)}\n`);
  for (const file of SYNTH_INPUTS.flatMap(filesUnder)) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(path.join(PROJECT_ROOT, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export interface SynthesizedApp {
  /** The cloud assembly directory (cdk.out). */
  readonly outdir: string;
  /** Seconds the synth took; 0 when a cached assembly was reused. */
  readonly seconds: number;
}

/** Runs `cdk synth` on the real app, or reuses the assembly of identical inputs. */
export async function synthesizeApp(): Promise<SynthesizedApp> {
  const key = inputHash();
  const cached = path.join(CACHE_ROOT, key);
  if (process.env.HUBFIX_FRESH_SYNTH !== '1' && existsSync(path.join(cached, 'manifest.json'))) {
    return { outdir: cached, seconds: 0 };
  }
  const work = path.join(CACHE_ROOT, `${key}.${process.pid}.tmp`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const configPath = path.join(work, 'remediation.config.json');
  const outdir = path.join(work, 'cdk.out');
  writeFileSync(configPath, JSON.stringify(INTEGRATION_CONFIG, null, 2));
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk'),
        [
          'synth',
          '--quiet',
          '--no-notices',
          '--output',
          outdir,
          '--context',
          `config=${configPath}`,
        ],
        { cwd: PROJECT_ROOT, env: offlineEnvironment(), maxBuffer: 64 * 1024 * 1024 },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`cdk synth failed: ${error.message}\n${stderr}`)) : resolve(),
      );
    });
    // Only a complete assembly takes the key; older ones go.
    for (const old of readdirSync(CACHE_ROOT)) {
      if (!old.includes('.')) rmSync(path.join(CACHE_ROOT, old), { recursive: true, force: true });
    }
    renameSync(outdir, cached);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { outdir: cached, seconds: (performance.now() - started) / 1000 };
}
