/**
 * The ledger: one DynamoDB item per change, written BEFORE the change with
 * what it will remove, updated after with what happened, and updated again if
 * the change is rolled back. Functions only write it (this module); reading
 * and rolling back is ledger-admin.ts, used by `npx hubfix`.
 */
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ChangeRecord, ChangeRecorder, ChangeResult, DriftMark } from '../ports';

export const LEDGER_INDEX = 'byTime';
/** Every change item carries this, so the time index can list them newest first. */
export const LEDGER_ENTITY = 'change';

export interface LedgerOptions {
  readonly tableName: string;
  /** How long entries are kept before DynamoDB's TTL removes them. */
  readonly retentionDays: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export class DynamoDbLedger implements ChangeRecorder {
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: LedgerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async recordBefore(record: ChangeRecord): Promise<void> {
    const createdAt = this.now();
    await this.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: marshall(
          {
            changeId: record.changeId,
            entity: LEDGER_ENTITY,
            controlId: record.controlId,
            findingId: record.findingId,
            resource: record.resource,
            account: record.account,
            region: record.region,
            summary: record.summary,
            before: JSON.stringify(record.before),
            status: 'PENDING',
            createdAt: createdAt.toISOString(),
            expiresAt: Math.floor(createdAt.getTime() / 1000) + this.options.retentionDays * 86_400,
          },
          { removeUndefinedValues: true },
        ),
        // A change id is never reused: an existing entry must not be overwritten.
        ConditionExpression: 'attribute_not_exists(changeId)',
      }),
    );
  }

  async recordResult(changeId: string, result: ChangeResult): Promise<void> {
    const values: Record<string, unknown> = {
      ':status': result.status,
      ':changes': result.changes,
      ':completedAt': this.now().toISOString(),
    };
    let set = '#status = :status, changes = :changes, completedAt = :completedAt';
    if (result.status === 'FAILED') {
      set += ', #error = :error, stateLeft = :stateLeft';
      values[':error'] = result.error;
      values[':stateLeft'] = result.stateLeft;
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ changeId }),
        UpdateExpression: `SET ${set}`,
        ConditionExpression: 'attribute_exists(changeId)',
        ExpressionAttributeNames: {
          '#status': 'status',
          ...(result.status === 'FAILED' ? { '#error': 'error' } : {}),
        },
        ExpressionAttributeValues: marshall(values),
      }),
    );
  }

  /**
   * The first drift seen is kept: it says when the fix stopped holding. A
   * later sighting of the same drift changes nothing.
   */
  async markDrifted(changeId: string, mark: DriftMark): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ changeId }),
        UpdateExpression: 'SET #drift = if_not_exists(#drift, :drift)',
        ConditionExpression: 'attribute_exists(changeId)',
        ExpressionAttributeNames: { '#drift': 'drift' },
        ExpressionAttributeValues: marshall({ ':drift': mark }, { removeUndefinedValues: true }),
      }),
    );
  }
}
