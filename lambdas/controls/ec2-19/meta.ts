/**
 * What the registry and the function both need to know about EC2.19, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object } from '../../core/schema';

/**
 * EC2.19 has no settings of its own: the high-risk ports are the control's
 * fixed list, not something Security Hub lets you change.
 */
export const ec2_19Params = object({});

export type Ec2_19Params = Infer<typeof ec2_19Params>;

export const ec2_19Meta = {
  id: 'EC2.19',
  title: 'Security groups should not allow unrestricted access to ports with high risk',
  notifyOnly: false,
  params: ec2_19Params,
} as const;
