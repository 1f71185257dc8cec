import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandInput,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecurityHubFindingWriter } from '../../../lambdas/core/adapters/security-hub';
import { SnsNotifier } from '../../../lambdas/core/adapters/sns';
import { FindingUpdateError, NotificationError } from '../../../lambdas/core/errors';
import { resetStrict, serviceError, strictMock } from '../../support/aws';

const finding = {
  id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/x/finding/1',
  productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
};
const expectedInput: BatchUpdateFindingsCommandInput = {
  FindingIdentifiers: [{ Id: finding.id, ProductArn: finding.productArn }],
  Workflow: { Status: 'RESOLVED' },
  Note: { Text: 'hubfix remediated', UpdatedBy: 'hubfix' },
};

describe('SecurityHubFindingWriter', () => {
  const securityHub = strictMock(SecurityHubClient);
  beforeEach(() => {
    resetStrict(securityHub);
  });

  it('sets the workflow status and the note in one call', async () => {
    // Prepare
    securityHub.on(BatchUpdateFindingsCommand, expectedInput, true).resolves({
      ProcessedFindings: [{ Id: finding.id, ProductArn: finding.productArn }],
      UnprocessedFindings: [],
    });
    const writer = new SecurityHubFindingWriter(new SecurityHubClient({ region: 'us-east-1' }));

    // Act
    await writer.update(finding, { workflow: 'RESOLVED', note: 'hubfix remediated' });

    // Assess
    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
  });

  it('reports a finding Security Hub left unprocessed instead of ignoring it', async () => {
    securityHub.on(BatchUpdateFindingsCommand, expectedInput, true).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: finding.id, ProductArn: finding.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'no such finding',
        },
      ],
    });
    const writer = new SecurityHubFindingWriter(new SecurityHubClient({ region: 'us-east-1' }));

    const update = writer.update(finding, { workflow: 'RESOLVED', note: 'hubfix remediated' });

    await expect(update).rejects.toThrow(FindingUpdateError);
    await expect(update).rejects.toMatchObject({
      code: 'FindingNotFound',
      message: expect.stringContaining('no such finding'),
    });
  });

  it('wraps an API failure, keeping the cause', async () => {
    const cause = serviceError('AccessDeniedException');
    securityHub.on(BatchUpdateFindingsCommand).rejects(cause);
    const writer = new SecurityHubFindingWriter(new SecurityHubClient({ region: 'us-east-1' }));

    const update = writer.update(finding, { workflow: 'NOTIFIED', note: 'n' });

    await expect(update).rejects.toMatchObject({ name: 'FindingUpdateError', cause });
  });

  it('refuses a note over 512 characters without calling AWS', async () => {
    const writer = new SecurityHubFindingWriter(new SecurityHubClient({ region: 'us-east-1' }));

    await expect(
      writer.update(finding, { workflow: 'NOTIFIED', note: 'x'.repeat(513) }),
    ).rejects.toThrow(FindingUpdateError);
    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 0);
  });
});

describe('SnsNotifier', () => {
  const sns = strictMock(SNSClient);
  const topicArn = 'arn:aws:sns:us-east-1:111111111111:hubfix';
  const notification = {
    subject: 'hubfix REMEDIATED EC2.2 sg-1 (111111111111 us-east-1)',
    message: 'body',
    attributes: { control: 'EC2.2', outcome: 'REMEDIATED', severity: 'HIGH' },
  };
  beforeEach(() => {
    resetStrict(sns);
  });

  it('publishes subject, body and filterable attributes', async () => {
    sns
      .on(
        PublishCommand,
        {
          TopicArn: topicArn,
          Subject: notification.subject,
          Message: 'body',
          MessageAttributes: {
            control: { DataType: 'String', StringValue: 'EC2.2' },
            outcome: { DataType: 'String', StringValue: 'REMEDIATED' },
            severity: { DataType: 'String', StringValue: 'HIGH' },
          },
        },
        true,
      )
      .resolves({ MessageId: 'm-1' });

    await new SnsNotifier(new SNSClient({ region: 'us-east-1' }), topicArn).publish(notification);

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('wraps a publish failure, keeping the cause', async () => {
    const cause = serviceError('AuthorizationErrorException');
    sns.on(PublishCommand).rejects(cause);

    const publish = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), topicArn).publish(
      notification,
    );

    await expect(publish).rejects.toBeInstanceOf(NotificationError);
    await expect(publish).rejects.toMatchObject({ cause });
  });
});
