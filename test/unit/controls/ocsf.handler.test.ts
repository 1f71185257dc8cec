/**
 * A finding of the new Security Hub (OCSF, "Findings Imported V2") through a
 * control's real handler: fetched again with GetFindingsV2, fixed like an
 * ASFF finding, written back with BatchUpdateFindingsV2. EC2.15 serves as
 * the control; nothing after intake knows the format.
 */
import {
  DescribeSubnetsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsV2Command,
} from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import { ec2_15 } from '../../../lambdas/controls/ec2-15/remediate';
import { strictMock } from '../../support/aws';
import { ACCOUNT, REGION, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';
import { coverageFinding, importedV2Event, OCSF_PRODUCT, ocsfFinding } from '../../support/ocsf';

const SUBNET = 'subnet-017e22c0195eb5ded';
const FINDING = ocsfFinding('EC2.15');
const FINDING_UID = (FINDING.finding_info as { uid: string }).uid;

function setup() {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const t = controlHarness(ec2_15, { clients: { ec2: ec2Client } });
  return { ec2, ...t };
}

describe('a new Security Hub (OCSF) finding, end to end', () => {
  it('is confirmed with GetFindingsV2, fixed, and written back with BatchUpdateFindingsV2', async () => {
    // Prepare
    const t = setup();
    t.ec2
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
      .resolvesOnce({
        Subnets: [
          { SubnetId: SUBNET, MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: false },
        ],
      })
      .resolvesOnce({
        Subnets: [
          { SubnetId: SUBNET, MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false },
        ],
      });
    t.ec2
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
        true,
      )
      .resolves({});
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedV2Event(FINDING));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING_UID, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.securityHub).toHaveReceivedCommandWith(GetFindingsV2Command, {
      Filters: {
        CompositeFilters: [
          {
            StringFilters: [
              {
                FieldName: 'finding_info.uid',
                Filter: { Value: FINDING_UID, Comparison: 'EQUALS' },
              },
            ],
          },
        ],
      },
    });
    // A verified fix writes the comment and leaves the status for Security Hub.
    expect(t.securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsV2Command, {
      FindingIdentifiers: [
        { CloudAccountUid: ACCOUNT, FindingInfoUid: FINDING_UID, MetadataProductUid: OCSF_PRODUCT },
      ],
      Comment: expect.stringContaining('hubfix remediated and verified'),
    });
    expect(
      t.securityHub.commandCalls(BatchUpdateFindingsV2Command)[0]?.args[0].input.StatusId,
    ).toBeUndefined();
    expect(t.securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 0);
    expect(t.records.map((r) => r.resource)).toEqual([
      `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${SUBNET}`,
    ]);
  });

  it('sets status_id 2 (In Progress) when a person must act', async () => {
    const t = setup();
    t.ec2.on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true).resolves({
      Subnets: [
        {
          SubnetId: SUBNET,
          MapPublicIpOnLaunch: true,
          Tags: [{ Key: 'hubfix:auto-remediate', Value: 'false' }],
        },
      ],
    });
    t.acceptDeliveries();

    await t.invoke(importedV2Event(FINDING));

    expect(t.securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsV2Command, { StatusId: 2 });
  });

  it.each([
    ['a coverage finding', coverageFinding()],
    [
      'a passed finding',
      withChanges(FINDING, { 'compliance.status_id': 1, 'compliance.status': 'Pass' }),
    ],
    ['a closed finding', withChanges(FINDING, { activity_id: 3 })],
    [
      'another product',
      withChanges(FINDING, {
        'metadata.product.uid': `arn:aws:securityhub:${REGION}::productv2/aws/inspector`,
      }),
    ],
    ['a finding naming no resource', withChanges(FINDING, { resources: [] })],
  ])('ignores %s without a call to EC2 or a write', async (_name, finding) => {
    const t = setup();

    const result = await t.invoke(importedV2Event(finding));

    expect(t.ec2.calls()).toHaveLength(0);
    expect(t.securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsV2Command, 0);
    expect(t.sns.calls()).toHaveLength(0);
    expect(result.findings.every((f) => f.outcome === 'IGNORED')).toBe(true);
  });
});
