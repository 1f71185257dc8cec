/**
 * A ledger of many changes for the report: every control, every status,
 * durations from under a second to minutes, failures, rollbacks of each
 * outcome, and some hostile text. Deterministic (a seeded generator), so the
 * report's size and look can be compared from run to run.
 */
import type { ChangeStatus, LedgerEntry, RollbackAttempt } from '../../lambdas/core/ledger-entry';

const CONTROLS: readonly [string, string, number][] = [
  ['EC2.2', 'security-group/sg-', 0.22],
  ['EC2.18', 'security-group/sg-', 0.14],
  ['EC2.19', 'security-group/sg-', 0.1],
  ['EC2.15', 'subnet/subnet-', 0.12],
  ['EC2.6', 'vpc/vpc-', 0.1],
  ['EC2.8', 'instance/i-', 0.08],
  ['EC2.9', 'instance/i-', 0.06],
  ['EC2.1', '', 0.04],
  ['EC2.7', '', 0.04],
  ['ECS.2', 'service/prod/api-', 0.06],
  ['ECS.16', 'task-set/prod/web/ecs-svc/', 0.04],
];

/** mulberry32: small, fast and the same everywhere. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(next: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += Math.floor(next() * 16).toString(16);
  return out;
}

export function fixtureLedger(count: number, until: Date, days = 30, seed = 42): LedgerEntry[] {
  const next = random(seed);
  const entries: LedgerEntry[] = [];
  const span = days * 86_400_000;
  for (let i = 0; i < count; i += 1) {
    let pick = next();
    const [controlId, path] = CONTROLS.find(([, , share]) => {
      pick -= share;
      return pick < 0;
    }) ??
      CONTROLS[0] ?? ['EC2.2', 'security-group/sg-', 1];
    const created = new Date(until.getTime() - Math.floor(next() * span));
    const roll = next();
    const status: ChangeStatus =
      roll < 0.86
        ? 'REMEDIATED'
        : roll < 0.93
          ? 'FAILED'
          : roll < 0.97
            ? 'ROLLED_BACK'
            : roll < 0.99
              ? 'PENDING'
              : 'ROLLING_BACK';
    const seconds = controlId === 'ECS.16' ? 40 + next() * 200 : 0.2 + next() ** 4 * 12;
    const id = hex(next, 17);
    const resource =
      path === ''
        ? 'AWS::::Account:111111111111'
        : `arn:aws:${controlId.startsWith('ECS') ? 'ecs' : 'ec2'}:us-east-1:111111111111:${path}${id}`;
    const rollbacks: RollbackAttempt[] = [];
    if (status === 'ROLLED_BACK') {
      rollbacks.push({
        at: new Date(created.getTime() + 3_600_000).toISOString(),
        by: 'arn:aws:sts::111111111111:assumed-role/Responder/alice',
        outcome: 'ROLLED_BACK',
        lines: ['restored inbound rule sgr-1: tcp 22 from 10.0.0.0/8'],
      });
    } else if (status === 'REMEDIATED' && next() < 0.02) {
      rollbacks.push({
        at: new Date(created.getTime() + 7_200_000).toISOString(),
        by: 'arn:aws:sts::111111111111:assumed-role/Responder/bob',
        outcome: next() < 0.5 ? 'DECLINED' : 'REFUSED',
        lines: [],
        error: 'the recorded before-state is not bound to this entry: <script>alert(1)</script>',
      });
    }
    entries.push({
      changeId: `${controlId}-${hex(next, 8)}-${hex(next, 4)}-4${hex(next, 3)}-8${hex(next, 3)}-${hex(next, 12)}`,
      controlId,
      findingId: `arn:aws:securityhub:us-east-1:111111111111:security-control/${controlId}/finding/${hex(next, 32)}`,
      resource,
      account: '111111111111',
      region: 'us-east-1',
      summary:
        i === 7
          ? 'hostile \u202egnp.exe\u202c <img src=x onerror=alert(1)> & "quotes"'
          : `fix ${controlId} on ${id}`,
      before: '{}',
      status,
      createdAt: created.toISOString(),
      ...(status === 'PENDING'
        ? {}
        : { completedAt: new Date(created.getTime() + seconds * 1000).toISOString() }),
      changes: status === 'FAILED' ? [] : [`changed ${id}`],
      ...(status === 'FAILED'
        ? {
            error:
              i % 3 === 0
                ? 'UnauthorizedOperation: You are not authorized to perform this operation.'
                : 'verification: 1 rule(s) remain on sg-1: sgr-2',
            stateLeft: 'unchanged: no rule was revoked',
          }
        : {}),
      rollbacks,
      expiresAt: Math.floor(created.getTime() / 1000) + 365 * 86_400,
    });
  }
  return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
