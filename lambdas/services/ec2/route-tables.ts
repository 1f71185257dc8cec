/**
 * Which route table a subnet really uses, and whether that table makes the
 * subnet "public only": its default route goes to an internet gateway and
 * nothing routes through NAT. Tasks or instances there reach the internet
 * only through a public IP of their own, so taking that IP away cuts them off
 * (no image pulls, no calls to AWS APIs without VPC endpoints).
 */
import {
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Filter,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { collectAll } from '../paging';

/** A filtered describe: every page is read, an empty one with a token included. */
async function routeTables(ec2: EC2Client, filters: Filter[]): Promise<RouteTable[]> {
  return collectAll(async (nextToken) => {
    const page = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: filters, MaxResults: 100, NextToken: nextToken }),
    );
    return { items: page.RouteTables ?? [], nextToken: page.NextToken };
  });
}

async function vpcOfSubnet(ec2: EC2Client, subnetId: string): Promise<string | undefined> {
  const response = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
  return response.Subnets?.[0]?.VpcId;
}

/** Default route to an internet gateway, and no route through a NAT gateway or NAT instance. */
export function routesOnlyThroughInternetGateway(table: RouteTable): boolean {
  // A blackhole route carries no traffic, so it neither exposes nor rescues anything.
  const routes = (table.Routes ?? []).filter((route) => route.State !== 'blackhole');
  const defaultToIgw = routes.some(
    (route) => route.DestinationCidrBlock === '0.0.0.0/0' && route.GatewayId?.startsWith('igw-'),
  );
  const throughNat = routes.some(
    (route) => route.NatGatewayId?.startsWith('nat-') || route.InstanceId !== undefined,
  );
  return defaultToIgw && !throughNat;
}

/**
 * The subnets among `subnetIds` whose effective route table (their explicit
 * association, else their VPC's main table) routes only through an internet
 * gateway. One call when every subnet has an explicit association; the VPC's
 * main table costs one more, and one for the VPC id when no subnet named it.
 */
export async function subnetsOnlyThroughInternetGateway(
  ec2: EC2Client,
  subnetIds: readonly string[],
): Promise<string[]> {
  const subnets = [...new Set(subnetIds)];
  if (subnets.length === 0) return [];
  const explicit = await routeTables(ec2, [{ Name: 'association.subnet-id', Values: subnets }]);
  const tableOf = new Map<string, RouteTable>();
  for (const table of explicit) {
    for (const association of table.Associations ?? []) {
      if (association.SubnetId && subnets.includes(association.SubnetId)) {
        tableOf.set(association.SubnetId, table);
      }
    }
  }
  const implicit = subnets.filter((subnet) => !tableOf.has(subnet));
  const [firstImplicit] = implicit;
  if (firstImplicit !== undefined) {
    // All subnets of one ECS network configuration are in the same VPC.
    const vpcId =
      explicit.find((table) => table.VpcId)?.VpcId ?? (await vpcOfSubnet(ec2, firstImplicit));
    if (vpcId) {
      const [main] = await routeTables(ec2, [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'association.main', Values: ['true'] },
      ]);
      // Without any route table a subnet has no internet route a public IP could use.
      if (main) for (const subnet of implicit) tableOf.set(subnet, main);
    }
  }
  return subnets.filter((subnet) => {
    const table = tableOf.get(subnet);
    return table !== undefined && routesOnlyThroughInternetGateway(table);
  });
}
