/**
 * Stand-ins for what the reconciler and `hubfix backfill` talk to: failed
 * findings as Security Hub returns them, the state table (finding history
 * and step claims) with DynamoDB's conditional writes, and Lambda's
 * asynchronous invoke.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AsyncInvoker } from '../../lambdas/core/adapters/lambda-invoke';
import type { HistoryEntry } from '../../lambdas/core/ports';
import { strictMock } from './aws';
import { ACCOUNT, EC2_2_FINDING, type Json, REGION, withChanges } from './fixtures';

export const STATE_TABLE = 'hubfix-state';
export const RECONCILER_FUNCTION = 'Hubfix-Reconciler';
export const CONTROL_FUNCTIONS = { 'EC2.2': 'Hubfix-Ec22', 'EC2.9': 'Hubfix-Ec29' } as const;
export const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`;

export function reconcilerEnv(changes: Record<string, string | undefined> = {}) {
  return {
    HUBFIX_RECONCILER: JSON.stringify({ controls: CONTROL_FUNCTIONS, graceHours: 24 }),
    HUBFIX_PARTITION: 'aws',
    HUBFIX_TOPIC_ARN: TOPIC,
    HUBFIX_ACCOUNT_ID: ACCOUNT,
    HUBFIX_STATE_TABLE: STATE_TABLE,
    AWS_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: RECONCILER_FUNCTION,
    ...changes,
  };
}

/** A failed, active EC2.2 finding; `consolidated` adds Compliance.SecurityControlId. */
export function failedFinding(
  n: number,
  options: { consolidated?: boolean; changes?: Record<string, unknown> } = {},
): Json {
  return withChanges(EC2_2_FINDING, {
    Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.2/finding/${String(n).padStart(8, '0')}`,
    'Resources.0.Id': `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-${String(n).padStart(8, '0')}`,
    ...(options.consolidated
      ? { 'Compliance.SecurityControlId': 'EC2.2', GeneratorId: 'security-control/EC2.2' }
      : {}),
    ...options.changes,
  });
}

/** What hubfix last did with a finding, `hoursAgo` before `now`. */
export function historyEntry(
  lastOutcome: HistoryEntry['lastOutcome'],
  at: Date,
  workflowSet?: HistoryEntry['workflowSet'],
): HistoryEntry {
  const fixed = lastOutcome === 'REMEDIATED';
  return {
    lastOutcome,
    lastReason: 'the resource is allow-listed and the control is in remediate mode',
    lastAt: at.toISOString(),
    lastChangeId: fixed ? 'EC2.2-earlier' : undefined,
    fixes: fixed ? 1 : 0,
    lastFixAt: fixed ? at.toISOString() : undefined,
    lastFixChangeId: fixed ? 'EC2.2-earlier' : undefined,
    continuing: false,
    workflowSet,
  };
}

type Item = Record<string, unknown>;

/**
 * The state table as the real adapter uses it: GetItem (consistent reads),
 * PutItem with `attribute_not_exists(#key) OR #ttl < :now`, DeleteItem with
 * `holder = :holder`. Anything else is an unexpected call.
 */
export function stateTable() {
  const client = new DynamoDBClient({ region: REGION });
  const stub = strictMock(client);
  const items = new Map<string, Item>();
  const reads: string[] = [];
  const check = (table: string | undefined) => {
    if (table !== STATE_TABLE) throw new Error(`unexpected table ${table}`);
  };
  stub.on(GetItemCommand).callsFake(async (input: GetItemCommandInput) => {
    check(input.TableName);
    if (input.ConsistentRead !== true) throw new Error('history is read consistently');
    const key = String(unmarshall(input.Key ?? {}).pk);
    reads.push(key);
    const item = items.get(key);
    return { Item: item ? marshall(item, { removeUndefinedValues: true }) : undefined };
  });
  stub.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    check(input.TableName);
    const item = unmarshall(input.Item ?? {});
    const existing = items.get(String(item.pk));
    if (input.ConditionExpression !== undefined) {
      if (input.ConditionExpression !== 'attribute_not_exists(#key) OR #ttl < :now') {
        throw new Error(`unexpected condition ${input.ConditionExpression}`);
      }
      const now = Number(unmarshall(input.ExpressionAttributeValues ?? {})[':now']);
      if (existing && Number(existing.expiresAt) >= now) {
        throw new ConditionalCheckFailedException({ message: 'claimed', $metadata: {} });
      }
    }
    items.set(String(item.pk), item);
    return {};
  });
  stub.on(DeleteItemCommand).callsFake(async (input: DeleteItemCommandInput) => {
    check(input.TableName);
    const key = String(unmarshall(input.Key ?? {}).pk);
    const holder = unmarshall(input.ExpressionAttributeValues ?? {})[':holder'];
    if (items.get(key)?.holder !== holder) {
      throw new ConditionalCheckFailedException({ message: 'not yours', $metadata: {} });
    }
    items.delete(key);
    return {};
  });
  return {
    client,
    items,
    /** The history keys read, in order. */
    reads,
    remember(controlId: string, findingId: string, entry: HistoryEntry) {
      items.set(`${controlId}#finding#${findingId}`, {
        pk: `${controlId}#finding#${findingId}`,
        kind: 'finding',
        ...entry,
      });
    },
  };
}

export interface Invocation {
  readonly functionName: string;
  readonly payload: Json;
}

/** Lambda's asynchronous invoke: records what was sent and answers 202, or fails for some names. */
export function fakeLambda(fail: (functionName: string) => Error | undefined = () => undefined) {
  const invocations: Invocation[] = [];
  const invoker: AsyncInvoker = {
    async invokeAsync(functionName, payload) {
      const error = fail(functionName);
      if (error) throw error;
      invocations.push({
        functionName,
        payload: JSON.parse(new TextDecoder().decode(payload)) as Json,
      });
      return 202;
    },
  };
  return { connect: async () => invoker, invocations };
}
