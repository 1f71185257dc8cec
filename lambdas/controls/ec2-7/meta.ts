/**
 * What the registry and the function both need to know about EC2.7, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object } from '../../core/schema';

/** EC2.7 has no settings of its own: the change is the same everywhere. */
export const ec2_7Params = object({});

export type Ec2_7Params = Infer<typeof ec2_7Params>;

export const ec2_7Meta = {
  id: 'EC2.7',
  title: 'EBS default encryption should be enabled',
  notifyOnly: false,
  params: ec2_7Params,
} as const;
