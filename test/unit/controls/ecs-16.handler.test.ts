/**
 * ECS.16 end to end through the exported handler shape, with every AWS client
 * mocked strictly and a clock that waits no real time.
 */
import { DescribeRouteTablesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { REPLACES_TAG } from '../../../lambdas/controls/ecs-16/meta';
import { ecs_16 } from '../../../lambdas/controls/ecs-16/remediate';
import { clientToken } from '../../../lambdas/services/ecs/task-sets';
import { strictMock } from '../../support/aws';
import {
  ACCOUNT,
  customActionEvent,
  EC2_2_FINDING,
  importedEvent,
  REGION,
  withChanges,
} from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`;
const OLD_ID = 'ecs-svc/1111111111111111111';
const OLD_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${OLD_ID}`;
const NEW_ID = 'ecs-svc/2222222222222222222';
const NEW_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${NEW_ID}`;
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;
const FINDING_ID = `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/ECS.16/finding/7d3e1f00-1111-4222-8333-944455556666`;
// Security Hub has no ASFF type for AWS::ECS::TaskSet; the finding may call it Other.
const FINDING = withChanges(EC2_2_FINDING, {
  Id: FINDING_ID,
  GeneratorId: 'security-control/ECS.16',
  'Compliance.SecurityControlId': 'ECS.16',
  'ProductFields.ControlId': undefined,
  Title: 'ECS task sets should not automatically assign public IP addresses',
  Resources: [{ Type: 'Other', Id: OLD_ARN, Partition: 'aws', Region: REGION }],
});
/** The function's 15-minute timeout, a little into the invocation. */
const REMAINING_MS = 14 * 60_000;

function taskSet(
  id: string,
  arn: string,
  assignPublicIp: 'ENABLED' | 'DISABLED',
  extra: Partial<TaskSet> = {},
): TaskSet {
  return {
    id,
    taskSetArn: arn,
    clusterArn: CLUSTER_ARN,
    serviceArn: SERVICE_ARN,
    status: 'PRIMARY',
    taskDefinition: 'web:7',
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], assignPublicIp } },
    scale: { value: 100, unit: 'PERCENT' },
    stabilityStatus: 'STEADY_STATE',
    tags: [],
    ...extra,
  };
}

function world(passRoles: { roles: string[] }) {
  const ecsClient = new ECSClient({ region: REGION });
  const ec2Client = new EC2Client({ region: REGION });
  const ecs = strictMock(ecsClient);
  const ec2 = strictMock(ec2Client);
  const t = controlHarness(ecs_16, {
    clients: { ecs: ecsClient, ec2: ec2Client },
    params: { stabilityTimeoutSeconds: 600, passRoles },
    remainingTimeMs: REMAINING_MS,
  });
  ecs
    .on(DescribeTaskDefinitionCommand, { taskDefinition: 'web:7' }, true)
    .resolves({ taskDefinition: { executionRoleArn: EXECUTION_ROLE } });
  ecs
    .on(DescribeServicesCommand, { cluster: CLUSTER_ARN, services: [SERVICE_ARN] }, true)
    .resolves({ services: [{ status: 'ACTIVE', deploymentController: { type: 'EXTERNAL' } }] });
  ec2.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        VpcId: 'vpc-1',
        Associations: [{ SubnetId: 'subnet-a' }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }],
      },
    ],
  });
  t.acceptDeliveries();
  return { ecs, ec2, t };
}

const MARKER = { key: REPLACES_TAG, value: OLD_ID };

/**
 * The end of a replacement: the new task set made primary, the old one
 * deleted, and what verify then lists (the new one alone, with hubfix's tag).
 */
function switchesToTheReplacement(ecs: ReturnType<typeof world>['ecs']) {
  ecs
    .on(
      UpdateServicePrimaryTaskSetCommand,
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, primaryTaskSet: NEW_ARN },
      true,
    )
    .resolves({});
  ecs
    .on(
      DeleteTaskSetCommand,
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSet: OLD_ARN, force: true },
      true,
    )
    .resolves({});
  ecs
    .on(
      DescribeTaskSetsCommand,
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, include: ['TAGS'] },
      true,
    )
    .resolves({ taskSets: [taskSet(NEW_ID, NEW_ARN, 'DISABLED', { tags: [MARKER] })] });
}

describe('ECS.16 handler', () => {
  it('replaces a public task set, notes the finding and records the old one', async () => {
    // Prepare
    const { ecs, t } = world({ roles: ['ecsTaskExecutionRole'] });
    ecs
      .on(DescribeTaskSetsCommand, { cluster: 'prod', service: 'web', include: ['TAGS'] }, true)
      .resolves({ taskSets: [taskSet(OLD_ID, OLD_ARN, 'ENABLED')] });
    const request = {
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      taskDefinition: 'web:7',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-a'], assignPublicIp: 'DISABLED' as const },
      },
      launchType: 'FARGATE' as const,
      scale: { value: 100, unit: 'PERCENT' as const },
      tags: [MARKER],
    };
    ecs
      .on(
        CreateTaskSetCommand,
        { ...request, clientToken: clientToken(SERVICE_ARN, OLD_ARN, JSON.stringify(request)) },
        true,
      )
      .resolves({ taskSet: { id: NEW_ID, taskSetArn: NEW_ARN } });
    ecs
      .on(
        DescribeTaskSetsCommand,
        { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSets: [NEW_ARN] },
        true,
      )
      .resolvesOnce({
        taskSets: [
          taskSet(NEW_ID, NEW_ARN, 'DISABLED', {
            status: 'ACTIVE',
            stabilityStatus: 'STABILIZING',
          }),
        ],
      })
      .resolves({ taskSets: [taskSet(NEW_ID, NEW_ARN, 'DISABLED', { status: 'ACTIVE' })] });
    switchesToTheReplacement(ecs);

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING_ID, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records[0]?.before).toMatchObject({
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      taskSet: { id: OLD_ID, arn: OLD_ARN, primary: true, network: { assignPublicIp: 'ENABLED' } },
    });
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]?.Subject).toBe(
      `hubfix REMEDIATED ECS.16 prod/web/${OLD_ID} (${ACCOUNT} ${REGION})`,
    );
  });

  it('blocks, naming the role it would have to pass, when the settings allow none', async () => {
    // Prepare
    const { ecs, t } = world({ roles: [] });
    ecs
      .on(DescribeTaskSetsCommand, { cluster: 'prod', service: 'web', include: ['TAGS'] }, true)
      .resolves({ taskSets: [taskSet(OLD_ID, OLD_ARN, 'ENABLED')] });

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING_ID, decision: 'REMEDIATE', outcome: 'BLOCKED' },
    ]);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.published()[0]?.Message).toContain(
      `CreateTaskSet passes the task definition's execution role ${EXECUTION_ROLE} to ECS tasks`,
    );
    expect(ecs).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it("finishes an interrupted run's steady replacement instead of creating another", async () => {
    // Prepare: the earlier run was cut off after its replacement became steady.
    const { ecs, t } = world({ roles: [] });
    const earlier = taskSet(NEW_ID, NEW_ARN, 'DISABLED', { status: 'ACTIVE', tags: [MARKER] });
    ecs
      .on(DescribeTaskSetsCommand, { cluster: 'prod', service: 'web', include: ['TAGS'] }, true)
      .resolves({ taskSets: [taskSet(OLD_ID, OLD_ARN, 'ENABLED'), earlier] });
    ecs
      .on(
        DescribeTaskSetsCommand,
        { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSets: [NEW_ARN] },
        true,
      )
      .resolves({ taskSets: [earlier] });
    switchesToTheReplacement(ecs);

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess: no role is needed to finish, so the default settings do not block it.
    expect(result.findings).toEqual([
      { findingId: FINDING_ID, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(ecs).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
    expect(t.published()[0]?.Message).toContain(
      `took over ${NEW_ID} without public IPs, which an earlier run created`,
    );
  });

  it('handles one finding per invocation and hands the rest of a custom action on', async () => {
    // Prepare: a person sends two ECS.16 findings at once.
    const { ecs, t } = world({ roles: [] });
    const secondId = 'ecs-svc/4444444444444444444';
    const secondArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${secondId}`;
    const second = withChanges(FINDING, {
      Id: `${FINDING_ID}-2`,
      Resources: [{ Type: 'Other', Id: secondArn, Partition: 'aws', Region: REGION }],
    });
    ecs
      .on(DescribeTaskSetsCommand, { cluster: 'prod', service: 'web', include: ['TAGS'] }, true)
      .resolves({ taskSets: [taskSet(OLD_ID, OLD_ARN, 'ENABLED')] });

    // Act
    const result = await t.invoke(customActionEvent([FINDING, second]));

    // Assess: the first is handled (blocked here: no role may be passed), the second handed on.
    expect(result.findings.map((f) => f.findingId)).toEqual([FINDING_ID]);
    expect(t.requeued).toEqual([
      expect.objectContaining({ findings: [expect.objectContaining({ id: `${FINDING_ID}-2` })] }),
    ]);
  });
});
