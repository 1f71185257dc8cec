/**
 * EC2.2 — a VPC's default security group should allow no traffic.
 *
 * Follows the manual procedure (seed 001): first find everything that uses
 * the default group (network interfaces, other groups' rules, peered VPCs,
 * and what has no interface this minute: Lambda functions, launch templates,
 * launch configurations, ECS services). With the default strategy
 * `empty-if-unused`, any user blocks the change and hubfix explains and
 * notifies; otherwise every inbound and outbound rule is revoked by rule id
 * and kept as the before-state so it can be put back exactly. With
 * `migrate`, interfaces and rules are moved to a replacement group first
 * (see migrate.ts).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Control, FindingContext } from '../../core/control';
import { hasTimeFor } from '../../core/deadline';
import { object, optional, string } from '../../core/schema';
import { securityGroupResource } from '../../services/ec2/resources';
import {
  describeRestoreRules,
  describeRule,
  foreignRules,
  listRules,
  manualRestoreCommands,
  restoreMissingRules,
  revokeRules,
  type SecurityGroupRuleRecord,
  securityGroupRulesSchema,
} from '../../services/ec2/security-group-rules';
import {
  describeInterface,
  groupsReferencing,
  interfacesInGroup,
  peeredReferences,
} from '../../services/ec2/security-groups';
import { tagsOf } from '../../services/ec2/tags';
import { verifyEventually } from '../../services/wait';
import { type Ec2_2Params, ec2_2Meta } from './meta';
import {
  applyMigration,
  describeMigrationRollback,
  type MigrationBefore,
  type MigrationInventory,
  migrationBefore,
  migrationBeforeOf,
  migrationBlockers,
  migrationMs,
  migrationProblems,
  migrationSteps,
  migrationUndo,
  readInventory,
  rollbackMigration,
  verdict,
} from './migrate';
import {
  defaultVpcQuestion,
  ecsServicesUsing,
  type GroupInQuestion,
  lambdaFunctionsUsing,
  launchConfigurationsUsing,
  launchTemplatesUsing,
  listSome,
  usesBlockers,
} from './users';

export interface Ec2Clients {
  readonly ec2: EC2Client;
  readonly lambda: LambdaClient;
  readonly ecs: ECSClient;
  readonly autoScaling: AutoScalingClient;
}

export interface DefaultGroupState {
  readonly groupId: string;
  readonly vpcId: string;
  readonly rules: readonly SecurityGroupRuleRecord[];
  /** Read only with strategy `migrate`: what the migration would move. */
  readonly inventory?: MigrationInventory;
}

export const ec2_2Before = object({
  groupId: string({ minLength: 1 }),
  vpcId: string({ minLength: 1 }),
  rules: securityGroupRulesSchema,
  /** Present when the change was a migration (strategy `migrate`). */
  migration: optional(migrationBefore),
});

export interface Ec2_2Before {
  readonly groupId: string;
  readonly vpcId: string;
  readonly rules: readonly SecurityGroupRuleRecord[];
  readonly migration?: MigrationBefore;
}

type Ec2_2Context = FindingContext<Ec2Clients, Ec2_2Params>;

/** How many interfaces the `empty-if-unused` blocker counts before it says "or more". */
const COUNTED = 100;

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidGroup.NotFound';
}

/** What only interfaces and other groups' rules say; for `empty-if-unused`, any of them blocks. */
async function directUsers(ec2: EC2Client, groupId: string): Promise<string[]> {
  const [interfaces, referencing] = await Promise.all([
    interfacesInGroup(ec2, groupId, COUNTED),
    groupsReferencing(ec2, groupId),
  ]);
  const blockers: string[] = [];
  if (interfaces.items.length > 0) {
    const count = `${interfaces.items.length}${interfaces.more ? ' or more' : ''}`;
    blockers.push(
      `${groupId} is attached to ${count} network interface(s): ${listSome(interfaces.items.map(describeInterface))}. Move them to a group of their own first, then empty the default group (or use the migrate strategy).`,
    );
  }
  if (referencing.length > 0) {
    blockers.push(
      `the rules of ${listSome(referencing.map((g) => `${g.groupId}${g.name ? ` (${g.name})` : ''}`))} reference ${groupId}. Point them at a replacement group first.`,
    );
  }
  return blockers;
}

/** Users that neither strategy can move: each blocks both. */
async function otherUsers(clients: Ec2Clients, group: GroupInQuestion): Promise<string[]> {
  const [peers, functions, templates, configurations, services] = await Promise.all([
    peeredReferences(clients.ec2, group.groupId),
    lambdaFunctionsUsing(clients.lambda, group.groupId),
    launchTemplatesUsing(clients.ec2, group),
    launchConfigurationsUsing(clients.autoScaling, group),
    ecsServicesUsing(clients.ecs, group),
  ]);
  return [
    ...(peers.length > 0
      ? [
          `security groups in peered VPC(s) ${listSome(peers)} reference ${group.groupId}. Point them at another group first.`,
        ]
      : []),
    ...usesBlockers(
      functions,
      'Lambda function version(s)',
      group,
      'Lambda makes their network interfaces only while they run; change their VPC configuration to another group first.',
    ),
    ...usesBlockers(
      templates,
      'launch template version(s)',
      group,
      'hubfix does not change launch templates: create a version that names another group (the replacement, with migrate) and make it the default, then delete or replace the old default and latest versions.',
    ),
    ...usesBlockers(
      configurations,
      'Auto Scaling launch configuration(s)',
      group,
      'Launch configurations cannot be changed: move their Auto Scaling groups to a launch template or configuration with another group first.',
    ),
    ...usesBlockers(
      services,
      'ECS service(s)',
      group,
      'A service scaled to 0 still starts its tasks in it: update the services to another group first.',
    ),
  ];
}

export const ec2_2: Control<DefaultGroupState, Ec2_2Before, Ec2_2Params, Ec2Clients> = {
  ...ec2_2Meta,
  resource: securityGroupResource(),
  before: ec2_2Before,

  createClients: (options) => ({
    ec2: new EC2Client(options),
    lambda: new LambdaClient(options),
    ecs: new ECSClient(options),
    autoScaling: new AutoScalingClient(options),
  }),

  async readState(ref, { clients: { ec2 }, params }) {
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
    const rules = await listRules(ec2, ref.id);
    const inventory =
      params.strategy === 'migrate' && rules.length > 0
        ? await readInventory(ec2, ref.id, group.VpcId, params.migrate.maxInterfaces)
        : undefined;
    return {
      kind: 'found',
      state: {
        groupId: ref.id,
        vpcId: group.VpcId,
        rules,
        ...(inventory ? { inventory } : {}),
      },
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
    const emptying = `revoke all ${state.rules.length} rules (${inbound} inbound, ${outbound} outbound) of the ${where}`;
    const base = { groupId: state.groupId, vpcId: state.vpcId, rules: state.rules };
    const { inventory } = state;
    if (inventory && (inventory.interfaces.length > 0 || inventory.referencingRules.length > 0)) {
      const migration = migrationBeforeOf(state.groupId, state.vpcId, inventory);
      return {
        kind: 'change',
        summary: `move ${migration.interfaces.length} network interface(s) and ${migration.referencingRules.length} rule(s) of other groups from the ${where} to ${migration.replacementName}, then revoke all ${state.rules.length} rules of ${state.groupId}`,
        steps: migrationSteps(state.groupId, state.vpcId, state.rules, migration),
        before: { ...base, migration },
        undo: [...manualRestoreCommands(state.groupId, state.rules), ...migrationUndo(migration)],
      };
    }
    return {
      kind: 'change',
      summary: emptying,
      steps: [
        ...state.rules.map((rule) => `revoke ${describeRule(rule)}`),
        `check that ${state.groupId} has no rules left`,
      ],
      before: base,
      undo: manualRestoreCommands(state.groupId, state.rules),
    };
  },

  async preflight(state, ctx: Ec2_2Context) {
    const { ec2 } = ctx.clients;
    const group: GroupInQuestion = {
      groupId: state.groupId,
      vpcId: state.vpcId,
      inDefaultVpc: defaultVpcQuestion(ec2, state.vpcId),
    };
    const { inventory } = state;
    const [direct, other] = await Promise.all([
      inventory
        ? Promise.resolve(
            migrationBlockers(
              state.groupId,
              state.vpcId,
              inventory,
              ctx.params.migrate.maxInterfaces,
            ),
          )
        : directUsers(ec2, state.groupId),
      otherUsers(ctx.clients, group),
    ]);
    const blockers = [...direct, ...other];
    const plan = ec2_2.plan(state, ctx);
    if (blockers.length === 0 && plan.kind === 'change' && plan.before.migration) {
      const needed = migrationMs(state.groupId, state.rules, plan.before.migration);
      if (!hasTimeFor(ctx.deadline, needed)) {
        blockers.push(
          `the migration needs about ${Math.ceil(needed / 1000)} s and this invocation has ${Math.floor(ctx.deadline.remainingMs() / 1000)} s left; it is tried again with the next event`,
        );
      }
    }
    return blockers;
  },

  async apply(state, plan, ctx) {
    const { ec2 } = ctx.clients;
    const { migration } = plan.before;
    if (migration) {
      return {
        changes: await applyMigration(
          ec2,
          {
            groupId: state.groupId,
            vpcId: state.vpcId,
            rules: plan.before.rules,
            before: migration,
          },
          ctx.deadline,
          ctx.log,
        ),
      };
    }
    return { changes: await revokeRules(ec2, state.groupId, plan.before.rules) };
  },

  async verify(state, { clients: { ec2 }, clock }) {
    const moved = state.inventory?.interfaces.map((e) => e.interfaceId);
    return verifyEventually(clock, async () => {
      if (moved !== undefined) {
        return verdict(await migrationProblems(ec2, state.groupId, state.vpcId, moved));
      }
      const left = await listRules(ec2, state.groupId);
      return left.length === 0
        ? { ok: true }
        : {
            ok: false,
            reason: `${left.length} rule(s) remain on ${state.groupId}: ${left.map((r) => r.ruleId).join(', ')}`,
          };
    });
  },

  describeRollback(before) {
    const target = { resourceId: before.groupId };
    const foreign = foreignRules(before.groupId, before.rules);
    if (before.migration) {
      const { calls, problems } = describeMigrationRollback(
        before.groupId,
        before.vpcId,
        before.rules,
        before.migration,
      );
      return { target, calls, problems: [...foreign, ...problems] };
    }
    return {
      target,
      calls: describeRestoreRules(before.groupId, before.rules),
      problems: foreign,
    };
  },

  async rollback(before, { clients: { ec2 } }) {
    if (before.migration) {
      return rollbackMigration(ec2, before.groupId, before.vpcId, before.rules, before.migration);
    }
    return restoreMissingRules(ec2, before.groupId, before.rules);
  },
};
