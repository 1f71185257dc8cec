/**
 * ECS task sets as hubfix records and replaces them. A task set's network
 * configuration cannot be changed in place, so changing it means creating a
 * twin with the new configuration, waiting until it is steady, handing it the
 * primary role and deleting the original. Every step that fails leaves the
 * service with a working primary task set, and says exactly what is left.
 */
import {
  CreateTaskSetCommand,
  type CreateTaskSetCommandInput,
  DeleteTaskSetCommand,
  DescribeTaskSetsCommand,
  type ECSClient,
  type Tag,
  type TaskSet,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { describeError, PartialChangeError } from '../../core/errors';
import {
  array,
  boolean,
  type Infer,
  integer,
  object,
  oneOf,
  optional,
  type Schema,
  string,
} from '../../core/schema';
import { type Clock, waitFor } from '../wait';
import { type AssignPublicIp, awsVpcOf, awsVpcSchema, networkConfiguration } from './network';

/** How often a new task set's stability is checked (the ECS CLI waiter uses 15 s too). */
export const STABILITY_POLL_MS = 15_000;

function fraction(options: { min: number; max: number }): Schema<number> {
  const expected = `a number from ${options.min} to ${options.max}`;
  return {
    expected,
    parse(input, path) {
      return typeof input === 'number' &&
        Number.isFinite(input) &&
        input >= options.min &&
        input <= options.max
        ? { ok: true, value: input }
        : { ok: false, issues: [{ path, message: `expected ${expected}` }] };
    },
  };
}

const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'] as const;
const port = integer({ min: 0, max: 65535 });

export const taskSetRecordSchema = object({
  id: string({ minLength: 1 }),
  arn: string({ minLength: 1 }),
  taskDefinition: string({ minLength: 1 }),
  /** Whether it was the service's primary task set. */
  primary: boolean(),
  externalId: optional(string()),
  launchType: optional(oneOf(LAUNCH_TYPES)),
  capacityProviderStrategy: optional(
    array(
      object({
        capacityProvider: string({ minLength: 1 }),
        weight: optional(integer({ min: 0, max: 1000 })),
        base: optional(integer({ min: 0, max: 100_000 })),
      }),
    ),
  ),
  platformVersion: optional(string({ minLength: 1 })),
  loadBalancers: array(
    object({
      targetGroupArn: optional(string({ minLength: 1 })),
      loadBalancerName: optional(string({ minLength: 1 })),
      containerName: optional(string({ minLength: 1 })),
      containerPort: optional(port),
    }),
  ),
  serviceRegistries: array(
    object({
      registryArn: optional(string({ minLength: 1 })),
      port: optional(port),
      containerName: optional(string({ minLength: 1 })),
      containerPort: optional(port),
    }),
  ),
  scale: optional(object({ value: fraction({ min: 0, max: 100 }), unit: oneOf(['PERCENT']) })),
  network: awsVpcSchema,
  tags: array(object({ key: string({ minLength: 1 }), value: string() })),
});

export type TaskSetRecord = Infer<typeof taskSetRecordSchema>;

/** Drops keys whose value is undefined, so requests and records say only what they mean. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** What is needed to create the same task set again, or undefined when it is not an awsvpc task set. */
export function recordTaskSet(taskSet: TaskSet): TaskSetRecord | undefined {
  const network = awsVpcOf(taskSet.networkConfiguration);
  if (!taskSet.id || !taskSet.taskSetArn || !taskSet.taskDefinition || !network) return undefined;
  const scale = taskSet.scale;
  const strategy = (taskSet.capacityProviderStrategy ?? []).flatMap((item) =>
    item.capacityProvider
      ? [compact({ capacityProvider: item.capacityProvider, weight: item.weight, base: item.base })]
      : [],
  );
  return compact({
    id: taskSet.id,
    arn: taskSet.taskSetArn,
    taskDefinition: taskSet.taskDefinition,
    primary: taskSet.status === 'PRIMARY',
    externalId: taskSet.externalId,
    launchType: taskSet.launchType,
    capacityProviderStrategy: strategy.length > 0 ? strategy : undefined,
    platformVersion: taskSet.platformVersion,
    loadBalancers: (taskSet.loadBalancers ?? []).map((lb) =>
      compact({
        targetGroupArn: lb.targetGroupArn,
        loadBalancerName: lb.loadBalancerName,
        containerName: lb.containerName,
        containerPort: lb.containerPort,
      }),
    ),
    serviceRegistries: (taskSet.serviceRegistries ?? []).map((registry) =>
      compact({
        registryArn: registry.registryArn,
        port: registry.port,
        containerName: registry.containerName,
        containerPort: registry.containerPort,
      }),
    ),
    scale:
      scale?.value !== undefined && scale.unit !== undefined
        ? { value: scale.value, unit: scale.unit }
        : undefined,
    network,
    tags: (taskSet.tags ?? []).flatMap((tag) =>
      tag.key === undefined ? [] : [{ key: tag.key, value: tag.value ?? '' }],
    ),
  });
}

/** ECS refuses tag keys in the `aws:` namespace on create; AWS adds those itself. */
function userTags(tags: readonly { key: string; value: string }[]): Tag[] {
  return tags.filter((tag) => !tag.key.toLowerCase().startsWith('aws:')).map((tag) => ({ ...tag }));
}

/** The CreateTaskSet request for a twin of `record` that differs only in `assignPublicIp`. */
export function createTaskSetInput(
  cluster: string,
  service: string,
  record: TaskSetRecord,
  assignPublicIp: AssignPublicIp,
  clientToken?: string,
): CreateTaskSetCommandInput {
  const tags = userTags(record.tags);
  return compact({
    cluster,
    service,
    taskDefinition: record.taskDefinition,
    externalId: record.externalId,
    networkConfiguration: networkConfiguration(record.network, assignPublicIp),
    loadBalancers:
      record.loadBalancers.length > 0 ? record.loadBalancers.map((lb) => ({ ...lb })) : undefined,
    serviceRegistries:
      record.serviceRegistries.length > 0
        ? record.serviceRegistries.map((r) => ({ ...r }))
        : undefined,
    launchType: record.launchType,
    capacityProviderStrategy: record.capacityProviderStrategy?.map((item) => ({ ...item })),
    platformVersion: record.platformVersion,
    scale: record.scale ? { ...record.scale } : undefined,
    clientToken,
    tags: tags.length > 0 ? tags : undefined,
  });
}

/** The same request as an AWS CLI command a person can run. */
export function createTaskSetCommand(input: CreateTaskSetCommandInput): string {
  const { clientToken: _token, ...rest } = input;
  return `aws ecs create-task-set --cli-input-json '${JSON.stringify(rest)}'`;
}

export function deleteTaskSetCommand(cluster: string, service: string, taskSet: string): string {
  return `aws ecs delete-task-set --cluster ${cluster} --service ${service} --task-set ${taskSet} --force`;
}

export function describeTaskSetRecord(record: TaskSetRecord): string {
  const placement = record.launchType
    ? `launch type ${record.launchType}`
    : `capacity providers ${(record.capacityProviderStrategy ?? []).map((c) => c.capacityProvider).join(', ')}`;
  const parts = [
    `task definition ${record.taskDefinition}`,
    record.scale ? `scale ${record.scale.value} ${record.scale.unit}` : undefined,
    placement,
    record.platformVersion ? `platform version ${record.platformVersion}` : undefined,
    `${record.loadBalancers.length} load balancer target(s)`,
    `${record.serviceRegistries.length} service registr${record.serviceRegistries.length === 1 ? 'y' : 'ies'}`,
    `${userTags(record.tags).length} tag(s)`,
  ];
  return parts.filter((part) => part !== undefined).join(', ');
}

/** Every task set of a service (DescribeTaskSets without ids lists them all). */
export async function listTaskSets(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<TaskSet[]> {
  const response = await ecs.send(new DescribeTaskSetsCommand({ cluster, service }));
  return response.taskSets ?? [];
}

export interface Replacement {
  readonly ecs: ECSClient;
  readonly clock: Clock;
  readonly cluster: string;
  readonly service: string;
  /** The task set to retire once the new one is steady; undefined when there is none left. */
  readonly current: { readonly id: string; readonly arn: string } | undefined;
  /** Hand the new task set the primary role before the current one is deleted. */
  readonly makePrimary: boolean;
  readonly create: CreateTaskSetCommandInput;
  /** How the new task set differs, for messages, e.g. "without public IPs". */
  readonly label: string;
  readonly timeoutMs: number;
}

async function deleteOrExplain(r: Replacement, id: string, arn: string): Promise<string> {
  try {
    await r.ecs.send(
      new DeleteTaskSetCommand({
        cluster: r.cluster,
        service: r.service,
        taskSet: arn,
        force: true,
      }),
    );
    return `${id} was deleted`;
  } catch (error) {
    return `${id} could not be deleted (${describeError(error)}); delete it with: ${deleteTaskSetCommand(
      r.cluster,
      r.service,
      arn,
    )}`;
  }
}

type Stability = 'steady' | 'gone';

/**
 * Creates the new task set, waits for a steady state, makes it primary when
 * asked and deletes the current one. Until the new task set is primary, any
 * failure deletes it again, so the current one keeps serving as before.
 * @throws PartialChangeError saying what the service looks like afterwards.
 */
export async function replaceTaskSet(r: Replacement): Promise<{ id: string; changes: string[] }> {
  const currentServing = r.current
    ? `${r.current.id} is still in place${r.makePrimary ? ' as the primary task set' : ''} and serving`
    : 'no task set was replaced';

  let created: TaskSet | undefined;
  try {
    created = (await r.ecs.send(new CreateTaskSetCommand(r.create))).taskSet;
  } catch (error) {
    throw new PartialChangeError(
      `creating the new task set ${r.label} failed: ${describeError(error)}`,
      `unchanged: ${currentServing}`,
      { cause: error },
    );
  }
  const id = created?.id;
  const arn = created?.taskSetArn;
  if (!id || !arn) {
    throw new PartialChangeError(
      'ECS answered CreateTaskSet without naming the new task set',
      `unknown: look at the task sets of ${r.service} for one that was just created; ${currentServing}`,
    );
  }
  const changes = [`created task set ${id} ${r.label}`];

  let failure: { message: string; cause?: unknown } | undefined;
  try {
    const waited = await waitFor<Stability>(
      r.clock,
      { timeoutMs: r.timeoutMs, intervalMs: STABILITY_POLL_MS },
      async () => {
        const response = await r.ecs.send(
          new DescribeTaskSetsCommand({ cluster: r.cluster, service: r.service, taskSets: [arn] }),
        );
        const taskSet = response.taskSets?.[0];
        if (!taskSet || taskSet.status === 'DRAINING') return 'gone';
        return taskSet.stabilityStatus === 'STEADY_STATE' ? 'steady' : undefined;
      },
    );
    if (!waited.done) {
      failure = {
        message: `the new task set ${id} did not reach a steady state within ${Math.round(r.timeoutMs / 1000)} s`,
      };
    } else if (waited.value === 'gone') {
      failure = { message: `the new task set ${id} went away before it reached a steady state` };
    } else {
      changes.push(`${id} reached a steady state after ${Math.round(waited.waitedMs / 1000)} s`);
    }
  } catch (error) {
    failure = {
      message: `checking the new task set ${id} failed: ${describeError(error)}`,
      cause: error,
    };
  }
  if (failure) {
    const cleanup = await deleteOrExplain(r, id, arn);
    throw new PartialChangeError(failure.message, `${currentServing}; ${cleanup}`, {
      cause: failure.cause,
    });
  }

  if (r.makePrimary) {
    try {
      await r.ecs.send(
        new UpdateServicePrimaryTaskSetCommand({
          cluster: r.cluster,
          service: r.service,
          primaryTaskSet: arn,
        }),
      );
      changes.push(`made ${id} the primary task set of ${r.service}`);
    } catch (error) {
      const cleanup = await deleteOrExplain(r, id, arn);
      throw new PartialChangeError(
        `making ${id} the primary task set failed: ${describeError(error)}`,
        `${currentServing}; ${id} was steady but not made primary, and ${cleanup}`,
        { cause: error },
      );
    }
  }

  if (r.current) {
    try {
      await r.ecs.send(
        new DeleteTaskSetCommand({
          cluster: r.cluster,
          service: r.service,
          taskSet: r.current.arn,
          force: true,
        }),
      );
      changes.push(`deleted the old task set ${r.current.id} (its tasks drain and stop)`);
    } catch (error) {
      // The new task set works and (when asked) is primary: undoing that would only add risk.
      throw new PartialChangeError(
        `deleting the old task set ${r.current.id} failed: ${describeError(error)}`,
        `${id} (${r.label}) is ${r.makePrimary ? 'the primary task set' : 'running'} and steady; ` +
          `the old task set ${r.current.id} still exists: delete it with: ${deleteTaskSetCommand(
            r.cluster,
            r.service,
            r.current.arn,
          )}`,
        { cause: error },
      );
    }
  }
  return { id, changes };
}
