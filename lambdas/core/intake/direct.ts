/**
 * The intake adapter for requests that invoke a control's function directly:
 * `npx hubfix remediate|plan <finding>` (the new Security Hub has no custom
 * actions), the pipeline re-queueing findings that did not fit one
 * invocation, and the reconciler. A request carries only identifiers: every
 * finding is fetched from Security Hub before anything is decided, so the
 * request proves nothing by itself, whoever sent it.
 */
import { MalformedEventError } from '../errors';
import { isRecord, object, oneOf, optional, parseOrThrow, type Schema, string } from '../schema';
import {
  DIRECT_ORIGINS,
  DIRECT_REQUEST_KINDS,
  type DirectOrigin,
  type DirectRequestKind,
  type FindingLookup,
  type Intake,
} from './types';

/** The marker that tells a direct request from an EventBridge event. */
export const DIRECT_REQUEST_MARKER = 'hubfix.finding-request';

/** One invocation's worth: a person names a few; re-queueing sends what is left of a batch. */
export const MAX_FINDINGS_PER_REQUEST = 100;

export interface DirectRequest {
  readonly type: typeof DIRECT_REQUEST_MARKER;
  /** Unique per request; a redelivery of the same request repeats it. */
  readonly requestId: string;
  readonly request: DirectRequestKind;
  readonly origin: DirectOrigin;
  readonly by?: string;
  readonly findings: readonly FindingLookup[];
}

const lookupSchema: Schema<FindingLookup> = {
  expected: 'a finding to look up: {"format":"asff","id":...} or {"format":"ocsf","uid":...}',
  parse(input, path) {
    const asff = object({
      format: oneOf(['asff']),
      id: string({ minLength: 1, maxLength: 512 }),
      productArn: optional(
        string({
          pattern: /^arn:aws[a-z-]*:securityhub:/,
          patternName: 'a Security Hub product ARN',
        }),
      ),
    });
    const ocsf = object({
      format: oneOf(['ocsf']),
      uid: string({ minLength: 1, maxLength: 512 }),
    });
    return isRecord(input) && input.format === 'ocsf'
      ? ocsf.parse(input, path)
      : asff.parse(input, path);
  },
};

const requestSchema = object({
  type: oneOf([DIRECT_REQUEST_MARKER]),
  requestId: string({ minLength: 1, maxLength: 128 }),
  request: oneOf(DIRECT_REQUEST_KINDS),
  origin: oneOf(DIRECT_ORIGINS),
  by: optional(string({ maxLength: 2048 })),
  findings: {
    expected: `a list of 1 to ${MAX_FINDINGS_PER_REQUEST} findings`,
    parse(input, path) {
      if (!Array.isArray(input) || input.length === 0 || input.length > MAX_FINDINGS_PER_REQUEST) {
        return {
          ok: false,
          issues: [{ path, message: `expected ${this.expected}` }],
        };
      }
      const out: FindingLookup[] = [];
      for (const [index, item] of input.entries()) {
        const parsed = lookupSchema.parse(item, `${path}[${index}]`);
        if (!parsed.ok) return parsed;
        out.push(parsed.value);
      }
      return { ok: true, value: out };
    },
  } satisfies Schema<FindingLookup[]>,
});

export function isDirectRequest(raw: unknown): boolean {
  return isRecord(raw) && raw.type === DIRECT_REQUEST_MARKER;
}

/**
 * @param self the function's own account and region: a direct request has no
 * envelope saying where it came from, and acts only where the function is.
 * @throws MalformedEventError when the request is not one hubfix can read.
 */
export function readDirectRequest(
  raw: unknown,
  self: { readonly account: string; readonly region: string },
): Intake {
  const request = parseOrThrow(requestSchema, raw, (issues) => new MalformedEventError(issues));
  return {
    eventId: request.requestId,
    account: self.account,
    region: self.region,
    trigger: {
      kind: 'direct',
      request: request.request,
      origin: request.origin,
      by: request.by,
    },
    findings: request.findings.map((lookup) => ({ ok: 'lookup' as const, lookup })),
  };
}
