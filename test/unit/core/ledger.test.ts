import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../../lambdas/core/adapters/ledger';
import { DynamoDbLedgerAdmin } from '../../../lambdas/core/adapters/ledger-admin';
import { LedgerEntryError } from '../../../lambdas/core/errors';
import { resetStrict, strictMock } from '../../support/aws';

const TABLE = 'hubfix-ledger';
const NOW = new Date('2026-11-22T10:00:00.000Z');
const client = new DynamoDBClient({ region: 'us-east-1' });
const dynamodb = strictMock(client);
const ledger = new DynamoDbLedger(client, { tableName: TABLE, retentionDays: 30, now: () => NOW });
const admin = new DynamoDbLedgerAdmin(client, TABLE);

const stored = {
  changeId: 'change-1',
  entity: 'change',
  controlId: 'EC2.2',
  findingId: 'finding-1',
  resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
  summary: 'revoke 2 rules',
  before: '{"rules":[1,2]}',
  status: 'REMEDIATED',
  createdAt: NOW.toISOString(),
  completedAt: NOW.toISOString(),
  changes: ['revoked rule 1'],
  expiresAt: 1797501600,
};

beforeEach(() => {
  resetStrict(dynamodb);
});

describe('DynamoDbLedger', () => {
  it('stores the before-state as a new PENDING entry that expires after the retention', async () => {
    // Prepare
    dynamodb
      .on(
        PutItemCommand,
        {
          TableName: TABLE,
          Item: marshall({
            changeId: 'change-1',
            entity: 'change',
            controlId: 'EC2.2',
            findingId: 'finding-1',
            resource: stored.resource,
            account: '111111111111',
            region: 'us-east-1',
            summary: 'revoke 2 rules',
            before: '{"rules":[1,2]}',
            status: 'PENDING',
            createdAt: '2026-11-22T10:00:00.000Z',
            expiresAt: Math.floor(NOW.getTime() / 1000) + 30 * 86_400,
          }),
          ConditionExpression: 'attribute_not_exists(changeId)',
        },
        true,
      )
      .resolves({});

    // Act
    await ledger.recordBefore({
      changeId: 'change-1',
      controlId: 'EC2.2',
      findingId: 'finding-1',
      resource: stored.resource,
      account: '111111111111',
      region: 'us-east-1',
      summary: 'revoke 2 rules',
      before: { rules: [1, 2] },
    });

    // Assess
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it('records a success', async () => {
    dynamodb
      .on(
        UpdateItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ changeId: 'change-1' }),
          UpdateExpression: 'SET #status = :status, changes = :changes, completedAt = :completedAt',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall({
            ':status': 'REMEDIATED',
            ':changes': ['revoked rule 1'],
            ':completedAt': NOW.toISOString(),
          }),
        },
        true,
      )
      .resolves({});

    await ledger.recordResult('change-1', { status: 'REMEDIATED', changes: ['revoked rule 1'] });

    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  it('records a failure with the state left behind', async () => {
    dynamodb
      .on(
        UpdateItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ changeId: 'change-1' }),
          UpdateExpression:
            'SET #status = :status, changes = :changes, completedAt = :completedAt, #error = :error, stateLeft = :stateLeft',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: marshall({
            ':status': 'FAILED',
            ':changes': [],
            ':completedAt': NOW.toISOString(),
            ':error': 'throttled',
            ':stateLeft': 'unchanged',
          }),
        },
        true,
      )
      .resolves({});

    await ledger.recordResult('change-1', {
      status: 'FAILED',
      changes: [],
      error: 'throttled',
      stateLeft: 'unchanged',
    });

    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  it('marks an earlier change as drifted once, keeping the first sighting', async () => {
    // Prepare
    const mark = {
      detectedAt: NOW.toISOString(),
      findingId: 'finding-1',
      changedBack: 'revoke 2 rules',
      owner: 'CloudFormation stack "net"',
      outcome: 'DRIFTED',
    };
    dynamodb
      .on(
        UpdateItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ changeId: 'change-1' }),
          UpdateExpression: 'SET #drift = if_not_exists(#drift, :drift)',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#drift': 'drift' },
          ExpressionAttributeValues: marshall({ ':drift': mark }),
        },
        true,
      )
      .resolves({});

    // Act
    await ledger.markDrifted('change-1', mark);

    // Assess
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  it('reads the drift mark of an entry', async () => {
    const drift = {
      detectedAt: NOW.toISOString(),
      findingId: 'finding-1',
      changedBack: 'revoke 2 rules',
      outcome: 'REMEDIATED',
    };
    dynamodb.on(GetItemCommand).resolves({ Item: marshall({ ...stored, drift }) });

    expect((await admin.get('change-1'))?.drift).toEqual(drift);
  });

  it('reads one entry consistently and lists recent ones newest first', async () => {
    dynamodb
      .on(
        GetItemCommand,
        { TableName: TABLE, Key: marshall({ changeId: 'change-1' }), ConsistentRead: true },
        true,
      )
      .resolves({ Item: marshall(stored) });
    dynamodb
      .on(
        QueryCommand,
        {
          TableName: TABLE,
          IndexName: 'byTime',
          KeyConditionExpression: 'entity = :entity',
          ExpressionAttributeValues: marshall({ ':entity': 'change' }),
          ScanIndexForward: false,
          Limit: 5,
        },
        true,
      )
      .resolves({ Items: [marshall(stored)] });

    const entry = await admin.get('change-1');
    const recent = await admin.recent(5);

    expect(entry).toMatchObject({ changeId: 'change-1', status: 'REMEDIATED', rollbacks: [] });
    expect(recent).toEqual([entry]);
  });

  it('says when an entry cannot be read rather than guessing', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: marshall({ ...stored, status: 'WEIRD' }) });

    await expect(admin.get('change-1')).rejects.toThrow(LedgerEntryError);
  });

  it('lets only one rollback claim an entry', async () => {
    const claim = {
      TableName: TABLE,
      Key: marshall({ changeId: 'change-1' }),
      UpdateExpression: 'SET #status = :rolling',
      ConditionExpression: '#status IN (:from0, :from1)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({
        ':rolling': 'ROLLING_BACK',
        ':from0': 'REMEDIATED',
        ':from1': 'FAILED',
      }),
    };
    dynamodb
      .on(UpdateItemCommand, claim, true)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    expect(await admin.claimForRollback('change-1', ['REMEDIATED', 'FAILED'])).toBe(true);
    expect(await admin.claimForRollback('change-1', ['REMEDIATED', 'FAILED'])).toBe(false);
  });

  it('appends each rollback attempt to the entry', async () => {
    const attempt = {
      at: NOW.toISOString(),
      by: 'arn:aws:iam::111111111111:user/ops',
      outcome: 'ROLLED_BACK' as const,
      lines: ['restored rule 1'],
    };
    dynamodb
      .on(
        UpdateItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ changeId: 'change-1' }),
          UpdateExpression:
            'SET #status = :status, rollbacks = list_append(if_not_exists(rollbacks, :empty), :attempt)',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall({
            ':status': 'ROLLED_BACK',
            ':attempt': [attempt],
            ':empty': [],
          }),
        },
        true,
      )
      .resolves({});

    await admin.recordRollback('change-1', 'ROLLED_BACK', attempt);

    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  it('records a refused attempt without touching the status', async () => {
    const attempt = {
      at: NOW.toISOString(),
      by: 'arn:aws:iam::111111111111:user/ops',
      outcome: 'REFUSED' as const,
      lines: [],
      error: 'change change-1 was already rolled back',
    };
    dynamodb
      .on(
        UpdateItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ changeId: 'change-1' }),
          UpdateExpression:
            'SET rollbacks = list_append(if_not_exists(rollbacks, :empty), :attempt)',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeValues: marshall({ ':attempt': [attempt], ':empty': [] }),
        },
        true,
      )
      .resolves({});

    await admin.recordRefusal('change-1', attempt);

    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  it('reads a period from the time index, oldest first, following every page', async () => {
    // Prepare: DynamoDB pages by size, and a page may come back empty with a key.
    const query = (startKey?: Record<string, unknown>) => ({
      TableName: TABLE,
      IndexName: 'byTime',
      KeyConditionExpression: 'entity = :entity AND createdAt BETWEEN :since AND :until',
      ExpressionAttributeValues: marshall({
        ':entity': 'change',
        ':since': '2026-11-01T00:00:00.000Z',
        ':until': '2026-11-30T23:59:59.999Z',
      }),
      ScanIndexForward: true,
      ...(startKey ? { ExclusiveStartKey: marshall(startKey) } : {}),
    });
    const second = { ...stored, changeId: 'change-2' };
    const page2Key = { changeId: 'change-1', entity: 'change', createdAt: NOW.toISOString() };
    const page3Key = { changeId: 'change-1b', entity: 'change', createdAt: NOW.toISOString() };
    dynamodb
      .on(QueryCommand, query(), true)
      .resolves({ Items: [marshall(stored)], LastEvaluatedKey: marshall(page2Key) });
    dynamodb
      .on(QueryCommand, query(page2Key), true)
      .resolves({ Items: [], LastEvaluatedKey: marshall(page3Key) });
    dynamodb.on(QueryCommand, query(page3Key), true).resolves({ Items: [marshall(second)] });

    // Act
    const entries = await admin.between(
      new Date('2026-11-01T00:00:00.000Z'),
      new Date('2026-12-01T00:00:00.000Z'),
    );

    // Assess
    expect(entries.map((e) => e.changeId)).toEqual(['change-1', 'change-2']);
    expect(dynamodb).toHaveReceivedCommandTimes(QueryCommand, 3);
  });

  it('reads an open-ended period with createdAt >= since', async () => {
    dynamodb
      .on(
        QueryCommand,
        {
          TableName: TABLE,
          IndexName: 'byTime',
          KeyConditionExpression: 'entity = :entity AND createdAt >= :since',
          ExpressionAttributeValues: marshall({
            ':entity': 'change',
            ':since': '2026-11-01T00:00:00.000Z',
          }),
          ScanIndexForward: true,
        },
        true,
      )
      .resolves({ Items: [] });

    expect(await admin.between(new Date('2026-11-01T00:00:00.000Z'))).toEqual([]);
  });
});
