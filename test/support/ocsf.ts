/**
 * New Security Hub (OCSF 1.6) findings and "Findings Imported V2" events in
 * the shape the samples in ../shared/fixtures/findings/ocsf-* show, written
 * for this project (the Elastic-licensed samples are read, not copied): one
 * per control, for routing, intake and handler tests.
 */
import { ACCOUNT, type Json, REGION } from './fixtures';

export const OCSF_PRODUCT = `arn:aws:securityhub:${REGION}::productv2/aws/securityhub`;

/** The resource each control's findings name, as the new Security Hub types it. */
export const OCSF_RESOURCES: Readonly<
  Record<string, { type: string; uid: string; uidAlt?: string }>
> = {
  'EC2.1': { type: 'AWS::::Account', uid: ACCOUNT },
  'EC2.2': {
    type: 'AWS::EC2::SecurityGroup',
    uid: 'sg-1234123f',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-1234123f`,
  },
  'EC2.6': {
    type: 'AWS::EC2::VPC',
    uid: 'vpc-0a1b2c3d',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/vpc-0a1b2c3d`,
  },
  'EC2.7': { type: 'AWS::::Account', uid: ACCOUNT },
  'EC2.8': {
    type: 'AWS::EC2::Instance',
    uid: 'i-0abc1234def567890',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0abc1234def567890`,
  },
  'EC2.9': {
    type: 'AWS::EC2::Instance',
    uid: 'i-0abc1234def567890',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0abc1234def567890`,
  },
  'EC2.15': {
    type: 'AWS::EC2::Subnet',
    uid: 'subnet-017e22c0195eb5ded',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-017e22c0195eb5ded`,
  },
  'EC2.18': {
    type: 'AWS::EC2::SecurityGroup',
    uid: 'sg-0123456789abcdef0',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-0123456789abcdef0`,
  },
  'EC2.19': {
    type: 'AWS::EC2::SecurityGroup',
    uid: 'sg-0123456789abcdef0',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-0123456789abcdef0`,
  },
  'EC2.24': {
    type: 'AWS::EC2::Instance',
    uid: 'i-0abc1234def567890',
    uidAlt: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0abc1234def567890`,
  },
  'ECS.2': {
    type: 'AWS::ECS::Service',
    uid: 'web',
    uidAlt: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`,
  },
  'ECS.16': {
    type: 'AWS::ECS::TaskSet',
    uid: 'ecs-svc/1234567890123456789',
    uidAlt: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/ecs-svc/1234567890123456789`,
  },
};

/** A 64-hex-digit metadata.uid, different per control. */
function metadataUid(controlId: string): string {
  const seed = [...controlId].map((c) => c.charCodeAt(0).toString(16)).join('');
  return seed.padEnd(64, 'a').slice(0, 64);
}

/** A failed control finding of the new Security Hub, status New. */
export function ocsfFinding(controlId: string, changes: Json = {}): Json {
  const resource = OCSF_RESOURCES[controlId];
  if (!resource) throw new Error(`no OCSF resource for ${controlId}`);
  return {
    activity_id: 2,
    activity_name: 'Update',
    category_name: 'Findings',
    category_uid: 2,
    class_name: 'Compliance Finding',
    class_uid: 2003,
    cloud: { account: { uid: ACCOUNT }, provider: 'AWS', region: REGION },
    compliance: {
      control: controlId,
      standards: ['standards/aws-foundational-security-best-practices/v/1.0.0'],
      status: 'Fail',
      status_id: 3,
    },
    finding_info: {
      created_time: 1764000000000,
      created_time_dt: '2025-11-24T16:00:00.000Z',
      modified_time: 1764590400000,
      modified_time_dt: '2025-12-01T12:00:00.000Z',
      title: `${controlId} control check`,
      types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
      uid: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/${controlId}/finding/0f8e9d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c`,
    },
    metadata: {
      product: { name: 'Security Hub', uid: OCSF_PRODUCT, vendor_name: 'AWS' },
      profiles: ['cloud', 'datetime'],
      uid: metadataUid(controlId),
      version: '1.6.0',
    },
    resources: [
      {
        cloud_partition: 'aws',
        owner: { account: { uid: ACCOUNT } },
        region: REGION,
        tags: [{ name: 'environment', value: 'dev' }],
        type: resource.type,
        uid: resource.uid,
        ...(resource.uidAlt ? { uid_alt: resource.uidAlt } : {}),
      },
    ],
    severity: 'High',
    severity_id: 4,
    status: 'New',
    status_id: 1,
    time: 1764590400000,
    time_dt: '2025-12-01T12:00:00.000Z',
    type_name: 'Compliance Finding: Update',
    type_uid: 200302,
    ...changes,
  };
}

/** The "Findings Imported V2" event around one OCSF finding: resources[0] is its metadata.uid. */
export function importedV2Event(finding: Json, overrides: Json = {}): Json {
  const metadata = finding.metadata as { uid?: string } | undefined;
  return {
    version: '0',
    id: 'a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d',
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: '2025-12-01T12:00:01Z',
    region: REGION,
    resources: metadata?.uid ? [metadata.uid] : [],
    detail: { findings: [finding] },
    ...overrides,
  };
}

/** A Security Hub coverage finding: class 2003 too, but no control, another product. */
export function coverageFinding(): Json {
  return ocsfFinding('EC2.2', {
    compliance: {
      assessments: [
        { category: 'Coverage', meets_criteria: false, name: 'GuardDuty Foundational Coverage' },
      ],
      status: 'Fail',
      status_id: 3,
    },
    metadata: {
      product: {
        feature: { uid: 'security-hub/Coverage' },
        name: 'Security Hub Coverage',
        uid: `arn:aws:securityhub:${REGION}::productv2/aws/securityhub-coverage`,
        vendor_name: 'AWS',
      },
      uid: 'c'.repeat(64),
      version: '1.9.0',
    },
    resources: [{ type: 'AWS::::Account', uid: ACCOUNT, region: REGION }],
  });
}
