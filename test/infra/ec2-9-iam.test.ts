/**
 * EC2.9's grants, read back from the synthesized template: each action on
 * exactly the resource types the Service Authorization Reference lists for
 * it, every action only the temporary Elastic IP technique needs held to
 * the hubfix:temporary tag, the primary interface changed only to stop
 * auto-assigning, and ModifySubnetAttribute only with disableSubnetAutoAssign.
 * Statements may be merged by CDK's policy minimization, so grants are
 * compared per action, resource and condition.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT, REGION } from '../support/fixtures';
import { resolveIntrinsics } from '../support/intrinsics';
import { controlFunctionId, resourcesOf, roleStatements, synthesize } from '../support/stack';

const ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}`;
const TAGGED = { Null: { 'aws:ResourceTag/hubfix:temporary': 'false' } };
const MADE_TAGGED = {
  Null: { 'aws:RequestTag/hubfix:temporary': 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['hubfix:temporary', 'hubfix:temporary-until'] },
};

/** "action resource condition" for every grant of EC2's actions to the EC2.9 function. */
function ec2Grants(config: unknown): string[] {
  const resources = resourcesOf(synthesize({ config }).template);
  const statements = roleStatements(resources, controlFunctionId(resources, 'EC2.9'));
  return statements.flatMap((statement) => {
    if (statement.Effect !== 'Allow') throw new Error('EC2.9 has only Allow statements');
    const actions = [statement.Action].flat().filter((a) => a.startsWith('ec2:'));
    const resources = [resolveIntrinsics(statement.Resource)].flat() as string[];
    const condition = JSON.stringify(statement.Condition ?? null);
    return actions.flatMap((action) =>
      resources.map((resource) => `${action} ${resource} ${condition}`),
    );
  });
}

function grant(action: string, resource: string, condition: unknown = null): string {
  return `ec2:${action} ${resource === '*' ? '*' : `${ARN}:${resource}/*`} ${JSON.stringify(condition)}`;
}

const EXPECTED = [
  // Reads: Describe* support no resource-level permissions.
  ...[
    'DescribeInstances',
    'DescribeAddresses',
    'DescribeNetworkInterfaces',
    'DescribeNetworkInterfaceAttribute',
    'DescribeSubnets',
  ].map((action) => grant(action, '*')),
  // The primary interface: only AssociatePublicIpAddress=false; the instance it is attached to.
  grant('ModifyNetworkInterfaceAttribute', 'network-interface', {
    StringEquals: { 'ec2:Attribute/AssociatePublicIpAddress': 'false' },
  }),
  grant('ModifyNetworkInterfaceAttribute', 'instance'),
  // The owner's Elastic IP comes off its interface (no instance resource for this action).
  grant('DisassociateAddress', 'elastic-ip'),
  grant('DisassociateAddress', 'network-interface'),
  // Only the technique: made with the tag, or carrying it.
  grant('AllocateAddress', 'elastic-ip', MADE_TAGGED),
  grant('CreateNetworkInterface', 'network-interface', MADE_TAGGED),
  grant('CreateNetworkInterface', 'subnet'),
  grant('CreateNetworkInterface', 'security-group'),
  ...['network-interface', 'elastic-ip'].map((resource) =>
    grant('CreateTags', resource, {
      StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface', 'AllocateAddress'] },
      'ForAllValues:StringEquals': {
        'aws:TagKeys': ['hubfix:temporary', 'hubfix:temporary-until'],
      },
    }),
  ),
  grant('AssociateAddress', 'elastic-ip', TAGGED),
  grant('AssociateAddress', 'network-interface'),
  grant('AssociateAddress', 'instance'),
  grant('ReleaseAddress', 'elastic-ip', TAGGED),
  grant('AttachNetworkInterface', 'network-interface', TAGGED),
  grant('AttachNetworkInterface', 'instance'),
  grant('DetachNetworkInterface', 'network-interface', TAGGED),
  grant('DetachNetworkInterface', 'instance'),
  grant('DeleteNetworkInterface', 'network-interface', TAGGED),
].sort();

/** Synthesized once each: a synth takes seconds on a busy machine. */
const DEFAULT_GRANTS = ec2Grants({});
const SUBNET_GRANTS = ec2Grants({ controls: { 'EC2.9': { disableSubnetAutoAssign: true } } });

describe('EC2.9 grants', () => {
  it('are exactly what the function calls, on the resource types each action authorizes', () => {
    expect([...DEFAULT_GRANTS].sort()).toEqual(EXPECTED);
  });

  it('hold every interface and Elastic IP the technique makes, moves or removes to the hubfix:temporary tag', () => {
    const grants = DEFAULT_GRANTS;
    for (const action of [
      'AllocateAddress',
      'ReleaseAddress',
      'AttachNetworkInterface',
      'DetachNetworkInterface',
      'DeleteNetworkInterface',
    ]) {
      const onTheirOwn = grants.filter(
        (g) =>
          g.startsWith(`ec2:${action} `) &&
          /:(network-interface|elastic-ip)\/\*/.test(g) &&
          !g.includes('hubfix:temporary'),
      );
      expect(onTheirOwn, action).toEqual([]);
    }
  });

  it('never let the function turn a public address on', () => {
    const modify = DEFAULT_GRANTS.filter((g) =>
      g.startsWith('ec2:ModifyNetworkInterfaceAttribute'),
    );
    expect(modify.filter((g) => g.includes('network-interface'))).toEqual([
      grant('ModifyNetworkInterfaceAttribute', 'network-interface', {
        StringEquals: { 'ec2:Attribute/AssociatePublicIpAddress': 'false' },
      }),
    ]);
  });

  it('include ModifySubnetAttribute on subnets only when disableSubnetAutoAssign is on', () => {
    expect([...SUBNET_GRANTS].sort()).toEqual(
      [...EXPECTED, grant('ModifySubnetAttribute', 'subnet')].sort(),
    );
    expect(DEFAULT_GRANTS.some((g) => g.startsWith('ec2:ModifySubnetAttribute'))).toBe(false);
  });
});
