/**
 * Parses the EventBridge event once, at the edge, into typed findings. The
 * rest of the pipeline never looks at raw JSON. A malformed envelope rejects
 * the whole event; a malformed finding inside a good envelope is reported on
 * its own so that the other findings are still handled.
 */
import { MalformedEventError, MalformedFindingError } from './errors';
import {
  array,
  isRecord,
  object,
  oneOf,
  optional,
  parseOrThrow,
  type Schema,
  string,
} from './schema';

export const IMPORTED_DETAIL_TYPE = 'Security Hub Findings - Imported';
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';
export const SECURITY_HUB_SOURCE = 'aws.securityhub';

/** More than this in one event is not something Security Hub sends. */
export const MAX_FINDINGS_PER_EVENT = 100;

export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

export interface FindingResource {
  readonly type: string;
  readonly id: string;
  readonly partition: string | undefined;
  readonly region: string | undefined;
}

export interface Finding {
  readonly id: string;
  readonly productArn: string;
  readonly generatorId: string;
  readonly awsAccountId: string;
  readonly region: string | undefined;
  readonly title: string;
  readonly updatedAt: string;
  readonly severity: SeverityLabel;
  /** From Compliance.SecurityControlId, else the legacy ProductFields.ControlId, else GeneratorId. */
  readonly controlId: string | undefined;
  readonly complianceStatus: string | undefined;
  readonly recordState: string | undefined;
  readonly workflowStatus: string | undefined;
  readonly resources: readonly FindingResource[];
  /** Compliance.SecurityControlParameters, e.g. authorizedTcpPorts → ["80", "443"]. */
  readonly controlParameters: Readonly<Record<string, readonly string[]>>;
}

export type Trigger =
  | { readonly kind: 'imported' }
  | { readonly kind: 'custom-action'; readonly actionArn: string };

export type ParsedFinding =
  | { readonly ok: true; readonly finding: Finding }
  | {
      readonly ok: false;
      readonly error: MalformedFindingError;
      /** The Id, when even that much could be read, so logs can name it. */
      readonly findingId: string | undefined;
    };

export interface FindingsEvent {
  readonly eventId: string;
  readonly account: string;
  readonly region: string;
  readonly trigger: Trigger;
  readonly findings: readonly ParsedFinding[];
}

const text = string({ minLength: 1, maxLength: 2048 });
const looseObject = <S extends Parameters<typeof object>[0]>(shape: S) =>
  object(shape, { unknownKeys: 'ignore' });

const anyValue: Schema<unknown> = { expected: 'anything', parse: (value) => ({ ok: true, value }) };

const envelopeSchema = looseObject({
  id: text,
  source: oneOf([SECURITY_HUB_SOURCE]),
  'detail-type': oneOf([IMPORTED_DETAIL_TYPE, CUSTOM_ACTION_DETAIL_TYPE]),
  account: string({ pattern: /^\d{12}$/, patternName: 'a 12-digit account id' }),
  region: string({ pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, patternName: 'an AWS region' }),
  // Only a custom action reads this (its first entry is the action ARN).
  resources: optional(array(anyValue, { maxItems: MAX_FINDINGS_PER_EVENT }), []),
  detail: looseObject({
    // Each finding is validated on its own below, so one bad finding cannot
    // hide the good ones.
    findings: array(anyValue, { maxItems: MAX_FINDINGS_PER_EVENT }),
  }),
});

const findingSchema = looseObject({
  Id: string({ minLength: 1, maxLength: 512 }),
  ProductArn: text,
  GeneratorId: string({ minLength: 1, maxLength: 512 }),
  AwsAccountId: string({ minLength: 1, maxLength: 64 }),
  Region: optional(string({ maxLength: 64 })),
  Title: optional(string({ maxLength: 1024 }), ''),
  UpdatedAt: string({ minLength: 1, maxLength: 64 }),
  Severity: optional(looseObject({ Label: optional(oneOf(SEVERITY_LABELS)) })),
  Compliance: optional(
    looseObject({
      Status: optional(string({ maxLength: 64 })),
      SecurityControlId: optional(string({ maxLength: 64 })),
      SecurityControlParameters: optional(
        array(
          looseObject({
            Name: string({ minLength: 1, maxLength: 256 }),
            Value: optional(array(string({ maxLength: 1024 }), { maxItems: 100 }), []),
          }),
          { maxItems: 50 },
        ),
      ),
    }),
  ),
  ProductFields: optional(looseObject({ ControlId: optional(string({ maxLength: 64 })) })),
  Workflow: optional(looseObject({ Status: optional(string({ maxLength: 64 })) })),
  RecordState: optional(string({ maxLength: 64 })),
  Resources: array(
    looseObject({
      Type: string({ minLength: 1, maxLength: 256 }),
      Id: string({ minLength: 1, maxLength: 2048 }),
      Partition: optional(string({ maxLength: 64 })),
      Region: optional(string({ maxLength: 64 })),
    }),
    { maxItems: 32 },
  ),
});

/** `security-control/EC2.2` or `aws-foundational-security-best-practices/v/1.0.0/EC2.2`. */
export function controlIdFromGeneratorId(generatorId: string): string | undefined {
  const last = generatorId.split('/').at(-1);
  return last && /^[A-Za-z][A-Za-z0-9]*\.\d+$/.test(last) ? last : undefined;
}

export function parseFinding(raw: unknown, index: number): ParsedFinding {
  const result = findingSchema.parse(raw, `detail.findings[${index}]`);
  if (!result.ok) {
    const id = isRecord(raw) && typeof raw.Id === 'string' ? raw.Id : undefined;
    return { ok: false, error: new MalformedFindingError(index, result.issues), findingId: id };
  }
  const f = result.value;
  const controlParameters: Record<string, readonly string[]> = {};
  for (const parameter of f.Compliance?.SecurityControlParameters ?? []) {
    controlParameters[parameter.Name] = parameter.Value;
  }
  return {
    ok: true,
    finding: {
      id: f.Id,
      productArn: f.ProductArn,
      generatorId: f.GeneratorId,
      awsAccountId: f.AwsAccountId,
      region: f.Region,
      title: f.Title,
      updatedAt: f.UpdatedAt,
      severity: f.Severity?.Label ?? 'INFORMATIONAL',
      controlId:
        f.Compliance?.SecurityControlId ??
        f.ProductFields?.ControlId ??
        controlIdFromGeneratorId(f.GeneratorId),
      complianceStatus: f.Compliance?.Status,
      recordState: f.RecordState,
      workflowStatus: f.Workflow?.Status,
      resources: f.Resources.map((r) => ({
        type: r.Type,
        id: r.Id,
        partition: r.Partition,
        region: r.Region,
      })),
      controlParameters,
    },
  };
}

/** @throws MalformedEventError when the envelope is not a Security Hub findings event. */
export function parseFindingsEvent(raw: unknown): FindingsEvent {
  const envelope = parseOrThrow(envelopeSchema, raw, (issues) => new MalformedEventError(issues));
  let trigger: Trigger = { kind: 'imported' };
  if (envelope['detail-type'] === CUSTOM_ACTION_DETAIL_TYPE) {
    const actionArn = envelope.resources[0];
    if (typeof actionArn !== 'string' || !actionArn.startsWith('arn:')) {
      throw new MalformedEventError([
        { path: 'resources', message: 'a custom action event must name its action ARN first' },
      ]);
    }
    trigger = { kind: 'custom-action', actionArn };
  }
  return {
    eventId: envelope.id,
    account: envelope.account,
    region: envelope.region,
    trigger,
    findings: envelope.detail.findings.map((finding, index) => parseFinding(finding, index)),
  };
}
