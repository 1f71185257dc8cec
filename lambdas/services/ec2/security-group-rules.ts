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

/** Every rule of one group: a filtered describe, so every page is read. */
export async function listRules(
  ec2: EC2Client,
  groupId: string,
): Promise<SecurityGroupRuleRecord[]> {
  return collectAll(async (nextToken) => {
    const page = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'group-id', Values: [groupId] }],
        MaxResults: 1000,
        NextToken: nextToken,
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

export function describeTraffic(rule: SecurityGroupRuleRecord): string {
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

export function describePeer(rule: SecurityGroupRuleRecord): string {
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

/** Drops keys whose value is undefined, so requests say only what they mean. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The IpPermission that re-creates a recorded rule exactly. */
export function toIpPermission(rule: SecurityGroupRuleRecord): IpPermission {
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
      { cause: error },
    );
  }
  return rules.map((rule) => `revoked ${describeRule(rule)}`);
}

function isDuplicate(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidPermission.Duplicate';
}

/**
 * Puts recorded rules back one at a time, so a rule that is already there
 * again (someone restored it by hand) does not stop the rest.
 */
export async function restoreRules(
  ec2: EC2Client,
  groupId: string,
  rules: readonly SecurityGroupRuleRecord[],
): Promise<string[]> {
  const done: string[] = [];
  for (const rule of rules) {
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
