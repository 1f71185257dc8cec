/**
 * EC2.15 — a subnet should not hand out public addresses on its own.
 *
 * Turns off whichever of "auto-assign public IPv4 address"
 * (MapPublicIpOnLaunch) and "auto-assign IPv6 address"
 * (AssignIpv6AddressOnCreation) is on, one call each, and checks both are
 * off. Instances already running keep their addresses; only launches from
 * now on are affected, which is why this control is not disruptive. The
 * settings that were on are the before-state, so rollback turns exactly
 * those back on.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import { array, object, oneOf, string } from '../../core/schema';
import { subnetResource } from '../../services/ec2/resources';
import {
  AUTO_ASSIGN_ATTRIBUTES,
  type AutoAssignAttribute,
  autoAssignCommand,
  autoAssignLabel,
  autoAssignOn,
  describeAutoAssignOn,
  describeSubnet,
  setAutoAssign,
} from '../../services/ec2/subnets';
import { tagsOf } from '../../services/ec2/tags';
import { verifyEventually } from '../../services/wait';
import { type Ec2_15Params, ec2_15Meta } from './meta';

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

export interface SubnetState {
  readonly subnetId: string;
  readonly vpcId: string;
  /** An IPv6-only subnet: instances there get no IPv4 address at all. */
  readonly ipv6Native: boolean;
  /** The auto-assign settings that are on. */
  readonly on: readonly AutoAssignAttribute[];
}

export const ec2_15Before = object({
  subnetId: string({ minLength: 1 }),
  turnedOff: array(oneOf(AUTO_ASSIGN_ATTRIBUTES), { unique: true }),
});

export interface Ec2_15Before {
  readonly subnetId: string;
  /** The settings hubfix turned off, and rollback turns back on. */
  readonly turnedOff: readonly AutoAssignAttribute[];
}

function labels(attributes: readonly AutoAssignAttribute[]): string {
  return attributes.map(autoAssignLabel).join(' and ');
}

export const ec2_15: Control<SubnetState, Ec2_15Before, Ec2_15Params, Ec2Clients> = {
  ...ec2_15Meta,
  resource: subnetResource(),
  before: ec2_15Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 } }) {
    const subnet = await describeSubnet(ec2, ref.id);
    if (!subnet) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    return {
      kind: 'found',
      state: {
        subnetId: ref.id,
        vpcId: subnet.VpcId ?? '?',
        ipv6Native: subnet.Ipv6Native === true,
        on: autoAssignOn(subnet),
      },
      tags: tagsOf(subnet.Tags),
    };
  },

  plan(state) {
    const where = `${state.subnetId} of ${state.vpcId}`;
    if (state.on.length === 0) {
      return {
        kind: 'compliant',
        summary: `${where} auto-assigns neither public IPv4 nor IPv6 addresses`,
      };
    }
    return {
      kind: 'change',
      summary: `turn off ${labels(state.on)} on ${where}`,
      steps: [
        ...state.on.map(
          (attribute) =>
            `turn off ${autoAssignLabel(attribute)} on ${state.subnetId} (${attribute}=false): instances launched there from now on get none unless they ask; running instances keep theirs`,
        ),
        `check that ${state.subnetId} auto-assigns neither public IPv4 nor IPv6 addresses`,
      ],
      before: { subnetId: state.subnetId, turnedOff: state.on },
      undo: state.on.map((attribute) => autoAssignCommand(state.subnetId, attribute, true)),
    };
  },

  async preflight(state) {
    // An IPv6-only subnet has no other address to give an instance: turning
    // off IPv6 auto-assign there would leave new instances unreachable.
    if (state.ipv6Native && state.on.includes('AssignIpv6AddressOnCreation')) {
      return [
        `${state.subnetId} is IPv6-only, so instances launched there need an auto-assigned IPv6 address; hubfix will not turn it off. If that is intended, suppress the finding with a reason.`,
      ];
    }
    return [];
  },

  async apply(_state, plan, { clients: { ec2 } }) {
    return {
      changes: await setAutoAssign(ec2, plan.before.subnetId, plan.before.turnedOff, false),
    };
  },

  async verify(state, { clients: { ec2 }, clock }) {
    return verifyEventually(clock, async () => {
      const subnet = await describeSubnet(ec2, state.subnetId);
      if (!subnet) return { ok: false, reason: `${state.subnetId} no longer exists` };
      const on = autoAssignOn(subnet);
      return on.length === 0
        ? { ok: true }
        : { ok: false, reason: `${state.subnetId} still has ${labels(on)} on` };
    });
  },

  describeRollback(before) {
    return {
      target: { resourceId: before.subnetId },
      calls: describeAutoAssignOn(before.subnetId, before.turnedOff),
    };
  },

  async rollback(before, { clients: { ec2 } }) {
    // Setting an attribute that is already on again is harmless, so a
    // repeated rollback just repeats the same calls.
    return setAutoAssign(ec2, before.subnetId, before.turnedOff, true);
  },
};
