/**
 * hubfix's working memory, one DynamoDB table (on-demand, TTL on
 * `expiresAt`): the lease on each resource being changed, and what hubfix
 * last did with each finding. Every key starts with the control id, so each
 * function's grant can be limited to its own items (dynamodb:LeadingKeys).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { WORKFLOW_STATUSES } from '../finding';
import type { FindingHistory, HistoryEntry, ResourceLease } from '../ports';
import { boolean, integer, object, oneOf, optional, string } from '../schema';

export const STATE_KEY = 'pk';
export const STATE_TTL = 'expiresAt';

const OUTCOME_KINDS = [
  'IGNORED',
  'SUPPRESSED',
  'NOTIFIED',
  'DEFERRED',
  'PLANNED',
  'ALREADY_COMPLIANT',
  'BLOCKED',
  'REMEDIATED',
  'FAILED',
  'DRIFTED',
] as const;

const historySchema = object(
  {
    lastOutcome: oneOf(OUTCOME_KINDS),
    lastReason: optional(string(), ''),
    lastAt: string({ minLength: 1 }),
    lastChangeId: optional(string()),
    fixes: integer({ min: 0 }),
    lastFixAt: optional(string()),
    lastFixChangeId: optional(string()),
    continuing: optional(boolean(), false),
    workflowSet: optional(oneOf(WORKFLOW_STATUSES)),
  },
  { unknownKeys: 'ignore' },
);

export interface StateStoreOptions {
  readonly tableName: string;
  /** How long a finding's history is kept after its last handling. */
  readonly historyDays: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export function historyKey(controlId: string, findingKey: string): string {
  return `${controlId}#finding#${findingKey}`;
}

export class DynamoDbStateStore implements ResourceLease, FindingHistory {
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: StateStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async acquire(key: string, holder: string, until: Date): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: marshall({
            [STATE_KEY]: key,
            kind: 'lease',
            holder,
            [STATE_TTL]: Math.ceil(until.getTime() / 1000),
          }),
          // DynamoDB's TTL deletes lazily (within days): an expired lease is free.
          ConditionExpression: 'attribute_not_exists(#key) OR #ttl < :now',
          ExpressionAttributeNames: { '#key': STATE_KEY, '#ttl': STATE_TTL },
          ExpressionAttributeValues: marshall({
            ':now': Math.floor(this.now().getTime() / 1000),
          }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(key: string, holder: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: marshall({ [STATE_KEY]: key }),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: marshall({ ':holder': holder }),
        }),
      );
    } catch (error) {
      // Someone else holds it now (ours expired): theirs is not ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async get(controlId: string, findingKey: string): Promise<HistoryEntry | undefined> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ [STATE_KEY]: historyKey(controlId, findingKey) }),
        ConsistentRead: true,
      }),
    );
    if (!response.Item) return undefined;
    const parsed = historySchema.parse(unmarshall(response.Item), 'finding history');
    // An entry hubfix cannot read is treated as none: it only ever adds caution.
    if (!parsed.ok) return undefined;
    const h = parsed.value;
    return {
      lastOutcome: h.lastOutcome,
      lastReason: h.lastReason,
      lastAt: h.lastAt,
      lastChangeId: h.lastChangeId,
      fixes: h.fixes,
      lastFixAt: h.lastFixAt,
      lastFixChangeId: h.lastFixChangeId,
      continuing: h.continuing,
      workflowSet: h.workflowSet,
    };
  }

  async put(controlId: string, findingKey: string, entry: HistoryEntry): Promise<void> {
    const now = this.now();
    await this.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: marshall(
          {
            [STATE_KEY]: historyKey(controlId, findingKey),
            kind: 'finding',
            ...entry,
            [STATE_TTL]: Math.floor(now.getTime() / 1000) + this.options.historyDays * 86_400,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }
}
