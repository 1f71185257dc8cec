/**
 * What the registry and the function both need to know about EC2.24, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object } from '../../core/schema';

/** EC2.24 has no settings: no automatic fix exists, so there is nothing to tune. */
export const ec2_24Params = object({});

export type Ec2_24Params = Infer<typeof ec2_24Params>;

export const ec2_24Meta = {
  id: 'EC2.24',
  title: 'Amazon EC2 paravirtual instance types should not be used',
  notifyOnly: true,
  params: ec2_24Params,
} as const;
