/**
 * `npx hubfix`: look at and undo what hubfix changed.
 *
 *   npx hubfix history [--limit 20]
 *   npx hubfix show <change-id>
 *   npx hubfix rollback <change-id> [--yes] [--force]
 *
 * Options for every command: --region (default AWS_REGION), --stack (default
 * Hubfix, whose LedgerTableName output names the table) or --table.
 * Everything runs with the caller's own AWS credentials.
 */
import { parseArgs } from 'node:util';
import type { LedgerEntry } from '../../lambdas/core/adapters/ledger-admin';
import type { Control, Log } from '../../lambdas/core/control';
import { describeError } from '../../lambdas/core/errors';
import { type RollbackLedger, rollbackChange } from '../../lambdas/core/rollback';

export interface CliLedger extends RollbackLedger {
  recent(limit: number): Promise<LedgerEntry[]>;
}

export interface CliDeps {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly ledger: (table: string, region: string) => CliLedger;
  /** The ledger table named by the stack's LedgerTableName output. */
  readonly tableOfStack: (stack: string, region: string) => Promise<string>;
  readonly callerArn: (region: string) => Promise<string>;
  readonly loadControl: (
    controlId: string,
  ) => Promise<Control<unknown, unknown, unknown, object> | undefined>;
  readonly clientsFor: (
    control: Control<unknown, unknown, unknown, object>,
    region: string,
  ) => object;
  /** Asks a yes/no question on the terminal; false when there is no terminal. */
  readonly confirm: (question: string) => Promise<boolean>;
}

export const USAGE = `usage:
  npx hubfix history [--limit 20]          recent changes, newest first
  npx hubfix show <change-id>              one change: what it removed, what happened
  npx hubfix rollback <change-id> [--yes] [--force]
                                           undo one change with your AWS credentials

options:
  --region <region>   the deployment's region (default: AWS_REGION)
  --stack <name>      the stack whose LedgerTableName output names the ledger (default: Hubfix)
  --table <name>      the ledger table, instead of --stack
  --yes               do not ask before rolling back
  --force             also roll back a change left PENDING or ROLLING_BACK`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function shortResource(resource: string): string {
  return resource.split(/[/:]/).at(-1) ?? resource;
}

export function formatHistory(entries: readonly LedgerEntry[]): string[] {
  if (entries.length === 0) return ['no changes recorded yet'];
  const rows = entries.map((e) => [
    e.changeId,
    when(e.createdAt),
    e.controlId,
    e.status,
    shortResource(e.resource),
    e.summary,
  ]);
  const header = ['CHANGE ID', 'WHEN', 'CONTROL', 'STATUS', 'RESOURCE', 'SUMMARY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

export function formatEntry(entry: LedgerEntry): string[] {
  let before: string;
  try {
    before = JSON.stringify(JSON.parse(entry.before), null, 2);
  } catch {
    before = entry.before;
  }
  return [
    `change     ${entry.changeId}`,
    `control    ${entry.controlId}`,
    `resource   ${entry.resource}`,
    `finding    ${entry.findingId}`,
    `status     ${entry.status}`,
    `recorded   ${when(entry.createdAt)}${entry.completedAt ? `, finished ${when(entry.completedAt)}` : ''}`,
    `summary    ${entry.summary}`,
    ...(entry.changes.length > 0 ? ['changes', ...entry.changes.map((c) => `  - ${c}`)] : []),
    ...(entry.error ? [`error      ${entry.error}`] : []),
    ...(entry.stateLeft ? [`state left ${entry.stateLeft}`] : []),
    ...entry.rollbacks.flatMap((r) => [
      `rollback   ${r.outcome} ${when(r.at)} by ${r.by}${r.error ? `: ${r.error}` : ''}`,
      ...r.lines.map((l) => `  - ${l}`),
    ]),
    'before-state (what the change removed or replaced)',
    ...before.split('\n').map((l) => `  ${l}`),
  ];
}

const consoleLog = (deps: CliDeps): Log => ({
  debug: () => {},
  info: () => {},
  warn: (message) => deps.err(`warning: ${message}`),
  error: (message) => deps.err(`error: ${message}`),
});

/** Runs one command; returns the process exit code. */
export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, deps.env);
  } catch (error) {
    deps.err(`hubfix: ${describeError(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.command === 'help') {
    deps.out(USAGE);
    return 0;
  }
  const { region } = parsed;
  try {
    const table = parsed.table ?? (await deps.tableOfStack(parsed.stack, region));
    const ledger = deps.ledger(table, region);
    switch (parsed.command) {
      case 'history':
        for (const line of formatHistory(await ledger.recent(parsed.limit))) deps.out(line);
        return 0;
      case 'show': {
        const entry = await ledger.get(parsed.changeId);
        if (!entry) {
          deps.err(`hubfix: no change ${parsed.changeId} in ${table}`);
          return 1;
        }
        for (const line of formatEntry(entry)) deps.out(line);
        return 0;
      }
      case 'rollback':
        return await rollback(parsed, ledger, deps);
    }
  } catch (error) {
    deps.err(`hubfix: ${describeError(error)}`);
    return 1;
  }
}

async function rollback(
  parsed: Extract<ReturnType<typeof parseCommandLine>, { command: 'rollback' }>,
  ledger: CliLedger,
  deps: CliDeps,
): Promise<number> {
  const entry = await ledger.get(parsed.changeId);
  if (!entry) {
    deps.err(`hubfix: no change ${parsed.changeId} in the ledger`);
    return 1;
  }
  for (const line of formatEntry(entry)) deps.out(line);
  if (!parsed.yes && !(await deps.confirm(`Roll back ${entry.changeId} (${entry.summary})?`))) {
    deps.err('hubfix: not rolled back (answer "yes", or pass --yes)');
    return 1;
  }
  const outcome = await rollbackChange({
    changeId: parsed.changeId,
    by: await deps.callerArn(parsed.region),
    force: parsed.force,
    ledger,
    control: deps.loadControl,
    clients: (control) => deps.clientsFor(control, parsed.region),
    log: consoleLog(deps),
  });
  switch (outcome.kind) {
    case 'rolled-back':
      deps.out(`rolled back ${parsed.changeId}:`);
      for (const line of outcome.lines) deps.out(`  - ${line}`);
      return 0;
    case 'refused':
      deps.err(`hubfix: refused: ${outcome.reason}`);
      return 1;
    case 'failed':
      deps.err(`hubfix: rollback failed: ${outcome.error}`);
      if (outcome.stateLeft) deps.err(`state now: ${outcome.stateLeft}`);
      return 1;
  }
}

function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      region: { type: 'string' },
      stack: { type: 'string', default: 'Hubfix' },
      table: { type: 'string' },
      limit: { type: 'string', default: '20' },
      yes: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, changeId, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help')
    return { command: 'help' as const };
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION');
  const common = { region, stack: values.stack, table: values.table };
  switch (command) {
    case 'history': {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new UsageError(
          `--limit must be a whole number from 1 to 1000, got "${values.limit}"`,
        );
      }
      return { command: 'history' as const, ...common, limit };
    }
    case 'show':
    case 'rollback':
      if (!changeId) throw new UsageError(`${command} needs a change id (see: npx hubfix history)`);
      return command === 'show'
        ? { command: 'show' as const, ...common, changeId }
        : {
            command: 'rollback' as const,
            ...common,
            changeId,
            yes: values.yes,
            force: values.force,
          };
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
