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

/** The listing EC2.1 asks for: the account's own snapshots that anyone may restore. */
function publicSnapshots(NextToken: string | undefined) {
  return { OwnerIds: ['self'], RestorableByUserIds: ['all'], MaxResults: 1000, NextToken };
}

describe('EC2.1 handler', () => {
  it('makes the public snapshot private, notes the finding and tells how to undo it', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_1, { clients: { ec2: ec2Client } });
    ec2
      .on(DescribeSnapshotsCommand, publicSnapshots(undefined), true)
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

  it('handles 5,000 public snapshots a batch at a time, with messages that stay short', async () => {
    // Prepare: 5,000 across five pages; the harness gives the invocation 50 s (60 s less the
    // pipeline's reserve), 5 s of them left after verify's 45 s: a batch of 25.
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_1, { clients: { ec2: ec2Client } });
    const ids = Array.from({ length: 5_000 }, (_, i) => `snap-${i.toString(16).padStart(17, '0')}`);
    const listing = (remaining: readonly string[]) => {
      for (let page = 0; page * 1_000 < remaining.length; page += 1) {
        const token = page === 0 ? undefined : `page-${page}`;
        const next = (page + 1) * 1_000 < remaining.length ? `page-${page + 1}` : undefined;
        ec2.on(DescribeSnapshotsCommand, publicSnapshots(token), true).resolves({
          Snapshots: remaining
            .slice(page * 1_000, (page + 1) * 1_000)
            .map((SnapshotId) => ({ SnapshotId })),
          NextToken: next,
        });
      }
    };
    listing(ids);
    const made: string[] = [];
    ec2.on(ModifySnapshotAttributeCommand).callsFake((input: { SnapshotId: string }) => {
      made.push(input.SnapshotId);
      // What verify then lists: the rest, still public.
      listing(ids.filter((id) => !made.includes(id)));
      return {};
    });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(made).toEqual(ids.slice(0, 25));
    expect(t.records[0]?.before).toEqual({
      account: '111111111111',
      region: 'us-east-1',
      snapshotIds: ids.slice(0, 25),
    });
    expect(t.records[0]?.summary).toBe(
      'make 25 of 5,000 public EBS snapshots private in account 111111111111, us-east-1; 4,975 left for the next invocations',
    );
    expect(t.notes()[0]).toContain('4,975 left for the next invocations');
    // The pipeline hands the finding to another invocation for the next batch.
    expect(t.requeued).toEqual([
      expect.objectContaining({
        origin: 'requeue',
        findings: [expect.objectContaining({ id: FINDING.Id })],
      }),
    ]);
    const message = t.published()[0]?.Message ?? '';
    expect(message).toContain(
      `made 25 snapshots private (group "all" may no longer restore them): ${ids[0]}, ${ids[1]}, ${ids[2]} and 22 more`,
    );
    expect(message.length).toBeLessThan(4_000);
  });
});
