/**
 * EC2.1 — no EBS snapshot of the account should be restorable by anyone.
 *
 * An account-level finding (`AWS::::Account:<id>`) for one region. hubfix
 * lists the account's own snapshots that the group `all` may restore
 * (following every page), removes that permission from each, and, when
 * configured, turns on the region's snapshot block public access. The ids
 * of the snapshots it made private and the previous block-public-access
 * state are the before-state, so a rollback can put both back exactly.
 *
 * ModifySnapshotAttribute takes one snapshot a call, and EC2 meters it in
 * the account's bucket for mutating calls, which refills at 5 a second. An
 * account with thousands of public snapshots therefore takes several
 * invocations: each one makes private as many as its time allows (the
 * batch), records them as its own change, and leaves the rest for the next
 * (`ChangePlan.remaining`). Each invocation lists the public snapshots anew,
 * so the batches never overlap and a snapshot made private meanwhile is
 * simply no longer listed.
 *
 * An account has no EC2 tags, so the resource's tags read as none: owners
 * cannot opt an account out by tag. The allow-list's `accountIds` and the
 * control's mode (or `off`) decide instead.
 */
import {
  DescribeSnapshotsCommand,
  DisableSnapshotBlockPublicAccessCommand,
  EC2Client,
  EnableSnapshotBlockPublicAccessCommand,
  GetSnapshotBlockPublicAccessStateCommand,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import type { Clock } from '../../core/clock';
import type { Control, RollbackCall } from '../../core/control';
import type { Deadline } from '../../core/deadline';
import { describeError, PartialChangeError } from '../../core/errors';
import { accountResource } from '../../core/resource';
import { array, type Infer, object, oneOf, optional, string } from '../../core/schema';
import { assertRollbackRegion } from '../../services/ec2/region';
import { collectAll } from '../../services/paging';
import { VERIFY_BACKOFF_MS, verifyEventually } from '../../services/wait';
import {
  BLOCK_PUBLIC_ACCESS_STATES,
  type BlockPublicAccessState,
  type Ec2_1Params,
  ec2_1Meta,
} from './meta';

export interface Ec2_1Clients {
  readonly ec2: EC2Client;
}

export interface PublicSnapshot {
  readonly snapshotId: string;
  readonly volumeId: string | undefined;
  readonly sizeGiB: number | undefined;
  readonly description: string | undefined;
}

export interface PublicSnapshotsState {
  readonly account: string;
  readonly region: string;
  /** Every public snapshot of the account in the region, in the order EC2 listed them. */
  readonly snapshots: readonly PublicSnapshot[];
  /**
   * How many of them this invocation has time to make private: the batch is
   * the first `batchSize` of `snapshots`, for plan and verify alike.
   */
  readonly batchSize: number;
  /** Read only when the control is configured to turn block public access on. */
  readonly blockPublicAccess: BlockPublicAccessState | undefined;
}

/**
 * EC2 meters ModifySnapshotAttribute in the account's request bucket for
 * mutating actions: 200 tokens, refilled at 5 a second, shared with every
 * other tool in the account and region. hubfix assumes the bucket is empty
 * and paces itself at the refill rate, so it never throttles anyone else.
 */
export const MODIFY_SNAPSHOT_CALLS_PER_SECOND = 5;

/**
 * Time kept after the last ModifySnapshotAttribute: verify lists the public
 * snapshots again, backing off up to 15 s while EC2 catches up, and block
 * public access may still be turned on.
 */
export const AFTER_BATCH_RESERVE_MS = VERIFY_BACKOFF_MS.reduce((sum, ms) => sum + ms, 0) + 30_000;

/**
 * The most snapshots one change covers, whatever the time: the before-state
 * holds their ids (about 26 KB of the ledger's 400 KB item for 1,000).
 */
export const MAX_BATCH = 1_000;

/** How many snapshots can be made private, paced at EC2's rate, in the time left. */
export function batchSizeFor(remainingMs: number): number {
  const usableMs = remainingMs - AFTER_BATCH_RESERVE_MS;
  if (!(usableMs > 0)) return 0;
  return Math.min(MAX_BATCH, Math.floor((usableMs / 1000) * MODIFY_SNAPSHOT_CALLS_PER_SECOND));
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The first few items and how many more, so no message carries thousands of them. */
function someIds(ids: readonly string[], shown = 3): string {
  if (ids.length === 0) return 'none';
  const head = ids.slice(0, shown).join(', ');
  return ids.length > shown ? `${head} and ${count(ids.length - shown)} more` : head;
}

const blockPublicAccessState = oneOf(BLOCK_PUBLIC_ACCESS_STATES);

export const ec2_1Before = object({
  account: string({ pattern: /^\d{12}$/, patternName: 'a 12-digit account id' }),
  region: string({ minLength: 1 }),
  /** The snapshots that were public and are to be made private. */
  snapshotIds: array(string({ pattern: /^snap-[0-9a-f]{8,17}$/, patternName: 'a snapshot id' }), {
    unique: true,
  }),
  /** Present when hubfix turns block public access on. */
  blockPublicAccess: optional(
    object({ previous: blockPublicAccessState, applied: blockPublicAccessState }),
  ),
});

export type Ec2_1Before = Infer<typeof ec2_1Before>;

const SNAPSHOT_GONE = 'InvalidSnapshot.NotFound';

function isGone(error: unknown): boolean {
  return error instanceof Error && error.name === SNAPSHOT_GONE;
}

function strength(state: BlockPublicAccessState): number {
  return BLOCK_PUBLIC_ACCESS_STATES.indexOf(state);
}

function isBlockPublicAccessState(value: string | undefined): value is BlockPublicAccessState {
  return BLOCK_PUBLIC_ACCESS_STATES.some((state) => state === value);
}

function record(snapshot: Snapshot): PublicSnapshot | undefined {
  if (!snapshot.SnapshotId) return undefined;
  return {
    snapshotId: snapshot.SnapshotId,
    volumeId: snapshot.VolumeId,
    sizeGiB: snapshot.VolumeSize,
    description: snapshot.Description || undefined,
  };
}

function describeSnapshot(snapshot: PublicSnapshot): string {
  const facts = [
    snapshot.volumeId && snapshot.volumeId !== 'vol-ffffffff' ? `of ${snapshot.volumeId}` : '',
    snapshot.sizeGiB === undefined ? '' : `${snapshot.sizeGiB} GiB`,
    snapshot.description ? `"${snapshot.description.slice(0, 60)}"` : '',
  ].filter((fact) => fact !== '');
  return facts.length > 0 ? `${snapshot.snapshotId} (${facts.join(', ')})` : snapshot.snapshotId;
}

/**
 * The account's own snapshots that anyone may restore: a filtered describe,
 * so every page is read, an empty one with a token included.
 */
async function listPublicSnapshots(ec2: EC2Client): Promise<PublicSnapshot[]> {
  return collectAll(async (nextToken) => {
    const page = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        RestorableByUserIds: ['all'],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    return {
      items: (page.Snapshots ?? []).flatMap((snapshot) => record(snapshot) ?? []),
      nextToken: page.NextToken,
    };
  });
}

function batchOf(state: PublicSnapshotsState): readonly PublicSnapshot[] {
  return state.snapshots.slice(0, state.batchSize);
}

/** Waits until the next call may start at EC2's refill rate. */
async function pace(clock: Clock, startedAt: number, callIndex: number): Promise<void> {
  const due = startedAt + (callIndex * 1000) / MODIFY_SNAPSHOT_CALLS_PER_SECOND;
  const wait = due - clock.now();
  if (wait > 0) await clock.sleep(wait);
}

/** One line per snapshot for a few; for a big batch, one line each for those made private and those gone. */
function snapshotChanges(madePrivate: readonly string[], gone: readonly string[]): string[] {
  if (madePrivate.length + gone.length <= LISTED_ONE_BY_ONE) {
    return [
      ...madePrivate.map((id) => `made ${id} private (group "all" may no longer restore it)`),
      ...gone.map((id) => `${id} no longer existed; nothing to do`),
    ];
  }
  return [
    `made ${count(madePrivate.length)} snapshots private (group "all" may no longer restore them): ${someIds(madePrivate)}; every id is in the change's before-state`,
    ...(gone.length > 0
      ? [`${count(gone.length)} no longer existed; nothing to do: ${someIds(gone)}`]
      : []),
  ];
}

function hasTimeForAnotherCall(deadline: Deadline): boolean {
  return deadline.remainingMs() >= AFTER_BATCH_RESERVE_MS;
}

async function readBlockPublicAccess(ec2: EC2Client): Promise<BlockPublicAccessState> {
  const { State } = await ec2.send(new GetSnapshotBlockPublicAccessStateCommand({}));
  if (!isBlockPublicAccessState(State)) {
    throw new Error(`EC2 reported snapshot block public access as ${State ?? 'missing'}`);
  }
  return State;
}

/** The state to turn on, or undefined when configured off or already as strong. */
function blockPublicAccessTarget(
  state: PublicSnapshotsState,
  params: Ec2_1Params,
): BlockPublicAccessState | undefined {
  if (params.blockPublicAccess === 'off') return undefined;
  const current = state.blockPublicAccess ?? 'unblocked';
  return strength(current) < strength(params.blockPublicAccess)
    ? params.blockPublicAccess
    : undefined;
}

function shareCommand(snapshotId: string, region: string): string {
  return `aws ec2 modify-snapshot-attribute --region ${region} --snapshot-id ${snapshotId} --attribute createVolumePermission --operation-type add --group-names all  # makes ${snapshotId} public again`;
}

/** Up to this many snapshots are listed one by one in a plan; beyond, they are counted. */
const LISTED_ONE_BY_ONE = 10;

function shareCommands(snapshotIds: readonly string[], region: string): string[] {
  if (snapshotIds.length <= LISTED_ONE_BY_ONE) {
    return snapshotIds.map((id) => shareCommand(id, region));
  }
  return [
    `for id in <the ${snapshotIds.length} snapshot ids of this change: npx hubfix show <change-id>>; do aws ec2 modify-snapshot-attribute --region ${region} --snapshot-id "$id" --attribute createVolumePermission --operation-type add --group-names all; done  # makes each public again; npx hubfix rollback <change-id> does the same`,
  ];
}

function restoreBlockPublicAccessCommand(state: BlockPublicAccessState, region: string): string {
  return state === 'unblocked'
    ? `aws ec2 disable-snapshot-block-public-access --region ${region}`
    : `aws ec2 enable-snapshot-block-public-access --region ${region} --state ${state}`;
}

export const ec2_1: Control<PublicSnapshotsState, Ec2_1Before, Ec2_1Params, Ec2_1Clients> = {
  ...ec2_1Meta,
  resource: accountResource(),
  before: ec2_1Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 }, params, deadline }) {
    const snapshots = await listPublicSnapshots(ec2);
    const blockPublicAccess =
      params.blockPublicAccess === 'off' ? undefined : await readBlockPublicAccess(ec2);
    return {
      kind: 'found',
      state: {
        account: ref.account,
        region: ref.region,
        snapshots,
        // Sized once, here, so that plan and verify agree on the batch.
        batchSize: Math.min(snapshots.length, batchSizeFor(deadline.remainingMs())),
        blockPublicAccess,
      },
      tags: {},
    };
  },

  plan(state, { params }) {
    const { account, region, snapshots } = state;
    const target = blockPublicAccessTarget(state, params);
    const current = state.blockPublicAccess ?? 'unblocked';
    if (snapshots.length === 0 && target === undefined) {
      const blocking =
        params.blockPublicAccess === 'off' ? '' : `; snapshot block public access is ${current}`;
      return {
        kind: 'compliant',
        summary: `no EBS snapshot of account ${account} in ${region} is public${blocking}`,
      };
    }
    const batch = batchOf(state);
    const left = snapshots.length - batch.length;
    const parts = [
      snapshots.length === 0
        ? ''
        : left > 0
          ? `make ${count(batch.length)} of ${count(snapshots.length)} public EBS snapshots private`
          : `make ${count(snapshots.length)} public EBS snapshot(s) private`,
      target ? `turn on snapshot block public access (${target})` : '',
    ].filter((part) => part !== '');
    const snapshotIds = batch.map((s) => s.snapshotId);
    const leftOver = left > 0 ? `; ${count(left)} left for the next invocations` : '';
    const batchSteps =
      batch.length <= LISTED_ONE_BY_ONE
        ? batch.map(
            (s) =>
              `make ${describeSnapshot(s)} private: remove the permission of group "all" to create volumes from it`,
          )
        : [
            `make ${count(batch.length)} snapshots private, at most ${MODIFY_SNAPSHOT_CALLS_PER_SECOND} a second: remove the permission of group "all" to create volumes from each of ${batch
              .slice(0, 3)
              .map(describeSnapshot)
              .join(
                ', ',
              )} and ${count(batch.length - 3)} more (every id is in the change's before-state)`,
          ];
    return {
      kind: 'change',
      summary: `${parts.join(' and ')} in account ${account}, ${region}${leftOver}`,
      ...(left > 0
        ? {
            remaining: `${count(left)} of the ${count(snapshots.length)} public snapshots are left for the next invocations: one invocation has time for ${count(batch.length)} at EC2's rate of ${MODIFY_SNAPSHOT_CALLS_PER_SECOND} ModifySnapshotAttribute calls a second`,
          }
        : {}),
      steps: [
        ...batchSteps,
        ...(target
          ? [
              `turn on snapshot block public access "${target}" in ${region} (now ${current}): ${
                target === 'block-all-sharing'
                  ? 'no snapshot of the account can be shared publicly, and any still public is treated as private'
                  : 'no snapshot of the account can be newly shared publicly'
              }`,
            ]
          : []),
        `check that ${left > 0 ? `none of these ${count(batch.length)} snapshots` : `no snapshot of the account in ${region}`} is restorable by everyone${
          params.blockPublicAccess === 'off'
            ? ''
            : ` and that block public access reads ${params.blockPublicAccess} or stronger`
        }`,
      ],
      before: {
        account,
        region,
        snapshotIds,
        ...(target ? { blockPublicAccess: { previous: current, applied: target } } : {}),
      },
      // Public sharing must be unblocked again before a snapshot can be re-shared.
      undo: [
        ...(target ? [restoreBlockPublicAccessCommand(current, region)] : []),
        ...shareCommands(snapshotIds, region),
      ],
    };
  },

  async preflight(state) {
    if (state.snapshots.length > 0 && state.batchSize === 0) {
      return [
        `this invocation has too little time left to make any of the ${state.snapshots.length} public snapshots private (it keeps ${AFTER_BATCH_RESERVE_MS / 1000} s to verify); the next one will`,
      ];
    }
    return [];
  },

  async apply(_state, plan, { clients: { ec2 }, clock, deadline }) {
    const { snapshotIds, blockPublicAccess, region } = plan.before;
    const madePrivate: string[] = [];
    const gone: string[] = [];
    const startedAt = clock.now();
    const blockState = blockPublicAccess
      ? `; snapshot block public access is still ${blockPublicAccess.previous}`
      : '';
    for (const [index, snapshotId] of snapshotIds.entries()) {
      await pace(clock, startedAt, index);
      if (!hasTimeForAnotherCall(deadline)) {
        throw new PartialChangeError(
          `the invocation ran short of time after ${index} of ${snapshotIds.length} snapshots`,
          `made private: ${madePrivate.length} (${someIds(madePrivate)}); still public: ${
            snapshotIds.length - index
          } of this change (${someIds(snapshotIds.slice(index))})${blockState}; the next invocation lists what is still public and goes on`,
        );
      }
      try {
        await ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
            OperationType: 'remove',
            GroupNames: ['all'],
          }),
        );
        madePrivate.push(snapshotId);
      } catch (error) {
        if (isGone(error)) {
          gone.push(snapshotId);
          continue;
        }
        throw new PartialChangeError(
          `making ${snapshotId} private failed: ${describeError(error)}`,
          `made private: ${madePrivate.length} (${someIds(madePrivate)}); still public: ${
            snapshotIds.length - index
          } of this change (${someIds(snapshotIds.slice(index))})${blockState}`,
          { cause: error },
        );
      }
    }
    const changes = snapshotChanges(madePrivate, gone);
    if (blockPublicAccess) {
      try {
        const { State } = await ec2.send(
          new EnableSnapshotBlockPublicAccessCommand({ State: blockPublicAccess.applied }),
        );
        if (State !== blockPublicAccess.applied) {
          throw new Error(`EC2 reported the state as ${State ?? 'missing'}`);
        }
      } catch (error) {
        throw new PartialChangeError(
          `turning on snapshot block public access in ${region} failed: ${describeError(error)}`,
          `made private: ${madePrivate.length} (${someIds(madePrivate)}); snapshot block public access is still ${blockPublicAccess.previous} (or unconfirmed)`,
          { cause: error },
        );
      }
      changes.push(
        `turned on snapshot block public access "${blockPublicAccess.applied}" in ${region} (was ${blockPublicAccess.previous})`,
      );
    }
    return { changes };
  },

  /** Checks this change's batch only: the snapshots left for later invocations are theirs to check. */
  async verify(state, { clients: { ec2 }, params, clock }) {
    const batch = new Set(batchOf(state).map((s) => s.snapshotId));
    return verifyEventually(clock, async () => {
      const stillPublic = (await listPublicSnapshots(ec2))
        .map((s) => s.snapshotId)
        .filter((id) => batch.has(id));
      if (stillPublic.length > 0) {
        return {
          ok: false,
          reason: `${stillPublic.length} snapshot(s) are still public in ${state.region}: ${someIds(stillPublic, 10)}`,
        };
      }
      if (params.blockPublicAccess !== 'off') {
        const now = await readBlockPublicAccess(ec2);
        if (strength(now) < strength(params.blockPublicAccess)) {
          return {
            ok: false,
            reason: `snapshot block public access reads ${now}, not ${params.blockPublicAccess}`,
          };
        }
      }
      return { ok: true };
    });
  },

  describeRollback(before) {
    const { account, region, snapshotIds, blockPublicAccess } = before;
    const calls: RollbackCall[] = [];
    if (
      blockPublicAccess &&
      (snapshotIds.length > 0 || blockPublicAccess.previous === 'unblocked')
    ) {
      calls.push({
        service: 'ec2',
        action: 'DisableSnapshotBlockPublicAccess',
        resource: account,
        parameters: {},
        grants: {
          what: `snapshots of account ${account} in ${region} may be shared publicly`,
          removed: 'snapshot block public access',
        },
      });
    }
    for (const snapshotId of snapshotIds) {
      calls.push({
        service: 'ec2',
        action: 'ModifySnapshotAttribute',
        resource: snapshotId,
        parameters: {
          SnapshotId: snapshotId,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          GroupNames: ['all'],
        },
        grants: { what: `anyone may create a volume from ${snapshotId}`, removed: snapshotId },
      });
    }
    if (blockPublicAccess && blockPublicAccess.previous !== 'unblocked') {
      calls.push({
        service: 'ec2',
        action: 'EnableSnapshotBlockPublicAccess',
        resource: account,
        parameters: { State: blockPublicAccess.previous },
      });
    }
    return { target: { resourceId: account, account, region }, calls };
  },

  async rollback(before, { clients: { ec2 } }) {
    const { region, snapshotIds, blockPublicAccess } = before;
    await assertRollbackRegion(ec2, region);
    const done: string[] = [];
    // Re-sharing is refused while public sharing is blocked: unblock first,
    // put the recorded state back last.
    if (
      blockPublicAccess &&
      (snapshotIds.length > 0 || blockPublicAccess.previous === 'unblocked')
    ) {
      await ec2.send(new DisableSnapshotBlockPublicAccessCommand({}));
      done.push(`turned snapshot block public access off in ${region}`);
    }
    for (const snapshotId of snapshotIds) {
      try {
        await ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
            OperationType: 'add',
            GroupNames: ['all'],
          }),
        );
        done.push(
          `made ${snapshotId} PUBLIC again: anyone can create a volume from it, as before hubfix's change`,
        );
      } catch (error) {
        if (isGone(error)) {
          done.push(`${snapshotId} no longer exists; nothing to restore`);
          continue;
        }
        throw new PartialChangeError(
          `making ${snapshotId} public again failed: ${describeError(error)}`,
          done.length > 0 ? `restored so far: ${someIds(done, 5)}` : 'nothing was restored',
          { cause: error },
        );
      }
    }
    if (blockPublicAccess && blockPublicAccess.previous !== 'unblocked') {
      try {
        await ec2.send(
          new EnableSnapshotBlockPublicAccessCommand({ State: blockPublicAccess.previous }),
        );
      } catch (error) {
        throw new PartialChangeError(
          `restoring snapshot block public access "${blockPublicAccess.previous}" failed: ${describeError(error)}`,
          `restored so far: ${someIds(done, 5)}`,
          { cause: error },
        );
      }
      done.push(
        `set snapshot block public access back to "${blockPublicAccess.previous}" in ${region}`,
      );
    }
    return done;
  },
};
