/**
 * ECS.2 end to end through the exported handler shape: middy, Powertools,
 * environment parsing, the pipeline and the real adapters, with every AWS
 * client mocked strictly.
 */
import { DescribeRouteTablesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ecs_2 } from '../../../lambdas/controls/ecs-2/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, EC2_2_FINDING, importedEvent, REGION, withChanges } from '../../support/fixtures';
import { controlHarness, TOPIC_ARN } from '../../support/handler';

const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`;
const FINDING = withChanges(EC2_2_FINDING, {
  Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:subscription/aws-foundational-security-best-practices/v/1.0.0/ECS.2/finding/0f5c8f4e-2b44-4a4e-9d4f-1b2c3d4e5f60`,
  GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/ECS.2',
  'ProductFields.ControlId': 'ECS.2',
  Title: 'ECS.2 ECS services should not have public IP addresses assigned to them automatically',
  Resources: [{ Type: 'AwsEcsService', Id: SERVICE_ARN, Partition: 'aws', Region: REGION }],
});

const NETWORK = { subnets: ['subnet-a'], securityGroups: ['sg-1'] };

function service(assignPublicIp: 'ENABLED' | 'DISABLED', controller = 'ECS'): Service {
  return {
    serviceArn: SERVICE_ARN,
    serviceName: 'web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    deploymentController: { type: controller === 'ECS' ? 'ECS' : 'CODE_DEPLOY' },
    networkConfiguration: { awsvpcConfiguration: { ...NETWORK, assignPublicIp } },
    tags: [],
  };
}

function setup(settings: { mode?: 'notify' | 'remediate' } = {}) {
  const ecsClient = new ECSClient({ region: REGION });
  const ec2Client = new EC2Client({ region: REGION });
  const ecs = strictMock(ecsClient);
  const ec2 = strictMock(ec2Client);
  const harness = controlHarness(ecs_2, { clients: { ecs: ecsClient, ec2: ec2Client }, settings });
  ecs
    .on(
      DescribeServicesCommand,
      { cluster: 'prod', services: [SERVICE_ARN], include: ['TAGS'] },
      true,
    )
    .resolves({ services: [service('ENABLED')] });
  return { ecs, ec2, ...harness };
}

describe('ECS.2 handler', () => {
  it('turns public IPs off, starts a deployment, notes the finding and notifies', async () => {
    // Prepare
    const t = setup();
    t.ec2.on(DescribeRouteTablesCommand).resolves({
      RouteTables: [
        {
          VpcId: 'vpc-1',
          Associations: [{ SubnetId: 'subnet-a' }],
          Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }],
        },
      ],
    });
    t.ecs
      .on(
        UpdateServiceCommand,
        {
          cluster: CLUSTER_ARN,
          service: SERVICE_ARN,
          networkConfiguration: { awsvpcConfiguration: { ...NETWORK, assignPublicIp: 'DISABLED' } },
          forceNewDeployment: true,
        },
        true,
      )
      .resolves({ service: service('DISABLED') });
    // What DescribeServices shows once UpdateService started the new deployment.
    const deploying = {
      ...service('DISABLED'),
      deployments: [
        {
          id: 'ecs-svc/2',
          status: 'PRIMARY',
          networkConfiguration: {
            awsvpcConfiguration: { ...NETWORK, assignPublicIp: 'DISABLED' as const },
          },
          rolloutState: 'IN_PROGRESS' as const,
        },
      ],
    };
    t.ecs
      .on(DescribeServicesCommand, { cluster: CLUSTER_ARN, services: [SERVICE_ARN] }, true)
      .resolves({ services: [deploying] });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      {
        cluster: CLUSTER_ARN,
        service: SERVICE_ARN,
        network: { ...NETWORK, assignPublicIp: 'ENABLED' },
      },
    ]);
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]).toMatchObject({
      TopicArn: TOPIC_ARN,
      Subject: `hubfix REMEDIATED ECS.2 prod/web (${ACCOUNT} ${REGION})`,
    });
  });

  it('only notifies, with the plan, in its default notify mode', async () => {
    const t = setup({ mode: 'notify' });
    t.acceptDeliveries();

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('NOTIFIED');
    expect(t.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 0);
    expect(t.ec2.calls()).toHaveLength(0);
    expect(t.notes()[0]).toContain('stop assigning public IPs to the tasks of ECS service web');
  });

  it('notifies what to do instead for a CodeDeploy service', async () => {
    const t = setup();
    t.ecs
      .on(
        DescribeServicesCommand,
        { cluster: 'prod', services: [SERVICE_ARN], include: ['TAGS'] },
        true,
      )
      .resolves({ services: [service('ENABLED', 'CODE_DEPLOY')] });
    t.acceptDeliveries();

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.published()[0]?.Message).toContain('is deployed by CodeDeploy (blue/green)');
  });
});
