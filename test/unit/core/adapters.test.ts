import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  GetFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecurityHubFindingStore } from '../../../lambdas/core/adapters/security-hub';
import { SnsNotifier } from '../../../lambdas/core/adapters/sns';
import {
  FindingFetchError,
  FindingUpdateError,
  NotificationError,
} from '../../../lambdas/core/errors';
import type { FindingRef } from '../../../lambdas/core/finding';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { EC2_2_FINDING, withChanges } from '../../support/fixtures';
import { ocsfFinding } from '../../support/ocsf';

const ref: FindingRef = {
  format: 'asff',
  id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/x/finding/1',
  productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
};
const expectedInput: BatchUpdateFindingsCommandInput = {
  FindingIdentifiers: [{ Id: ref.id, ProductArn: ref.productArn }],
  Workflow: { Status: 'NOTIFIED' },
  Note: { Text: 'hubfix notified', UpdatedBy: 'hubfix' },
};

describe('SecurityHubFindingStore: write-back', () => {
  const securityHub = strictMock(SecurityHubClient);
  const store = () => new SecurityHubFindingStore(new SecurityHubClient({ region: 'us-east-1' }));
  beforeEach(() => {
    resetStrict(securityHub);
  });

  it('sets the workflow status and the note in one call', async () => {
    // Prepare
    securityHub.on(BatchUpdateFindingsCommand, expectedInput, true).resolves({
      ProcessedFindings: [{ Id: ref.id, ProductArn: ref.productArn }],
      UnprocessedFindings: [],
    });

    // Act
    await store().update(ref, { workflow: 'NOTIFIED', note: 'hubfix notified' });

    // Assess
    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
  });

  it('writes the note alone when the workflow is to stay as it is', async () => {
    securityHub
      .on(
        BatchUpdateFindingsCommand,
        {
          FindingIdentifiers: [{ Id: ref.id, ProductArn: ref.productArn }],
          Note: { Text: 'hubfix remediated', UpdatedBy: 'hubfix' },
        },
        true,
      )
      .resolves({
        ProcessedFindings: [{ Id: ref.id, ProductArn: ref.productArn }],
        UnprocessedFindings: [],
      });

    await store().update(ref, { workflow: undefined, note: 'hubfix remediated' });

    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
  });

  it('reports a finding Security Hub left unprocessed instead of ignoring it', async () => {
    securityHub.on(BatchUpdateFindingsCommand, expectedInput, true).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: ref.id, ProductArn: ref.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'no such finding',
        },
      ],
    });

    const update = store().update(ref, { workflow: 'NOTIFIED', note: 'hubfix notified' });

    await expect(update).rejects.toThrow(FindingUpdateError);
    await expect(update).rejects.toMatchObject({
      code: 'FindingNotFound',
      message: expect.stringContaining('no such finding'),
    });
  });

  it('wraps an API failure, keeping the cause', async () => {
    const cause = serviceError('AccessDeniedException');
    securityHub.on(BatchUpdateFindingsCommand).rejects(cause);

    const update = store().update(ref, { workflow: 'NOTIFIED', note: 'n' });

    await expect(update).rejects.toMatchObject({ name: 'FindingUpdateError', cause });
  });

  it('refuses a note over 512 characters without calling AWS', async () => {
    await expect(
      store().update(ref, { workflow: 'NOTIFIED', note: 'x'.repeat(513) }),
    ).rejects.toThrow(FindingUpdateError);
    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 0);
  });
});

describe('SecurityHubFindingStore: fetching a finding again', () => {
  const securityHub = strictMock(SecurityHubClient);
  const store = () => new SecurityHubFindingStore(new SecurityHubClient({ region: 'us-east-1' }));
  const id = EC2_2_FINDING.Id as string;
  const productArn = EC2_2_FINDING.ProductArn as string;
  const query = (NextToken?: string) => ({
    Filters: {
      Id: [{ Value: id, Comparison: 'EQUALS' as const }],
      ProductArn: [{ Value: productArn, Comparison: 'EQUALS' as const }],
    },
    MaxResults: 1,
    NextToken,
  });
  beforeEach(() => {
    resetStrict(securityHub);
  });

  it('asks by Id and ProductArn and reads past an empty page that still has a token', async () => {
    // Prepare: GetFindings filters after it cuts a page, as EC2's describes do.
    const current = withChanges(EC2_2_FINDING, { 'Workflow.Status': 'NOTIFIED' });
    securityHub.on(GetFindingsCommand, query(), true).resolves({ Findings: [], NextToken: 't1' });
    securityHub
      .on(GetFindingsCommand, query('t1'), true)
      .resolves({ Findings: [current as never] });

    // Act
    const finding = await store().fetch({ format: 'asff', id, productArn });

    // Assess
    expect(finding).toMatchObject({ id, workflowStatus: 'NOTIFIED', controlId: 'EC2.2' });
    expect(securityHub).toHaveReceivedCommandTimes(GetFindingsCommand, 2);
  });

  it('answers undefined when Security Hub does not know the finding', async () => {
    securityHub.on(GetFindingsCommand, query(), true).resolves({ Findings: [] });

    expect(await store().fetch({ format: 'asff', id, productArn })).toBeUndefined();
  });

  it('says why when Security Hub cannot be asked (throttled), keeping the cause', async () => {
    const cause = serviceError('TooManyRequestsException');
    securityHub.on(GetFindingsCommand).rejects(cause);

    await expect(store().fetch({ format: 'asff', id, productArn })).rejects.toMatchObject({
      name: 'FindingFetchError',
      cause,
    });
  });

  it('refuses an answer it cannot read rather than guess', async () => {
    securityHub
      .on(GetFindingsCommand, query(), true)
      .resolves({ Findings: [withChanges(EC2_2_FINDING, { Resources: 'x' }) as never] });

    await expect(store().fetch({ format: 'asff', id, productArn })).rejects.toBeInstanceOf(
      FindingFetchError,
    );
  });
});

describe('SecurityHubFindingStore: the new Security Hub (OCSF)', () => {
  const securityHub = strictMock(SecurityHubClient);
  const store = () => new SecurityHubFindingStore(new SecurityHubClient({ region: 'us-east-1' }));
  const finding = ocsfFinding('EC2.2');
  const info = finding.finding_info as { uid: string };
  const metadata = finding.metadata as { uid: string; product: { uid: string } };
  const ref = {
    format: 'ocsf' as const,
    uid: info.uid,
    metadataUid: metadata.uid,
    productUid: metadata.product.uid,
    accountUid: '111111111111',
  };
  const byField = (
    FieldName: 'finding_info.uid' | 'metadata.uid',
    Value: string,
    NextToken?: string,
  ) => ({
    Filters: {
      CompositeFilters: [
        { StringFilters: [{ FieldName, Filter: { Value, Comparison: 'EQUALS' as const } }] },
      ],
    },
    MaxResults: 1,
    NextToken,
  });
  beforeEach(() => {
    resetStrict(securityHub);
  });

  it('fetches by finding_info.uid with GetFindingsV2, past an empty page with a token', async () => {
    securityHub
      .on(GetFindingsV2Command, byField('finding_info.uid', info.uid), true)
      .resolves({ Findings: [], NextToken: 't' });
    securityHub
      .on(GetFindingsV2Command, byField('finding_info.uid', info.uid, 't'), true)
      .resolves({ Findings: [finding as never] });

    expect(await store().fetch({ format: 'ocsf', uid: info.uid })).toMatchObject({
      id: info.uid,
      ref: { format: 'ocsf', metadataUid: metadata.uid },
      controlId: 'EC2.2',
    });
  });

  it('fetches by metadata.uid when that is what a person named', async () => {
    securityHub
      .on(GetFindingsV2Command, byField('metadata.uid', metadata.uid), true)
      .resolves({ Findings: [finding as never] });

    expect(await store().fetch({ format: 'ocsf', uid: metadata.uid })).toMatchObject({
      id: info.uid,
    });
  });

  it('writes the comment and the status with BatchUpdateFindingsV2', async () => {
    securityHub
      .on(
        BatchUpdateFindingsV2Command,
        {
          FindingIdentifiers: [
            {
              CloudAccountUid: '111111111111',
              FindingInfoUid: info.uid,
              MetadataProductUid: metadata.product.uid,
            },
          ],
          Comment: 'hubfix notified',
          StatusId: 2,
        },
        true,
      )
      .resolves({ ProcessedFindings: [{ MetadataUid: metadata.uid }], UnprocessedFindings: [] });

    await store().update(ref, { workflow: 'NOTIFIED', note: 'hubfix notified' });

    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsV2Command, 1);
  });

  it('writes the comment alone when the status is to stay', async () => {
    securityHub
      .on(
        BatchUpdateFindingsV2Command,
        {
          FindingIdentifiers: [
            {
              CloudAccountUid: '111111111111',
              FindingInfoUid: info.uid,
              MetadataProductUid: metadata.product.uid,
            },
          ],
          Comment: 'hubfix remediated',
        },
        true,
      )
      .resolves({ ProcessedFindings: [{ MetadataUid: metadata.uid }], UnprocessedFindings: [] });

    await store().update(ref, { workflow: undefined, note: 'hubfix remediated' });

    expect(securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsV2Command, 1);
  });

  it('reports a finding the V2 update left unprocessed', async () => {
    securityHub.on(BatchUpdateFindingsV2Command).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        { MetadataUid: metadata.uid, ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'gone' },
      ],
    });

    await expect(store().update(ref, { workflow: 'NOTIFIED', note: 'n' })).rejects.toMatchObject({
      name: 'FindingUpdateError',
      code: 'ResourceNotFoundException',
    });
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
