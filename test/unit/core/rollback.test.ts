import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbLedgerAdmin } from '../../../lambdas/core/adapters/ledger-admin';
import type { Control } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import type {
  ChangeStatus,
  LedgerEntry,
  RollbackAttempt,
} from '../../../lambdas/core/ledger-entry';
import {
  type RollbackLedger,
  type RollbackPreview,
  rollbackChange,
} from '../../../lambdas/core/rollback';
import { array, object, string } from '../../../lambdas/core/schema';
import { securityGroupResource } from '../../../lambdas/services/ec2/resources';
import { silentLog } from '../../support/control';
import { ledgerTable } from '../../support/ledger-table';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const SCOPE = { account: ACCOUNT, region: REGION };
const OPERATOR = 'arn:aws:iam::111111111111:user/ops';
const AT = '2026-11-23T09:00:00.000Z';

function entry(changes: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    changeId: 'EC2.2-1',
    controlId: 'EC2.2',
    findingId: 'finding-1',
    resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-1234123f`,
    summary: 'revoke 2 rules',
    before: '{"groupId":"sg-1234123f","rules":["sgr-1","sgr-2"]}',
    status: 'REMEDIATED',
    createdAt: '2026-11-22T10:00:00.000Z',
    changes: ['revoked inbound rule sgr-1', 'revoked inbound rule sgr-2'],
    rollbacks: [],
    expiresAt: 1,
    ...changes,
  };
}

/** An in-memory ledger that behaves like the DynamoDB one, including the claim. */
function memoryLedger(initial: LedgerEntry | undefined) {
  let current = initial;
  const attempts: { status: ChangeStatus | 'unchanged'; attempt: RollbackAttempt }[] = [];
  const ledger: RollbackLedger = {
    async get() {
      return current;
    },
    async claimForRollback(_id, from) {
      if (!current || !from.includes(current.status)) return false;
      current = { ...current, status: 'ROLLING_BACK' };
      return true;
    },
    async recordRollback(_id, status, attempt) {
      attempts.push({ status, attempt });
      if (current) current = { ...current, status, rollbacks: [...current.rollbacks, attempt] };
    },
    async recordRefusal(_id, attempt) {
      attempts.push({ status: 'unchanged', attempt });
      if (current) current = { ...current, rollbacks: [...current.rollbacks, attempt] };
    },
  };
  return { ledger, attempts, current: () => current };
}

interface FakeBefore {
  readonly groupId: string;
  readonly rules: readonly string[];
}

/** An SDK-shaped client that records what reaches it. */
function recordingEc2() {
  const received: string[] = [];
  return {
    received,
    client: {
      config: { serviceId: 'EC2' },
      async send(command: { readonly input: { readonly Rule?: string } }) {
        received.push(`${command.constructor.name} ${command.input.Rule}`);
        return {};
      },
    },
  };
}

class AuthorizeSecurityGroupIngressCommand {
  constructor(readonly input: { readonly GroupId: string; readonly Rule: string }) {}
}

interface FakeClients {
  readonly ec2?: ReturnType<typeof recordingEc2>['client'];
}

interface Behaviour {
  rollback?: (before: FakeBefore, clients: FakeClients) => Promise<readonly string[]>;
  checkRollback?: () => Promise<readonly string[]>;
}

function control(behaviour: Behaviour = {}): Control<unknown, FakeBefore, unknown, FakeClients> {
  return {
    id: 'EC2.2',
    title: 'fake',
    resource: securityGroupResource(),
    params: object({}),
    before: object({ groupId: string(), rules: array(string()) }),
    notifyOnly: false,
    createClients: () => ({}),
    readState: async () => ({ kind: 'not-applicable', reason: 'unused' }),
    plan: () => ({ kind: 'compliant', summary: 'unused' }),
    preflight: async () => [],
    apply: async () => ({ changes: [] }),
    verify: async () => ({ ok: true }),
    describeRollback: (before) => ({
      target: { resourceId: before.groupId },
      calls: before.rules.map((rule) => ({
        service: 'ec2',
        action: 'AuthorizeSecurityGroupIngress',
        resource: before.groupId,
        parameters: { GroupId: before.groupId, Rule: rule },
        grants: { what: `inbound rule ${rule}`, removed: rule },
      })),
    }),
    ...(behaviour.checkRollback ? { checkRollback: behaviour.checkRollback } : {}),
    rollback: async (before, { clients }) =>
      behaviour.rollback
        ? behaviour.rollback(before, clients)
        : before.rules.map((r) => `restored rule ${r}`),
  };
}

function run(
  ledger: RollbackLedger,
  options: {
    force?: boolean;
    known?: boolean;
    behaviour?: Behaviour;
    confirm?: (preview: RollbackPreview) => Promise<boolean>;
    scope?: { account: string; region: string };
    clients?: FakeClients;
  } = {},
) {
  return rollbackChange({
    changeId: 'EC2.2-1',
    by: OPERATOR,
    scope: options.scope ?? SCOPE,
    force: options.force ?? false,
    ledger,
    control: async (id) =>
      options.known === false || id !== 'EC2.2'
        ? undefined
        : (control(options.behaviour) as Control<unknown, unknown, unknown, FakeClients>),
    clients: () => options.clients ?? {},
    confirm: options.confirm ?? (async () => true),
    log: silentLog,
    now: () => new Date(AT),
  });
}

describe('rollbackChange', () => {
  it('shows the calls, then restores the before-state and records who did it', async () => {
    // Prepare
    const memory = memoryLedger(entry());
    const shown: RollbackPreview[] = [];
    let received: unknown;

    // Act
    const outcome = await run(memory.ledger, {
      confirm: async (preview) => {
        shown.push(preview);
        return true;
      },
      behaviour: {
        rollback: async (before) => {
          received = before;
          return ['restored rule sgr-1', 'restored rule sgr-2'];
        },
      },
    });

    // Assess
    expect(shown).toHaveLength(1);
    expect(shown[0]?.resource.id).toBe('sg-1234123f');
    expect(shown[0]?.calls.map((c) => `${c.action} ${c.parameters.Rule}`)).toEqual([
      'AuthorizeSecurityGroupIngress sgr-1',
      'AuthorizeSecurityGroupIngress sgr-2',
    ]);
    expect(received).toEqual({ groupId: 'sg-1234123f', rules: ['sgr-1', 'sgr-2'] });
    expect(outcome).toMatchObject({ kind: 'rolled-back' });
    expect(memory.attempts).toEqual([
      {
        status: 'ROLLED_BACK',
        attempt: {
          at: AT,
          by: OPERATOR,
          outcome: 'ROLLED_BACK',
          lines: ['restored rule sgr-1', 'restored rule sgr-2'],
        },
      },
    ]);
  });

  it('rolls back a PENDING change only when forced', async () => {
    expect(await run(memoryLedger(entry({ status: 'PENDING' })).ledger)).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('use --force'),
    });
    expect(
      await run(memoryLedger(entry({ status: 'PENDING' })).ledger, { force: true }),
    ).toMatchObject({ kind: 'rolled-back' });
  });

  it('reports a failed rollback with the state left, and allows another try', async () => {
    const memory = memoryLedger(entry());

    const outcome = await run(memory.ledger, {
      behaviour: {
        rollback: async () => {
          throw new PartialChangeError('restoring rule 2 failed', 'restored so far: rule 1');
        },
      },
    });

    expect(outcome).toEqual({
      kind: 'failed',
      error: 'PartialChangeError: restoring rule 2 failed',
      stateLeft: 'restored so far: rule 1',
    });
    expect(memory.attempts[0]?.attempt).toMatchObject({
      outcome: 'FAILED',
      error: expect.stringContaining('state now: restored so far: rule 1'),
    });
    expect(memory.current()?.status).toBe('REMEDIATED');
  });

  it('makes no call and asks nothing for an unknown change (there is no entry to record on)', async () => {
    const memory = memoryLedger(undefined);
    let asked = false;

    const outcome = await run(memory.ledger, {
      confirm: async () => {
        asked = true;
        return true;
      },
    });

    expect(outcome).toEqual({ kind: 'refused', reason: 'no change EC2.2-1 in the ledger' });
    expect(asked).toBe(false);
  });

  it('withholds what a part-way change never took away, shows it, and gives back the rest', async () => {
    // Prepare: the change revoked sgr-1, then stopped before sgr-2
    const memory = memoryLedger(
      entry({
        status: 'FAILED',
        changes: ['revoked inbound rule sgr-1'],
        stateLeft: 'revoked sgr-1; sgr-2 is still there',
      }),
    );
    const shown: RollbackPreview[] = [];
    const ec2 = recordingEc2();

    // Act
    const outcome = await run(memory.ledger, {
      clients: { ec2: ec2.client },
      confirm: async (preview) => {
        shown.push(preview);
        return true;
      },
      behaviour: {
        rollback: async (_before, clients) => {
          await clients.ec2?.send(
            new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-1234123f', Rule: 'sgr-1' }),
          );
          return ['restored rule sgr-1'];
        },
      },
    });

    // Assess
    expect(shown[0]?.calls.map((c) => c.parameters.Rule)).toEqual(['sgr-1']);
    expect(shown[0]?.withheld.map((c) => c.parameters.Rule)).toEqual(['sgr-2']);
    expect(ec2.received).toEqual(['AuthorizeSecurityGroupIngressCommand sgr-1']);
    expect(outcome).toMatchObject({ kind: 'rolled-back', lines: ['restored rule sgr-1'] });
  });

  it('refuses a withheld call the rollback tries anyway, before it is sent', async () => {
    // Prepare: a forged part-way entry whose before-state claims a second rule
    const memory = memoryLedger(
      entry({ status: 'FAILED', changes: ['revoked inbound rule sgr-1'] }),
    );
    const ec2 = recordingEc2();

    // Act
    const outcome = await run(memory.ledger, {
      clients: { ec2: ec2.client },
      behaviour: {
        rollback: async (before, clients) => {
          for (const rule of before.rules) {
            await clients.ec2?.send(
              new AuthorizeSecurityGroupIngressCommand({ GroupId: before.groupId, Rule: rule }),
            );
          }
          return [];
        },
      },
    });

    // Assess
    expect(outcome).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('a call it did not show; it was not sent'),
    });
    expect(ec2.received).toEqual(['AuthorizeSecurityGroupIngressCommand sgr-1']);
    expect(memory.current()?.status).toBe('FAILED');
  });

  it('refuses a finished change whose before-state gives back more than it recorded taking', async () => {
    const memory = memoryLedger(entry({ changes: ['revoked inbound rule sgr-1'] }));
    let asked = false;

    const outcome = await run(memory.ledger, {
      confirm: async () => {
        asked = true;
        return true;
      },
    });

    expect(outcome).toEqual({
      kind: 'refused',
      reason:
        'the rollback would give back more than the change took away: AuthorizeSecurityGroupIngress on sg-1234123f would give back "inbound rule sgr-2", but the entry does not record that its change removed sgr-2',
    });
    expect(asked).toBe(false);
  });

  it('still answers with the refusal when the refusal cannot be recorded', async () => {
    const memory = memoryLedger(entry({ status: 'ROLLED_BACK' }));
    const broken: RollbackLedger = {
      ...memory.ledger,
      recordRefusal: async () => {
        throw new Error('throttled');
      },
    };

    expect(await run(broken)).toMatchObject({ kind: 'refused' });
  });
});

/**
 * Every kind of attempt lands in the ledger through the real adapter and real
 * DynamoDB marshalling, with who tried, and a refusal never changes the status.
 */
describe('every rollback attempt is recorded in the ledger', () => {
  const TABLE = 'hubfix-ledger';

  function stored(initial: LedgerEntry) {
    const table = ledgerTable(TABLE, [{ ...initial, entity: 'change' }]);
    return { table, admin: new DynamoDbLedgerAdmin(table.client, TABLE) };
  }

  const refusals: [
    string,
    Partial<LedgerEntry>,
    Parameters<typeof run>[1],
    string,
    RollbackAttempt['outcome'],
  ][] = [
    [
      'already rolled back',
      {
        status: 'ROLLED_BACK',
        rollbacks: [{ at: '2026-11-22T12:00:00Z', by: 'alice', outcome: 'ROLLED_BACK', lines: [] }],
      },
      {},
      'was already rolled back on 2026-11-22T12:00:00Z by alice',
      'REFUSED',
    ],
    ['still pending', { status: 'PENDING' }, {}, 'is still PENDING', 'REFUSED'],
    ['of an unknown control', {}, { known: false }, 'has no control EC2.2', 'REFUSED'],
    ['with a before-state that is not JSON', { before: '{oops' }, {}, 'is not JSON', 'REFUSED'],
    [
      'with a before-state of the wrong shape',
      { before: '{"groupId":"sg-1234123f","rules":"all"}' },
      {},
      'does not fit EC2.2: before.rules',
      'REFUSED',
    ],
    [
      'whose before-state acts on another resource',
      { before: '{"groupId":"sg-2234123f","rules":["sgr-1"]}' },
      {},
      "acts on sg-2234123f, but the entry's resource is sg-1234123f",
      'REFUSED',
    ],
    [
      'made in another region',
      { region: 'eu-west-1' },
      {},
      'run it again with --region eu-west-1',
      'REFUSED',
    ],
    [
      'that gives back what the change did not remove',
      { changes: ['revoked inbound rule sgr-1'] },
      {},
      'does not record that its change removed sgr-2',
      'REFUSED',
    ],
    [
      'whose live state does not fit',
      {},
      { behaviour: { checkRollback: async () => ['sg-1234123f is gone'] } },
      'the live state does not fit the entry: sg-1234123f is gone',
      'REFUSED',
    ],
    [
      'that the control refuses',
      {},
      {
        behaviour: {
          rollback: async () => {
            throw new RollbackRefusedError('the address cannot be got back');
          },
        },
      },
      'the address cannot be got back',
      'REFUSED',
    ],
    ['the operator declined', {}, { confirm: async () => false }, '', 'DECLINED'],
  ];

  it.each(refusals)('a rollback %s', async (_name, changes, options, reason, outcome) => {
    // Prepare
    const initial = entry(changes);
    const { table, admin } = stored(initial);

    // Act
    const result = await run(admin, options);

    // Assess
    expect(result.kind).toBe(outcome === 'DECLINED' ? 'declined' : 'refused');
    const item = table.item('EC2.2-1');
    expect(item?.status).toBe(initial.status);
    expect(item?.rollbacks.at(-1)).toEqual({
      at: AT,
      by: OPERATOR,
      outcome,
      lines: [],
      ...(outcome === 'REFUSED' ? { error: expect.stringContaining(reason) } : {}),
    });
    expect(item?.rollbacks).toHaveLength(initial.rollbacks.length + 1);
  });

  it('a rollback that lost the claim to a concurrent one, leaving that one in charge', async () => {
    // Prepare: another operator claims the entry while this one reads the calls.
    const { table, admin } = stored(entry());
    const other = new DynamoDbLedgerAdmin(table.client, TABLE);

    // Act
    const result = await run(admin, {
      confirm: async () => {
        expect(await other.claimForRollback('EC2.2-1', ['REMEDIATED'])).toBe(true);
        return true;
      },
    });

    // Assess
    expect(result).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('changed state meanwhile'),
    });
    expect(table.item('EC2.2-1')?.status).toBe('ROLLING_BACK');
    expect(table.item('EC2.2-1')?.rollbacks).toEqual([
      {
        at: AT,
        by: OPERATOR,
        outcome: 'REFUSED',
        lines: [],
        error: expect.stringContaining('changed state meanwhile'),
      },
    ]);
  });

  it('a rollback that worked, and one that failed', async () => {
    const worked = stored(entry());
    const failed = stored(entry());

    await run(worked.admin);
    await run(failed.admin, {
      behaviour: {
        rollback: async () => {
          throw new Error('throttled');
        },
      },
    });

    expect(worked.table.item('EC2.2-1')).toMatchObject({
      status: 'ROLLED_BACK',
      rollbacks: [
        {
          outcome: 'ROLLED_BACK',
          by: OPERATOR,
          lines: ['restored rule sgr-1', 'restored rule sgr-2'],
        },
      ],
    });
    expect(failed.table.item('EC2.2-1')).toMatchObject({
      status: 'REMEDIATED',
      rollbacks: [{ outcome: 'FAILED', by: OPERATOR, error: 'throttled' }],
    });
  });

  it('the stand-in rejects what DynamoDB rejects: an unused expression value', async () => {
    const table = ledgerTable(TABLE, []);

    await expect(
      table.client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { changeId: { S: 'x' } },
          UpdateExpression: 'SET #status = :rolling',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':rolling': { S: 'R' }, ':spare': { S: 'x' } },
        }),
      ),
    ).rejects.toThrow('unused in expressions');
  });
});
