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
import type { Control, RollbackCall } from '../../core/control';
import { describeError, PartialChangeError } from '../../core/errors';
import { accountResource } from '../../core/resource';
import { array, type Infer, object, oneOf, optional, string } from '../../core/schema';
import { assertRollbackRegion } from '../../services/ec2/region';
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
  readonly snapshots: readonly PublicSnapshot[];
  /** Read only when the control is configured to turn block public access on. */
  readonly blockPublicAccess: BlockPublicAccessState | undefined;
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

/** The account's own snapshots that anyone may restore, across every page. */
async function listPublicSnapshots(ec2: EC2Client): Promise<PublicSnapshot[]> {
  const snapshots: PublicSnapshot[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        RestorableByUserIds: ['all'],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    for (const snapshot of page.Snapshots ?? []) {
      const recorded = record(snapshot);
      if (recorded) snapshots.push(recorded);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return snapshots;
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

function restoreBlockPublicAccessCommand(state: BlockPublicAccessState, region: string): string {
  return state === 'unblocked'
    ? `aws ec2 disable-snapshot-block-public-access --region ${region}`
    : `aws ec2 enable-snapshot-block-public-access --region ${region} --state ${state}`;
}

function listed(ids: readonly string[]): string {
  return ids.length > 0 ? ids.join(', ') : 'none';
}

export const ec2_1: Control<PublicSnapshotsState, Ec2_1Before, Ec2_1Params, Ec2_1Clients> = {
  ...ec2_1Meta,
  resource: accountResource(),
  before: ec2_1Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 }, params }) {
    const snapshots = await listPublicSnapshots(ec2);
    const blockPublicAccess =
      params.blockPublicAccess === 'off' ? undefined : await readBlockPublicAccess(ec2);
    return {
      kind: 'found',
      state: { account: ref.account, region: ref.region, snapshots, blockPublicAccess },
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
    const parts = [
      snapshots.length > 0 ? `make ${snapshots.length} public EBS snapshot(s) private` : '',
      target ? `turn on snapshot block public access (${target})` : '',
    ].filter((part) => part !== '');
    const snapshotIds = snapshots.map((s) => s.snapshotId);
    return {
      kind: 'change',
      summary: `${parts.join(' and ')} in account ${account}, ${region}`,
      steps: [
        ...snapshots.map(
          (s) =>
            `make ${describeSnapshot(s)} private: remove the permission of group "all" to create volumes from it`,
        ),
        ...(target
          ? [
              `turn on snapshot block public access "${target}" in ${region} (now ${current}): ${
                target === 'block-all-sharing'
                  ? 'no snapshot of the account can be shared publicly, and any still public is treated as private'
                  : 'no snapshot of the account can be newly shared publicly'
              }`,
            ]
          : []),
        `check that no snapshot of the account in ${region} is restorable by everyone${
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
        ...snapshotIds.map((id) => shareCommand(id, region)),
      ],
    };
  },

  async preflight() {
    return [];
  },

  async apply(_state, plan, { clients: { ec2 } }) {
    const { snapshotIds, blockPublicAccess, region } = plan.before;
    const changes: string[] = [];
    const madePrivate: string[] = [];
    for (const [index, snapshotId] of snapshotIds.entries()) {
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
        changes.push(`made ${snapshotId} private (group "all" may no longer restore it)`);
      } catch (error) {
        if (isGone(error)) {
          changes.push(`${snapshotId} no longer existed; nothing to do`);
          continue;
        }
        throw new PartialChangeError(
          `making ${snapshotId} private failed: ${describeError(error)}`,
          `made private: ${listed(madePrivate)}; still public: ${listed(snapshotIds.slice(index))}${
            blockPublicAccess
              ? `; snapshot block public access is still ${blockPublicAccess.previous}`
              : ''
          }`,
          { cause: error },
        );
      }
    }
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
          `made private: ${listed(madePrivate)}; snapshot block public access is still ${blockPublicAccess.previous} (or unconfirmed)`,
          { cause: error },
        );
      }
      changes.push(
        `turned on snapshot block public access "${blockPublicAccess.applied}" in ${region} (was ${blockPublicAccess.previous})`,
      );
    }
    return { changes };
  },

  async verify(state, { clients: { ec2 }, params }) {
    const left = await listPublicSnapshots(ec2);
    if (left.length > 0) {
      return {
        ok: false,
        reason: `${left.length} snapshot(s) are still public in ${state.region}: ${left
          .map((s) => s.snapshotId)
          .join(', ')}`,
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
          done.length > 0 ? `restored so far: ${done.join('; ')}` : 'nothing was restored',
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
          `restored so far: ${done.join('; ') || 'nothing'}`,
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
