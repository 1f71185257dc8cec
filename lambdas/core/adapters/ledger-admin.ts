/**
 * Reading the ledger and recording rollbacks: what `npx hubfix` does with the
 * operator's credentials. Functions never load this module.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LedgerEntryError } from '../errors';
import {
  type ChangeStatus,
  type LedgerEntry,
  ledgerEntrySchema,
  type RollbackAttempt,
} from '../ledger-entry';
import type { RollbackLedger } from '../rollback';
import { LEDGER_ENTITY, LEDGER_INDEX } from './ledger';

export class DynamoDbLedgerAdmin implements RollbackLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(changeId: string): Promise<LedgerEntry | undefined> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
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
        TableName: this.tableName,
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
   * Every change recorded from `since` (inclusive) to `until` (exclusive),
   * oldest first, following every page of the time index.
   */
  async between(since: Date, until?: Date): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LEDGER_INDEX,
          KeyConditionExpression: until
            ? 'entity = :entity AND createdAt BETWEEN :since AND :until'
            : 'entity = :entity AND createdAt >= :since',
          ExpressionAttributeValues: marshall({
            ':entity': LEDGER_ENTITY,
            ':since': since.toISOString(),
            // BETWEEN is inclusive; the millisecond before `until` keeps it exclusive.
            ...(until ? { ':until': new Date(until.getTime() - 1).toISOString() } : {}),
          }),
          ScanIndexForward: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      entries.push(...(page.Items ?? []).map(toEntry));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
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
          TableName: this.tableName,
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

  /**
   * Records a rollback attempt that changed nothing (refused or declined)
   * without touching the status: a concurrent rollback may hold the entry.
   */
  async recordRefusal(changeId: string, attempt: RollbackAttempt): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ changeId }),
        UpdateExpression: 'SET rollbacks = list_append(if_not_exists(rollbacks, :empty), :attempt)',
        ConditionExpression: 'attribute_exists(changeId)',
        ExpressionAttributeValues: marshall(
          { ':attempt': [attempt], ':empty': [] },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  /** Records a rollback attempt and the status the entry ends in. */
  async recordRollback(
    changeId: string,
    status: ChangeStatus,
    attempt: RollbackAttempt,
  ): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
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
