/**
 * The integration tier's plumbing: real SDK clients pointed at moto, the
 * stack's own DynamoDB tables created in moto from the synthesized template,
 * and the pipeline assembled with the real adapters.
 *
 * Clients talk to a small gateway in front of moto that answers the two calls
 * moto does not emulate, and passes everything else through:
 * - Security Hub BatchUpdateFindings: accepted and recorded, so tests can
 *   check what the real adapter sent.
 * - EC2 DescribeSecurityGroupReferences: "no references" (moto has no VPC
 *   peering references to report anyway).
 */
import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
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
import { LAMBDA_CONTEXT } from '../support/handler';
import { resourcesOf, synthesize } from '../support/stack';

const motoEndpoint = inject('motoEndpoint');
const motoMissing = inject('motoMissing');
export const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** A suite title that says why the suite was skipped, when it was. */
export function againstMoto(subject: string): string {
  return motoEndpoint ? `${subject} against moto` : `${subject} (skipped: ${motoMissing})`;
}
export const motoAvailable = motoEndpoint !== '';

/** BatchUpdateFindings requests the gateway accepted, newest last. */
export const findingUpdates: {
  FindingIdentifiers?: unknown[];
  Workflow?: { Status?: string };
  Note?: { Text?: string };
}[] = [];

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

let gateway: Promise<{ server: Server; endpoint: string }> | undefined;

/** The gateway's endpoint, started on first use on 127.0.0.1 at a free port. */
export async function endpoint(): Promise<string> {
  gateway ??= new Promise((resolve, reject) => {
    const target = new URL(motoEndpoint);
    const server = createServer(async (request, response) => {
      const payload = await body(request);
      const text = payload.toString('utf8');
      if (request.url === '/findings/batchupdate') {
        const input = JSON.parse(text) as { FindingIdentifiers: unknown[] };
        findingUpdates.push(input);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] }),
        );
        return;
      }
      if (text.includes('Action=DescribeSecurityGroupReferences')) {
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(
          '<DescribeSecurityGroupReferencesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>gateway</requestId><securityGroupReferenceSet/></DescribeSecurityGroupReferencesResponse>',
        );
        return;
      }
      const upstream = forward(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', (error) => {
        response.writeHead(502);
        response.end(String(error));
      });
      upstream.end(payload);
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('gateway has no port'));
      resolve({ server, endpoint: `http://127.0.0.1:${address.port}` });
    });
  });
  return (await gateway).endpoint;
}

/** What every client needs to talk to moto, on top of hubfix's own options. */
export async function motoOptions() {
  return { ...awsClientOptions(REGION), endpoint: await endpoint(), credentials };
}

export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
  findingUpdates.length = 0;
}

interface TemplateTable {
  KeySchema: CreateTableCommandInput['KeySchema'];
  AttributeDefinitions: CreateTableCommandInput['AttributeDefinitions'];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: CreateTableCommandInput['KeySchema'] }[];
}

/** Creates the stack's tables in moto, exactly as the template defines them. */
export async function createStackTables(
  dynamodb: DynamoDBClient,
): Promise<{ ledger: string; idempotency: string }> {
  const tables = Object.entries(resourcesOf(synthesize().template)).filter(
    ([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable',
  );
  const names: Record<string, string> = {};
  for (const [logicalId, resource] of tables) {
    const table = resource.Properties as unknown as TemplateTable;
    const name = `${logicalId}-${Date.now()}`;
    await dynamodb.send(
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
    names[logicalId.startsWith('Ledger') ? 'ledger' : 'idempotency'] = name;
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
    newChangeId: () => `change-${++changes}`,
  });
  return { pipeline, ledger: new DynamoDbLedgerAdmin(dynamodb, tables.ledger), dynamodb, tables };
}
