import { ec2Tags, findingAbout, type Scenario } from '../scenario';

const INSTANCE = 'i-0a1b2c3d4e5f60718';
// No EC2.24 fixture: the EC2.2 one, made about a paravirtual instance.
const finding = findingAbout(
  'EC2.24',
  'EC2.24 Amazon EC2 paravirtual instance types should not be used',
  { type: 'AwsEc2Instance', arn: `arn:aws:ec2:us-east-1:111111111111:instance/${INSTANCE}` },
);

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      DescribeInstances: {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: INSTANCE,
                InstanceType: 'm1.small',
                VirtualizationType: 'paravirtual',
                State: { Name: 'running' },
                Placement: { AvailabilityZone: 'us-east-1a' },
                SubnetId: 'subnet-016e21c9895ea4ded',
                VpcId: 'vpc-0771fca5bdb3f07f5',
                ImageId: 'ami-0badc0de',
                PlatformDetails: 'Linux/UNIX',
                SecurityGroups: [{ GroupId: 'sg-0a1b2c3d', GroupName: 'web' }],
                RootDeviceName: '/dev/sda1',
                BlockDeviceMappings: [
                  { DeviceName: '/dev/sda1', Ebs: { VolumeId: 'vol-0a1b2c3d4e5f60718' } },
                  { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-0f1e2d3c4b5a69788' } },
                ],
                PrivateIpAddress: '10.0.1.15',
                PublicIpAddress: '203.0.113.10',
                // Owned by the account, not Amazon: an Elastic IP.
                NetworkInterfaces: [
                  {
                    PrivateIpAddresses: [
                      {
                        PrivateIpAddress: '10.0.1.15',
                        Association: { PublicIp: '203.0.113.10', IpOwnerId: '111111111111' },
                      },
                    ],
                  },
                ],
                Tags: ec2Tags(tags),
              },
            ],
          },
        ],
      },
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 1,
      why: 'notify-only, so this run also ends NOTIFIED: read the instance to confirm it is paravirtual, read its tags and the facts the migration steps name (type, subnet, groups, volumes, Elastic IPs) (1)',
    },
    notify: {
      resourceCalls: 1,
      why: 'read the instance: paravirtual, tags, and the facts the migration steps name (1)',
    },
    suppress: { resourceCalls: 1, why: 'read the instance and its tags (1)' },
  },
};
