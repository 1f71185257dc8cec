/**
 * The harness that deploys the synthesized app onto moto and invokes its
 * bundles as Lambda does (deployed.ts): what it resolves, and how it reports
 * cold-start failures, timeouts and warm invocations.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../lambdas/core/env';
import { CONTROLS } from '../../lib/controls';
import { ACTIONS, EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { RECONCILER_FUNCTION_ID } from './assembly';
import { deploy, resultOf } from './deployed';
import { againstMoto, motoAvailable } from './support';

describe.skipIf(!motoAvailable)(againstMoto('the deployed app'), () => {
  it("resolves every control function's environment to the resources it created in moto", async () => {
    const app = await deploy();
    const dynamodb = new DynamoDBClient(app.options);

    expect([...app.functions.keys()].sort()).toEqual(
      [...CONTROLS.map((c) => c.meta.id), RECONCILER_FUNCTION_ID].sort(),
    );
    for (const fn of [...app.functions.values()].filter(
      (f) => f.controlId !== RECONCILER_FUNCTION_ID,
    )) {
      const env = fn.resolvedEnvironment;
      expect(env[ENVIRONMENT.topicArn]).toBe(app.topicArn);
      expect(env[ENVIRONMENT.remediateActionArn]).toBe(ACTIONS.remediate);
      expect(env[ENVIRONMENT.planActionArn]).toBe(ACTIONS.plan);
      expect(env[ENVIRONMENT.account]).toBe('111111111111');
      expect(Object.values(app.tables)).toContain(env[ENVIRONMENT.ledgerTable]);
      expect(Object.values(app.tables)).toContain(env[ENVIRONMENT.idempotencyTable]);
    }
    for (const table of Object.values(app.tables)) {
      const described = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
      expect(described.Table?.TableStatus).toBe('ACTIVE');
    }
    const provisioned = JSON.parse(
      app.function('EC2.6').resolvedEnvironment[ENVIRONMENT.provisioned] ?? '{}',
    ) as Record<string, string>;
    expect(provisioned.deliveryRoleArn).toMatch(/^arn:aws:iam::111111111111:role\//);
  });

  it('resolves pseudo parameters and Fn::Sub, and refuses what it cannot resolve', async () => {
    const app = await deploy();

    // CloudFormation's ${Name} placeholders, written so they read as such.
    const sub = (name: string) => `$\{${name}}`;
    const text = `arn:${sub('AWS::Partition')}:x:${sub('AWS::Region')}:${sub('AWS::AccountId')}:${sub('!y')}`;

    await expect(app.resolve({ 'Fn::Sub': text })).resolves.toBe(
      `arn:aws:x:us-east-1:111111111111:${sub('y')}`,
    );
    await expect(app.resolve({ 'Fn::ImportValue': 'elsewhere' }, 'HUBFIX_NEW')).rejects.toThrow(
      'HUBFIX_NEW: cannot resolve Fn::ImportValue',
    );
    await expect(app.resolve({ Ref: 'NoSuchResource' }, 'HUBFIX_NEW')).rejects.toThrow(
      'HUBFIX_NEW: the template has no resource NoSuchResource',
    );
  });

  it('reports a cold start that fails on its environment, as Lambda reports an init error', async () => {
    const app = await deploy();

    const run = await app.invoke('EC2.2', importedEvent([EC2_2_FINDING]), {
      settings: { mode: 'fix' as 'remediate' },
    });

    expect(run).toMatchObject({
      kind: 'threw',
      phase: 'init',
      error: {
        name: 'ConfigurationError',
        message: expect.stringContaining('HUBFIX_SETTINGS.mode'),
      },
    });
    expect(app.findingUpdates).toEqual([]);
  });

  it('stops a function at its deadline', async () => {
    const app = await deploy();

    const run = await app.invoke('EC2.2', importedEvent([EC2_2_FINDING]), { remainingTimeMs: 1 });

    expect(run.kind).toBe('timed-out');
  });

  it('keeps an execution environment warm across invocations, with the logs of each', async () => {
    const app = await deploy();
    // Mode off: every finding is ignored and only logged.
    const instance = await app.start('EC2.2', { settings: { mode: 'off' } });

    const first = await instance.invoke(importedEvent([EC2_2_FINDING]));
    const another = withChanges(EC2_2_FINDING, { Id: `${String(EC2_2_FINDING.Id)}-another` });
    const second = await instance.invoke(importedEvent([another]));
    instance.stop();

    for (const run of [first, second]) {
      expect(resultOf(run)).toMatchObject({ findings: [{ decision: 'IGNORE' }] });
      expect(run.logs.length).toBeGreaterThan(0);
    }
    expect(app.findingUpdates).toEqual([]);
    expect(first.logs.join('\n')).toContain('"cold_start":true');
    expect(second.logs.join('\n')).not.toContain('"cold_start":true');
  });
});
