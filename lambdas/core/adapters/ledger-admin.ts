/**
 * Reading the ledger and recording rollbacks: what `npx hubfix` does with the
 * operator's credentials. Functions never load this module.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
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

/** BatchGetItem reads at most 100 keys a request. */
const BATCH_GET_KEYS = 100;
/** Rounds of BatchGetItem for the keys DynamoDB left unprocessed before giving up. */
const BATCH_GET_ROUNDS = 8;

type Item = Record<string, AttributeValue>;

export interface LedgerAdminOptions {
  /**
   * Waits before asking again for keys BatchGetItem left unprocessed.
   * @default 50 ms doubled each round, as DynamoDB asks
   */
  readonly backoff?: (round: number) => Promise<void>;
}

const defaultBackoff = (round: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, 50 * 2 ** round));

export class DynamoDbLedgerAdmin implements RollbackLedger {
  private readonly backoff: (round: number) => Promise<void>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: LedgerAdminOptions = {},
  ) {
    this.backoff = options.backoff ?? defaultBackoff;
  }

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
    return this.entriesFor(response.Items ?? []);
  }

  /**
   * The entries the time index names, in its order. The index holds keys
   * only (a change's status and drift are written after it is created, and
   * an index holding them would be written again each time), so the entries
   * are read from the table, 100 at a time. An entry gone since the index
   * listed it (expired) is left out.
   */
  private async entriesFor(indexItems: readonly Item[]): Promise<LedgerEntry[]> {
    const ids = indexItems.flatMap((item) => (item.changeId?.S ? [item.changeId.S] : []));
    const byId = new Map<string, LedgerEntry>();
    for (let start = 0; start < ids.length; start += BATCH_GET_KEYS) {
      let keys: Item[] = ids
        .slice(start, start + BATCH_GET_KEYS)
        .map((changeId) => marshall({ changeId }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === BATCH_GET_ROUNDS) {
          throw new LedgerEntryError(
            `DynamoDB had not read every ledger entry asked for after ${BATCH_GET_ROUNDS} tries (${keys.length} left); try again`,
          );
        }
        if (round > 0) await this.backoff(round - 1);
        const response = await this.client.send(
          new BatchGetItemCommand({
            // Consistent, as `get` is: an entry the index lists is never missed for a stale copy.
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) {
          const entry = toEntry(item);
          byId.set(entry.changeId, entry);
        }
        keys = (response.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return ids.flatMap((id) => {
      const entry = byId.get(id);
      return entry ? [entry] : [];
    });
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
      entries.push(...(await this.entriesFor(page.Items ?? [])));
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
