import { ecsTags, findingAbout, NO_WAIT_CLOCK, type Scenario } from '../scenario';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/prod/web';
const finding = findingAbout(
  'ECS.2',
  'ECS.2 ECS services should not have public IP addresses assigned to them automatically',
  { type: 'AwsEcsService', arn: SERVICE_ARN },
  'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/ECS.2/finding/0f5c8f4e-2b44-4a4e-9d4f-1b2c3d4e5f60',
);

function service(assignPublicIp: 'ENABLED' | 'DISABLED', tags: Readonly<Record<string, string>>) {
  return {
    serviceArn: SERVICE_ARN,
    serviceName: 'web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    deploymentController: { type: 'ECS' },
    // The update starts a new deployment, which becomes primary.
    deployments: [
      assignPublicIp === 'ENABLED'
        ? { id: 'ecs-svc/1111', status: 'PRIMARY', rolloutState: 'COMPLETED' }
        : { id: 'ecs-svc/2222', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
    ],
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp },
    },
    tags: ecsTags(tags),
  };
}

export const scenario: Scenario = {
  // The verify waits out eventual consistency on ctx.clock; canned answers settle at once.
  clock: NO_WAIT_CLOCK,
  finding,
  answers: (tags) => ({
    ecs: {
      // The read asks for tags and sees public IPs; the verify (no tags) sees them off.
      DescribeServices: (input) => ({
        services: [service('include' in input ? 'ENABLED' : 'DISABLED', tags)],
      }),
      UpdateService: { service: service('DISABLED', tags) },
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
      resourceCalls: 4,
      why: 'read the service with its tags, network and deployment controller (1); preflight: the route table of its subnet, for a NAT route (1); update the network configuration with a new deployment (1); verify assignPublicIp is DISABLED (1)',
    },
    notify: {
      resourceCalls: 1,
      why: 'read the service (tags, network configuration), which is all the plan needs (1)',
    },
    suppress: { resourceCalls: 1, why: 'read the service and its tags (1)' },
  },
};
