/**
 * What one `npx hubfix` command is: its help, its options and how it runs.
 * A command is one module in commands/ and one line in commands/index.ts.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CredentialsProvider } from '../../lambdas/core/aws';
import type { Clock } from '../../lambdas/core/clock';
import type { Control } from '../../lambdas/core/control';
import type { LedgerEntry } from '../../lambdas/core/ledger-entry';
import type { OrganizationScope } from '../../lambdas/core/organization';
import type { FindingHistory, FindingStore } from '../../lambdas/core/ports';
import type { RollbackLedger } from '../../lambdas/core/rollback';
import type { ReconcilerSettings } from '../../lambdas/reconciler/env';
import type { Handoff, SweepSource } from '../../lambdas/reconciler/sweep';
import type { FunctionInvoker } from './invoke';

export interface CliLedger extends RollbackLedger {
  recent(limit: number): Promise<LedgerEntry[]>;
  /** Changes recorded from `since` to `until`, oldest first. */
  between(since: Date, until?: Date): Promise<LedgerEntry[]>;
}

/** Security Hub's copy of a finding, asked with the caller's credentials. */
export type FindingReader = Pick<FindingStore, 'fetch'>;

/** What `backfill` sweeps with: the deployment's settings and the caller's own clients. */
export interface CliSweeper {
  /** The deployed control functions and the grace period (the stack's ReconcilerSettings output). */
  readonly settings: ReconcilerSettings;
  readonly partition: string;
  /**
   * Org mode: the member accounts and regions the stack's reconciler sweeps
   * (its OrganizationScope output); undefined for a single-account stack.
   */
  readonly organization: OrganizationScope | undefined;
  readonly source: SweepSource;
  /** What hubfix last did with each finding (the stack's StateTableName output). */
  readonly history: Pick<FindingHistory, 'get'>;
  /** Hands requests to the control functions the settings name. */
  readonly handoff: Handoff;
}

export interface Caller {
  readonly arn: string;
  readonly account: string;
}

/** Everything the CLI touches outside itself, so tests can stand in for it. */
export interface CliDeps {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The region of the AWS profile (AWS_PROFILE, else default) in the shared config files. */
  readonly profileRegion: () => Promise<string | undefined>;
  readonly ledger: (table: string, region: string) => CliLedger;
  /** The ledger table named by the stack's LedgerTableName output. */
  readonly tableOfStack: (stack: string, region: string) => Promise<string>;
  readonly caller: (region: string) => Promise<Caller>;
  readonly loadControl: (
    controlId: string,
  ) => Promise<Control<unknown, unknown, unknown, object> | undefined>;
  /** The control's clients in `region`, with the operator's credentials unless others are given. */
  readonly clientsFor: (
    control: Control<unknown, unknown, unknown, object>,
    region: string,
    credentials?: CredentialsProvider,
  ) => object;
  /** Assumes a role (in a member account, for `rollback --role-name`) with the operator's credentials. */
  readonly assumeRole: (roleArn: string, region: string) => Promise<CredentialsProvider>;
  /** Asks on the terminal and returns the answer; undefined when there is no terminal. */
  readonly ask: (question: string) => Promise<string | undefined>;
  readonly writeFile: (path: string, content: string) => Promise<void>;
  readonly now: () => Date;
  /** The stack's outputs by key; undefined when the region has no such stack. */
  readonly stackOutputs: (
    stack: string,
    region: string,
  ) => Promise<Readonly<Record<string, string>> | undefined>;
  /** Security Hub, both products. */
  readonly findings: (region: string) => FindingReader;
  /** Lambda: runs a control's function with a direct request. */
  readonly functions: (region: string) => FunctionInvoker;
  /** A new id for each request sent to a function. */
  readonly newRequestId: () => string;
  /** What `remediate --wait` waits on. */
  readonly clock: Clock;
  /** The stack's sweep settings and clients for the caller's account, for `backfill`. */
  readonly sweeper: (stack: string, region: string, caller: Caller) => Promise<CliSweeper>;
  /** Rewrites the one progress line on a terminal ('' clears it); undefined when there is none. */
  readonly progress: ((line: string) => void) | undefined;
}

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export type OptionValues = Readonly<
  Record<string, string | boolean | readonly (string | boolean)[] | undefined>
>;

/** What a running command gets: its parsed arguments and where to find the ledger. */
export interface CommandContext {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  readonly region: string;
  /** The stack named by --stack (default Hubfix). */
  readonly stack: string;
  readonly deps: CliDeps;
  /** Prints one line on stdout, with control characters escaped. */
  print(line: string): void;
  /** Prints one line on stderr, with control characters escaped. */
  warn(line: string): void;
  /** The ledger table's name (from --table, or the stack's output). */
  tableName(): Promise<string>;
  ledger(): Promise<CliLedger>;
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis, e.g. `rollback <change-id> [--yes] [--force]`. */
  readonly usage: string;
  /** What `help <command>` prints under the synopsis. */
  readonly help: readonly string[];
  /** The command's own options, as node:util parseArgs takes them. */
  readonly options: OptionSpecs;
  /** Option help lines, `--name <value>   what it does`. */
  readonly optionHelp: readonly string[];
  /** How many positional arguments it takes, at most. */
  readonly maxPositionals: number;
  /**
   * Checks the arguments before anything else is done (no region, no AWS).
   * @throws UsageError
   */
  validate(values: OptionValues, positionals: readonly string[]): void;
  /** Runs the command; returns the process exit code. */
  run(context: CommandContext): Promise<number>;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}
