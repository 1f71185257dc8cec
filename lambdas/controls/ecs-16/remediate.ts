/**
 * ECS.16 — an ECS task set should not give its tasks public IP addresses.
 *
 * A task set's network configuration cannot be changed, so hubfix replaces
 * the task set (seed 002, for services with the EXTERNAL deployment
 * controller): it creates a twin with everything CreateTaskSet accepts
 * copied (task definition, external id, load balancers with their advanced
 * configuration, service registries, capacity, scale, tags) but
 * `assignPublicIp: DISABLED`, waits until the twin is steady, makes it
 * primary when the original was, and deletes the original. Until the twin is
 * primary, any failure deletes the twin again, so the service always keeps a
 * working primary task set.
 *
 * Waiting for a steady state takes minutes, so one invocation handles one
 * finding and starts no replacement it has not the time to finish. The twin
 * carries the tag `hubfix:replaces=<original id>`: a run cut off before it
 * finished leaves a twin the next attempt recognises and finishes (steady:
 * make it primary, delete the original) or removes, rather than creating
 * another. The client token is made from the resource (service, original task
 * set, requested configuration), so two deliveries of any findings about the
 * same task set create one twin.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { systemClock } from '../../core/clock';
import { type Control, foundAtRunTime } from '../../core/control';
import { NO_DEADLINE } from '../../core/deadline';
import { PartialChangeError, RollbackRefusedError } from '../../core/errors';
import { type Infer, object, string } from '../../core/schema';
import {
  type AssignPublicIp,
  awsVpcOf,
  describeNetwork,
  internetOnlyBlocker,
  sameNetwork,
} from '../../services/ecs/network';
import {
  clusterMismatch,
  ecsTaskSetResource,
  parseTaskSetArn,
  serviceMismatch,
  taskSetNameOf,
} from '../../services/ecs/resources';
import { ecsTagsOf } from '../../services/ecs/tags';
import {
  clientToken,
  createTaskSetCommand,
  createTaskSetInput,
  deleteTaskSetCommand,
  describeTaskSetRecord,
  listTaskSets,
  type ReplacementStart,
  recordTaskSet,
  removeTaskSets,
  replaceTaskSet,
  retireReplaced,
  type TaskSetRecord,
  tagValue,
  taskSetRecordSchema,
} from '../../services/ecs/task-sets';
import { verifyEventually } from '../../services/wait';
import { ECS_TASKS_SERVICE, type Ecs_16Params, ecs_16Meta, REPLACES_TAG } from './meta';

export interface EcsClients {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
}

/** A task set hubfix created earlier to replace this one (tagged `hubfix:replaces`). */
export interface EarlierReplacement {
  readonly id: string;
  readonly arn: string;
  readonly status: string | undefined;
  readonly stabilityStatus: string | undefined;
  /** How long ago ECS created it, when ECS said. */
  readonly ageMs: number | undefined;
  /** Same task definition and network as the original, with public IPs off: it can be finished. */
  readonly fits: boolean;
}

/** The roles CreateTaskSet would pass on for this task set. */
export interface PassedRoles {
  /** The task definition's task and execution roles, passed to ECS tasks. */
  readonly toTasks: readonly { readonly arn: string; readonly as: string }[];
  /** Roles in load balancers' advanced configuration, passed to ECS itself. */
  readonly toEcs: readonly string[];
}

export interface TaskSetState {
  /** Cluster and service as ECS named them (ARNs), for every later call. */
  readonly cluster: string;
  readonly service: string;
  readonly taskSet: TaskSetRecord;
  readonly stabilityStatus: string | undefined;
  /** Replacements an earlier run left; at most one of them is finished, the rest removed. */
  readonly earlier: readonly EarlierReplacement[];
  /** Read only when the task set assigns public IPs (the only time a twin is made). */
  readonly roles: PassedRoles;
}

export const ecs_16Before = object({
  cluster: string({ minLength: 1 }),
  service: string({ minLength: 1 }),
  taskSet: taskSetRecordSchema,
});

export type Ecs_16Before = Infer<typeof ecs_16Before>;

/** A rollback runs from the CLI, without Lambda's time limit, but still not forever. */
export const ROLLBACK_STABILITY_MS = 600_000;

const GONE = new Set([
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'ServiceNotActiveException',
]);

function isGone(error: unknown): boolean {
  return error instanceof Error && GONE.has(error.name);
}

function lastPart(arn: string): string {
  return arn.split('/').at(-1) ?? arn;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

/**
 * The client token: from the service, the task set replaced and the exact
 * request, never from the finding, so every finding about this task set
 * (FSBP, consolidated, the new Security Hub) asks for the same twin.
 */
function tokenFor(service: string, record: TaskSetRecord, request: object): string {
  return clientToken(service, record.arn, JSON.stringify(request));
}

function twinRequest(cluster: string, service: string, record: TaskSetRecord) {
  const request = createTaskSetInput(cluster, service, record, 'DISABLED', {
    marker: { key: REPLACES_TAG, value: record.id },
  });
  return { ...request, clientToken: tokenFor(service, record, request) };
}

/** The CreateTaskSet request a rollback sends: the original again, as it was, without hubfix's marker. */
function restoreRequest({ cluster, service, taskSet: record }: Ecs_16Before) {
  return {
    ...createTaskSetInput(cluster, service, record, record.network.assignPublicIp, {
      dropTagKeys: [REPLACES_TAG],
    }),
    clientToken: clientToken(record.arn, 'rollback'),
  };
}

/** Not draining, same task definition, subnets and groups, and the given public IP setting. */
function isTwin(taskSet: TaskSet, record: TaskSetRecord, assignPublicIp: AssignPublicIp): boolean {
  const network = awsVpcOf(taskSet.networkConfiguration);
  return (
    taskSet.status !== 'DRAINING' &&
    taskSet.taskDefinition === record.taskDefinition &&
    network !== undefined &&
    sameNetwork(network, { ...record.network, assignPublicIp })
  );
}

function replacesOf(taskSets: readonly TaskSet[], originalId: string): TaskSet[] {
  return taskSets.filter(
    (t) => t.status !== 'DRAINING' && tagValue(t, REPLACES_TAG) === originalId,
  );
}

/** What this attempt does with what an earlier one left. */
type Course =
  | { readonly kind: 'create'; readonly remove: readonly EarlierReplacement[] }
  | {
      readonly kind: 'finish';
      readonly replacement: EarlierReplacement;
      /** How long it may still take to become steady. */
      readonly windowMs: number;
      readonly remove: readonly EarlierReplacement[];
    }
  | {
      readonly kind: 'retire-original';
      readonly replacement: EarlierReplacement;
      readonly remove: readonly EarlierReplacement[];
    }
  | {
      readonly kind: 'give-up';
      readonly replacement: EarlierReplacement;
      readonly remove: readonly EarlierReplacement[];
    };

function courseFor(state: TaskSetState, stabilityMs: number): Course {
  const fitting = state.earlier.find((r) => r.fits);
  const remove = state.earlier.filter((r) => r !== fitting);
  if (!fitting) return { kind: 'create', remove };
  if (fitting.status === 'PRIMARY')
    return { kind: 'retire-original', replacement: fitting, remove };
  const windowMs = stabilityMs - (fitting.ageMs ?? 0);
  // A steady one gets at least a look, in case it stopped being steady meanwhile.
  if (fitting.stabilityStatus === 'STEADY_STATE') {
    return { kind: 'finish', replacement: fitting, windowMs: Math.max(windowMs, 1), remove };
  }
  return windowMs > 0
    ? { kind: 'finish', replacement: fitting, windowMs, remove }
    : { kind: 'give-up', replacement: fitting, remove };
}

/** The role's name with its path, from its ARN (task definitions may also give a bare name). */
function roleNameOf(arnOrName: string): string {
  const at = arnOrName.indexOf(':role/');
  return at >= 0 ? arnOrName.slice(at + ':role/'.length) : arnOrName;
}

function rolesBlocker(state: TaskSetState, params: Ecs_16Params): string | undefined {
  const { toTasks, toEcs } = state.roles;
  if (toEcs.length > 0) {
    return (
      `a load balancer's advanced configuration names ${toEcs.join(', ')}, which CreateTaskSet would pass to ECS itself; ` +
      `hubfix passes roles only to ${ECS_TASKS_SERVICE}, so it does not replace ${state.taskSet.id}. ` +
      'Create the replacement by hand with the same configuration and assignPublicIp DISABLED.'
    );
  }
  if (params.passRoles.tag) return undefined; // IAM checks the tag when CreateTaskSet passes them.
  const allowed = new Set(params.passRoles.roles);
  const missing = toTasks.filter((role) => !allowed.has(roleNameOf(role.arn)));
  if (missing.length === 0) return undefined;
  return (
    `CreateTaskSet passes the task definition's ${missing
      .map((role) => `${role.as} ${role.arn}`)
      .join(' and ')} to ECS tasks, and hubfix may pass no role it is not given. ` +
    `Add ${missing.map((role) => `"${roleNameOf(role.arn)}"`).join(', ')} to controls["ECS.16"].passRoles.roles ` +
    '(or tag the roles and set passRoles.tag), then deploy hubfix again.'
  );
}

function controllerBlocker(controller: string, state: TaskSetState): string | undefined {
  const service = lastPart(state.service);
  switch (controller) {
    case 'EXTERNAL':
      return undefined;
    case 'CODE_DEPLOY':
      return (
        `${service} is deployed by CodeDeploy, which creates and deletes its task sets itself. ` +
        'Set assignPublicIp to DISABLED in the network configuration of its CodeDeploy deployment (the AppSpec file or the deployment group) and deploy again.'
      );
    case 'ECS':
      return (
        `${service} uses the ECS deployment controller, which manages its task sets itself. ` +
        'Turn off public IPs on the service instead (hubfix ECS.2 does this).'
      );
    default:
      return `${service} uses the deployment controller "${controller}"; hubfix replaces task sets only for the EXTERNAL controller.`;
  }
}

async function rolesOf(ecs: ECSClient, record: TaskSetRecord): Promise<PassedRoles> {
  const { taskDefinition } = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: record.taskDefinition }),
  );
  const toTasks = [
    ...(taskDefinition?.taskRoleArn ? [{ arn: taskDefinition.taskRoleArn, as: 'task role' }] : []),
    ...(taskDefinition?.executionRoleArn
      ? [{ arn: taskDefinition.executionRoleArn, as: 'execution role' }]
      : []),
  ];
  const toEcs = record.loadBalancers.flatMap((lb) =>
    lb.advancedConfiguration?.roleArn ? [lb.advancedConfiguration.roleArn] : [],
  );
  return { toTasks, toEcs };
}

function earlierReplacement(
  taskSet: TaskSet,
  record: TaskSetRecord,
  now: number,
): EarlierReplacement | undefined {
  if (!taskSet.id || !taskSet.taskSetArn) return undefined;
  return {
    id: taskSet.id,
    arn: taskSet.taskSetArn,
    status: taskSet.status,
    stabilityStatus: taskSet.stabilityStatus,
    ageMs: taskSet.createdAt ? Math.max(0, now - taskSet.createdAt.getTime()) : undefined,
    fits: isTwin(taskSet, record, 'DISABLED'),
  };
}

function planSteps(state: TaskSetState, course: Course, params: Ecs_16Params): string[] {
  const { taskSet: record, service } = state;
  const removing = course.remove.map(
    (r) =>
      `delete ${r.id}, a replacement an earlier run of hubfix created that no longer fits ${record.id}`,
  );
  const switchAndRetire = (id: string) => [
    ...(record.primary ? [`make ${id} the primary task set of the service`] : []),
    `delete ${record.id} (force): its tasks with public IPs drain and stop`,
  ];
  const check = 'check that the new task set has no public IPs and that the old one is gone';
  switch (course.kind) {
    case 'create': {
      const roles = state.roles.toTasks;
      return [
        ...removing,
        `create a task set in ${lastPart(service)} like ${record.id} (${describeTaskSetRecord(record)}), in the same ${describeNetwork(record.network)}, with assignPublicIp DISABLED, tagged ${REPLACES_TAG}=${record.id}${
          roles.length > 0
            ? `; ECS tasks get the task definition's ${roles.map((r) => `${r.as} ${r.arn}`).join(' and ')}`
            : ''
        }`,
        `wait up to ${params.stabilityTimeoutSeconds} s for it to reach a steady state; if it does not, or this invocation's time runs out first, delete it and leave ${record.id} as it is`,
        ...switchAndRetire('it'),
        check,
      ];
    }
    case 'finish':
      return [
        ...removing,
        `finish ${course.replacement.id}, the replacement without public IPs an earlier run of hubfix created: ${
          course.replacement.stabilityStatus === 'STEADY_STATE'
            ? 'it is steady'
            : `wait up to ${seconds(course.windowMs)} s more for it to reach a steady state (delete it if it does not)`
        }`,
        ...switchAndRetire(course.replacement.id),
        check,
      ];
    case 'retire-original':
      return [
        ...removing,
        `${course.replacement.id}, the replacement without public IPs an earlier run of hubfix created, is already the primary task set`,
        `delete ${record.id} (force): its tasks with public IPs drain and stop`,
        check,
      ];
    case 'give-up':
      return [
        ...removing,
        `delete ${course.replacement.id}, the replacement an earlier run of hubfix created: it has not reached a steady state in ${params.stabilityTimeoutSeconds} s; ${record.id} stays as it is`,
      ];
  }
}

export const ecs_16: Control<TaskSetState, Ecs_16Before, Ecs_16Params, EcsClients> = {
  ...ecs_16Meta,
  resource: ecsTaskSetResource(),
  before: ecs_16Before,
  // A replacement waits minutes for a steady state: one per invocation.
  findingsPerInvocation: 1,

  createClients: (options) => ({ ecs: new ECSClient(options), ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ecs }, clock }) {
    const name = taskSetNameOf(ref);
    let taskSets: TaskSet[];
    try {
      taskSets = await listTaskSets(ecs, name.cluster, name.service);
    } catch (error) {
      if (isGone(error)) {
        return {
          kind: 'not-applicable',
          reason: `${ref.id} no longer exists: its service or cluster is gone`,
        };
      }
      throw error;
    }
    const taskSet = taskSets.find((t) => t.taskSetArn === ref.raw || t.id === name.taskSet);
    if (!taskSet || taskSet.status === 'DRAINING') {
      return { kind: 'not-applicable', reason: `${ref.id} no longer exists or is being deleted` };
    }
    const recorded = recordTaskSet(taskSet);
    if (!recorded) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} has no awsvpc network configuration, so its tasks get no public IPs of their own and ECS.16 does not apply`,
      };
    }
    const now = clock.now();
    const earlier = replacesOf(taskSets, recorded.id).flatMap(
      (t) => earlierReplacement(t, recorded, now) ?? [],
    );
    // An earlier run that made its replacement primary took the role from this task set.
    const record = {
      ...recorded,
      primary: recorded.primary || earlier.some((r) => r.fits && r.status === 'PRIMARY'),
    };
    const roles =
      record.network.assignPublicIp === 'ENABLED'
        ? await rolesOf(ecs, record)
        : { toTasks: [], toEcs: [] };
    return {
      kind: 'found',
      state: {
        cluster: taskSet.clusterArn ?? name.cluster,
        service: taskSet.serviceArn ?? name.service,
        taskSet: record,
        stabilityStatus: taskSet.stabilityStatus,
        earlier,
        roles,
      },
      tags: ecsTagsOf(taskSet.tags),
    };
  },

  plan(state, { params }) {
    const { taskSet: record, cluster, service } = state;
    const where = `task set ${record.id} of ECS service ${lastPart(service)}`;
    if (record.network.assignPublicIp === 'DISABLED') {
      return { kind: 'compliant', summary: `${where} assigns no public IPs` };
    }
    const course = courseFor(state, params.stabilityTimeoutSeconds * 1000);
    const replacementId =
      course.kind === 'create'
        ? "<the id of hubfix's replacement task set, named in the change>"
        : course.replacement.id;
    return {
      kind: 'change',
      summary:
        course.kind === 'give-up'
          ? `delete ${course.replacement.id}, hubfix's replacement of ${where}, which never became steady`
          : course.kind === 'create'
            ? `replace ${where} with a copy that assigns no public IPs`
            : `finish replacing ${where} with ${course.replacement.id}, a copy that assigns no public IPs`,
      steps: planSteps(state, course, params),
      before: { cluster, service, taskSet: record },
      undo: [
        createTaskSetCommand(createTaskSetInput(cluster, service, record, 'ENABLED')),
        ...(record.primary
          ? [
              `aws ecs update-service-primary-task-set --cluster ${cluster} --service ${service} --primary-task-set <the id the command above printed>`,
            ]
          : []),
        deleteTaskSetCommand(cluster, service, replacementId),
      ],
      irreversible: `${record.id} itself is deleted and cannot come back: undoing creates an equivalent task set with a new id, whose tasks get new public IPs`,
    };
  },

  async preflight(state, { clients: { ecs, ec2 }, params }) {
    const { taskSet: record } = state;
    const course = courseFor(state, params.stabilityTimeoutSeconds * 1000);
    if (course.kind === 'create' && state.stabilityStatus !== 'STEADY_STATE') {
      return [
        `${record.id} is ${state.stabilityStatus ?? 'not steady'}: a deployment may be in progress. Fix it once the task set is steady.`,
      ];
    }
    const response = await ecs.send(
      new DescribeServicesCommand({ cluster: state.cluster, services: [state.service] }),
    );
    const service = response.services?.[0];
    if (service?.status !== 'ACTIVE') {
      return [`the service ${lastPart(state.service)} of ${record.id} is not ACTIVE`];
    }
    const controller = controllerBlocker(service.deploymentController?.type ?? 'ECS', state);
    if (controller) return [controller];
    // Only a new twin passes roles; finishing or removing an earlier one does not.
    const roles = course.kind === 'create' ? rolesBlocker(state, params) : undefined;
    if (roles) return [roles];
    const stranded = await internetOnlyBlocker(ec2, record.network);
    return stranded ? [stranded] : [];
  },

  async apply(state, plan, { clients: { ecs }, params, clock, deadline }) {
    const { cluster, service, taskSet: record } = plan.before;
    const stabilityMs = params.stabilityTimeoutSeconds * 1000;
    const course = courseFor(state, stabilityMs);
    const removed = await removeTaskSets({ ecs, cluster, service }, course.remove);
    const current = { id: record.id, arn: record.arn };
    const label = 'without public IPs';
    switch (course.kind) {
      case 'retire-original':
        return {
          changes: [
            ...removed,
            `${course.replacement.id} (${label}) was already the primary task set`,
            await retireReplaced({ ecs, cluster, service, label }, current, course.replacement.id),
          ],
        };
      case 'give-up': {
        const [line] = await removeTaskSets({ ecs, cluster, service }, [course.replacement]);
        throw new PartialChangeError(
          `${course.replacement.id}, the replacement an earlier run created, did not reach a steady state within ${params.stabilityTimeoutSeconds} s`,
          `${record.id} is still in place and serving, assigning public IPs; ${[...removed, line ?? ''].filter((l) => l !== '').join('; ')}`,
        );
      }
      case 'finish':
      case 'create': {
        const start: ReplacementStart =
          course.kind === 'create'
            ? { kind: 'create', input: twinRequest(cluster, service, record) }
            : { kind: 'adopt', id: course.replacement.id, arn: course.replacement.arn };
        const result = await replaceTaskSet({
          ecs,
          clock,
          deadline,
          cluster,
          service,
          current,
          makePrimary: record.primary,
          start,
          label,
          timeoutMs: course.kind === 'create' ? stabilityMs : course.windowMs,
        });
        return { changes: [...removed, ...result.changes] };
      }
    }
  },

  async verify(state, { clients: { ecs }, clock }) {
    const { taskSet: record } = state;
    return verifyEventually(clock, async () => {
      const taskSets = await listTaskSets(ecs, state.cluster, state.service);
      const old = taskSets.find((t) => t.id === record.id && t.status !== 'DRAINING');
      if (old) return { ok: false, reason: `${record.id} is still ${old.status ?? 'there'}` };
      const twin =
        replacesOf(taskSets, record.id).find((t) => isTwin(t, record, 'DISABLED')) ??
        taskSets.find((t) => t.id !== record.id && isTwin(t, record, 'DISABLED'));
      if (!twin) {
        return {
          ok: false,
          reason: `no task set without public IPs took the place of ${record.id}`,
        };
      }
      if (record.primary && twin.status !== 'PRIMARY') {
        return {
          ok: false,
          reason: `${twin.id ?? '?'} took the place of ${record.id} but is ${twin.status ?? '?'}, not PRIMARY`,
        };
      }
      return { ok: true };
    });
  },

  describeRollback(before) {
    const { cluster, service, taskSet: record } = before;
    const assign = record.network.assignPublicIp;
    const calls = [
      {
        service: 'ecs',
        action: 'CreateTaskSet',
        resource: service,
        parameters: { ...restoreRequest(before) },
        when: `unless a task set like ${record.id} with assignPublicIp ${assign} is still there`,
        grants: {
          what: `tasks like those of ${record.id} run with assignPublicIp ${assign}, and ECS is passed the task and execution roles of ${record.taskDefinition}`,
          removed: record.id,
        },
      },
      ...(record.primary
        ? [
            {
              service: 'ecs',
              action: 'UpdateServicePrimaryTaskSet',
              resource: service,
              parameters: {
                cluster,
                service,
                primaryTaskSet: foundAtRunTime(`the task set that takes the place of ${record.id}`),
              },
              when: 'unless it is primary already',
            },
          ]
        : []),
      {
        service: 'ecs',
        action: 'DeleteTaskSet',
        resource: service,
        parameters: {
          cluster,
          service,
          taskSet: foundAtRunTime(
            `hubfix's replacement of ${record.id} (tagged ${REPLACES_TAG}=${record.id}, or, for changes made before that tag, same task definition and network without public IPs), or the new task set should it not become steady`,
          ),
          force: true,
        },
        when: 'only if there is one',
      },
    ];
    const parsed = parseTaskSetArn(record.arn);
    if (!parsed) {
      return {
        target: { resourceId: record.arn },
        calls,
        problems: [`the recorded task set ${record.arn} is not an ECS task set ARN`],
      };
    }
    const name = parsed.name;
    return {
      target: {
        resourceId: `${name.cluster}/${name.service}/${name.taskSet}`,
        account: parsed.account,
        region: parsed.region,
      },
      calls,
      problems: [
        ...clusterMismatch(cluster, name.cluster, parsed),
        ...serviceMismatch(service, name.service),
        ...(name.taskSet === record.id
          ? []
          : [`the recorded task set id ${record.id} is not the one its ARN names`]),
      ],
    };
  },

  /**
   * CreateTaskSet passes the task definition's roles to ECS. The service's
   * replacement runs the recorded task definition, so passing it again
   * grants no role the service does not hold now; a task definition no
   * task set of the service runs is refused.
   */
  async checkRollback({ cluster, service, taskSet: record }, { clients: { ecs } }) {
    let taskSets: TaskSet[];
    try {
      taskSets = await listTaskSets(ecs, cluster, service);
    } catch (error) {
      if (isGone(error)) return [`${service} no longer exists`];
      throw error;
    }
    const running = taskSets.filter((t) => t.status !== 'DRAINING');
    return running.some((t) => t.taskDefinition === record.taskDefinition)
      ? []
      : [
          `no task set of ${lastPart(service)} runs ${record.taskDefinition} (they run ${
            [...new Set(running.map((t) => t.taskDefinition ?? '?'))].join(', ') || 'nothing'
          }); passing its roles to ECS again is refused`,
        ];
  },

  /**
   * Undoing means an equivalent of the deleted task set, with its original
   * public IP setting, primary again when it was, and hubfix's replacement
   * gone. Whatever of that is already true is left alone.
   */
  async rollback(before, { clients: { ecs }, clock }) {
    const { cluster, service, taskSet: record } = before;
    let taskSets: TaskSet[];
    try {
      taskSets = await listTaskSets(ecs, cluster, service);
    } catch (error) {
      if (isGone(error)) {
        throw new RollbackRefusedError(
          `${service} no longer exists, so there is no task set to restore`,
          { cause: error },
        );
      }
      throw error;
    }
    const assign = record.network.assignPublicIp;
    // hubfix's replacements carry its tag; entries older than the tag are found by their likeness.
    const tagged = replacesOf(taskSets, record.id);
    const restored =
      taskSets.find((t) => t.id === record.id && t.status !== 'DRAINING') ??
      taskSets.find((t) => isTwin(t, record, assign) && !tagged.includes(t));
    const replacements = (
      tagged.length > 0 ? tagged : taskSets.filter((t) => isTwin(t, record, 'DISABLED'))
    ).filter((t) => t.id !== restored?.id);
    if (replacements.length > 1) {
      throw new RollbackRefusedError(
        `${replacements.length} task sets without public IPs (${replacements
          .map((t) => t.id ?? '?')
          .join(
            ', ',
          )}) could be hubfix's replacement of ${record.id}; hubfix will not guess which one to delete`,
      );
    }
    const [replacement] = replacements;
    const current =
      replacement?.id && replacement.taskSetArn
        ? { id: replacement.id, arn: replacement.taskSetArn }
        : undefined;

    if (restored?.id && restored.taskSetArn) {
      const changes: string[] = [];
      if (record.primary && restored.status !== 'PRIMARY') {
        await ecs.send(
          new UpdateServicePrimaryTaskSetCommand({
            cluster,
            service,
            primaryTaskSet: restored.taskSetArn,
          }),
        );
        changes.push(`made ${restored.id} the primary task set again`);
      }
      if (current) {
        await ecs.send(
          new DeleteTaskSetCommand({ cluster, service, taskSet: current.arn, force: true }),
        );
        changes.push(`deleted ${current.id}, hubfix's replacement`);
      }
      return changes.length > 0
        ? changes
        : [`already restored: ${restored.id} runs with assignPublicIp ${assign}`];
    }

    const result = await replaceTaskSet({
      ecs,
      clock: clock ?? systemClock,
      deadline: NO_DEADLINE,
      cluster,
      service,
      current,
      makePrimary: record.primary,
      start: { kind: 'create', input: restoreRequest(before) },
      label: `like ${record.id}, with assignPublicIp ${assign} as before`,
      timeoutMs: ROLLBACK_STABILITY_MS,
    });
    return [...result.changes, `${result.id} takes the place of ${record.id}, which was deleted`];
  },
};
