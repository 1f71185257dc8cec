/**
 * What the registry and the function both need to know about EC2.6, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object, oneOf, optional } from '../../core/schema';

/** The retention periods CloudWatch Logs accepts, in days (PutRetentionPolicy). */
export const FLOW_LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/**
 * Traffic types that satisfy EC2.6, whose minimum is rejected traffic: an
 * ACCEPT-only flow log leaves the control failing, so it is not offered.
 */
export const EC2_6_TRAFFIC_TYPES = ['REJECT', 'ALL'] as const;

/** The log group prefix hubfix owns; the delivery role and IAM grants are scoped to it. */
export const FLOW_LOG_GROUP_PREFIX = '/hubfix/vpc-flow-logs/';

/** Single-account mode: the ARN of the delivery role the stack made (HUBFIX_PROVISIONED). */
export const DELIVERY_ROLE_KEY = 'deliveryRoleArn';

/**
 * Org mode: the name of the delivery role the StackSet made in every member
 * account (HUBFIX_PROVISIONED); the function names it in each finding's account.
 */
export const DELIVERY_ROLE_NAME_KEY = 'deliveryRoleName';

export const ec2_6Params = object({
  logRetentionDays: optional(
    oneOf(FLOW_LOG_RETENTION_DAYS, {
      description:
        'How long the flow log group /hubfix/vpc-flow-logs/<vpc-id> keeps records, in days (a period CloudWatch Logs accepts).',
    }),
    365,
  ),
  trafficType: optional(
    oneOf(EC2_6_TRAFFIC_TYPES, {
      description:
        'What the new flow log records: "REJECT" (the control\'s minimum) or "ALL". "ACCEPT" alone does not satisfy EC2.6.',
    }),
    'REJECT',
  ),
});

export type Ec2_6Params = Infer<typeof ec2_6Params>;

export const ec2_6Meta = {
  id: 'EC2.6',
  title: 'VPC flow logging should be enabled in all VPCs',
  notifyOnly: false,
  params: ec2_6Params,
} as const;
