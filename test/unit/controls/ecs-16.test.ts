import { DescribeRouteTablesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateTaskSetCommand,
  type CreateTaskSetCommandInput,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ECS_16_MAX_STABILITY_SECONDS,
  type Ecs_16Params,
  REPLACES_TAG,
} from '../../../lambdas/controls/ecs-16/meta';
import {
  type Ecs_16Before,
  type EcsClients,
  ecs_16,
  type TaskSetState,
} from '../../../lambdas/controls/ecs-16/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { deadlineIn } from '../../../lambdas/core/deadline';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import type { ResourceRef } from '../../../lambdas/core/resource';
import { clientToken } from '../../../lambdas/services/ecs/task-sets';
import { findControl } from '../../../lib/controls';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { fakeClock, findingContext, rollbackContext } from '../../support/control';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/prod/web';
const OLD_ID = 'ecs-svc/1111111111111111111';
const OLD_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${OLD_ID}`;
const NEW_ID = 'ecs-svc/2222222222222222222';
const NEW_ARN = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${NEW_ID}`;
const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:111111111111:task-definition/web:7';
const TASK_ROLE = 'arn:aws:iam::111111111111:role/web-task';
const EXECUTION_ROLE = 'arn:aws:iam::111111111111:role/service-role/ecsTaskExecutionRole';
const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123456789abcdef';
const ALTERNATE_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web-green/0123456789abcdef';
const LISTENER_RULE =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/web/1/2/3';
const ref: ResourceRef = {
  type: 'Other',
  raw: OLD_ARN,
  partition: 'aws',
  account: '111111111111',
  region: 'us-east-1',
  id: `prod/web/${OLD_ID}`,
};
const T0 = Date.parse('2026-11-22T10:00:00Z');

function network(assignPublicIp: 'ENABLED' | 'DISABLED') {
  return {
    awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp },
  };
}

const LOAD_BALANCER = {
  targetGroupArn: TARGET_GROUP,
  containerName: 'web',
  containerPort: 8080,
  advancedConfiguration: {
    alternateTargetGroupArn: ALTERNATE_GROUP,
    productionListenerRule: LISTENER_RULE,
  },
};

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
    platformFamily: 'Linux',
    networkConfiguration: network('ENABLED'),
    loadBalancers: [LOAD_BALANCER],
    serviceRegistries: [],
    scale: { value: 100, unit: 'PERCENT' },
    stabilityStatus: 'STEADY_STATE',
    computedDesiredCount: 2,
    runningCount: 2,
    createdAt: new Date(T0 - 86_400_000),
    tags: [
      { key: 'environment', value: 'dev' },
      { key: 'aws:cloudformation:stack-name', value: 'web' },
    ],
    ...overrides,
  };
}

/** hubfix's replacement, as ECS lists it: its own id, public IPs off, the marker tag. */
const replacement = (overrides: Partial<TaskSet> = {}) =>
  taskSet({
    id: NEW_ID,
    taskSetArn: NEW_ARN,
    networkConfiguration: network('DISABLED'),
    createdAt: new Date(T0),
    tags: [
      { key: 'environment', value: 'dev' },
      { key: REPLACES_TAG, value: OLD_ID },
    ],
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
  loadBalancers: [LOAD_BALANCER],
  serviceRegistries: [],
  scale: { value: 100, unit: 'PERCENT' as const },
  network: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' as const },
  tags: [
    { key: 'environment', value: 'dev' },
    { key: 'aws:cloudformation:stack-name', value: 'web' },
  ],
};

/** The twin's request: every field CreateTaskSet accepts, copied, but public IPs off. */
function createInput(assignPublicIp: 'ENABLED' | 'DISABLED'): CreateTaskSetCommandInput {
  return {
    cluster: CLUSTER_ARN,
    service: SERVICE_ARN,
    taskDefinition: TASK_DEFINITION,
    externalId: 'blue',
    networkConfiguration: network(assignPublicIp),
    loadBalancers: [LOAD_BALANCER],
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    scale: { value: 100, unit: 'PERCENT' },
    // The aws: tag is AWS's own; ECS refuses it on create.
    tags:
      assignPublicIp === 'DISABLED'
        ? [
            { key: 'environment', value: 'dev' },
            { key: REPLACES_TAG, value: OLD_ID },
          ]
        : [{ key: 'environment', value: 'dev' }],
  };
}

/** The token is made from the service, the task set replaced and the request: nothing else. */
function twinInput(): CreateTaskSetCommandInput {
  const request = createInput('DISABLED');
  return {
    ...request,
    clientToken: clientToken(SERVICE_ARN, OLD_ARN, JSON.stringify(request)),
  };
}

const ecsMock = strictMock(ECSClient);
const ec2Mock = strictMock(EC2Client);
const clients: EcsClients = {
  ecs: new ECSClient({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
};
const PARAMS: Ecs_16Params = {
  stabilityTimeoutSeconds: 600,
  passRoles: { roles: ['web-task', 'service-role/ecsTaskExecutionRole'] },
};

let clock = fakeClock(T0);
let ctx: FindingContext<EcsClients, Ecs_16Params> = findingContext(clients, PARAMS);

/** A context whose deadline is `ms` from now on the test's clock. */
function withDeadline(ms: number, params: Ecs_16Params = PARAMS) {
  return findingContext(clients, params, {
    clock: clock.clock,
    deadline: deadlineIn(ms, clock.clock.now),
  });
}

/** What readState lists: every task set of the service, with tags. */
function givenTaskSets(...live: TaskSet[]) {
  ecsMock
    .on(DescribeTaskSetsCommand, { cluster: 'prod', service: 'web', include: ['TAGS'] }, true)
    .resolves({ taskSets: live });
}

function givenTaskDefinition(roles: { taskRoleArn?: string; executionRoleArn?: string }) {
  ecsMock
    .on(DescribeTaskDefinitionCommand, { taskDefinition: TASK_DEFINITION }, true)
    .resolves({ taskDefinition: { taskDefinitionArn: TASK_DEFINITION, ...roles } });
}

function givenCreate(input: CreateTaskSetCommandInput, id = NEW_ID, arn = NEW_ARN) {
  ecsMock.on(CreateTaskSetCommand, input, true).resolves({
    taskSet: { id, taskSetArn: arn, status: 'ACTIVE', stabilityStatus: 'STABILIZING' },
  });
}

/** Each look at one task set answers the next of `states`, the last one from then on. */
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

/** What verify and rollback list: every task set of the service (by ARN), with tags. */
function givenList(...listings: TaskSet[][]) {
  const stub = ecsMock.on(
    DescribeTaskSetsCommand,
    { cluster: CLUSTER_ARN, service: SERVICE_ARN, include: ['TAGS'] },
    true,
  );
  for (const taskSets of listings) stub.resolvesOnce({ taskSets });
  const last = listings.at(-1);
  if (last) stub.resolves({ taskSets: last });
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

const steady = (overrides: Partial<TaskSet> = {}) =>
  replacement({ status: 'ACTIVE', stabilityStatus: 'STEADY_STATE', ...overrides });
const stabilizing = (overrides: Partial<TaskSet> = {}) =>
  replacement({ status: 'ACTIVE', stabilityStatus: 'STABILIZING', ...overrides });

async function readFound(
  live: TaskSet[] = [taskSet()],
  context = ctx,
  roles: { taskRoleArn?: string; executionRoleArn?: string } = {
    taskRoleArn: TASK_ROLE,
    executionRoleArn: EXECUTION_ROLE,
  },
): Promise<TaskSetState> {
  givenTaskSets(...live);
  givenTaskDefinition(roles);
  const read = await ecs_16.readState(ref, context);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: TaskSetState, context = ctx): ChangePlan<Ecs_16Before> {
  const plan = ecs_16.plan(state, context);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

function callOrder(): string[] {
  return ecsMock.calls().map((call) => call.args[0].constructor.name);
}

beforeEach(() => {
  resetStrict(ecsMock);
  resetStrict(ec2Mock);
  clock = fakeClock(T0);
  ctx = findingContext(clients, PARAMS, { clock: clock.clock });
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

  it('waits 600 s by default, at most 720 s, and may pass no role unless told', () => {
    expect(ecs_16.params.parse({}, 'params')).toEqual({
      ok: true,
      value: { stabilityTimeoutSeconds: 600, passRoles: { roles: [] } },
    });
    expect(ecs_16.params.parse({ stabilityTimeoutSeconds: 721 }, 'params').ok).toBe(false);
    expect(ecs_16.params.parse({ stabilityTimeoutSeconds: 59 }, 'params').ok).toBe(false);
  });

  it('takes role names with their path, or a tag, and refuses ARNs', () => {
    expect(
      ecs_16.params.parse(
        {
          passRoles: {
            roles: ['web-task', 'service-role/ecsTaskExecutionRole'],
            tag: { key: 'hubfix:pass', value: 'ecs' },
          },
        },
        'params',
      ),
    ).toEqual({
      ok: true,
      value: {
        stabilityTimeoutSeconds: 600,
        passRoles: {
          roles: ['web-task', 'service-role/ecsTaskExecutionRole'],
          tag: { key: 'hubfix:pass', value: 'ecs' },
        },
      },
    });
    expect(ecs_16.params.parse({ passRoles: { roles: [TASK_ROLE] } }, 'p')).toEqual({
      ok: false,
      issues: [
        {
          path: 'p.passRoles.roles[0]',
          message: expect.stringContaining('expected a role name with its path'),
        },
      ],
    });
  });

  it('handles one finding per invocation, with a timeout that holds the longest wait', () => {
    const timeout = findControl('ECS.16')?.timeout?.toSeconds() ?? 0;

    expect(ecs_16.findingsPerInvocation).toBe(1);
    expect(timeout).toBeLessThanOrEqual(900);
    expect(timeout - ECS_16_MAX_STABILITY_SECONDS).toBeGreaterThanOrEqual(120);
  });
});

describe('ECS.16 readState', () => {
  it('reads everything CreateTaskSet accepts, the roles it would pass, and the tags', async () => {
    givenTaskSets(taskSet());
    givenTaskDefinition({ taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE });

    const read = await ecs_16.readState(ref, ctx);

    expect(read).toEqual({
      kind: 'found',
      state: {
        cluster: CLUSTER_ARN,
        service: SERVICE_ARN,
        taskSet: RECORD,
        stabilityStatus: 'STEADY_STATE',
        earlier: [],
        roles: {
          toTasks: [
            { arn: TASK_ROLE, as: 'task role' },
            { arn: EXECUTION_ROLE, as: 'execution role' },
          ],
          toEcs: [],
        },
      },
      tags: { environment: 'dev', 'aws:cloudformation:stack-name': 'web' },
    });
  });

  it("recognises an earlier run's replacement by its tag, and how old it is", async () => {
    const state = await readFound([
      taskSet(),
      stabilizing({ createdAt: new Date(T0 - 120_000) }),
      // Another task set without public IPs, not hubfix's: not taken for a replacement.
      steady({ id: 'ecs-svc/owner', taskSetArn: `${NEW_ARN}-owner`, tags: [] }),
    ]);

    expect(state.earlier).toEqual([
      {
        id: NEW_ID,
        arn: NEW_ARN,
        status: 'ACTIVE',
        stabilityStatus: 'STABILIZING',
        ageMs: 120_000,
        fits: true,
      },
    ]);
  });

  it('counts the original as primary when an earlier run already made its replacement primary', async () => {
    const state = await readFound([taskSet({ status: 'ACTIVE' }), replacement()]);

    expect(state.taskSet.primary).toBe(true);
  });

  it('does not read the task definition of a task set that assigns no public IPs', async () => {
    givenTaskSets(taskSet({ networkConfiguration: network('DISABLED') }));

    const read = await ecs_16.readState(ref, ctx);

    expect(read).toMatchObject({ kind: 'found', state: { roles: { toTasks: [], toEcs: [] } } });
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 0);
  });

  it.each([
    ['no longer exists', []],
    ['is draining', [taskSet({ status: 'DRAINING' })]],
  ])('does not apply to a task set that %s', async (_name, live) => {
    givenTaskSets(...live);

    expect(await ecs_16.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: `prod/web/${OLD_ID} no longer exists or is being deleted`,
    });
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
    givenTaskSets(taskSet({ networkConfiguration: undefined }));

    expect(await ecs_16.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: expect.stringContaining('has no awsvpc network configuration'),
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    givenTaskSets(taskSet());
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(serviceError('AccessDeniedException'));

    await expect(ecs_16.readState(ref, ctx)).rejects.toThrow('AccessDeniedException');
  });
});

describe('ECS.16 plan', () => {
  it('describes the replacement, the roles it passes, and how to undo it', async () => {
    const plan = changePlan(await readFound());

    expect(plan.summary).toBe(
      `replace task set ${OLD_ID} of ECS service web with a copy that assigns no public IPs`,
    );
    expect(plan.steps).toEqual([
      `create a task set in web like ${OLD_ID} (task definition ${TASK_DEFINITION}, scale 100 PERCENT, launch type FARGATE, platform version 1.4.0, 1 load balancer target(s), 0 service registries, 1 tag(s)), in the same subnets subnet-a and security groups sg-1, with assignPublicIp DISABLED, tagged ${REPLACES_TAG}=${OLD_ID}; ECS tasks get the task definition's task role ${TASK_ROLE} and execution role ${EXECUTION_ROLE}`,
      `wait up to 600 s for it to reach a steady state; if it does not, or this invocation's time runs out first, delete it and leave ${OLD_ID} as it is`,
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
    const plan = changePlan(await readFound([taskSet({ status: 'ACTIVE' })]));

    expect(plan.steps.join('\n')).not.toContain('primary');
    expect(plan.undo).toHaveLength(2);
  });

  it('plans to finish a steady replacement an earlier run left, not to create another', async () => {
    const plan = changePlan(await readFound([taskSet(), steady()]));

    expect(plan.summary).toBe(
      `finish replacing task set ${OLD_ID} of ECS service web with ${NEW_ID}, a copy that assigns no public IPs`,
    );
    expect(plan.steps[0]).toBe(
      `finish ${NEW_ID}, the replacement without public IPs an earlier run of hubfix created: it is steady`,
    );
    expect(plan.undo.at(-1)).toContain(`--task-set ${NEW_ID} --force`);
  });

  it('plans to delete a replacement that never became steady', async () => {
    const state = await readFound([taskSet(), stabilizing({ createdAt: new Date(T0 - 700_000) })]);

    expect(changePlan(state).steps).toEqual([
      `delete ${NEW_ID}, the replacement an earlier run of hubfix created: it has not reached a steady state in 600 s; ${OLD_ID} stays as it is`,
    ]);
  });

  it('sees a task set that assigns no public IPs as compliant', async () => {
    givenTaskSets(taskSet({ networkConfiguration: network('DISABLED') }));
    const read = await ecs_16.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');

    expect(ecs_16.plan(read.state, ctx)).toEqual({
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

  it('blocks by default, naming the roles the task definition would need passed', async () => {
    const noRoles = findingContext(clients, { ...PARAMS, passRoles: { roles: [] } });
    const state = await readFound();
    givenController('EXTERNAL');

    expect(await ecs_16.preflight(state, noRoles)).toEqual([
      `CreateTaskSet passes the task definition's task role ${TASK_ROLE} and execution role ${EXECUTION_ROLE} to ECS tasks, and hubfix may pass no role it is not given. Add "web-task", "service-role/ecsTaskExecutionRole" to controls["ECS.16"].passRoles.roles (or tag the roles and set passRoles.tag), then deploy hubfix again.`,
    ]);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('names only the roles that are not listed', async () => {
    const some = findingContext(clients, { ...PARAMS, passRoles: { roles: ['web-task'] } });
    const state = await readFound();
    givenController('EXTERNAL');

    const [blocker] = await ecs_16.preflight(state, some);

    expect(blocker).toContain(`task definition's execution role ${EXECUTION_ROLE} to ECS tasks`);
    expect(blocker).not.toContain(TASK_ROLE);
  });

  it('leaves a tag-based grant to IAM, which checks the tag when the roles are passed', async () => {
    const byTag = findingContext(clients, {
      ...PARAMS,
      passRoles: { roles: [], tag: { key: 'hubfix:pass', value: 'ecs' } },
    });
    const state = await readFound();
    givenController('EXTERNAL');
    givenRoutes({ NatGatewayId: 'nat-1' });

    expect(await ecs_16.preflight(state, byTag)).toEqual([]);
  });

  it('passes no role for a task definition without roles', async () => {
    const noRoles = findingContext(clients, { ...PARAMS, passRoles: { roles: [] } });
    const state = await readFound([taskSet()], ctx, {});
    givenController('EXTERNAL');
    givenRoutes({ NatGatewayId: 'nat-1' });

    expect(await ecs_16.preflight(state, noRoles)).toEqual([]);
  });

  it("blocks a load balancer's advanced configuration role, which would go to ECS itself", async () => {
    const lbRole = 'arn:aws:iam::111111111111:role/ecs-infrastructure';
    const state = await readFound([
      taskSet({
        loadBalancers: [
          {
            ...LOAD_BALANCER,
            advancedConfiguration: { ...LOAD_BALANCER.advancedConfiguration, roleArn: lbRole },
          },
        ],
      }),
    ]);
    givenController('EXTERNAL');

    expect(await ecs_16.preflight(state, ctx)).toEqual([
      expect.stringContaining(
        `a load balancer's advanced configuration names ${lbRole}, which CreateTaskSet would pass to ECS itself`,
      ),
    ]);
  });

  it('waits for a task set that is still stabilizing, without asking AWS', async () => {
    const state = await readFound([taskSet({ stabilityStatus: 'STABILIZING' })]);
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
  it('creates a tagged twin with every field copied, waits until steady, switches and deletes', async () => {
    // Prepare
    const state = await readFound();
    const plan = changePlan(state);
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing(), stabilizing(), steady());
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
    expect(clock.sleeps).toEqual([15_000, 15_000]);
    expect(callOrder().slice(2)).toEqual([
      'CreateTaskSetCommand',
      'DescribeTaskSetsCommand',
      'DescribeTaskSetsCommand',
      'DescribeTaskSetsCommand',
      'UpdateServicePrimaryTaskSetCommand',
      'DeleteTaskSetCommand',
    ]);
  });

  it('asks for the same twin whatever finding names the task set: the token is the resource', async () => {
    // Two findings (FSBP and consolidated, say) for one task set.
    const first = findingContext(clients, PARAMS, {
      finding: {
        Id: 'finding-fsbp',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        GeneratorId: 'security-control/ECS.16',
        AwsAccountId: '111111111111',
        UpdatedAt: '2026-11-22T10:00:00Z',
        Resources: [],
      },
    });
    const second = findingContext(clients, PARAMS, {
      finding: {
        Id: 'finding-consolidated',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        GeneratorId: 'security-control/ECS.16',
        AwsAccountId: '111111111111',
        UpdatedAt: '2026-11-23T08:00:00Z',
        Resources: [],
      },
    });
    const state = await readFound();
    ecsMock.on(CreateTaskSetCommand).rejects(serviceError('ServerException', 'stop here'));

    await expect(ecs_16.apply(state, changePlan(state), first)).rejects.toThrow('stop here');
    await expect(ecs_16.apply(state, changePlan(state), second)).rejects.toThrow('stop here');

    const tokens = ecsMock
      .commandCalls(CreateTaskSetCommand)
      .map((call) => call.args[0].input.clientToken);
    expect(tokens).toEqual([twinInput().clientToken, twinInput().clientToken]);
    expect(twinInput().clientToken).toMatch(/^hubfix-[0-9a-f]{29}$/);
  });

  it('asks again with a derived token when ECS answers with a replacement already deleted', async () => {
    // Prepare: an earlier attempt's replacement was deleted; the same token replays it.
    const state = await readFound();
    const gone = 'ecs-svc/0000000000000000000';
    const goneArn = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${gone}`;
    givenCreate(twinInput(), gone, goneArn);
    givenStability(goneArn, replacement({ id: gone, taskSetArn: goneArn, status: 'DRAINING' }));
    const renewed = {
      ...twinInput(),
      clientToken: clientToken(twinInput().clientToken ?? '', gone),
    };
    givenCreate(renewed);
    givenStability(NEW_ARN, stabilizing(), steady());
    givenPrimary(NEW_ARN);
    givenDelete(OLD_ARN);

    // Act
    const result = await ecs_16.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes.slice(0, 2)).toEqual([
      `ECS answered with ${gone}, an earlier replacement already deleted; asked again`,
      `created task set ${NEW_ID} without public IPs`,
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 2);
    expect(ecsMock).not.toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: goneArn });
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
    const state = await readFound([
      taskSet({
        launchType: undefined,
        platformVersion: undefined,
        capacityProviderStrategy: strategy,
        serviceRegistries: registries,
      }),
    ]);
    const {
      launchType: _launchType,
      platformVersion: _platform,
      clientToken: _token,
      ...rest
    } = twinInput();
    const request = { ...rest, serviceRegistries: registries, capacityProviderStrategy: strategy };
    givenCreate({
      ...request,
      clientToken: clientToken(
        SERVICE_ARN,
        OLD_ARN,
        JSON.stringify(
          // The token covers the request in the order hubfix builds it.
          {
            cluster: CLUSTER_ARN,
            service: SERVICE_ARN,
            taskDefinition: TASK_DEFINITION,
            externalId: 'blue',
            networkConfiguration: network('DISABLED'),
            loadBalancers: [LOAD_BALANCER],
            serviceRegistries: registries,
            capacityProviderStrategy: strategy,
            scale: { value: 100, unit: 'PERCENT' },
            tags: createInput('DISABLED').tags,
          },
        ),
      ),
    });
    givenStability(NEW_ARN, steady());
    givenPrimary(NEW_ARN);
    givenDelete(OLD_ARN);

    // Act
    const result = await ecs_16.apply(state, changePlan(state), ctx);

    // Assess
    expect(result.changes).toHaveLength(4);
    expect(state.taskSet.capacityProviderStrategy).toEqual(strategy);
  });

  it('starts no replacement it has not the time to finish', async () => {
    // 600 s to become steady and the calls around it need more than 10 minutes.
    const short = withDeadline(600_000);
    const state = await readFound([taskSet()], short);

    const apply = ecs_16.apply(state, changePlan(state, short), short);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message:
        'not enough time left to replace the task set: 600 s, and a replacement may need 640 s (up to 600 s to become steady, and the calls around it)',
      stateLeft: `unchanged: ${OLD_ID} is still in place as the primary task set and serving; nothing was created`,
    });
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('stops cleanly when the invocation runs out of time mid-wait, deleting its replacement', async () => {
    // Prepare: enough time at the start, but CreateTaskSet was throttled and retried for 20 s.
    const short = withDeadline(640_000);
    const state = await readFound([taskSet()], short);
    ecsMock.on(CreateTaskSetCommand, twinInput(), true).callsFake(async () => {
      await clock.clock.sleep(20_000);
      return { taskSet: { id: NEW_ID, taskSetArn: NEW_ARN, status: 'ACTIVE' } };
    });
    givenStability(NEW_ARN, stabilizing());
    givenDelete(NEW_ARN);

    // Act
    const apply = ecs_16.apply(state, changePlan(state, short), short);

    // Assess: it waited what was left (590 s), kept 30 s to delete its replacement.
    await expect(apply).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} was not steady when this invocation's time ran out (after 590 s)`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was deleted`,
    });
    expect(short.deadline.remainingMs()).toBe(30_000);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServicePrimaryTaskSetCommand, 0);
    expect(ecsMock).not.toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: OLD_ARN });
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
    const oneMinute = findingContext(
      clients,
      { ...PARAMS, stabilityTimeoutSeconds: 60 },
      {
        clock: clock.clock,
      },
    );
    const state = await readFound([taskSet()], oneMinute);
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing());
    givenDelete(NEW_ARN);

    // Act
    const apply = ecs_16.apply(state, changePlan(state, oneMinute), oneMinute);

    // Assess
    await expect(apply).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} did not reach a steady state within 60 s`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was deleted`,
    });
    expect(clock.sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServicePrimaryTaskSetCommand, 0);
    expect(ecsMock).not.toHaveReceivedCommandWith(DeleteTaskSetCommand, { taskSet: OLD_ARN });
  });

  it('says how to delete the new task set by hand when even that fails', async () => {
    const oneMinute = findingContext(clients, { ...PARAMS, stabilityTimeoutSeconds: 60 });
    const state = await readFound([taskSet()], oneMinute);
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing());
    ecsMock.on(DeleteTaskSetCommand).rejects(serviceError('ServerException', 'try later'));

    const apply = ecs_16.apply(state, changePlan(state, oneMinute), oneMinute);

    await expect(apply).rejects.toMatchObject({
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} could not be deleted (ServerException: try later); delete it with: aws ecs delete-task-set --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --task-set ${NEW_ARN} --force`,
    });
  });

  it('deletes the new task set when its state cannot be read', async () => {
    const state = await readFound();
    givenCreate(twinInput());
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
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing(), replacement({ status: 'DRAINING' }));
    givenDelete(NEW_ARN);

    await expect(ecs_16.apply(state, changePlan(state), ctx)).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} went away before it reached a steady state`,
    });
    expect(clock.sleeps).toEqual([15_000]);
  });

  it('deletes the steady new task set when it cannot be made primary', async () => {
    const state = await readFound();
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing(), steady());
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
    givenCreate(twinInput());
    givenStability(NEW_ARN, stabilizing(), steady());
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

describe('ECS.16 on re-entry: what an interrupted run left', () => {
  it('finishes a steady replacement: makes it primary and deletes the original, creating nothing', async () => {
    const state = await readFound([taskSet(), steady()]);
    givenStability(NEW_ARN, steady());
    givenPrimary(NEW_ARN);
    givenDelete(OLD_ARN);

    const result = await ecs_16.apply(state, changePlan(state), ctx);

    expect(result.changes).toEqual([
      `took over ${NEW_ID} without public IPs, which an earlier run created`,
      `${NEW_ID} reached a steady state after 0 s`,
      `made ${NEW_ID} the primary task set of ${SERVICE_ARN}`,
      `deleted the old task set ${OLD_ID} (its tasks drain and stop)`,
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('waits for a replacement still stabilizing for what is left of its window', async () => {
    // Created 9 minutes ago: 60 s of its 600 s are left.
    const state = await readFound([taskSet(), stabilizing({ createdAt: new Date(T0 - 540_000) })]);
    givenStability(NEW_ARN, stabilizing());
    givenDelete(NEW_ARN);

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toMatchObject({
      message: `the new task set ${NEW_ID} did not reach a steady state within 60 s`,
      stateLeft: `${OLD_ID} is still in place as the primary task set and serving; ${NEW_ID} was deleted`,
    });
    expect(clock.sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('removes a replacement whose window has passed, and reports the original unchanged', async () => {
    const state = await readFound([taskSet(), stabilizing({ createdAt: new Date(T0 - 700_000) })]);
    givenDelete(NEW_ARN);

    const apply = ecs_16.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toMatchObject({
      message: `${NEW_ID}, the replacement an earlier run created, did not reach a steady state within 600 s`,
      stateLeft: `${OLD_ID} is still in place and serving, assigning public IPs; deleted ${NEW_ID}, an earlier replacement of hubfix's that no longer fits`,
    });
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it('only deletes the original when the replacement is already primary', async () => {
    const state = await readFound([taskSet({ status: 'ACTIVE' }), replacement()]);
    givenDelete(OLD_ARN);

    const result = await ecs_16.apply(state, changePlan(state), ctx);

    expect(result.changes).toEqual([
      `${NEW_ID} (without public IPs) was already the primary task set`,
      `deleted the old task set ${OLD_ID} (its tasks drain and stop)`,
    ]);
    expect(callOrder().slice(2)).toEqual(['DeleteTaskSetCommand']);
  });

  it('removes an earlier replacement that no longer fits, then creates a fitting one', async () => {
    // The earlier replacement runs an older task definition.
    const stale = stabilizing({ taskDefinition: `${TASK_DEFINITION.slice(0, -1)}6` });
    const state = await readFound([taskSet(), stale]);
    givenDelete(NEW_ARN);
    const newer = 'ecs-svc/3333333333333333333';
    const newerArn = `arn:aws:ecs:us-east-1:111111111111:task-set/prod/web/${newer}`;
    givenCreate(twinInput(), newer, newerArn);
    givenStability(
      newerArn,
      stabilizing({ id: newer, taskSetArn: newerArn }),
      steady({ id: newer, taskSetArn: newerArn }),
    );
    givenPrimary(newerArn);
    givenDelete(OLD_ARN);

    const result = await ecs_16.apply(state, changePlan(state), ctx);

    expect(result.changes[0]).toBe(
      `deleted ${NEW_ID}, an earlier replacement of hubfix's that no longer fits`,
    );
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 1);
  });
});

describe('ECS.16 verify', () => {
  it('is satisfied when a primary twin without public IPs replaced the old task set', async () => {
    const state = await readFound();
    givenList([replacement(), taskSet({ status: 'DRAINING' })]);

    expect(await ecs_16.verify(state, ctx)).toEqual({ ok: true });
  });

  it('verifies once a lagging listing no longer shows the old task set', async () => {
    const state = await readFound();
    givenList([replacement(), taskSet({ status: 'ACTIVE' })], [replacement()]);

    expect(await ecs_16.verify(state, ctx)).toEqual({ ok: true });
    expect(clock.sleeps).toEqual([1_000]);
  });

  it('reports an old task set that is still there once the backoff is spent', async () => {
    const state = await readFound();
    givenList([replacement({ status: 'ACTIVE' }), taskSet({ status: 'ACTIVE' })]);

    expect(await ecs_16.verify(state, ctx)).toEqual({
      ok: false,
      reason: `${OLD_ID} is still ACTIVE`,
    });
    expect(clock.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('reports a replacement that did not become primary', async () => {
    const state = await readFound();
    givenList([replacement({ status: 'ACTIVE' })]);

    expect(await ecs_16.verify(state, ctx)).toEqual({
      ok: false,
      reason: `${NEW_ID} took the place of ${OLD_ID} but is ACTIVE, not PRIMARY`,
    });
  });

  it('reports when no task set without public IPs is there', async () => {
    const state = await readFound();
    givenList([]);

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
    givenList([replacement()]);
    givenCreate(
      { ...createInput('ENABLED'), clientToken: clientToken(OLD_ARN, 'rollback') },
      RESTORED_ID,
      RESTORED_ARN,
    );
    givenStability(
      RESTORED_ARN,
      taskSet({
        id: RESTORED_ID,
        taskSetArn: RESTORED_ARN,
        status: 'ACTIVE',
        stabilityStatus: 'STABILIZING',
      }),
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
    givenList([taskSet({ status: 'ACTIVE' }), replacement()]);
    givenPrimary(OLD_ARN);
    givenDelete(NEW_ARN);

    const lines = await ecs_16.rollback(before, rollbackContext(clients));

    expect(lines).toEqual([
      `made ${OLD_ID} the primary task set again`,
      `deleted ${NEW_ID}, hubfix's replacement`,
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(CreateTaskSetCommand, 0);
  });

  it("deletes only hubfix's tagged replacement, not the owner's own task set without public IPs", async () => {
    const owners = steady({ id: 'ecs-svc/owner', taskSetArn: `${NEW_ARN}-owner`, tags: [] });
    givenList([taskSet({ status: 'ACTIVE' }), replacement(), owners]);
    givenPrimary(OLD_ARN);
    givenDelete(NEW_ARN);

    await ecs_16.rollback(before, rollbackContext(clients));

    expect(ecsMock).toHaveReceivedCommandTimes(DeleteTaskSetCommand, 1);
  });

  it('changes nothing when the task set is already back', async () => {
    givenList([taskSet()]);

    expect(await ecs_16.rollback(before, rollbackContext(clients))).toEqual([
      `already restored: ${OLD_ID} runs with assignPublicIp ENABLED`,
    ]);
  });

  it('refuses to guess between two possible replacements', async () => {
    givenList([
      replacement({ tags: [] }),
      replacement({ id: 'ecs-svc/9', taskSetArn: `${NEW_ARN}9`, status: 'ACTIVE', tags: [] }),
    ]);

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
