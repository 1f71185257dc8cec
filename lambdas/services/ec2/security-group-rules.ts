/**
 * Security group rules as hubfix records them: by rule id, with everything
 * needed to put a revoked rule back exactly as it was (protocol, ports,
 * source or destination, description). Shared by every control that revokes
 * rules, so recording and restoring are written once.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { RollbackCall } from '../../core/control';
import { describeError, PartialChangeError } from '../../core/errors';
import { array, boolean, type Infer, integer, object, optional, string } from '../../core/schema';
import { collectAll } from '../paging';

export const securityGroupRuleSchema = object({
  ruleId: string({ minLength: 1 }),
  groupId: string({ minLength: 1 }),
  egress: boolean(),
  protocol: string({ minLength: 1 }),
  fromPort: optional(integer({ min: -1, max: 65535 })),
  toPort: optional(integer({ min: -1, max: 65535 })),
  cidrIpv4: optional(string()),
  cidrIpv6: optional(string()),
  prefixListId: optional(string()),
  referencedGroupId: optional(string()),
  referencedUserId: optional(string()),
  referencedVpcId: optional(string()),
  referencedVpcPeeringConnectionId: optional(string()),
  description: optional(string()),
});

export type SecurityGroupRuleRecord = Infer<typeof securityGroupRuleSchema>;

/** What a rule allows, without which rule it is: a rule to be made, or one to find again. */
export type RulePermission = Omit<SecurityGroupRuleRecord, 'ruleId' | 'groupId'>;

export const securityGroupRulesSchema = array(securityGroupRuleSchema);

export function recordRule(rule: SecurityGroupRule): SecurityGroupRuleRecord | undefined {
  if (
    !rule.SecurityGroupRuleId ||
    !rule.GroupId ||
    rule.IsEgress === undefined ||
    !rule.IpProtocol
  ) {
    return undefined;
  }
  const ref = rule.ReferencedGroupInfo;
  return compact({
    ruleId: rule.SecurityGroupRuleId,
    groupId: rule.GroupId,
    egress: rule.IsEgress,
    protocol: rule.IpProtocol,
    fromPort: rule.FromPort,
    toPort: rule.ToPort,
    cidrIpv4: rule.CidrIpv4,
    cidrIpv6: rule.CidrIpv6,
    prefixListId: rule.PrefixListId,
    referencedGroupId: ref?.GroupId,
    referencedUserId: ref?.UserId,
    referencedVpcId: ref?.VpcId,
    referencedVpcPeeringConnectionId: ref?.VpcPeeringConnectionId,
    description: rule.Description,
  }) as SecurityGroupRuleRecord;
}

/** Every rule of one group, read to the last page. */
export function listRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRuleRecord[]> {
  return listRulesOf(ec2, [groupId]);
}

/** Every rule of these groups, read to the last page. */
export async function listRulesOf(
  ec2: EC2Client,
  groupIds: readonly string[],
): Promise<SecurityGroupRuleRecord[]> {
  if (groupIds.length === 0) return [];
  return collectAll(async (NextToken) => {
    const page = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'group-id', Values: [...groupIds] }],
        MaxResults: 1000,
        NextToken,
      }),
    );
    return {
      items: (page.SecurityGroupRules ?? []).flatMap((rule) => recordRule(rule) ?? []),
      nextToken: page.NextToken,
    };
  });
}

const PROTOCOL_NAMES: Record<string, string> = {
  '6': 'tcp',
  '17': 'udp',
  '1': 'icmp',
  '58': 'icmpv6',
};

export function describeTraffic(rule: RulePermission): string {
  const protocol = PROTOCOL_NAMES[rule.protocol] ?? rule.protocol;
  if (protocol === '-1') return 'all traffic';
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    return rule.fromPort === undefined || rule.fromPort === -1
      ? `all ${protocol}`
      : `${protocol} type ${rule.fromPort}`;
  }
  const { fromPort, toPort } = rule;
  if (fromPort === undefined || fromPort === -1) return `all ${protocol} ports`;
  if (fromPort === 0 && toPort === 65535) return `all ${protocol} ports`;
  return fromPort === toPort || toPort === undefined
    ? `${protocol} ${fromPort}`
    : `${protocol} ${fromPort}-${toPort}`;
}

export function describePeer(rule: RulePermission): string {
  return (
    rule.cidrIpv4 ??
    rule.cidrIpv6 ??
    rule.prefixListId ??
    (rule.referencedGroupId
      ? `${rule.referencedGroupId}${rule.referencedUserId ? ` (account ${rule.referencedUserId})` : ''}`
      : 'an unknown peer')
  );
}

export function describeRule(rule: SecurityGroupRuleRecord): string {
  const direction = rule.egress ? 'outbound' : 'inbound';
  const preposition = rule.egress ? 'to' : 'from';
  const note = rule.description ? ` ("${rule.description}")` : '';
  return `${direction} rule ${rule.ruleId}: ${describeTraffic(rule)} ${preposition} ${describePeer(rule)}${note}`;
}

/** "inbound tcp 22 from sg-1 ("ssh")": a rule that does not exist yet has no id to name. */
export function describePermission(rule: RulePermission): string {
  const note = rule.description ? ` ("${rule.description}")` : '';
  return `${rule.egress ? 'outbound' : 'inbound'} ${describeTraffic(rule)} ${
    rule.egress ? 'to' : 'from'
  } ${describePeer(rule)}${note}`;
}

/**
 * What makes two rules the same rule to EC2: direction, protocol, ports and
 * peer. The description is not part of it (EC2 refuses a second rule that
 * differs only by description).
 */
export function permissionKey(rule: RulePermission): string {
  const ports = rule.protocol === '-1' ? '' : `${rule.fromPort ?? ''}-${rule.toPort ?? ''}`;
  return [
    rule.egress ? 'out' : 'in',
    rule.protocol,
    ports,
    rule.cidrIpv4 ?? '',
    rule.cidrIpv6 ?? '',
    rule.prefixListId ?? '',
    rule.referencedGroupId ?? '',
  ].join('|');
}

/** The same rule with its peer group `from` replaced by `to` (other rules unchanged). */
export function repointed(rule: RulePermission, from: string, to: string): RulePermission {
  const { ruleId: _ruleId, groupId: _groupId, ...permission } = rule as SecurityGroupRuleRecord;
  return permission.referencedGroupId === from
    ? { ...permission, referencedGroupId: to }
    : permission;
}

/** Drops keys whose value is undefined, so requests say only what they mean. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The IpPermission that re-creates a recorded rule exactly. */
export function toIpPermission(rule: RulePermission): IpPermission {
  const Description = rule.description;
  const ports = rule.protocol === '-1' ? {} : { FromPort: rule.fromPort, ToPort: rule.toPort };
  return compact<IpPermission>({
    IpProtocol: rule.protocol,
    ...ports,
    IpRanges: rule.cidrIpv4 ? [compact({ CidrIp: rule.cidrIpv4, Description })] : undefined,
    Ipv6Ranges: rule.cidrIpv6 ? [compact({ CidrIpv6: rule.cidrIpv6, Description })] : undefined,
    PrefixListIds: rule.prefixListId
      ? [compact({ PrefixListId: rule.prefixListId, Description })]
      : undefined,
    UserIdGroupPairs: rule.referencedGroupId
      ? [
          compact({
            GroupId: rule.referencedGroupId,
            UserId: rule.referencedUserId,
            VpcId: rule.referencedVpcId,
            VpcPeeringConnectionId: rule.referencedVpcPeeringConnectionId,
            Description,
          }),
        ]
      : undefined,
  });
}

/** AWS CLI commands a person can run to put the rules back by hand. */
export function manualRestoreCommands(
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): string[] {
  const commands: string[] = [];
  for (const egress of [false, true]) {
    const permissions = rules.filter((r) => r.egress === egress).map(toIpPermission);
    if (permissions.length === 0) continue;
    const verb = egress ? 'authorize-security-group-egress' : 'authorize-security-group-ingress';
    commands.push(
      `aws ec2 ${verb} --group-id ${groupId} --ip-permissions '${JSON.stringify(permissions)}'`,
    );
  }
  return commands;
}

async function revokeDirection(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
  egress: boolean,
): Promise<void> {
  const ids = rules.filter((r) => r.egress === egress).map((r) => r.ruleId);
  if (ids.length === 0) return;
  const input = { GroupId: groupId, SecurityGroupRuleIds: ids };
  const response = egress
    ? await ec2.send(new RevokeSecurityGroupEgressCommand(input))
    : await ec2.send(new RevokeSecurityGroupIngressCommand(input));
  if (response.Return !== true || (response.UnknownIpPermissions?.length ?? 0) > 0) {
    throw new Error(
      `EC2 did not revoke every ${egress ? 'outbound' : 'inbound'} rule (${ids.join(', ')})`,
    );
  }
}

/**
 * Revokes the given rules by id, inbound first. When outbound fails after
 * inbound succeeded, the error says so, so nobody has to guess what is left.
 */
export async function revokeRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): Promise<string[]> {
  const inbound = rules.filter((r) => !r.egress);
  try {
    await revokeDirection(ec2, groupId, rules, false);
  } catch (error) {
    throw new PartialChangeError(
      `revoking inbound rules of ${groupId} failed: ${describeError(error)}`,
      'unchanged: no rule was revoked',
      { cause: error },
    );
  }
  try {
    await revokeDirection(ec2, groupId, rules, true);
  } catch (error) {
    throw new PartialChangeError(
      `revoking outbound rules of ${groupId} failed: ${describeError(error)}`,
      inbound.length > 0
        ? `the ${inbound.length} inbound rule(s) were revoked; the outbound rules are still in place`
        : 'unchanged: no rule was revoked',
      // Recorded, so a rollback may give back the inbound rules that went.
      { cause: error, changes: inbound.map((rule) => `revoked ${describeRule(rule)}`) },
    );
  }
  return rules.map((rule) => `revoked ${describeRule(rule)}`);
}

function isDuplicate(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidPermission.Duplicate';
}

/**
 * Puts recorded rules back one at a time, so a rule that is already there
 * again (someone restored it by hand) does not stop the rest. Rules whose
 * permission is in `present` are not sent at all.
 */
export async function restoreRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
  present: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const done: string[] = [];
  for (const rule of rules) {
    if (present.has(permissionKey(rule))) {
      done.push(`already present: ${describeRule(rule)}`);
      continue;
    }
    const input = { GroupId: groupId, IpPermissions: [toIpPermission(rule)] };
    try {
      if (rule.egress) await ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
      else await ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
      done.push(`restored ${describeRule(rule)}`);
    } catch (error) {
      if (!isDuplicate(error)) {
        throw new PartialChangeError(
          `restoring ${describeRule(rule)} failed: ${describeError(error)}`,
          done.length > 0 ? `restored so far: ${done.join('; ')}` : 'nothing was restored',
          { cause: error },
        );
      }
      done.push(`already present: ${describeRule(rule)}`);
    }
  }
  return done;
}

/**
 * Puts back only the recorded rules the group lacks now. A change that
 * stopped part-way left some in place; the rollback neither needs nor may
 * (the entry does not record removing them) authorize those again.
 */
export async function restoreMissingRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): Promise<string[]> {
  const present = new Set((await listRules(ec2, groupId)).map(permissionKey));
  return restoreRules(ec2, groupId, rules, present);
}

/** The calls {@link restoreRules} makes, one per rule, as a rollback shows them. */
export function describeRestoreRules(
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): RollbackCall[] {
  return rules.map((rule) => ({
    service: 'ec2',
    action: rule.egress ? 'AuthorizeSecurityGroupEgress' : 'AuthorizeSecurityGroupIngress',
    resource: groupId,
    parameters: { GroupId: groupId, IpPermissions: [toIpPermission(rule)] },
    grants: { what: describeRule(rule), removed: rule.ruleId },
  }));
}

/** Rules in a before-state that belong to another group than the one it names. */
export function foreignRules(groupId: string, rules: readonly SecurityGroupRuleRecord[]): string[] {
  return rules
    .filter((rule) => rule.groupId !== groupId)
    .map((rule) => `rule ${rule.ruleId} belongs to ${rule.groupId}, not to ${groupId}`);
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidPermission.NotFound';
}

async function sendPermissions(
  ec2: EC2Client,
  groupId: string,
  egress: boolean,
  permissions: IpPermission[],
  verb: 'authorize' | 'revoke',
): Promise<void> {
  const input = { GroupId: groupId, IpPermissions: permissions };
  if (verb === 'authorize') {
    if (egress) await ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
    else await ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
    return;
  }
  const response = egress
    ? await ec2.send(new RevokeSecurityGroupEgressCommand(input))
    : await ec2.send(new RevokeSecurityGroupIngressCommand(input));
  // In a default VPC, EC2 answers rules it did not find in UnknownIpPermissions
  // instead of failing; they are not there, which is what revoking wants.
  if (response.Return !== true) {
    throw new Error(`EC2 did not confirm revoking ${egress ? 'outbound' : 'inbound'} rules`);
  }
}

/**
 * Adds these rules to `groupId`, one call per direction. A rule that is
 * already there (a re-run after an interruption) is fine: then each rule of
 * that direction is added on its own, and duplicates are skipped.
 * @returns how many calls it made, for the caller's own accounting
 */
export async function authorizeRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly RulePermission[],
): Promise<number> {
  return changeRules(ec2, groupId, rules, 'authorize', isDuplicate);
}

/**
 * Removes these rules from `groupId`, found by what they allow rather than by
 * id (for rules hubfix made itself, whose ids it did not keep). A rule that is
 * already gone is fine, as in `authorizeRules`.
 */
export async function revokePermissions(
  ec2: EC2Client,
  groupId: string,
  rules: readonly RulePermission[],
): Promise<number> {
  return changeRules(ec2, groupId, rules, 'revoke', isMissing);
}

async function changeRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly RulePermission[],
  verb: 'authorize' | 'revoke',
  alreadyDone: (error: unknown) => boolean,
): Promise<number> {
  let calls = 0;
  for (const egress of [false, true]) {
    const permissions = rules.filter((r) => r.egress === egress).map(toIpPermission);
    if (permissions.length === 0) continue;
    try {
      calls += 1;
      await sendPermissions(ec2, groupId, egress, permissions, verb);
    } catch (error) {
      if (!alreadyDone(error)) throw error;
      for (const permission of permissions) {
        try {
          calls += 1;
          await sendPermissions(ec2, groupId, egress, [permission], verb);
        } catch (single) {
          if (!alreadyDone(single)) throw single;
        }
      }
    }
  }
  return calls;
}

/** Revokes these rules of `groupId` by id, one call per direction. */
export async function revokeRuleIds(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): Promise<number> {
  let calls = 0;
  for (const egress of [false, true]) {
    if (rules.some((r) => r.egress === egress)) {
      calls += 1;
      await revokeDirection(ec2, groupId, rules, egress);
    }
  }
  return calls;
}
