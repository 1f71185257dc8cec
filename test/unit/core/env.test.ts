import { describe, expect, it } from 'vitest';
import { ec2_2Meta } from '../../../lambdas/controls/ec2-2/meta';
import { readEnvironment } from '../../../lambdas/core/env';
import { ConfigurationError } from '../../../lambdas/core/errors';

const settings = {
  controlId: 'EC2.2',
  mode: 'remediate',
  dryRun: false,
  notifyOnly: false,
  tags: { optOut: { key: 'k', values: ['false'] }, suppress: { key: 's' } },
  allowList: [{ tags: { environment: ['dev'] } }],
  overrideAllowList: false,
  maxDriftFixes: 1,
  params: { strategy: 'empty-if-unused', migrate: { maxInterfaces: 25 } },
};
const env = {
  HUBFIX_SETTINGS: JSON.stringify(settings),
  HUBFIX_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:hubfix',
  HUBFIX_REMEDIATE_ACTION_ARN:
    'arn:aws:securityhub:us-east-1:111111111111:action/custom/HubfixRemediate',
  HUBFIX_PLAN_ACTION_ARN: 'arn:aws:securityhub:us-east-1:111111111111:action/custom/HubfixPlan',
  HUBFIX_ACCOUNT_ID: '111111111111',
  AWS_REGION: 'us-east-1',
  HUBFIX_LEDGER_TABLE: 'hubfix-ledger',
  HUBFIX_LEDGER_RETENTION_DAYS: '365',
  HUBFIX_IDEMPOTENCY_TABLE: 'hubfix-idempotency',
  HUBFIX_STATE_TABLE: 'hubfix-state',
  AWS_LAMBDA_FUNCTION_NAME: 'Hubfix-ControlEc22Handler-abc',
  UNRELATED: 'ignored',
};

function issuesOf(act: () => unknown): string[] {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigurationError)
      return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('readEnvironment', () => {
  it('reads and types everything the function needs', () => {
    const read = readEnvironment(env, ec2_2Meta);

    expect(read).toEqual({
      provisioned: {},
      ledger: { tableName: 'hubfix-ledger', retentionDays: 365 },
      idempotencyTable: 'hubfix-idempotency',
      stateTable: 'hubfix-state',
      functionName: 'Hubfix-ControlEc22Handler-abc',
      settings,
      topicArn: env.HUBFIX_TOPIC_ARN,
      actions: { remediate: env.HUBFIX_REMEDIATE_ACTION_ARN, plan: env.HUBFIX_PLAN_ACTION_ARN },
      self: { account: '111111111111', region: 'us-east-1' },
    });
  });

  it('names every missing or malformed variable at once', () => {
    const issues = issuesOf(() =>
      readEnvironment({ ...env, HUBFIX_TOPIC_ARN: undefined, AWS_REGION: 'mars' }, ec2_2Meta),
    );

    expect(issues).toEqual([
      'HUBFIX_TOPIC_ARN: is required (an ARN)',
      'AWS_REGION: expected an AWS region, got "mars"',
    ]);
  });

  it('rejects settings that are not JSON', () => {
    expect(
      issuesOf(() => readEnvironment({ ...env, HUBFIX_SETTINGS: '{oops' }, ec2_2Meta))[0],
    ).toMatch(/^HUBFIX_SETTINGS: is not JSON/);
  });

  it("validates the settings, including the control's own params", () => {
    const bad = { ...settings, mode: 'fix', params: { strategy: 'delete-all' } };

    expect(
      issuesOf(() => readEnvironment({ ...env, HUBFIX_SETTINGS: JSON.stringify(bad) }, ec2_2Meta)),
    ).toEqual([
      'HUBFIX_SETTINGS.mode: expected one of "off", "notify", "remediate", got "fix"',
      'HUBFIX_SETTINGS.params.strategy: expected one of "empty-if-unused", "migrate", got "delete-all"',
    ]);
  });

  it('refuses settings meant for another control', () => {
    const other = { ...settings, controlId: 'EC2.19' };

    expect(
      issuesOf(() =>
        readEnvironment({ ...env, HUBFIX_SETTINGS: JSON.stringify(other) }, ec2_2Meta),
      ),
    ).toEqual(['HUBFIX_SETTINGS.controlId: is EC2.19, but this function handles EC2.2']);
  });
});

describe('readEnvironment: provisioned resources', () => {
  it('reads what the stack provisioned for the control', () => {
    const read = readEnvironment(
      { ...env, HUBFIX_PROVISIONED: '{"deliveryRoleArn":"arn:aws:iam::111111111111:role/r"}' },
      ec2_2Meta,
    );

    expect(read.provisioned).toEqual({ deliveryRoleArn: 'arn:aws:iam::111111111111:role/r' });
  });

  it('refuses provisioned values that are not strings', () => {
    expect(
      issuesOf(() => readEnvironment({ ...env, HUBFIX_PROVISIONED: '{"n":1}' }, ec2_2Meta)),
    ).toEqual(['HUBFIX_PROVISIONED.n: must be a string, in quotes (got the number 1)']);
  });
});
