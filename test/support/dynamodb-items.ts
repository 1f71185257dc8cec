/**
 * A stateful stand-in for the four DynamoDB item calls Powertools
 * idempotency makes (PutItem with a conditional write, GetItem, UpdateItem
 * SET, DeleteItem), so the real persistence layer can be exercised in unit
 * tests. Conditions are simplified to "the key exists and has not expired";
 * the integration tier runs the same code against moto's DynamoDB.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { strictMock } from './aws';

type Item = Record<string, AttributeValue>;

export function itemTable(keyName = 'id') {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const stub = strictMock(client);
  const items = new Map<string, Item>();
  const keyOf = (key: Item | undefined) => key?.[keyName]?.S ?? '';

  stub.on(PutItemCommand).callsFake(async (input: { Item: Item }) => {
    const id = keyOf(input.Item);
    const existing = items.get(id);
    const expiry = Number(existing?.expiration?.N ?? 0);
    if (existing && expiry * 1000 > Date.now()) {
      throw new ConditionalCheckFailedException({
        message: 'exists',
        $metadata: {},
        Item: existing,
      });
    }
    items.set(id, input.Item);
    return {};
  });
  stub
    .on(GetItemCommand)
    .callsFake(async (input: { Key: Item }) => ({ Item: items.get(keyOf(input.Key)) }));
  stub.on(DeleteItemCommand).callsFake(async (input: { Key: Item }) => {
    items.delete(keyOf(input.Key));
    return {};
  });
  stub
    .on(UpdateItemCommand)
    .callsFake(
      async (input: {
        Key: Item;
        UpdateExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues: Item;
      }) => {
        const id = keyOf(input.Key);
        const item: Item = { ...(items.get(id) ?? input.Key) };
        for (const assignment of input.UpdateExpression.replace(/^SET /, '').split(',')) {
          const [name, value] = assignment.split('=').map((part) => part.trim());
          const attribute = name ? input.ExpressionAttributeNames[name] : undefined;
          const attributeValue = value ? input.ExpressionAttributeValues[value] : undefined;
          if (attribute && attributeValue) item[attribute] = attributeValue;
        }
        items.set(id, item);
        return {};
      },
    );
  return { client, stub, items };
}
