/**
 * What the registry and the function both need to know about EC2.2, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, integer, object, oneOf, optional } from '../../core/schema';

export const EC2_2_STRATEGIES = ['empty-if-unused', 'migrate'] as const;

/** How many interfaces one migration moves at most, unless the settings say otherwise. */
export const DEFAULT_MAX_INTERFACES = 25;

export const ec2_2Params = object({
  /**
   * `empty-if-unused`: revoke every rule of a default group that nothing uses
   * and no other group references; otherwise explain and notify.
   * `migrate` (opt-in, the manual procedure's full path): move what uses the
   * default group to a copy of it, re-point other groups' rules to the copy,
   * then empty the default group. Disruptive for users hubfix cannot see.
   */
  strategy: optional(
    oneOf(EC2_2_STRATEGIES, {
      description:
        '"empty-if-unused": revoke every rule of a default security group that nothing uses; otherwise explain and notify. "migrate" (opt-in, disruptive for users hubfix cannot see): move the interfaces and other groups\' rules that use it to a copy, then empty it.',
    }),
    'empty-if-unused',
  ),
  migrate: optional(
    object(
      {
        /**
         * More interfaces than this in the default group block the migration:
         * each is one call, and a person should look at a group that many
         * things share before hubfix moves them.
         */
        maxInterfaces: optional(
          integer({
            min: 1,
            max: 1000,
            description:
              'With "migrate", more network interfaces than this in the default group block the migration.',
          }),
          DEFAULT_MAX_INTERFACES,
        ),
      },
      { description: 'How the "migrate" strategy is bounded.' },
    ),
    { maxInterfaces: DEFAULT_MAX_INTERFACES },
  ),
});

export type Ec2_2Params = Infer<typeof ec2_2Params>;

export { REPLACES_TAG } from '../../services/replaces-tag';

/** The replacement group's name: one per VPC, so a re-run finds the same one. */
export function replacementGroupName(vpcId: string): string {
  return `${vpcId}-default-replacement`;
}

export const ec2_2Meta = {
  id: 'EC2.2',
  title: 'VPC default security groups should not allow inbound or outbound traffic',
  notifyOnly: false,
  params: ec2_2Params,
} as const;
