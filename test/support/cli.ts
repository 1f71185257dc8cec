/** A stand-in for everything `npx hubfix` touches, recording what it was asked. */

import type { Control } from '../../lambdas/core/control';
import type { LedgerEntry, RollbackAttempt } from '../../lambdas/core/ledger-entry';
import type { CliDeps, CliLedger, CliSweeper } from '../../lib/cli/command';
import { fakeClock } from './control';

/** An EC2.2 change that revoked one world-open SSH rule. */
export const ENTRY: LedgerEntry = {
  changeId: 'EC2.2-0b6f6c1e-1111-4222-8333-444455556666',
  controlId: 'EC2.2',
  findingId: 'finding-1',
  resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
  summary: 'revoke all 1 rules of the default security group sg-1234123f',
  before:
    '{"groupId":"sg-1234123f","vpcId":"vpc-1","rules":[{"ruleId":"sgr-1","groupId":"sg-1234123f","egress":false,"protocol":"tcp","fromPort":22,"toPort":22,"cidrIpv4":"0.0.0.0/0"}]}',
  status: 'REMEDIATED',
  createdAt: '2026-11-22T10:00:00.123Z',
  completedAt: '2026-11-22T10:00:01.456Z',
  changes: ['revoked inbound rule sgr-1: tcp 22 from 0.0.0.0/0'],
  rollbacks: [],
  expiresAt: 1,
};

export const OPERATOR = { arn: 'arn:aws:iam::111111111111:user/ops', account: '111111111111' };

export interface FakeCli {
  readonly deps: CliDeps;
  readonly out: string[];
  readonly err: string[];
  /** What the CLI asked of its dependencies, in order. */
  readonly calls: string[];
  readonly files: Map<string, string>;
  readonly attempts: RollbackAttempt[];
  /** What was written to the progress line, in order (a terminal only). */
  readonly progress: string[];
}

export function fakeCli(
  options: {
    entries?: readonly LedgerEntry[];
    answer?: string;
    env?: Readonly<Record<string, string | undefined>>;
    profileRegion?: string;
    controls?: Readonly<Record<string, Control<unknown, unknown, unknown, object>>>;
    clients?: object;
    fail?: Partial<Record<'stack' | 'ledger' | 'caller' | 'assume', Error>>;
    now?: Date;
    /** What `backfill` sweeps with. */
    sweeper?: CliSweeper;
    /** Whether stderr is a terminal (a progress line is drawn). */
    tty?: boolean;
  } = {},
): FakeCli {
  const out: string[] = [];
  const err: string[] = [];
  const calls: string[] = [];
  const files = new Map<string, string>();
  const attempts: RollbackAttempt[] = [];
  const progress: string[] = [];
  const entries = new Map((options.entries ?? []).map((e) => [e.changeId, e]));
  const ledger: CliLedger = {
    async recent(limit) {
      calls.push(`recent ${limit}`);
      if (options.fail?.ledger) throw options.fail.ledger;
      return [...entries.values()].slice(0, limit);
    },
    async between(since, until) {
      calls.push(`between ${since.toISOString()} ${until?.toISOString()}`);
      return [...entries.values()];
    },
    async get(id) {
      calls.push(`get ${id}`);
      if (options.fail?.ledger) throw options.fail.ledger;
      return entries.get(id);
    },
    async claimForRollback(id, from) {
      calls.push(`claim ${id}`);
      const entry = entries.get(id);
      if (!entry || !from.includes(entry.status)) return false;
      entries.set(id, { ...entry, status: 'ROLLING_BACK' });
      return true;
    },
    async recordRollback(id, status, attempt) {
      calls.push(`record ${status} ${attempt.outcome}`);
      attempts.push(attempt);
      const entry = entries.get(id);
      if (entry) entries.set(id, { ...entry, status, rollbacks: [...entry.rollbacks, attempt] });
    },
    async recordRefusal(id, attempt) {
      calls.push(`record refusal ${attempt.outcome}`);
      attempts.push(attempt);
      const entry = entries.get(id);
      if (entry) entries.set(id, { ...entry, rollbacks: [...entry.rollbacks, attempt] });
    },
  };
  const deps: CliDeps = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: options.env ?? { AWS_REGION: 'us-east-1' },
    profileRegion: async () => {
      calls.push('profile region');
      return options.profileRegion;
    },
    ledger: (table, region) => {
      calls.push(`ledger ${table} ${region}`);
      return ledger;
    },
    tableOfStack: async (stack, region) => {
      calls.push(`stack ${stack} ${region}`);
      if (options.fail?.stack) throw options.fail.stack;
      return 'Hubfix-Ledger123';
    },
    caller: async () => {
      if (options.fail?.caller) throw options.fail.caller;
      return OPERATOR;
    },
    loadControl: async (id) => options.controls?.[id],
    clientsFor: (_control, region, credentials) => {
      calls.push(`clients ${region}${credentials ? ' with assumed credentials' : ''}`);
      return options.clients ?? {};
    },
    assumeRole: async (roleArn, region) => {
      calls.push(`assume ${roleArn} in ${region}`);
      if (options.fail?.assume) throw options.fail.assume;
      return async () => ({
        accessKeyId: 'ASIAROLLBACK',
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: new Date('2026-11-30T13:00:00.000Z'),
      });
    },
    ask: async (question) => {
      calls.push(`ask ${question}`);
      return options.answer;
    },
    writeFile: async (path, content) => {
      calls.push(`write ${path}`);
      files.set(path, content);
    },
    now: () => options.now ?? new Date('2026-11-30T12:00:00.000Z'),
    // remediate and plan have their own tests, against mocked SDK clients.
    stackOutputs: async (stack, region) => {
      calls.push(`outputs ${stack} ${region}`);
      throw new Error('fakeCli has no stack outputs');
    },
    findings: () => ({
      fetch: async () => {
        throw new Error('fakeCli has no Security Hub');
      },
    }),
    functions: () => ({
      invoke: async () => {
        throw new Error('fakeCli has no Lambda');
      },
    }),
    newRequestId: () => 'request-1',
    clock: fakeClock().clock,
    sweeper: async (stack, region, caller) => {
      calls.push(`sweeper ${stack} ${region} ${caller.account}`);
      if (options.fail?.stack) throw options.fail.stack;
      if (!options.sweeper) throw new Error('the test prepared no sweeper');
      return options.sweeper;
    },
    progress: options.tty ? (line) => progress.push(line) : undefined,
  };
  return { deps, out, err, calls, files, attempts, progress };
}
