import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../../lambdas/core/errors';
import { readIntake } from '../../../lambdas/core/intake';
import {
  asffResourceType,
  parseOcsfFinding,
  readOcsfEvent,
} from '../../../lambdas/core/intake/ocsf';
import { assessTrust } from '../../../lambdas/core/trust';
import { securityGroupResource } from '../../../lambdas/services/ec2/resources';
import { ACCOUNT, type Json, REGION, SELF, withChanges } from '../../support/fixtures';
import { coverageFinding, importedV2Event, OCSF_PRODUCT, ocsfFinding } from '../../support/ocsf';

/** The shared samples are read where they are (three are Elastic-licensed: not copied in). */
const SHARED = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'findings',
);
const shared = (file: string): Json | undefined => {
  try {
    return JSON.parse(readFileSync(path.join(SHARED, file), 'utf8')) as Json;
  } catch {
    return undefined;
  }
};

function parsed(raw: Json) {
  const result = parseOcsfFinding(raw, 0);
  if (!result.ok) throw result.error;
  return result.finding;
}

describe('the OCSF intake adapter', () => {
  it('turns a failed control finding into the same Finding the ASFF adapter gives', () => {
    const finding = parsed(ocsfFinding('EC2.2'));

    expect(finding).toEqual({
      ref: {
        format: 'ocsf',
        uid: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.2/finding/0f8e9d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c`,
        metadataUid: expect.stringMatching(/^[0-9a-f]{64}$/),
        productUid: OCSF_PRODUCT,
        accountUid: ACCOUNT,
      },
      id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.2/finding/0f8e9d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c`,
      productArn: OCSF_PRODUCT,
      generatorId: 'security-control/EC2.2',
      awsAccountId: ACCOUNT,
      region: REGION,
      title: 'EC2.2 control check',
      updatedAt: '2025-12-01T12:00:00.000Z',
      severity: 'HIGH',
      controlId: 'EC2.2',
      complianceStatus: 'FAILED',
      recordState: 'ACTIVE',
      workflowStatus: 'NEW',
      resources: [
        {
          type: 'AwsEc2SecurityGroup',
          id: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-1234123f`,
          partition: 'aws',
          region: REGION,
        },
      ],
      controlParameters: {},
    });
  });

  it.each([
    ['status_id 1 New', { status_id: 1 }, { workflowStatus: 'NEW', recordState: 'ACTIVE' }],
    ['status_id 2 In Progress', { status_id: 2 }, { workflowStatus: 'NOTIFIED' }],
    ['status_id 3 Suppressed', { status_id: 3 }, { workflowStatus: 'SUPPRESSED' }],
    ['status_id 4 Resolved', { status_id: 4 }, { workflowStatus: 'RESOLVED' }],
    ['status_id 5 Archived', { status_id: 5 }, { recordState: 'ARCHIVED' }],
    ['status_id 6 Deleted', { status_id: 6 }, { recordState: 'ARCHIVED' }],
    ['status_id 99 Other', { status_id: 99 }, { workflowStatus: 'OTHER' }],
    ['activity_id 3 Close', { activity_id: 3 }, { recordState: 'ARCHIVED' }],
    ['compliance Pass', { 'compliance.status_id': 1 }, { complianceStatus: 'PASSED' }],
    ['severity_id 6 Fatal', { severity_id: 6 }, { severity: 'CRITICAL' }],
    ['severity_id 99 Other', { severity_id: 99 }, { severity: 'INFORMATIONAL' }],
    [
      'no modified_time_dt',
      { 'finding_info.modified_time_dt': undefined },
      { updatedAt: '2025-12-01T12:00:00.000Z' },
    ],
    [
      'control parameters',
      {
        'compliance.control_parameters': [
          { name: 'authorizedTcpPorts', values: ['80', '443'] },
          { name: 'mode', value: 'strict' },
        ],
      },
      { controlParameters: { authorizedTcpPorts: ['80', '443'], mode: ['strict'] } },
    ],
  ])('maps %s', (_name, changes, expected) => {
    expect(parsed(withChanges(ocsfFinding('EC2.2'), changes))).toMatchObject(expected);
  });

  it.each([
    ['AWS::EC2::SecurityGroup', 'AwsEc2SecurityGroup'],
    ['AWS::EC2::Instance', 'AwsEc2Instance'],
    ['AWS::EC2::Subnet', 'AwsEc2Subnet'],
    ['AWS::EC2::VPC', 'AwsEc2Vpc'],
    ['AWS::EC2::NetworkACL', 'AwsEc2NetworkAcl'],
    ['AWS::EC2::VPCEndpoint', 'AwsEc2VpcEndpoint'],
    ['AWS::ECS::Service', 'AwsEcsService'],
    ['AWS::ECS::TaskSet', 'AwsEcsTaskSet'],
    ['AWS::S3::Bucket', 'AwsS3Bucket'],
    ['AWS::::Account', 'AwsAccount'],
    ['Other', 'Other'],
  ])('types %s as %s', (type, expected) => {
    expect(asffResourceType(type)).toBe(expected);
  });

  it('names an account by AWS::::Account:<id>, as ASFF does', () => {
    expect(parsed(ocsfFinding('EC2.1')).resources).toEqual([
      { type: 'AwsAccount', id: `AWS::::Account:${ACCOUNT}`, partition: 'aws', region: REGION },
    ]);
  });

  const event = shared('ocsf-ssm.1-imported-v2-event.json');
  const sqs = shared('ocsf-sqs.1-finding.json');
  const passed = shared('ocsf-redshift.3-passed-finding.json');
  // Skipped (and said so) in a checkout without ../shared; the builders above cover the shape.
  it.skipIf(!event || !sqs || !passed)(
    'reads the shared samples: a V2 event, a finding as GetFindingsV2 returns it, a passed one',
    () => {
      if (!event || !sqs || !passed) throw new Error('unreachable: skipped without the samples');
      const intake = readOcsfEvent(event);
      expect(intake.findings[0]).toMatchObject({
        ok: true,
        finding: {
          controlId: 'SSM.1',
          complianceStatus: 'FAILED',
          workflowStatus: 'NEW',
          resources: [{ type: 'AwsEc2Instance' }],
        },
      });
      expect(parsed(sqs)).toMatchObject({
        controlId: 'SQS.1',
        resources: [
          { type: 'AwsSqsQueue', id: 'arn:aws:sqs:us-east-2:123456789012:securityhubfinding' },
        ],
      });
      expect(parsed(passed)).toMatchObject({
        complianceStatus: 'PASSED',
        workflowStatus: 'RESOLVED',
      });
    },
  );

  it('keeps a coverage finding (no control) from ever passing trust', () => {
    const finding = parsed(coverageFinding());
    expect(finding.controlId).toBeUndefined();

    const trust = assessTrust({
      event: SELF,
      finding,
      request: 'imported',
      controlId: 'EC2.2',
      resourceSpec: securityGroupResource(),
      self: SELF,
    });

    expect(trust).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not from the AWS Security Hub product'),
    });
  });

  it('accepts the new Security Hub product and refuses another product', () => {
    const assess = (finding: Json) =>
      assessTrust({
        event: SELF,
        finding: parsed(finding),
        request: 'imported',
        controlId: 'EC2.2',
        resourceSpec: securityGroupResource(),
        self: SELF,
      });
    const other = withChanges(ocsfFinding('EC2.2'), {
      'metadata.product.uid': `arn:aws:securityhub:${REGION}::productv2/aws/guardduty`,
    });

    expect(assess(ocsfFinding('EC2.2')).ok).toBe(true);
    expect(assess(other)).toMatchObject({ ok: false });
  });

  it('names an unknown resource type when it ignores the finding', () => {
    const s3 = withChanges(ocsfFinding('EC2.2'), {
      resources: [{ type: 'AWS::S3::Bucket', uid: 'b', uid_alt: 'arn:aws:s3:::b', region: REGION }],
    });
    const trust = assessTrust({
      event: SELF,
      finding: parsed(s3),
      request: 'imported',
      controlId: 'EC2.2',
      resourceSpec: securityGroupResource(),
      self: SELF,
    });

    expect(trust).toMatchObject({
      ok: false,
      reason: 'the finding names no AwsEc2SecurityGroup resource (it names AwsS3Bucket)',
    });
  });

  it('reads a "Findings Imported V2" event through the intake, and isolates a malformed finding', () => {
    const event = importedV2Event(ocsfFinding('EC2.2'));
    (event.detail as { findings: unknown[] }).findings.push({ class_uid: 2003 });

    const intake = readIntake(event, SELF);

    expect(intake.trigger).toEqual({ kind: 'imported' });
    expect(intake.findings.map((f) => f.ok)).toEqual([true, false]);
  });

  it('rejects a V2 envelope that is not one, naming the path', () => {
    const read = () => readOcsfEvent(importedV2Event(ocsfFinding('EC2.2'), { account: 'x' }));
    expect(read).toThrow(MalformedEventError);
  });
});
