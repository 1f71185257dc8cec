/** The CLI's real dependencies: the caller's credentials, the deployed stack, the controls. */
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { awsClientOptions } from '../../lambdas/core/aws';
import type { Control } from '../../lambdas/core/control';
import { LedgerLocationError } from '../../lambdas/core/errors';
import { controlFolder, findControl } from '../controls';
import type { CliDeps } from './command';
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

/** The ledger table named by the stack's output; says which stack and how to name another. */
export async function ledgerTableOfStack(
  cloudFormation: CloudFormationClient,
  stack: string,
  region: string,
): Promise<string> {
  const how = 'name the stack with --stack <name> or the table with --table <name>';
  let response: DescribeStacksCommandOutput;
  try {
    response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) {
      throw new LedgerLocationError(
        `no stack ${stack} in ${region}: deploy hubfix there (npx cdk deploy), choose the region with --region, or ${how}`,
        { cause: error },
      );
    }
    throw error;
  }
  const output = response.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'LedgerTableName');
  if (!output?.OutputValue) {
    throw new LedgerLocationError(
      `stack ${stack} in ${region} has no LedgerTableName output, so it is not a hubfix stack: ${how}`,
    );
  }
  return output.OutputValue;
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
  };
}
