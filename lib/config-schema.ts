/**
 * remediation.config.schema.json, the editor's view of the config: written
 * by `npm run schema` from `configJsonSchema()`, the loader's own schema, and
 * formatted by the project's formatter so the committed file passes lint. A
 * unit test fails when the committed file differs from what this renders.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from './config';
import type { ControlDefinition } from './controls';
import { CONTROLS } from './controls';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');
export const CONFIG_SCHEMA_PATH = path.join(PROJECT_ROOT, CONFIG_SCHEMA_FILE);
const BIOME = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'biome');

/** The schema file's text, exactly as it is committed. */
export function renderConfigSchema(controls: readonly ControlDefinition[] = CONTROLS): string {
  const json = `${JSON.stringify(configJsonSchema(controls), null, 2)}\n`;
  const formatted = spawnSync(BIOME, ['format', `--stdin-file-path=${CONFIG_SCHEMA_PATH}`], {
    cwd: PROJECT_ROOT,
    input: json,
    encoding: 'utf8',
  });
  if (formatted.status !== 0) {
    throw new Error(`formatting ${CONFIG_SCHEMA_FILE} failed:\n${formatted.stderr}`);
  }
  return formatted.stdout;
}
