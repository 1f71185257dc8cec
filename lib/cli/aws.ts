/** The CLI's real dependencies: the caller's credentials, the deployed stack, the controls. */
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AsyncInvoker } from '../../lambdas/core/adapters/lambda-invoke';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { SecurityHubFindingStore } from '../../lambdas/core/adapters/security-hub';
import { DynamoDbStateStore } from '../../lambdas/core/adapters/state';
import { awsClientOptions } from '../../lambdas/core/aws';
import { systemClock } from '../../lambdas/core/clock';
import type { Control } from '../../lambdas/core/control';
import { ConfigurationError, LedgerLocationError } from '../../lambdas/core/errors';
import { organizationScopeSchema } from '../../lambdas/core/organization';
import { parseJsonOrThrow, type Schema } from '../../lambdas/core/schema';
import { reconcilerSettingsSchema } from '../../lambdas/reconciler/env';
import { controlHandoff } from '../../lambdas/reconciler/handoff';
import { SecurityHubSweepSource } from '../../lambdas/reconciler/source';
import { controlFolder, findControl } from '../controls';
import {
  LEDGER_TABLE_OUTPUT,
  ORGANIZATION_SCOPE_OUTPUT,
  RECONCILER_SETTINGS_OUTPUT,
  STATE_TABLE_OUTPUT,
} from '../stack-outputs';
import type { Caller, CliDeps, CliSweeper } from './command';
import { LambdaFunctionInvoker } from './invoke';
import { sharedConfigRegion } from './region';

/** The control module for a registered id, loaded only when a rollback needs it. */
export async function loadControl(
  controlId: string,
): Promise<Control<unknown, unknown, unknown, object> | undefined> {
  if (!findControl(controlId)) return undefined;
  const module: Record<string, unknown> = await import(
    `../../lambdas/controls/${controlFolder(controlId)}/remediate.ts`
  );
  return Object.values(module).find(
    (value): value is Control<unknown, unknown, unknown, object> =>
      typeof value === 'object' &&
      value !== null &&
      'id' in value &&
      value.id === controlId &&
      'rollback' in value,
  );
}

/** The stack's outputs by key; undefined when the region has no stack of that name. */
export async function stackOutputs(
  cloudFormation: CloudFormationClient,
  stack: string,
): Promise<Record<string, string> | undefined> {
  let response: DescribeStacksCommandOutput;
  try {
    response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
  } catch (error) {
    // CloudFormation answers a ValidationError: "Stack with id <name> does not exist".
    if (error instanceof Error && /does not exist/.test(error.message)) return undefined;
    throw error;
  }
  const outputs: Record<string, string> = {};
  for (const output of response.Stacks?.[0]?.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

/**
 * The stack's outputs by key, for a command that cannot go on without the
 * stack; says which stack is missing and how to name another.
 */
async function requiredStackOutputs(
  cloudFormation: CloudFormationClient,
  stack: string,
  region: string,
  how: string,
): Promise<Record<string, string>> {
  const outputs = await stackOutputs(cloudFormation, stack);
  if (outputs === undefined) {
    throw new LedgerLocationError(
      `no stack ${stack} in ${region}: deploy hubfix there (npx cdk deploy), choose the region with --region, or ${how}`,
    );
  }
  return outputs;
}

/** The ledger table named by the stack's output; says which stack and how to name another. */
export async function ledgerTableOfStack(
  cloudFormation: CloudFormationClient,
  stack: string,
  region: string,
): Promise<string> {
  const how = 'name the stack with --stack <name> or the table with --table <name>';
  const table = (await requiredStackOutputs(cloudFormation, stack, region, how))[
    LEDGER_TABLE_OUTPUT
  ];
  if (!table) {
    throw new LedgerLocationError(
      `stack ${stack} in ${region} has no ${LEDGER_TABLE_OUTPUT} output, so it is not a hubfix stack: ${how}`,
    );
  }
  return table;
}

/**
 * A synchronous invoke waits while the function runs, up to its timeout
 * (at most 15 minutes): the socket must not be given up sooner.
 */
export function lambdaOptions(region: string) {
  return { ...awsClientOptions(region), requestHandler: { socketTimeout: 16 * 60_000 } };
}

/** What `backfill` sweeps with, from the stack's outputs and the caller's credentials. */
export async function sweeperOfStack(
  stack: string,
  region: string,
  caller: Caller,
): Promise<CliSweeper> {
  const sdk = awsClientOptions(region);
  const how = 'name the stack with --stack <name>';
  const outputs = await requiredStackOutputs(new CloudFormationClient(sdk), stack, region, how);
  const json = outputs[RECONCILER_SETTINGS_OUTPUT];
  const tableName = outputs[STATE_TABLE_OUTPUT];
  if (!json || !tableName) {
    throw new LedgerLocationError(
      `stack ${stack} in ${region} has no ${RECONCILER_SETTINGS_OUTPUT} or ${STATE_TABLE_OUTPUT} output: deploy this version of hubfix there (npx cdk deploy), or ${how}`,
    );
  }
  const read = <T>(output: string, text: string, schema: Schema<T>): T =>
    parseJsonOrThrow(
      schema,
      text,
      (issues) => new ConfigurationError(`the ${output} output of ${stack}`, issues),
      output,
    );
  const settings = read(RECONCILER_SETTINGS_OUTPUT, json, reconcilerSettingsSchema);
  // Only an org mode stack has it; without it, backfill sweeps the caller's account and region.
  const scope = outputs[ORGANIZATION_SCOPE_OUTPUT];
  const organization =
    scope === undefined
      ? undefined
      : read(ORGANIZATION_SCOPE_OUTPUT, scope, organizationScopeSchema);
  const partition = caller.arn.split(':')[1] ?? 'aws';
  let lambda: AsyncInvoker | undefined;
  return {
    settings,
    partition,
    organization,
    source: new SecurityHubSweepSource(new SecurityHubClient(sdk), partition),
    history: new DynamoDbStateStore(new DynamoDBClient(sdk), { tableName, historyDays: 0 }),
    handoff: controlHandoff(settings.controls, async () => {
      lambda ??= (await import('../../lambdas/core/adapters/lambda-invoke')).lambdaInvoker(sdk);
      return lambda;
    }),
  };
}

export function realDeps(): CliDeps {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    profileRegion: () => sharedConfigRegion(process.env),
    ledger: (table, region) =>
      new DynamoDbLedgerAdmin(new DynamoDBClient(awsClientOptions(region)), table),
    tableOfStack: (stack, region) =>
      ledgerTableOfStack(new CloudFormationClient(awsClientOptions(region)), stack, region),
    async caller(region) {
      const identity = await new STSClient(awsClientOptions(region)).send(
        new GetCallerIdentityCommand({}),
      );
      if (!identity.Arn || !identity.Account) {
        throw new Error('AWS STS did not say who you are (GetCallerIdentity)');
      }
      return { arn: identity.Arn, account: identity.Account };
    },
    loadControl,
    clientsFor: (control, region, credentials) =>
      control.createClients({
        ...awsClientOptions(region),
        ...(credentials ? { credentials } : {}),
      }),
    async assumeRole(roleArn, region) {
      const { Credentials: c } = await new STSClient(awsClientOptions(region)).send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'hubfix-rollback' }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error(`AWS STS answered AssumeRole of ${roleArn} without credentials`);
      }
      const credentials = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      // One rollback fits well within the session's hour.
      return async () => credentials;
    },
    async ask(question) {
      if (!process.stdin.isTTY) return undefined;
      const terminal = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await terminal.question(question);
      } finally {
        terminal.close();
      }
    },
    writeFile: (path, content) => writeFile(path, content, 'utf8'),
    now: () => new Date(),
    stackOutputs: (stack, region) =>
      stackOutputs(new CloudFormationClient(awsClientOptions(region)), stack),
    findings: (region) =>
      new SecurityHubFindingStore(new SecurityHubClient(awsClientOptions(region))),
    functions: (region) => new LambdaFunctionInvoker(new LambdaClient(lambdaOptions(region))),
    newRequestId: () => crypto.randomUUID(),
    clock: systemClock,
    sweeper: sweeperOfStack,
    progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[2K${line}`) : undefined,
  };
}
