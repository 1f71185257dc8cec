/**
 * EC2.2's clients for tests: EC2 is the test's own mock; Lambda, ECS and
 * Auto Scaling are strict mocks that answer "nothing here" unless a test
 * prepares more, and the EC2 calls that look for other users (launch
 * templates, peered references) answer "none" too.
 */
import {
  AutoScalingClient,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
  type EC2ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { Ec2Clients } from '../../lambdas/controls/ec2-2/remediate';
import { strictMock } from './aws';
import { REGION } from './fixtures';

export type Ec2Mock = AwsStub<ServiceInputTypes, ServiceOutputTypes, EC2ClientResolvedConfig>;

export function ec2_2Clients(ec2: EC2Client) {
  const lambda = new LambdaClient({ region: REGION });
  const ecs = new ECSClient({ region: REGION });
  const autoScaling = new AutoScalingClient({ region: REGION });
  const mocks = {
    lambda: strictMock(lambda),
    ecs: strictMock(ecs),
    autoScaling: strictMock(autoScaling),
  };
  const clients: Ec2Clients = { ec2, lambda, ecs, autoScaling };
  return { clients, ...mocks };
}

/** Answers "nothing" to every look for users beyond interfaces and other groups' rules. */
export function noOtherUsers(
  ec2Mock: Ec2Mock,
  mocks: Pick<ReturnType<typeof ec2_2Clients>, 'lambda' | 'ecs' | 'autoScaling'>,
): void {
  ec2Mock.on(DescribeSecurityGroupReferencesCommand).resolves({ SecurityGroupReferenceSet: [] });
  ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });
  mocks.lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
  mocks.ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
  mocks.autoScaling.on(DescribeLaunchConfigurationsCommand).resolves({ LaunchConfigurations: [] });
}

/** The group has no rules now: a rollback reading it finds every recorded rule gone. */
export function givenNoRulesNow(
  ec2: AwsStub<ServiceInputTypes, ServiceOutputTypes, EC2ClientResolvedConfig>,
  groupId: string,
): void {
  ec2
    .on(
      DescribeSecurityGroupRulesCommand,
      {
        Filters: [{ Name: 'group-id', Values: [groupId] }],
        MaxResults: 1000,
        NextToken: undefined,
      },
      true,
    )
    .resolves({ SecurityGroupRules: [] });
}
