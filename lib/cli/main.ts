/**
 * `npx hubfix`: look at, undo and report on what hubfix changed, with the
 * caller's own AWS credentials. The commands are in commands/; this module
 * reads the command line, answers help, finds the region and the ledger, and
 * turns errors into words.
 */
import { parseArgs } from 'node:util';
import { LedgerLocationError, UsageError } from '../../lambdas/core/errors';
import type { CliDeps, CliLedger, Command, CommandContext, OptionSpecs } from './command';
import { COMMANDS, findCommand } from './commands/index';
import { explainError } from './explain';
import { REGION_PRECEDENCE, resolveRegion } from './region';
import { escapeTerminal } from './text';

export type { CliDeps, CliLedger } from './command';
export { formatHistory } from './commands/history';
export { formatEntry } from './commands/show';

const DEFAULT_STACK = 'Hubfix';

const GLOBAL_OPTIONS: OptionSpecs = {
  region: { type: 'string' },
  stack: { type: 'string' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = [
  "--region <region>   the deployment's region; without it: AWS_REGION, then",
  "                    AWS_DEFAULT_REGION, then your profile's region (AWS_PROFILE,",
  '                    else default) in ~/.aws/config',
  `--stack <name>      the stack whose LedgerTableName output names the ledger (default: ${DEFAULT_STACK})`,
  '--table <name>      the ledger table itself, instead of --stack',
  '-h, --help          help, for hubfix or for one command',
];

export function overview(): string[] {
  const rows: [string, string][] = [
    ...COMMANDS.map((c): [string, string] => [c.name, c.summary]),
    ['help <command>', 'what one command does and its options'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    'usage: npx hubfix <command> [options]',
    '',
    'commands:',
    ...rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'options for every command:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
    '',
    'Everything runs with your own AWS credentials (AWS_PROFILE, SSO, or access keys).',
  ];
}

export function commandHelp(command: Command): string[] {
  return [
    `usage: npx hubfix ${command.usage}`,
    '',
    ...command.help,
    ...(command.optionHelp.length > 0
      ? ['', 'options:', ...command.optionHelp.map((line) => `  ${line}`)]
      : []),
    '',
    'options for every command:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
  ];
}

function allOptions(): OptionSpecs {
  return Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options));
}

/** Node's parseArgs messages, first sentence only ("Unknown option '--colour'"). */
function parseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(/\.\s/)[0]?.replace(/\.$/, '') ?? message;
}

function usageError(deps: CliDeps, message: string, command: Command | undefined): number {
  deps.err(escapeTerminal(`hubfix: ${message}`));
  deps.err(
    command
      ? `usage: npx hubfix ${command.usage}  (more: npx hubfix help ${command.name})`
      : 'see: npx hubfix --help',
  );
  return 2;
}

/** Runs one command line; returns the process exit code. */
export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  const print = (line: string) => deps.out(escapeTerminal(line));
  // A first, lenient pass only finds the command word and -h, so help works
  // whatever else is on the line.
  const loose = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: allOptions(),
  });
  const [word, ...rest] = loose.positionals;
  if (word === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      for (const line of overview()) print(line);
      return 0;
    }
    const command = findCommand(topic);
    if (!command) return usageError(deps, `no command "${topic}"`, undefined);
    for (const line of commandHelp(command)) print(line);
    return 0;
  }
  const command = word === undefined ? undefined : findCommand(word);
  if (word !== undefined && !command) {
    return usageError(
      deps,
      `unknown command "${word}"; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`,
      undefined,
    );
  }
  if (loose.values.help === true || !command) {
    for (const line of command ? commandHelp(command) : overview()) print(line);
    return 0;
  }

  let values: CommandContext['values'];
  let positionals: readonly string[];
  try {
    const strict = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { ...GLOBAL_OPTIONS, ...command.options },
    });
    values = strict.values;
    positionals = strict.positionals.slice(1);
    if (positionals.length > command.maxPositionals) {
      throw new UsageError(
        `unexpected argument(s): ${positionals.slice(command.maxPositionals).join(' ')}`,
      );
    }
    command.validate(values, positionals);
  } catch (error) {
    return usageError(
      deps,
      error instanceof UsageError ? error.message : parseMessage(error),
      command,
    );
  }

  const option = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const region = await resolveRegion(option('region'), deps.env, deps.profileRegion);
  if (!region) {
    return usageError(
      deps,
      `no region: pass --region <region> (or set AWS_REGION, or a region for your profile with "aws configure set region <region>"). hubfix looks at ${REGION_PRECEDENCE}`,
      command,
    );
  }

  let table = option('table');
  let ledger: CliLedger | undefined;
  const stack = option('stack') ?? DEFAULT_STACK;
  const context: CommandContext = {
    values,
    positionals,
    region,
    stack,
    deps,
    print,
    warn: (line) => deps.err(escapeTerminal(line)),
    async tableName() {
      table ??= await deps.tableOfStack(stack, region);
      return table;
    },
    async ledger() {
      ledger ??= deps.ledger(await context.tableName(), region);
      return ledger;
    },
  };
  try {
    return await command.run(context);
  } catch (error) {
    const message =
      error instanceof LedgerLocationError ? error.message : explainError(error, { region, table });
    deps.err(escapeTerminal(`hubfix: ${message}`));
    return 1;
  }
}
