/**
 * Inbound security group rules open to the whole internet, shared by EC2.18
 * (only authorized ports may be open) and EC2.19 (no high-risk port may be
 * open). Both revoke only the offending rules: a rule whose source is
 * another group, a prefix list or a narrower CIDR, and every outbound rule,
 * is never touched. Each control supplies only its judgement of a rule.
 *
 * Both controls judge TCP and UDP ports, and all traffic (protocol -1), as
 * their AWS Config rules do. A world-open rule for any other protocol (ICMP,
 * ICMPv6, ESP, AH, GRE...) opens no port, so it never offends here: revoking
 * it would break path-MTU discovery or IPsec and fix nothing either control
 * checks.
 */
import {
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { Clock } from '../../core/clock';
import type { Plan, ReadResult, RollbackDescription, VerifyResult } from '../../core/control';
import type { ResourceRef } from '../../core/resource';
import { object, string } from '../../core/schema';
import { verifyEventually } from '../wait';
import { ALL_PORTS, type PortRange } from './ports';
import {
  describeRestoreRules,
  describeRule,
  foreignRules,
  listRules,
  manualRestoreCommands,
  type SecurityGroupRuleRecord,
  securityGroupRulesSchema,
} from './security-group-rules';
import { tagsOf } from './tags';

export const ANY_IPV4 = '0.0.0.0/0';
export const ANY_IPV6 = '::/0';

/** What a rule lets in, with protocol numbers and "all ports" spelt out. */
export type Traffic =
  | { readonly kind: 'all' }
  | { readonly kind: 'ports'; readonly protocol: 'tcp' | 'udp'; readonly range: PortRange }
  /** A protocol without ports (ICMP, ESP, GRE...): neither control judges it. */
  | { readonly kind: 'other'; readonly protocol: string };

/** The traffic a control judges: all traffic, or TCP and UDP ports. */
export type JudgedTraffic = Exclude<Traffic, { readonly kind: 'other' }>;

/** Why a rule open to the internet offends, or undefined when it may stay. */
export type Judge = (traffic: JudgedTraffic) => string | undefined;

export interface Offence {
  readonly rule: SecurityGroupRuleRecord;
  readonly why: string;
}

export interface SecurityGroupState {
  readonly groupId: string;
  readonly groupName: string;
  readonly vpcId: string;
  /** Every rule of the group; the control's judge picks the offending ones. */
  readonly rules: readonly SecurityGroupRuleRecord[];
}

export const openIngressBefore = object({
  groupId: string({ minLength: 1 }),
  vpcId: string({ minLength: 1 }),
  rules: securityGroupRulesSchema,
});

export interface OpenIngressBefore {
  readonly groupId: string;
  readonly vpcId: string;
  /** The revoked rules, exactly as they were. */
  readonly rules: readonly SecurityGroupRuleRecord[];
}

/**
 * EC2 reports a rule's protocol by name (tcp, udp, icmp, icmpv6) or by
 * number (50 for ESP, or 6 when the rule was made with a number), and -1 for
 * all traffic; anything not listed here is a protocol without ports.
 */
const PROTOCOLS: Readonly<Record<string, 'tcp' | 'udp' | 'all'>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  '-1': 'all',
};

/** Inbound, and open to any IPv4 or any IPv6 address: nothing else is ours to touch. */
export function isOpenToInternet(rule: SecurityGroupRuleRecord): boolean {
  return (
    !rule.egress &&
    rule.referencedGroupId === undefined &&
    rule.prefixListId === undefined &&
    (rule.cidrIpv4 === ANY_IPV4 || rule.cidrIpv6 === ANY_IPV6)
  );
}

export function trafficOf(rule: SecurityGroupRuleRecord): Traffic {
  const protocol = PROTOCOLS[rule.protocol.toLowerCase()];
  if (protocol === 'all') return { kind: 'all' };
  if (protocol === undefined) return { kind: 'other', protocol: rule.protocol };
  const { fromPort, toPort } = rule;
  if (fromPort === undefined || fromPort === -1) {
    return { kind: 'ports', protocol, range: ALL_PORTS };
  }
  const to = toPort === undefined || toPort === -1 ? fromPort : Math.max(fromPort, toPort);
  return { kind: 'ports', protocol, range: { from: fromPort, to } };
}

export function offences(rules: readonly SecurityGroupRuleRecord[], judge: Judge): Offence[] {
  const found: Offence[] = [];
  for (const rule of rules) {
    if (!isOpenToInternet(rule)) continue;
    const traffic = trafficOf(rule);
    if (traffic.kind === 'other') continue;
    const why = judge(traffic);
    if (why !== undefined) found.push({ rule, why });
  }
  return found;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidGroup.NotFound';
}

/** The group's name, VPC, tags and every rule, live. */
export async function readSecurityGroup(
  ec2: EC2Client,
  ref: ResourceRef,
): Promise<ReadResult<SecurityGroupState>> {
  let response: DescribeSecurityGroupsCommandOutput;
  try {
    response = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [ref.id] }));
  } catch (error) {
    if (isNotFound(error)) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    throw error;
  }
  const group = response.SecurityGroups?.[0];
  if (!group) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
  return {
    kind: 'found',
    state: {
      groupId: ref.id,
      groupName: group.GroupName ?? '?',
      vpcId: group.VpcId ?? '?',
      rules: await listRules(ec2, ref.id),
    },
    tags: tagsOf(group.Tags),
  };
}

/**
 * Revoke exactly the offending rules. `what` finishes "open to the internet
 * …", e.g. "on a high-risk port".
 */
export function planRevocation(
  state: SecurityGroupState,
  judge: Judge,
  what: string,
): Plan<OpenIngressBefore> {
  const where = `${state.groupId} (${state.groupName}) of ${state.vpcId}`;
  const found = offences(state.rules, judge);
  if (found.length === 0) {
    return {
      kind: 'compliant',
      summary: `no inbound rule of ${where} is open to the internet ${what}`,
    };
  }
  const rules = found.map((offence) => offence.rule);
  return {
    kind: 'change',
    summary: `revoke ${found.length} inbound rule(s) of ${where} open to the internet ${what}`,
    steps: [
      ...found.map((offence) => `revoke ${describeRule(offence.rule)}: ${offence.why}`),
      `check that no inbound rule of ${state.groupId} is open to the internet ${what}; every other rule stays`,
    ],
    before: { groupId: state.groupId, vpcId: state.vpcId, rules },
    undo: manualRestoreCommands(state.groupId, rules),
  };
}

/**
 * Re-lists the rules until no offending one is left, or the verify backoff
 * is spent (a describe right after the revoke may still show the rule);
 * other rules may remain.
 */
export async function verifyRevocation(
  ec2: EC2Client,
  clock: Clock,
  groupId: string,
  judge: Judge,
  what: string,
): Promise<VerifyResult> {
  return verifyEventually(clock, async () => {
    const left = offences(await listRules(ec2, groupId), judge);
    return left.length === 0
      ? { ok: true }
      : {
          ok: false,
          reason: `${left.length} inbound rule(s) of ${groupId} are still open to the internet ${what}: ${left
            .map((offence) => offence.rule.ruleId)
            .join(', ')}`,
        };
  });
}

/**
 * EC2.18 and EC2.19 only ever revoke inbound rules open to the internet, so a
 * before-state holding any other rule was not written by them.
 */
export function describeOpenIngressRollback(
  controlId: string,
  before: OpenIngressBefore,
): RollbackDescription {
  const notOurs = before.rules
    .filter((rule) => !isOpenToInternet(rule))
    .map(
      (rule) =>
        `${describeRule(rule)} is not an inbound rule open to the internet, which is all ${controlId} revokes`,
    );
  return {
    target: { resourceId: before.groupId },
    calls: describeRestoreRules(before.groupId, before.rules),
    problems: [...foreignRules(before.groupId, before.rules), ...notOurs],
  };
}
