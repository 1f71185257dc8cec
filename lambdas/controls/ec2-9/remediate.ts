/**
 * EC2.9 — an instance should have no public IPv4 address.
 *
 * Follows the manual procedure (seed 000). The address on the primary
 * interface is either:
 * - an Elastic IP: disassociate it and keep the allocation, so rollback can
 *   associate it again;
 * - auto-assigned: turn it off on the primary interface
 *   (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false, no stop
 *   or reboot). Where EC2 rejects that, use the procedure's temporary
 *   Elastic IP technique (temporary-interface.ts). Either way the address
 *   goes back to Amazon's pool and cannot be got back.
 * Optionally (step 4) the subnet stops auto-assigning public IPv4 addresses.
 * Instances in an Auto Scaling group are left alone: the group would replace
 * them with instances that get new addresses.
 */
import {
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { ChangePlan, Control, RollbackCall } from '../../core/control';
import { describeError, PartialChangeError, RollbackRefusedError } from '../../core/errors';
import { boolean, isRecord, object, oneOf, type Schema, string } from '../../core/schema';
import { describeInstance } from '../../services/ec2/instances';
import { instanceResource } from '../../services/ec2/resources';
import {
  autoAssignCommand,
  describeAutoAssignOn,
  describeSubnet,
  setAutoAssign,
} from '../../services/ec2/subnets';
import { tagsOf } from '../../services/ec2/tags';
import { type Polling, pollingWindow, systemClock, waitFor } from '../../services/wait';
import { type Ec2_9Params, ec2_9Meta } from './meta';
import {
  type FallbackTarget,
  freeDeviceIndex,
  needsTemporaryInterface,
  releaseWithTemporaryElasticIp,
} from './temporary-interface';

/** How long verify waits for a dropped address to disappear from the instance. */
const VERIFY_POLLING: Polling = { attempts: 5, intervalMs: 2_000 };

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

export type PublicAddress =
  | { readonly kind: 'auto-assigned'; readonly publicIp: string }
  | {
      readonly kind: 'elastic';
      readonly publicIp: string;
      readonly allocationId: string;
      readonly associationId: string;
    };

export interface InstanceState {
  readonly instanceId: string;
  /** running, stopped, pending... */
  readonly lifecycle: string;
  readonly autoScalingGroup: string | undefined;
  readonly subnetId: string;
  readonly primary: {
    readonly networkInterfaceId: string;
    readonly privateIpAddress: string;
    readonly securityGroupIds: readonly string[];
  };
  /** Device indexes of every attached interface. */
  readonly deviceIndexes: readonly number[];
  /** Undefined when the instance has no public IPv4 address. */
  readonly address: PublicAddress | undefined;
  /** Read only when the subnet step is configured and there is an address to remove. */
  readonly subnetMapsPublicIp: boolean;
}

const autoAssignedSchema = object({
  kind: oneOf(['auto-assigned']),
  publicIp: string({ minLength: 1 }),
});

const elasticSchema = object({
  kind: oneOf(['elastic']),
  publicIp: string({ minLength: 1 }),
  allocationId: string({ minLength: 1 }),
  associationId: string({ minLength: 1 }),
});

const addressSchema: Schema<PublicAddress> = {
  expected: 'an auto-assigned or Elastic IP address record',
  parse(input, path) {
    return isRecord(input) && input.kind === 'elastic'
      ? elasticSchema.parse(input, path)
      : autoAssignedSchema.parse(input, path);
  },
};

export const ec2_9Before = object({
  instanceId: string({ minLength: 1 }),
  networkInterfaceId: string({ minLength: 1 }),
  privateIpAddress: string({ minLength: 1 }),
  subnetId: string({ minLength: 1 }),
  address: addressSchema,
  subnetAutoAssignTurnedOff: boolean(),
});

export interface Ec2_9Before {
  readonly instanceId: string;
  readonly networkInterfaceId: string;
  readonly privateIpAddress: string;
  readonly subnetId: string;
  /** The address that was removed. */
  readonly address: PublicAddress;
  /** Whether hubfix turned off the subnet's auto-assign public IPv4 (rollback turns it on). */
  readonly subnetAutoAssignTurnedOff: boolean;
}

const ASG_TAG = 'aws:autoscaling:groupName';
const SETTLED = new Set(['running', 'stopped']);

/**
 * Errors by which EC2 refuses AssociatePublicIpAddress for this interface
 * (rather than failing for a reason the fallback would hit too).
 */
const REJECTED = new Set([
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'UnsupportedOperation',
  'OperationNotPermitted',
  'UnknownParameter',
]);

function isRejection(error: unknown): boolean {
  return error instanceof Error && REJECTED.has(error.name);
}

/** Whether the address is one of this account's Elastic IPs, and its association. */
async function addressOf(ec2: EC2Client, publicIp: string): Promise<PublicAddress> {
  const response = await ec2.send(
    new DescribeAddressesCommand({ Filters: [{ Name: 'public-ip', Values: [publicIp] }] }),
  );
  const elastic = response.Addresses?.find((a) => a.AllocationId);
  if (!elastic?.AllocationId) return { kind: 'auto-assigned', publicIp };
  if (!elastic.AssociationId) {
    // Shown on the instance yet not associated: it is moving right now.
    throw new Error(`Elastic IP ${publicIp} (${elastic.AllocationId}) has no association yet`);
  }
  return {
    kind: 'elastic',
    publicIp,
    allocationId: elastic.AllocationId,
    associationId: elastic.AssociationId,
  };
}

function giveNewAddressCommand(networkInterfaceId: string): string {
  return `aws ec2 modify-network-interface-attribute --network-interface-id ${networkInterfaceId} --associate-public-ip-address`;
}

function reassociateCommand(before: Ec2_9Before, allocationId: string): string {
  return `aws ec2 associate-address --allocation-id ${allocationId} --network-interface-id ${before.networkInterfaceId} --private-ip-address ${before.privateIpAddress} --no-allow-reassociation`;
}

function fallbackTarget(state: InstanceState, publicIp: string): FallbackTarget {
  return {
    instanceId: state.instanceId,
    networkInterfaceId: state.primary.networkInterfaceId,
    privateIpAddress: state.primary.privateIpAddress,
    publicIp,
    subnetId: state.subnetId,
    securityGroupIds: state.primary.securityGroupIds,
    deviceIndexes: state.deviceIndexes,
  };
}

function addressSteps(state: InstanceState, address: PublicAddress): string[] {
  const eni = state.primary.networkInterfaceId;
  if (address.kind === 'elastic') {
    // EC2 gives a single-interface instance that was launched with a public
    // address a new one when its Elastic IP goes; say so rather than surprise.
    const caveat =
      state.deviceIndexes.length < 2
        ? `. If ${state.instanceId} was launched with a public address, EC2 may give it a new one within minutes; Security Hub then reports it again and that address is handled as auto-assigned`
        : '';
    return [
      `disassociate Elastic IP ${address.publicIp} (${address.allocationId}, association ${address.associationId}) from ${eni}, the primary interface of ${state.instanceId}; the address stays allocated to the account (and billed) so it can be associated again${caveat}`,
    ];
  }
  const target = fallbackTarget(state, address.publicIp);
  const temporary = needsTemporaryInterface(target)
    ? `create a temporary network interface in ${state.subnetId} with the instance's security groups and attach it as device ${freeDeviceIndex(state.deviceIndexes)}, then `
    : '';
  return [
    `turn off the public IPv4 address of ${eni}, the primary interface of ${state.instanceId} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false; no stop or reboot)`,
    `only if EC2 rejects that for this interface: ${temporary}allocate an Elastic IP, associate it with ${eni} (which releases ${address.publicIp}), disassociate and release it${temporary ? ', and detach and delete the temporary interface' : ''}; whatever fails, nothing temporary is left behind`,
  ];
}

async function removeAddress(
  ec2: EC2Client,
  state: InstanceState,
  address: PublicAddress,
): Promise<string[]> {
  const eni = state.primary.networkInterfaceId;
  if (address.kind === 'elastic') {
    try {
      await ec2.send(new DisassociateAddressCommand({ AssociationId: address.associationId }));
    } catch (error) {
      throw new PartialChangeError(
        `disassociating Elastic IP ${address.publicIp} (${address.allocationId}) from ${eni} failed: ${describeError(error)}`,
        `unchanged: ${state.instanceId} still has Elastic IP ${address.publicIp}`,
        { cause: error },
      );
    }
    return [
      `disassociated Elastic IP ${address.publicIp} (${address.allocationId}) from ${eni}; the allocation is kept`,
    ];
  }
  try {
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eni,
        AssociatePublicIpAddress: false,
      }),
    );
    return [`turned off the public IPv4 address of ${eni} (${address.publicIp} was released)`];
  } catch (error) {
    if (!isRejection(error)) {
      throw new PartialChangeError(
        `turning off the public IPv4 address of ${eni} failed: ${describeError(error)}`,
        `unchanged: ${state.instanceId} still has its public IPv4 address ${address.publicIp}`,
        { cause: error },
      );
    }
    const steps = await releaseWithTemporaryElasticIp(ec2, fallbackTarget(state, address.publicIp));
    return [
      `EC2 rejected turning off the public IPv4 address of ${eni} directly (${describeError(error)}), so hubfix used the temporary Elastic IP technique:`,
      ...steps,
    ];
  }
}

export const ec2_9: Control<InstanceState, Ec2_9Before, Ec2_9Params, Ec2Clients> = {
  ...ec2_9Meta,
  resource: instanceResource(),
  before: ec2_9Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 }, params }) {
    const instance = await describeInstance(ec2, ref.id);
    if (!instance) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    const interfaces = instance.NetworkInterfaces ?? [];
    const primary = interfaces.find((eni) => eni.Attachment?.DeviceIndex === 0);
    if (!primary?.NetworkInterfaceId || !primary.PrivateIpAddress || !instance.SubnetId) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} has no primary network interface in a VPC subnet, so EC2.9 does not apply to it`,
      };
    }
    const publicIp = instance.PublicIpAddress;
    const address = publicIp === undefined ? undefined : await addressOf(ec2, publicIp);
    const subnet =
      address !== undefined && params.disableSubnetAutoAssign
        ? await describeSubnet(ec2, instance.SubnetId)
        : undefined;
    const tags = tagsOf(instance.Tags);
    return {
      kind: 'found',
      state: {
        instanceId: ref.id,
        lifecycle: instance.State?.Name ?? 'unknown',
        autoScalingGroup: tags[ASG_TAG],
        subnetId: instance.SubnetId,
        primary: {
          networkInterfaceId: primary.NetworkInterfaceId,
          privateIpAddress: primary.PrivateIpAddress,
          securityGroupIds: (primary.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
        },
        deviceIndexes: interfaces.flatMap((eni) =>
          eni.Attachment?.DeviceIndex === undefined ? [] : [eni.Attachment.DeviceIndex],
        ),
        address,
        subnetMapsPublicIp: subnet?.MapPublicIpOnLaunch === true,
      },
      tags,
    };
  },

  plan(state, { params }) {
    const { address } = state;
    if (address === undefined) {
      return { kind: 'compliant', summary: `${state.instanceId} has no public IPv4 address` };
    }
    const subnetToo = params.disableSubnetAutoAssign && state.subnetMapsPublicIp;
    const before: Ec2_9Before = {
      instanceId: state.instanceId,
      networkInterfaceId: state.primary.networkInterfaceId,
      privateIpAddress: state.primary.privateIpAddress,
      subnetId: state.subnetId,
      address,
      subnetAutoAssignTurnedOff: subnetToo,
    };
    const subnetUndo = subnetToo
      ? [autoAssignCommand(state.subnetId, 'MapPublicIpOnLaunch', true)]
      : [];
    const what =
      address.kind === 'elastic'
        ? `disassociate Elastic IP ${address.publicIp} (${address.allocationId}) from ${state.instanceId}, keeping the allocation`
        : `remove the auto-assigned public IPv4 address ${address.publicIp} from ${state.instanceId}`;
    return {
      kind: 'change',
      summary: `${what}${subnetToo ? `, and stop ${state.subnetId} auto-assigning public IPv4 addresses` : ''}`,
      steps: [
        ...addressSteps(state, address),
        ...(subnetToo
          ? [
              `turn off auto-assign public IPv4 address on ${state.subnetId}, so instances launched there later get none unless they ask`,
            ]
          : []),
        `check that ${state.instanceId} has no public IPv4 address`,
      ],
      before,
      undo:
        address.kind === 'elastic'
          ? [reassociateCommand(before, address.allocationId), ...subnetUndo]
          : subnetUndo,
      ...(address.kind === 'auto-assigned'
        ? {
            irreversible: `the auto-assigned address ${address.publicIp} goes back to Amazon's pool and cannot be got back; a new, different public address can be given with ${giveNewAddressCommand(state.primary.networkInterfaceId)}`,
          }
        : {}),
    } satisfies ChangePlan<Ec2_9Before>;
  },

  async preflight(state) {
    const blockers: string[] = [];
    if (state.autoScalingGroup !== undefined) {
      blockers.push(
        `${state.instanceId} belongs to Auto Scaling group "${state.autoScalingGroup}", which would replace it with an instance that gets a new public address. Turn off public IPv4 addresses in the group's launch template (AssociatePublicIpAddress=false on its network interface) or its subnets, then refresh the group's instances.`,
      );
    }
    if (!SETTLED.has(state.lifecycle)) {
      blockers.push(
        `${state.instanceId} is ${state.lifecycle}, not running or stopped, so its addresses may still change. Run Remediate again once it has settled.`,
      );
    }
    return blockers;
  },

  async apply(state, plan, { clients: { ec2 } }) {
    const { before } = plan;
    const changes = await removeAddress(ec2, state, before.address);
    if (!before.subnetAutoAssignTurnedOff) return { changes };
    try {
      changes.push(...(await setAutoAssign(ec2, before.subnetId, ['MapPublicIpOnLaunch'], false)));
    } catch (error) {
      throw new PartialChangeError(
        describeError(error),
        `${changes.join('; ')}; but ${before.subnetId} still auto-assigns public IPv4 addresses`,
        { cause: error },
      );
    }
    return { changes };
  },

  async verify(state, { clients: { ec2 } }) {
    // Dropping an address is usually visible at once; a short, bounded lag is allowed.
    let seen: string | undefined;
    const verdict = await waitFor(systemClock, pollingWindow(VERIFY_POLLING), async () => {
      const instance = await describeInstance(ec2, state.instanceId);
      if (!instance) return { ok: false as const, reason: `${state.instanceId} no longer exists` };
      seen = instance.PublicIpAddress;
      return seen === undefined ? { ok: true as const } : undefined;
    });
    return verdict.done
      ? verdict.value
      : { ok: false, reason: `${state.instanceId} still has public IPv4 address ${seen}` };
  },

  describeRollback(before) {
    const { address, instanceId, networkInterfaceId, privateIpAddress } = before;
    const target = { resourceId: instanceId };
    if (address.kind === 'auto-assigned') {
      return {
        target,
        calls: [],
        problems: [
          `the auto-assigned address ${address.publicIp} of ${instanceId} went back to Amazon's pool and cannot be got back; a new, different one can be given with ${giveNewAddressCommand(networkInterfaceId)}`,
        ],
      };
    }
    const calls: RollbackCall[] = [
      {
        service: 'ec2',
        action: 'AssociateAddress',
        resource: networkInterfaceId,
        parameters: {
          AllocationId: address.allocationId,
          NetworkInterfaceId: networkInterfaceId,
          PrivateIpAddress: privateIpAddress,
          AllowReassociation: false,
        },
        grants: {
          what: `${instanceId} is reachable at Elastic IP ${address.publicIp} again`,
          removed: address.allocationId,
        },
      },
    ];
    if (before.subnetAutoAssignTurnedOff) {
      calls.push(...describeAutoAssignOn(before.subnetId, ['MapPublicIpOnLaunch']));
    }
    return { target, calls };
  },

  async checkRollback(before, { clients: { ec2 } }) {
    const instance = await describeInstance(ec2, before.instanceId);
    if (!instance) return [`${before.instanceId} no longer exists`];
    const primary = (instance.NetworkInterfaces ?? []).find(
      (eni) => eni.Attachment?.DeviceIndex === 0,
    );
    const problems: string[] = [];
    if (primary?.NetworkInterfaceId !== before.networkInterfaceId) {
      problems.push(
        `${before.networkInterfaceId} is not the primary network interface of ${before.instanceId} (that is ${primary?.NetworkInterfaceId ?? 'none'})`,
      );
    }
    if (before.subnetAutoAssignTurnedOff && instance.SubnetId !== before.subnetId) {
      problems.push(
        `${before.instanceId} is in ${instance.SubnetId ?? 'no subnet'}, not in ${before.subnetId}`,
      );
    }
    return problems;
  },

  async rollback(before, { clients: { ec2 } }) {
    const { address } = before;
    const subnetUndo = before.subnetAutoAssignTurnedOff
      ? ` Nothing was changed; to turn auto-assign public IPv4 back on for ${before.subnetId}, run ${autoAssignCommand(before.subnetId, 'MapPublicIpOnLaunch', true)}.`
      : '';
    if (address.kind === 'auto-assigned') {
      throw new RollbackRefusedError(
        `the auto-assigned address ${address.publicIp} of ${before.instanceId} went back to Amazon's pool and cannot be got back. A new, different public address can be given with ${giveNewAddressCommand(before.networkInterfaceId)}.${subnetUndo}`,
      );
    }
    const lines = [await reassociate(ec2, before, address)];
    if (!before.subnetAutoAssignTurnedOff) return lines;
    try {
      lines.push(...(await setAutoAssign(ec2, before.subnetId, ['MapPublicIpOnLaunch'], true)));
    } catch (error) {
      throw new PartialChangeError(
        describeError(error),
        `${lines.join('; ')}; but ${before.subnetId} still does not auto-assign public IPv4 addresses`,
        { cause: error },
      );
    }
    return lines;
  },
};

/** Associates the Elastic IP again; already back on the same interface counts as done. */
async function reassociate(
  ec2: EC2Client,
  before: Ec2_9Before,
  address: Extract<PublicAddress, { kind: 'elastic' }>,
): Promise<string> {
  const { allocationId, publicIp } = address;
  const where = `${before.networkInterfaceId} (${before.privateIpAddress})`;
  try {
    await ec2.send(
      new AssociateAddressCommand({
        AllocationId: allocationId,
        NetworkInterfaceId: before.networkInterfaceId,
        PrivateIpAddress: before.privateIpAddress,
        AllowReassociation: false,
      }),
    );
    return `associated Elastic IP ${publicIp} (${allocationId}) with ${where} again`;
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidAllocationID.NotFound') {
      throw new RollbackRefusedError(
        `Elastic IP ${publicIp} (${allocationId}) has been released since, so it cannot be associated again`,
        { cause: error },
      );
    }
    if (!(error instanceof Error && error.name === 'Resource.AlreadyAssociated')) throw error;
    const response = await ec2.send(
      new DescribeAddressesCommand({ AllocationIds: [allocationId] }),
    );
    const now = response.Addresses?.[0];
    if (
      now?.NetworkInterfaceId === before.networkInterfaceId &&
      now.PrivateIpAddress === before.privateIpAddress
    ) {
      return `already associated: Elastic IP ${publicIp} (${allocationId}) with ${where}`;
    }
    throw new RollbackRefusedError(
      `Elastic IP ${publicIp} (${allocationId}) is now associated with ${now?.NetworkInterfaceId ?? now?.InstanceId ?? 'another resource'}; hubfix will not take it away. Disassociate it there first, then run ${reassociateCommand(before, allocationId)}`,
      { cause: error },
    );
  }
}
