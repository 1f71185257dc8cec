/**
 * The gateway's Security Hub answers, read through the real SDK client so
 * the shapes are the service model's: GetFindings filters and pages the
 * registered findings, BatchUpdateFindings updates them or refuses unknown
 * ones, and the OCSF calls do the same for OCSF findings.
 */
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  GetFindingsV2Command,
  paginateGetFindings,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { beforeEach, describe, expect, it } from 'vitest';
import { asffFilters, ocsfFilters, sweepQueries } from '../../lambdas/reconciler/source';
import { EC2_2_FINDING, withChanges } from '../support/fixtures';
import {
  registeredFinding,
  registeredOcsfFinding,
  registerFindings,
  registerOcsfFindings,
} from './gateway';
import { againstMoto, motoAvailable, motoOptions, resetMoto } from './support';

const PRODUCT_ARN = String(EC2_2_FINDING.ProductArn);

/** The identifying fields of an OCSF control finding, as the new Security Hub writes them. */
const OCSF_FINDING = {
  class_name: 'Compliance Finding',
  metadata: {
    uid: 'd1bc4b01234567890123456789abcdefabcd0123456789cdef123456',
    product: { uid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub' },
  },
  finding_info: {
    uid: 'arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.2/finding/7dabcdef-1234-8912-5678-5012345678904',
  },
  cloud: { account: { uid: '111111111111' }, region: 'us-east-1' },
  compliance: { control: 'EC2.2', status: 'Fail' },
  status: 'New',
  status_id: 1,
};
const findingNumbered = (n: number) =>
  withChanges(EC2_2_FINDING, { Id: `${String(EC2_2_FINDING.Id)}-${n}` });

describe.skipIf(!motoAvailable)(againstMoto('the gateway as Security Hub'), () => {
  beforeEach(async () => {
    await resetMoto();
  });

  it('GetFindings answers the registered finding by Id and ProductArn, and nothing for an unknown id', async () => {
    const client = new SecurityHubClient(await motoOptions());
    registerFindings([findingNumbered(1), findingNumbered(2)]);
    const byId = (id: string) =>
      client.send(
        new GetFindingsCommand({
          Filters: {
            Id: [{ Value: id, Comparison: 'EQUALS' }],
            ProductArn: [{ Value: PRODUCT_ARN, Comparison: 'EQUALS' }],
          },
        }),
      );

    const known = await byId(`${String(EC2_2_FINDING.Id)}-2`);
    const unknown = await byId('arn:aws:securityhub:us-east-1:111111111111:nothing');

    expect(known.Findings?.map((f) => f.Id)).toEqual([`${String(EC2_2_FINDING.Id)}-2`]);
    expect(known.Findings?.[0]?.Compliance?.Status).toBe('FAILED');
    expect(known.NextToken).toBeUndefined();
    expect(unknown.Findings).toEqual([]);
  });

  it('GetFindings pages with NextToken', async () => {
    const client = new SecurityHubClient(await motoOptions());
    registerFindings([1, 2, 3, 4, 5].map(findingNumbered));

    const pages = [];
    for await (const page of paginateGetFindings({ client, pageSize: 2 }, {})) pages.push(page);

    expect(pages.map((p) => p.Findings?.length)).toEqual([2, 2, 1]);
    expect(new Set(pages.flatMap((p) => p.Findings?.map((f) => f.Id))).size).toBe(5);
  });

  it('GetFindings refuses a filter it does not emulate instead of answering nothing', async () => {
    const client = new SecurityHubClient(await motoOptions());

    await expect(
      client.send(
        new GetFindingsCommand({ Filters: { Title: [{ Value: 'x', Comparison: 'EQUALS' }] } }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInputException' });
  });

  it('BatchUpdateFindings updates a registered finding and refuses an unknown one', async () => {
    const client = new SecurityHubClient(await motoOptions());
    const finding = findingNumbered(1);
    registerFindings([finding]);

    const answer = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [
          { Id: String(finding.Id), ProductArn: PRODUCT_ARN },
          { Id: 'unknown', ProductArn: PRODUCT_ARN },
        ],
        Workflow: { Status: 'NOTIFIED' },
        Note: { Text: 'hubfix: notified', UpdatedBy: 'hubfix' },
      }),
    );

    expect(answer.ProcessedFindings).toEqual([{ Id: String(finding.Id), ProductArn: PRODUCT_ARN }]);
    expect(answer.UnprocessedFindings).toEqual([
      {
        FindingIdentifier: { Id: 'unknown', ProductArn: PRODUCT_ARN },
        ErrorCode: 'FindingNotFound',
        ErrorMessage: 'Finding Not Found',
      },
    ]);
    expect(registeredFinding(String(finding.Id))).toMatchObject({
      Workflow: { Status: 'NOTIFIED' },
      Note: { Text: 'hubfix: notified', UpdatedBy: 'hubfix' },
      UpdatedAt: finding.UpdatedAt,
    });
  });

  it('GetFindingsV2 and BatchUpdateFindingsV2 work on registered OCSF findings', async () => {
    const client = new SecurityHubClient(await motoOptions());
    registerOcsfFindings([OCSF_FINDING]);
    const { uid } = OCSF_FINDING.finding_info;
    const metadataUid = OCSF_FINDING.metadata.uid;

    const found = await client.send(
      new GetFindingsV2Command({
        Filters: {
          CompositeFilters: [
            {
              StringFilters: [
                { FieldName: 'finding_info.uid', Filter: { Value: uid, Comparison: 'EQUALS' } },
              ],
            },
          ],
        },
      }),
    );
    const updated = await client.send(
      new BatchUpdateFindingsV2Command({
        MetadataUids: [metadataUid, 'unknown'],
        StatusId: 3,
        Comment: 'hubfix: suppressed by the owner',
      }),
    );

    expect(found.Findings).toHaveLength(1);
    expect(updated.ProcessedFindings).toEqual([{ MetadataUid: metadataUid }]);
    expect(updated.UnprocessedFindings).toMatchObject([
      { MetadataUid: 'unknown', ErrorCode: 'ResourceNotFoundException' },
    ]);
    expect(registeredOcsfFinding(metadataUid)).toMatchObject({
      status_id: 3,
      status: 'Suppressed',
      comment: 'hubfix: suppressed by the owner',
    });
  });
  it("answers the sweep's queries: ProductFields map filters, and a composite's Operator and number filters", async () => {
    const client = new SecurityHubClient(await motoOptions());
    const scope = { account: '111111111111', region: 'us-east-1', partition: 'aws' };
    const [, legacy, ocsf] = sweepQueries(['EC2.2', 'EC2.9'], scope);
    if (!legacy || !ocsf) throw new Error('the sweep has no legacy or OCSF query');
    const failing = (n: number, controlId: string) =>
      withChanges(findingNumbered(n), {
        Region: 'us-east-1',
        'ProductFields.ControlId': controlId,
      });
    registerFindings([failing(1, 'EC2.2'), failing(2, 'EC2.7'), failing(3, 'EC2.9')]);
    const ocsfFailing = withChanges(OCSF_FINDING, { 'compliance.status_id': 3 });
    const ocsfPassing = withChanges(OCSF_FINDING, {
      'metadata.uid': 'passing',
      'compliance.status_id': 1,
    });
    registerOcsfFindings([ocsfFailing, ocsfPassing]);

    const asff = await client.send(
      new GetFindingsCommand({ Filters: asffFilters(legacy, scope.partition), MaxResults: 100 }),
    );
    const v2 = await client.send(
      new GetFindingsV2Command({ Filters: ocsfFilters(ocsf, scope.partition), MaxResults: 100 }),
    );

    expect(asff.Findings?.map((f) => f.Id)).toEqual([
      failing(1, 'EC2.2').Id,
      failing(3, 'EC2.9').Id,
    ]);
    expect(v2.Findings?.map((f) => (f as { metadata?: { uid?: string } }).metadata?.uid)).toEqual([
      OCSF_FINDING.metadata.uid,
    ]);
  });
});
