/**
 * The integration tier's plumbing: real SDK clients pointed at moto through
 * the gateway (gateway.ts: Security Hub and the EC2 call moto lacks), the
 * stack's own DynamoDB tables created in moto from the synthesized template,
 * and the pipeline assembled from the TypeScript sources with the real
 * adapters (`motoPipeline`), for tests of TypeScript-level pieces. Tests of
 * what ships use deployed.ts instead.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { inject } from 'vitest';
import { DynamoDbOnceGuard } from '../../lambdas/core/adapters/idempotency';
import { DynamoDbLedger } from '../../lambdas/core/adapters/ledger';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { SecurityHubFindingStore } from '../../lambdas/core/adapters/security-hub';
import { SnsNotifier } from '../../lambdas/core/adapters/sns';
import { awsClientOptions } from '../../lambdas/core/aws';
import type { Control, Log } from '../../lambdas/core/control';
import { createPipeline } from '../../lambdas/core/pipeline';
import type { RuntimeSettings } from '../../lambdas/core/settings';
import { ACTIONS, REGION, SELF } from '../support/fixtures';

/** The account and region a rollback runs in against moto: the findings'. */
export const MOTO_SCOPE = { account: SELF.account, region: REGION };

import { LAMBDA_CONTEXT } from '../support/handler';
import { synthesizedStack, type TemplateResource } from './assembly';
import { gatewayEndpoint, resetGateway } from './gateway';

export { findingUpdates, registerFindings } from './gateway';

const motoEndpoint = inject('motoEndpoint');
const motoMissing = inject('motoMissing');
export const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** A suite title that says why the suite was skipped, when it was. */
export function againstMoto(subject: string): string {
  return motoEndpoint ? `${subject} against moto` : `${subject} (skipped: ${motoMissing})`;
}
export const motoAvailable = motoEndpoint !== '';

/** The gateway's endpoint, started on first use on 127.0.0.1 at a free port. */
export function endpoint(): Promise<string> {
  return gatewayEndpoint(motoEndpoint);
}

/** What every client needs to talk to moto, on top of hubfix's own options. */
export async function motoOptions() {
  return { ...awsClientOptions(REGION), endpoint: await endpoint(), credentials };
}

export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
  resetGateway();
}

/** What a resource created in moto answers to Ref and Fn::GetAtt. */
export interface Created {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

interface TemplateTable {
  KeySchema: CreateTableCommandInput['KeySchema'];
  AttributeDefinitions: CreateTableCommandInput['AttributeDefinitions'];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: CreateTableCommandInput['KeySchema'] }[];
}

/** Creates a template table in moto with its key schema and indexes. */
export async function createTemplateTable(
  dynamodb: DynamoDBClient,
  logicalId: string,
  resource: TemplateResource,
): Promise<Created> {
  const table = resource.Properties as unknown as TemplateTable;
  const name = `${logicalId}-${randomUUID().slice(0, 8)}`;
  const created = await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: table.KeySchema,
      AttributeDefinitions: table.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes?.map((index) => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema,
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  const tableArn =
    created.TableDescription?.TableArn ?? `arn:aws:dynamodb:${REGION}:111111111111:table/${name}`;
  return { ref: name, attributes: { Arn: tableArn } };
}

/** Creates the stack's tables in moto, exactly as the synthesized template defines them. */
export async function createStackTables(
  dynamodb: DynamoDBClient,
): Promise<{ ledger: string; idempotency: string }> {
  const names: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(synthesizedStack().resources)) {
    if (resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    const role = logicalId.startsWith('Ledger')
      ? 'ledger'
      : logicalId.startsWith('Idempotency')
        ? 'idempotency'
        : undefined;
    if (role) names[role] = (await createTemplateTable(dynamodb, logicalId, resource)).ref;
  }
  if (!names.ledger || !names.idempotency)
    throw new Error('the stack no longer defines both tables');
  return { ledger: names.ledger, idempotency: names.idempotency };
}

export const quietLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The pipeline with real adapters against moto: ledger and idempotency in
 * DynamoDB, notifications on an SNS topic, the control's own clients.
 */
export async function motoPipeline<State, Before, Params, Clients>(
  control: Control<State, Before, Params, Clients>,
  clients: Clients,
  settings: Partial<RuntimeSettings<Params>> & { params: Params },
) {
  const options = await motoOptions();
  const dynamodb = new DynamoDBClient(options);
  const sns = new SNSClient(options);
  const tables = await createStackTables(dynamodb);
  const topic = await sns.send(new CreateTopicCommand({ Name: `hubfix-${Date.now()}` }));
  if (!topic.TopicArn) throw new Error('moto created no topic');
  const ledger = new DynamoDbLedger(dynamodb, { tableName: tables.ledger, retentionDays: 30 });
  let changes = 0;
  const guard = new DynamoDbOnceGuard(dynamodb, { tableName: tables.idempotency });
  guard.registerLambdaContext(LAMBDA_CONTEXT);
  const pipeline = createPipeline({
    control,
    settings: {
      controlId: control.id,
      mode: 'remediate',
      dryRun: false,
      notifyOnly: control.notifyOnly,
      tags: {
        optOut: { key: 'hubfix:auto-remediate', values: ['false'] },
        suppress: { key: 'hubfix:suppress' },
      },
      allowList: [],
      overrideAllowList: false,
      maxDriftFixes: 1,
      ...settings,
    },
    clients,
    self: SELF,
    actions: ACTIONS,
    findings: new SecurityHubFindingStore(new SecurityHubClient(options)),
    notifier: new SnsNotifier(sns, topic.TopicArn),
    recorder: ledger,
    guard,
    log: quietLog,
    metrics: { count() {}, timing() {} },
    // Led by the control id, as real change ids are: rollback refuses any other.
    newChangeId: () => `${control.id}-change-${++changes}`,
  });
  return { pipeline, ledger: new DynamoDbLedgerAdmin(dynamodb, tables.ledger), dynamodb, tables };
}
