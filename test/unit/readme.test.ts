/**
 * The README is part of the product: these checks keep its controls table,
 * permissions list and configuration tables in step with the registry and
 * the config schema.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../lambdas/core/schema';
import { COMMANDS } from '../../lib/cli/commands/index';
import { configJsonSchema } from '../../lib/config';
import { CONTROLS } from '../../lib/controls';
import { withPermissionsTable } from '../../lib/docs/permissions-table';

const README = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The table rows between `heading` and the next level-2 heading, as trimmed cells. */
function tableRows(heading: string): string[][] {
  const start = README.indexOf(heading);
  const end = README.indexOf('\n## ', start + heading.length);
  return README.slice(start, end === -1 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

/** The trimmed cells of the first table row under `heading` whose first cell is `key`. */
function tableRow(key: string, heading: string): string[] | undefined {
  return tableRows(heading).find((cells) => cells[0] === key);
}

/** Every key path the config accepts outside "controls": `functions.memorySize`, `allowList[].tags`. */
function keyPaths(schema: JsonSchema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
    const at = prefix === '' ? key : `${prefix}.${key}`;
    if (at === 'controls') return [];
    if (child.properties) return keyPaths(child, at);
    if (child.items?.properties) return [at, ...keyPaths(child.items, `${at}[]`)];
    return [at];
  });
}

const configSchema = configJsonSchema();

describe('README', () => {
  it('shows exactly the set-up and test commands CI runs', () => {
    expect(README).toContain('npm ci');
    expect(README).toContain('npm test');
    expect(README).toContain('npx cdk deploy');
    expect(README).toContain('npx cdk synth');
  });

  it("starts a newcomer with a quiet synth, the first deploy's bootstrap and the Node version", () => {
    const quickstart = README.slice(README.indexOf('## Quickstart'), README.indexOf('## How'))
      .replace(/\s+/g, ' ')
      .replaceAll('**', '');

    expect(quickstart).toContain('npx cdk synth --quiet');
    expect(quickstart).toContain('npx cdk bootstrap');
    expect(quickstart).toContain('Node.js 22 or later');
    expect(quickstart).toContain('consolidated control findings');
  });

  it.each(keyPaths(configSchema).map((key) => [key]))(
    'documents the config key %s in the configuration table',
    (key) => {
      const documented = tableRows('## Configuration').map((cells) => cells[0]);

      expect(documented).toContain(`\`${key}\``);
    },
  );

  it.each(
    Object.entries(configSchema.properties?.controls?.properties ?? {}).flatMap(([id, entry]) =>
      Object.keys(entry.properties ?? {})
        .filter((key) => key !== 'mode' && key !== 'dryRun')
        .map((key) => [id, key]),
    ),
  )("documents %s's setting %s in the control settings table", (id, key) => {
    const rows = tableRows('Control settings:');

    expect(rows.some((cells) => cells[0] === id && cells[1] === `\`${key}\``)).toBe(true);
  });

  it.each(CONTROLS.map((c) => [c.meta.id, c] as const))(
    'lists %s as available with its default mode',
    (id, control) => {
      const row = tableRow(id, '## Controls');

      expect(row?.slice(-2)).toEqual([control.defaultMode, 'available']);
    },
  );

  it('holds the permissions table the registry writes (run `npm run docs` after changing a grant)', () => {
    expect(withPermissionsTable(README)).toBe(README);
  });

  it.each(CONTROLS.map((c) => [c.meta.id, c] as const))(
    'lists every IAM action %s uses in its own rows of the permissions table',
    (id, control) => {
      const own = README.slice(README.indexOf('## Permissions'))
        .split('\n')
        .filter((line) => line.split('|')[1]?.trim() === id)
        .join('\n');
      for (const action of control.permissions.flatMap((p) => p.actions)) {
        expect(own).toContain(`\`${action}\``);
      }
    },
  );

  it.each(COMMANDS.map((c) => [c.name, c.usage] as const))(
    'lists the CLI command %s with its synopsis',
    (_name, usage) => {
      const cli = README.slice(README.indexOf('## The CLI'), README.indexOf('## Configuration'));

      // A pipe inside a Markdown table cell is written \|.
      expect(cli).toContain(`| \`${usage.replaceAll('|', '\\|')}\` |`);
    },
  );

  it('says what rollback trusts', () => {
    expect(README).toContain('### What rollback trusts');
  });
});
