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
 * Whatever fails, everything still held is undone, in reverse, and anything
 * that could not be removed is named in the error so a person can. Both
 * temporary resources carry the TEMPORARY_TAG, so leftovers can be found.
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
} from '@aws-sdk/client-ec2';
import { describeError, PartialChangeError } from '../../core/errors';
import { bound, type Polling, poll, systemClock } from '../../services/wait';
import { TEMPORARY_TAG } from './meta';

/** Network interface attach and detach usually settle in seconds. */
export const INTERFACE_POLLING: Polling = { attempts: 30, intervalMs: 2_000 };

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

/** What exists now because of this technique and has not been removed yet. */
interface Held {
  interfaceId?: string;
  attachmentId?: string;
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

async function detach(ec2: EC2Client, held: Held): Promise<void> {
  const { attachmentId, interfaceId } = held;
  if (attachmentId === undefined || interfaceId === undefined) return;
  await unlessGone(() =>
    ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId })),
  );
  // An interface can only be deleted once it is fully detached ("available").
  const detached = await poll(
    systemClock,
    INTERFACE_POLLING,
    async () => (await interfaceNow(ec2, interfaceId))?.Status === 'available',
  );
  if (!detached) {
    throw new Error(`${interfaceId} was still not detached after ${bound(INTERFACE_POLLING)}`);
  }
  held.attachmentId = undefined;
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
 */
async function cleanUp(ec2: EC2Client, held: Held): Promise<string[]> {
  const problems: string[] = [];
  async function attempt(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      problems.push(`${what}: ${describeError(error)}`);
    }
  }
  if (held.associationId !== undefined) {
    await attempt(`disassociating ${held.allocationId}`, () => disassociate(ec2, held));
  }
  if (held.allocationId !== undefined && held.associationId === undefined) {
    await attempt(`releasing ${held.allocationId}`, () => release(ec2, held));
  }
  if (held.attachmentId !== undefined) {
    await attempt(`detaching ${held.interfaceId}`, () => detach(ec2, held));
  }
  if (held.interfaceId !== undefined && held.attachmentId === undefined) {
    await attempt(`deleting ${held.interfaceId}`, () => remove(ec2, held));
  }
  return problems;
}

function leftBehind(held: Held): string[] {
  const left: string[] = [];
  if (held.allocationId !== undefined) {
    left.push(`Elastic IP ${held.elasticIp ?? '?'} (${held.allocationId})`);
  }
  if (held.interfaceId !== undefined) left.push(`network interface ${held.interfaceId}`);
  return left;
}

function stateLeft(target: FallbackTarget, held: Held, associated: boolean): string {
  const { instanceId, publicIp } = target;
  const parts: string[] = [];
  if (!associated) {
    parts.push(`${instanceId} still has its public IPv4 address ${publicIp}`);
  } else if (held.associationId !== undefined) {
    parts.push(
      `the auto-assigned address ${publicIp} is gone for good, but temporary Elastic IP ${held.elasticIp ?? '?'} (${held.allocationId ?? '?'}, association ${held.associationId}) is still associated with ${target.networkInterfaceId}, so ${instanceId} is public at that address: run aws ec2 disassociate-address --association-id ${held.associationId}`,
    );
  } else {
    parts.push(
      `the auto-assigned address ${publicIp} is gone for good and the temporary Elastic IP was disassociated, so ${instanceId} should have no public IPv4 address (not verified)`,
    );
  }
  if (held.allocationId !== undefined) {
    parts.push(
      `temporary Elastic IP ${held.elasticIp ?? '?'} is still allocated: once disassociated, run aws ec2 release-address --allocation-id ${held.allocationId}`,
    );
  }
  if (held.attachmentId !== undefined && held.interfaceId !== undefined) {
    parts.push(
      `temporary network interface ${held.interfaceId} is still attached to ${instanceId}: run aws ec2 detach-network-interface --attachment-id ${held.attachmentId}, then aws ec2 delete-network-interface --network-interface-id ${held.interfaceId}`,
    );
  } else if (held.interfaceId !== undefined) {
    parts.push(
      `temporary network interface ${held.interfaceId} still exists: run aws ec2 delete-network-interface --network-interface-id ${held.interfaceId}`,
    );
  }
  if (leftBehind(held).length === 0) {
    parts.push('no temporary network interface or Elastic IP was left behind');
  }
  return parts.join('; ');
}

/**
 * @returns what was done, one line per step.
 * @throws PartialChangeError after cleaning up, saying what failed, whether
 *   the auto-assigned address is gone, and anything left behind by id.
 */
export async function releaseWithTemporaryElasticIp(
  ec2: EC2Client,
  target: FallbackTarget,
): Promise<string[]> {
  const { instanceId, networkInterfaceId: primary } = target;
  const held: Held = {};
  const done: string[] = [];
  let associated = false;
  let current = '';
  try {
    if (needsTemporaryInterface(target)) {
      current = `creating a temporary network interface in ${target.subnetId}`;
      const created = await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: target.subnetId,
          Groups: [...target.securityGroupIds],
          Description: `hubfix EC2.9: temporary interface for ${instanceId}; safe to delete once detached`,
          TagSpecifications: [
            {
              ResourceType: 'network-interface',
              Tags: [{ Key: TEMPORARY_TAG, Value: instanceId }],
            },
          ],
        }),
      );
      const interfaceId = created.NetworkInterface?.NetworkInterfaceId;
      if (!interfaceId) throw new Error('EC2 returned no network interface id');
      held.interfaceId = interfaceId;
      done.push(`created temporary network interface ${interfaceId} in ${target.subnetId}`);

      const deviceIndex = freeDeviceIndex(target.deviceIndexes);
      current = `attaching ${interfaceId} to ${instanceId}`;
      const attached = await ec2.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: interfaceId,
          InstanceId: instanceId,
          DeviceIndex: deviceIndex,
        }),
      );
      if (!attached.AttachmentId) throw new Error('EC2 returned no attachment id');
      held.attachmentId = attached.AttachmentId;
      current = `waiting for ${interfaceId} to be attached`;
      // Disassociating before the second interface is attached would get
      // the instance a fresh public address.
      const ready = await poll(
        systemClock,
        INTERFACE_POLLING,
        async () => (await interfaceNow(ec2, interfaceId))?.Attachment?.Status === 'attached',
      );
      if (!ready) throw new Error(`still not attached after ${bound(INTERFACE_POLLING)}`);
      done.push(`attached ${interfaceId} to ${instanceId} as device ${deviceIndex}`);
    }

    current = 'allocating a temporary Elastic IP';
    const allocated = await ec2.send(
      new AllocateAddressCommand({
        Domain: 'vpc',
        TagSpecifications: [
          { ResourceType: 'elastic-ip', Tags: [{ Key: TEMPORARY_TAG, Value: instanceId }] },
        ],
      }),
    );
    if (!allocated.AllocationId) throw new Error('EC2 returned no allocation id');
    held.allocationId = allocated.AllocationId;
    held.elasticIp = allocated.PublicIp;
    done.push(
      `allocated temporary Elastic IP ${allocated.PublicIp ?? '?'} (${allocated.AllocationId})`,
    );

    current = `associating ${allocated.AllocationId} with ${primary}`;
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

    current = `disassociating ${allocated.AllocationId} from ${primary}`;
    await disassociate(ec2, held);
    done.push(`disassociated ${allocated.AllocationId} from ${primary}`);

    current = `releasing ${allocated.AllocationId}`;
    await release(ec2, held);
    done.push(`released ${allocated.AllocationId}`);

    const { interfaceId } = held;
    if (interfaceId !== undefined) {
      current = `detaching ${interfaceId}`;
      await detach(ec2, held);
      done.push(`detached ${interfaceId}`);
      current = `deleting ${interfaceId}`;
      await remove(ec2, held);
      done.push(`deleted ${interfaceId}`);
    }
    return done;
  } catch (error) {
    const problems = await cleanUp(ec2, held);
    const left = leftBehind(held);
    const message = [
      `the temporary Elastic IP technique failed while ${current}: ${describeError(error)}`,
      problems.length > 0 ? `cleaning up failed too (${problems.join('; ')})` : undefined,
      left.length > 0 ? `left behind: ${left.join(' and ')}` : undefined,
    ]
      .filter((part): part is string => part !== undefined)
      .join('; ');
    throw new PartialChangeError(message, stateLeft(target, held, associated), { cause: error });
  }
}
