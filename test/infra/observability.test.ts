/**
 * Alarms that reach people (issue 11 §5), the dashboard (issue 15 §1) and the
 * fixed monthly cost of an idle stack (issue 17 §3), read from the
 * synthesized template.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { idleCost } from '../../bench/idle-cost';
import { PRICES } from '../../bench/prices';
import { ec2_24 } from '../../lambdas/controls/ec2-24/remediate';
import { metrics } from '../../lambdas/core/powertools';
import { FUNCTION_ERROR_TERMS } from '../../lib/constructs/alarms';
import { OUTCOME_METRICS } from '../../lib/constructs/dashboard';
import { CONTROLS } from '../../lib/controls';
import { ACCOUNT, importedEvent, REGION, readJson, withChanges } from '../support/fixtures';
import { controlHarness } from '../support/handler';
import { render } from '../support/iam';
import { resolveIntrinsics } from '../support/intrinsics';
import { type Resources, resourcesOf, synthesize } from '../support/stack';

const { template, stack } = synthesize({ nag: true });
const resources = resourcesOf(template);

function ofType(type: string, from: Resources = resources) {
  return Object.entries(from).filter(([, r]) => r.Type === type);
}

/** The logical id of each control's function, role and log group. */
const deployed = CONTROLS.map((control) => {
  const found = stack.controls.get(control.meta.id);
  if (!found) throw new Error(`${control.meta.id} is not deployed`);
  return {
    controlId: control.meta.id,
    role: stack.getLogicalId(found.handler.role.node.defaultChild as never),
    logGroup: stack.getLogicalId(found.handler.logGroup.node.defaultChild as never),
    function: stack.getLogicalId(found.handler.function.node.defaultChild as never),
  };
});

type Statement = {
  Sid?: string;
  Effect: string;
  Principal: unknown;
  Action: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

function topicStatements(from: Resources = resources): Statement[] {
  const [[, policy] = []] = ofType('AWS::SNS::TopicPolicy', from);
  if (!policy) throw new Error('no topic policy');
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

describe('the notification topic', () => {
  const statements = topicStatements();

  it('is not KMS-encrypted by default, and says why in its cdk-nag acknowledgement', () => {
    const [[topicId, topic] = []] = ofType('AWS::SNS::Topic');
    const metadata = (template.toJSON().Resources as Record<string, { Metadata?: unknown }>)[
      topicId ?? ''
    ]?.Metadata as { cdk_nag: { rules_to_suppress: { id: string; reason: string }[] } };

    expect(topic?.Properties.KmsMasterKeyId).toBeUndefined();
    expect(ofType('AWS::KMS::Key')).toEqual([]);
    expect(metadata.cdk_nag.rules_to_suppress).toEqual([
      {
        id: 'AwsSolutions-SNS2',
        reason: expect.stringMatching(/^notifications\.kmsKey is "none" \(the default\)/),
      },
    ]);
  });

  it('refuses requests without TLS', () => {
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it("lets CloudWatch publish, for this account's alarms in this region only", () => {
    const allow = statements.find((s) => s.Sid === 'CloudWatchAlarmsOfThisAccount');

    expect(resolveIntrinsics(allow)).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: {
        ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
        StringEquals: { 'aws:SourceAccount': ACCOUNT },
      },
    });
  });

  it("denies every other publisher than hubfix's function roles and CloudWatch", () => {
    const deny = statements.find((s) => s.Sid === 'OnlyHubfixAndItsAlarms');
    const roleArns = deployed.map((d) => ({ 'Fn::GetAtt': [d.role, 'Arn'] }));

    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Condition: {
        StringNotEquals: {
          'aws:PrincipalArn': roleArns,
          'aws:PrincipalServiceName': 'cloudwatch.amazonaws.com',
        },
      },
    });
    // IAM's StringNotEquals on an absent key is true; all keys must hold to deny.
    const denies = (context: Record<string, string>) =>
      Object.entries(deny?.Condition?.StringNotEquals ?? {}).every(([key, values]) => {
        const allowed = (Array.isArray(values) ? values : [values]).map((v) => JSON.stringify(v));
        const actual = context[key];
        return actual === undefined || !allowed.includes(actual);
      });
    const first = JSON.stringify(roleArns[0]);
    expect(denies({ 'aws:PrincipalArn': first })).toBe(false);
    expect(denies({ 'aws:PrincipalServiceName': '"cloudwatch.amazonaws.com"' })).toBe(false);
    expect(denies({ 'aws:PrincipalArn': '"arn:aws:iam::111111111111:role/someone-else"' })).toBe(
      true,
    );
  });

  it('uses a key hubfix makes, with rotation and a grant for alarms, when asked to', () => {
    const managed = resourcesOf(
      synthesize({ config: { notifications: { kmsKey: 'managed-by-hubfix' } } }).template,
    );
    const [[keyId, key] = []] = ofType('AWS::KMS::Key', managed);
    const [[, topic] = []] = ofType('AWS::SNS::Topic', managed);
    if (!key) throw new Error('no key');

    expect(topic?.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(
      resolveIntrinsics((key.Properties.KeyPolicy as { Statement: unknown[] }).Statement),
    ).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: {
          ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
        },
      }),
    );
  });

  it('uses an existing key by its ARN, and lets the functions use it', () => {
    const keyArn = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const existing = resourcesOf(
      synthesize({ config: { notifications: { kmsKey: keyArn } } }).template,
    );
    const [[, topic] = []] = ofType('AWS::SNS::Topic', existing);
    const kmsGrants = ofType('AWS::IAM::Policy', existing).flatMap(([, p]) =>
      (
        p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
      ).Statement.filter((s) => JSON.stringify(s.Action).includes('kms:')),
    );

    expect(topic?.Properties.KmsMasterKeyId).toBe(keyArn);
    expect(ofType('AWS::KMS::Key', existing)).toEqual([]);
    // Every function that publishes: the controls' and the reconciler's.
    expect(kmsGrants).toHaveLength(CONTROLS.length + 1);
    for (const grant of kmsGrants) expect(grant.Resource).toBe(keyArn);
  });
});

describe('alarms', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const [[topicId] = []] = ofType('AWS::SNS::Topic');

  it('are three, each notifying the topic when it fires and when it recovers', () => {
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
        TreatMissingData: 'notBreaching',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('watch the one dead-letter queue', () => {
    const [[queueId] = []] = ofType('AWS::SQS::Queue');

    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        EvaluationPeriods: 1,
      }),
    );
  });

  it("watch one metric, without dimensions, that every function's log counts its errors into", () => {
    const filters = ofType('AWS::Logs::MetricFilter').map(([, f]) => f.Properties);

    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'hubfix',
        MetricName: 'FunctionErrors',
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
      }),
    );
    expect(alarms.find((a) => a.MetricName === 'FunctionErrors')?.Dimensions).toBeUndefined();
    const reconcilerLogs = stack.getLogicalId(
      stack.reconciler.handler.logGroup.node.defaultChild as never,
    );
    expect(filters.map((f) => f.LogGroupName)).toEqual([
      ...deployed.map((d) => ({ Ref: d.logGroup })),
      { Ref: reconcilerLogs },
    ]);
    for (const filter of filters) {
      expect(filter.MetricTransformations).toEqual([
        { MetricNamespace: 'hubfix', MetricName: 'FunctionErrors', MetricValue: '1' },
      ]);
    }
  });

  it('watch throttles account-wide, for 15 minutes, unless switched off', () => {
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 3,
      }),
    );
    expect(alarms.find((a) => a.MetricName === 'Throttles')?.Dimensions).toBeUndefined();

    const off = resourcesOf(synthesize({ config: { alarms: { throttles: 'off' } } }).template);
    expect(
      ofType('AWS::CloudWatch::Alarm', off).map(([, a]) => a.Properties.MetricName),
    ).not.toContain('Throttles');
  });
});

/**
 * CloudWatch Logs' unstructured OR pattern (`?term ?"two words"`), read as a
 * case-sensitive substring match of each term, which is all hubfix's pattern uses.
 */
function matchesAnyTerm(pattern: string, line: string): boolean {
  const terms = [...pattern.matchAll(/\?(?:"([^"]*)"|(\S+))/g)].map((m) => m[1] ?? m[2] ?? '');
  expect(terms.length).toBeGreaterThan(0);
  return terms.some((term) => line.includes(term));
}

describe('the function-errors filter', () => {
  const [[, filter] = []] = ofType('AWS::Logs::MetricFilter');
  const pattern = String(filter?.Properties.FilterPattern);

  it('is an OR of the failure terms', () => {
    expect(pattern).toBe('?"ERROR" ?"Task timed out" ?"Runtime exited"');
    expect(FUNCTION_ERROR_TERMS).toHaveLength(3);
  });

  it.each([
    [
      'a FAILED outcome',
      '{"level":"ERROR","message":"finding handled","service":"hubfix","control":"EC2.2","outcome":"FAILED"}',
      true,
    ],
    [
      'an unexpected error',
      '{"level":"ERROR","message":"finding handling failed unexpectedly","control":"EC2.9"}',
      true,
    ],
    [
      "the runtime's uncaught error",
      '2026-12-01T03:29:36.074Z\tc793869b\tERROR\tInvoke Error \t{"errorType":"TypeError"}',
      true,
    ],
    ['a timeout', '2026-12-01T03:29:36.074Z c793869b Task timed out after 300.00 seconds', true],
    [
      'a crashed runtime',
      'RequestId: c793869b Error: Runtime exited with error: signal: killed',
      true,
    ],
    [
      'a NOTIFIED outcome',
      '{"level":"INFO","message":"finding handled","control":"EC2.24","outcome":"NOTIFIED","findingUpdate":{"ok":true}}',
      false,
    ],
    [
      'an EMF metrics line',
      '{"_aws":{"CloudWatchMetrics":[{"Namespace":"hubfix","Dimensions":[["service","control"]],"Metrics":[{"Name":"Error","Unit":"Count"}]}]},"Error":1}',
      false,
    ],
    [
      'a REPORT line',
      'REPORT RequestId: c793869b Duration: 812.35 ms Billed Duration: 813 ms',
      false,
    ],
  ] as const)('counts %s: %s', (_what, line, counted) => {
    expect(matchesAnyTerm(pattern, line)).toBe(counted);
  });
});

/** The dashboard body as CloudFormation renders it, placeholders for deploy-time values. */
function dashboardBody(from: Resources = resources): {
  widgets: { type: string; properties: Record<string, unknown> }[];
} {
  const [[, dashboard] = []] = ofType('AWS::CloudWatch::Dashboard', from);
  return JSON.parse(render(dashboard?.Properties.DashboardBody));
}

type MetricRow = (string | Record<string, unknown>)[];

function metricsOf(widget: { properties: Record<string, unknown> } | undefined): MetricRow[] {
  return (widget?.properties.metrics ?? []) as MetricRow[];
}

describe('the dashboard', () => {
  const { widgets } = dashboardBody();
  const titled = (title: string) => widgets.find((w) => w.properties.title === title);

  it('synthesizes without a warning (metric periods agree, ids are unique)', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue());
    expect(warnings.map((w) => String(w.entry.data))).toEqual([]);
  });

  it('is named Hubfix-<region> (dashboards are global to the account), or as configured', () => {
    const [[, dashboard] = []] = ofType('AWS::CloudWatch::Dashboard');
    expect(resolveIntrinsics(dashboard?.Properties.DashboardName)).toBe(`Hubfix-${REGION}`);

    const named = resourcesOf(
      synthesize({ config: { dashboard: { name: 'SecOps-hubfix' } } }).template,
    );
    expect(ofType('AWS::CloudWatch::Dashboard', named)[0]?.[1].Properties.DashboardName).toBe(
      'SecOps-hubfix',
    );
    const none = resourcesOf(synthesize({ config: { dashboard: { enabled: false } } }).template);
    expect(ofType('AWS::CloudWatch::Dashboard', none)).toEqual([]);
  });

  it('shows every widget in the region it is deployed to', () => {
    // Text has no region; an alarm status widget names its alarms by ARN, region included.
    const regional = widgets.filter((w) => w.type !== 'text' && w.type !== 'alarm');
    expect(regional.length).toBeGreaterThan(0);
    for (const widget of regional) expect(widget.properties.region).toBe('<Region>');
  });

  it.each(CONTROLS.map((c) => c.meta.id))(
    'graphs the findings %s handled per outcome, per hour, with the dimensions the functions emit',
    (controlId) => {
      const widget = titled(`${controlId}: findings handled by outcome (per hour)`);

      expect(widget?.properties).toMatchObject({ view: 'timeSeries', stacked: true });
      expect(metricsOf(widget)).toEqual(
        OUTCOME_METRICS.map((outcome) => [
          'hubfix',
          outcome,
          'control',
          controlId,
          'service',
          'hubfix',
          expect.objectContaining({ stat: 'Sum', period: 3600 }),
        ]),
      );
    },
  );

  it('totals each outcome over the whole time range, across controls, for day one', () => {
    const widget = titled('Findings handled in the time range, all controls');
    const rows = metricsOf(widget);
    const expressions = rows
      .map((row) => row.at(-1) as { expression?: string; label?: string })
      .filter((options) => options.expression);

    expect(widget?.properties).toMatchObject({ view: 'singleValue', setPeriodToTimeRange: true });
    expect(expressions.map((e) => e.label)).toEqual([...OUTCOME_METRICS]);
    const remediated = rows.filter((row) => row[1] === 'REMEDIATED');
    expect(remediated.map((row) => row[3])).toEqual(CONTROLS.map((c) => c.meta.id));
    expect(expressions[0]?.expression).toBe(
      `SUM([${CONTROLS.map((_, i) => `remediated${i}`).join(', ')}])`,
    );
  });

  it.each(['p50', 'p99'])('graphs remediation duration %s per control', (statistic) => {
    const widget = titled(`Remediation duration ${statistic} (ms)`);

    expect(metricsOf(widget)).toEqual(
      CONTROLS.map((c) => [
        'hubfix',
        'RemediationDuration',
        'control',
        c.meta.id,
        'service',
        'hubfix',
        expect.objectContaining({ stat: statistic }),
      ]),
    );
  });

  it('graphs function errors, throttles per function and dead-letter depth, and shows the alarms', () => {
    expect(metricsOf(titled('Function errors (logged errors, timeouts, crashes)'))).toEqual([
      ['hubfix', 'FunctionErrors', expect.objectContaining({ stat: 'Sum' })],
    ]);
    expect(metricsOf(titled('Throttles by function')).map((row) => row.slice(0, 4))).toEqual(
      deployed.map((d) => ['AWS/Lambda', 'Throttles', 'FunctionName', `<${d.function}>`]),
    );
    expect(metricsOf(titled('Dead-letter queue depth'))[0]?.slice(0, 2)).toEqual([
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
    ]);
    expect(titled('Alarms')?.properties.alarms).toHaveLength(3);
  });

  it('lists the last failures and the latest findings from every function log', () => {
    const sources = deployed.map((d) => `SOURCE '<${d.logGroup}>'`).join(' | ');
    const failures = String(titled('Last failures')?.properties.query);
    const latest = String(titled('Latest findings handled')?.properties.query);

    expect(failures.startsWith(sources)).toBe(true);
    expect(failures).toContain(
      'filter level = "ERROR" or @message like /Task timed out|Runtime exited/',
    );
    expect(failures).toContain('sort @timestamp desc');
    expect(latest.startsWith(sources)).toBe(true);
    expect(latest).toContain('filter message = "finding handled"');
    expect(latest).toContain(
      'fields @timestamp, control, outcome, decision, reason, resource, findingId',
    );
  });
});

describe('the metrics a function emits', () => {
  const published: unknown[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    published.length = 0;
  });

  it('carry exactly the dimensions the dashboard reads: service and control', async () => {
    // Prepare: capture what Powertools would write as EMF when it flushes.
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      if (metrics.hasStoredMetrics()) published.push(metrics.serializeMetrics());
      metrics.clearMetrics();
      return metrics;
    });
    const t = controlHarness(ec2_24, { clients: { ec2: new EC2Client({ region: REGION }) } });
    const otherAccount = withChanges(readJson('asr-ec2.8-finding.json'), {
      'ProductFields.ControlId': 'EC2.24',
      'Compliance.SecurityControlId': 'EC2.24',
      AwsAccountId: '222222222222',
    });

    // Act: a finding of another account is ignored without any AWS call.
    await t.invoke(importedEvent([otherAccount]));

    // Assess
    expect(published).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'hubfix',
              Dimensions: [['service', 'control']],
              Metrics: [{ Name: 'IGNORED', Unit: 'Count' }],
            },
          ],
        }),
        service: 'hubfix',
        control: 'EC2.24',
        IGNORED: 1,
      }),
    ]);
  });
});

describe('fixed monthly cost while idle (bench/idle-cost.ts walks the template)', () => {
  it('is $0.30 by default: three alarm metrics and the reconciler schedule, no key; the dashboard is free among the first three', () => {
    const cost = idleCost(resources);

    expect(cost.monthly).toBeCloseTo(0.3);
    // The schedule runs 120 times a month: $0.00012 at $1 a million invocations.
    expect(cost.lines.filter((l) => l.monthly > 0).map((l) => l.type)).toEqual([
      'AWS::Scheduler::Schedule',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
    ]);
    // $3 only if the account already has three other dashboards.
    expect(cost.dashboardsBeyondFree).toBe(PRICES.cloudWatch.perDashboardMonth);
  });

  it('knows every resource type the stack synthesizes: priced, or free with its reason', () => {
    expect(idleCost(resources).unpriced).toEqual([]);
  });

  it('adds $1 with a key hubfix manages, and $0.10 less without the throttle alarm', () => {
    const managed = idleCost(
      resourcesOf(
        synthesize({ config: { notifications: { kmsKey: 'managed-by-hubfix' } } }).template,
      ),
    );
    const noThrottles = idleCost(
      resourcesOf(synthesize({ config: { alarms: { throttles: 'off' } } }).template),
    );

    expect(managed.monthly).toBeCloseTo(0.3 + PRICES.kms.perKeyMonth);
    expect(noThrottles.monthly).toBeCloseTo(0.2);
  });
});
