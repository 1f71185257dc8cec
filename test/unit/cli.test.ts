import { describe, expect, it } from 'vitest';
import { ec2_2 } from '../../lambdas/controls/ec2-2/remediate';
import type { LedgerEntry } from '../../lambdas/core/adapters/ledger-admin';
import { loadControl } from '../../lib/cli/aws';
import { type CliDeps, type CliLedger, formatHistory, main } from '../../lib/cli/main';

const ENTRY: LedgerEntry = {
  changeId: '0b6f6c1e-1111-4222-8333-444455556666',
  controlId: 'EC2.2',
  findingId: 'finding-1',
  resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
  summary: 'revoke all 2 rules of the default security group sg-1234123f',
  before: '{"groupId":"sg-1234123f","vpcId":"vpc-1","rules":[]}',
  status: 'REMEDIATED',
  createdAt: '2026-11-22T10:00:00.123Z',
  completedAt: '2026-11-22T10:00:01.456Z',
  changes: ['revoked outbound rule sgr-2: all traffic to 0.0.0.0/0'],
  rollbacks: [],
  expiresAt: 1,
};

function deps(options: { confirm?: boolean; entry?: LedgerEntry } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: string[] = [];
  const entry = 'entry' in options ? options.entry : ENTRY;
  const ledger: CliLedger = {
    async recent(limit) {
      calls.push(`recent ${limit}`);
      return entry ? [entry] : [];
    },
    async get(id) {
      calls.push(`get ${id}`);
      return id === ENTRY.changeId ? entry : undefined;
    },
    async claimForRollback() {
      calls.push('claim');
      return true;
    },
    async recordRollback(_id, status) {
      calls.push(`record ${status}`);
    },
  };
  const cli: CliDeps = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: { AWS_REGION: 'us-east-1' },
    ledger: (table, region) => {
      calls.push(`ledger ${table} ${region}`);
      return ledger;
    },
    tableOfStack: async (stack, region) => {
      calls.push(`stack ${stack} ${region}`);
      return 'Hubfix-Ledger123';
    },
    callerArn: async () => 'arn:aws:iam::111111111111:user/ops',
    loadControl: async (id) => (id === 'EC2.2' ? ec2_2 : undefined),
    clientsFor: () => ({ ec2: { send: async () => ({ Return: true }) } }),
    confirm: async () => options.confirm ?? false,
  };
  return { cli, out, err, calls };
}

describe('npx hubfix', () => {
  it('lists recent changes from the table the stack names', async () => {
    const t = deps();

    const code = await main(['history', '--limit', '5'], t.cli);

    expect(code).toBe(0);
    expect(t.calls).toEqual([
      'stack Hubfix us-east-1',
      'ledger Hubfix-Ledger123 us-east-1',
      'recent 5',
    ]);
    expect(t.out[0]).toMatch(/^CHANGE ID\s+WHEN\s+CONTROL\s+STATUS\s+RESOURCE\s+SUMMARY$/);
    expect(t.out[1]).toContain('2026-11-22 10:00:00Z  EC2.2    REMEDIATED  sg-1234123f');
  });

  it('uses --table and --region when given', async () => {
    const t = deps();

    await main(['history', '--table', 'my-ledger', '--region', 'eu-west-1'], t.cli);

    expect(t.calls[0]).toBe('ledger my-ledger eu-west-1');
  });

  it('shows one change with its before-state', async () => {
    const t = deps();

    expect(await main(['show', ENTRY.changeId], t.cli)).toBe(0);
    expect(t.out).toContain('status     REMEDIATED');
    expect(t.out).toContain('    "groupId": "sg-1234123f",');
  });

  it('asks before rolling back and does nothing without a yes', async () => {
    const t = deps({ confirm: false });

    const code = await main(['rollback', ENTRY.changeId], t.cli);

    expect(code).toBe(1);
    expect(t.err).toContain('hubfix: not rolled back (answer "yes", or pass --yes)');
    expect(t.calls).not.toContain('claim');
  });

  it("rolls back with --yes, running the control's rollback and recording it", async () => {
    const t = deps();

    const code = await main(['rollback', ENTRY.changeId, '--yes'], t.cli);

    expect(code).toBe(0);
    expect(t.calls).toContain('claim');
    expect(t.calls).toContain('record ROLLED_BACK');
    expect(t.out).toContain(`rolled back ${ENTRY.changeId}:`);
  });

  it('reports a refusal as a failure exit', async () => {
    const t = deps({ entry: { ...ENTRY, status: 'ROLLED_BACK' } });

    expect(await main(['rollback', ENTRY.changeId, '--yes'], t.cli)).toBe(1);
    expect(t.err[0]).toMatch(/^hubfix: refused: change .* was already rolled back/);
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['rollback'], 'rollback needs a change id'],
    [['history', '--limit', 'lots'], '--limit must be a whole number'],
    [['history', '--colour'], "Unknown option '--colour'"],
  ])('explains bad usage: %j', async (argv, message) => {
    const t = deps();

    expect(await main(argv, t.cli)).toBe(2);
    expect(t.err[0]).toContain(message);
    expect(t.calls).toEqual([]);
  });

  it('needs a region', async () => {
    const t = deps();

    expect(await main(['history'], { ...t.cli, env: {} })).toBe(2);
    expect(t.err[0]).toContain('no region');
  });

  it('says when a change is not in the ledger', async () => {
    const t = deps();

    expect(await main(['show', 'nope'], t.cli)).toBe(1);
    expect(t.err).toEqual(['hubfix: no change nope in Hubfix-Ledger123']);
  });

  it('prints a friendly line when the ledger is empty', () => {
    expect(formatHistory([])).toEqual(['no changes recorded yet']);
  });
});

describe('loadControl', () => {
  it('loads a registered control module by id', async () => {
    expect((await loadControl('EC2.2'))?.id).toBe('EC2.2');
  });

  it('knows nothing of unregistered ids', async () => {
    expect(await loadControl('EC9.99')).toBeUndefined();
  });
});
