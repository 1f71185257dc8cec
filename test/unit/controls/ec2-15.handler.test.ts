/**
 * EC2.15 end to end through the exported handler shape, with the real
 * sample finding (subnet-017e22c0195eb5ded) and every AWS client mocked
 * strictly.
 */
import {
  DescribeSubnetsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_15 } from '../../../lambdas/controls/ec2-15/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const FINDING = readJson('asr-ec2.15-finding.json');
const SUBNET = 'subnet-017e22c0195eb5ded';

describe('EC2.15 handler', () => {
  it('turns off auto-assign public IPv4 on the sample subnet, notes the finding and notifies', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_15, { clients: { ec2: ec2Client } });
    ec2
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolvesOnce({
        Subnets: [
          {
            SubnetId: SUBNET,
            VpcId: 'vpc-0771fca5bdb3f07f5',
            MapPublicIpOnLaunch: true,
            AssignIpv6AddressOnCreation: false,
          },
        ],
      })
      .resolvesOnce({
        Subnets: [
          { SubnetId: SUBNET, MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false },
        ],
      });
    ec2
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
        true,
      )
      .resolves({});
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      { subnetId: SUBNET, turnedOff: ['MapPublicIpOnLaunch'] },
    ]);
    expect(ec2).toHaveReceivedCommandTimes(ModifySubnetAttributeCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSubnetsCommand, 2);
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    const [published] = t.published();
    expect(published?.Subject).toBe(`hubfix REMEDIATED EC2.15 ${SUBNET} (${ACCOUNT} ${REGION})`);
    expect(published?.Message).toContain(
      `aws ec2 modify-subnet-attribute --subnet-id ${SUBNET} --map-public-ip-on-launch`,
    );
  });
});
