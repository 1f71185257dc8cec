import { ec2Tags, findingAbout, type Scenario } from '../scenario';

const INSTANCE = 'i-0123456789abcdef0';
const PUBLIC_IP = '54.210.1.2';
const finding = findingAbout(
  'EC2.9',
  'EC2.9 Amazon EC2 instances should not have a public IPv4 address',
  { type: 'AwsEc2Instance', arn: `arn:aws:ec2:us-east-1:111111111111:instance/${INSTANCE}` },
);

/** A running instance, not in an Auto Scaling group, with one interface. */
const instance = (publicIp: string | undefined, tags: Readonly<Record<string, string>>) => ({
  Reservations: [
    {
      Instances: [
        {
          InstanceId: INSTANCE,
          State: { Name: 'running' },
          SubnetId: 'subnet-0bbbbbbbbbbbbbbb1',
          ...(publicIp === undefined ? {} : { PublicIpAddress: publicIp }),
          Tags: ec2Tags(tags),
          NetworkInterfaces: [
            {
              NetworkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
              PrivateIpAddress: '10.0.1.15',
              Groups: [{ GroupId: 'sg-0ccccccccccccccc1' }],
              Attachment: { DeviceIndex: 0, Status: 'attached' },
            },
          ],
        },
      ],
    },
  ],
});

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      // Read (auto-assigned public address), then verify after the change (none).
      DescribeInstances: [instance(PUBLIC_IP, tags), instance(undefined, tags)],
      // Not one of the account's Elastic IPs: auto-assigned.
      DescribeAddresses: { Addresses: [] },
      // The direct path: EC2 accepts AssociatePublicIpAddress=false.
      ModifyNetworkInterfaceAttribute: {},
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 4,
      why: 'read the instance: tags (Auto Scaling group), state, primary interface, public address (1); tell an Elastic IP (needs its association id to disassociate, and its allocation id to undo) from an auto-assigned address (1); turn off the public IPv4 address of the primary interface (1); verify the instance has no public address (1)',
    },
    notify: {
      resourceCalls: 2,
      why: 'read the instance (1) and whether its address is an Elastic IP (1), to say whether a fix would disassociate (and can undo) or release it for good',
    },
    suppress: { resourceCalls: 1, why: 'read the instance and its tags (1)' },
  },
};
