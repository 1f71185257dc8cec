import { REPLACES_TAG } from '../../lambdas/controls/ecs-16/meta';
import { ecsTags, findingAbout, NO_WAIT_CLOCK, type Scenario } from '../scenario';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/prod/web';
const OLD_ID = 'ecs-svc/1111111111111111111';
const OLD_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${OLD_ID}`;
const NEW_ID = 'ecs-svc/2222222222222222222';
const NEW_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${NEW_ID}`;
const finding = findingAbout(
  'ECS.16',
  'ECS.16 ECS task sets should not automatically assign public IP addresses',
  // Security Hub has no ASFF type for AWS::ECS::TaskSet; the finding calls it Other.
  { type: 'Other', arn: OLD_ARN },
  'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/ECS.16/finding/7d3e1f00-1111-4222-8333-944455556666',
);

function taskSet(
  id: string,
  arn: string,
  status: 'PRIMARY' | 'ACTIVE',
  assignPublicIp: 'ENABLED' | 'DISABLED',
  tags: Readonly<Record<string, string>>,
) {
  return {
    id,
    taskSetArn: arn,
    clusterArn: CLUSTER_ARN,
    serviceArn: SERVICE_ARN,
    status,
    taskDefinition: 'arn:aws:ecs:us-east-1:111111111111:task-definition/web:7',
    launchType: 'FARGATE',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp },
    },
    scale: { value: 100, unit: 'PERCENT' },
    // Steady at once, so the wait ends at its first poll.
    stabilityStatus: 'STEADY_STATE',
    tags: ecsTags(tags),
  };
}

export const scenario: Scenario = {
  // Against canned answers there is nothing to wait for: the waits take no time.
  clock: NO_WAIT_CLOCK,
  // The bench's invocation has 5 minutes: a one-minute wait fits, the default ten would not;
  // and the task definition's execution role may be passed.
  params: { stabilityTimeoutSeconds: 60, passRoles: { roles: ['ecsTaskExecutionRole'] } },
  // A replacement task set of a small Fargate service is typically steady within a minute.
  typicalWaitSeconds: 60,
  finding,
  answers: (tags) => ({
    ecs: {
      // One command, three questions: the read (every task set of the service
      // by name, with tags: the finding's one), the stability look (the new
      // task set by ARN) and the verify (every task set of the service by ARN:
      // only the new one, now primary, with hubfix's tag).
      DescribeTaskSets: (input) => {
        if (input.taskSets !== undefined) {
          return { taskSets: [taskSet(NEW_ID, NEW_ARN, 'ACTIVE', 'DISABLED', tags)] };
        }
        return input.cluster === 'prod'
          ? { taskSets: [taskSet(OLD_ID, OLD_ARN, 'PRIMARY', 'ENABLED', tags)] }
          : {
              taskSets: [
                taskSet(NEW_ID, NEW_ARN, 'PRIMARY', 'DISABLED', {
                  ...tags,
                  [REPLACES_TAG]: OLD_ID,
                }),
              ],
            };
      },
      DescribeTaskDefinition: {
        taskDefinition: {
          executionRoleArn: 'arn:aws:iam::111111111111:role/ecsTaskExecutionRole',
        },
      },
      DescribeServices: {
        services: [
          { serviceArn: SERVICE_ARN, status: 'ACTIVE', deploymentController: { type: 'EXTERNAL' } },
        ],
      },
      CreateTaskSet: { taskSet: { id: NEW_ID, taskSetArn: NEW_ARN } },
      UpdateServicePrimaryTaskSet: {},
      DeleteTaskSet: {},
    },
    ec2: {
      // The subnet has its own route table, with a NAT route: the tasks keep internet access.
      DescribeRouteTables: {
        RouteTables: [
          {
            VpcId: 'vpc-1',
            Associations: [{ SubnetId: 'subnet-a' }],
            Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }],
          },
        ],
      },
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 9,
      why: "read the service's task sets with their tags (the finding's one, and any replacement an earlier run left) (1) and the task definition, for the roles CreateTaskSet would pass (1); preflight: the service (ACTIVE, EXTERNAL controller) and the route table of its subnet, for a NAT route (2); create the replacement (1); look at it until steady, at least once (1); make it primary, the old one was (1); delete the old one (1); verify: the task sets of the service (1)",
    },
    notify: {
      resourceCalls: 2,
      why: "read the service's task sets (the finding's one: tags, network, task definition, scale, primary; and any earlier replacement) (1) and the task definition, whose roles the plan names (1)",
    },
    suppress: {
      resourceCalls: 2,
      why: 'read the task sets and the task definition (2): the live read is one step, before the tags decide',
    },
  },
};
