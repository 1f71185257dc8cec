/**
 * Who is in a security group and who points at it, read to the end: every
 * describe here is filtered, so EC2 may answer empty pages that still carry a
 * NextToken, and each goes through the paging helper.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Filter,
  type NetworkInterface,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { type Collected, collect, collectAll } from '../paging';
import { tagsOf } from './tags';

/** A network interface as the security group controls judge and move it. */
export interface InterfaceInGroups {
  readonly interfaceId: string;
  /** Its security groups, in EC2's order. */
  readonly groups: readonly string[];
  readonly interfaceType: string;
  /** The account that owns the interface. */
  readonly ownerId?: string;
  /** Made by an AWS service on your behalf (load balancers, NAT gateways, RDS...). */
  readonly requesterManaged: boolean;
  /** The service provider managing it, when EC2 says one is. */
  readonly managedBy?: string;
  readonly instanceId?: string;
  /** Who owns the instance it is attached to: an account id, or an AWS service's alias. */
  readonly instanceOwnerId?: string;
  readonly description?: string;
}

function interfaceOf(eni: NetworkInterface): InterfaceInGroups | undefined {
  if (!eni.NetworkInterfaceId) return undefined;
  const optional = {
    ownerId: eni.OwnerId,
    managedBy: eni.Operator?.Managed ? (eni.Operator.Principal ?? 'an AWS service') : undefined,
    instanceId: eni.Attachment?.InstanceId,
    instanceOwnerId: eni.Attachment?.InstanceOwnerId,
    description: eni.Description || undefined,
  };
  return {
    interfaceId: eni.NetworkInterfaceId,
    groups: (eni.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
    interfaceType: eni.InterfaceType ?? 'interface',
    requesterManaged: eni.RequesterManaged === true,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/** "eni-1 (web server, i-0abc)": enough for a person to find it. */
export function describeInterface(eni: InterfaceInGroups): string {
  const about = [eni.description, eni.instanceId].filter(Boolean).join(', ');
  return `${eni.interfaceId}${about ? ` (${about})` : ''}`;
}

async function describeInterfaces(
  ec2: EC2Client,
  filters: Filter[],
  atMost?: number,
): Promise<Collected<InterfaceInGroups>> {
  return collect(
    async (NextToken) => {
      const page = await ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: filters,
          MaxResults: 1000,
          // Interfaces AWS services manage are hidden by default where the
          // account hides managed resources; they use the group all the same.
          IncludeManagedResources: true,
          NextToken,
        }),
      );
      return {
        items: (page.NetworkInterfaces ?? []).flatMap((eni) => interfaceOf(eni) ?? []),
        nextToken: page.NextToken,
      };
    },
    atMost === undefined ? {} : { atMost },
  );
}

/** The interfaces in `groupId`, up to `atMost` (then `more` says whether others exist). */
export function interfacesInGroup(
  ec2: EC2Client,
  groupId: string,
  atMost?: number,
): Promise<Collected<InterfaceInGroups>> {
  return describeInterfaces(ec2, [{ Name: 'group-id', Values: [groupId] }], atMost);
}

/** These interfaces as they are now; ones that no longer exist are simply absent. */
export async function interfacesById(
  ec2: EC2Client,
  interfaceIds: readonly string[],
): Promise<InterfaceInGroups[]> {
  if (interfaceIds.length === 0) return [];
  // A filter rather than NetworkInterfaceIds: one deleted interface would
  // otherwise fail the whole call.
  const found = await describeInterfaces(ec2, [
    { Name: 'network-interface-id', Values: [...interfaceIds] },
  ]);
  return [...found.items];
}

export interface GroupSummary {
  readonly groupId: string;
  readonly name: string;
  readonly vpcId?: string;
  readonly tags: Readonly<Record<string, string>>;
}

function summaryOf(group: SecurityGroup): GroupSummary | undefined {
  if (!group.GroupId) return undefined;
  return {
    groupId: group.GroupId,
    name: group.GroupName ?? '',
    ...(group.VpcId ? { vpcId: group.VpcId } : {}),
    tags: tagsOf(group.Tags),
  };
}

async function describeGroups(ec2: EC2Client, filters: Filter[]): Promise<GroupSummary[]> {
  return collectAll(async (NextToken) => {
    const page = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: filters, MaxResults: 1000, NextToken }),
    );
    return {
      items: (page.SecurityGroups ?? []).flatMap((g) => summaryOf(g) ?? []),
      nextToken: page.NextToken,
    };
  });
}

/**
 * Other groups with a rule, inbound or outbound, whose source or destination
 * is `groupId` (its own self-reference is not counted). EC2 ANDs filters, so
 * inbound and outbound are two questions.
 */
export async function groupsReferencing(ec2: EC2Client, groupId: string): Promise<GroupSummary[]> {
  const answers = await Promise.all(
    ['ip-permission.group-id', 'egress.ip-permission.group-id'].map((name) =>
      describeGroups(ec2, [{ Name: name, Values: [groupId] }]),
    ),
  );
  const byId = new Map<string, GroupSummary>();
  for (const group of answers.flat()) {
    if (group.groupId !== groupId) byId.set(group.groupId, group);
  }
  return [...byId.values()];
}

/** The group of this name in this VPC, if there is one (names are unique per VPC). */
export async function groupNamed(
  ec2: EC2Client,
  vpcId: string,
  name: string,
): Promise<GroupSummary | undefined> {
  const found = await describeGroups(ec2, [
    { Name: 'vpc-id', Values: [vpcId] },
    { Name: 'group-name', Values: [name] },
  ]);
  return found[0];
}

/**
 * VPCs across a peering or Transit Gateway connection whose groups reference
 * `groupId`. This call takes no NextToken: one answer is the whole answer.
 */
export async function peeredReferences(ec2: EC2Client, groupId: string): Promise<string[]> {
  const response = await ec2.send(
    new DescribeSecurityGroupReferencesCommand({ GroupId: [groupId] }),
  );
  return (response.SecurityGroupReferenceSet ?? []).map(
    (ref) =>
      `${ref.ReferencingVpcId ?? '?'}${
        ref.VpcPeeringConnectionId
          ? ` via ${ref.VpcPeeringConnectionId}`
          : ref.TransitGatewayId
            ? ` via ${ref.TransitGatewayId}`
            : ''
      }`,
  );
}
