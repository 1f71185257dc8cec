import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { budgetKey, DynamoDbChangeBudget } from '../../../lambdas/core/adapters/change-budget';
import { resetStrict, serviceError, strictMock } from '../../support/aws';

const TABLE = 'hubfix-state';
/** 10:42 UTC: the hour started at 10:00 and its counter expires at 12:00. */
const NOW = Date.parse('2026-12-01T10:42:17Z');
const EXPIRES = Date.parse('2026-12-01T12:00:00Z') / 1000;
const dynamodb = strictMock(DynamoDBClient);
const budget = new DynamoDbChangeBudget(new DynamoDBClient({ region: 'us-east-1' }), {
  tableName: TABLE,
  maxChangesPerAccountPerHour: 20,
  now: () => NOW,
});

const takeOne = {
  TableName: TABLE,
  Key: marshall({ pk: 'budget#222222222222#2026-12-01T10' }),
  UpdateExpression: 'ADD #changes :one SET #kind = :kind, #ttl = :expires',
  ConditionExpression: 'attribute_not_exists(#changes) OR #changes < :limit',
  ExpressionAttributeNames: { '#changes': 'changes', '#kind': 'kind', '#ttl': 'expiresAt' },
  ExpressionAttributeValues: marshall({
    ':one': 1,
    ':limit': 20,
    ':kind': 'budget',
    ':expires': EXPIRES,
  }),
};

beforeEach(() => {
  resetStrict(dynamodb);
});

describe('DynamoDbChangeBudget', () => {
  it("counts a change against the account's counter for this clock hour, in one conditional update", async () => {
    dynamodb.on(UpdateItemCommand, takeOne, true).resolves({});

    await expect(budget.take('222222222222')).resolves.toEqual({ kind: 'taken' });
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('says the budget is spent when the counter is at the limit', async () => {
    dynamodb.on(UpdateItemCommand, takeOne, true).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      }),
    );

    await expect(budget.take('222222222222')).resolves.toEqual({ kind: 'spent', limit: 20 });
  });

  it('lets any other failure through, so the caller changes nothing', async () => {
    dynamodb.on(UpdateItemCommand, takeOne, true).rejects(serviceError('AccessDeniedException'));

    await expect(budget.take('222222222222')).rejects.toThrow('AccessDeniedException');
  });

  it('keys every account and hour apart, behind one prefix the grant can name', () => {
    expect(budgetKey('222222222222', Date.parse('2026-12-01T23:00:00Z'))).toBe(
      'budget#222222222222#2026-12-01T23',
    );
  });
});
