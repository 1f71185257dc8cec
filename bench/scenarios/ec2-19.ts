import { readFileSync } from 'node:fs';
import type { Scenario } from '../scenario';

const GROUP = 'sg-0a1b2c3d4e5f67890';
const sample = JSON.parse(
  readFileSync(
    new URL('../../test/fixtures/findings/asr-ec2.2-finding.json', import.meta.url),
    'utf8',
  ),
) as Record<string, unknown>;
const finding: Record<string, unknown> = {
  ...sample,
  Id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.19/finding/bench',
  GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/EC2.19',
  Title: 'EC2.19 Security groups should not allow unrestricted access to ports with high risk',
  ProductFields: { ...(sample.ProductFields as object), ControlId: 'EC2.19' },
  Resources: [
    {
      Type: 'AwsEc2SecurityGroup',
      Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${GROUP}`,
      Partition: 'aws',
      Region: 'us-east-1',
    },
  ],
};

const inbound = (id: string, port: number) => ({
  SecurityGroupRuleId: id,
  GroupId: GROUP,
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  CidrIpv4: '0.0.0.0/0',
});
/** Stay: 443 is not a high-risk port, and outbound rules are never touched. */
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

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      DescribeSecurityGroups: {
        SecurityGroups: [
          {
            GroupId: GROUP,
            GroupName: 'web',
            VpcId: 'vpc-1',
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      },
      // Read (high-risk tcp 22 open to the world), then verify after the revoke.
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
