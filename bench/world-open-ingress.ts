/**
 * The bench scenario EC2.18 and EC2.19 share: a security group with SSH (tcp
 * 22) open to the world, which offends both, next to HTTPS and an outbound
 * rule, which neither touches (443 is authorized by EC2.18's defaults of TCP
 * 80 and 443, and is not one of EC2.19's high-risk ports).
 */
import { ec2Tags, findingAbout, type Scenario } from './scenario';

const GROUP = 'sg-0a1b2c3d4e5f67890';

const inbound = (id: string, port: number) => ({
  SecurityGroupRuleId: id,
  GroupId: GROUP,
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  CidrIpv4: '0.0.0.0/0',
});
const KEPT = [
  inbound('sgr-https', 443),
  {
    SecurityGroupRuleId: 'sgr-egress',
    GroupId: GROUP,
    IsEgress: true,
    IpProtocol: '-1',
    CidrIpv4: '0.0.0.0/0',
  },
];

export function worldOpenIngressScenario(controlId: string, title: string): Scenario {
  return {
    finding: findingAbout(controlId, title, {
      type: 'AwsEc2SecurityGroup',
      arn: `arn:aws:ec2:us-east-1:111111111111:security-group/${GROUP}`,
    }),
    answers: (tags) => ({
      ec2: {
        DescribeSecurityGroups: {
          SecurityGroups: [
            { GroupId: GROUP, GroupName: 'web', VpcId: 'vpc-1', Tags: ec2Tags(tags) },
          ],
        },
        // Read (tcp 22 open to the world), then verify after the revoke.
        DescribeSecurityGroupRules: [
          { SecurityGroupRules: [inbound('sgr-ssh', 22), ...KEPT] },
          { SecurityGroupRules: KEPT },
        ],
        RevokeSecurityGroupIngress: { Return: true },
      },
    }),
    minimum: {
      remediate: {
        resourceCalls: 3,
        why: 'read the group: tags, name, VPC and its inbound rules, which DescribeSecurityGroups returns as IpPermissions (1); revoke the offending inbound rule(s), one call whatever their number (1); verify no offending rule is left (1)',
      },
      notify: {
        resourceCalls: 1,
        why: 'read the group with its tags and inbound rules, to say which rules a fix would revoke (1)',
      },
      suppress: { resourceCalls: 1, why: 'read the group and its tags (1)' },
    },
  };
}
