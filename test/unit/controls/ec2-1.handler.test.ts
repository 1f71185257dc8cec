/**
 * EC2.1 end to end through the exported handler shape, with every AWS
 * client mocked strictly.
 */
import {
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_1 } from '../../../lambdas/controls/ec2-1/remediate';
import { strictMock } from '../../support/aws';
import { importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const FINDING = readJson('asr-ec2.1-finding.json');
const SNAPSHOT = 'snap-0123456789abcdef0';

describe('EC2.1 handler', () => {
  it('makes the public snapshot private, notes the finding and tells how to undo it', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_1, { clients: { ec2: ec2Client } });
    ec2
      .on(
        DescribeSnapshotsCommand,
        {
          OwnerIds: ['self'],
          RestorableByUserIds: ['all'],
          MaxResults: 1000,
          NextToken: undefined,
        },
        true,
      )
      .resolvesOnce({ Snapshots: [{ SnapshotId: SNAPSHOT, VolumeSize: 20 }] })
      .resolvesOnce({ Snapshots: [] });
    ec2
      .on(
        ModifySnapshotAttributeCommand,
        {
          SnapshotId: SNAPSHOT,
          Attribute: 'createVolumePermission',
          OperationType: 'remove',
          GroupNames: ['all'],
        },
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
      { account: '111111111111', region: 'us-east-1', snapshotIds: [SNAPSHOT] },
    ]);
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]?.Message).toContain(
      `--snapshot-id ${SNAPSHOT} --attribute createVolumePermission --operation-type add --group-names all`,
    );
    expect(ec2.calls()).toHaveLength(3);
  });
});
