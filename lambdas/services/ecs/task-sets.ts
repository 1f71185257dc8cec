/**
 * ECS task sets as hubfix records and replaces them. A task set's network
 * configuration cannot be changed in place, so changing it means creating a
 * twin with the new configuration, waiting until it is steady, handing it the
 * primary role and deleting the original. Every step that fails leaves the
 * service with a working primary task set, and says exactly what is left.
 */
import { createHash } from 'node:crypto';
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
import type { Deadline } from '../../core/deadline';
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

/**
 * Time kept after a replacement is steady: making it primary and deleting
 * the old task set, or, when it never gets there, deleting the replacement
 * (each call with the SDK's retries).
 */
export const AFTER_STEADY_MS = 30_000;

/** Time kept for creating the replacement and looking at it once. */
export const CREATE_MS = 10_000;

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
const arnOrName = optional(string({ minLength: 1 }));

/**
 * Everything of a task set that CreateTaskSet accepts (botocore's ecs model:
 * externalId, taskDefinition, networkConfiguration, loadBalancers with their
 * advancedConfiguration, serviceRegistries, launchType,
 * capacityProviderStrategy, platformVersion, scale, tags), so a twin differs
 * from the original only where hubfix means it to.
 */
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
      targetGroupArn: arnOrName,
      loadBalancerName: arnOrName,
      containerName: arnOrName,
      containerPort: optional(port),
      advancedConfiguration: optional(
        object({
          alternateTargetGroupArn: arnOrName,
          productionListenerRule: arnOrName,
          testListenerRule: arnOrName,
          roleArn: arnOrName,
        }),
      ),
    }),
  ),
  serviceRegistries: array(
    object({
      registryArn: arnOrName,
      port: optional(port),
      containerName: arnOrName,
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
    loadBalancers: (taskSet.loadBalancers ?? []).map((lb) => {
      const advanced = lb.advancedConfiguration;
      return compact({
        targetGroupArn: lb.targetGroupArn,
        loadBalancerName: lb.loadBalancerName,
        containerName: lb.containerName,
        containerPort: lb.containerPort,
        advancedConfiguration: advanced
          ? compact({
              alternateTargetGroupArn: advanced.alternateTargetGroupArn,
              productionListenerRule: advanced.productionListenerRule,
              testListenerRule: advanced.testListenerRule,
              roleArn: advanced.roleArn,
            })
          : undefined,
      });
    }),
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

/**
 * The owner's tags, to copy: ECS refuses keys in the `aws:` namespace on
 * create (AWS adds those itself), and hubfix's own marker says which task
 * set a replacement replaces, so it is never copied from one to the next.
 */
function userTags(
  tags: readonly { key: string; value: string }[],
  dropKeys: readonly string[],
): Tag[] {
  return tags
    .filter((tag) => !tag.key.toLowerCase().startsWith('aws:') && !dropKeys.includes(tag.key))
    .map((tag) => ({ ...tag }));
}

export interface TwinOptions {
  /** Idempotency token; the same token and request create one task set. */
  readonly clientToken?: string;
  /** A tag of hubfix's own to add, replacing any of the same key. */
  readonly marker?: { readonly key: string; readonly value: string };
  /** Tag keys never copied from the original (hubfix's own markers). */
  readonly dropTagKeys?: readonly string[];
}

/** The CreateTaskSet request for a twin of `record` that differs only in `assignPublicIp`. */
export function createTaskSetInput(
  cluster: string,
  service: string,
  record: TaskSetRecord,
  assignPublicIp: AssignPublicIp,
  options: TwinOptions = {},
): CreateTaskSetCommandInput {
  const drop = [...(options.dropTagKeys ?? []), ...(options.marker ? [options.marker.key] : [])];
  const tags = [...userTags(record.tags, drop), ...(options.marker ? [{ ...options.marker }] : [])];
  return compact({
    cluster,
    service,
    taskDefinition: record.taskDefinition,
    externalId: record.externalId,
    networkConfiguration: networkConfiguration(record.network, assignPublicIp),
    loadBalancers:
      record.loadBalancers.length > 0
        ? record.loadBalancers.map((lb) =>
            compact({
              ...lb,
              advancedConfiguration: lb.advancedConfiguration
                ? { ...lb.advancedConfiguration }
                : undefined,
            }),
          )
        : undefined,
    serviceRegistries:
      record.serviceRegistries.length > 0
        ? record.serviceRegistries.map((r) => ({ ...r }))
        : undefined,
    launchType: record.launchType,
    capacityProviderStrategy: record.capacityProviderStrategy?.map((item) => ({ ...item })),
    platformVersion: record.platformVersion,
    scale: record.scale ? { ...record.scale } : undefined,
    clientToken: options.clientToken,
    tags: tags.length > 0 ? tags : undefined,
  });
}

/**
 * CreateTaskSet's idempotency token (36 characters at most) from what the
 * request is about, never from who asked: the same parts give the same token.
 */
export function clientToken(...parts: readonly string[]): string {
  return `hubfix-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 29)}`;
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
    `${userTags(record.tags, []).length} tag(s)`,
  ];
  return parts.filter((part) => part !== undefined).join(', ');
}

/** Every task set of a service, with its tags (DescribeTaskSets without ids lists them all). */
export async function listTaskSets(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<TaskSet[]> {
  const response = await ecs.send(
    new DescribeTaskSetsCommand({ cluster, service, include: ['TAGS'] }),
  );
  return response.taskSets ?? [];
}

export function tagValue(taskSet: TaskSet, key: string): string | undefined {
  return taskSet.tags?.find((tag) => tag.key === key)?.value;
}

/** How the replacement comes to be: created now, or one an earlier run created. */
export type ReplacementStart =
  | { readonly kind: 'create'; readonly input: CreateTaskSetCommandInput }
  | { readonly kind: 'adopt'; readonly id: string; readonly arn: string };

export interface Replacement {
  readonly ecs: ECSClient;
  readonly clock: Clock;
  /** Steps that cannot finish before it are not started; a wait that runs into it stops. */
  readonly deadline: Deadline;
  readonly cluster: string;
  readonly service: string;
  /** The task set to retire once the new one is steady; undefined when there is none left. */
  readonly current: { readonly id: string; readonly arn: string } | undefined;
  /** Hand the new task set the primary role before the current one is deleted. */
  readonly makePrimary: boolean;
  readonly start: ReplacementStart;
  /** How the new task set differs, for messages, e.g. "without public IPs". */
  readonly label: string;
  /** How long the new task set may take to become steady (for an adopted one: what is left of it). */
  readonly timeoutMs: number;
}

type ServiceCalls = Pick<Replacement, 'ecs' | 'cluster' | 'service'>;

/** Deletes a task set of the service, draining its tasks at once (force: whatever its scale). */
async function deleteTaskSet(r: ServiceCalls, arn: string): Promise<void> {
  await r.ecs.send(
    new DeleteTaskSetCommand({ cluster: r.cluster, service: r.service, taskSet: arn, force: true }),
  );
}

async function deleteOrExplain(r: Replacement, id: string, arn: string): Promise<string> {
  try {
    await deleteTaskSet(r, arn);
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

async function stabilityOf(r: Replacement, arn: string): Promise<Stability | undefined> {
  const response = await r.ecs.send(
    new DescribeTaskSetsCommand({ cluster: r.cluster, service: r.service, taskSets: [arn] }),
  );
  const taskSet = response.taskSets?.[0];
  if (!taskSet || taskSet.status === 'DRAINING') return 'gone';
  return taskSet.stabilityStatus === 'STEADY_STATE' ? 'steady' : undefined;
}

/** At most this many fresh tokens when ECS answers with a replacement that is already gone. */
const TOKEN_RENEWALS = 2;

/**
 * Creates the twin. A client token that an earlier, since deleted
 * replacement used makes ECS answer with that one again (idempotency), so a
 * twin that is gone at once is asked for anew with a token derived from it:
 * still the same for everyone who sees the same thing, so two concurrent
 * runs still create one task set.
 * @returns the new task set's id, arn and whether it was steady at once.
 */
async function create(
  r: Replacement,
  input: CreateTaskSetCommandInput,
  currentServing: string,
): Promise<{ id: string; arn: string; steady: boolean; changes: string[] }> {
  const changes: string[] = [];
  let request = input;
  for (let renewal = 0; ; renewal += 1) {
    let created: TaskSet | undefined;
    try {
      created = (await r.ecs.send(new CreateTaskSetCommand(request))).taskSet;
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
    let first: Stability | undefined;
    try {
      first = await stabilityOf(r, arn);
    } catch {
      // The wait below looks again and handles what it finds.
      first = undefined;
    }
    if (first !== 'gone') {
      changes.push(`created task set ${id} ${r.label}`);
      return { id, arn, steady: first === 'steady', changes };
    }
    if (renewal >= TOKEN_RENEWALS) {
      throw new PartialChangeError(
        `ECS kept answering CreateTaskSet with task sets that are already gone (last ${id})`,
        `unchanged: ${currentServing}`,
      );
    }
    changes.push(`ECS answered with ${id}, an earlier replacement already deleted; asked again`);
    request = { ...request, clientToken: clientToken(request.clientToken ?? '', id) };
  }
}

/**
 * Creates the new task set (or takes over one an earlier run created),
 * waits for a steady state, makes it primary when asked and deletes the
 * current one. Until the new task set is primary, any failure, running out
 * of time included, deletes it again, so the current one keeps serving as
 * before.
 * @throws PartialChangeError saying what the service looks like afterwards.
 */
export async function replaceTaskSet(r: Replacement): Promise<{ id: string; changes: string[] }> {
  const currentServing = r.current
    ? `${r.current.id} is still in place${r.makePrimary ? ' as the primary task set' : ''} and serving`
    : 'no task set was replaced';
  const seconds = (ms: number) => Math.round(ms / 1000);

  let id: string;
  let arn: string;
  let steadyAtOnce = false;
  const changes: string[] = [];
  if (r.start.kind === 'create') {
    const needed = CREATE_MS + r.timeoutMs + AFTER_STEADY_MS;
    if (r.deadline.remainingMs() < needed) {
      throw new PartialChangeError(
        `not enough time left to replace the task set: ${seconds(r.deadline.remainingMs())} s, and a replacement may need ${seconds(needed)} s (up to ${seconds(r.timeoutMs)} s to become steady, and the calls around it)`,
        `unchanged: ${currentServing}; nothing was created`,
      );
    }
    const created = await create(r, r.start.input, currentServing);
    ({ id, arn } = created);
    steadyAtOnce = created.steady;
    changes.push(...created.changes);
  } else {
    ({ id, arn } = r.start);
    if (r.deadline.remainingMs() < AFTER_STEADY_MS) {
      throw new PartialChangeError(
        `not enough time left to finish the replacement ${id} an earlier run created`,
        `${currentServing}; ${id} is still there, and the next attempt finishes or removes it`,
      );
    }
    changes.push(`took over ${id} ${r.label}, which an earlier run created`);
  }

  let failure: { message: string; cause?: unknown } | undefined;
  if (!steadyAtOnce) {
    const budgetMs = Math.max(0, r.deadline.remainingMs() - AFTER_STEADY_MS);
    const waitMs = Math.min(r.timeoutMs, budgetMs);
    try {
      const waited = await waitFor<Stability>(
        r.clock,
        { timeoutMs: waitMs, intervalMs: STABILITY_POLL_MS, checkFirst: r.start.kind === 'adopt' },
        () => stabilityOf(r, arn),
      );
      if (!waited.done) {
        failure = {
          message:
            waitMs < r.timeoutMs
              ? `the new task set ${id} was not steady when this invocation's time ran out (after ${seconds(waited.waitedMs)} s)`
              : `the new task set ${id} did not reach a steady state within ${seconds(r.timeoutMs)} s`,
        };
      } else if (waited.value === 'gone') {
        failure = { message: `the new task set ${id} went away before it reached a steady state` };
      } else {
        changes.push(`${id} reached a steady state after ${seconds(waited.waitedMs)} s`);
      }
    } catch (error) {
      failure = {
        message: `checking the new task set ${id} failed: ${describeError(error)}`,
        cause: error,
      };
    }
  } else {
    changes.push(`${id} was steady at once`);
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

  if (r.current) changes.push(await retire(r, r.current, id));
  return { id, changes };
}

/** Deletes the task set a steady (and, when asked, primary) replacement took the place of. */
async function retire(
  r: Pick<Replacement, 'ecs' | 'cluster' | 'service' | 'makePrimary' | 'label'>,
  current: { readonly id: string; readonly arn: string },
  replacementId: string,
): Promise<string> {
  try {
    await deleteTaskSet(r, current.arn);
    return `deleted the old task set ${current.id} (its tasks drain and stop)`;
  } catch (error) {
    // The new task set works and (when asked) is primary: undoing that would only add risk.
    throw new PartialChangeError(
      `deleting the old task set ${current.id} failed: ${describeError(error)}`,
      `${replacementId} (${r.label}) is ${r.makePrimary ? 'the primary task set' : 'running'} and steady; ` +
        `the old task set ${current.id} still exists: delete it with: ${deleteTaskSetCommand(
          r.cluster,
          r.service,
          current.arn,
        )}`,
      { cause: error },
    );
  }
}

/** Finishes a replacement that is already primary: only the old task set is left to delete. */
export async function retireReplaced(
  r: Pick<Replacement, 'ecs' | 'cluster' | 'service' | 'label'>,
  current: { readonly id: string; readonly arn: string },
  replacementId: string,
): Promise<string> {
  return retire({ ...r, makePrimary: true }, current, replacementId);
}

/** Deletes task sets hubfix no longer needs (earlier replacements that do not fit); says what happened to each. */
export async function removeTaskSets(
  r: ServiceCalls,
  taskSets: readonly { readonly id: string; readonly arn: string }[],
): Promise<string[]> {
  const lines: string[] = [];
  for (const taskSet of taskSets) {
    try {
      await deleteTaskSet(r, taskSet.arn);
      lines.push(`deleted ${taskSet.id}, an earlier replacement of hubfix's that no longer fits`);
    } catch (error) {
      throw new PartialChangeError(
        `deleting ${taskSet.id}, an earlier replacement of hubfix's, failed: ${describeError(error)}`,
        `${lines.length > 0 ? `${lines.join('; ')}; ` : ''}${taskSet.id} is still there; delete it with: ${deleteTaskSetCommand(
          r.cluster,
          r.service,
          taskSet.arn,
        )}`,
        { cause: error },
      );
    }
  }
  return lines;
}
