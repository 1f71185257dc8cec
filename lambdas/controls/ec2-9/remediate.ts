/**
 * EC2.9 — an instance should have no public IPv4 address.
 *
 * Follows the manual procedure (seed 000). The address on the primary
 * interface is either:
 * - an Elastic IP: turn off the primary interface's auto-assign public IPv4
 *   setting (unless it reads off), then disassociate the address and keep
 *   the allocation, so rollback can associate it again. The order matters:
 *   when an Elastic IP is disassociated from an instance, EC2 gives it a new
 *   public IPv4 address (EC2 User Guide, "Public IPv4 addresses": "When you
 *   disassociate the Elastic IP address from your instance, it receives a new
 *   public IP address"), and it does so minutes later, not at once, so verify
 *   watches the instance for a settle period instead of looking once;
 * - auto-assigned: turn it off on the primary interface
 *   (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false, no stop
 *   or reboot). Where EC2 rejects that, use the procedure's temporary
 *   Elastic IP technique (temporary-interface.ts). Either way the address
 *   goes back to Amazon's pool and cannot be got back.
 * Optionally (step 4) the subnet stops auto-assigning public IPv4 addresses.
 * Instances in an Auto Scaling group are left alone: the group would replace
 * them with instances that get new addresses.
 *
 * Whether the primary interface auto-assigns is read with
 * DescribeNetworkInterfaceAttribute (Attribute=associatePublicIpAddress);
 * the interface's Association.IpOwnerId ("amazon" for an auto-assigned
 * address) cannot tell it while an Elastic IP sits on the interface, which
 * is exactly when it matters. EC2 may leave the value out; hubfix then turns
 * the setting off anyway and records that it could not tell, so rollback
 * does not turn on what may never have been on.
 *
 * Every read first removes what an interrupted run of this control left
 * behind for the instance (leftovers.ts), so a temporary Elastic IP is never
 * taken for the owner's.
 */
import {
  type Address,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  type DescribeAddressesCommandOutput,
  DescribeNetworkInterfaceAttributeCommand,
  DisassociateAddressCommand,
  EC2Client,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type {
  ChangePlan,
  Control,
  FindingContext,
  RollbackCall,
  VerifyResult,
} from '../../core/control';
import { hasTimeFor } from '../../core/deadline';
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
import { VERIFY_BACKOFF_MS, verifyEventually } from '../../services/wait';
import {
  inUseUntil,
  isTemporary,
  type Leftover,
  removeLeftovers,
  temporaryAddresses,
  temporaryInterfaces,
} from './leftovers';
import { type Ec2_9Params, ec2_9Meta, TEMPORARY_TAG } from './meta';
import {
  CALL_MS,
  type FallbackTarget,
  freeDeviceIndex,
  needsTemporaryInterface,
  releaseWithTemporaryElasticIp,
  seconds,
} from './temporary-interface';

/** How often the settle watch looks at the instance. */
const WATCH_INTERVAL_MS = 10_000;

/** What one describe call may take in verify's budget. */
const LOOK_MS = 1_000;

/** verify's backoff at its longest: its sleeps, a describe per look, and the setting read first. */
const VERIFY_MS =
  VERIFY_BACKOFF_MS.reduce((sum, ms) => sum + ms, 0) + (VERIFY_BACKOFF_MS.length + 2) * LOOK_MS;

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

/**
 * The primary interface's auto-assign public IPv4 setting, as
 * DescribeNetworkInterfaceAttribute reads it; `unreported` when EC2 left
 * the value out.
 */
export type AutoAssign = 'on' | 'off' | 'unreported';

export type PublicAddress =
  | { readonly kind: 'auto-assigned'; readonly publicIp: string }
  | {
      readonly kind: 'elastic';
      readonly publicIp: string;
      readonly allocationId: string;
      readonly associationId: string;
      /** Read before the change; hubfix turns it off unless it reads off. */
      readonly interfaceAutoAssign: AutoAssign;
    };

type ElasticAddress = Extract<PublicAddress, { kind: 'elastic' }>;

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
  /** What hubfix removed of an interrupted run's temporary resources before reading, one line each. */
  readonly leftoversRemoved: readonly string[];
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
  interfaceAutoAssign: oneOf(['on', 'off', 'unreported']),
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
  /** The address that was removed (with, for an Elastic IP, the interface's auto-assign setting). */
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

/** Every Elastic IP of the account and region: DescribeAddresses is not paginated. */
async function describeAddresses(ec2: EC2Client): Promise<Address[]> {
  const response = await ec2.send(new DescribeAddressesCommand({}));
  return response.Addresses ?? [];
}

async function readInterfaceAutoAssign(ec2: EC2Client, networkInterfaceId: string) {
  const response = await ec2.send(
    new DescribeNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: networkInterfaceId,
      Attribute: 'associatePublicIpAddress',
    }),
  );
  const value = response.AssociatePublicIpAddress;
  const read: AutoAssign = value === undefined ? 'unreported' : value ? 'on' : 'off';
  return read;
}

async function setInterfaceAutoAssign(
  ec2: EC2Client,
  networkInterfaceId: string,
  on: boolean,
): Promise<void> {
  await ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: networkInterfaceId,
      AssociatePublicIpAddress: on,
    }),
  );
}

/** Whether the address is one of this account's Elastic IPs, and its association. */
function addressOf(
  addresses: readonly Address[],
  publicIp: string,
): Omit<ElasticAddress, 'interfaceAutoAssign'> | { kind: 'auto-assigned'; publicIp: string } {
  const elastic = addresses.find((a) => a.PublicIp === publicIp && a.AllocationId);
  if (!elastic?.AllocationId) return { kind: 'auto-assigned', publicIp };
  if (isTemporary(elastic.Tags)) {
    // Removed as a leftover or in use by another invocation before we get here.
    throw new Error(
      `${publicIp} is hubfix's temporary Elastic IP (${elastic.AllocationId}, tagged ${TEMPORARY_TAG}), not the owner's; it could not be removed`,
    );
  }
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

/**
 * The interface setting as the change records turning it off, and the
 * rollback names turning it on: the ledger check finds one in the other.
 */
function autoAssignOn(networkInterfaceId: string): string {
  return `auto-assign public IPv4 on ${networkInterfaceId}`;
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

function settleMs(params: Ec2_9Params): number {
  return params.settleSeconds * 1000;
}

/** EC2 hands out addresses only to running instances, so only those are watched. */
function watchesAfterElasticIp(state: InstanceState): boolean {
  return state.lifecycle === 'running';
}

/** How long the change and its verification may take, before any fallback. */
function timeNeededMs(state: InstanceState, address: PublicAddress, params: Ec2_9Params): number {
  const subnet = params.disableSubnetAutoAssign && state.subnetMapsPublicIp ? CALL_MS : 0;
  if (address.kind === 'auto-assigned') return 2 * CALL_MS + subnet + VERIFY_MS;
  const turnOff = address.interfaceAutoAssign === 'off' ? 0 : CALL_MS;
  const watch = watchesAfterElasticIp(state) ? settleMs(params) + 2 * CALL_MS : VERIFY_MS;
  return turnOff + CALL_MS + subnet + watch;
}

function autoAssignSteps(eni: string, address: ElasticAddress): string[] {
  switch (address.interfaceAutoAssign) {
    case 'off':
      return [];
    case 'on':
      return [
        `turn off auto-assign public IPv4 on ${eni} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false): it is on, and EC2 gives an instance whose primary interface auto-assigns a new public address once its Elastic IP goes`,
      ];
    case 'unreported':
      return [
        `turn off auto-assign public IPv4 on ${eni} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false): EC2 does not report whether it is on, and if it is, the instance gets a new public address once its Elastic IP goes`,
      ];
  }
}

function addressSteps(state: InstanceState, address: PublicAddress, params: Ec2_9Params): string[] {
  const eni = state.primary.networkInterfaceId;
  if (address.kind === 'elastic') {
    return [
      ...autoAssignSteps(eni, address),
      `disassociate Elastic IP ${address.publicIp} (${address.allocationId}, association ${address.associationId}) from ${eni}, the primary interface of ${state.instanceId}; the address stays allocated to the account (and billed) so it can be associated again`,
    ];
  }
  const target = fallbackTarget(state, address.publicIp);
  const temporary = needsTemporaryInterface(target)
    ? `create a temporary network interface in ${state.subnetId} with the instance's security groups and attach it as device ${freeDeviceIndex(state.deviceIndexes)}, then `
    : '';
  return [
    `turn off the public IPv4 address of ${eni}, the primary interface of ${state.instanceId} (ModifyNetworkInterfaceAttribute AssociatePublicIpAddress=false; no stop or reboot)`,
    `only if EC2 rejects that for this interface: ${temporary}allocate an Elastic IP, associate it with ${eni} (which releases ${address.publicIp}), disassociate and release it${temporary ? ', and detach and delete the temporary interface' : ''}, then watch ${state.instanceId} for ${params.settleSeconds} s, since its interface still auto-assigns; whatever fails, nothing temporary is left behind`,
  ];
}

function checkStep(state: InstanceState, address: PublicAddress, params: Ec2_9Params): string {
  return address.kind === 'elastic' && watchesAfterElasticIp(state)
    ? `watch ${state.instanceId} for ${params.settleSeconds} s and check that it has no public IPv4 address all along (EC2 hands out a new one within minutes, not at once)`
    : `check that ${state.instanceId} has no public IPv4 address`;
}

function leftoversNote(state: InstanceState): string {
  const count = state.leftoversRemoved.length;
  return count === 0
    ? ''
    : ` (hubfix first removed ${count} temporary resource(s) an interrupted run had left)`;
}

async function disassociateElastic(
  ec2: EC2Client,
  state: InstanceState,
  address: ElasticAddress,
): Promise<string[]> {
  const { instanceId } = state;
  const eni = state.primary.networkInterfaceId;
  const changes: string[] = [];
  const turnOff = address.interfaceAutoAssign !== 'off';
  if (turnOff) {
    try {
      await setInterfaceAutoAssign(ec2, eni, false);
    } catch (error) {
      throw new PartialChangeError(
        `turning off auto-assign public IPv4 on ${eni} failed: ${describeError(error)}. The Elastic IP was left associated: without that, EC2 would give ${instanceId} a new public address once it goes`,
        `unchanged: ${instanceId} still has Elastic IP ${address.publicIp}`,
        { cause: error },
      );
    }
    changes.push(
      `turned off ${autoAssignOn(eni)} (${
        address.interfaceAutoAssign === 'on' ? 'it was on' : 'EC2 had not reported it'
      }), so ${instanceId} gets no new public address once its Elastic IP goes`,
    );
  }
  try {
    await ec2.send(new DisassociateAddressCommand({ AssociationId: address.associationId }));
  } catch (error) {
    // The function may only turn auto-assign off (its grant says so); the
    // ledger's before-state lets `hubfix rollback` turn it on again.
    // hubfix rollback of this entry is refused (the entry records no Elastic
    // IP taken away), so the way back is the command itself.
    const setting =
      address.interfaceAutoAssign === 'on'
        ? `; auto-assign public IPv4 on ${eni} is now off (it was on): ${giveNewAddressCommand(eni)} turns it on again`
        : address.interfaceAutoAssign === 'unreported'
          ? `; auto-assign public IPv4 on ${eni} is now off (EC2 had not reported it before)`
          : '';
    throw new PartialChangeError(
      `disassociating Elastic IP ${address.publicIp} (${address.allocationId}) from ${eni} failed: ${describeError(error)}`,
      `${instanceId} still has Elastic IP ${address.publicIp}${setting}`,
      { cause: error, changes },
    );
  }
  changes.push(
    `disassociated Elastic IP ${address.publicIp} (${address.allocationId}) from ${eni}; the allocation is kept`,
  );
  return changes;
}

async function removeAddress(
  ec2: EC2Client,
  state: InstanceState,
  address: PublicAddress,
  ctx: FindingContext<Ec2Clients, Ec2_9Params>,
): Promise<string[]> {
  if (address.kind === 'elastic') return disassociateElastic(ec2, state, address);
  const eni = state.primary.networkInterfaceId;
  try {
    await setInterfaceAutoAssign(ec2, eni, false);
    return [`turned off the public IPv4 address of ${eni} (${address.publicIp} was released)`];
  } catch (error) {
    if (!isRejection(error)) {
      throw new PartialChangeError(
        `turning off the public IPv4 address of ${eni} failed: ${describeError(error)}`,
        `unchanged: ${state.instanceId} still has its public IPv4 address ${address.publicIp}`,
        { cause: error },
      );
    }
    // The technique leaves the interface auto-assigning, so verify watches.
    const steps = await releaseWithTemporaryElasticIp(
      ec2,
      fallbackTarget(state, address.publicIp),
      ctx,
      settleMs(ctx.params) + 2 * CALL_MS,
    );
    return [
      `EC2 rejected turning off the public IPv4 address of ${eni} directly (${describeError(error)}), so hubfix used the temporary Elastic IP technique:`,
      ...steps,
    ];
  }
}

/** Passes once the instance shows no public IPv4 address. */
async function noPublicAddress(ec2: EC2Client, instanceId: string): Promise<VerifyResult> {
  const instance = await describeInstance(ec2, instanceId);
  if (!instance) return { ok: false, reason: `${instanceId} no longer exists` };
  return instance.PublicIpAddress === undefined
    ? { ok: true }
    : {
        ok: false,
        reason: `${instanceId} still has public IPv4 address ${instance.PublicIpAddress}`,
      };
}

/**
 * Watches the instance for the settle period, looking every
 * WATCH_INTERVAL_MS, within the invocation's deadline. The removed address
 * may linger for a look or two (EC2 is eventually consistent); any other
 * address is one EC2 handed out since, and fails at once. Passes only when
 * the whole period was watched and the last look shows no address.
 */
async function watchForNewAddress(
  ec2: EC2Client,
  instanceId: string,
  removedIp: string,
  ctx: FindingContext<Ec2Clients, Ec2_9Params>,
): Promise<VerifyResult> {
  const { clock, deadline } = ctx;
  const wanted = settleMs(ctx.params);
  const windowMs = Math.max(0, Math.min(wanted, deadline.remainingMs() - CALL_MS));
  const end = clock.now() + windowMs;
  let seen: string | undefined;
  for (;;) {
    const instance = await describeInstance(ec2, instanceId);
    if (!instance) return { ok: false, reason: `${instanceId} no longer exists` };
    seen = instance.PublicIpAddress;
    if (seen !== undefined && seen !== removedIp) {
      return {
        ok: false,
        reason: `EC2 gave ${instanceId} a new public IPv4 address ${seen} after ${removedIp} went`,
      };
    }
    const left = end - clock.now();
    if (left <= 0) break;
    await clock.sleep(Math.min(WATCH_INTERVAL_MS, left));
  }
  if (seen !== undefined) {
    return {
      ok: false,
      reason: `${instanceId} still has public IPv4 address ${seen} after ${seconds(windowMs)}`,
    };
  }
  if (windowMs < wanted) {
    return {
      ok: false,
      reason: `${instanceId} showed no public IPv4 address, but the invocation left time to watch it for only ${seconds(windowMs)} of the ${seconds(wanted)} EC2 may take to hand out a new one`,
    };
  }
  return { ok: true };
}

type AddressPlace =
  | { readonly kind: 'here' }
  | { readonly kind: 'free' }
  | { readonly kind: 'elsewhere'; readonly holder: string };

/** Where the Elastic IP is now: on the recorded interface, free, or another resource's. */
async function placeOf(
  ec2: EC2Client,
  before: Ec2_9Before,
  address: ElasticAddress,
): Promise<AddressPlace> {
  let response: DescribeAddressesCommandOutput;
  try {
    response = await ec2.send(
      new DescribeAddressesCommand({ AllocationIds: [address.allocationId] }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidAllocationID.NotFound') {
      throw new RollbackRefusedError(
        `Elastic IP ${address.publicIp} (${address.allocationId}) has been released since, so it cannot be associated again`,
        { cause: error },
      );
    }
    throw error;
  }
  const now = response.Addresses?.[0];
  if (now?.AssociationId === undefined) return { kind: 'free' };
  if (
    now.NetworkInterfaceId === before.networkInterfaceId &&
    now.PrivateIpAddress === before.privateIpAddress
  ) {
    return { kind: 'here' };
  }
  return {
    kind: 'elsewhere',
    holder: now.NetworkInterfaceId ?? now.InstanceId ?? 'another resource',
  };
}

/**
 * Associates the Elastic IP again. It is read first: a change that stopped
 * before disassociating left it where it was, and the rollback then has
 * nothing to give back (and no recorded right to make the call).
 */
async function reassociate(
  ec2: EC2Client,
  before: Ec2_9Before,
  address: ElasticAddress,
): Promise<string> {
  const { allocationId, publicIp } = address;
  const where = `${before.networkInterfaceId} (${before.privateIpAddress})`;
  const already = `already associated: Elastic IP ${publicIp} (${allocationId}) with ${where}`;
  const refuseElsewhere = (holder: string, cause?: unknown) =>
    new RollbackRefusedError(
      `Elastic IP ${publicIp} (${allocationId}) is now associated with ${holder}; hubfix will not take it away. Disassociate it there first, then run ${reassociateCommand(before, allocationId)}`,
      cause === undefined ? undefined : { cause },
    );
  const place = await placeOf(ec2, before, address);
  if (place.kind === 'here') return already;
  if (place.kind === 'elsewhere') throw refuseElsewhere(place.holder);
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
    // Associated by someone else between the read and the call.
    if (!(error instanceof Error && error.name === 'Resource.AlreadyAssociated')) throw error;
    const raced = await placeOf(ec2, before, address);
    if (raced.kind === 'here') return already;
    throw refuseElsewhere(raced.kind === 'elsewhere' ? raced.holder : 'another resource', error);
  }
}

/** The interface's auto-assign setting back as it was, when hubfix can tell what that was. */
async function restoreInterfaceAutoAssign(
  ec2: EC2Client,
  before: Ec2_9Before,
  address: ElasticAddress,
  done: readonly string[],
): Promise<string[]> {
  const eni = before.networkInterfaceId;
  switch (address.interfaceAutoAssign) {
    case 'off':
      return [];
    case 'unreported':
      return [
        `left auto-assign public IPv4 off on ${eni}: EC2 did not report the setting before the change, so hubfix cannot tell it was on; if it was, run ${giveNewAddressCommand(eni)}`,
      ];
    case 'on':
      try {
        await setInterfaceAutoAssign(ec2, eni, true);
      } catch (error) {
        throw new PartialChangeError(
          describeError(error),
          `${done.join('; ')}; but auto-assign public IPv4 on ${eni} is still off (it was on): run ${giveNewAddressCommand(eni)}`,
          { cause: error },
        );
      }
      return [`turned auto-assign public IPv4 on ${eni} on again`];
  }
}

export const ec2_9: Control<InstanceState, Ec2_9Before, Ec2_9Params, Ec2Clients> = {
  ...ec2_9Meta,
  resource: instanceResource(),
  before: ec2_9Before,
  // The settle watch alone takes minutes: one instance per invocation.
  findingsPerInvocation: 1,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, ctx) {
    const { ec2 } = ctx.clients;
    let instance: Instance | undefined = await describeInstance(ec2, ref.id);
    let addresses = await describeAddresses(ec2);
    const leftovers: Leftover[] = [
      ...temporaryAddresses(addresses, ref.id),
      ...(await temporaryInterfaces(ec2, ref.id)),
    ];
    const busyUntil = inUseUntil(leftovers, ctx.clock.now());
    if (busyUntil !== undefined) {
      return {
        kind: 'not-applicable',
        reason: `another hubfix invocation is working on ${ref.id} right now (its ${leftovers
          .map((l) => l.what)
          .join(
            '; ',
          )}, in use until ${new Date(busyUntil).toISOString()}); this one leaves the instance to it`,
      };
    }
    let leftoversRemoved: string[] = [];
    if (leftovers.length > 0) {
      leftoversRemoved = await removeLeftovers(ec2, leftovers, ref.id, ctx);
      ctx.log.warn('removed what an interrupted run left behind', { removed: leftoversRemoved });
      // Taking a temporary address off may have changed the instance's own.
      instance = await describeInstance(ec2, ref.id);
      addresses = addresses.filter((a) => !isTemporary(a.Tags));
    }
    if (!instance) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} no longer exists${
          leftoversRemoved.length > 0 ? `; hubfix ${leftoversRemoved.join('; ')}` : ''
        }`,
      };
    }
    const interfaces = instance.NetworkInterfaces ?? [];
    const primary = interfaces.find((eni) => eni.Attachment?.DeviceIndex === 0);
    if (!primary?.NetworkInterfaceId || !primary.PrivateIpAddress || !instance.SubnetId) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} has no primary network interface in a VPC subnet, so EC2.9 does not apply to it`,
      };
    }
    const publicIp = instance.PublicIpAddress;
    const found = publicIp === undefined ? undefined : addressOf(addresses, publicIp);
    const address: PublicAddress | undefined =
      found?.kind === 'elastic'
        ? {
            ...found,
            interfaceAutoAssign: await readInterfaceAutoAssign(ec2, primary.NetworkInterfaceId),
          }
        : found;
    const subnet =
      address !== undefined && ctx.params.disableSubnetAutoAssign
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
        leftoversRemoved,
      },
      tags,
    };
  },

  plan(state, { params }) {
    const { address } = state;
    const already = state.leftoversRemoved.map(
      (line) => `already done when hubfix read ${state.instanceId}: ${line}`,
    );
    if (address === undefined) {
      return {
        kind: 'compliant',
        summary: `${state.instanceId} has no public IPv4 address${leftoversNote(state)}`,
      };
    }
    const eni = state.primary.networkInterfaceId;
    const subnetToo = params.disableSubnetAutoAssign && state.subnetMapsPublicIp;
    const before: Ec2_9Before = {
      instanceId: state.instanceId,
      networkInterfaceId: eni,
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
    const steps = [
      ...already,
      ...addressSteps(state, address, params),
      ...(subnetToo
        ? [
            `turn off auto-assign public IPv4 address on ${state.subnetId}, so instances launched there later get none unless they ask`,
          ]
        : []),
      checkStep(state, address, params),
    ];
    const summary = `${what}${subnetToo ? `, and stop ${state.subnetId} auto-assigning public IPv4 addresses` : ''}${leftoversNote(state)}`;
    if (address.kind === 'auto-assigned') {
      return {
        kind: 'change',
        summary,
        steps,
        before,
        undo: subnetUndo,
        irreversible: `the auto-assigned address ${address.publicIp} goes back to Amazon's pool and cannot be got back; a new, different public address can be given with ${giveNewAddressCommand(eni)}`,
      } satisfies ChangePlan<Ec2_9Before>;
    }
    return {
      kind: 'change',
      summary,
      steps,
      before,
      undo: [
        reassociateCommand(before, address.allocationId),
        ...(address.interfaceAutoAssign === 'on' ? [giveNewAddressCommand(eni)] : []),
        ...subnetUndo,
      ],
      ...(address.interfaceAutoAssign === 'unreported'
        ? {
            irreversible: `EC2 does not report whether ${eni} auto-assigned a public IPv4 address, so a rollback leaves that setting off; if it was on, ${giveNewAddressCommand(eni)} turns it on again`,
          }
        : {}),
    } satisfies ChangePlan<Ec2_9Before>;
  },

  async preflight(state, { params, deadline }) {
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
    if (state.address !== undefined) {
      const needed = timeNeededMs(state, state.address, params);
      if (!hasTimeFor(deadline, needed)) {
        blockers.push(
          `this invocation has ${seconds(deadline.remainingMs())} left, and removing the address and checking that it stays gone takes up to ${seconds(needed)}. Nothing was changed; run Remediate again (a new invocation has its full time).`,
        );
      }
    }
    return blockers;
  },

  async apply(state, plan, ctx) {
    const { ec2 } = ctx.clients;
    const { before } = plan;
    const changes = [
      ...state.leftoversRemoved.map((line) => `before the change: ${line}`),
      ...(await removeAddress(ec2, state, before.address, ctx)),
    ];
    if (!before.subnetAutoAssignTurnedOff) return { changes };
    try {
      changes.push(...(await setAutoAssign(ec2, before.subnetId, ['MapPublicIpOnLaunch'], false)));
    } catch (error) {
      throw new PartialChangeError(
        describeError(error),
        `${changes.join('; ')}; but ${before.subnetId} still auto-assigns public IPv4 addresses`,
        { cause: error, changes },
      );
    }
    return { changes };
  },

  async verify(state, ctx) {
    const { ec2 } = ctx.clients;
    const removed = state.address;
    if (removed === undefined) return noPublicAddress(ec2, state.instanceId);
    const watch =
      state.lifecycle === 'running' &&
      (removed.kind === 'elastic' ||
        // Off after the direct change; still on after the temporary technique.
        (await readInterfaceAutoAssign(ec2, state.primary.networkInterfaceId)) !== 'off');
    if (watch) return watchForNewAddress(ec2, state.instanceId, removed.publicIp, ctx);
    return verifyEventually(ctx.clock, () => noPublicAddress(ec2, state.instanceId));
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
    if (address.interfaceAutoAssign === 'on') {
      calls.push({
        service: 'ec2',
        action: 'ModifyNetworkInterfaceAttribute',
        resource: networkInterfaceId,
        parameters: { NetworkInterfaceId: networkInterfaceId, AssociatePublicIpAddress: true },
        grants: {
          what: `${autoAssignOn(networkInterfaceId)} (${instanceId} gets a new public address whenever it has none)`,
          removed: autoAssignOn(networkInterfaceId),
        },
      });
    }
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
    lines.push(...(await restoreInterfaceAutoAssign(ec2, before, address, lines)));
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
