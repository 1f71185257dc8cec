/**
 * What the registry and the function both need to know about EC2.2, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object, oneOf, optional } from '../../core/schema';

export const EC2_2_STRATEGIES = ['empty-if-unused'] as const;

export const ec2_2Params = object({
  /**
   * `empty-if-unused`: revoke every rule of a default group that no network
   * interface uses and no other group references; otherwise explain and notify.
   */
  strategy: optional(oneOf(EC2_2_STRATEGIES), 'empty-if-unused'),
});

export type Ec2_2Params = Infer<typeof ec2_2Params>;

export const ec2_2Meta = {
  id: 'EC2.2',
  title: 'VPC default security groups should not allow inbound or outbound traffic',
  notifyOnly: false,
  params: ec2_2Params,
} as const;
