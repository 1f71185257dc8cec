/**
 * The awsvpc network configuration of an ECS service or task set, as hubfix
 * records it, and the one check both ECS controls make before taking public
 * IPs away: would the tasks still reach the internet (image pulls, AWS APIs)?
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsVpcConfiguration, NetworkConfiguration } from '@aws-sdk/client-ecs';
import { array, type Infer, object, oneOf, string } from '../../core/schema';
import { subnetsOnlyThroughInternetGateway } from '../ec2/route-tables';

export const ASSIGN_PUBLIC_IP = ['ENABLED', 'DISABLED'] as const;
export type AssignPublicIp = (typeof ASSIGN_PUBLIC_IP)[number];

export const awsVpcSchema = object({
  subnets: array(string({ minLength: 1 })),
  securityGroups: array(string({ minLength: 1 })),
  assignPublicIp: oneOf(ASSIGN_PUBLIC_IP),
});

export type AwsVpc = Infer<typeof awsVpcSchema>;

/** The awsvpc configuration, or undefined when the tasks do not use awsvpc networking. */
export function awsVpcOf(network: NetworkConfiguration | undefined): AwsVpc | undefined {
  const config = network?.awsvpcConfiguration;
  if (!config?.subnets || config.subnets.length === 0) return undefined;
  return {
    subnets: config.subnets,
    securityGroups: config.securityGroups ?? [],
    // ECS documents DISABLED as the default when the field is left out.
    assignPublicIp: config.assignPublicIp === 'ENABLED' ? 'ENABLED' : 'DISABLED',
  };
}

/** The same subnets and security groups with the given public IP setting, as the ECS API takes it. */
export function networkConfiguration(
  network: AwsVpc,
  assignPublicIp: AssignPublicIp,
): { awsvpcConfiguration: AwsVpcConfiguration } {
  // Without security groups ECS uses the VPC's default group, as it did before.
  const groups =
    network.securityGroups.length > 0 ? { securityGroups: [...network.securityGroups] } : {};
  return { awsvpcConfiguration: { subnets: [...network.subnets], ...groups, assignPublicIp } };
}

/** The `--network-configuration` argument of the AWS CLI for the same configuration. */
export function cliNetworkConfiguration(network: AwsVpc, assignPublicIp: AssignPublicIp): string {
  return `'${JSON.stringify(networkConfiguration(network, assignPublicIp))}'`;
}

export function describeNetwork(network: AwsVpc): string {
  const groups =
    network.securityGroups.length > 0
      ? `security groups ${network.securityGroups.join(', ')}`
      : "the VPC's default security group";
  return `subnets ${network.subnets.join(', ')} and ${groups}`;
}

export function sameNetwork(a: AwsVpc, b: AwsVpc): boolean {
  const same = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((item) => y.includes(item));
  return (
    a.assignPublicIp === b.assignPublicIp &&
    same(a.subnets, b.subnets) &&
    same(a.securityGroups, b.securityGroups)
  );
}

/**
 * A blocker when a subnet of the tasks reaches the internet only through an
 * internet gateway: without a public IP the tasks there would lose image
 * pulls and every outbound call.
 */
export async function internetOnlyBlocker(
  ec2: EC2Client,
  network: AwsVpc,
): Promise<string | undefined> {
  const stranded = await subnetsOnlyThroughInternetGateway(ec2, network.subnets);
  if (stranded.length === 0) return undefined;
  return (
    `subnet(s) ${stranded.join(', ')} route 0.0.0.0/0 to an internet gateway and have no NAT route: ` +
    'without public IPs the tasks there could no longer pull images or reach the internet. ' +
    'Run them in private subnets with a NAT gateway, or add VPC endpoints for ECR (api and dkr), ' +
    'S3 and CloudWatch Logs, then fix this finding again.'
  );
}
