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
      // Every Elastic IP of the account: none is this address, none is hubfix's temporary one.
      DescribeAddresses: { Addresses: [] },
      // No temporary interface left by an interrupted run.
      DescribeNetworkInterfaces: { NetworkInterfaces: [] },
      // The direct path: EC2 accepts AssociatePublicIpAddress=false...
      ModifyNetworkInterfaceAttribute: {},
      // ...and the interface reads off afterwards, so verify needs no settle watch.
      DescribeNetworkInterfaceAttribute: {
        NetworkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
        AssociatePublicIpAddress: false,
      },
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 6,
      why: 'read the instance: tags (Auto Scaling group), state, primary interface, public address (1); every Elastic IP of the account, to tell an Elastic IP (its association id to disassociate, its allocation id to undo) from an auto-assigned address and to find a temporary one an interrupted run left (1); temporary interfaces an interrupted run left (1); turn off the public IPv4 address of the primary interface (1); verify: whether the interface still auto-assigns, which decides whether EC2 may hand out a new address within minutes (1), and that the instance has no public address (1)',
    },
    notify: {
      resourceCalls: 3,
      why: "read the instance (1), the account's Elastic IPs (1) and temporary interfaces (1): whether its address is an Elastic IP says whether a fix would disassociate (and can undo) or release it for good, and an interrupted run's leftovers are removed on every read",
    },
    suppress: {
      resourceCalls: 3,
      why: "read the instance and its tags (1); the account's Elastic IPs (1) and temporary interfaces (1), since every read first removes what an interrupted run left",
    },
  },
};
