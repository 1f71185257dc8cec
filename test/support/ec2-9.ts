/**
 * One instance and what EC2 answers about it, for EC2.9's unit and handler
 * tests: every answer is prepared on a strict mock with its exact input, as
 * EC2 gives it (DescribeAddresses is not paginated; a tag-filtered
 * DescribeNetworkInterfaces is; DescribeNetworkInterfaceAttribute may leave
 * AssociatePublicIpAddress out).
 */
import {
  type Address,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  type EC2ClientResolvedConfig,
  type Instance,
  type InstanceNetworkInterface,
  type NetworkInterface,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import type { AwsStub } from 'aws-sdk-client-mock';
import { TEMPORARY_TAG, TEMPORARY_UNTIL_TAG } from '../../lambdas/controls/ec2-9/meta';

export type Ec2Stub = AwsStub<ServiceInputTypes, ServiceOutputTypes, EC2ClientResolvedConfig>;

export const INSTANCE = 'i-0123456789abcdef0';
export const PRIMARY = 'eni-0aaaaaaaaaaaaaaa1';
export const PRIVATE_IP = '10.0.1.15';
export const PUBLIC_IP = '54.210.1.2';
/** The address EC2 hands out when the interface still auto-assigns. */
export const NEW_PUBLIC_IP = '54.210.9.9';
export const SUBNET = 'subnet-0bbbbbbbbbbbbbbb1';
export const GROUP = 'sg-0ccccccccccccccc1';
export const OWNER_ALLOCATION = 'eipalloc-0111111111111111a';
export const OWNER_ASSOCIATION = 'eipassoc-0111111111111111a';
export const TEMP = 'eni-0ddddddddddddddd1';
export const ATTACHMENT = 'eni-attach-0eeeeeeeeeeeeeee1';
export const ALLOCATION = 'eipalloc-0fffffffffffffff1';
export const ELASTIC_IP = '3.80.0.1';
export const ASSOCIATION = 'eipassoc-0999999999999999a';

export const PRIMARY_INTERFACE: InstanceNetworkInterface = {
  NetworkInterfaceId: PRIMARY,
  PrivateIpAddress: PRIVATE_IP,
  SubnetId: SUBNET,
  Groups: [{ GroupId: GROUP, GroupName: 'web' }],
  Attachment: { DeviceIndex: 0, Status: 'attached', AttachmentId: 'eni-attach-primary' },
};

/** The temporary interface, as the instance lists it while attached. */
export const TEMP_ON_INSTANCE: InstanceNetworkInterface = {
  NetworkInterfaceId: TEMP,
  PrivateIpAddress: '10.0.1.99',
  SubnetId: SUBNET,
  Groups: [{ GroupId: GROUP, GroupName: 'web' }],
  Attachment: { DeviceIndex: 1, Status: 'attached', AttachmentId: ATTACHMENT },
};

export function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running' },
    SubnetId: SUBNET,
    VpcId: 'vpc-01',
    PrivateIpAddress: PRIVATE_IP,
    PublicIpAddress: PUBLIC_IP,
    Tags: [{ Key: 'team', Value: 'web' }],
    NetworkInterfaces: [PRIMARY_INTERFACE],
    ...overrides,
  };
}

/** The owner's Elastic IP on the primary interface. */
export const OWNER_ELASTIC_IP: Address = {
  PublicIp: PUBLIC_IP,
  AllocationId: OWNER_ALLOCATION,
  AssociationId: OWNER_ASSOCIATION,
  NetworkInterfaceId: PRIMARY,
  PrivateIpAddress: PRIVATE_IP,
  InstanceId: INSTANCE,
  Domain: 'vpc',
  Tags: [{ Key: 'team', Value: 'web' }],
};

/** hubfix's tags on a temporary resource; `until` undefined leaves the until tag out. */
export function temporaryTags(until: string | undefined) {
  return [
    { Key: TEMPORARY_TAG, Value: INSTANCE },
    ...(until === undefined ? [] : [{ Key: TEMPORARY_UNTIL_TAG, Value: until }]),
  ];
}

/** hubfix's temporary Elastic IP, associated with the primary interface unless said otherwise. */
export function temporaryAddress(until: string | undefined, associated = true): Address {
  return {
    PublicIp: ELASTIC_IP,
    AllocationId: ALLOCATION,
    Domain: 'vpc',
    Tags: temporaryTags(until),
    ...(associated
      ? {
          AssociationId: ASSOCIATION,
          NetworkInterfaceId: PRIMARY,
          PrivateIpAddress: PRIVATE_IP,
          InstanceId: INSTANCE,
        }
      : {}),
  };
}

export function temporaryInterface(
  until: string | undefined,
  status: 'attached' | 'detaching' | 'available',
): NetworkInterface {
  return {
    NetworkInterfaceId: TEMP,
    SubnetId: SUBNET,
    Status: status === 'available' ? 'available' : 'in-use',
    TagSet: temporaryTags(until),
    ...(status === 'available'
      ? {}
      : {
          Attachment: {
            AttachmentId: ATTACHMENT,
            InstanceId: INSTANCE,
            DeviceIndex: 1,
            Status: status,
          },
        }),
  };
}

export const TEMPORARY_INTERFACES_QUERY = {
  Filters: [{ Name: `tag:${TEMPORARY_TAG}`, Values: [INSTANCE] }],
  MaxResults: 1000,
  NextToken: undefined,
};

/**
 * Prepares the answers about the instance on `ec2`. A read prepared later in
 * a test answers after those prepared before it (one chain per call), so a
 * test can prepare what verify sees after what readState saw. `reset()`
 * with the mock's own reset.
 */
export function ec2World(ec2: Ec2Stub) {
  let instanceReads: ReturnType<Ec2Stub['on']> | undefined;
  let autoAssignReads: ReturnType<Ec2Stub['on']> | undefined;
  return {
    reset() {
      instanceReads = undefined;
      autoAssignReads = undefined;
    },
    /** Each read of the instance answers with the next of `reads`. */
    instance(...reads: Instance[]) {
      instanceReads ??= ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true);
      for (const read of reads) {
        instanceReads.resolvesOnce({ Reservations: [{ Instances: [read] }] });
      }
    },
    /** Every Elastic IP of the account: each list answers one call, the last repeats. */
    addresses(...answers: Address[][]) {
      const describe = ec2.on(DescribeAddressesCommand, {}, true);
      for (const answer of answers.slice(0, -1)) describe.resolvesOnce({ Addresses: answer });
      describe.resolves({ Addresses: answers.at(-1) ?? [] });
    },
    /** The tag-filtered describe, one page per list, each but the last with a NextToken. */
    temporaryInterfaces(...pages: NetworkInterface[][]) {
      const all = pages.length === 0 ? [[]] : pages;
      for (const [index, page] of all.entries()) {
        ec2
          .on(
            DescribeNetworkInterfacesCommand,
            {
              ...TEMPORARY_INTERFACES_QUERY,
              NextToken: index === 0 ? undefined : `page-${index}`,
            },
            true,
          )
          .resolves({
            NetworkInterfaces: page,
            ...(index < all.length - 1 ? { NextToken: `page-${index + 1}` } : {}),
          });
      }
    },
    /** DescribeNetworkInterfaceAttribute on the primary; undefined: EC2 leaves the value out. */
    autoAssign(...values: (boolean | undefined)[]) {
      autoAssignReads ??= ec2.on(
        DescribeNetworkInterfaceAttributeCommand,
        { NetworkInterfaceId: PRIMARY, Attribute: 'associatePublicIpAddress' },
        true,
      );
      for (const value of values) {
        autoAssignReads.resolvesOnce({
          NetworkInterfaceId: PRIMARY,
          ...(value === undefined ? {} : { AssociatePublicIpAddress: value }),
        });
      }
    },
  };
}

/** The commands sent, by name, in order. */
export function sent(ec2: Ec2Stub): string[] {
  return ec2.calls().map((call) => String(call.args[0].constructor.name));
}
