/**
 * Security Hub, as the pipeline sees it: fetch a finding again by its
 * identifiers (the event is a hint, Security Hub is the authority), and write
 * hubfix's decision back to it. BatchUpdateFindings answers 200 even when it
 * refuses a finding, listing it under UnprocessedFindings; that list is turned
 * into an error here so it is never silently dropped.
 */
import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandOutput,
  GetFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { describeError, FindingFetchError, FindingUpdateError } from '../errors';
import type { Finding, FindingRef } from '../finding';
import { parseAsffFinding } from '../intake/asff';
import type { FindingLookup } from '../intake/types';
import { findFirst } from '../paging';
import type { FindingStore, FindingUpdate } from '../ports';
import { NOTE_LIMIT } from '../report';

export const NOTE_AUTHOR = 'hubfix';

export class SecurityHubFindingStore implements FindingStore {
  constructor(private readonly client: SecurityHubClient) {}

  async fetch(lookup: FindingLookup): Promise<Finding | undefined> {
    if (lookup.format === 'ocsf') {
      throw new FindingFetchError('findings of the new Security Hub (OCSF) are not supported yet');
    }
    let raw: unknown;
    try {
      raw = await findFirst(async (nextToken) => {
        const page = await this.client.send(
          new GetFindingsCommand({
            Filters: {
              Id: [{ Value: lookup.id, Comparison: 'EQUALS' }],
              ...(lookup.productArn
                ? { ProductArn: [{ Value: lookup.productArn, Comparison: 'EQUALS' }] }
                : {}),
            },
            MaxResults: 1,
            NextToken: nextToken,
          }),
        );
        return { items: page.Findings ?? [], nextToken: page.NextToken };
      });
    } catch (error) {
      throw new FindingFetchError(`GetFindings failed: ${describeError(error)}`, { cause: error });
    }
    if (raw === undefined) return undefined;
    const parsed = parseAsffFinding(raw, 0);
    if (!parsed.ok) {
      throw new FindingFetchError(
        `Security Hub returned a finding hubfix cannot read: ${parsed.error.message}`,
      );
    }
    return parsed.finding;
  }

  async update(ref: FindingRef, update: FindingUpdate): Promise<void> {
    if (update.note.length > NOTE_LIMIT) {
      throw new FindingUpdateError(
        `note is ${update.note.length} characters; the limit is ${NOTE_LIMIT}`,
        'NoteTooLong',
      );
    }
    if (ref.format === 'ocsf') {
      throw new FindingUpdateError(
        'findings of the new Security Hub (OCSF) are not supported yet',
        'UnsupportedFormat',
      );
    }
    let response: BatchUpdateFindingsCommandOutput;
    try {
      response = await this.client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: ref.id, ProductArn: ref.productArn }],
          ...(update.workflow ? { Workflow: { Status: update.workflow } } : {}),
          Note: { Text: update.note, UpdatedBy: NOTE_AUTHOR },
        }),
      );
    } catch (error) {
      throw new FindingUpdateError(
        `BatchUpdateFindings failed: ${describeError(error)}`,
        undefined,
        { cause: error },
      );
    }
    const refused = response.UnprocessedFindings?.[0];
    if (refused) {
      throw new FindingUpdateError(
        `Security Hub did not update the finding: ${refused.ErrorCode ?? 'unknown'}: ${refused.ErrorMessage ?? 'no message'}`,
        refused.ErrorCode,
      );
    }
  }
}
