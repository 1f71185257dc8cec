import { readJson } from '../../test/support/fixtures';
import { ec2Tags, type Scenario } from '../scenario';

const SUBNET = 'subnet-017e22c0195eb5ded';
const finding = readJson('asr-ec2.15-finding.json');

/** The sample subnet: auto-assign public IPv4 on, IPv6 off. */
const subnet = (mapPublicIp: boolean, tags: Readonly<Record<string, string>>) => ({
  SubnetId: SUBNET,
  VpcId: 'vpc-0771fca5bdb3f07f5',
  MapPublicIpOnLaunch: mapPublicIp,
  AssignIpv6AddressOnCreation: false,
  Ipv6Native: false,
  Tags: ec2Tags(tags),
});

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      // Read (public IPv4 auto-assign on), then verify after the change (off).
      DescribeSubnets: [{ Subnets: [subnet(true, tags)] }, { Subnets: [subnet(false, tags)] }],
      ModifySubnetAttribute: {},
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 3,
      why: 'read the subnet: both auto-assign settings, IPv6-only flag, tags (1); turn off MapPublicIpOnLaunch, the only setting on (1; ModifySubnetAttribute takes one attribute per call); verify both settings off (1)',
    },
    notify: {
      resourceCalls: 1,
      why: 'read the subnet: tags and which auto-assign settings are on, to say what a fix would turn off (1)',
    },
    suppress: { resourceCalls: 1, why: 'read the subnet and its tags (1)' },
  },
};
