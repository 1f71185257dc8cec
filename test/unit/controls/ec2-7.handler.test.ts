/**
 * EC2.7 end to end through the exported handler shape, fed the real
 * "Findings - Imported" sample event, with every AWS client mocked strictly.
 */
import {
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ec2_7 } from '../../../lambdas/controls/ec2-7/remediate';
import { strictMock } from '../../support/aws';
import { findingsOf, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const EVENT = readJson('asr-ec2.7-imported-event.json');
const [FINDING] = findingsOf(EVENT);

describe('EC2.7 handler', () => {
  it('turns on EBS encryption by default for the account, notes the finding and notifies', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_7, { clients: { ec2: ec2Client } });
    ec2
      .on(GetEbsEncryptionByDefaultCommand, {}, true)
      .resolvesOnce({ EbsEncryptionByDefault: false })
      .resolvesOnce({ EbsEncryptionByDefault: true });
    ec2
      .on(EnableEbsEncryptionByDefaultCommand, {}, true)
      .resolves({ EbsEncryptionByDefault: true });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(EVENT);

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING?.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.records.map((r) => r.before)).toEqual([
      { account: '111111111111', region: 'us-east-1', enabled: false },
    ]);
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]?.Subject).toBe(
      'hubfix REMEDIATED EC2.7 111111111111 (111111111111 us-east-1)',
    );
    expect(ec2.calls()).toHaveLength(3);
  });
});
