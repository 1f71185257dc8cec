/**
 * EC2.19 — no high-risk port open to the whole internet.
 *
 * Revokes only the inbound rules open to 0.0.0.0/0 or ::/0 that reach one of
 * the control's high-risk ports (TCP or UDP, a range counts when it includes
 * one) or let in all traffic. Other protocols (ICMP, ESP...) carry no ports
 * and are left alone; so are rules from other groups, prefix lists, narrower
 * CIDRs, and every outbound rule. The revoked rules are the before-state.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import {
  describeOpenIngressRollback,
  type JudgedTraffic,
  type OpenIngressBefore,
  openIngressBefore,
  planRevocation,
  readSecurityGroup,
  type SecurityGroupState,
  verifyRevocation,
} from '../../services/ec2/open-ingress';
import { portsWithin } from '../../services/ec2/ports';
import { securityGroupResource } from '../../services/ec2/resources';
import { restoreMissingRules, revokeRules } from '../../services/ec2/security-group-rules';
import { type Ec2_19Params, ec2_19Meta } from './meta';

export interface Ec2Clients {
  readonly ec2: EC2Client;
}

/** The control's list (Security Hub EC2.19), TCP and UDP alike. */
export const HIGH_RISK_PORTS: readonly number[] = [
  20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500,
  5601, 8080, 8088, 8888, 9200, 9300,
];

const WHAT = 'on a high-risk port';

/** Why a world-open rule offends EC2.19, or undefined when it does not. */
export function highRiskJudge(traffic: JudgedTraffic): string | undefined {
  switch (traffic.kind) {
    case 'all':
      return 'it lets in all traffic, high-risk ports included';
    case 'ports': {
      const hits = portsWithin(traffic.range, HIGH_RISK_PORTS);
      if (hits.length === 0) return undefined;
      return `it opens high-risk ${traffic.protocol} port${hits.length > 1 ? 's' : ''} ${hits.join(', ')}`;
    }
  }
}

export const ec2_19: Control<SecurityGroupState, OpenIngressBefore, Ec2_19Params, Ec2Clients> = {
  ...ec2_19Meta,
  resource: securityGroupResource(),
  before: openIngressBefore,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  readState: (ref, { clients: { ec2 } }) => readSecurityGroup(ec2, ref),

  plan: (state) => planRevocation(state, highRiskJudge, WHAT),

  // Nothing makes revoking a world-open high-risk rule unsafe to attempt;
  // whether it is wanted is the owner's call (tags) and the mode's (notify by default).
  preflight: async () => [],

  async apply(_state, plan, { clients: { ec2 } }) {
    return { changes: await revokeRules(ec2, plan.before.groupId, plan.before.rules) };
  },

  verify: (state, { clients: { ec2 }, clock }) =>
    verifyRevocation(ec2, clock, state.groupId, highRiskJudge, WHAT),

  describeRollback: (before) => describeOpenIngressRollback('EC2.19', before),
  rollback: (before, { clients: { ec2 } }) =>
    restoreMissingRules(ec2, before.groupId, before.rules),
};
