import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleHandler, HANDLER_FILE } from '../../lib/bundling/esbuild';
import { CONTROLS } from '../../lib/controls';
import { resolveIntrinsics } from '../support/intrinsics';
import { type Resources, resourcesOf, roleStatements, synthesize } from '../support/stack';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function reconcilerOf(resources: Resources) {
  const entry = Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      'HUBFIX_RECONCILER' in
        ((r.Properties.Environment as { Variables: Record<string, unknown> }).Variables ?? {}),
  );
  if (!entry) throw new Error('no reconciler function');
  const [functionId, fn] = entry;
  const statements = roleStatements(resources, functionId) as Statement[];
  const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
  return {
    functionId,
    properties: fn.Properties,
    variables: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    statements,
    bySid: (sid: string) => statements.find((s) => s.Sid === sid),
    schedules,
  };
}

function controlFunctionIds(resources: Resources): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const variables = (r.Properties.Environment as { Variables: Record<string, string> }).Variables;
    const settings = variables.HUBFIX_SETTINGS;
    if (settings) ids.set((JSON.parse(settings) as { controlId: string }).controlId, logicalId);
  }
  return ids;
}

describe('the reconciler', () => {
  const { template } = synthesize();
  const resources = resourcesOf(template);
  const reconciler = reconcilerOf(resources);
  const controls = controlFunctionIds(resources);

  it('runs every 6 hours, naming each sweep by its scheduled time', () => {
    expect(reconciler.schedules).toHaveLength(1);
    expect(reconciler.schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(6 hours)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [reconciler.functionId, 'Arn'] },
        Input: JSON.stringify({
          type: 'hubfix.reconcile',
          sweepId: '<aws.scheduler.scheduled-time>',
        }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  it('is one 15-minute function at a time, told the control functions and the grace period', () => {
    expect(reconciler.properties).toMatchObject({
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    // Each control function's name, as CloudFormation would put it in.
    let variable = JSON.stringify(reconciler.variables.HUBFIX_RECONCILER);
    for (const [id, logicalId] of controls) {
      variable = variable.replaceAll(
        JSON.stringify({ Ref: logicalId }),
        JSON.stringify(`fn-${id}`),
      );
    }
    const settings = JSON.parse(String(resolveIntrinsics(JSON.parse(variable))));
    expect(settings).toEqual({
      controls: Object.fromEntries(CONTROLS.map((c) => [c.meta.id, `fn-${c.meta.id}`])),
      graceHours: 24,
    });
    expect(Object.keys(reconciler.variables).sort()).toEqual(
      [
        'HUBFIX_RECONCILER',
        'HUBFIX_PARTITION',
        'HUBFIX_TOPIC_ARN',
        'HUBFIX_ACCOUNT_ID',
        'HUBFIX_STATE_TABLE',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
  });

  it('may read findings, read histories, claim its steps, invoke the control functions and itself, and publish', () => {
    const actions = new Set(reconciler.statements.flatMap((s) => [s.Action].flat()));
    expect([...actions].sort()).toEqual(
      [
        'securityhub:GetFindings',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'lambda:InvokeFunction',
        'sns:Publish',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ].sort(),
    );
    const hubs = JSON.stringify(reconciler.bySid('ReadFailedFindings')?.Resource);
    expect(hubs).toContain(':hub/default');
    // The new Security Hub's GetFindingsV2 is authorized on its hub, hubv2/<id>.
    expect(hubs).toContain(':hubv2/*');
    expect(reconciler.bySid('ReadFindingHistories')?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': CONTROLS.map((c) => `${c.meta.id}#finding#*`),
      },
    });
    expect(reconciler.bySid('ClaimSweepSteps')?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['reconciler#sweep#*'] },
    });
    const invoked = reconciler.bySid('HandFindingsToTheirControls')?.Resource as unknown[];
    expect(invoked).toHaveLength(CONTROLS.length);
    expect(invoked).toEqual(
      expect.arrayContaining(
        CONTROLS.map((c) => ({ 'Fn::GetAtt': [controls.get(c.meta.id), 'Arn'] })),
      ),
    );
    expect(reconciler.bySid('HandTheSweepOn')?.Resource).toEqual({
      'Fn::GetAtt': [reconciler.functionId, 'Arn'],
    });
  });

  it('bundles its handler as one ESM file with the AWS SDK inside, under 1 MB', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'hubfix-reconciler-'));
    const entry = path.resolve(import.meta.dirname, '../../lambdas/reconciler/handler.ts');

    const metafile = await bundleHandler(entry, outdir);

    const bundle = readFileSync(path.join(outdir, HANDLER_FILE), 'utf8');
    expect(statSync(path.join(outdir, HANDLER_FILE)).size).toBeLessThan(1024 * 1024);
    expect(Object.keys(metafile.inputs)).toContain(
      'node_modules/@aws-sdk/client-securityhub/dist-es/SecurityHubClient.js',
    );
    expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
    expect(bundle).not.toContain('Dynamic require of');
  }, 60_000);

  it('lets only EventBridge Scheduler of this account start it', () => {
    const schedule = reconciler.schedules[0]?.Properties as { Target: { RoleArn: unknown } };
    const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resources[roleId]?.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
  });
});

describe('the reconciler, configured', () => {
  it('takes reconcile.schedule, reconcile.enabled and reconcile.graceHours', () => {
    const { template } = synthesize({
      config: { reconcile: { schedule: 'cron(0 3 * * ? *)', enabled: false, graceHours: 12 } },
    });
    const reconciler = reconcilerOf(resourcesOf(template));

    expect(reconciler.schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      State: 'DISABLED',
    });
    expect(JSON.stringify(reconciler.variables.HUBFIX_RECONCILER)).toContain('\\"graceHours\\":12');
  });

  it('hands drift re-fixes to the controls as reconcile.maxAttempts says', () => {
    const { template } = synthesize({ config: { reconcile: { maxAttempts: 3 } } });
    const settings = Object.values(resourcesOf(template))
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties.Environment as { Variables: Record<string, string> }).Variables)
      .flatMap((v) => (v.HUBFIX_SETTINGS ? [JSON.parse(v.HUBFIX_SETTINGS)] : []));

    expect(settings).toHaveLength(CONTROLS.length);
    for (const s of settings) expect(s).toMatchObject({ maxDriftFixes: 3 });
  });
});
