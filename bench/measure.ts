/**
 * `measure <control-id> <out.json> [iterations]`: runs one control's real
 * handler (middy, Powertools, pipeline, idempotency, ledger) with canned SDK
 * answers, and writes the API calls each outcome makes and the CPU time per
 * finding. Run in a child process so its logs and metrics (printed as in
 * production) stay out of the bench's report.
 */
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { awsClientOptions } from '../lambdas/core/aws';
import { createControlHandler } from '../lambdas/core/handler';
import { loadControl } from '../lib/cli/aws';
import { controlFolder } from '../lib/controls';
import { type Answers, CallLog, canned } from './canned';
import type { Scenario } from './scenario';

export interface OutcomeCalls {
  readonly outcome: string;
  /** Calls to the control's own services, e.g. ec2:DescribeSecurityGroups. */
  readonly resource: readonly string[];
  readonly findingUpdates: number;
  readonly publishes: number;
  /** Idempotency and ledger calls (DynamoDB). */
  readonly bookkeeping: readonly string[];
}

export interface Measurement {
  readonly controlId: string;
  readonly calls: {
    readonly remediate: OutcomeCalls;
    readonly notify: OutcomeCalls;
    /** Absent where the control's findings cannot be suppressed by tag. */
    readonly suppress?: OutcomeCalls;
  };
  readonly cpu: { readonly iterations: number; readonly medianMs: number; readonly p95Ms: number };
}

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const CORE_ANSWERS: Readonly<Record<string, Answers>> = {
  securityhub: { BatchUpdateFindings: { ProcessedFindings: [], UnprocessedFindings: [] } },
  sns: { Publish: { MessageId: 'bench' } },
  dynamodb: { PutItem: {}, UpdateItem: {}, GetItem: {}, DeleteItem: {} },
};
const CONTEXT = {
  functionName: 'hubfix-bench',
  awsRequestId: 'bench',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hubfix-bench`,
  getRemainingTimeInMillis: () => 300_000,
} as Context;

type Variant = 'remediate' | 'notify' | 'suppress';

async function main(): Promise<void> {
  const [controlId, outFile, iterationsArg] = process.argv.slice(2);
  if (!controlId || !outFile)
    throw new Error('usage: measure <control-id> <out.json> [iterations]');
  const iterations = Number(iterationsArg ?? 1000);
  const { scenario } = (await import(`./scenarios/${controlFolder(controlId)}.ts`)) as {
    scenario: Scenario;
  };
  const control = await loadControl(controlId);
  if (!control) throw new Error(`no control ${controlId}`);
  const loaded = control;
  const defaults = control.params.parse({}, 'params');
  const params = scenario.params ?? (defaults.ok ? defaults.value : undefined);

  const log = new CallLog();
  function handlerFor(variant: Variant) {
    const tags: Record<string, string> =
      variant === 'suppress' ? { 'hubfix:suppress': 'bench: accepted risk' } : {};
    const answers = { ...scenario.answers(tags), ...CORE_ANSWERS };
    const options = awsClientOptions(REGION);
    const clients = loaded.createClients(options);
    for (const [name, client] of Object.entries(clients)) {
      const own = answers[name];
      if (!own)
        throw new Error(`scenario for ${controlId} has no answers for its "${name}" client`);
      canned(client, name, own, log);
    }
    const core = (name: string) => {
      const own = answers[name];
      if (!own) throw new Error(`no core answers for ${name}`);
      return own;
    };
    return createControlHandler(loaded, {
      env: {
        HUBFIX_SETTINGS: JSON.stringify({
          controlId,
          mode: variant === 'notify' ? 'notify' : 'remediate',
          dryRun: false,
          notifyOnly: loaded.notifyOnly,
          tags: {
            optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
            suppress: { key: 'hubfix:suppress' },
          },
          allowList: [],
          params,
        }),
        HUBFIX_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`,
        HUBFIX_REMEDIATE_ACTION_ARN: `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixRemediate`,
        HUBFIX_PLAN_ACTION_ARN: `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixPlan`,
        HUBFIX_ACCOUNT_ID: ACCOUNT,
        HUBFIX_PROVISIONED: JSON.stringify(scenario.provisioned ?? {}),
        HUBFIX_LEDGER_TABLE: 'hubfix-ledger',
        HUBFIX_LEDGER_RETENTION_DAYS: '365',
        HUBFIX_IDEMPOTENCY_TABLE: 'hubfix-idempotency',
        AWS_REGION: REGION,
      },
      clients,
      securityHub: canned(new SecurityHubClient(options), 'securityhub', core('securityhub'), log),
      sns: canned(new SNSClient(options), 'sns', core('sns'), log),
      dynamodb: canned(new DynamoDBClient(options), 'dynamodb', core('dynamodb'), log),
      ...(scenario.clock ? { clock: scenario.clock } : {}),
    });
  }

  let serial = 0;
  const event = () => {
    serial += 1;
    // A new UpdatedAt each time: every finding is new to the idempotency store.
    const finding: Record<string, unknown> = {
      ...scenario.finding,
      UpdatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, serial)).toISOString(),
    };
    return {
      version: '0',
      id: `bench-${serial}`,
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      account: ACCOUNT,
      region: REGION,
      time: '2026-01-01T00:00:00Z',
      resources: [String(finding.Id)],
      detail: { findings: [finding] },
    };
  };

  async function callsOf(variant: Variant, expected: string): Promise<OutcomeCalls> {
    const handler = handlerFor(variant);
    log.reset();
    const result = await handler(event(), CONTEXT);
    const outcome = result.findings[0]?.outcome ?? 'none';
    if (outcome !== expected) {
      throw new Error(
        `${controlId} ${variant}: expected ${expected}, got ${outcome}; the scenario's answers are wrong`,
      );
    }
    const core = new Set(['securityhub', 'sns', 'dynamodb']);
    return {
      outcome,
      resource: log.calls.filter((c) => !core.has(c.split(':')[0] ?? '')),
      findingUpdates: log.calls.filter((c) => c === 'securityhub:BatchUpdateFindings').length,
      publishes: log.calls.filter((c) => c === 'sns:Publish').length,
      bookkeeping: log.calls.filter((c) => c.startsWith('dynamodb:')),
    };
  }

  const calls = {
    remediate: await callsOf('remediate', control.notifyOnly ? 'NOTIFIED' : 'REMEDIATED'),
    notify: await callsOf('notify', 'NOTIFIED'),
    ...(scenario.minimum.suppress ? { suppress: await callsOf('suppress', 'SUPPRESSED') } : {}),
  };

  const handler = handlerFor('remediate');
  const samples: number[] = [];
  for (let i = 0; i < iterations + 50; i += 1) {
    log.reset();
    const before = process.cpuUsage();
    await handler(event(), CONTEXT);
    const used = process.cpuUsage(before);
    // The first 50 let the JIT settle, as a warm Lambda would be.
    if (i >= 50) samples.push((used.user + used.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN;
  const measurement: Measurement = {
    controlId,
    calls,
    cpu: { iterations, medianMs: at(0.5), p95Ms: at(0.95) },
  };
  writeFileSync(outFile, JSON.stringify(measurement, null, 2));
}

await main();
