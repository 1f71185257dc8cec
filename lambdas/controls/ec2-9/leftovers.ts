/**
 * What an interrupted EC2.9 run left behind: the temporary network interface
 * and Elastic IP of the temporary Elastic IP technique, found by their tag
 * (TEMPORARY_TAG valued with the instance id). Lambda can stop a function
 * between any two calls, and nothing runs after that, so the next read of
 * the instance is where they are found and removed, before anything else is
 * judged: a temporary Elastic IP on the primary interface must never be
 * taken for the owner's.
 *
 * TEMPORARY_UNTIL_TAG says until when the invocation that made a resource
 * may still be running; before then it is another invocation's work in
 * progress (a second finding for the same instance, say) and is left alone.
 * A resource without that tag, or with one that cannot be read, counts as
 * left behind.
 */
import {
  type Address,
  DescribeNetworkInterfacesCommand,
  type EC2Client,
  type NetworkInterface,
  type Tag,
} from '@aws-sdk/client-ec2';
import { PartialChangeError } from '../../core/errors';
import { tagsOf } from '../../services/ec2/tags';
import { collectAll } from '../../services/paging';
import { TEMPORARY_TAG, TEMPORARY_UNTIL_TAG } from './meta';
import {
  cleanUp,
  cleanupMs,
  type Held,
  manualCleanup,
  seconds,
  type Work,
} from './temporary-interface';

export interface Leftover {
  /** For people: "temporary Elastic IP 3.80.0.1 (eipalloc-…), associated with eni-…". */
  readonly what: string;
  /** Epoch ms by which its maker has ended; undefined when the tag is missing or unreadable. */
  readonly until: number | undefined;
  readonly held: Held;
}

export function isTemporary(tags: readonly Tag[] | undefined): boolean {
  return tagsOf(tags)[TEMPORARY_TAG] !== undefined;
}

function untilOf(tags: readonly Tag[] | undefined): number | undefined {
  const value = tagsOf(tags)[TEMPORARY_UNTIL_TAG];
  const until = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isNaN(until) ? undefined : until;
}

/** The instance's temporary Elastic IPs, from every address of the account. */
export function temporaryAddresses(addresses: readonly Address[], instanceId: string): Leftover[] {
  return addresses.flatMap((address) => {
    if (tagsOf(address.Tags)[TEMPORARY_TAG] !== instanceId || !address.AllocationId) return [];
    const where = address.NetworkInterfaceId ?? address.InstanceId;
    return [
      {
        what: `temporary Elastic IP ${address.PublicIp ?? '?'} (${address.AllocationId})${
          address.AssociationId ? `, associated with ${where ?? '?'}` : ''
        }`,
        until: untilOf(address.Tags),
        held: {
          allocationId: address.AllocationId,
          elasticIp: address.PublicIp,
          ...(address.AssociationId ? { associationId: address.AssociationId } : {}),
        },
      },
    ];
  });
}

function interfaceLeftover(eni: NetworkInterface): Leftover[] {
  const id = eni.NetworkInterfaceId;
  if (!id) return [];
  const attachment = eni.Attachment;
  const attached =
    eni.Status !== 'available' &&
    attachment?.AttachmentId !== undefined &&
    attachment.Status !== 'detached';
  return [
    {
      what: `temporary network interface ${id}${
        attached ? `, attached to ${attachment?.InstanceId ?? '?'}` : ''
      }`,
      until: untilOf(eni.TagSet),
      held: {
        interfaceId: id,
        ...(attached && attachment?.AttachmentId
          ? { attachmentId: attachment.AttachmentId, detaching: attachment.Status === 'detaching' }
          : {}),
      },
    },
  ];
}

/** The instance's temporary interfaces: a filtered describe, so read to the last page. */
export async function temporaryInterfaces(ec2: EC2Client, instanceId: string): Promise<Leftover[]> {
  const interfaces = await collectAll(async (nextToken) => {
    const page = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: `tag:${TEMPORARY_TAG}`, Values: [instanceId] }],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    return { items: page.NetworkInterfaces ?? [], nextToken: page.NextToken };
  });
  return interfaces.flatMap(interfaceLeftover);
}

/** The latest time another invocation may still be using one of them, if any is in use. */
export function inUseUntil(leftovers: readonly Leftover[], now: number): number | undefined {
  const until = leftovers.flatMap((l) => (l.until !== undefined && l.until > now ? [l.until] : []));
  return until.length === 0 ? undefined : Math.max(...until);
}

/**
 * Removes each leftover, Elastic IPs before interfaces (see cleanUp), and
 * starts none whose removal cannot finish before the deadline.
 * @returns what was removed, one line each.
 * @throws PartialChangeError naming what was removed and what is left, with
 *   the commands that remove the rest.
 */
export async function removeLeftovers(
  ec2: EC2Client,
  leftovers: readonly Leftover[],
  instanceId: string,
  work: Work,
): Promise<string[]> {
  const ordered = [
    ...leftovers.filter((l) => l.held.allocationId !== undefined),
    ...leftovers.filter((l) => l.held.allocationId === undefined),
  ];
  const removed: string[] = [];
  for (const [index, leftover] of ordered.entries()) {
    const held: Held = { ...leftover.held };
    const needed = cleanupMs(held);
    const left = work.deadline.remainingMs();
    let problem: string | undefined;
    if (left < needed) {
      problem = `not enough time left in this invocation to remove it (up to ${seconds(needed)}; ${seconds(left)} left)`;
    } else {
      const problems = await cleanUp(ec2, held, work);
      if (problems.length > 0) problem = problems.join('; ');
    }
    if (problem === undefined) {
      removed.push(`removed hubfix's ${leftover.what}, left by an interrupted run`);
      continue;
    }
    const rest = ordered.slice(index + 1).flatMap((l) => manualCleanup(l.held, instanceId));
    const remaining = [
      ...removed,
      ...manualCleanup(held, instanceId),
      ...rest,
      `hubfix tries again the next time it reads ${instanceId}`,
    ].join('; ');
    // The pipeline reports a failed read by its message alone: it carries what is left too.
    throw new PartialChangeError(
      `hubfix could not remove its ${leftover.what}, left by an interrupted run: ${problem}. What is left: ${remaining}`,
      remaining,
    );
  }
  return removed;
}

/** For logs: what leftovers were found, in one line. */
export function describeLeftovers(leftovers: readonly Leftover[]): string {
  return leftovers.map((l) => l.what).join('; ');
}
