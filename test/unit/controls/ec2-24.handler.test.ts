/**
 * EC2.24 end to end through the exported handler shape: a notify-only
 * control ends NOTIFIED with the steps a person has to take, and never
 * changes anything, even under mode "remediate" or the Remediate action.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BatchUpdateFindingsCommand } from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import { ec2_24 } from '../../../lambdas/controls/ec2-24/remediate';
import { strictMock } from '../../support/aws';
import { customActionEvent, REGION, readJson, withChanges } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const INSTANCE = 'i-077c4d5f32561ac45';
const FINDING = withChanges(readJson('asr-ec2.8-finding.json'), {
  GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/EC2.24',
  'ProductFields.ControlId': 'EC2.24',
  'Compliance.SecurityControlId': 'EC2.24',
  Title: 'EC2.24 Amazon EC2 paravirtual instance types should not be used',
});

describe('EC2.24 handler', () => {
  it('notifies with the migration steps to do by hand and makes only the one read', async () => {
    // Prepare
    const ec2Client = new EC2Client({ region: REGION });
    const ec2 = strictMock(ec2Client);
    const t = controlHarness(ec2_24, { clients: { ec2: ec2Client } });
    ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE,
              InstanceType: 't1.micro',
              VirtualizationType: 'paravirtual',
              State: { Name: 'running' },
              Placement: { AvailabilityZone: 'us-east-1b' },
            },
          ],
        },
      ],
    });
    t.acceptDeliveries();

    // Act: a person's explicit Remediate request still only notifies.
    const result = await t.invoke(customActionEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'NOTIFY', outcome: 'NOTIFIED' },
    ]);
    expect(t.records).toEqual([]);
    expect(ec2.calls()).toHaveLength(1);
    expect(t.securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      Workflow: { Status: 'NOTIFIED' },
    });
    const message = t.published()[0]?.Message ?? '';
    expect(message).toContain('What to do by hand (no automatic fix exists):');
    expect(message).toContain(`back up ${INSTANCE}: aws ec2 create-image`);
    expect(message).toContain('instead of t1.micro');
  });
});
