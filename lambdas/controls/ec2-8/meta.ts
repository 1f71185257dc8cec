/**
 * What the registry and the function both need to know about EC2.8, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, integer, object, optional } from '../../core/schema';

/** CloudWatch keeps hourly data points for 455 days; a longer window would read nothing more. */
export const MAX_IMDSV1_USAGE_WINDOW_DAYS = 455;

export const ec2_8Params = object({
  imdsv1UsageWindowDays: optional(
    integer({
      min: 1,
      max: MAX_IMDSV1_USAGE_WINDOW_DAYS,
      description:
        "How many days back the instance's CloudWatch MetadataNoToken metric must be zero (no IMDSv1 call) before hubfix requires tokens.",
    }),
    14,
  ),
});

export type Ec2_8Params = Infer<typeof ec2_8Params>;

export const ec2_8Meta = {
  id: 'EC2.8',
  title: 'EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)',
  notifyOnly: false,
  params: ec2_8Params,
} as const;
