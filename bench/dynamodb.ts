/**
 * DynamoDB as the bench needs it: item sizes by the rules DynamoDB bills by,
 * the capacity units each request consumes in on-demand mode, and small
 * in-memory tables that answer the pipeline's item requests, so updates,
 * deletes and reads are sized by the items the pipeline really wrote.
 *
 * Rules (Amazon DynamoDB Developer Guide, "DynamoDB item sizes and formats"
 * and "Read/write capacity mode"): a string is its UTF-8 bytes; a number
 * about 1 byte per two significant digits plus 1; binary its raw bytes; null
 * and boolean 1 byte; a list or map 3 bytes plus its elements plus 1 byte per
 * element; every attribute adds its name's UTF-8 bytes. A write consumes 1
 * write request unit (WRU) per KB (rounded up) of the larger of the item
 * before and after; a strongly consistent read 1 read request unit (RRU) per
 * 4 KB, an eventually consistent one half of that; a read that finds nothing
 * still consumes the minimum. A write to the table is also a write to a
 * global secondary index when it changes what the index holds of the item
 * (Developer Guide, "Using global secondary indexes", GSI.html#GSI.Writes): an
 * item entering or leaving the index, or a change to an attribute the index
 * projects; an index of keys only is not written by a change to other
 * attributes. A change to an index key is two index writes (out, then in).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '');
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(significant.length, 1) / 2) + 1;
}

/** Size of one attribute value, without its name. */
export function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + 1 + utf8(k) + valueSize(v), 0);
  }
  return 0;
}

/** Size of an item in bytes, as DynamoDB counts it for capacity. */
export function itemSize(item: Readonly<Record<string, AttributeValue>>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + utf8(name) + valueSize(value), 0);
}

export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

type Item = Record<string, AttributeValue>;

export interface TableUsage {
  readonly commands: Record<string, number>;
  wru: number;
  rru: number;
  /** Bytes of the largest item written. */
  largestItem: number;
}

export interface IndexShape {
  /** The index's partition key, and sort key if any: an item lacking one is not in the index. */
  readonly keys: readonly string[];
  /** ALL, KEYS_ONLY, or the non-key attributes of an INCLUDE projection. */
  readonly projection: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

export interface TableShape {
  readonly key: string;
  readonly indexes?: readonly IndexShape[];
}

/**
 * What an index holds of an item (undefined when the item is not in it):
 * the table's key, the index's keys, and the projected attributes.
 */
export function indexEntry(
  tableKey: string,
  index: IndexShape,
  item: Item | undefined,
): Item | undefined {
  if (!item || index.keys.some((k) => item[k] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = [
    tableKey,
    ...index.keys,
    ...(index.projection === 'KEYS_ONLY' ? [] : index.projection.include),
  ];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = item[name];
      return value === undefined ? [] : [[name, value] as const];
    }),
  );
}

/** Write request units one table write costs an index, from what it held of the item before and after. */
export function indexWriteUnits(
  tableKey: string,
  index: IndexShape,
  before: Item | undefined,
  after: Item | undefined,
): number {
  const was = indexEntry(tableKey, index, before);
  const is = indexEntry(tableKey, index, after);
  if (!was && !is) return 0;
  if (was && is && JSON.stringify(was) === JSON.stringify(is)) return 0;
  const keysMoved =
    was && is && index.keys.some((k) => JSON.stringify(was[k]) !== JSON.stringify(is[k]));
  if (keysMoved) return writeUnits(itemSize(was)) + writeUnits(itemSize(is));
  return writeUnits(Math.max(was ? itemSize(was) : 0, is ? itemSize(is) : 0));
}

/**
 * Applies SET clauses of an UpdateExpression (all the pipeline and
 * Powertools send): `SET a = :a, #b = :b`. Anything else is refused, so a
 * new kind of update cannot be sized wrongly in silence.
 */
export function applyUpdate(
  item: Item,
  expression: string,
  names: Readonly<Record<string, string>> = {},
  values: Readonly<Record<string, AttributeValue>> = {},
): Item {
  const match = /^\s*SET\s+(.+)$/i.exec(expression);
  if (!match?.[1]) throw new Error(`the bench cannot apply the update "${expression}"`);
  const next = { ...item };
  for (const clause of match[1].split(',')) {
    const [left, right] = clause.split('=').map((s) => s.trim());
    if (!left || !right) throw new Error(`the bench cannot apply "${clause}"`);
    const name = names[left] ?? left;
    const value = values[right];
    if (!value) throw new Error(`no value ${right} for the update "${expression}"`);
    next[name] = value;
  }
  return next;
}

/**
 * Tables in memory, keyed by table name. Conditions are not evaluated: every
 * write succeeds (the bench's findings are all new), as on a first delivery.
 */
export class MemoryTables {
  private readonly items = new Map<string, Map<string, Item>>();
  readonly usage = new Map<string, TableUsage>();

  constructor(private readonly shapes: Readonly<Record<string, TableShape>>) {}

  /** Starts a new finding: empty tables, nothing consumed yet. */
  reset(): void {
    this.usage.clear();
    this.items.clear();
  }

  answer(command: string, input: Readonly<Record<string, unknown>>): object {
    const table = String(input.TableName);
    const shape = this.shapes[table];
    if (!shape) throw new Error(`the bench knows no table ${table}`);
    const rows = this.items.get(table) ?? new Map<string, Item>();
    this.items.set(table, rows);
    const usage = this.usage.get(table) ?? { commands: {}, wru: 0, rru: 0, largestItem: 0 };
    this.usage.set(table, usage);
    usage.commands[command] = (usage.commands[command] ?? 0) + 1;
    const keyOf = (item: Item) => JSON.stringify(item[shape.key]);
    const wrote = (before: Item | undefined, after: Item | undefined) => {
      const bytes = Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0);
      usage.wru +=
        writeUnits(bytes) +
        (shape.indexes ?? []).reduce(
          (n, index) => n + indexWriteUnits(shape.key, index, before, after),
          0,
        );
      usage.largestItem = Math.max(usage.largestItem, bytes);
    };
    switch (command) {
      case 'PutItem': {
        const item = input.Item as Item;
        const before = rows.get(keyOf(item));
        rows.set(keyOf(item), item);
        wrote(before, item);
        return {};
      }
      case 'UpdateItem': {
        const key = input.Key as Item;
        const before = rows.get(keyOf(key));
        const after = applyUpdate(
          { ...key, ...before },
          String(input.UpdateExpression),
          input.ExpressionAttributeNames as Record<string, string> | undefined,
          input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
        );
        rows.set(keyOf(key), after);
        wrote(before, after);
        return {};
      }
      case 'DeleteItem': {
        const key = input.Key as Item;
        const before = rows.get(keyOf(key));
        rows.delete(keyOf(key));
        wrote(before, undefined);
        return {};
      }
      case 'GetItem': {
        const key = input.Key as Item;
        const found = rows.get(keyOf(key));
        usage.rru += readUnits(found ? itemSize(found) : 0, input.ConsistentRead === true);
        return found ? { Item: found } : {};
      }
      default:
        throw new Error(`the bench does not answer dynamodb:${command}`);
    }
  }
}
