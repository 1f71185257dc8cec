import { describe, expect, it } from 'vitest';
import { MalformedEventError, MalformedFindingError } from '../../../lambdas/core/errors';
import { controlIdFromGeneratorId, type Finding } from '../../../lambdas/core/finding';
import { readAsffEvent } from '../../../lambdas/core/intake/asff';
import {
  customActionEvent,
  EC2_2_FINDING,
  findingsOf,
  fixtureFiles,
  importedEvent,
  isEnvelope,
  type Json,
  REMEDIATE_ACTION_ARN,
  readJson,
  withChanges,
} from '../../support/fixtures';

function onlyFinding(event: Json): Finding {
  const [parsed] = readAsffEvent(event).findings;
  if (!parsed?.ok) throw new Error(`expected one valid finding, got ${JSON.stringify(parsed)}`);
  return parsed.finding;
}

describe('readAsffEvent', () => {
  it.each(fixtureFiles())('reads every finding of the sample %s', (file) => {
    // Prepare
    const json = readJson(file);
    const event = isEnvelope(json) ? json : importedEvent([json]);

    // Act
    const parsed = readAsffEvent(event);

    // Assess
    expect(parsed.findings.length).toBe(findingsOf(json).length);
    for (const finding of parsed.findings) {
      expect(finding.ok).toBe(true);
      if (finding.ok) expect(finding.finding.controlId).toMatch(/^[A-Za-z0-9]+\.\d+$/);
    }
  });

  it('turns a legacy finding into typed fields', () => {
    const finding = onlyFinding(importedEvent([EC2_2_FINDING]));

    expect(finding).toMatchObject({
      id: EC2_2_FINDING.Id,
      productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
      controlId: 'EC2.2',
      awsAccountId: '111111111111',
      complianceStatus: 'FAILED',
      recordState: 'ACTIVE',
      workflowStatus: 'NEW',
      severity: 'INFORMATIONAL',
      resources: [
        {
          type: 'AwsEc2SecurityGroup',
          id: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
          region: 'us-east-1',
          partition: 'aws',
        },
      ],
      controlParameters: {},
    });
  });

  it('prefers Compliance.SecurityControlId, then ProductFields.ControlId, then GeneratorId', () => {
    const consolidated = withChanges(EC2_2_FINDING, {
      'Compliance.SecurityControlId': 'EC2.19',
      'ProductFields.ControlId': undefined,
      GeneratorId: 'security-control/EC2.19',
    });
    const generatorOnly = withChanges(EC2_2_FINDING, { 'ProductFields.ControlId': undefined });

    expect(onlyFinding(importedEvent([consolidated])).controlId).toBe('EC2.19');
    expect(onlyFinding(importedEvent([EC2_2_FINDING])).controlId).toBe('EC2.2');
    expect(onlyFinding(importedEvent([generatorOnly])).controlId).toBe('EC2.2');
  });

  it('reads control parameters of consolidated findings', () => {
    const finding = withChanges(EC2_2_FINDING, {
      'Compliance.SecurityControlParameters': [
        { Name: 'authorizedTcpPorts', Value: ['80', '443'] },
      ],
    });

    expect(onlyFinding(importedEvent([finding])).controlParameters).toEqual({
      authorizedTcpPorts: ['80', '443'],
    });
  });

  it('names the action ARN of a custom action event', () => {
    const parsed = readAsffEvent(customActionEvent([EC2_2_FINDING]));

    expect(parsed.trigger).toEqual({ kind: 'custom-action', actionArn: REMEDIATE_ACTION_ARN });
  });

  it.each([
    ['not an object', 'hello', '(root)'],
    ['null', null, '(root)'],
    ['another source', importedEvent([EC2_2_FINDING], { source: 'aws.ec2' }), 'source'],
    [
      'another detail-type',
      importedEvent([EC2_2_FINDING], { 'detail-type': 'EC2 State' }),
      '["detail-type"]',
    ],
    ['a bad account', importedEvent([EC2_2_FINDING], { account: '12' }), 'account'],
    ['no detail', importedEvent([EC2_2_FINDING], { detail: undefined }), 'detail'],
    [
      'findings not a list',
      importedEvent([EC2_2_FINDING], { detail: { findings: {} } }),
      'detail.findings',
    ],
    [
      'over 100 findings',
      importedEvent(Array.from({ length: 101 }, () => EC2_2_FINDING)),
      'detail.findings',
    ],
    [
      'a custom action without its ARN',
      customActionEvent([EC2_2_FINDING], REMEDIATE_ACTION_ARN, { resources: [] }),
      'resources',
    ],
  ])('rejects an envelope with %s, naming the path', (_name, event, path) => {
    const act = () => readAsffEvent(event);

    expect(act).toThrow(MalformedEventError);
    try {
      act();
    } catch (error) {
      expect((error as MalformedEventError).issues.map((i) => i.path)).toContain(path);
    }
  });

  it('isolates a malformed finding and keeps the good ones', () => {
    // Prepare
    const broken = withChanges(EC2_2_FINDING, { Resources: 'sg-1' });
    const noId = withChanges(EC2_2_FINDING, { Id: undefined });

    // Act
    const parsed = readAsffEvent(
      importedEvent([broken, EC2_2_FINDING, noId, 42 as unknown as Json]),
    );

    // Assess
    expect(parsed.findings.map((f) => f.ok)).toEqual([false, true, false, false]);
    const [first, , third] = parsed.findings;
    expect(first?.ok === false && first.error).toBeInstanceOf(MalformedFindingError);
    expect(first?.ok === false && first.findingId).toBe(EC2_2_FINDING.Id);
    expect(first?.ok === false && first.error.issues[0]?.path).toBe('detail.findings[0].Resources');
    expect(third?.ok === false && third.findingId).toBeUndefined();
  });

  it('rejects oversized fields inside a finding', () => {
    const huge = withChanges(EC2_2_FINDING, { Id: 'x'.repeat(513) });

    const [parsed] = readAsffEvent(importedEvent([huge])).findings;

    expect(parsed?.ok).toBe(false);
  });
});

describe('controlIdFromGeneratorId', () => {
  it.each([
    ['security-control/EC2.2', 'EC2.2'],
    ['aws-foundational-security-best-practices/v/1.0.0/EC2.19', 'EC2.19'],
    ['arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.3', undefined],
    ['', undefined],
  ])('%s → %s', (generatorId, expected) => {
    expect(controlIdFromGeneratorId(generatorId)).toBe(expected);
  });
});
