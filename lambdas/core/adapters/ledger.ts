/**
 * The ledger: one DynamoDB item per change, written BEFORE the change with
 * what it will remove, updated after with what happened, and updated again if
 * the change is rolled back. It is what `npx hubfix history` and
 * `npx hubfix rollback` read.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LedgerEntryError } from '../errors';
import type { ChangeRecord, ChangeRecorder, ChangeResult } from '../pipeline';
import { array, type Infer, integer, object, oneOf, optional, string } from '../schema';

export const LEDGER_INDEX = 'byTime';
/** Every change item carries this, so the time index can list them newest first. */
export const LEDGER_ENTITY = 'change';

export const CHANGE_STATUSES = [
  'PENDING',
  'REMEDIATED',
  'FAILED',
  'ROLLING_BACK',
  'ROLLED_BACK',
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

const rollbackAttemptSchema = object({
  at: string(),
  by: string(),
  outcome: oneOf(['ROLLED_BACK', 'REFUSED', 'FAILED']),
  lines: optional(array(string()), []),
  error: optional(string()),
});
export type RollbackAttempt = Infer<typeof rollbackAttemptSchema>;

export const ledgerEntrySchema = object(
  {
    changeId: string({ minLength: 1 }),
    controlId: string({ minLength: 1 }),
    findingId: string(),
    resource: string(),
    summary: string(),
    /** The before-state as JSON text, exactly as the control produced it. */
    before: string(),
    status: oneOf(CHANGE_STATUSES),
    createdAt: string(),
    completedAt: optional(string()),
    changes: optional(array(string()), []),
    error: optional(string()),
    stateLeft: optional(string()),
    rollbacks: optional(array(rollbackAttemptSchema), []),
    expiresAt: integer(),
  },
  { unknownKeys: 'ignore' },
);
export type LedgerEntry = Infer<typeof ledgerEntrySchema>;

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

  async get(changeId: string): Promise<LedgerEntry | undefined> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ changeId }),
        ConsistentRead: true,
      }),
    );
    return response.Item ? toEntry(response.Item) : undefined;
  }

  /** The most recent changes, newest first. */
  async recent(limit: number): Promise<LedgerEntry[]> {
    const response = await this.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: LEDGER_INDEX,
        KeyConditionExpression: 'entity = :entity',
        ExpressionAttributeValues: marshall({ ':entity': LEDGER_ENTITY }),
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (response.Items ?? []).map(toEntry);
  }

  /**
   * Claims an entry for rollback. Only one rollback can hold it: a second
   * caller, or a change that is not in `from`, gets false.
   */
  async claimForRollback(changeId: string, from: readonly ChangeStatus[]): Promise<boolean> {
    const allowed = Object.fromEntries(from.map((status, i) => [`:from${i}`, status]));
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: marshall({ changeId }),
          UpdateExpression: 'SET #status = :rolling',
          ConditionExpression: `#status IN (${Object.keys(allowed).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall({ ':rolling': 'ROLLING_BACK', ...allowed }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Records a rollback attempt and the status the entry ends in. */
  async recordRollback(
    changeId: string,
    status: ChangeStatus,
    attempt: RollbackAttempt,
  ): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ changeId }),
        UpdateExpression:
          'SET #status = :status, rollbacks = list_append(if_not_exists(rollbacks, :empty), :attempt)',
        ConditionExpression: 'attribute_exists(changeId)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall(
          { ':status': status, ':attempt': [attempt], ':empty': [] },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }
}

function toEntry(item: Parameters<typeof unmarshall>[0]): LedgerEntry {
  const result = ledgerEntrySchema.parse(unmarshall(item), 'ledger entry');
  if (!result.ok) {
    throw new LedgerEntryError(
      `the ledger holds an entry hubfix cannot read: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
  }
  return result.value;
}
