/**
 * Org mode's per-account blast radius, kept in the State table: one counter
 * per member account and clock hour, raised by a conditional update so that
 * every control's function, in every concurrent invocation, draws from the
 * same budget. The counter expires with TTL an hour after its hour ends.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ChangeBudget } from '../ports';
import { STATE_KEY, STATE_TTL } from './state';

/** Budget keys lead with this, so the functions' grant can name them (dynamodb:LeadingKeys). */
export const BUDGET_KEY_PREFIX = 'budget#';

const HOUR_MS = 3_600_000;

export function budgetKey(account: string, hourStartMs: number): string {
  return `${BUDGET_KEY_PREFIX}${account}#${new Date(hourStartMs).toISOString().slice(0, 13)}`;
}

export interface ChangeBudgetOptions {
  readonly tableName: string;
  readonly maxChangesPerAccountPerHour: number;
  readonly now: () => number;
}

export class DynamoDbChangeBudget implements ChangeBudget {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: ChangeBudgetOptions,
  ) {}

  async take(account: string) {
    const limit = this.options.maxChangesPerAccountPerHour;
    const hourStart = Math.floor(this.options.now() / HOUR_MS) * HOUR_MS;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: marshall({ [STATE_KEY]: budgetKey(account, hourStart) }),
          UpdateExpression: 'ADD #changes :one SET #kind = :kind, #ttl = :expires',
          ConditionExpression: 'attribute_not_exists(#changes) OR #changes < :limit',
          ExpressionAttributeNames: { '#changes': 'changes', '#kind': 'kind', '#ttl': STATE_TTL },
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':limit': limit,
            ':kind': 'budget',
            ':expires': Math.floor((hourStart + 2 * HOUR_MS) / 1000),
          }),
        }),
      );
      return { kind: 'taken' as const };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return { kind: 'spent' as const, limit };
      throw error;
    }
  }
}
