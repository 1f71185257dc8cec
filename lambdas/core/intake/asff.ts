/**
 * The intake adapter for Security Hub CSPM: "Security Hub Findings -
 * Imported" and "- Custom Action" events carrying ASFF findings. It parses
 * the event once, at the edge. A malformed envelope rejects the whole event;
 * a malformed finding inside a good envelope is reported on its own so that
 * the other findings are still handled.
 */
import { MalformedEventError, MalformedFindingError } from '../errors';
import { controlIdFromGeneratorId, type Finding, SEVERITY_LABELS } from '../finding';
import {
  array,
  isRecord,
  object,
  oneOf,
  optional,
  parseOrThrow,
  type Schema,
  string,
} from '../schema';
import type { Intake, ParsedFinding } from './types';

export const IMPORTED_DETAIL_TYPE = 'Security Hub Findings - Imported';
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';
export const SECURITY_HUB_SOURCE = 'aws.securityhub';

/** More than this in one event is not something Security Hub sends. */
export const MAX_FINDINGS_PER_EVENT = 100;

const text = string({ minLength: 1, maxLength: 2048 });
export const looseObject = <S extends Parameters<typeof object>[0]>(shape: S) =>
  object(shape, { unknownKeys: 'ignore' });

export const anyValue: Schema<unknown> = {
  expected: 'anything',
  parse: (value) => ({ ok: true, value }),
};

export const accountIdPattern = string({
  pattern: /^\d{12}$/,
  patternName: 'a 12-digit account id',
});
export const regionPattern = string({
  pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
  patternName: 'an AWS region',
});

const envelopeSchema = looseObject({
  id: text,
  source: oneOf([SECURITY_HUB_SOURCE]),
  'detail-type': oneOf([IMPORTED_DETAIL_TYPE, CUSTOM_ACTION_DETAIL_TYPE]),
  account: accountIdPattern,
  region: regionPattern,
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

/** One ASFF finding, from an event or from GetFindings. */
export function parseAsffFinding(raw: unknown, index: number): ParsedFinding {
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
  const finding: Finding = {
    ref: { format: 'asff', id: f.Id, productArn: f.ProductArn },
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
  };
  return { ok: true, finding };
}

export function isAsffEvent(raw: unknown): boolean {
  return (
    isRecord(raw) &&
    raw.source === SECURITY_HUB_SOURCE &&
    (raw['detail-type'] === IMPORTED_DETAIL_TYPE ||
      raw['detail-type'] === CUSTOM_ACTION_DETAIL_TYPE)
  );
}

/** An intake whose findings all came whole, in the event. */
export interface AsffIntake extends Intake {
  readonly findings: readonly ParsedFinding[];
}

/** @throws MalformedEventError when the envelope is not a Security Hub CSPM findings event. */
export function readAsffEvent(raw: unknown): AsffIntake {
  const envelope = parseOrThrow(envelopeSchema, raw, (issues) => new MalformedEventError(issues));
  const findings = envelope.detail.findings.map((finding, index) =>
    parseAsffFinding(finding, index),
  );
  const base = { eventId: envelope.id, account: envelope.account, region: envelope.region };
  if (envelope['detail-type'] !== CUSTOM_ACTION_DETAIL_TYPE) {
    return { ...base, trigger: { kind: 'imported' }, findings };
  }
  const actionArn = envelope.resources[0];
  if (typeof actionArn !== 'string' || !actionArn.startsWith('arn:')) {
    throw new MalformedEventError([
      { path: 'resources', message: 'a custom action event must name its action ARN first' },
    ]);
  }
  return { ...base, trigger: { kind: 'custom-action', actionArn }, findings };
}
