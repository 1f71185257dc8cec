/**
 * ECS.16 — an ECS task set should not give its tasks public IP addresses.
 *
 * A task set's network configuration cannot be changed, so hubfix replaces
 * the task set (seed 002, for services with the EXTERNAL deployment
 * controller): it creates a twin with the same task definition, load
 * balancers, service registries, capacity, scale and tags but
 * `assignPublicIp: DISABLED`, waits until the twin is steady, makes it
 * primary when the original was, and deletes the original. Until the twin is
 * primary, any failure deletes the twin again, so the service always keeps a
 * working primary task set.
 */
import { createHash } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  type DescribeTaskSetsCommandOutput,
  ECSClient,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { type Control, foundAtRunTime } from '../../core/control';
import { RollbackRefusedError } from '../../core/errors';
import type { Finding } from '../../core/finding';
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
  createTaskSetCommand,
  createTaskSetInput,
  deleteTaskSetCommand,
  describeTaskSetRecord,
  listTaskSets,
  recordTaskSet,
  replaceTaskSet,
  type TaskSetRecord,
  taskSetRecordSchema,
} from '../../services/ecs/task-sets';
import { type Clock, systemClock } from '../../services/wait';
import { type Ecs_16Params, ecs_16Meta } from './meta';

export interface EcsClients {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
}

export interface TaskSetState {
  /** Cluster and service as ECS named them (ARNs), for every later call. */
  readonly cluster: string;
  readonly service: string;
  readonly taskSet: TaskSetRecord;
  readonly stabilityStatus: string | undefined;
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

/**
 * CreateTaskSet's idempotency token (36 characters at most): the same finding
 * update delivered twice creates one task set, a later finding a new one.
 */
function clientToken(...parts: readonly string[]): string {
  return `hubfix-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 29)}`;
}

function tokenFor(record: TaskSetRecord, finding: Finding): string {
  return clientToken(record.arn, finding.id, finding.updatedAt);
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

/** ECS.16 with the clock it waits on; tests pass one that needs no real time. */
export function createEcs16(
  clock: Clock = systemClock,
): Control<TaskSetState, Ecs_16Before, Ecs_16Params, EcsClients> {
  return {
    ...ecs_16Meta,
    resource: ecsTaskSetResource(),
    before: ecs_16Before,

    createClients: (options) => ({ ecs: new ECSClient(options), ec2: new EC2Client(options) }),

    async readState(ref, { clients: { ecs } }) {
      const name = taskSetNameOf(ref);
      let response: DescribeTaskSetsCommandOutput;
      try {
        response = await ecs.send(
          new DescribeTaskSetsCommand({
            cluster: name.cluster,
            service: name.service,
            taskSets: [ref.raw],
            include: ['TAGS'],
          }),
        );
      } catch (error) {
        if (isGone(error)) {
          return {
            kind: 'not-applicable',
            reason: `${ref.id} no longer exists: its service or cluster is gone`,
          };
        }
        throw error;
      }
      const taskSet = response.taskSets?.[0];
      if (!taskSet || taskSet.status === 'DRAINING') {
        return { kind: 'not-applicable', reason: `${ref.id} no longer exists or is being deleted` };
      }
      const record = recordTaskSet(taskSet);
      if (!record) {
        return {
          kind: 'not-applicable',
          reason: `${ref.id} has no awsvpc network configuration, so its tasks get no public IPs of their own and ECS.16 does not apply`,
        };
      }
      return {
        kind: 'found',
        state: {
          cluster: taskSet.clusterArn ?? name.cluster,
          service: taskSet.serviceArn ?? name.service,
          taskSet: record,
          stabilityStatus: taskSet.stabilityStatus,
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
      const replacementId = "<the id of hubfix's replacement task set, named in the change>";
      return {
        kind: 'change',
        summary: `replace ${where} with a copy that assigns no public IPs`,
        steps: [
          `create a task set in ${lastPart(service)} like ${record.id} (${describeTaskSetRecord(record)}), in the same ${describeNetwork(record.network)}, with assignPublicIp DISABLED`,
          `wait up to ${params.stabilityTimeoutSeconds} s for it to reach a steady state; if it does not, delete it and leave ${record.id} as it is`,
          ...(record.primary ? ['make it the primary task set of the service'] : []),
          `delete ${record.id} (force): its tasks with public IPs drain and stop`,
          'check that the new task set has no public IPs and that the old one is gone',
        ],
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

    async preflight(state, { clients: { ecs, ec2 } }) {
      const { taskSet: record } = state;
      if (state.stabilityStatus !== 'STEADY_STATE') {
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
      const stranded = await internetOnlyBlocker(ec2, record.network);
      return stranded ? [stranded] : [];
    },

    async apply(_state, plan, { clients: { ecs }, params, finding }) {
      const { cluster, service, taskSet: record } = plan.before;
      const result = await replaceTaskSet({
        ecs,
        clock,
        cluster,
        service,
        current: { id: record.id, arn: record.arn },
        makePrimary: record.primary,
        create: createTaskSetInput(cluster, service, record, 'DISABLED', tokenFor(record, finding)),
        label: 'without public IPs',
        timeoutMs: params.stabilityTimeoutSeconds * 1000,
      });
      return { changes: result.changes };
    },

    async verify(state, { clients: { ecs } }) {
      const { taskSet: record } = state;
      const taskSets = await listTaskSets(ecs, state.cluster, state.service);
      const old = taskSets.find((t) => t.id === record.id && t.status !== 'DRAINING');
      if (old) return { ok: false, reason: `${record.id} is still ${old.status ?? 'there'}` };
      const twin = taskSets.find((t) => t.id !== record.id && isTwin(t, record, 'DISABLED'));
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
    },

    /**
     * Undoing means an equivalent of the deleted task set, with its original
     * public IP setting, primary again when it was, and hubfix's replacement
     * gone. Whatever of that is already true is left alone.
     */
    describeRollback(before) {
      const { cluster, service, taskSet: record } = before;
      const assign = record.network.assignPublicIp;
      const calls = [
        {
          service: 'ecs',
          action: 'CreateTaskSet',
          resource: service,
          parameters: {
            ...createTaskSetInput(
              cluster,
              service,
              record,
              assign,
              clientToken(record.arn, 'rollback'),
            ),
          },
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
                  primaryTaskSet: foundAtRunTime(
                    `the task set that takes the place of ${record.id}`,
                  ),
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
              `hubfix's replacement of ${record.id} (same task definition and network, no public IPs), or the new task set should it not become steady`,
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

    async rollback(before, { clients: { ecs } }) {
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
      const restored =
        taskSets.find((t) => t.id === record.id && t.status !== 'DRAINING') ??
        taskSets.find((t) => isTwin(t, record, assign));
      const replacements = taskSets.filter(
        (t) => t.id !== restored?.id && isTwin(t, record, 'DISABLED'),
      );
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
        clock,
        cluster,
        service,
        current,
        makePrimary: record.primary,
        create: createTaskSetInput(
          cluster,
          service,
          record,
          assign,
          clientToken(record.arn, 'rollback'),
        ),
        label: `like ${record.id}, with assignPublicIp ${assign} as before`,
        timeoutMs: ROLLBACK_STABILITY_MS,
      });
      return [...result.changes, `${result.id} takes the place of ${record.id}, which was deleted`];
    },
  };
}

export const ecs_16 = createEcs16();
