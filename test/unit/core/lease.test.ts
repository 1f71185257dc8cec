import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStateStore } from '../../../lambdas/core/adapters/state';
import { deadlineIn } from '../../../lambdas/core/deadline';
import { LEASE_WAIT_MS, leaseKey, withLease } from '../../../lambdas/core/lease';
import type { ResourceLease } from '../../../lambdas/core/ports';
import { resetStrict, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock } from '../../support/control';

const TABLE = 'hubfix-state';
const NOW = new Date('2026-12-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const dynamodb = strictMock(DynamoDBClient);
const store = () =>
  new DynamoDbStateStore(new DynamoDBClient({ region: 'us-east-1' }), {
    tableName: TABLE,
    historyDays: 365,
    now: () => NOW,
  });

beforeEach(() => {
  resetStrict(dynamodb);
});

describe('DynamoDbStateStore as the lease', () => {
  const key = 'EC2.2#lease#111111111111#us-east-1#sg-1';

  it('takes a free or expired lease with one conditional write', async () => {
    // Prepare
    dynamodb
      .on(
        PutItemCommand,
        {
          TableName: TABLE,
          Item: marshall({ pk: key, kind: 'lease', holder: 'req-1:f-1', expiresAt: NOW_S + 600 }),
          ConditionExpression: 'attribute_not_exists(#key) OR #ttl < :now',
          ExpressionAttributeNames: { '#key': 'pk', '#ttl': 'expiresAt' },
          ExpressionAttributeValues: marshall({ ':now': NOW_S }),
        },
        true,
      )
      .resolves({});

    // Act
    const held = await store().acquire(key, 'req-1:f-1', new Date('2026-12-01T12:10:00Z'));

    // Assess
    expect(held).toBe(true);
  });

  it('answers false, not an error, when someone else holds it', async () => {
    dynamodb
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'held', $metadata: {} }));

    expect(await store().acquire(key, 'req-2:f-2', new Date('2026-12-01T12:10:00Z'))).toBe(false);
  });

  it('releases only its own lease', async () => {
    dynamodb
      .on(
        DeleteItemCommand,
        {
          TableName: TABLE,
          Key: marshall({ pk: key }),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: marshall({ ':holder': 'req-1:f-1' }),
        },
        true,
      )
      .rejects(new ConditionalCheckFailedException({ message: 'not yours', $metadata: {} }));

    await expect(store().release(key, 'req-1:f-1')).resolves.toBeUndefined();
  });
});

describe('DynamoDbStateStore as the finding history', () => {
  const entry = {
    lastOutcome: 'REMEDIATED' as const,
    lastReason: 'the resource is allow-listed and the control is in remediate mode',
    lastAt: '2026-12-01T12:00:00.000Z',
    lastChangeId: 'EC2.2-1',
    fixes: 1,
    lastFixAt: '2026-12-01T12:00:00.000Z',
    lastFixChangeId: 'EC2.2-1',
    continuing: false,
    workflowSet: undefined,
  };

  it('writes an entry keyed by control and finding, without undefined values, expiring with the ledger', async () => {
    dynamodb
      .on(
        PutItemCommand,
        {
          TableName: TABLE,
          Item: marshall({
            pk: 'EC2.2#finding#arn:finding/1',
            kind: 'finding',
            lastOutcome: 'REMEDIATED',
            lastReason: 'the resource is allow-listed and the control is in remediate mode',
            lastAt: '2026-12-01T12:00:00.000Z',
            lastChangeId: 'EC2.2-1',
            fixes: 1,
            lastFixAt: '2026-12-01T12:00:00.000Z',
            lastFixChangeId: 'EC2.2-1',
            continuing: false,
            expiresAt: NOW_S + 365 * 86_400,
          }),
        },
        true,
      )
      .resolves({});

    await store().put('EC2.2', 'arn:finding/1', entry);

    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it('reads it back consistently, and treats an unreadable entry as none', async () => {
    const getItem = {
      TableName: TABLE,
      Key: marshall({ pk: 'EC2.2#finding#f' }),
      ConsistentRead: true,
    };
    dynamodb
      .on(GetItemCommand, getItem, true)
      .resolvesOnce({
        Item: marshall({ pk: 'EC2.2#finding#f', ...entry }, { removeUndefinedValues: true }),
      })
      .resolvesOnce({ Item: marshall({ pk: 'EC2.2#finding#f', lastOutcome: 'SOMETHING' }) });

    expect(await store().get('EC2.2', 'f')).toEqual(entry);
    expect(await store().get('EC2.2', 'f')).toBeUndefined();
  });
});

describe('withLease', () => {
  function memoryLease(busyFor: number) {
    let attempts = 0;
    const released: string[] = [];
    const lease: ResourceLease = {
      async acquire() {
        attempts += 1;
        return attempts > busyFor;
      },
      async release(_key, holder) {
        released.push(holder);
      },
    };
    return { lease, released, attempts: () => attempts };
  }

  it('runs the work holding the lease, and gives it back', async () => {
    const { lease, released } = memoryLease(0);
    const { clock } = fakeClock();

    const held = await withLease(
      { lease, key: 'k', holder: 'me', clock, deadline: deadlineIn(60_000, clock.now) },
      async () => 'done',
    );

    expect(held).toEqual({ kind: 'held', value: 'done', waitedMs: 0 });
    expect(released).toEqual(['me']);
  });

  it('waits with backoff while another invocation holds it', async () => {
    const { lease } = memoryLease(2);
    const { clock, sleeps } = fakeClock();

    const held = await withLease(
      { lease, key: 'k', holder: 'me', clock, deadline: deadlineIn(60_000, clock.now) },
      async () => 'done',
    );

    expect(held).toMatchObject({ kind: 'held', waitedMs: 1_500 });
    expect(sleeps).toEqual([500, 1_000]);
  });

  it('gives up after the wait, or sooner when the invocation has no time left', async () => {
    const busy = memoryLease(Number.POSITIVE_INFINITY);
    const { clock, sleeps } = fakeClock();

    const held = await withLease(
      {
        lease: busy.lease,
        key: 'k',
        holder: 'me',
        clock,
        deadline: deadlineIn(600_000, clock.now),
      },
      async () => 'never',
    );
    const short = fakeClock();
    const hurried = await withLease(
      {
        lease: busy.lease,
        key: 'k',
        holder: 'me',
        clock: short.clock,
        deadline: deadlineIn(700, short.clock.now),
      },
      async () => 'never',
    );

    expect(held.kind).toBe('busy');
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(LEASE_WAIT_MS);
    expect(hurried.kind).toBe('busy');
    expect(short.sleeps).toEqual([500]);
  });

  it('gives the lease back when the work throws, and reports a failed release without failing', async () => {
    const errors: unknown[] = [];
    const lease: ResourceLease = {
      acquire: async () => true,
      release: async () => {
        throw new Error('DynamoDB down');
      },
    };
    const { clock } = fakeClock();

    const run = withLease(
      {
        lease,
        key: 'k',
        holder: 'me',
        clock,
        deadline: deadlineIn(60_000, clock.now),
        onReleaseError: (e) => errors.push(e),
      },
      async () => {
        throw new Error('apply failed');
      },
    );

    await expect(run).rejects.toThrow('apply failed');
    expect(errors).toHaveLength(1);
  });

  it('keys a lease on control and resource, so every format of a finding meets the same one', () => {
    expect(leaseKey('EC2.2', ec2Ref('AwsEc2SecurityGroup', 'security-group', 'sg-1'))).toBe(
      'EC2.2#lease#111111111111#us-east-1#sg-1',
    );
  });
});
