import { createHash } from 'node:crypto';
import { DescribeRouteTablesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateTaskSetCommand,
  type CreateTaskSetCommandInput,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ECS_16_MAX_STABILITY_SECONDS,
  type Ecs_16Params,
} from '../../../lambdas/controls/ecs-16/meta';
import {
  createEcs16,
  type Ecs_16Before,
  type EcsClients,
  type TaskSetState,
} from '../../../lambdas/controls/ecs-16/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import type { ResourceRef } from '../../../lambdas/core/resource';
import type { Clock } from '../../../lambdas/services/wait';
import { findControl } from '../../../lib/controls';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { findingContext, rollbackContext } from '../../support/control';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/prod/web';
const OLD_ID = 'ecs-svc/1111111111111111111';
const OLD_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${OLD_ID}`;
const NEW_ID = 'ecs-svc/2222222222222222222';
const NEW_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${NEW_ID}`;
const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:111111111111:task-definition/web:7';
const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123456789abcdef';
const ref: ResourceRef = {
  type: 'Other',
  raw: OLD_ARN,
  partition: 'aws',
  account: '111111111111',
  region: 'us-east-1',
  id: `prod/web/${OLD_ID}`,
};

function network(assignPublicIp: 'ENABLED' | 'DISABLED') {
  return {
    awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp },
  };
}

function taskSet(overrides: Partial<TaskSet> = {}): TaskSet {
  return {
    id: OLD_ID,
    taskSetArn: OLD_ARN,
    serviceArn: SERVICE_ARN,
    clusterArn: CLUSTER_ARN,
    status: 'PRIMARY',
    externalId: 'blue',
    taskDefinition: TASK_DEFINITION,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    networkConfiguration: network('ENABLED'),
    loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: 'web', containerPort: 8080 }],
    serviceRegistries: [],
    scale: { value: 100, unit: 'PERCENT' },
    stabilityStatus: 'STEADY_STATE',
    computedDesiredCount: 2,
    runningCount: 2,
    tags: [
      { key: 'environment', value: 'dev' },
      { key: 'aws:cloudformation:stack-name', value: 'web' },
    ],
    ...overrides,
  };
}

const replacement = (overrides: Partial<TaskSet> = {}) =>
  taskSet({
    id: NEW_ID,
    taskSetArn: NEW_ARN,
    networkConfiguration: network('DISABLED'),
    ...overrides,
  });

const RECORD = {
  id: OLD_ID,
  arn: OLD_ARN,
  taskDefinition: TASK_DEFINITION,
  primary: true,
  externalId: 'blue',
  launchType: 'FARGATE' as const,
  platformVersion: '1.4.0',
  loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: 'web', containerPort: 8080 }],
  serviceRegistries: [],
  scale: { value: 100, unit: 'PERCENT' as const },
  network: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' as const },
  tags: [
    { key: 'environment', value: 'dev' },
    { key: 'aws:cloudformation:stack-name', value: 'web' },
  ],
};

function token(...parts: string[]): string {
  return `hubfix-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 29)}`;
}

function createInput(
  assignPublicIp: 'ENABLED' | 'DISABLED',
  clientToken?: string,
): CreateTaskSetCommandInput {
  return {
    cluster: CLUSTER_ARN,
    service: SERVICE_ARN,
    taskDefinition: TASK_DEFINITION,
    externalId: 'blue',
    networkConfiguration: network(assignPublicIp),
    loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: 'web', containerPort: 8080 }],
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    scale: { value: 100, unit: 'PERCENT' },
    ...(clientToken ? { clientToken } : {}),
    // The aws: tag is AWS's own; ECS refuses it on create.
    tags: [{ key: 'environment', value: 'dev' }],
  };
}

// A clock that moves only when the code sleeps, so a 10-minute wait takes no time.
let now = 0;
const sleeps: number[] = [];
const clock: Clock = {
  now: () => now,
  async sleep(ms) {
    sleeps.push(ms);
    now += ms;
  },
};
const ecs_16 = createEcs16(clock);

const ecsMock = strictMock(ECSClient);
const ec2Mock = strictMock(EC2Client);
const clients: EcsClients = {
  ecs: new ECSClient({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
};
const ctx: FindingContext<EcsClients, Ecs_16Params> = findingContext(clients, {
  stabilityTimeoutSeconds: 600,
});
const APPLY_TOKEN = token(OLD_ARN, 'finding-1', '2026-11-22T10:00:00Z');

function givenTaskSet(live: TaskSet | undefined) {
  ecsMock
    .on(
      DescribeTaskSetsCommand,
      { cluster: 'prod', service: 'web', taskSets: [OLD_ARN], include: ['TAGS'] },
      true,
    )
    .resolves(
      live
        ? { taskSets: [live], failures: [] }
        : { taskSets: [], failures: [{ arn: OLD_ARN, reason: 'MISSING' }] },
    );
}

function givenCreate(input: CreateTaskSetCommandInput, id = NEW_ID, arn = NEW_ARN) {
  ecsMock.on(CreateTaskSetCommand, input, true).resolves({
    taskSet: { id, taskSetArn: arn, status: 'ACTIVE', stabilityStatus: 'STABILIZING' },
  });
}

function givenStability(arn: string, ...states: TaskSet[]) {
  const stub = ecsMock.on(
    DescribeTaskSetsCommand,
    { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSets: [arn] },
    true,
  );
  for (const state of states) stub.resolvesOnce({ taskSets: [state] });
  const last = states.at(-1);
  if (last) stub.resolves({ taskSets: [last] });
}

function givenPrimary(arn: string) {
  ecsMock
    .on(
      UpdateServicePrimaryTaskSetCommand,
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, primaryTaskSet: arn },
      true,
    )
    .resolves({});
}

function givenDelete(arn: string) {
  ecsMock
    .on(
      DeleteTaskSetCommand,
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSet: arn, force: true },
      true,
    )
    .resolves({});
}

function givenList(...taskSets: TaskSet[]) {
  ecsMock
    .on(DescribeTaskSetsCommand, { cluster: CLUSTER_ARN, service: SERVICE_ARN }, true)
    .resolves({ taskSets });
}

function givenController(type: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL') {
  ecsMock
    .on(DescribeServicesCommand, { cluster: CLUSTER_ARN, services: [SERVICE_ARN] }, true)
    .resolves({
      services: [{ serviceArn: SERVICE_ARN, status: 'ACTIVE', deploymentController: { type } }],
    });
}

function givenRoutes(target: { NatGatewayId: string } | { GatewayId: string }) {
  ec2Mock.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        VpcId: 'vpc-1',
        Associations: [{ SubnetId: 'subnet-a' }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', State: 'active', ...target }],
      },
    ],
  });
}

const steady = () => replacement({ status: 'ACTIVE', stabilityStatus: 'STEADY_STATE' });
const stabilizing = () => replacement({ status: 'ACTIVE', stabilityStatus: 'STABILIZING' });

async function readFound(live: TaskSet = taskSet()): Promise<TaskSetState> {
  givenTaskSet(live);
  const read = await ecs_16.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: TaskSetState, context = ctx): ChangePlan<Ecs_16Before> {
  const plan = ecs_16.plan(state, context);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ecsMock);
  resetStrict(ec2Mock);
  now = 0;
  sleeps.length = 0;
});

describe('ECS.16 resource and settings', () => {
  it('reads a task set ARN, whose id has a slash, under either resource type', () => {
    for (const type of ['AwsEcsTaskSet', 'Other']) {
      expect(ecs_16.resource.parse(OLD_ARN, type, undefined)).toEqual({ ...ref, type });
    }
    expect(ecs_16.resource.types).toEqual(['AwsEcsTaskSet', 'Other']);
  });

  it.each([
    SERVICE_ARN,
    'arn:aws:ecs:us-east-1:111111111111:task-set/prod/web',
    'arn:aws:ec2:us-east-1:111111111111:task-set/prod/web/ecs-svc/1',
    'arn:aws:ecs:us-east-1:111111111111:task-set/prod/we b/ecs-svc/1',
  ])('refuses %s', (raw) => {
    expect(() => ecs_16.resource.parse(raw, 'Other', undefined)).toThrow(
      'expected an ECS task set ARN',
    );
  });

  it('waits 600 s by default and at most 720 s, so the function can still finish', () => {
    expect(ecs_16.params.parse({}, 'params')).toEqual({
      ok: true,
      value: { stabilityTimeoutSeconds: 600 },
    });
    expect(ecs_16.params.parse({ stabilityTimeoutSeconds: 721 }, 'params').ok).toBe(false);
    expect(ecs_16.params.parse({ stabilityTimeoutSeconds: 59 }, 'params').ok).toBe(false);
  });

  it('gets a function timeout with room for the longest wait and the calls around it', () => {
    const timeout = findControl('ECS.16')?.timeout?.toSeconds() ?? 0;

    expect(timeout).toBeLessThanOrEqual(900);
    expect(timeout - ECS_16_MAX_STABILITY_SECONDS).toBeGreaterThanOrEqual(120);
  });
});

describe('ECS.16 readState', () => {
  it('reads everything needed to recreate the task set, and its tags', async () => {
    givenTaskSet(taskSet());

    const read = await ecs_16.readState(ref, ctx);

    expect(read).toEqual({
      kind: 'found',
      state: {
        cluster: CLUSTER_ARN,
        service: SERVICE_ARN,
        taskSet: RECORD,
        stabilityStatus: 'STEADY_STATE',
      },
      tags: { environment: 'dev', 'aws:cloudformation:stack-name': 'web' },
    });
  });

  it('does not apply to a task set that no longer exists', async () => {
    givenTaskSet(undefined);

    expect(await ecs_16.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `prod/web/${OLD_ID} no longer exists or is being deleted`,
    });
  });

  it('does not apply to a task set that is draining', async () => {
    givenTaskSet(taskSet({ status: 'DRAINING' }));

    expect(await ecs_16.readState(ref, ctx)).toMatchObject({ kind: 'not-applicable' });
  });

  it.each(['ServiceNotFoundException', 'ClusterNotFoundException', 'ServiceNotActiveException'])(
    'does not apply when ECS answers %s',
    async (name) => {
      ecsMock.on(DescribeTaskSetsCommand).rejects(serviceError(name));

      expect(await ecs_16.readState(ref, ctx)).toEqual({
        kind: 'not-applicable',
        reason: `prod/web/${OLD_ID} no longer exists: its service or cluster is gone`,
      });
    },
  );

  it('does not apply to a task set without awsvpc networking', async () => {
    givenTaskSet(taskSet({ networkConfiguration: undefined }));

    expect(await ecs_16.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: expect.stringContaining('has no awsvpc network configuration'),
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ecsMock.on(DescribeTaskSetsCommand).rejects(serviceError('AccessDeniedException'));

    await expect(ecs_16.readState(ref, ctx)).rejects.toThrow('AccessDeniedException');
  });
});

describe('ECS.16 plan', () => {
  it('describes the replacement, what it keeps, and how to undo it', async () => {
    const plan = changePlan(await readFound());

    expect(plan.summary).toBe(
      `replace task set ${OLD_ID} of ECS service web with a copy that assigns no public IPs`,
    );
    expect(plan.steps).toEqual([
      `create a task set in web like ${OLD_ID} (task definition ${TASK_DEFINITION}, scale 100 PERCENT, launch type FARGATE, platform version 1.4.0, 1 load balancer target(s), 0 service registries, 1 tag(s)), in the same subnets subnet-a and security groups sg-1, with assignPublicIp DISABLED`,
      `wait up to 600 s for it to reach a steady state; if it does not, delete it and leave ${OLD_ID} as it is`,
      'make it the primary task set of the service',
      `delete ${OLD_ID} (force): its tasks with public IPs drain and stop`,
      'check that the new task set has no public IPs and that the old one is gone',
    ]);
    expect(plan.before).toEqual({ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSet: RECORD });
    expect(plan.undo).toEqual([
      `aws ecs create-task-set --cli-input-json '${JSON.stringify(createInput('ENABLED'))}'`,
      `aws ecs update-service-primary-task-set --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --primary-task-set <the id the command above printed>`,
      `aws ecs delete-task-set --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --task-set <the id of hubfix's replacement task set, named in the change> --force`,
    ]);
    expect(plan.irreversible).toContain(`${OLD_ID} itself is deleted and cannot come back`);
  });

  it('does not switch the primary task set for a task set that is not primary', async () => {
    const plan = changePlan(await readFound(taskSet({ status: 'ACTIVE' })));

    expect(plan.steps.join('\n')).not.toContain('primary');
    expect(plan.undo).toHaveLength(2);
  });

  it('sees a task set that assigns no public IPs as compliant', async () => {
    const state = await readFound(taskSet({ networkConfiguration: network('DISABLED') }));

    expect(ecs_16.plan(state, ctx)).toEqual({
      kind: 'compliant',
      summary: `task set ${OLD_ID} of ECS service web assigns no public IPs`,
    });
  });
});

describe('ECS.16 preflight', () => {
  it('finds nothing in the way for a steady task set of an EXTERNAL service behind NAT', async () => {
    const state = await readFound();
    givenController('EXTERNAL');
    givenRoutes({ NatGatewayId: 'nat-1' });

    expect(await ecs_16.preflight(state, ctx)).toEqual([]);
  });

  it('waits for a task set that is still stabilizing, without asking AWS', async () => {
    const state = await readFound(taskSet({ stabilityStatus: 'STABILIZING' }));
    ecsMock.resetHistory();

    expect(await ecs_16.preflight(state, ctx)).toEqual([
      `${OLD_ID} is STABILIZING: a deployment may be in progress. Fix it once the task set is steady.`,
    ]);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it.each([
    [
      'CODE_DEPLOY',
      'web is deployed by CodeDeploy, which creates and deletes its task sets itself.',
    ],
    ['ECS', 'web uses the ECS deployment controller'],
  ] as const)('blocks a task set of a %s service', async (controller, text) => {
    const state = await readFound();
    givenController(controller);

    const blockers = await ecs_16.preflight(state, ctx);

    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toContain(text);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('blocks when the subnets reach the internet only through an internet gateway', async () => {
    const state = await readFound();
    givenController('EXTERNAL');
    givenRoutes({ GatewayId: 'igw-1' });

    const blockers = await ecs_16.preflight(state, ctx);

    expect(blockers).toEqual([
      expect.stringMatching(/^subnet\(s\) subnet-a route 0\.0\.0\.0\/0 to an internet gateway/),
    ]);
  });
});

describe('ECS.16 apply', () => {
  it('replaces the task set: create, wait until steady, make primary, delete the old one', async () => {
    // Prepare
    const state = await readFound();
    const plan = changePlan(state);
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, stabilizing(), steady());
    givenPrimary(NEW_ARN);
    givenDelete(OLD_ARN);

    // Act
    const result = await ecs_16.apply(state, plan, ctx);

    // Assess
    expect(result.changes).toEqual([
      `created task set ${NEW_ID} without public IPs`,
      `${NEW_ID} reached a steady state after 30 s`,
      `made ${NEW_ID} the primary task set of ${SERVICE_ARN}`,
      `deleted the old task set ${OLD_ID} (its tasks drain and stop)`,
    ]);
    expect(sleeps).toEqual([15_000, 15_000]);
    const order = ecsMock.calls().map((call) => call.args[0].constructor.name);
    expect(order.slice(1)).toEqual([
      'CreateTaskSetCommand',
      'DescribeTaskSetsCommand',
      'DescribeTaskSetsCommand',
      'UpdateServicePrimaryTaskSetCommand',
      'DeleteTaskSetCommand',
    ]);
  });

  it('leaves the primary task set alone when the old one was not primary', async () => {
    const state = await readFound(taskSet({ status: 'ACTIVE' }));
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, steady());
    givenDelete(OLD_ARN);

    const result = await ecs_16.apply(state, changePlan(state), ctx);

    expect(result.changes).toHaveLength(3);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServicePrimaryTaskSetCommand, 0);
  });

  it('copies a capacity provider strategy and service registries instead of a launch type', async () => {
    // Prepare
    const strategy = [
      { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 1 },
      { capacityProvider: 'FARGATE', weight: 1 },
    ];
    const registries = [
      { registryArn: 'arn:aws:servicediscovery:us-east-1:111111111111:service/srv-1', port: 80 },
    ];
    const state = await readFound(
      taskSet({
        launchType: undefined,
        platformVersion: undefined,
        capacityProviderStrategy: strategy,
        serviceRegistries: registries,
      }),
    );
    const {
      launchType: _launchType,
      platformVersion: _platform,
      ...rest
    } = createInput('DISABLED', APPLY_TOKEN);
    givenCreate({ ...rest, capacityProviderStrategy: strategy, serviceRegistries: registries });
    givenStability(NEW_ARN, steady());
    givenPrimary(NEW_ARN);
    givenDelete(OLD_ARN);

    // Act
    const result = await ecs_16.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes).toHaveLength(4);
    expect(state.taskSet.capacityProviderStrategy).toEqual(strategy);
  });

  it('changes nothing when the new task set cannot be created', async () => {
    const state = await readFound();
    ecsMock.on(CreateTaskSetCommand).rejects(serviceError('AccessDeniedException', 'iam:PassRole'));

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message:
        'creating the new task set without public IPs failed: AccessDeniedException: iam:PassRole',
      stateLeft: `unchanged: ${OLD_ID} is still in place as the primary task set and serving`,
    });
    expect(ecsMock).toHaveReceivedCommandTimes(DeleteTaskSetCommand, 0);
  });

  it('deletes a new task set that never becomes steady and keeps the old one', async () => {
    // Prepare: one minute, polled every 15 s.
    const short = findingContext(clients, { stabilityTimeoutSeconds: 60 });
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, stabilizing());
    givenDelete(NEW_ARN);

    // Act
    const apply = ecs_16.apply(state, changePlan(state, short), short);

    // Assess
    await expect(apply).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} did not reach a steady state within 60 s`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was deleted`,
    });
    expect(sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServicePrimaryTaskSetCommand, 0);
    expect(ecsMock).toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: NEW_ARN });
    expect(ecsMock).not.toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: OLD_ARN });
  });

  it('says how to delete the new task set by hand when even that fails', async () => {
    const short = findingContext(clients, { stabilityTimeoutSeconds: 60 });
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, stabilizing());
    ecsMock.on(DeleteTaskSetCommand).rejects(serviceError('ServerException', 'try later'));

    const apply = ecs_16.apply(state, changePlan(state, short), short);

    await expect(apply).rejects.toMatchObject({
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} could not be deleted (ServerException: try later); delete it with: aws ecs delete-task-set --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --task-set ${NEW_ARN} --force`,
    });
  });

  it('deletes the new task set when its state cannot be read', async () => {
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    ecsMock
      .on(
        DescribeTaskSetsCommand,
        { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSets: [NEW_ARN] },
        true,
      )
      .rejects(serviceError('ThrottlingException', 'slow down'));
    givenDelete(NEW_ARN);

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toMatchObject({
      message: `checking the new task set ${NEW_ID} failed: ThrottlingException: slow down`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was deleted`,
    });
  });

  it('stops waiting for a new task set that went away', async () => {
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, replacement({ status: 'DRAINING' }));
    givenDelete(NEW_ARN);

    await expect(ecs_16.apply(state, changePlan(state), ctx)).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} went away before it reached a steady state`,
    });
    expect(sleeps).toEqual([15_000]);
  });

  it('deletes the steady new task set when it cannot be made primary', async () => {
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, steady());
    ecsMock
      .on(UpdateServicePrimaryTaskSetCommand)
      .rejects(serviceError('InvalidParameterException', 'no'));
    givenDelete(NEW_ARN);

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toMatchObject({
      message: `making ${NEW_ID} the primary task set failed: InvalidParameterException: no`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was steady but not made primary, and ${NEW_ID} was deleted`,
    });
    expect(ecsMock).not.toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: OLD_ARN });
  });

  it('keeps the working new primary when the old task set cannot be deleted', async () => {
    const state = await readFound();
    givenCreate(createInput('DISABLED', APPLY_TOKEN));
    givenStability(NEW_ARN, steady());
    givenPrimary(NEW_ARN);
    ecsMock.on(DeleteTaskSetCommand).rejects(serviceError('AccessDeniedException', 'no'));

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toMatchObject({
      message: `deleting the old task set ${OLD_ID} failed: AccessDeniedException: no`,
      stateLeft: `${NEW_ID} (without public IPs) is the primary task set and steady; the old task set ${OLD_ID} still exists: delete it with: aws ecs delete-task-set --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --task-set ${OLD_ARN} --force`,
    });
    expect(ecsMock).toHaveReceivedCommandTimes(DeleteTaskSetCommand, 1);
  });
});

describe('ECS.16 verify', () => {
  it('is satisfied when a primary twin without public IPs replaced the old task set', async () => {
    const state = await readFound();
    givenList(replacement(), taskSet({ status: 'DRAINING' }));

    expect(await ecs_16.verify(state, ctx)).toEqual({ ok: true });
  });

  it('reports an old task set that is still there', async () => {
    const state = await readFound();
    givenList(replacement({ status: 'ACTIVE' }), taskSet({ status: 'ACTIVE' }));

    expect(await ecs_16.verify(state, ctx)).toEqual({
      ok: false,
      reason: `${OLD_ID} is still ACTIVE`,
    });
  });

  it('reports a replacement that did not become primary', async () => {
    const state = await readFound();
    givenList(replacement({ status: 'ACTIVE' }));

    expect(await ecs_16.verify(state, ctx)).toEqual({
      ok: false,
      reason: `${NEW_ID} took the place of ${OLD_ID} but is ACTIVE, not PRIMARY`,
    });
  });

  it('reports when no task set without public IPs is there', async () => {
    const state = await readFound();
    givenList();

    expect(await ecs_16.verify(state, ctx)).toEqual({
      ok: false,
      reason: `no task set without public IPs took the place of ${OLD_ID}`,
    });
  });
});

describe('ECS.16 rollback', () => {
  const before: Ecs_16Before = { cluster: CLUSTER_ARN, service: SERVICE_ARN, taskSet: RECORD };
  const RESTORED_ID = 'ecs-svc/3333333333333333333';
  const RESTORED_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${RESTORED_ID}`;

  it('recreates the old task set with public IPs, makes it primary and deletes the replacement', async () => {
    // Prepare
    givenList(replacement());
    givenCreate(createInput('ENABLED', token(OLD_ARN, 'rollback')), RESTORED_ID, RESTORED_ARN);
    givenStability(
      RESTORED_ARN,
      taskSet({
        id: RESTORED_ID,
        taskSetArn: RESTORED_ARN,
        status: 'ACTIVE',
        stabilityStatus: 'STEADY_STATE',
      }),
    );
    givenPrimary(RESTORED_ARN);
    givenDelete(NEW_ARN);

    // Act
    const lines = await ecs_16.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      `created task set ${RESTORED_ID} like ${OLD_ID}, with assignPublicIp ENABLED as before`,
      `${RESTORED_ID} reached a steady state after 15 s`,
      `made ${RESTORED_ID} the primary task set of ${SERVICE_ARN}`,
      `deleted the old task set ${NEW_ID} (its tasks drain and stop)`,
      `${RESTORED_ID} takes the place of ${OLD_ID}, which was deleted`,
    ]);
  });

  it('finishes an apply that stopped before deleting the old task set', async () => {
    // The old task set is still there but no longer primary; the replacement is.
    givenList(taskSet({ status: 'ACTIVE' }), replacement());
    givenPrimary(OLD_ARN);
    givenDelete(NEW_ARN);

    const lines = await ecs_16.rollback(before, rollbackContext(clients));

    expect(lines).toEqual([
      `made ${OLD_ID} the primary task set again`,
      `deleted ${NEW_ID}, hubfix's replacement`,
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('changes nothing when the task set is already back', async () => {
    givenList(taskSet());

    expect(await ecs_16.rollback(before, rollbackContext(clients))).toEqual([
      `already restored: ${OLD_ID} runs with assignPublicIp ENABLED`,
    ]);
  });

  it('refuses to guess between two possible replacements', async () => {
    givenList(
      replacement(),
      replacement({ id: 'ecs-svc/9', taskSetArn: `${NEW_ARN}9`, status: 'ACTIVE' }),
    );

    await expect(ecs_16.rollback(before, rollbackContext(clients))).rejects.toBeInstanceOf(
      RollbackRefusedError,
    );
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('refuses when the service is gone', async () => {
    ecsMock.on(DescribeTaskSetsCommand).rejects(serviceError('ServiceNotFoundException'));

    await expect(ecs_16.rollback(before, rollbackContext(clients))).rejects.toThrow(
      `${SERVICE_ARN} no longer exists, so there is no task set to restore`,
    );
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ecs_16.before.parse(before, 'before').ok).toBe(true);
    expect(
      ecs_16.before.parse(
        { ...before, taskSet: { ...RECORD, scale: { value: 150, unit: 'PERCENT' } } },
        'before',
      ).ok,
    ).toBe(false);
    expect(
      ecs_16.before.parse({ ...before, taskSet: { ...RECORD, loadBalancers: undefined } }, 'before')
        .ok,
    ).toBe(false);
  });
});
