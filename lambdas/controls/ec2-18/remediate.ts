/**
 * EC2.18 — only authorized ports may be open to the whole internet.
 *
 * Revokes only the inbound rules open to 0.0.0.0/0 or ::/0 that reach a port
 * outside the authorized list. The list is the finding's own control
 * parameters when it carries them (that is what Security Hub judged), else
 * this control's settings (default TCP 80 and 443, no UDP). Only TCP and
 * UDP ports are judged, as the control's Config rule does: a world-open rule
 * for all traffic is unauthorized, one for a protocol without ports (ICMP,
 * ESP, AH, GRE...) is not and stays. Rules from other groups, prefix lists,
 * narrower CIDRs, and every outbound rule, are never touched. The revoked
 * rules are the before-state.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import type { Finding } from '../../core/finding';
import {
  describeOpenIngressRollback,
  type Judge,
  type OpenIngressBefore,
  openIngressBefore,
  planRevocation,
  readSecurityGroup,
  type SecurityGroupState,
  verifyRevocation,
} from '../../services/ec2/open-ingress';
import {
  firstUncovered,
  formatRanges,
  type PortRange,
  parsePortSpec,
} from '../../services/ec2/ports';
import { securityGroupResource } from '../../services/ec2/resources';
import { restoreMissingRules, revokeRules } from '../../services/ec2/security-group-rules';
import { type Ec2_18Params, ec2_18Meta } from './meta';

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

type Protocol = 'tcp' | 'udp';

export interface AuthorizedList {
  readonly ranges: readonly PortRange[];
  readonly source: 'the finding' | 'hubfix settings';
}

export interface AuthorizedPorts {
  readonly tcp: AuthorizedList;
  readonly udp: AuthorizedList;
  /** Values of the finding's parameters that name no port or port range. */
  readonly unreadable: readonly string[];
}

/** Security Hub's parameter names for EC2.18, which the config settings reuse. */
const PARAMETER: Record<Protocol, 'authorizedTcpPorts' | 'authorizedUdpPorts'> = {
  tcp: 'authorizedTcpPorts',
  udp: 'authorizedUdpPorts',
};

const WHAT = 'on a port that is not authorized';

function isRange(range: PortRange | undefined): range is PortRange {
  return range !== undefined;
}

/**
 * The authorized ports, per protocol: the finding's parameter when present
 * (even an empty one: that is what the finding was judged by), else the
 * control's settings. A finding value may hold several ports ("80,443").
 */
export function authorizedPorts(finding: Finding, params: Ec2_18Params): AuthorizedPorts {
  const unreadable: string[] = [];
  function listFor(protocol: Protocol): AuthorizedList {
    const name = PARAMETER[protocol];
    const given = finding.controlParameters[name];
    if (given === undefined) {
      return { ranges: params[name].map(parsePortSpec).filter(isRange), source: 'hubfix settings' };
    }
    const ranges: PortRange[] = [];
    for (const part of given.flatMap((value) => value.split(','))) {
      if (part.trim() === '') continue;
      const range = parsePortSpec(part);
      if (range) ranges.push(range);
      else unreadable.push(`${name} "${part.trim()}"`);
    }
    return { ranges, source: 'the finding' };
  }
  return { tcp: listFor('tcp'), udp: listFor('udp'), unreadable };
}

/** Why a world-open rule offends EC2.18 under `ports`, or undefined when it does not. */
export function authorizedJudge(ports: AuthorizedPorts): Judge {
  return function judge(traffic) {
    switch (traffic.kind) {
      case 'all':
        return 'it lets in all traffic, and only authorized TCP and UDP ports may be open';
      case 'ports': {
        const list = ports[traffic.protocol];
        const port = firstUncovered(traffic.range, list.ranges);
        if (port === undefined) return undefined;
        return `${traffic.protocol} port ${port} is not authorized (authorized ${traffic.protocol.toUpperCase()} ports, from ${list.source}: ${formatRanges(list.ranges)})`;
      }
    }
  };
}

function judgeFor(ctx: { readonly finding: Finding; readonly params: Ec2_18Params }): Judge {
  return authorizedJudge(authorizedPorts(ctx.finding, ctx.params));
}

export const ec2_18: Control<SecurityGroupState, OpenIngressBefore, Ec2_18Params, Ec2Clients> = {
  ...ec2_18Meta,
  resource: securityGroupResource(),
  before: openIngressBefore,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  readState: (ref, { clients: { ec2 } }) => readSecurityGroup(ec2, ref),

  // An unreadable parameter value counts as authorizing nothing here, so the
  // plan shows the most a fix could revoke; preflight then refuses to act on it.
  plan: (state, ctx) => planRevocation(state, judgeFor(ctx), WHAT),

  async preflight(_state, ctx) {
    const { unreadable } = authorizedPorts(ctx.finding, ctx.params);
    if (unreadable.length === 0) return [];
    return [
      `the finding's EC2.18 parameters hold ${unreadable.join(', ')}, which name no port or port range; hubfix will not guess which ports are authorized. Correct the control's parameters in Security Hub.`,
    ];
  },

  async apply(_state, plan, { clients: { ec2 } }) {
    return { changes: await revokeRules(ec2, plan.before.groupId, plan.before.rules) };
  },

  verify: (state, ctx) =>
    verifyRevocation(ctx.clients.ec2, ctx.clock, state.groupId, judgeFor(ctx), WHAT),

  describeRollback: (before) => describeOpenIngressRollback('EC2.18', before),
  rollback: (before, { clients: { ec2 } }) =>
    restoreMissingRules(ec2, before.groupId, before.rules),
};
