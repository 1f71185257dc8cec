import { readJson } from '../../test/support/fixtures';
import { ec2Tags, type Scenario } from '../scenario';

const GROUP = 'sg-1234123f';
const finding = readJson('asr-ec2.2-finding.json');

const RULES = [
  {
    SecurityGroupRuleId: 'sgr-1',
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: '-1',
    ReferencedGroupInfo: { GroupId: GROUP },
  },
  {
    SecurityGroupRuleId: 'sgr-2',
    GroupId: GROUP,
    IsEgress: true,
    IpProtocol: '-1',
    CidrIpv4: '0.0.0.0/0',
  },
];

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      DescribeSecurityGroups: (input) =>
        'GroupIds' in input
          ? {
              SecurityGroups: [
                {
                  GroupId: GROUP,
                  GroupName: 'default',
                  VpcId: 'vpc-1',
                  Tags: ec2Tags(tags),
                },
              ],
            }
          : { SecurityGroups: [] },
      // Read, then verify after the revoke.
      DescribeSecurityGroupRules: [{ SecurityGroupRules: RULES }, { SecurityGroupRules: [] }],
      DescribeNetworkInterfaces: { NetworkInterfaces: [] },
      DescribeSecurityGroupReferences: { SecurityGroupReferenceSet: [] },
      DescribeLaunchTemplateVersions: { LaunchTemplateVersions: [] },
      RevokeSecurityGroupIngress: { Return: true },
      RevokeSecurityGroupEgress: { Return: true },
    },
    lambda: { ListFunctions: { Functions: [] } },
    ecs: { ListClusters: { clusterArns: [] } },
    autoScaling: { DescribeLaunchConfigurations: { LaunchConfigurations: [] } },
  }),
  minimum: {
    remediate: {
      resourceCalls: 12,
      why: 'read the group with its tags and rules (1); preflight: interfaces in it, groups referencing it inbound and outbound (filters are ANDed, so two calls), peered references, and the users without an interface now: Lambda functions, launch template versions, launch configurations, ECS clusters (8); revoke inbound and outbound, separate APIs (2); verify no rules left (1). hubfix also reads the rules by id (+1), to revoke and record exactly those',
    },
    notify: {
      resourceCalls: 1,
      why: 'read the group: its tags, and the rules a fix would revoke (1)',
    },
    suppress: { resourceCalls: 1, why: 'read the group and its tags (1)' },
  },
};
