/**
 * Users of a default security group that have no network interface right
 * now: a Lambda function (Lambda removes the interfaces of idle functions),
 * a launch template or an Auto Scaling launch configuration (nothing runs
 * from it at this minute), an ECS service scaled to 0. Each would get the
 * group the next time it starts, so each counts as "in use".
 *
 * Something that names no security group at all gets its VPC's default
 * group (EC2, ECS and Auto Scaling all fall back to it). hubfix cannot tell
 * which VPC such a template launches into, so it counts as a possible user.
 * A group named "default" by name (launch templates, launch configurations)
 * resolves to this group only in the default VPC, where names are allowed.
 */
import {
  type AutoScalingClient,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  type ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  type NetworkConfiguration,
} from '@aws-sdk/client-ecs';
import { type LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { collectAll } from '../../services/paging';

/** How many names a blocker lists before it summarises the rest. */
export const LISTED = 5;

/** "a, b, c, d, e and 3 more". */
export function listSome(items: readonly string[]): string {
  const shown = items.slice(0, LISTED).join(', ');
  const hidden = items.length - Math.min(items.length, LISTED);
  return `${shown}${hidden > 0 ? ` and ${hidden} more` : ''}`;
}

/** How a template or configuration comes to use the group. */
export type Use = 'by-id' | 'by-name' | 'implicit';

export interface NamedUse {
  readonly name: string;
  readonly use: Use;
}

/** The group being judged, and whether its VPC is the account's default VPC (asked lazily). */
export interface GroupInQuestion {
  readonly groupId: string;
  readonly vpcId: string;
  readonly inDefaultVpc: () => Promise<boolean>;
}

/** Asks EC2 once, and only if a name-based reference needs the answer. */
export function defaultVpcQuestion(ec2: EC2Client, vpcId: string): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () => {
    answer ??= ec2
      .send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))
      .then((response) => response.Vpcs?.[0]?.IsDefault === true);
    return answer;
  };
}

/** Pure: how a list of group ids and names relates to the group in question. */
export function useOf(
  ids: readonly string[],
  names: readonly string[],
  groupId: string,
  inDefaultVpc: boolean,
): Use | undefined {
  if (ids.includes(groupId)) return 'by-id';
  if (names.includes('default') && inDefaultVpc) return 'by-name';
  if (ids.length === 0 && names.length === 0) return 'implicit';
  return undefined;
}

async function judge(
  ids: readonly string[],
  names: readonly string[],
  group: GroupInQuestion,
): Promise<Use | undefined> {
  const inDefaultVpc = names.includes('default') ? await group.inDefaultVpc() : false;
  return useOf(ids, names, group.groupId, inDefaultVpc);
}

/**
 * One blocker per way of using the group, naming what uses it that way.
 * `what` is plural ("launch template versions"), `fix` says what to change.
 */
export function usesBlockers(
  found: readonly NamedUse[],
  what: string,
  group: GroupInQuestion,
  fix: string,
): string[] {
  const named = (use: Use) => found.filter((f) => f.use === use).map((f) => f.name);
  const blockers: string[] = [];
  const byId = named('by-id');
  if (byId.length > 0) {
    blockers.push(`${byId.length} ${what} name ${group.groupId}: ${listSome(byId)}. ${fix}`);
  }
  const byName = named('by-name');
  if (byName.length > 0) {
    blockers.push(
      `${byName.length} ${what} name the group "default" by name, which in the default VPC ${group.vpcId} is ${group.groupId}: ${listSome(byName)}. ${fix}`,
    );
  }
  const implicit = named('implicit');
  if (implicit.length > 0) {
    blockers.push(
      `${implicit.length} ${what} name no security group, so what they start gets the default group of its VPC, possibly ${group.groupId}: ${listSome(implicit)}. Give them a security group of their own.`,
    );
  }
  return blockers;
}

/** Lambda functions, any published version included, whose VPC configuration names the group. */
export async function lambdaFunctionsUsing(
  lambda: LambdaClient,
  groupId: string,
): Promise<NamedUse[]> {
  return collectAll(async (Marker) => {
    const page = await lambda.send(
      new ListFunctionsCommand({ FunctionVersion: 'ALL', MaxItems: 50, Marker }),
    );
    return {
      items: (page.Functions ?? []).flatMap((fn) =>
        fn.VpcConfig?.SecurityGroupIds?.includes(groupId)
          ? [
              {
                name: `${fn.FunctionName ?? '?'}${fn.Version && fn.Version !== '$LATEST' ? `:${fn.Version}` : ''}`,
                use: 'by-id' as const,
              },
            ]
          : [],
      ),
      nextToken: page.NextMarker,
    };
  });
}

function templateGroups(version: LaunchTemplateVersion): { ids: string[]; names: string[] } {
  const data = version.LaunchTemplateData;
  const ids = [
    ...(data?.SecurityGroupIds ?? []),
    ...(data?.NetworkInterfaces ?? []).flatMap((ni) => ni.Groups ?? []),
  ];
  return { ids, names: data?.SecurityGroups ?? [] };
}

/** The default and latest version of every launch template, judged. */
export async function launchTemplatesUsing(
  ec2: EC2Client,
  group: GroupInQuestion,
): Promise<NamedUse[]> {
  // Without a template id, "$Latest" and "$Default" describe those versions
  // of every launch template in the account and region, in one paged call.
  const versions = await collectAll(async (NextToken) => {
    const page = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        Versions: ['$Latest', '$Default'],
        MaxResults: 200,
        IncludeManagedResources: true,
        NextToken,
      }),
    );
    return { items: page.LaunchTemplateVersions ?? [], nextToken: page.NextToken };
  });
  const seen = new Set<string>();
  const found: NamedUse[] = [];
  for (const version of versions) {
    const key = `${version.LaunchTemplateId}:${version.VersionNumber}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const { ids, names } = templateGroups(version);
    const use = await judge(ids, names, group);
    if (use) {
      found.push({
        name: `${version.LaunchTemplateId ?? '?'} (${version.LaunchTemplateName ?? '?'}) version ${version.VersionNumber ?? '?'}${version.DefaultVersion ? ' (default)' : ''}`,
        use,
      });
    }
  }
  return found;
}

/** Auto Scaling launch configurations, judged. */
export async function launchConfigurationsUsing(
  autoScaling: AutoScalingClient,
  group: GroupInQuestion,
): Promise<NamedUse[]> {
  const configurations = await collectAll(async (NextToken) => {
    const page = await autoScaling.send(
      new DescribeLaunchConfigurationsCommand({ MaxRecords: 100, NextToken }),
    );
    return { items: page.LaunchConfigurations ?? [], nextToken: page.NextToken };
  });
  const found: NamedUse[] = [];
  for (const configuration of configurations) {
    // A launch configuration lists ids and (default VPC, EC2-Classic) names in one field.
    const listed = configuration.SecurityGroups ?? [];
    const ids = listed.filter((g) => g.startsWith('sg-'));
    const names = listed.filter((g) => !g.startsWith('sg-'));
    const use = await judge(ids, names, group);
    if (use) found.push({ name: configuration.LaunchConfigurationName ?? '?', use });
  }
  return found;
}

function awsVpcGroups(network: NetworkConfiguration | undefined): string[] | undefined {
  const config = network?.awsvpcConfiguration;
  return config ? (config.securityGroups ?? []) : undefined;
}

/** "cluster/service" from a service ARN (new format), else the service's name. */
function serviceName(arn: string | undefined, name: string | undefined): string {
  const at = arn?.indexOf(':service/') ?? -1;
  return arn && at >= 0 ? arn.slice(at + ':service/'.length) : (name ?? '?');
}

/** DescribeServices takes at most 10 services a call. */
const SERVICES_PER_CALL = 10;

/**
 * ECS services whose awsvpc configuration (the service's, a deployment's in
 * progress, or a task set's) names the group or names none. A service scaled
 * to 0 has no interface, and counts all the same.
 */
export async function ecsServicesUsing(
  ecs: ECSClient,
  group: GroupInQuestion,
): Promise<NamedUse[]> {
  const clusters = await collectAll(async (nextToken) => {
    const page = await ecs.send(new ListClustersCommand({ maxResults: 100, nextToken }));
    return { items: page.clusterArns ?? [], nextToken: page.nextToken };
  });
  const found: NamedUse[] = [];
  for (const cluster of clusters) {
    const services = await collectAll(async (nextToken) => {
      const page = await ecs.send(new ListServicesCommand({ cluster, maxResults: 100, nextToken }));
      return { items: page.serviceArns ?? [], nextToken: page.nextToken };
    });
    for (let start = 0; start < services.length; start += SERVICES_PER_CALL) {
      const batch = services.slice(start, start + SERVICES_PER_CALL);
      const response = await ecs.send(new DescribeServicesCommand({ cluster, services: batch }));
      for (const service of response.services ?? []) {
        if (service.status === 'INACTIVE') continue;
        const configurations = [
          awsVpcGroups(service.networkConfiguration),
          ...(service.deployments ?? []).map((d) => awsVpcGroups(d.networkConfiguration)),
          ...(service.taskSets ?? []).map((t) => awsVpcGroups(t.networkConfiguration)),
        ].filter((groups): groups is string[] => groups !== undefined);
        const uses = configurations.map((groups) => useOf(groups, [], group.groupId, false));
        const use = uses.includes('by-id')
          ? 'by-id'
          : uses.includes('implicit')
            ? 'implicit'
            : undefined;
        if (use) {
          found.push({ name: serviceName(service.serviceArn, service.serviceName), use });
        }
      }
    }
  }
  return found;
}
