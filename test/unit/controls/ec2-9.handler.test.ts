/**
 * EC2.9 end to end through the exported handler shape, with every AWS
 * client mocked strictly. The harness's invocation has 60 s left, less the
 * pipeline's reserve: 50 s for the control.
 */
import {
  DeleteNetworkInterfaceCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Ec2_9Params } from '../../../lambdas/controls/ec2-9/meta';
import { ec2_9 } from '../../../lambdas/controls/ec2-9/remediate';
import { strictMock } from '../../support/aws';
import {
  ALLOCATION,
  ASSOCIATION,
  ELASTIC_IP,
  ec2World,
  INSTANCE,
  instance,
  OWNER_ALLOCATION,
  OWNER_ASSOCIATION,
  OWNER_ELASTIC_IP,
  PRIMARY,
  PRIVATE_IP,
  PUBLIC_IP,
  SUBNET,
  sent,
  TEMP,
  temporaryAddress,
  temporaryInterface,
} from '../../support/ec2-9';
import { ACCOUNT, EC2_2_FINDING, importedEvent, REGION, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

/** The sample finding, as a legacy per-standard EC2.9 finding for one instance. */
const FINDING = withChanges(EC2_2_FINDING, {
  Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.9/finding/5d1e`,
  GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/EC2.9',
  'ProductFields.ControlId': 'EC2.9',
  Resources: [
    {
      Type: 'AwsEc2Instance',
      Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      Partition: 'aws',
      Region: REGION,
    },
  ],
});

function setup(params?: Ec2_9Params) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const harness = controlHarness(ec2_9, {
    clients: { ec2: ec2Client },
    ...(params ? { params } : {}),
  });
  harness.acceptDeliveries();
  return { ec2, world: ec2World(ec2), ...harness };
}

const turnOff = { NetworkInterfaceId: PRIMARY, AssociatePublicIpAddress: false };

describe('EC2.9 handler', () => {
  it('removes an auto-assigned address, notes the finding and says it cannot be undone', async () => {
    // Prepare
    const t = setup();
    t.world.instance(instance(), instance({ PublicIpAddress: undefined }));
    t.world.addresses([]);
    t.world.temporaryInterfaces();
    t.world.autoAssign(false);
    t.ec2.on(ModifyNetworkInterfaceAttributeCommand, turnOff, true).resolves({});

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      {
        instanceId: INSTANCE,
        networkInterfaceId: PRIMARY,
        privateIpAddress: PRIVATE_IP,
        subnetId: SUBNET,
        address: { kind: 'auto-assigned', publicIp: PUBLIC_IP },
        subnetAutoAssignTurnedOff: false,
      },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    expect(t.notes()[0]).toContain(`Not reversible: the auto-assigned address ${PUBLIC_IP}`);
    expect(t.published()[0]?.Message).toContain('Cannot be undone:');
    // Read (instance, Elastic IPs, leftovers), change, verify (setting, instance): nothing more.
    expect(sent(t.ec2)).toEqual([
      'DescribeInstancesCommand',
      'DescribeAddressesCommand',
      'DescribeNetworkInterfacesCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'DescribeNetworkInterfaceAttributeCommand',
      'DescribeInstancesCommand',
    ]);
  });

  it('turns auto-assign off before taking the Elastic IP off, watches, and records both for rollback', async () => {
    // Prepare: a 20 s watch fits the harness's 50 s.
    const t = setup({ disableSubnetAutoAssign: false, settleSeconds: 20 });
    t.world.instance(
      instance(),
      instance({ PublicIpAddress: undefined }),
      instance({ PublicIpAddress: undefined }),
      instance({ PublicIpAddress: undefined }),
    );
    t.world.addresses([OWNER_ELASTIC_IP]);
    t.world.temporaryInterfaces();
    t.world.autoAssign(true);
    t.ec2.on(ModifyNetworkInterfaceAttributeCommand, turnOff, true).resolves({});
    t.ec2.on(DisassociateAddressCommand, { AssociationId: OWNER_ASSOCIATION }, true).resolves({});

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings[0]?.outcome).toBe('REMEDIATED');
    expect(t.records[0]?.before).toMatchObject({
      address: {
        kind: 'elastic',
        publicIp: PUBLIC_IP,
        allocationId: OWNER_ALLOCATION,
        associationId: OWNER_ASSOCIATION,
        interfaceAutoAssign: 'on',
      },
    });
    const order = sent(t.ec2);
    expect(order.indexOf('ModifyNetworkInterfaceAttributeCommand')).toBeLessThan(
      order.indexOf('DisassociateAddressCommand'),
    );
    // Three looks over the 20 s watch, every 10 s.
    expect(order.filter((name) => name === 'DescribeInstancesCommand')).toHaveLength(1 + 3);
    const message = t.published()[0]?.Message ?? '';
    expect(message).toContain(`turned off auto-assign public IPv4 on ${PRIMARY} (it was on)`);
    expect(message).toContain(
      `aws ec2 modify-network-interface-attribute --network-interface-id ${PRIMARY} --associate-public-ip-address`,
    );
  });

  it('changes nothing when the invocation has no time left to watch the address stay gone', async () => {
    // Prepare: the default 180 s watch does not fit in 50 s.
    const t = setup();
    t.world.instance(instance());
    t.world.addresses([OWNER_ELASTIC_IP]);
    t.world.temporaryInterfaces();
    t.world.autoAssign(true);

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
    expect(t.ec2).toHaveReceivedCommandTimes(DisassociateAddressCommand, 0);
    expect(t.records).toEqual([]);
    expect(t.notes()[0]).toContain('this invocation has 50 s left');
  });

  it('on a retry, removes what the interrupted run left and never records its Elastic IP as the owner', async () => {
    // Prepare: the run was killed after the auto-assigned address was gone and its
    // interface detached, still holding its temporary Elastic IP on the primary interface.
    // (Detaching an attached one may take 83 s, more than the harness's 50 s: the unit
    // tests cover that.)
    const t = setup();
    t.world.instance(
      instance({ PublicIpAddress: ELASTIC_IP }),
      instance({ PublicIpAddress: undefined }),
    );
    t.world.addresses([temporaryAddress('2026-11-22T09:50:00.000Z')]);
    t.world.temporaryInterfaces([temporaryInterface('2026-11-22T09:50:00.000Z', 'available')]);
    t.ec2.on(DisassociateAddressCommand, { AssociationId: ASSOCIATION }, true).resolves({});
    t.ec2.on(ReleaseAddressCommand, { AllocationId: ALLOCATION }, true).resolves({});
    t.ec2.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: TEMP }, true).resolves({});

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess: compliant now, nothing recorded as the owner's, and the cleanup reported.
    expect(result.findings[0]?.outcome).toBe('ALREADY_COMPLIANT');
    expect(t.records).toEqual([]);
    expect(t.ec2).toHaveReceivedCommandTimes(DetachNetworkInterfaceCommand, 0);
    expect(t.notes()[0]).toContain(
      'hubfix first removed 2 temporary resource(s) an interrupted run had left',
    );
    expect(t.published()[0]?.Message).toContain(
      `${INSTANCE} has no public IPv4 address (hubfix first removed 2 temporary resource(s) an interrupted run had left)`,
    );
  });

  it('leaves an Auto Scaling group instance alone and explains why', async () => {
    const t = setup();
    t.world.instance(instance({ Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'web-asg' }] }));
    t.world.addresses([]);
    t.world.temporaryInterfaces();

    const result = await t.invoke(importedEvent([FINDING]));

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.notes()[0]).toContain('belongs to Auto Scaling group "web-asg"');
  });
});
