/**
 * Security Hub, as the pipeline sees it: fetch a finding again by its
 * identifiers (the event is a hint, Security Hub is the authority), and write
 * hubfix's decision back to it. Both products are served: Security Hub CSPM
 * (ASFF: GetFindings, BatchUpdateFindings) and the new Security Hub (OCSF:
 * GetFindingsV2, BatchUpdateFindingsV2). Both updates answer 200 even when
 * they refuse a finding, listing it under UnprocessedFindings; that list is
 * turned into an error here so it is never silently dropped.
 */
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  GetFindingsV2Command,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { describeError, FindingFetchError, FindingUpdateError } from '../errors';
import type { Finding, FindingRef, WorkflowStatus } from '../finding';
import { parseAsffFinding } from '../intake/asff';
import { parseOcsfFinding } from '../intake/ocsf';
import type { FindingLookup, ParsedFinding } from '../intake/types';
import { findFirst } from '../paging';
import type { FindingStore, FindingUpdate } from '../ports';
import { NOTE_LIMIT } from '../report';

export const NOTE_AUTHOR = 'hubfix';

/** OCSF status_id for each workflow status hubfix sets. */
const OCSF_STATUS: Readonly<Record<WorkflowStatus, number>> = {
  NEW: 1,
  NOTIFIED: 2,
  SUPPRESSED: 3,
  RESOLVED: 4,
};

/** An unprocessed entry, as both update calls list them. */
interface Unprocessed {
  readonly ErrorCode?: string | undefined;
  readonly ErrorMessage?: string | undefined;
}

export class SecurityHubFindingStore implements FindingStore {
  constructor(private readonly client: SecurityHubClient) {}

  async fetch(lookup: FindingLookup): Promise<Finding | undefined> {
    let raw: unknown;
    try {
      raw = await findFirst(async (nextToken) =>
        lookup.format === 'asff'
          ? this.asffPage(lookup, nextToken)
          : this.ocsfPage(lookup.uid, nextToken),
      );
    } catch (error) {
      const call = lookup.format === 'asff' ? 'GetFindings' : 'GetFindingsV2';
      throw new FindingFetchError(`${call} failed: ${describeError(error)}`, { cause: error });
    }
    if (raw === undefined) return undefined;
    const parsed: ParsedFinding =
      lookup.format === 'asff' ? parseAsffFinding(raw, 0) : parseOcsfFinding(raw, 0);
    if (!parsed.ok) {
      throw new FindingFetchError(
        `Security Hub returned a finding hubfix cannot read: ${parsed.error.message}`,
        { cause: parsed.error },
      );
    }
    return parsed.finding;
  }

  private async asffPage(lookup: Extract<FindingLookup, { format: 'asff' }>, nextToken?: string) {
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
  }

  /** By finding_info.uid (an ARN) or metadata.uid (a hex digest), whichever the uid is. */
  private async ocsfPage(uid: string, nextToken?: string) {
    const page = await this.client.send(
      new GetFindingsV2Command({
        Filters: {
          CompositeFilters: [
            {
              StringFilters: [
                {
                  FieldName: uid.startsWith('arn:') ? 'finding_info.uid' : 'metadata.uid',
                  Filter: { Value: uid, Comparison: 'EQUALS' },
                },
              ],
            },
          ],
        },
        MaxResults: 1,
        NextToken: nextToken,
      }),
    );
    return { items: (page.Findings ?? []) as unknown[], nextToken: page.NextToken };
  }

  async update(ref: FindingRef, update: FindingUpdate): Promise<void> {
    if (update.note.length > NOTE_LIMIT) {
      throw new FindingUpdateError(
        `note is ${update.note.length} characters; the limit is ${NOTE_LIMIT}`,
        'NoteTooLong',
      );
    }
    const call = ref.format === 'asff' ? 'BatchUpdateFindings' : 'BatchUpdateFindingsV2';
    let refused: Unprocessed | undefined;
    try {
      refused =
        ref.format === 'asff'
          ? await this.updateAsff(ref, update)
          : await this.updateOcsf(ref, update);
    } catch (error) {
      throw new FindingUpdateError(`${call} failed: ${describeError(error)}`, undefined, {
        cause: error,
      });
    }
    if (refused) {
      throw new FindingUpdateError(
        `Security Hub did not update the finding: ${refused.ErrorCode ?? 'unknown'}: ${refused.ErrorMessage ?? 'no message'}`,
        refused.ErrorCode,
      );
    }
  }

  private async updateAsff(
    ref: Extract<FindingRef, { format: 'asff' }>,
    update: FindingUpdate,
  ): Promise<Unprocessed | undefined> {
    const response = await this.client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: ref.id, ProductArn: ref.productArn }],
        ...(update.workflow ? { Workflow: { Status: update.workflow } } : {}),
        Note: { Text: update.note, UpdatedBy: NOTE_AUTHOR },
      }),
    );
    return response.UnprocessedFindings?.[0];
  }

  private async updateOcsf(
    ref: Extract<FindingRef, { format: 'ocsf' }>,
    update: FindingUpdate,
  ): Promise<Unprocessed | undefined> {
    const response = await this.client.send(
      new BatchUpdateFindingsV2Command({
        FindingIdentifiers: [
          {
            CloudAccountUid: ref.accountUid,
            FindingInfoUid: ref.uid,
            MetadataProductUid: ref.productUid,
          },
        ],
        Comment: update.note,
        ...(update.workflow ? { StatusId: OCSF_STATUS[update.workflow] } : {}),
      }),
    );
    return response.UnprocessedFindings?.[0];
  }
}
