/**
 * ECS.2 — an ECS service should not give its tasks public IP addresses.
 *
 * Follows the manual procedure (seed 002): update the service with its own
 * subnets and security groups and `assignPublicIp: DISABLED`, and force a new
 * deployment so the running tasks are replaced by tasks without public IPs.
 * Only the ECS deployment controller lets UpdateService change the network
 * configuration; for CodeDeploy and external controllers hubfix says what to
 * do instead. Before taking the IPs away it checks that the tasks would still
 * reach the internet (a NAT route), as the seed warns.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Control, VerifyResult } from '../../core/control';
import {
  describeError,
  PartialChangeError,
  ResourceReferenceError,
  RollbackRefusedError,
} from '../../core/errors';
import { type Infer, object, string } from '../../core/schema';
import {
  type AwsVpc,
  awsVpcOf,
  awsVpcSchema,
  cliNetworkConfiguration,
  describeNetwork,
  internetOnlyBlocker,
  networkConfiguration,
  sameNetwork,
} from '../../services/ecs/network';
import {
  clusterMismatch,
  ecsServiceResource,
  parseServiceArn,
  serviceNameOf,
} from '../../services/ecs/resources';
import { ecsTagsOf } from '../../services/ecs/tags';
import { collectAll } from '../../services/paging';
import { verifyEventually } from '../../services/wait';
import { type Ecs_2Params, ecs_2Meta } from './meta';

export interface EcsClients {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
}

export interface ServiceState {
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly serviceName: string;
  /** ECS, CODE_DEPLOY or EXTERNAL. */
  readonly controller: string;
  readonly network: AwsVpc;
  /** The deployment that was primary when hubfix read the service; the fix must start a new one. */
  readonly primaryDeployment: string | undefined;
}

export const ecs_2Before = object({
  cluster: string({ minLength: 1 }),
  service: string({ minLength: 1 }),
  network: awsVpcSchema,
});

export type Ecs_2Before = Infer<typeof ecs_2Before>;

const GONE = new Set(['ClusterNotFoundException', 'ServiceNotFoundException']);

function isGone(error: unknown): boolean {
  return error instanceof Error && GONE.has(error.name);
}

function lastPart(arn: string): string {
  return arn.split('/').at(-1) ?? arn;
}

async function describeService(
  ecs: ECSClient,
  cluster: string,
  service: string,
  withTags: boolean,
): Promise<Service | undefined> {
  try {
    const response = await ecs.send(
      new DescribeServicesCommand(
        withTags
          ? { cluster, services: [service], include: ['TAGS'] }
          : { cluster, services: [service] },
      ),
    );
    return response.services?.[0];
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/**
 * An old-format service ARN does not say which cluster the service is in, so
 * every cluster is asked. Service names are unique only within a cluster:
 * when two clusters have one, hubfix refuses to guess.
 */
async function findInAnyCluster(ecs: ECSClient, serviceArn: string): Promise<Service | undefined> {
  const clusters = await collectAll(async (nextToken) => {
    const page = await ecs.send(new ListClustersCommand({ maxResults: 100, nextToken }));
    return { items: page.clusterArns ?? [], nextToken: page.nextToken };
  });
  const found: Service[] = [];
  for (const cluster of clusters) {
    const service = await describeService(ecs, cluster, serviceArn, true);
    if (service && service.status !== 'INACTIVE') found.push(service);
  }
  if (found.length > 1) {
    throw new ResourceReferenceError(
      `${serviceArn} matches services in ${found.length} clusters (${found
        .map((s) => s.clusterArn ?? '?')
        .join(', ')}); hubfix will not guess which one the finding is about`,
    );
  }
  return found[0];
}

/**
 * What "verified" means for a change that starts a deployment: the service's
 * network configuration says assignPublicIp DISABLED, and ECS has started a
 * new primary deployment (not the one that was primary when hubfix read the
 * service) that has not failed. The running tasks keep their public IPs
 * until that deployment replaces them (minutes): hubfix does not wait for
 * it, and a rollout that fails and rolls back brings the old configuration
 * back, which Security Hub's next check then reports.
 */
function deploymentVerdict(
  name: string,
  service: Service | undefined,
  primaryBefore: string | undefined,
): VerifyResult {
  const now = awsVpcOf(service?.networkConfiguration)?.assignPublicIp;
  if (now !== 'DISABLED') {
    return {
      ok: false,
      reason: `${name} still has assignPublicIp ${now ?? '(no awsvpc configuration or no service)'}`,
    };
  }
  const primary = service?.deployments?.find((deployment) => deployment.status === 'PRIMARY');
  if (!primary) return { ok: false, reason: `${name} shows no primary deployment yet` };
  if (primaryBefore !== undefined && primary.id === primaryBefore) {
    return {
      ok: false,
      reason: `${name} has started no new deployment yet: ${primaryBefore} is still the primary one`,
    };
  }
  if (primary.rolloutState === 'FAILED') {
    return {
      ok: false,
      reason: `the deployment ${primary.id ?? '?'} of ${name} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
    };
  }
  return { ok: true };
}

function controllerBlocker(state: ServiceState): string | undefined {
  switch (state.controller) {
    case 'ECS':
      return undefined;
    case 'CODE_DEPLOY':
      return (
        `${state.serviceName} is deployed by CodeDeploy (blue/green), so UpdateService cannot change its network configuration. ` +
        'Set assignPublicIp to DISABLED in the network configuration of its CodeDeploy deployment (the AppSpec file or the deployment group) and deploy again.'
      );
    case 'EXTERNAL':
      return (
        `${state.serviceName} uses the EXTERNAL deployment controller: its task sets hold the network configuration. ` +
        'Create a new task set with assignPublicIp DISABLED and make it primary (hubfix ECS.16 does this for each task set).'
      );
    default:
      return `${state.serviceName} uses the deployment controller "${state.controller}", which hubfix does not know how to update.`;
  }
}

export const ecs_2: Control<ServiceState, Ecs_2Before, Ecs_2Params, EcsClients> = {
  ...ecs_2Meta,
  resource: ecsServiceResource(),
  before: ecs_2Before,

  createClients: (options) => ({ ecs: new ECSClient(options), ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ecs } }) {
    const name = serviceNameOf(ref);
    const service =
      name.cluster === undefined
        ? await findInAnyCluster(ecs, ref.raw)
        : await describeService(ecs, name.cluster, ref.raw, true);
    if (!service) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    if (service.status !== 'ACTIVE') {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} is ${service.status ?? 'in no status'}, not ACTIVE`,
      };
    }
    const network = awsVpcOf(service.networkConfiguration);
    if (!network) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} has no awsvpc network configuration, so its tasks get no public IPs of their own and ECS.2 does not apply`,
      };
    }
    return {
      kind: 'found',
      state: {
        clusterArn: service.clusterArn ?? name.cluster ?? 'default',
        serviceArn: service.serviceArn ?? ref.raw,
        serviceName: service.serviceName ?? name.service,
        controller: service.deploymentController?.type ?? 'ECS',
        network,
        primaryDeployment: service.deployments?.find((d) => d.status === 'PRIMARY')?.id,
      },
      tags: ecsTagsOf(service.tags),
    };
  },

  plan(state) {
    const where = `ECS service ${state.serviceName} (${state.clusterArn})`;
    if (state.network.assignPublicIp === 'DISABLED') {
      return { kind: 'compliant', summary: `${where} assigns no public IPs` };
    }
    return {
      kind: 'change',
      summary: `stop assigning public IPs to the tasks of ${where} and start a new deployment`,
      steps: [
        `update ${state.serviceName}: keep ${describeNetwork(state.network)}, set assignPublicIp to DISABLED`,
        'start a new deployment (forceNewDeployment), so the running tasks are replaced by tasks without public IPs',
        `check that ${state.serviceName} says assignPublicIp DISABLED and that a new deployment is primary; it replaces the running tasks by itself over the next minutes, and hubfix does not wait for it to finish`,
      ],
      before: { cluster: state.clusterArn, service: state.serviceArn, network: state.network },
      undo: [
        `aws ecs update-service --cluster ${state.clusterArn} --service ${state.serviceArn} --network-configuration ${cliNetworkConfiguration(
          state.network,
          'ENABLED',
        )} --force-new-deployment`,
      ],
    };
  },

  async preflight(state, { clients: { ec2 } }) {
    // The controller alone decides; no need to read route tables for a fix that cannot run.
    const controller = controllerBlocker(state);
    if (controller) return [controller];
    const stranded = await internetOnlyBlocker(ec2, state.network);
    return stranded ? [stranded] : [];
  },

  async apply(state, plan, { clients: { ecs } }) {
    const { cluster, service, network } = plan.before;
    try {
      await ecs.send(
        new UpdateServiceCommand({
          cluster,
          service,
          networkConfiguration: networkConfiguration(network, 'DISABLED'),
          forceNewDeployment: true,
        }),
      );
    } catch (error) {
      throw new PartialChangeError(
        `updating ${state.serviceName} failed: ${describeError(error)}`,
        'unchanged: the service still assigns public IPs and no deployment was started',
        { cause: error },
      );
    }
    return {
      changes: [
        `set assignPublicIp to DISABLED on ${state.serviceName}, keeping ${describeNetwork(network)}`,
        `started a new deployment of ${state.serviceName}: its tasks are being replaced by tasks without public IPs`,
      ],
    };
  },

  async verify(state, { clients: { ecs }, clock }) {
    return verifyEventually(clock, async () =>
      deploymentVerdict(
        state.serviceName,
        await describeService(ecs, state.clusterArn, state.serviceArn, false),
        state.primaryDeployment,
      ),
    );
  },

  describeRollback(before) {
    const parsed = parseServiceArn(before.service);
    const name = lastPart(before.service);
    const enabled = before.network.assignPublicIp === 'ENABLED';
    const calls = [
      {
        service: 'ecs',
        action: 'UpdateService',
        resource: before.service,
        parameters: {
          cluster: before.cluster,
          service: before.service,
          networkConfiguration: networkConfiguration(before.network, before.network.assignPublicIp),
          forceNewDeployment: true,
        },
        when: 'unless the service already has this network configuration',
        ...(enabled
          ? {
              grants: {
                what: `the tasks of ${name} get public IPs again`,
                removed: 'assignPublicIp to DISABLED',
              },
            }
          : {}),
      },
    ];
    if (!parsed) {
      return {
        target: { resourceId: before.service },
        calls,
        problems: [`the recorded service ${before.service} is not an ECS service ARN`],
      };
    }
    const { cluster, service } = parsed.name;
    return {
      target: {
        resourceId: cluster === undefined ? service : `${cluster}/${service}`,
        account: parsed.account,
        region: parsed.region,
      },
      calls,
      problems: clusterMismatch(before.cluster, cluster, parsed),
    };
  },

  async rollback(before, { clients: { ecs } }) {
    const name = lastPart(before.service);
    const service = await describeService(ecs, before.cluster, before.service, false);
    if (service?.status !== 'ACTIVE') {
      throw new RollbackRefusedError(
        `${before.service} no longer exists or is not ACTIVE, so there is no network configuration to restore`,
      );
    }
    const now = awsVpcOf(service.networkConfiguration);
    const restored = `${describeNetwork(before.network)}, assignPublicIp ${before.network.assignPublicIp}`;
    if (now && sameNetwork(now, before.network))
      return [`already restored: ${name} has ${restored}`];
    await ecs.send(
      new UpdateServiceCommand({
        cluster: before.cluster,
        service: before.service,
        networkConfiguration: networkConfiguration(before.network, before.network.assignPublicIp),
        forceNewDeployment: true,
      }),
    );
    return [`restored ${restored} on ${name} and started a new deployment`];
  },
};
