/**
 * A stateful stand-in for the ledger table, answering the item calls the CLI's
 * ledger adapter makes (GetItem, and UpdateItem to claim an entry and record
 * attempts) as DynamoDB does: inputs must be marshalled AttributeValues, every
 * placeholder must be defined and every defined one used (DynamoDB rejects
 * both with a ValidationException), conditions are evaluated, and a failed
 * condition throws ConditionalCheckFailedException. Any other call rejects.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { strictMock } from './aws';

type Item = Record<string, AttributeValue>;

const TYPES = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];

function validationError(message: string): Error {
  return new DynamoDBServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

function assertAttributeValue(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null) {
    throw validationError(`${path} is not an AttributeValue`);
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || !TYPES.includes(keys[0] ?? '')) {
    throw validationError(`${path} must have exactly one type key, has ${keys.join(', ')}`);
  }
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.L)) {
    for (const [i, inner] of record.L.entries()) assertAttributeValue(inner, `${path}[${i}]`);
  }
  if (record.M && typeof record.M === 'object') {
    for (const [key, inner] of Object.entries(record.M)) {
      assertAttributeValue(inner, `${path}.${key}`);
    }
  }
}

function checkPlaceholders(
  expressions: readonly (string | undefined)[],
  names: Record<string, string> | undefined,
  values: Item | undefined,
): void {
  const text = expressions.filter((e) => e !== undefined).join(' ');
  const usedValues = new Set(text.match(/:[A-Za-z0-9_]+/g) ?? []);
  const usedNames = new Set(text.match(/#[A-Za-z0-9_]+/g) ?? []);
  for (const key of Object.keys(values ?? {})) {
    if (!usedValues.has(key)) {
      throw validationError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${key}}`,
      );
    }
    assertAttributeValue(values?.[key], key);
  }
  for (const key of usedValues) {
    if (!values || !(key in values)) {
      throw validationError(
        `An expression attribute value used in expression is not defined; attribute value: ${key}`,
      );
    }
  }
  for (const key of Object.keys(names ?? {})) {
    if (!usedNames.has(key)) {
      throw validationError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${key}}`,
      );
    }
  }
  for (const key of usedNames) {
    if (!names || !(key in names)) {
      throw validationError(
        `An expression attribute name used in the document path is not defined; attribute name: ${key}`,
      );
    }
  }
}

const APPEND = 'rollbacks = list_append(if_not_exists(rollbacks, :empty), :attempt)';

export function ledgerTable(tableName: string, initial: readonly Record<string, unknown>[]) {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const stub = strictMock(client);
  const items = new Map<string, Item>(
    initial.map((item) => [String(item.changeId), marshall(item, { removeUndefinedValues: true })]),
  );
  const keyOf = (key: Item) => key.changeId?.S ?? '';

  stub.on(GetItemCommand).callsFake(async (input: { TableName: string; Key: Item }) => {
    if (input.TableName !== tableName) throw validationError(`no table ${input.TableName}`);
    return { Item: items.get(keyOf(input.Key)) };
  });

  stub
    .on(UpdateItemCommand)
    .callsFake(
      async (input: {
        TableName: string;
        Key: Item;
        UpdateExpression: string;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      }) => {
        if (input.TableName !== tableName) throw validationError(`no table ${input.TableName}`);
        checkPlaceholders(
          [input.UpdateExpression, input.ConditionExpression],
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        );
        const id = keyOf(input.Key);
        const stored = items.get(id);
        const values = unmarshall(input.ExpressionAttributeValues ?? {});
        const current = stored ? unmarshall(stored) : undefined;
        const fail = () => {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        };
        if (input.ConditionExpression === 'attribute_exists(changeId)') {
          if (!current) fail();
        } else if (input.ConditionExpression?.startsWith('#status IN (')) {
          const allowed = Object.entries(values)
            .filter(([key]) => key.startsWith(':from'))
            .map(([, value]) => value);
          if (!current || !allowed.includes(current.status)) fail();
        } else {
          throw validationError(`the stand-in does not evaluate ${input.ConditionExpression}`);
        }
        const next = { ...(current ?? {}) };
        const append = () => {
          const previous = Array.isArray(next.rollbacks) ? next.rollbacks : values[':empty'];
          next.rollbacks = [...previous, ...values[':attempt']];
        };
        switch (input.UpdateExpression) {
          case 'SET #status = :rolling':
            next.status = values[':rolling'];
            break;
          case `SET #status = :status, ${APPEND}`:
            next.status = values[':status'];
            append();
            break;
          case `SET ${APPEND}`:
            append();
            break;
          default:
            throw validationError(`the stand-in does not evaluate ${input.UpdateExpression}`);
        }
        items.set(id, marshall(next, { removeUndefinedValues: true }));
        return {};
      },
    );

  return {
    client,
    stub,
    /** The stored entry, unmarshalled. */
    item: (changeId: string) => {
      const stored = items.get(changeId);
      return stored ? unmarshall(stored) : undefined;
    },
  };
}
