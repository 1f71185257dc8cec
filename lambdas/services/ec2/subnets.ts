/**
 * A subnet's auto-assign settings: whether instances launched into it get a
 * public IPv4 address or an IPv6 address without asking. Shared by EC2.15
 * (the subnet control) and EC2.9 (which may also turn off the subnet's
 * auto-assign so the next instance does not get a public address again).
 */
import {
  DescribeSubnetsCommand,
  type EC2Client,
  ModifySubnetAttributeCommand,
  type ModifySubnetAttributeCommandInput,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { RollbackCall } from '../../core/control';
import { describeError, PartialChangeError } from '../../core/errors';

export const AUTO_ASSIGN_ATTRIBUTES = [
  'MapPublicIpOnLaunch',
  'AssignIpv6AddressOnCreation',
] as const;
export type AutoAssignAttribute = (typeof AUTO_ASSIGN_ATTRIBUTES)[number];

const LABELS: Record<AutoAssignAttribute, string> = {
  MapPublicIpOnLaunch: 'auto-assign public IPv4 address',
  AssignIpv6AddressOnCreation: 'auto-assign IPv6 address',
};

const CLI_FLAGS: Record<AutoAssignAttribute, string> = {
  MapPublicIpOnLaunch: 'map-public-ip-on-launch',
  AssignIpv6AddressOnCreation: 'assign-ipv6-address-on-creation',
};

const GONE = new Set(['InvalidSubnetID.NotFound', 'InvalidSubnetID.Malformed']);

export function autoAssignLabel(attribute: AutoAssignAttribute): string {
  return LABELS[attribute];
}

/** The subnet, or undefined when it does not exist. */
export async function describeSubnet(
  ec2: EC2Client,
  subnetId: string,
): Promise<Subnet | undefined> {
  try {
    const response = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    return response.Subnets?.[0];
  } catch (error) {
    if (error instanceof Error && GONE.has(error.name)) return undefined;
    throw error;
  }
}

/** The auto-assign settings that are on, in a fixed order. */
export function autoAssignOn(subnet: Subnet): AutoAssignAttribute[] {
  return AUTO_ASSIGN_ATTRIBUTES.filter((attribute) => subnet[attribute] === true);
}

/** The AWS CLI command that sets one auto-assign setting, for undo instructions. */
export function autoAssignCommand(
  subnetId: string,
  attribute: AutoAssignAttribute,
  on: boolean,
): string {
  return `aws ec2 modify-subnet-attribute --subnet-id ${subnetId} --${on ? '' : 'no-'}${CLI_FLAGS[attribute]}`;
}

export function attributeInput(
  subnetId: string,
  attribute: AutoAssignAttribute,
  on: boolean,
): ModifySubnetAttributeCommandInput {
  const value = { Value: on };
  return attribute === 'MapPublicIpOnLaunch'
    ? { SubnetId: subnetId, MapPublicIpOnLaunch: value }
    : { SubnetId: subnetId, AssignIpv6AddressOnCreation: value };
}

function listLabels(attributes: readonly AutoAssignAttribute[]): string {
  return attributes.map(autoAssignLabel).join(' and ');
}

/**
 * Sets each given setting, one call each (ModifySubnetAttribute takes one
 * attribute per call). When a later call fails, the error says which settings
 * were already changed, so nobody has to guess.
 */
export async function setAutoAssign(
  ec2: EC2Client,
  subnetId: string,
  attributes: readonly AutoAssignAttribute[],
  on: boolean,
): Promise<string[]> {
  const verb = on ? 'turned on' : 'turned off';
  const done: AutoAssignAttribute[] = [];
  for (const attribute of attributes) {
    try {
      await ec2.send(new ModifySubnetAttributeCommand(attributeInput(subnetId, attribute, on)));
    } catch (error) {
      const rest = attributes.filter((a) => !done.includes(a));
      const still = `${listLabels(rest)} still ${on ? 'off' : 'on'}`;
      throw new PartialChangeError(
        `${on ? 'turning on' : 'turning off'} ${autoAssignLabel(attribute)} on ${subnetId} failed: ${describeError(error)}`,
        done.length === 0
          ? `unchanged: ${subnetId} has ${still}`
          : `${subnetId} has ${listLabels(done)} ${verb}, ${still}`,
        { cause: error },
      );
    }
    done.push(attribute);
  }
  return done.map((attribute) => `${verb} ${autoAssignLabel(attribute)} on ${subnetId}`);
}

/**
 * The calls {@link setAutoAssign} makes to turn settings back on, as a
 * rollback shows them; the change's record names each one it turned off.
 */
export function describeAutoAssignOn(
  subnetId: string,
  attributes: readonly AutoAssignAttribute[],
): RollbackCall[] {
  return attributes.map((attribute) => ({
    service: 'ec2',
    action: 'ModifySubnetAttribute',
    resource: subnetId,
    parameters: { ...attributeInput(subnetId, attribute, true) },
    grants: {
      what: `${autoAssignLabel(attribute)} on ${subnetId} (instances launched there get one without asking)`,
      removed: `${autoAssignLabel(attribute)} on ${subnetId}`,
    },
  }));
}
