import {
  DescribeSnapshotsCommand,
  DisableSnapshotBlockPublicAccessCommand,
  EC2Client,
  EnableSnapshotBlockPublicAccessCommand,
  GetSnapshotBlockPublicAccessStateCommand,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BlockPublicAccessState, Ec2_1Params } from '../../../lambdas/controls/ec2-1/meta';
import {
  AFTER_BATCH_RESERVE_MS,
  batchSizeFor,
  type Ec2_1Before,
  type Ec2_1Clients,
  ec2_1,
  MAX_BATCH,
  type PublicSnapshotsState,
} from '../../../lambdas/controls/ec2-1/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { deadlineIn } from '../../../lambdas/core/deadline';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import type { ResourceRef } from '../../../lambdas/core/resource';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { fakeClock, findingContext, rollbackContext } from '../../support/control';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ref: ResourceRef = {
  type: 'AwsAccount',
  raw: `AWS::::Account:${ACCOUNT}`,
  partition: 'aws',
  account: ACCOUNT,
  region: REGION,
  id: ACCOUNT,
};
const SNAP_1 = 'snap-0000000000000000a';
const SNAP_2 = 'snap-0000000000000000b';
const SNAP_3 = 'snap-0000000000000000c';

const ec2Mock = strictMock(EC2Client);
const clients: Ec2_1Clients = { ec2: new EC2Client({ region: REGION }) };
const off: FindingContext<Ec2_1Clients, Ec2_1Params> = findingContext(clients, {
  blockPublicAccess: 'off',
});
const blockNew: FindingContext<Ec2_1Clients, Ec2_1Params> = findingContext(clients, {
  blockPublicAccess: 'block-new-sharing',
});

function snapshot(id: string, extra: Partial<Snapshot> = {}): Snapshot {
  return { SnapshotId: id, VolumeId: 'vol-0123456789abcdef0', VolumeSize: 8, ...extra };
}

/** Each listing reads the given pages in turn (one describe sequence per argument); the last listing repeats. */
function givenPublic(...listings: Snapshot[][][]) {
  const first = ec2Mock.on(
    DescribeSnapshotsCommand,
    { OwnerIds: ['self'], RestorableByUserIds: ['all'], MaxResults: 1000, NextToken: undefined },
    true,
  );
  listings.forEach((pages, listing) => {
    const firstPage = {
      Snapshots: pages[0] ?? [],
      NextToken: pages.length > 1 ? `l${listing}-page-1` : undefined,
    };
    first.resolvesOnce(firstPage);
    if (listing === listings.length - 1) first.resolves(firstPage);
    pages.slice(1).forEach((snapshots, index) => {
      const page = index + 1;
      ec2Mock
        .on(
          DescribeSnapshotsCommand,
          {
            OwnerIds: ['self'],
            RestorableByUserIds: ['all'],
            MaxResults: 1000,
            NextToken: `l${listing}-page-${page}`,
          },
          true,
        )
        .resolves({
          Snapshots: snapshots,
          NextToken: page < pages.length - 1 ? `l${listing}-page-${page + 1}` : undefined,
        });
    });
  });
}

/** Each read answers with the next of `states`, the last one from then on. */
function givenBlockPublicAccess(...states: BlockPublicAccessState[]) {
  const stub = ec2Mock.on(GetSnapshotBlockPublicAccessStateCommand, {}, true);
  for (const State of states) stub.resolvesOnce({ State });
  const last = states.at(-1);
  if (last) stub.resolves({ State: last });
}

function givenMadePrivate(...ids: string[]) {
  for (const id of ids) {
    ec2Mock
      .on(
        ModifySnapshotAttributeCommand,
        {
          SnapshotId: id,
          Attribute: 'createVolumePermission',
          OperationType: 'remove',
          GroupNames: ['all'],
        },
        true,
      )
      .resolves({});
  }
}

/**
 * For batches of hundreds: one stub that accepts exactly the "remove all"
 * request for the given ids (a stub per id makes each call scan them all).
 */
function givenManyMadePrivate(ids: readonly string[]) {
  const expected = new Set(ids);
  ec2Mock.on(ModifySnapshotAttributeCommand).callsFake((input: unknown) => {
    const { SnapshotId, ...rest } = input as { SnapshotId: string };
    const exact =
      expected.has(SnapshotId) &&
      JSON.stringify(rest) ===
        JSON.stringify({
          Attribute: 'createVolumePermission',
          OperationType: 'remove',
          GroupNames: ['all'],
        });
    if (!exact) throw new Error(`unexpected ModifySnapshotAttribute ${JSON.stringify(input)}`);
    return {};
  });
}

function givenMadePublic(...ids: string[]) {
  for (const id of ids) {
    ec2Mock
      .on(
        ModifySnapshotAttributeCommand,
        {
          SnapshotId: id,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          GroupNames: ['all'],
        },
        true,
      )
      .resolves({});
  }
}

async function readFound(ctx = off): Promise<PublicSnapshotsState> {
  const read = await ec2_1.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: PublicSnapshotsState, ctx = off): ChangePlan<Ec2_1Before> {
  const plan = ec2_1.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

function stateWith(
  ids: string[],
  blockPublicAccess?: BlockPublicAccessState,
  batchSize = ids.length,
): PublicSnapshotsState {
  return {
    account: ACCOUNT,
    region: REGION,
    batchSize,
    snapshots: ids.map((snapshotId) => ({
      snapshotId,
      volumeId: undefined,
      sizeGiB: undefined,
      description: undefined,
    })),
    blockPublicAccess,
  };
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('EC2.1 happy path', () => {
  it('lists public snapshots across pages, makes each private with exact inputs and verifies none is left', async () => {
    // Prepare
    givenPublic(
      [
        [snapshot(SNAP_1, { Description: 'nightly db backup' })],
        [snapshot(SNAP_2)],
        [snapshot(SNAP_3)],
      ],
      [[]],
    );
    givenMadePrivate(SNAP_1, SNAP_2, SNAP_3);

    // Act
    const read = await ec2_1.readState(ref, off);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = changePlan(read.state);
    const blockers = await ec2_1.preflight(read.state, off);
    const applied = await ec2_1.apply(read.state, plan, off);
    const verdict = await ec2_1.verify(read.state, off);

    // Assess
    expect(read.tags).toEqual({});
    expect(plan.summary).toBe(
      `make 3 public EBS snapshot(s) private in account ${ACCOUNT}, ${REGION}`,
    );
    expect(plan.steps[0]).toBe(
      `make ${SNAP_1} (of vol-0123456789abcdef0, 8 GiB, "nightly db backup") private: remove the permission of group "all" to create volumes from it`,
    );
    expect(plan.before).toEqual({
      account: ACCOUNT,
      region: REGION,
      snapshotIds: [SNAP_1, SNAP_2, SNAP_3],
    });
    expect(plan.undo[0]).toBe(
      `aws ec2 modify-snapshot-attribute --region ${REGION} --snapshot-id ${SNAP_1} --attribute createVolumePermission --operation-type add --group-names all  # makes ${SNAP_1} public again`,
    );
    expect(blockers).toEqual([]);
    expect(applied.changes).toEqual([
      `made ${SNAP_1} private (group "all" may no longer restore it)`,
      `made ${SNAP_2} private (group "all" may no longer restore it)`,
      `made ${SNAP_3} private (group "all" may no longer restore it)`,
    ]);
    expect(verdict).toEqual({ ok: true });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 3);
    // Block public access is not configured, so it is neither read nor changed.
    expect(ec2Mock).toHaveReceivedCommandTimes(GetSnapshotBlockPublicAccessStateCommand, 0);
  });

  it('also turns on block public access when configured, and records the previous state', async () => {
    // Prepare
    givenPublic([[snapshot(SNAP_1)]], [[]]);
    givenBlockPublicAccess('unblocked', 'block-new-sharing');
    givenMadePrivate(SNAP_1);
    ec2Mock
      .on(EnableSnapshotBlockPublicAccessCommand, { State: 'block-new-sharing' }, true)
      .resolves({ State: 'block-new-sharing' });

    // Act
    const state = await readFound(blockNew);
    const plan = changePlan(state, blockNew);
    const applied = await ec2_1.apply(state, plan, blockNew);
    const verdict = await ec2_1.verify(state, blockNew);

    // Assess
    expect(plan.summary).toBe(
      `make 1 public EBS snapshot(s) private and turn on snapshot block public access (block-new-sharing) in account ${ACCOUNT}, ${REGION}`,
    );
    expect(plan.before.blockPublicAccess).toEqual({
      previous: 'unblocked',
      applied: 'block-new-sharing',
    });
    expect(plan.undo[0]).toBe(`aws ec2 disable-snapshot-block-public-access --region ${REGION}`);
    expect(applied.changes.at(-1)).toBe(
      `turned on snapshot block public access "block-new-sharing" in ${REGION} (was unblocked)`,
    );
    expect(verdict).toEqual({ ok: true });
  });
});

describe('EC2.1 evidence', () => {
  it('reads every page: an empty first page with a token says nothing', async () => {
    // DescribeSnapshots filters after cutting a page: the public snapshot is on page two.
    givenPublic([[], [snapshot(SNAP_1)]]);

    const state = await readFound();

    expect(state.snapshots.map((s) => s.snapshotId)).toEqual([SNAP_1]);
    expect(changePlan(state).before.snapshotIds).toEqual([SNAP_1]);
  });
});

describe('EC2.1 plan', () => {
  it('sees an account without public snapshots as compliant', async () => {
    givenPublic([[]]);

    expect(ec2_1.plan(await readFound(), off)).toEqual({
      kind: 'compliant',
      summary: `no EBS snapshot of account ${ACCOUNT} in ${REGION} is public`,
    });
  });

  it('never weakens a stronger block public access already in place', () => {
    const plan = ec2_1.plan(stateWith([], 'block-all-sharing'), blockNew);

    expect(plan).toEqual({
      kind: 'compliant',
      summary: `no EBS snapshot of account ${ACCOUNT} in ${REGION} is public; snapshot block public access is block-all-sharing`,
    });
  });

  it('plans only block public access when no snapshot is public but the setting is weaker', () => {
    const plan = changePlan(stateWith([], 'unblocked'), blockNew);

    expect(plan.summary).toBe(
      `turn on snapshot block public access (block-new-sharing) in account ${ACCOUNT}, ${REGION}`,
    );
    expect(plan.before.snapshotIds).toEqual([]);
  });
});

describe('EC2.1 apply', () => {
  it('says which snapshots were made private and which are still public when one fails mid-list', async () => {
    // Prepare
    const state = stateWith([SNAP_1, SNAP_2, SNAP_3]);
    givenMadePrivate(SNAP_1);
    ec2Mock
      .on(ModifySnapshotAttributeCommand, { SnapshotId: SNAP_2 })
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));

    // Act
    const apply = ec2_1.apply(state, changePlan(state), off);

    // Assess
    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: `making ${SNAP_2} private failed: UnauthorizedOperation: not allowed`,
      stateLeft: `made private: 1 (${SNAP_1}); still public: 2 of this change (${SNAP_2}, ${SNAP_3})`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 2);
  });

  it('skips a snapshot deleted in the meantime', async () => {
    const state = stateWith([SNAP_1, SNAP_2]);
    ec2Mock
      .on(ModifySnapshotAttributeCommand, { SnapshotId: SNAP_1 })
      .rejects(serviceError('InvalidSnapshot.NotFound'));
    givenMadePrivate(SNAP_2);

    const applied = await ec2_1.apply(state, changePlan(state), off);

    expect(applied.changes).toEqual([
      `made ${SNAP_2} private (group "all" may no longer restore it)`,
      `${SNAP_1} no longer existed; nothing to do`,
    ]);
  });

  it('reports the snapshots done when block public access cannot be turned on', async () => {
    const state = stateWith([SNAP_1], 'unblocked');
    givenMadePrivate(SNAP_1);
    ec2Mock
      .on(EnableSnapshotBlockPublicAccessCommand)
      .rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_1.apply(state, changePlan(state, blockNew), blockNew)).rejects.toMatchObject({
      stateLeft: `made private: 1 (${SNAP_1}); snapshot block public access is still unblocked (or unconfirmed)`,
    });
  });
});

describe('EC2.1 verify', () => {
  it('names the snapshots of the batch that are still public once the backoff is spent', async () => {
    givenPublic(
      [[snapshot(SNAP_2)]],
      [[snapshot(SNAP_2)]],
      [[snapshot(SNAP_2)]],
      [[snapshot(SNAP_2)]],
      [[snapshot(SNAP_2)]],
    );
    const { clock, sleeps } = fakeClock();

    expect(await ec2_1.verify(stateWith([SNAP_2]), { ...off, clock })).toEqual({
      ok: false,
      reason: `1 snapshot(s) are still public in ${REGION}: ${SNAP_2}`,
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging listing no longer shows the batch', async () => {
    givenPublic([[snapshot(SNAP_1)]], [[]]);
    const { clock, sleeps } = fakeClock();

    expect(await ec2_1.verify(stateWith([SNAP_1]), { ...off, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it('judges only its own batch: snapshots left for later invocations may still be public', async () => {
    // The batch is SNAP_1; SNAP_2 and SNAP_3 are the next invocations' work.
    givenPublic([[snapshot(SNAP_2)], [], [snapshot(SNAP_3)]]);

    expect(await ec2_1.verify(stateWith([SNAP_1, SNAP_2, SNAP_3], undefined, 1), off)).toEqual({
      ok: true,
    });
  });

  it('fails when block public access is weaker than configured', async () => {
    givenPublic([[]]);
    givenBlockPublicAccess('unblocked');

    expect(await ec2_1.verify(stateWith([]), blockNew)).toEqual({
      ok: false,
      reason: 'snapshot block public access reads unblocked, not block-new-sharing',
    });
  });

  it('lets a read failure through', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejects(serviceError('RequestLimitExceeded'));

    await expect(ec2_1.readState(ref, off)).rejects.toThrow('RequestLimitExceeded');
  });
});

describe('EC2.1 rollback', () => {
  it('unblocks public sharing first, makes each recorded snapshot public again and says so', async () => {
    // Prepare
    ec2Mock.on(DisableSnapshotBlockPublicAccessCommand, {}, true).resolves({ State: 'unblocked' });
    givenMadePublic(SNAP_1);
    ec2Mock
      .on(ModifySnapshotAttributeCommand, { SnapshotId: SNAP_2, OperationType: 'add' })
      .rejects(serviceError('InvalidSnapshot.NotFound'));
    const before: Ec2_1Before = {
      account: ACCOUNT,
      region: REGION,
      snapshotIds: [SNAP_1, SNAP_2],
      blockPublicAccess: { previous: 'unblocked', applied: 'block-all-sharing' },
    };

    // Act
    const lines = await ec2_1.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      `turned snapshot block public access off in ${REGION}`,
      `made ${SNAP_1} PUBLIC again: anyone can create a volume from it, as before hubfix's change`,
      `${SNAP_2} no longer exists; nothing to restore`,
    ]);
    const order = ec2Mock.calls().map((c) => c.args[0].constructor.name);
    expect(order[0]).toBe('DisableSnapshotBlockPublicAccessCommand');
  });

  it('puts a previous blocking state back last, after re-sharing', async () => {
    ec2Mock.on(DisableSnapshotBlockPublicAccessCommand, {}, true).resolves({});
    givenMadePublic(SNAP_1);
    ec2Mock
      .on(EnableSnapshotBlockPublicAccessCommand, { State: 'block-new-sharing' }, true)
      .resolves({ State: 'block-new-sharing' });

    const lines = await ec2_1.rollback(
      {
        account: ACCOUNT,
        region: REGION,
        snapshotIds: [SNAP_1],
        blockPublicAccess: { previous: 'block-new-sharing', applied: 'block-all-sharing' },
      },
      rollbackContext(clients),
    );

    expect(lines.at(-1)).toBe(
      `set snapshot block public access back to "block-new-sharing" in ${REGION}`,
    );
    expect(ec2Mock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DisableSnapshotBlockPublicAccessCommand',
      'ModifySnapshotAttributeCommand',
      'EnableSnapshotBlockPublicAccessCommand',
    ]);
  });

  it('says what was restored when re-sharing fails part-way', async () => {
    givenMadePublic(SNAP_1);
    ec2Mock
      .on(ModifySnapshotAttributeCommand, { SnapshotId: SNAP_2, OperationType: 'add' })
      .rejects(serviceError('UnauthorizedOperation'));

    await expect(
      ec2_1.rollback(
        { account: ACCOUNT, region: REGION, snapshotIds: [SNAP_1, SNAP_2] },
        rollbackContext(clients),
      ),
    ).rejects.toMatchObject({ stateLeft: expect.stringContaining(`made ${SNAP_1} PUBLIC again`) });
  });

  it('refuses to roll back from another region', async () => {
    const elsewhere = { ec2: new EC2Client({ region: 'eu-west-1' }) };

    await expect(
      ec2_1.rollback(
        { account: ACCOUNT, region: REGION, snapshotIds: [SNAP_1] },
        rollbackContext(elsewhere),
      ),
    ).rejects.toBeInstanceOf(RollbackRefusedError);
  });

  it('validates a before-state read back from the ledger', () => {
    const valid = { account: ACCOUNT, region: REGION, snapshotIds: [SNAP_1] };
    expect(ec2_1.before.parse(valid, 'before').ok).toBe(true);
    expect(ec2_1.before.parse({ ...valid, snapshotIds: ['vol-1'] }, 'before').ok).toBe(false);
    expect(
      ec2_1.before.parse(
        { ...valid, blockPublicAccess: { previous: 'open', applied: 'block-new-sharing' } },
        'before',
      ).ok,
    ).toBe(false);
  });
});

describe('EC2.1 batches: thousands of public snapshots over several invocations', () => {
  const page = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) =>
      snapshot(`snap-${(from + i).toString(16).padStart(17, '0')}`),
    );

  it.each<[string, number, number]>([
    ['no deadline: the most one change holds', Number.POSITIVE_INFINITY, MAX_BATCH],
    ['only the time verify needs', AFTER_BATCH_RESERVE_MS, 0],
    ['less than that', 1_000, 0],
    ['two minutes more: 5 a second', AFTER_BATCH_RESERVE_MS + 120_000, 600],
    ['one second more', AFTER_BATCH_RESERVE_MS + 1_000, 5],
    ['a 5-minute function, less the pipeline reserve', 290_000, MAX_BATCH],
  ])('sizes the batch from the time left (%s)', (_name, remainingMs, size) => {
    expect(batchSizeFor(remainingMs)).toBe(size);
  });

  it('makes 600 of 5,000 private in two minutes, says what is left, and verifies that batch', async () => {
    // Prepare: 5,000 public snapshots over five full pages, an empty page with a token among them.
    const all = page(0, 5_000);
    givenPublic(
      [
        all.slice(0, 1_000),
        [],
        all.slice(1_000, 2_000),
        all.slice(2_000, 3_000),
        all.slice(3_000, 4_000),
        all.slice(4_000),
      ],
      [
        all.slice(600, 1_600),
        all.slice(1_600, 2_600),
        all.slice(2_600, 3_600),
        all.slice(3_600, 4_600),
        all.slice(4_600),
      ],
    );
    const batchIds = all.slice(0, 600).map((s) => s.SnapshotId ?? '');
    givenManyMadePrivate(batchIds);
    const { clock } = fakeClock();
    const ctx = findingContext(
      clients,
      { blockPublicAccess: 'off' as const },
      {
        clock,
        deadline: deadlineIn(AFTER_BATCH_RESERVE_MS + 120_000, clock.now),
      },
    );

    // Act
    const state = await readFound(ctx);
    const plan = changePlan(state, ctx);
    const applied = await ec2_1.apply(state, plan, ctx);
    const verdict = await ec2_1.verify(state, ctx);

    // Assess
    expect(state.snapshots).toHaveLength(5_000);
    expect(plan.summary).toBe(
      `make 600 of 5,000 public EBS snapshots private in account ${ACCOUNT}, ${REGION}; 4,400 left for the next invocations`,
    );
    expect(plan.remaining).toBe(
      "4,400 of the 5,000 public snapshots are left for the next invocations: one invocation has time for 600 at EC2's rate of 5 ModifySnapshotAttribute calls a second",
    );
    expect(plan.before.snapshotIds).toEqual(batchIds);
    expect(plan.steps).toHaveLength(2);
    expect(plan.steps[0]).toMatch(
      /^make 600 snapshots private, at most 5 a second: .* and 597 more/,
    );
    expect(plan.undo).toHaveLength(1);
    // The ledger stores the before-state as JSON: far below DynamoDB's 400 KB item.
    expect(JSON.stringify(plan.before).length).toBeLessThan(16_000);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 600);
    expect(applied.changes).toEqual([
      `made 600 snapshots private (group "all" may no longer restore them): ${batchIds.slice(0, 3).join(', ')} and 597 more; every id is in the change's before-state`,
    ]);
    expect(verdict).toEqual({ ok: true });
  });

  it('paces its calls at EC2s refill rate and keeps the largest batch small in the ledger', async () => {
    // Prepare
    const ids = page(0, MAX_BATCH).map((s) => s.SnapshotId ?? '');
    const state = stateWith(ids);
    givenManyMadePrivate(ids);
    const { clock, sleeps } = fakeClock();
    const start = clock.now();
    const plan = changePlan(state);

    // Act
    await ec2_1.apply(state, plan, { ...off, clock });

    // Assess: 1,000 calls at 5 a second take 199.8 s after the first.
    expect(clock.now() - start).toBe(199_800);
    expect(sleeps.every((ms) => ms <= 200)).toBe(true);
    expect(JSON.stringify(plan.before).length).toBeLessThan(30_000);
  });

  it('stops cleanly, counting what it did, when the invocation runs short mid-batch', async () => {
    // Prepare: time for about 10 calls, but a batch of 20 (the calls ran slower than planned).
    const ids = page(0, 20).map((s) => s.SnapshotId ?? '');
    const state = stateWith(ids);
    givenManyMadePrivate(ids);
    const { clock } = fakeClock();
    const ctx = { ...off, clock, deadline: deadlineIn(AFTER_BATCH_RESERVE_MS + 1_900, clock.now) };

    // Act
    const apply = ec2_1.apply(state, changePlan(state), ctx);

    // Assess
    await expect(apply).rejects.toMatchObject({
      message: 'the invocation ran short of time after 10 of 20 snapshots',
      stateLeft: `made private: 10 (${ids.slice(0, 3).join(', ')} and 7 more); still public: 10 of this change (${ids.slice(10, 13).join(', ')} and 7 more); the next invocation lists what is still public and goes on`,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 10);
  });

  it('blocks when there is no time for even one snapshot', async () => {
    const blockers = await ec2_1.preflight(stateWith([SNAP_1], undefined, 0), off);

    expect(blockers).toEqual([
      'this invocation has too little time left to make any of the 1 public snapshots private (it keeps 45 s to verify); the next one will',
    ]);
  });
});
