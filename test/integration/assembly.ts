/**
 * Reads the cloud assembly (cdk.out) that synth.ts produced: the stack's
 * template, and for each control its function resource and the asset
 * directory holding its bundle. Pure file reading; nothing here talks to moto.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { inject } from 'vitest';

export type Json = Record<string, unknown>;

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Json;
}

export interface SynthesizedStack {
  /** The cdk.out directory. */
  readonly outdir: string;
  readonly stackName: string;
  readonly resources: Readonly<Record<string, TemplateResource>>;
  /** Asset directory (absolute) by the S3 object key the template's Code points at. */
  readonly assetDirs: ReadonlyMap<string, string>;
}

/** A control's function as the template defines it. */
export interface SynthesizedFunction {
  readonly logicalId: string;
  readonly controlId: string;
  /** The directory Lambda would unzip the code into (the `asset.<hash>` folder). */
  readonly assetDir: string;
  /** `index.handler`: module `index` (.mjs, .js or .cjs), export `handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** The environment as the template writes it, CloudFormation tokens unresolved. */
  readonly environment: Readonly<Record<string, unknown>>;
}

interface Manifest {
  artifacts: Record<
    string,
    { type: string; properties?: { templateFile?: string; file?: string } }
  >;
}

interface AssetManifest {
  files: Record<
    string,
    {
      source: { path: string; packaging?: string };
      destinations: Record<string, { objectKey: string }>;
    }
  >;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

let cached: SynthesizedStack | undefined;

/** The stack in the integration tier's cdk.out (read once per test file). */
export function synthesizedStack(): SynthesizedStack {
  if (cached) return cached;
  const outdir = inject('cdkOut');
  if (!outdir)
    throw new Error('no cdk.out: the integration global setup did not synthesize the app');
  const manifest = readJson<Manifest>(path.join(outdir, 'manifest.json'));
  const stacks = Object.entries(manifest.artifacts).filter(
    ([, a]) => a.type === 'aws:cloudformation:stack',
  );
  const [stack, ...others] = stacks;
  if (!stack || others.length > 0) {
    throw new Error(`expected one stack in ${outdir}, found ${stacks.map(([n]) => n).join(', ')}`);
  }
  const [stackName, artifact] = stack;
  const template = readJson<{ Resources: Record<string, TemplateResource> }>(
    path.join(outdir, artifact.properties?.templateFile ?? `${stackName}.template.json`),
  );
  const assetDirs = new Map<string, string>();
  for (const a of Object.values(manifest.artifacts)) {
    if (a.type !== 'cdk:asset-manifest' || !a.properties?.file) continue;
    const assets = readJson<AssetManifest>(path.join(outdir, a.properties.file));
    for (const file of Object.values(assets.files)) {
      for (const destination of Object.values(file.destinations)) {
        assetDirs.set(destination.objectKey, path.join(outdir, file.source.path));
      }
    }
  }
  cached = { outdir, stackName, resources: template.Resources, assetDirs };
  return cached;
}

/** The name the reconciler's function goes by among the control functions. */
export const RECONCILER_FUNCTION_ID = 'reconciler';

/** The control id a function handles, read from its HUBFIX_SETTINGS; `reconciler` for the reconciler. */
function controlIdOf(resource: TemplateResource): string | undefined {
  const variables = (resource.Properties?.Environment as { Variables?: Json } | undefined)
    ?.Variables;
  if (variables && 'HUBFIX_RECONCILER' in variables) return RECONCILER_FUNCTION_ID;
  const settings = variables?.HUBFIX_SETTINGS;
  if (typeof settings !== 'string') return undefined;
  const parsed = JSON.parse(settings) as { controlId?: unknown };
  return typeof parsed.controlId === 'string' ? parsed.controlId : undefined;
}

/** Every control function in the template, by control id, and the reconciler's. */
export function synthesizedFunctions(): ReadonlyMap<string, SynthesizedFunction> {
  const stack = synthesizedStack();
  const functions = new Map<string, SynthesizedFunction>();
  for (const [logicalId, resource] of Object.entries(stack.resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const controlId = controlIdOf(resource);
    if (!controlId) continue;
    const properties = resource.Properties ?? {};
    const code = properties.Code as { S3Key?: unknown } | undefined;
    const assetDir = typeof code?.S3Key === 'string' ? stack.assetDirs.get(code.S3Key) : undefined;
    if (!assetDir) {
      throw new Error(
        `${logicalId} (${controlId}): no local asset for Code ${JSON.stringify(code)}`,
      );
    }
    if (functions.has(controlId)) throw new Error(`two functions handle ${controlId}`);
    functions.set(controlId, {
      logicalId,
      controlId,
      assetDir,
      handler: String(properties.Handler),
      timeoutSeconds: Number(properties.Timeout ?? 3),
      memorySize: Number(properties.MemorySize ?? 128),
      environment: (properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {},
    });
  }
  return functions;
}

/** One control's function; fails naming the controls the template has. */
export function synthesizedFunction(controlId: string): SynthesizedFunction {
  const functions = synthesizedFunctions();
  const found = functions.get(controlId);
  if (!found) {
    throw new Error(
      `the synthesized template has no function for ${controlId} (it has ${[...functions.keys()].join(', ')})`,
    );
  }
  return found;
}
