/**
 * The intake adapter for the new Security Hub: "Findings Imported V2" events
 * carrying one OCSF 1.6 Compliance Finding (class_uid 2003), and the OCSF
 * documents GetFindingsV2 returns. It turns each into the same `Finding` the
 * ASFF adapter produces, in ASFF's vocabulary, so nothing after intake knows
 * the format:
 *
 * | OCSF                                   | Finding                            |
 * |----------------------------------------|------------------------------------|
 * | finding_info.uid                       | id (and ref.uid)                   |
 * | metadata.uid                           | ref.metadataUid (the update key)   |
 * | metadata.product.uid                   | productArn (…::productv2/aws/…)    |
 * | cloud.account.uid, cloud.region        | awsAccountId, region               |
 * | compliance.control                     | controlId, generatorId             |
 * | compliance.status_id 1/2/3             | complianceStatus PASSED/WARNING/FAILED |
 * | status_id 1/2/3/4                      | workflowStatus NEW/NOTIFIED/SUPPRESSED/RESOLVED |
 * | status_id 5/6, activity_id 3 (Close)   | recordState ARCHIVED (else ACTIVE) |
 * | finding_info.modified_time(_dt)        | updatedAt                          |
 * | severity_id 1…6                        | severity INFORMATIONAL…CRITICAL    |
 * | resources[].type AWS::EC2::Instance    | resources[].type AwsEc2Instance    |
 * | resources[].uid_alt (else uid)         | resources[].id (AWS::::Account:<id> for accounts) |
 * | compliance.control_parameters          | controlParameters                  |
 */
import { MalformedEventError, MalformedFindingError } from '../errors';
import type { Finding, FindingResource, SeverityLabel } from '../finding';
import { array, integer, isRecord, oneOf, optional, parseOrThrow, string } from '../schema';
import {
  accountIdPattern,
  anyValue,
  looseObject,
  MAX_FINDINGS_PER_EVENT,
  regionPattern,
  SECURITY_HUB_SOURCE,
} from './asff';
import type { Intake, ParsedFinding } from './types';

export const IMPORTED_V2_DETAIL_TYPE = 'Findings Imported V2';
/** OCSF class of a compliance finding: the only class hubfix acts on. */
export const COMPLIANCE_FINDING_CLASS = 2003;

const text = (maxLength: number) => string({ minLength: 1, maxLength });

const envelopeSchema = looseObject({
  id: text(2048),
  source: oneOf([SECURITY_HUB_SOURCE]),
  'detail-type': oneOf([IMPORTED_V2_DETAIL_TYPE]),
  account: accountIdPattern,
  region: regionPattern,
  detail: looseObject({ findings: array(anyValue, { maxItems: MAX_FINDINGS_PER_EVENT }) }),
});

const parameterSchema = looseObject({
  name: text(256),
  value: optional(string({ maxLength: 1024 })),
  values: optional(array(string({ maxLength: 1024 }), { maxItems: 100 })),
});

const findingSchema = looseObject({
  class_uid: integer(),
  activity_id: optional(integer()),
  status_id: optional(integer()),
  severity_id: optional(integer()),
  cloud: looseObject({
    account: looseObject({ uid: text(64) }),
    region: optional(string({ maxLength: 64 })),
  }),
  compliance: optional(
    looseObject({
      control: optional(string({ maxLength: 64 })),
      status_id: optional(integer()),
      control_parameters: optional(array(parameterSchema, { maxItems: 50 })),
    }),
  ),
  finding_info: looseObject({
    uid: text(512),
    title: optional(string({ maxLength: 1024 }), ''),
    modified_time: optional(integer()),
    modified_time_dt: optional(string({ maxLength: 64 })),
  }),
  metadata: looseObject({
    uid: text(512),
    product: looseObject({ uid: text(2048) }),
  }),
  resources: optional(
    array(
      looseObject({
        type: text(256),
        uid: optional(string({ maxLength: 2048 })),
        uid_alt: optional(string({ maxLength: 2048 })),
        region: optional(string({ maxLength: 64 })),
        cloud_partition: optional(string({ maxLength: 64 })),
      }),
      { maxItems: 32 },
    ),
    [],
  ),
});

const COMPLIANCE_STATUS: Readonly<Record<number, string>> = {
  1: 'PASSED',
  2: 'WARNING',
  3: 'FAILED',
};
const WORKFLOW_STATUS: Readonly<Record<number, string>> = {
  1: 'NEW',
  2: 'NOTIFIED',
  3: 'SUPPRESSED',
  4: 'RESOLVED',
};
const SEVERITY: Readonly<Record<number, SeverityLabel>> = {
  1: 'INFORMATIONAL',
  2: 'LOW',
  3: 'MEDIUM',
  4: 'HIGH',
  5: 'CRITICAL',
  6: 'CRITICAL',
};
/** status_id 5 Archived, 6 Deleted; activity_id 3 Close. */
const CLOSED_STATUSES = new Set([5, 6]);
const CLOSE_ACTIVITY = 3;

/** ASFF writes an acronym as a word: VPC → Vpc, NetworkACL → NetworkAcl, VPCEndpoint → VpcEndpoint. */
function asWords(name: string): string {
  return name.replace(
    /[A-Z]{2,}(?=[A-Z][a-z]|[0-9]|$)/g,
    (run) => `${run[0]}${run.slice(1).toLowerCase()}`,
  );
}

/**
 * The ASFF type of a CloudFormation type name: `AWS::EC2::SecurityGroup` →
 * `AwsEc2SecurityGroup`, `AWS::EC2::VPC` → `AwsEc2Vpc`, `AWS::::Account` →
 * `AwsAccount`. Anything else is kept as it is, so it can be named.
 */
export function asffResourceType(cloudFormationType: string): string {
  const parts = cloudFormationType.split('::');
  if (parts.length !== 3 || parts[0] !== 'AWS' || !parts[2]) return cloudFormationType;
  return `Aws${asWords(parts[1] ?? '')}${asWords(parts[2])}`;
}

function resourceOf(resource: {
  type: string;
  uid?: string | undefined;
  uid_alt?: string | undefined;
  region?: string | undefined;
  cloud_partition?: string | undefined;
}): FindingResource | undefined {
  const type = asffResourceType(resource.type);
  const id =
    type === 'AwsAccount' && resource.uid
      ? `AWS::::Account:${resource.uid}`
      : (resource.uid_alt ?? resource.uid);
  if (!id) return undefined;
  return { type, id, partition: resource.cloud_partition, region: resource.region };
}

/** One OCSF finding, from an event or from GetFindingsV2. */
export function parseOcsfFinding(raw: unknown, index: number): ParsedFinding {
  const result = findingSchema.parse(raw, `detail.findings[${index}]`);
  if (!result.ok) {
    const info = isRecord(raw) && isRecord(raw.finding_info) ? raw.finding_info : undefined;
    const id = typeof info?.uid === 'string' ? info.uid : undefined;
    return { ok: false, error: new MalformedFindingError(index, result.issues), findingId: id };
  }
  const f = result.value;
  const control = f.class_uid === COMPLIANCE_FINDING_CLASS ? f.compliance?.control : undefined;
  const closed =
    (f.status_id !== undefined && CLOSED_STATUSES.has(f.status_id)) ||
    f.activity_id === CLOSE_ACTIVITY;
  const controlParameters: Record<string, readonly string[]> = {};
  for (const parameter of f.compliance?.control_parameters ?? []) {
    controlParameters[parameter.name] =
      parameter.values ?? (parameter.value === undefined ? [] : [parameter.value]);
  }
  const modified =
    f.finding_info.modified_time_dt ??
    (f.finding_info.modified_time === undefined
      ? undefined
      : new Date(f.finding_info.modified_time).toISOString());
  if (modified === undefined) {
    return {
      ok: false,
      error: new MalformedFindingError(index, [
        {
          path: `detail.findings[${index}].finding_info.modified_time`,
          message: 'is required (it tells one version of the finding from the next)',
        },
      ]),
      findingId: f.finding_info.uid,
    };
  }
  const finding: Finding = {
    ref: {
      format: 'ocsf',
      uid: f.finding_info.uid,
      metadataUid: f.metadata.uid,
      productUid: f.metadata.product.uid,
      accountUid: f.cloud.account.uid,
    },
    id: f.finding_info.uid,
    productArn: f.metadata.product.uid,
    // The same shape as a consolidated ASFF finding's, for the checks that read it.
    generatorId: control ? `security-control/${control}` : f.finding_info.uid,
    awsAccountId: f.cloud.account.uid,
    region: f.cloud.region,
    title: f.finding_info.title,
    updatedAt: modified,
    severity: SEVERITY[f.severity_id ?? 1] ?? 'INFORMATIONAL',
    controlId: control,
    complianceStatus:
      f.compliance?.status_id === undefined ? undefined : COMPLIANCE_STATUS[f.compliance.status_id],
    recordState: closed ? 'ARCHIVED' : 'ACTIVE',
    workflowStatus:
      f.status_id === undefined ? undefined : (WORKFLOW_STATUS[f.status_id] ?? 'OTHER'),
    resources: f.resources.flatMap((r) => {
      const resource = resourceOf(r);
      return resource ? [resource] : [];
    }),
    controlParameters,
  };
  return { ok: true, finding };
}

export function isOcsfEvent(raw: unknown): boolean {
  return (
    isRecord(raw) &&
    raw.source === SECURITY_HUB_SOURCE &&
    raw['detail-type'] === IMPORTED_V2_DETAIL_TYPE
  );
}

/** @throws MalformedEventError when the envelope is not a "Findings Imported V2" event. */
export function readOcsfEvent(
  raw: unknown,
): Intake & { readonly findings: readonly ParsedFinding[] } {
  const envelope = parseOrThrow(envelopeSchema, raw, (issues) => new MalformedEventError(issues));
  return {
    eventId: envelope.id,
    account: envelope.account,
    region: envelope.region,
    trigger: { kind: 'imported' },
    findings: envelope.detail.findings.map((finding, index) => parseOcsfFinding(finding, index)),
  };
}
