/**
 * What the registry and the function both need to know about EC2.9, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { boolean, type Infer, integer, object, optional } from '../../core/schema';

/** The longest settle watch the function's timeout leaves room for, with everything else. */
export const MAX_SETTLE_SECONDS = 300;

export const ec2_9Params = object({
  /**
   * Also turn off "auto-assign public IPv4 address" on the instance's subnet
   * (step 4 of the manual procedure), so the next instance launched there
   * does not get one. Off by default: it changes every later launch in the
   * subnet, not just this instance. Recorded for rollback.
   */
  disableSubnetAutoAssign: optional(boolean(), false),
  /**
   * How long verify keeps watching a running instance after its Elastic IP
   * was disassociated (or while its primary interface may still auto-assign
   * an address): EC2 hands such an instance a new public IPv4 address within
   * minutes, not at once, so one look right after the change proves nothing.
   */
  settleSeconds: optional(integer({ min: 5, max: MAX_SETTLE_SECONDS }), 180),
});

export type Ec2_9Params = Infer<typeof ec2_9Params>;

/**
 * Tag key on the temporary interface and Elastic IP, valued with the
 * instance id: a person can find leftovers by it, the function finds and
 * removes them on its next read of that instance, and its role may delete or
 * release only resources that carry it.
 */
export const TEMPORARY_TAG = 'hubfix:temporary';

/**
 * Tag key on the same resources, valued with the ISO time by which the
 * invocation that made them has ended for sure. Until then they are another
 * invocation's work in progress, not leftovers.
 */
export const TEMPORARY_UNTIL_TAG = 'hubfix:temporary-until';

export const ec2_9Meta = {
  id: 'EC2.9',
  title: 'Amazon EC2 instances should not have a public IPv4 address',
  notifyOnly: false,
  params: ec2_9Params,
} as const;
