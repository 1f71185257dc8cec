/** The CLI's real dependencies: the caller's credentials, the deployed stack, the controls. */
import { createInterface } from 'node:readline/promises';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { awsClientOptions } from '../../lambdas/core/aws';
import type { Control } from '../../lambdas/core/control';
import { controlFolder, findControl } from '../controls';
import type { CliDeps } from './main';

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

export function realDeps(): CliDeps {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    ledger: (table, region) =>
      new DynamoDbLedgerAdmin(new DynamoDBClient(awsClientOptions(region)), table),
    async tableOfStack(stack, region) {
      const cloudFormation = new CloudFormationClient(awsClientOptions(region));
      const response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
      const output = response.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'LedgerTableName');
      if (!output?.OutputValue) {
        throw new Error(`stack ${stack} in ${region} has no LedgerTableName output; pass --table`);
      }
      return output.OutputValue;
    },
    async callerArn(region) {
      const identity = await new STSClient(awsClientOptions(region)).send(
        new GetCallerIdentityCommand({}),
      );
      return identity.Arn ?? 'unknown caller';
    },
    loadControl,
    clientsFor: (control, region) => control.createClients(awsClientOptions(region)),
    async confirm(question) {
      if (!process.stdin.isTTY) return false;
      const terminal = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return (await terminal.question(`${question} Type "yes" to go on: `)).trim() === 'yes';
      } finally {
        terminal.close();
      }
    },
  };
}
