/**
 * The deployable artifact itself: EC2.2's minified ESM bundle, with its
 * tree-shaken SDK inside, run as Lambda would run it, against moto.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { bundleHandler, HANDLER_FILE } from '../../lib/bundling/esbuild';
import { handlerEntry } from '../../lib/controls';
import {
  EC2_2_FINDING,
  importedEvent,
  PLAN_ACTION_ARN,
  REMEDIATE_ACTION_ARN,
  withChanges,
} from '../support/fixtures';
import { LAMBDA_CONTEXT } from '../support/handler';
import {
  againstMoto,
  createStackTables,
  credentials,
  findingUpdates,
  motoAvailable,
  motoOptions,
  resetMoto,
} from './support';

describe.skipIf(!motoAvailable)(againstMoto('the EC2.2 bundle'), () => {
  it('reads, revokes, records, updates the finding and notifies through the bundled SDK', async () => {
    // Prepare: a default group with an SSH rule in moto, the stack's tables, a topic.
    await resetMoto();
    const options = await motoOptions();
    const ec2 = new EC2Client(options);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
    const group = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpc.Vpc?.VpcId ?? ''] },
            { Name: 'group-name', Values: ['default'] },
          ],
        }),
      )
    ).SecurityGroups?.[0];
    const groupId = group?.GroupId ?? '';
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    const dynamodb = new DynamoDBClient(options);
    const tables = await createStackTables(dynamodb);
    const topic = await new SNSClient(options).send(
      new CreateTopicCommand({ Name: 'hubfix-bundle' }),
    );
    const outdir = mkdtempSync(path.join(tmpdir(), 'hubfix-bundle-'));
    await bundleHandler(handlerEntry('EC2.2'), outdir);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: options.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      HUBFIX_SETTINGS: JSON.stringify({
        controlId: 'EC2.2',
        mode: 'remediate',
        dryRun: false,
        notifyOnly: false,
        tags: {
          optOut: { key: 'hubfix:auto-remediate', values: ['false'] },
          suppress: { key: 'hubfix:suppress' },
        },
        allowList: [],
        params: { strategy: 'empty-if-unused' },
      }),
      HUBFIX_TOPIC_ARN: topic.TopicArn,
      HUBFIX_REMEDIATE_ACTION_ARN: REMEDIATE_ACTION_ARN,
      HUBFIX_PLAN_ACTION_ARN: PLAN_ACTION_ARN,
      HUBFIX_ACCOUNT_ID: '111111111111',
      HUBFIX_LEDGER_TABLE: tables.ledger,
      HUBFIX_LEDGER_RETENTION_DAYS: '30',
      HUBFIX_IDEMPOTENCY_TABLE: tables.idempotency,
    });
    const finding = withChanges(EC2_2_FINDING, {
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        },
      ],
    });

    // Act: cold start and one invocation of the bundle.
    const bundle = (await import(pathToFileURL(path.join(outdir, HANDLER_FILE)).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const invocation = bundle.handler(importedEvent([finding]), LAMBDA_CONTEXT);

    // Assess: the rule is gone, the finding resolved, the ledger has the change.
    await expect(invocation).resolves.toMatchObject({
      findings: [{ decision: 'REMEDIATE', outcome: 'REMEDIATED' }],
    });
    expect(findingUpdates.map((u) => u.Workflow?.Status)).toEqual(['RESOLVED']);
    const after = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(after.SecurityGroups?.[0]?.IpPermissions).toEqual([]);
    const [entry] = await new DynamoDbLedgerAdmin(dynamodb, tables.ledger).recent(5);
    expect(entry).toMatchObject({ controlId: 'EC2.2', status: 'REMEDIATED' });
  });
});
