/**
 * EC2.2 — a VPC's default security group should allow no traffic.
 *
 * Follows the manual procedure (seed 001): first check whether any network
 * interface uses the default group and whether other groups reference it; if
 * either is true, the group is in use and emptying it would cut traffic, so
 * hubfix explains and notifies. Otherwise it revokes every inbound and
 * outbound rule by rule id, verifies none is left, and keeps the revoked rules
 * as the before-state so they can be put back exactly.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  EC2Client,
} from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import { object, string } from '../../core/schema';
import { securityGroupResource } from '../../services/ec2/resources';
import {
  describeRestoreRules,
  describeRule,
  foreignRules,
  listRules,
  manualRestoreCommands,
  restoreRules,
  revokeRules,
  type SecurityGroupRuleRecord,
  securityGroupRulesSchema,
} from '../../services/ec2/security-group-rules';
import { tagsOf } from '../../services/ec2/tags';
import { type Ec2_2Params, ec2_2Meta } from './meta';

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

export interface DefaultGroupState {
  readonly groupId: string;
  readonly vpcId: string;
  readonly rules: readonly SecurityGroupRuleRecord[];
}

export const ec2_2Before = object({
  groupId: string({ minLength: 1 }),
  vpcId: string({ minLength: 1 }),
  rules: securityGroupRulesSchema,
});

export interface Ec2_2Before {
  readonly groupId: string;
  readonly vpcId: string;
  readonly rules: readonly SecurityGroupRuleRecord[];
}

/** How many interfaces or groups to name in a blocker before summarising. */
const LISTED = 5;

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidGroup.NotFound';
}

function listSome(items: readonly string[], more: boolean): string {
  const shown = items.slice(0, LISTED).join(', ');
  const hidden = items.length - Math.min(items.length, LISTED);
  return `${shown}${hidden > 0 ? ` and ${hidden} more` : ''}${more ? ' (and possibly more)' : ''}`;
}

async function interfacesUsing(ec2: EC2Client, groupId: string): Promise<string | undefined> {
  const page = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'group-id', Values: [groupId] }],
      MaxResults: 25,
    }),
  );
  const names = (page.NetworkInterfaces ?? []).map(
    (eni) => `${eni.NetworkInterfaceId ?? '?'}${eni.Description ? ` (${eni.Description})` : ''}`,
  );
  if (names.length === 0) return undefined;
  return `${groupId} is attached to ${names.length}${page.NextToken ? '+' : ''} network interface(s): ${listSome(
    names,
    page.NextToken !== undefined,
  )}. Move them to a group of their own first, then empty the default group.`;
}

async function groupsReferencing(ec2: EC2Client, groupId: string): Promise<string | undefined> {
  const referencing = new Set<string>();
  let more = false;
  for (const filter of ['ip-permission.group-id', 'egress.ip-permission.group-id']) {
    const page = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: filter, Values: [groupId] }],
        MaxResults: 25,
      }),
    );
    more ||= page.NextToken !== undefined;
    for (const group of page.SecurityGroups ?? []) {
      // The default group's own self-reference is part of what gets emptied.
      if (group.GroupId && group.GroupId !== groupId) {
        referencing.add(`${group.GroupId}${group.GroupName ? ` (${group.GroupName})` : ''}`);
      }
    }
  }
  if (referencing.size === 0) return undefined;
  return `the rules of ${listSome([...referencing], more)} reference ${groupId}. Point them at a replacement group first.`;
}

async function peeredReferences(ec2: EC2Client, groupId: string): Promise<string | undefined> {
  const response = await ec2.send(
    new DescribeSecurityGroupReferencesCommand({ GroupId: [groupId] }),
  );
  const peers = (response.SecurityGroupReferenceSet ?? []).map(
    (ref) =>
      `${ref.ReferencingVpcId ?? '?'}${ref.VpcPeeringConnectionId ? ` via ${ref.VpcPeeringConnectionId}` : ''}`,
  );
  if (peers.length === 0) return undefined;
  return `security groups in peered VPC(s) ${listSome(peers, false)} reference ${groupId}.`;
}

export const ec2_2: Control<DefaultGroupState, Ec2_2Before, Ec2_2Params, Ec2Clients> = {
  ...ec2_2Meta,
  resource: securityGroupResource(),
  before: ec2_2Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 } }) {
    let response: DescribeSecurityGroupsCommandOutput;
    try {
      response = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [ref.id] }));
    } catch (error) {
      if (isNotFound(error))
        return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
      throw error;
    }
    const group = response.SecurityGroups?.[0];
    if (!group) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    if (group.GroupName !== 'default' || !group.VpcId) {
      return {
        kind: 'not-applicable',
        reason: `${ref.id} is "${group.GroupName ?? '?'}", not a VPC's default security group, so EC2.2 does not apply to it`,
      };
    }
    return {
      kind: 'found',
      state: { groupId: ref.id, vpcId: group.VpcId, rules: await listRules(ec2, ref.id) },
      tags: tagsOf(group.Tags),
    };
  },

  plan(state) {
    const where = `default security group ${state.groupId} of ${state.vpcId}`;
    if (state.rules.length === 0) {
      return { kind: 'compliant', summary: `the ${where} has no rules` };
    }
    const inbound = state.rules.filter((r) => !r.egress).length;
    const outbound = state.rules.length - inbound;
    return {
      kind: 'change',
      summary: `revoke all ${state.rules.length} rules (${inbound} inbound, ${outbound} outbound) of the ${where}`,
      steps: [
        ...state.rules.map((rule) => `revoke ${describeRule(rule)}`),
        `check that ${state.groupId} has no rules left`,
      ],
      before: { groupId: state.groupId, vpcId: state.vpcId, rules: state.rules },
      undo: manualRestoreCommands(state.groupId, state.rules),
    };
  },

  async preflight(state, { clients: { ec2 } }) {
    const blockers = await Promise.all([
      interfacesUsing(ec2, state.groupId),
      groupsReferencing(ec2, state.groupId),
      peeredReferences(ec2, state.groupId),
    ]);
    return blockers.filter((b): b is string => b !== undefined);
  },

  async apply(state, plan, { clients: { ec2 } }) {
    return { changes: await revokeRules(ec2, state.groupId, plan.before.rules) };
  },

  async verify(state, { clients: { ec2 } }) {
    const left = await listRules(ec2, state.groupId);
    return left.length === 0
      ? { ok: true }
      : {
          ok: false,
          reason: `${left.length} rule(s) remain on ${state.groupId}: ${left.map((r) => r.ruleId).join(', ')}`,
        };
  },

  describeRollback(before) {
    return {
      target: { resourceId: before.groupId },
      calls: describeRestoreRules(before.groupId, before.rules),
      problems: foreignRules(before.groupId, before.rules),
    };
  },

  async rollback(before, { clients: { ec2 } }) {
    return restoreRules(ec2, before.groupId, before.rules);
  },
};
