/**
 * Writes hubfix's decision back to the finding. BatchUpdateFindings answers
 * 200 even when it refuses a finding, listing it under UnprocessedFindings;
 * that list is turned into an error here so it is never silently dropped.
 */
import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandOutput,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { describeError, FindingUpdateError } from '../errors';
import type { Finding } from '../finding';
import { NOTE_LIMIT, type WorkflowStatus } from '../report';

export const NOTE_AUTHOR = 'hubfix';

export interface FindingUpdate {
  readonly workflow: WorkflowStatus;
  readonly note: string;
}

export interface FindingWriter {
  /** @throws FindingUpdateError when Security Hub did not apply the update. */
  update(finding: Pick<Finding, 'id' | 'productArn'>, update: FindingUpdate): Promise<void>;
}

export class SecurityHubFindingWriter implements FindingWriter {
  constructor(private readonly client: SecurityHubClient) {}

  async update(finding: Pick<Finding, 'id' | 'productArn'>, update: FindingUpdate): Promise<void> {
    if (update.note.length > NOTE_LIMIT) {
      throw new FindingUpdateError(
        `note is ${update.note.length} characters; the limit is ${NOTE_LIMIT}`,
        'NoteTooLong',
      );
    }
    let response: BatchUpdateFindingsCommandOutput;
    try {
      response = await this.client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: finding.id, ProductArn: finding.productArn }],
          Workflow: { Status: update.workflow },
          Note: { Text: update.note, UpdatedBy: NOTE_AUTHOR },
        }),
      );
    } catch (error) {
      throw new FindingUpdateError(
        `BatchUpdateFindings failed: ${describeError(error)}`,
        undefined,
        {
          cause: error,
        },
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
