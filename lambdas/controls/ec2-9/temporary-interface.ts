/**
 * The manual procedure's way (seed 000, step 3) to drop an auto-assigned
 * public IPv4 address when EC2 refuses to turn it off directly.
 *
 * Why it works: associating an Elastic IP with the primary interface releases
 * the auto-assigned address, and disassociating it again leaves the instance
 * with no public address, but only while a second interface is attached
 * (with one interface EC2 hands out a fresh public address). Hence: attach a
 * temporary interface (unless a second one is already there), allocate an
 * Elastic IP, associate it with the PRIMARY interface, disassociate it,
 * release it, detach and delete the temporary interface.
 *
 * Work fits the invocation: the technique starts only when all of it, and
 * the cleanup of its longest failure, fits before the deadline; before each
 * step it checks again that the step and the cleanup of everything then held
 * still fit, and otherwise stops there. Whatever stops it, everything still
 * held is undone, in reverse, and anything that could not be removed is
 * named in the error so a person can. Both temporary resources carry
 * TEMPORARY_TAG (and TEMPORARY_UNTIL_TAG), so the next read of the instance
 * finds and removes what a killed invocation left (leftovers.ts).
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  type EC2Client,
  type NetworkInterface,
  ReleaseAddressCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { Clock } from '../../core/clock';
import { DELIVERY_RESERVE_MS, type Deadline } from '../../core/deadline';
import { describeError, PartialChangeError } from '../../core/errors';
import { bound, type Polling, poll } from '../../services/wait';
import { TEMPORARY_TAG, TEMPORARY_UNTIL_TAG } from './meta';

/** What the technique and the leftover cleanup wait on, and until when. */
export interface Work {
  readonly clock: Clock;
  readonly deadline: Deadline;
}

/** What one EC2 call may take, the SDK's retries included, in the time budget. */
export const CALL_MS = 5_000;

/** Network interface attach and detach usually settle in seconds. */
export const INTERFACE_POLLING: Polling = { attempts: 30, intervalMs: 2_000 };

/** An attach or detach wait at its longest: the polling's sleeps and its describe calls. */
export const INTERFACE_WAIT_MS =
  (INTERFACE_POLLING.attempts - 1) * INTERFACE_POLLING.intervalMs +
  INTERFACE_POLLING.attempts * 500;

/**
 * The technique at its longest: eight calls and two interface waits when
 * all goes well; the worst failure is the last wait running out, after
 * which the cleanup asks for the detach again, waits again and deletes.
 */
export const TECHNIQUE_MS = 10 * CALL_MS + 3 * INTERFACE_WAIT_MS;

/** Without a temporary interface: four calls, and a disassociate and release to clean up. */
export const TECHNIQUE_WITHOUT_INTERFACE_MS = 6 * CALL_MS;

/** Lambda's longest invocation: the latest a run without a deadline can still be going. */
const MAX_INVOCATION_MS = 15 * 60_000;

export interface FallbackTarget {
  readonly instanceId: string;
  /** The primary interface (device index 0), which holds the public address. */
  readonly networkInterfaceId: string;
  readonly privateIpAddress: string;
  readonly publicIp: string;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  /** Device indexes of the interfaces attached now. */
  readonly deviceIndexes: readonly number[];
}

/** Temporary resources that exist and have not been removed yet. */
export interface Held {
  interfaceId?: string;
  attachmentId?: string;
  /** The detach was asked for already: wait for it rather than ask again. */
  detaching?: boolean;
  allocationId?: string;
  elasticIp?: string;
  associationId?: string;
}

/** Gone already counts as removed: a retry after a lost response must not fail. */
const ALREADY_GONE = new Set([
  'InvalidAssociationID.NotFound',
  'InvalidAllocationID.NotFound',
  'InvalidAttachmentID.NotFound',
  'InvalidNetworkInterfaceID.NotFound',
]);

/** A second attached interface already keeps EC2 from handing out a new address. */
export function needsTemporaryInterface(target: FallbackTarget): boolean {
  return target.deviceIndexes.length < 2;
}

export function freeDeviceIndex(used: readonly number[]): number {
  let index = 1;
  while (used.includes(index)) index += 1;
  return index;
}

export function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

/** The technique's tags: whose it is, and until when its maker may still be running. */
export function temporaryTags(instanceId: string, work: Work): Tag[] {
  const left = work.deadline.remainingMs();
  // Lambda stops the invocation DELIVERY_RESERVE_MS after the deadline a control sees.
  const endsIn = Number.isFinite(left)
    ? Math.min(left + DELIVERY_RESERVE_MS, MAX_INVOCATION_MS)
    : MAX_INVOCATION_MS;
  return [
    { Key: TEMPORARY_TAG, Value: instanceId },
    { Key: TEMPORARY_UNTIL_TAG, Value: new Date(work.clock.now() + endsIn).toISOString() },
  ];
}

/** How long undoing everything in `held` may take. */
export function cleanupMs(held: Held): number {
  return (
    (held.associationId === undefined ? 0 : CALL_MS) +
    (held.allocationId === undefined ? 0 : CALL_MS) +
    (held.attachmentId === undefined ? 0 : CALL_MS + INTERFACE_WAIT_MS) +
    (held.interfaceId === undefined ? 0 : CALL_MS)
  );
}

async function unlessGone(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Error && ALREADY_GONE.has(error.name))) throw error;
  }
}

async function interfaceNow(ec2: EC2Client, id: string): Promise<NetworkInterface | undefined> {
  const response = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }),
  );
  return response.NetworkInterfaces?.[0];
}

async function disassociate(ec2: EC2Client, held: Held): Promise<void> {
  const { associationId } = held;
  if (associationId === undefined) return;
  await unlessGone(() =>
    ec2.send(new DisassociateAddressCommand({ AssociationId: associationId })),
  );
  held.associationId = undefined;
}

async function release(ec2: EC2Client, held: Held): Promise<void> {
  const { allocationId } = held;
  if (allocationId === undefined) return;
  await unlessGone(() => ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId })));
  held.allocationId = undefined;
}

async function detach(ec2: EC2Client, held: Held, work: Work): Promise<void> {
  const { attachmentId, interfaceId } = held;
  if (attachmentId === undefined || interfaceId === undefined) return;
  if (!held.detaching) {
    await unlessGone(() =>
      ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId })),
    );
    held.detaching = true;
  }
  // An interface can only be deleted once it is fully detached ("available").
  const detached = await poll(work.clock, INTERFACE_POLLING, async () => {
    const now = await interfaceNow(ec2, interfaceId);
    return now === undefined || now.Status === 'available';
  });
  if (!detached) {
    throw new Error(`${interfaceId} was still not detached after ${bound(INTERFACE_POLLING)}`);
  }
  held.attachmentId = undefined;
  held.detaching = false;
}

async function remove(ec2: EC2Client, held: Held): Promise<void> {
  const { interfaceId } = held;
  if (interfaceId === undefined) return;
  await unlessGone(() =>
    ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: interfaceId })),
  );
  held.interfaceId = undefined;
}

/**
 * Undoes whatever is still held, in reverse order, trying every part. An
 * Elastic IP that is still associated cannot be released, and an interface
 * that is still attached cannot be deleted: those are left and reported.
 * The address goes first: while the temporary interface is still attached,
 * taking the address off the primary interface gets the instance no new one.
 * @returns what failed, one line each; empty when nothing is left.
 */
export async function cleanUp(ec2: EC2Client, held: Held, work: Work): Promise<string[]> {
  const problems: string[] = [];
  async function attempt(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      problems.push(`${what}: ${describeError(error)}`);
    }
  }
  if (held.associationId !== undefined) {
    await attempt(`disassociating ${held.allocationId ?? held.associationId}`, () =>
      disassociate(ec2, held),
    );
  }
  if (held.allocationId !== undefined && held.associationId === undefined) {
    await attempt(`releasing ${held.allocationId}`, () => release(ec2, held));
  }
  if (held.attachmentId !== undefined) {
    await attempt(`detaching ${held.interfaceId}`, () => detach(ec2, held, work));
  }
  if (held.interfaceId !== undefined && held.attachmentId === undefined) {
    await attempt(`deleting ${held.interfaceId}`, () => remove(ec2, held));
  }
  return problems;
}

export function leftBehind(held: Held): string[] {
  const left: string[] = [];
  if (held.allocationId !== undefined) {
    left.push(`Elastic IP ${held.elasticIp ?? '?'} (${held.allocationId})`);
  }
  if (held.interfaceId !== undefined) left.push(`network interface ${held.interfaceId}`);
  return left;
}

/** What a person runs to remove what is still held, in order. */
export function manualCleanup(held: Held, instanceId: string): string[] {
  const steps: string[] = [];
  if (held.associationId !== undefined) {
    steps.push(
      `temporary Elastic IP ${held.elasticIp ?? '?'} (${held.allocationId ?? '?'}, association ${held.associationId}) is still associated with ${instanceId}'s primary interface, so ${instanceId} is public at that address: run aws ec2 disassociate-address --association-id ${held.associationId}`,
    );
  }
  if (held.allocationId !== undefined) {
    steps.push(
      `temporary Elastic IP ${held.elasticIp ?? '?'} is still allocated: once disassociated, run aws ec2 release-address --allocation-id ${held.allocationId}`,
    );
  }
  if (held.attachmentId !== undefined && held.interfaceId !== undefined) {
    steps.push(
      `temporary network interface ${held.interfaceId} is still attached to ${instanceId}: run aws ec2 detach-network-interface --attachment-id ${held.attachmentId}, then aws ec2 delete-network-interface --network-interface-id ${held.interfaceId}`,
    );
  } else if (held.interfaceId !== undefined) {
    steps.push(
      `temporary network interface ${held.interfaceId} still exists: run aws ec2 delete-network-interface --network-interface-id ${held.interfaceId}`,
    );
  }
  return steps;
}

function stateLeft(target: FallbackTarget, held: Held, associated: boolean): string {
  const { instanceId, publicIp } = target;
  const parts: string[] = [];
  if (!associated) {
    parts.push(`${instanceId} still has its public IPv4 address ${publicIp}`);
  } else if (held.associationId !== undefined) {
    parts.push(`the auto-assigned address ${publicIp} is gone for good`);
  } else {
    parts.push(
      `the auto-assigned address ${publicIp} is gone for good and the temporary Elastic IP was disassociated, so ${instanceId} should have no public IPv4 address (not verified)`,
    );
  }
  parts.push(...manualCleanup(held, instanceId));
  if (leftBehind(held).length === 0) {
    parts.push('no temporary network interface or Elastic IP was left behind');
  } else {
    parts.push(
      `hubfix removes what is left, tagged ${TEMPORARY_TAG}=${instanceId}, the next time it reads ${instanceId}`,
    );
  }
  return parts.join('; ');
}

/** The whole technique, cleanup included, for this target. */
export function techniqueMs(target: FallbackTarget): number {
  return needsTemporaryInterface(target) ? TECHNIQUE_MS : TECHNIQUE_WITHOUT_INTERFACE_MS;
}

/**
 * @returns what was done, one line per step.
 * @throws PartialChangeError without changing anything when the technique
 *   cannot finish before the deadline; after cleaning up when a step fails
 *   or time runs short, saying what failed, whether the auto-assigned
 *   address is gone, and anything left behind by id.
 */
export async function releaseWithTemporaryElasticIp(
  ec2: EC2Client,
  target: FallbackTarget,
  work: Work,
  /** What the caller still needs once the technique is done (its verification). */
  afterMs = 0,
): Promise<string[]> {
  const { instanceId, networkInterfaceId: primary } = target;
  const whole = techniqueMs(target) + afterMs;
  const left = work.deadline.remainingMs();
  if (left < whole) {
    throw new PartialChangeError(
      `not enough time left in this invocation for the temporary Elastic IP technique: with its cleanup and the check that follows it needs up to ${seconds(whole)}, and ${seconds(left)} are left`,
      `unchanged: ${instanceId} still has its public IPv4 address ${target.publicIp}, and nothing temporary was made. Run Remediate again: a new invocation has its full time`,
    );
  }
  const held: Held = {};
  const done: string[] = [];
  let associated = false;
  let current = '';
  /** Starts a step only when it and the cleanup of what is then held still fit. */
  function begin(what: string, stepMs: number, adds: Held = {}): void {
    current = what;
    const needed = stepMs + cleanupMs({ ...held, ...adds });
    const remaining = work.deadline.remainingMs();
    if (remaining < needed) {
      throw new Error(
        `not enough time left in this invocation: it needs up to ${seconds(needed)} with the cleanup, and ${seconds(remaining)} are left`,
      );
    }
  }
  const tags = temporaryTags(instanceId, work);
  try {
    if (needsTemporaryInterface(target)) {
      begin(`creating a temporary network interface in ${target.subnetId}`, CALL_MS, {
        interfaceId: '?',
      });
      const created = await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: target.subnetId,
          Groups: [...target.securityGroupIds],
          Description: `hubfix EC2.9: temporary interface for ${instanceId}; safe to delete once detached`,
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags }],
        }),
      );
      const interfaceId = created.NetworkInterface?.NetworkInterfaceId;
      if (!interfaceId) throw new Error('EC2 returned no network interface id');
      held.interfaceId = interfaceId;
      done.push(`created temporary network interface ${interfaceId} in ${target.subnetId}`);

      const deviceIndex = freeDeviceIndex(target.deviceIndexes);
      begin(`attaching ${interfaceId} to ${instanceId}`, CALL_MS, { attachmentId: '?' });
      const attached = await ec2.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: interfaceId,
          InstanceId: instanceId,
          DeviceIndex: deviceIndex,
        }),
      );
      if (!attached.AttachmentId) throw new Error('EC2 returned no attachment id');
      held.attachmentId = attached.AttachmentId;
      begin(`waiting for ${interfaceId} to be attached`, INTERFACE_WAIT_MS);
      // Disassociating before the second interface is attached would get
      // the instance a fresh public address.
      const ready = await poll(
        work.clock,
        INTERFACE_POLLING,
        async () => (await interfaceNow(ec2, interfaceId))?.Attachment?.Status === 'attached',
      );
      if (!ready) throw new Error(`still not attached after ${bound(INTERFACE_POLLING)}`);
      done.push(`attached ${interfaceId} to ${instanceId} as device ${deviceIndex}`);
    }

    begin('allocating a temporary Elastic IP', CALL_MS, { allocationId: '?' });
    const allocated = await ec2.send(
      new AllocateAddressCommand({
        Domain: 'vpc',
        TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: tags }],
      }),
    );
    if (!allocated.AllocationId) throw new Error('EC2 returned no allocation id');
    held.allocationId = allocated.AllocationId;
    held.elasticIp = allocated.PublicIp;
    done.push(
      `allocated temporary Elastic IP ${allocated.PublicIp ?? '?'} (${allocated.AllocationId})`,
    );

    begin(`associating ${allocated.AllocationId} with ${primary}`, CALL_MS, {
      associationId: '?',
    });
    const association = await ec2.send(
      new AssociateAddressCommand({
        AllocationId: allocated.AllocationId,
        NetworkInterfaceId: primary,
        PrivateIpAddress: target.privateIpAddress,
        AllowReassociation: false,
      }),
    );
    if (!association.AssociationId) throw new Error('EC2 returned no association id');
    held.associationId = association.AssociationId;
    associated = true;
    done.push(
      `associated it with ${primary}, which released the auto-assigned address ${target.publicIp}`,
    );

    begin(`disassociating ${allocated.AllocationId} from ${primary}`, CALL_MS);
    await disassociate(ec2, held);
    done.push(`disassociated ${allocated.AllocationId} from ${primary}`);

    begin(`releasing ${allocated.AllocationId}`, CALL_MS);
    await release(ec2, held);
    done.push(`released ${allocated.AllocationId}`);

    const { interfaceId } = held;
    if (interfaceId !== undefined) {
      begin(`detaching ${interfaceId}`, CALL_MS + INTERFACE_WAIT_MS);
      await detach(ec2, held, work);
      done.push(`detached ${interfaceId}`);
      begin(`deleting ${interfaceId}`, CALL_MS);
      await remove(ec2, held);
      done.push(`deleted ${interfaceId}`);
    }
    return done;
  } catch (error) {
    const problems = await cleanUp(ec2, held, work);
    const remaining = leftBehind(held);
    const message = [
      `the temporary Elastic IP technique failed while ${current}: ${describeError(error)}`,
      problems.length > 0 ? `cleaning up failed too (${problems.join('; ')})` : undefined,
      remaining.length > 0 ? `left behind: ${remaining.join(' and ')}` : undefined,
    ]
      .filter((part): part is string => part !== undefined)
      .join('; ');
    throw new PartialChangeError(message, stateLeft(target, held, associated), {
      cause: error,
      changes: done,
    });
  }
}
