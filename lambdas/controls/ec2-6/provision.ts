/**
 * Synth-time only (the registry imports it; the handler never does): the
 * role VPC flow logs deliver records with, made by the stack so the function
 * never creates IAM roles itself. The role may only write into hubfix's own
 * `/hubfix/vpc-flow-logs/*` log groups.
 *
 * The role has a fixed name per region (IAM names are account-wide, and
 * hubfix is deployed once per account and region) so that the registry can
 * grant `iam:PassRole` on exactly this role: the grant then stays with the
 * control's other permissions, where the README and the IAM tests read them.
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { FLOW_LOG_GROUP_PREFIX } from './meta';

export const FLOW_LOGS_SERVICE = 'vpc-flow-logs.amazonaws.com';

/** `hubfix-ec2-6-flow-logs-<region>`; the region resolves at deploy time. */
export const FLOW_LOG_DELIVERY_ROLE_NAME = `hubfix-ec2-6-flow-logs-${Aws.REGION}`;

export function provisionFlowLogDeliveryRole(scope: Construct): Readonly<Record<string, string>> {
  const stack = Stack.of(scope);
  const role = new Role(scope, 'FlowLogDeliveryRole', {
    roleName: FLOW_LOG_DELIVERY_ROLE_NAME,
    description: `hubfix EC2.6: VPC flow logs deliver records into ${FLOW_LOG_GROUP_PREFIX}* with this role`,
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
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [hubfixLogGroups],
    }),
  );
  // CloudWatch Logs authorizes DescribeLogGroups against every group of the
  // account (log-group:*), so a prefix would deny it; it only reads names.
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['logs:DescribeLogGroups'],
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
  return { deliveryRoleArn: role.roleArn };
}
