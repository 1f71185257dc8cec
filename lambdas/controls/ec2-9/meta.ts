/**
 * What the registry and the function both need to know about EC2.9, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { boolean, type Infer, object, optional } from '../../core/schema';

export const ec2_9Params = object({
  /**
   * Also turn off "auto-assign public IPv4 address" on the instance's subnet
   * (step 4 of the manual procedure), so the next instance launched there
   * does not get one. Off by default: it changes every later launch in the
   * subnet, not just this instance. Recorded for rollback.
   */
  disableSubnetAutoAssign: optional(boolean(), false),
});

export type Ec2_9Params = Infer<typeof ec2_9Params>;

/**
 * Tag key on the temporary interface and Elastic IP, valued with the
 * instance id: a person can find leftovers by it, and the function's role may
 * delete or release only resources that carry it.
 */
export const TEMPORARY_TAG = 'hubfix:temporary';

export const ec2_9Meta = {
  id: 'EC2.9',
  title: 'Amazon EC2 instances should not have a public IPv4 address',
  notifyOnly: false,
  params: ec2_9Params,
} as const;
