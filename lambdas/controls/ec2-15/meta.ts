/**
 * What the registry and the function both need to know about EC2.15, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object } from '../../core/schema';

/** EC2.15 has no settings of its own: both auto-assign settings are always turned off. */
export const ec2_15Params = object({});

export type Ec2_15Params = Infer<typeof ec2_15Params>;

export const ec2_15Meta = {
  id: 'EC2.15',
  title: 'Amazon EC2 subnets should not automatically assign public IP addresses',
  notifyOnly: false,
  params: ec2_15Params,
} as const;
