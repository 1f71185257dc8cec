/**
 * Synth-time only (the registry imports it; the handler never does): the
 * role VPC flow logs deliver records with, made by the stack (or, in org
 * mode, by the member roles' StackSet in every member account) so the
 * function never creates IAM roles itself. The role may only write into
 * hubfix's own `/hubfix/vpc-flow-logs/*` log groups.
 *
 * The role has a fixed name so that the registry can grant `iam:PassRole`
 * on exactly this role: the grant then stays with the control's other
 * permissions, where the README and the IAM tests read them.
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { Provisioned } from '../../core/control';
import { placeholder } from '../../core/organization';
import { DELIVERY_ROLE_KEY, DELIVERY_ROLE_NAME_KEY, FLOW_LOG_GROUP_PREFIX } from './meta';

export const FLOW_LOGS_SERVICE = 'vpc-flow-logs.amazonaws.com';

/**
 * Single-account mode: `hubfix-ec2-6-flow-logs-<region>`, the region
 * resolving at deploy time. IAM names are account-wide and hubfix is
 * deployed once per account and region, so each regional stack has its own.
 */
export const FLOW_LOG_DELIVERY_ROLE_NAME = `hubfix-ec2-6-flow-logs-${Aws.REGION}`;

/**
 * Org mode: one role per member account serves every region in
 * `organization.regions`. The StackSet deploys each account's roles once, in
 * one region (IAM is global), so one role is one resource however many
 * regions there are (the member template stays far below CloudFormation's
 * 51,200-byte limit), and its name differs from every single-account
 * stack's: a member account that still runs hubfix on its own (while moving
 * to org mode) keeps its `hubfix-ec2-6-flow-logs-<region>` roles, and the
 * StackSet does not fail on a name already taken, which would leave that
 * account without any of its member roles.
 */
export const MEMBER_FLOW_LOG_DELIVERY_ROLE_NAME = 'hubfix-ec2-6-flow-logs';

/** What flow logs need to deliver into a group: the same in both modes. */
const DELIVERY_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'];
const DESCRIBE_GROUPS = 'logs:DescribeLogGroups';
const DESCRIPTION = `hubfix EC2.6: VPC flow logs deliver records into ${FLOW_LOG_GROUP_PREFIX}* with this role`;

export function provisionFlowLogDeliveryRole(scope: Construct): Provisioned {
  const stack = Stack.of(scope);
  const role = new Role(scope, 'FlowLogDeliveryRole', {
    roleName: FLOW_LOG_DELIVERY_ROLE_NAME,
    description: DESCRIPTION,
    // Confused-deputy protection: only flow logs of this account may use it.
    assumedBy: new ServicePrincipal(FLOW_LOGS_SERVICE, {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'ec2',
            resource: 'vpc-flow-log',
            resourceName: '*',
          }),
        },
      },
    }),
  });
  const hubfixLogGroups = stack.formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `${FLOW_LOG_GROUP_PREFIX}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: DELIVERY_ACTIONS,
      resources: [hubfixLogGroups],
    }),
  );
  // CloudWatch Logs authorizes DescribeLogGroups against every group of the
  // account (log-group:*), so a prefix would deny it; it only reads names.
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [DESCRIBE_GROUPS],
      resources: [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: `VPC flow logs create one log stream per network interface, with names known only at delivery time, inside hubfix's own ${FLOW_LOG_GROUP_PREFIX}<vpc-id> log groups; the prefix is as narrow as that allows.`,
        appliesTo: [
          {
            regex: `/^Resource::arn:(?:<AWS::[A-Za-z]+>|[^:]*):logs:(?:<AWS::[A-Za-z]+>|[^:]*):(?:<AWS::[A-Za-z]+>|[^:]*):log-group:\\/hubfix\\/vpc-flow-logs\\/\\*$/`,
          },
        ],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'CloudWatch Logs authorizes DescribeLogGroups against log-group:* (all groups of the account); the action only lists group names and settings.',
        appliesTo: [
          {
            regex: `/^Resource::arn:(?:<AWS::[A-Za-z]+>|[^:]*):logs:(?:<AWS::[A-Za-z]+>|[^:]*):(?:<AWS::[A-Za-z]+>|[^:]*):log-group:\\*$/`,
          },
        ],
      },
    ],
    true,
  );
  return { [DELIVERY_ROLE_KEY]: role.roleArn };
}

export const MEMBER_FLOW_LOG_DELIVERY_ROLE_ID = 'HubfixEc26FlowLogDeliveryRole';

/**
 * Org mode: the same role in a member account, as the member roles'
 * template holds it (CloudFormation JSON: its account and partition are the
 * member's pseudo parameters), for the regions hubfix acts in. The function
 * is told only the name; it names the role in the account of each finding.
 */
export function memberFlowLogDeliveryRole(organization: { readonly regions: readonly string[] }): {
  readonly resources: Readonly<Record<string, unknown>>;
  readonly provisioned: Provisioned;
} {
  const arn = (service: string, region: string, resource: string) => ({
    'Fn::Sub': `arn:${placeholder('AWS::Partition')}:${service}:${region}:${placeholder('AWS::AccountId')}:${resource}`,
  });
  const { regions } = organization;
  return {
    resources: {
      [MEMBER_FLOW_LOG_DELIVERY_ROLE_ID]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: MEMBER_FLOW_LOG_DELIVERY_ROLE_NAME,
          Description: DESCRIPTION,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: FLOW_LOGS_SERVICE },
                Action: 'sts:AssumeRole',
                // Confused-deputy protection: only flow logs of this account, in those regions.
                Condition: {
                  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                  ArnLike: {
                    'aws:SourceArn': regions.map((region) => arn('ec2', region, 'vpc-flow-log/*')),
                  },
                },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'hubfix-ec2-6-flow-logs',
              PolicyDocument: {
                Version: '2012-10-17',
                // Any region: flow logs deliver into groups of their own
                // region, and only flow logs of the allowed regions may
                // assume the role (above). Listing the regions here too
                // would only grow the member template, which CloudFormation
                // caps at 51,200 bytes.
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: DELIVERY_ACTIONS,
                    Resource: arn('logs', '*', `log-group:${FLOW_LOG_GROUP_PREFIX}*`),
                  },
                  {
                    // Authorized against every group of the account (log-group:*), as in the stack's role.
                    Effect: 'Allow',
                    Action: DESCRIBE_GROUPS,
                    Resource: arn('logs', '*', 'log-group:*'),
                  },
                ],
              },
            },
          ],
        },
      },
    },
    provisioned: { [DELIVERY_ROLE_NAME_KEY]: MEMBER_FLOW_LOG_DELIVERY_ROLE_NAME },
  };
}
