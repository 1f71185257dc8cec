import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  applyUpdate,
  indexEntry,
  indexWriteUnits,
  itemSize,
  MemoryTables,
  readUnits,
  writeUnits,
} from '../../../bench/dynamodb';

describe('DynamoDB item sizes, as the Developer Guide counts them', () => {
  it.each([
    { item: { id: 'abc' }, bytes: 2 + 3, why: 'a string: name and UTF-8 bytes' },
    {
      item: { n: 12345 },
      bytes: 1 + 3 + 1,
      why: 'a number: 1 byte per two significant digits, plus 1',
    },
    { item: { n: 1000 }, bytes: 1 + 1 + 1, why: 'trailing zeros are not significant' },
    { item: { ok: true, no: null }, bytes: 2 + 1 + 2 + 1, why: 'boolean and null: 1 byte' },
    {
      item: { l: ['a', 'b'] },
      bytes: 1 + 3 + (1 + 1) * 2,
      why: 'a list: 3 bytes, and 1 per element',
    },
    {
      item: { m: { k: 'v' } },
      bytes: 1 + 3 + 1 + 1 + 1,
      why: 'a map: 3 bytes, and per element 1 plus its name',
    },
    { item: { é: 'ü' }, bytes: 2 + 2, why: 'names and strings are UTF-8 bytes' },
  ])('$why', ({ item, bytes }) => {
    expect(itemSize(marshall(item, { convertEmptyValues: false }))).toBe(bytes);
  });

  it('bills writes per KB and reads per 4 KB, rounded up, a consistent read twice an eventual one', () => {
    expect([writeUnits(0), writeUnits(1024), writeUnits(1025)]).toEqual([1, 1, 2]);
    expect([readUnits(0, true), readUnits(4097, true), readUnits(4097, false)]).toEqual([1, 2, 1]);
  });
});

describe('in-memory tables', () => {
  it('sizes an update by the larger of the item before and after, and counts the index write', () => {
    // Prepare: one index projecting everything.
    const tables = new MemoryTables({
      ledger: { key: 'changeId', indexes: [{ keys: ['entity'], projection: 'ALL' }] },
    });
    const before = marshall({ changeId: 'EC2.2-1', entity: 'change', before: 'x'.repeat(1500) });

    // Act
    tables.answer('PutItem', { TableName: 'ledger', Item: before });
    tables.answer('UpdateItem', {
      TableName: 'ledger',
      Key: marshall({ changeId: 'EC2.2-1' }),
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':status': 'REMEDIATED' }),
    });
    const read = tables.answer('GetItem', {
      TableName: 'ledger',
      Key: marshall({ changeId: 'EC2.2-1' }),
      ConsistentRead: true,
    });

    // Assess: two KB each time, on the table and on its index.
    expect(tables.usage.get('ledger')).toEqual({
      commands: { PutItem: 1, UpdateItem: 1, GetItem: 1 },
      wru: 2 * 2 + 2 * 2,
      rru: 1,
      largestItem: itemSize({ ...before, ...marshall({ status: 'REMEDIATED' }) }),
    });
    expect(read).toEqual({ Item: { ...before, ...marshall({ status: 'REMEDIATED' }) } });
  });

  it('writes an index of keys only when an item enters or leaves it, not when other attributes change', () => {
    // Prepare: the ledger's shape, its time index holding keys only.
    const tables = new MemoryTables({
      ledger: {
        key: 'changeId',
        indexes: [{ keys: ['entity', 'createdAt'], projection: 'KEYS_ONLY' }],
      },
    });
    const key = marshall({ changeId: 'EC2.2-1' });
    const created = marshall({
      changeId: 'EC2.2-1',
      entity: 'change',
      createdAt: '2026-01-01T00:00:00.000Z',
      before: 'x'.repeat(1500),
    });

    // Act: written before the change, its result after, then gone.
    tables.answer('PutItem', { TableName: 'ledger', Item: created });
    const afterPut = tables.usage.get('ledger')?.wru;
    tables.answer('UpdateItem', {
      TableName: 'ledger',
      Key: key,
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':status': 'REMEDIATED' }),
    });
    const afterUpdate = tables.usage.get('ledger')?.wru;
    tables.answer('DeleteItem', { TableName: 'ledger', Key: key });

    // Assess: 2 KB on the table each time; the index's small entry only on the way in and out.
    expect([afterPut, afterUpdate, tables.usage.get('ledger')?.wru]).toEqual([
      2 + 1,
      2 + 1 + 2,
      2 + 1 + 2 + 2 + 1,
    ]);
  });

  it('prices an index write by what the index holds, and a moved index key as two writes', () => {
    const index = { keys: ['entity', 'createdAt'], projection: { include: ['status'] } } as const;
    const item = marshall({
      changeId: 'c',
      entity: 'change',
      createdAt: 'a',
      status: 'PENDING',
      before: 'x'.repeat(3000),
    });

    expect(indexEntry('changeId', index, item)).toEqual(
      marshall({ changeId: 'c', entity: 'change', createdAt: 'a', status: 'PENDING' }),
    );
    const withoutEntity = Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'entity'));
    expect(indexEntry('changeId', index, withoutEntity)).toBeUndefined();
    // Not in the index before or after: nothing.
    expect(indexWriteUnits('changeId', index, undefined, marshall({ changeId: 'c' }))).toBe(0);
    // A projected attribute changes: one small write, whatever the item's size.
    expect(
      indexWriteUnits('changeId', index, item, { ...item, ...marshall({ status: 'DONE' }) }),
    ).toBe(1);
    // An attribute the index does not hold changes: none.
    expect(
      indexWriteUnits('changeId', index, item, { ...item, ...marshall({ before: 'y' }) }),
    ).toBe(0);
    // Its sort key changes: out, then in.
    expect(
      indexWriteUnits('changeId', index, item, { ...item, ...marshall({ createdAt: 'b' }) }),
    ).toBe(2);
  });

  it('refuses an update it cannot apply, rather than size it wrongly', () => {
    expect(() => applyUpdate({}, 'REMOVE a')).toThrow(/cannot apply/);
    expect(() => applyUpdate({}, 'SET a = :a')).toThrow(/no value :a/);
  });
});
