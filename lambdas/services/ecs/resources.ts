/**
 * ECS resources as Security Hub names them. ECS.2 findings carry the service
 * ARN: `service/<cluster>/<service>` since the long ARN format, or
 * `service/<service>` for services created before it (no cluster in the ARN;
 * the finding's AwsEcsService details name it, but hubfix only reads the
 * identifier, so the cluster is looked up). ECS.16 findings carry the task
 * set ARN `task-set/<cluster>/<service>/<task set id>`, and task set ids
 * themselves contain a slash (`ecs-svc/1234567890123456789`).
 */
import { ResourceReferenceError } from '../../core/errors';
import { parseArn, type ResourceRef, type ResourceSpec } from '../../core/resource';

/** Cluster and service names: letters, digits, hyphens and underscores, up to 255. */
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const TASK_SET_ID = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export interface EcsServiceName {
  /** Undefined for a short (old-format) service ARN. */
  readonly cluster: string | undefined;
  readonly service: string;
}

export interface EcsTaskSetName {
  readonly cluster: string;
  readonly service: string;
  readonly taskSet: string;
}

interface ParsedEcs<T> {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  readonly name: T;
}

function ecsResource(raw: string, prefix: string): ParsedEcs<string[]> | undefined {
  const arn = parseArn(raw);
  if (arn?.service !== 'ecs' || !arn.region || !arn.account) return undefined;
  if (!arn.resource.startsWith(`${prefix}/`)) return undefined;
  const parts = arn.resource.slice(prefix.length + 1).split('/');
  return { partition: arn.partition, account: arn.account, region: arn.region, name: parts };
}

export function parseServiceArn(raw: string): ParsedEcs<EcsServiceName> | undefined {
  const parsed = ecsResource(raw, 'service');
  if (!parsed?.name.every((part) => NAME.test(part))) return undefined;
  const [first, second, ...rest] = parsed.name;
  if (first === undefined || rest.length > 0) return undefined;
  const name =
    second === undefined
      ? { cluster: undefined, service: first }
      : { cluster: first, service: second };
  return { ...parsed, name };
}

export function parseTaskSetArn(raw: string): ParsedEcs<EcsTaskSetName> | undefined {
  const parsed = ecsResource(raw, 'task-set');
  if (!parsed) return undefined;
  const [cluster, service, ...rest] = parsed.name;
  const taskSet = rest.join('/');
  if (!cluster || !service || !NAME.test(cluster) || !NAME.test(service)) return undefined;
  if (!TASK_SET_ID.test(taskSet)) return undefined;
  return { ...parsed, name: { cluster, service, taskSet } };
}

function spec<T>(
  types: readonly string[],
  what: string,
  parse: (raw: string) => ParsedEcs<T> | undefined,
  idOf: (name: T) => string,
): ResourceSpec {
  return {
    types,
    parse(raw, type) {
      const parsed = parse(raw);
      if (!parsed) {
        throw new ResourceReferenceError(`expected an ECS ${what} ARN, got "${raw.slice(0, 200)}"`);
      }
      const { partition, account, region, name } = parsed;
      return { type, raw, partition, account, region, id: idOf(name) };
    },
  };
}

/** ECS.2: the id is `<cluster>/<service>`, or `<service>` for an old-format ARN. */
export function ecsServiceResource(): ResourceSpec {
  return spec(['AwsEcsService'], 'service', parseServiceArn, (name) =>
    name.cluster === undefined ? name.service : `${name.cluster}/${name.service}`,
  );
}

/**
 * ECS.16: the id is `<cluster>/<service>/<task set id>`. The control's AWS
 * Config resource type is AWS::ECS::TaskSet, which has no ASFF resource type
 * of its own, so the finding may call it `Other`; the ARN decides either way.
 */
export function ecsTaskSetResource(): ResourceSpec {
  return spec(
    ['AwsEcsTaskSet', 'Other'],
    'task set',
    parseTaskSetArn,
    (name) => `${name.cluster}/${name.service}/${name.taskSet}`,
  );
}

/** The names in a reference the pipeline already parsed with {@link ecsServiceResource}. */
export function serviceNameOf(ref: ResourceRef): EcsServiceName {
  const parsed = parseServiceArn(ref.raw);
  if (!parsed)
    throw new ResourceReferenceError(`"${ref.raw.slice(0, 200)}" is not an ECS service ARN`);
  return parsed.name;
}

/** The names in a reference the pipeline already parsed with {@link ecsTaskSetResource}. */
export function taskSetNameOf(ref: ResourceRef): EcsTaskSetName {
  const parsed = parseTaskSetArn(ref.raw);
  if (!parsed) {
    throw new ResourceReferenceError(`"${ref.raw.slice(0, 200)}" is not an ECS task set ARN`);
  }
  return parsed.name;
}

/**
 * Problems with a recorded cluster that is not the cluster the recorded
 * service or task set ARN names (a rollback would act on a namesake).
 */
export function clusterMismatch(
  recordedCluster: string,
  arnCluster: string | undefined,
  where: { readonly account: string; readonly region: string },
): string[] {
  const arn = parseArn(recordedCluster);
  const name = arn ? arn.resource.replace(/^cluster\//, '') : recordedCluster;
  const problems: string[] = [];
  if (arnCluster !== undefined && name !== arnCluster) {
    problems.push(
      `the recorded cluster ${recordedCluster} is not ${arnCluster}, the cluster its ARN names`,
    );
  }
  if (arn && (arn.account !== where.account || arn.region !== where.region)) {
    problems.push(
      `the recorded cluster ${recordedCluster} is in ${arn.account}/${arn.region}, not in ${where.account}/${where.region}`,
    );
  }
  return problems;
}

/** Problems with a recorded service that is not the service a task set ARN names. */
export function serviceMismatch(recordedService: string, arnService: string): string[] {
  const name = recordedService.split('/').at(-1) ?? recordedService;
  return name === arnService
    ? []
    : [
        `the recorded service ${recordedService} is not ${arnService}, the service its task set ARN names`,
      ];
}
