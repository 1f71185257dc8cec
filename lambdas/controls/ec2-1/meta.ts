/**
 * What the registry and the function both need to know about EC2.1, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object, oneOf, optional } from '../../core/schema';

/** EC2's snapshot block public access states, weakest first. */
export const BLOCK_PUBLIC_ACCESS_STATES = [
  'unblocked',
  'block-new-sharing',
  'block-all-sharing',
] as const;
export type BlockPublicAccessState = (typeof BLOCK_PUBLIC_ACCESS_STATES)[number];

export const EC2_1_BLOCK_PUBLIC_ACCESS = ['off', 'block-new-sharing', 'block-all-sharing'] as const;

export const ec2_1Params = object({
  blockPublicAccess: optional(
    oneOf(EC2_1_BLOCK_PUBLIC_ACCESS, {
      description:
        'Besides making public snapshots private, turn on the region\'s snapshot block public access: "off" leaves it alone, "block-new-sharing" stops new public sharing, "block-all-sharing" also hides any snapshot still public. A stronger state already in place is never weakened.',
    }),
    'off',
  ),
});

export type Ec2_1Params = Infer<typeof ec2_1Params>;

export const ec2_1Meta = {
  id: 'EC2.1',
  title: 'Amazon EBS snapshots should not be publicly restorable',
  notifyOnly: false,
  params: ec2_1Params,
} as const;
