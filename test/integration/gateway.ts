/**
 * A small HTTP gateway in front of moto_server that answers what moto does
 * not emulate, as AWS answers it, and passes everything else through.
 *
 * Security Hub (REST-JSON, shapes from the service model
 * securityhub/2018-10-26, as botocore and the JS SDK carry it):
 * - `GetFindings` (POST /findings) answers from the ASFF findings the test
 *   registered (`registerFindings`), filtered by `Filters` (string filters on
 *   the fields in ASFF_FILTER_FIELDS, with EQUALS, NOT_EQUALS, PREFIX,
 *   PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS; the `ProductFields` map
 *   filter by key with the same comparisons), paged by `MaxResults` and
 *   `NextToken`. An unknown id is an empty list, not an error. A filter the
 *   gateway does not emulate is a 400 InvalidInputException naming it, so a
 *   test never silently gets "nothing found".
 * - `BatchUpdateFindings` (PATCH /findings/batchupdate) applies Workflow and
 *   Note to the registered finding (UpdatedAt is left alone, as Security Hub
 *   does) and records the request; a finding that was not registered comes
 *   back under UnprocessedFindings as `FindingNotFound`.
 * - `GetFindingsV2` (POST /findingsv2) and `BatchUpdateFindingsV2`
 *   (PATCH /findingsv2/batchupdatev2) do the same for OCSF findings
 *   registered with `registerOcsfFindings`: string filters on any dotted OCSF
 *   path (`finding_info.uid`, `metadata.product.uid`, `cloud.account.uid`...),
 *   number filters (`Eq`, `Gt`, `Gte`, `Lt`, `Lte`), a composite's
 *   `Operator`, `Comment`, `StatusId` and `SeverityId` applied with their labels.
 *
 * Lambda's asynchronous `Invoke` (POST /2015-03-31/functions/<name>/invocations
 * with X-Amz-Invocation-Type: Event) is recorded in `lambdaInvocations` and
 * answered 202, as Lambda answers when it queued the event; the test delivers
 * it (moto cannot run the bundles). Other invocation types go on to moto.
 *
 * EC2 `DescribeSecurityGroupReferences` answers "no references": moto has no
 * VPC peering references to report anyway.
 *
 * EC2, a network interface's auto-assign public IPv4 setting, which moto keeps
 * only from launch and neither reports nor changes (it rejects
 * `DescribeNetworkInterfaceAttribute` `associatePublicIpAddress` and ignores
 * `AssociatePublicIpAddress` on `ModifyNetworkInterfaceAttribute`): the gateway
 * keeps the setting per interface (`interfaces.autoAssign`: a test sets what an
 * interface starts with; one it does not know reads as unreported, EC2 leaving
 * the value out), answers the describe from it and records the modify without
 * passing it on. And as EC2 does, when an Elastic IP is disassociated from an
 * interface whose setting is on, the interface gets a new public address: moto
 * cannot put an auto-assigned address on an existing interface, so the gateway
 * allocates an Elastic IP and associates it there instead, at once rather than
 * minutes later, and lists it in `interfaces.addressesHandedOut`.
 *
 * EC2 paging, only while a test turns it on (`pageFilteredDescribes`): a
 * filtered `DescribeNetworkInterfaces` or `DescribeSecurityGroups` first gets
 * an empty page with a NextToken, as EC2 may answer; the request with that
 * token goes to moto without it, for the real answer. moto itself never pages
 * these calls, so without this no test could show that evidence is read past
 * an empty page. `resetGateway` turns it off.
 */
import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';

type Json = Record<string, unknown>;

/** A BatchUpdateFindings request as the gateway received it. */
export interface FindingUpdateRequest {
  FindingIdentifiers?: { Id?: string; ProductArn?: string }[];
  Workflow?: { Status?: string };
  Note?: { Text?: string; UpdatedBy?: string };
}

/** A BatchUpdateFindingsV2 request as the gateway received it. */
export interface FindingUpdateV2Request {
  MetadataUids?: string[];
  FindingIdentifiers?: {
    CloudAccountUid?: string;
    FindingInfoUid?: string;
    MetadataProductUid?: string;
  }[];
  Comment?: string;
  StatusId?: number;
  SeverityId?: number;
}

/** What the gateway saw and holds, for one test; `resetGateway` empties it. */
export const securityHub = {
  /** BatchUpdateFindings requests, oldest first. */
  updates: [] as FindingUpdateRequest[],
  /** BatchUpdateFindingsV2 requests, oldest first. */
  updatesV2: [] as FindingUpdateV2Request[],
  /** GetFindings request bodies, oldest first (to check that a re-fetch happened). */
  queries: [] as Json[],
  /** GetFindingsV2 request bodies, oldest first. */
  queriesV2: [] as Json[],
  /** Registered ASFF findings by `ProductArn|Id`, as updated since. */
  findings: new Map<string, Json>(),
  /** Registered OCSF findings by `metadata.uid`, as updated since. */
  ocsfFindings: new Map<string, Json>(),
};

/** Asynchronous invokes the functions made, oldest first: the function name and the JSON payload. */
export const lambdaInvocations: { functionName: string; payload: unknown }[] = [];

/** Kept for the tests that read it directly: the BatchUpdateFindings requests. */
export const findingUpdates = securityHub.updates;

/** What the gateway keeps of network interfaces for moto (see above). */
export const interfaces = {
  /** The auto-assign public IPv4 setting by network interface id. */
  autoAssign: new Map<string, boolean>(),
  /** Public addresses handed out, standing for the ones EC2 would auto-assign. */
  addressesHandedOut: [] as { networkInterfaceId: string; publicIp: string }[],
};

const GATEWAY_PAGE = 'hubfix-gateway-page-2';
/** The EC2 describes the gateway pages, and the XML element of their items. */
const PAGED: Readonly<Record<string, string>> = {
  DescribeNetworkInterfaces: 'networkInterfaceSet',
  DescribeSecurityGroups: 'securityGroupInfo',
};
let pagingFiltered = false;

/** While on, filtered describes answer an empty first page with a token (see above). */
export function pageFilteredDescribes(on: boolean): void {
  pagingFiltered = on;
}

/**
 * For an EC2 query-protocol body: the empty first page to answer, or the
 * body to send moto instead (the gateway's token removed), or undefined to
 * pass the request through.
 */
function ec2Paging(text: string): { answer: string } | { forward: string } | undefined {
  if (!pagingFiltered) return undefined;
  const params = new URLSearchParams(text);
  const action = params.get('Action') ?? '';
  const items = PAGED[action];
  if (!items || !params.has('Filter.1.Name')) return undefined;
  if (params.get('NextToken') === GATEWAY_PAGE) {
    params.delete('NextToken');
    return { forward: params.toString() };
  }
  return {
    answer: `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>gateway</requestId><${items}/><nextToken>${GATEWAY_PAGE}</nextToken></${action}Response>`,
  };
}

export function resetGateway(): void {
  pagingFiltered = false;
  interfaces.autoAssign.clear();
  interfaces.addressesHandedOut.length = 0;
  securityHub.updates.length = 0;
  securityHub.updatesV2.length = 0;
  securityHub.queries.length = 0;
  securityHub.queriesV2.length = 0;
  securityHub.findings.clear();
  securityHub.ocsfFindings.clear();
  lambdaInvocations.length = 0;
}

const asffKey = (productArn: unknown, id: unknown) => `${String(productArn)}|${String(id)}`;

/** Makes findings known to Security Hub (ASFF), replacing any with the same identifiers. */
export function registerFindings(findings: readonly Json[]): void {
  for (const finding of findings) {
    if (typeof finding.Id !== 'string' || typeof finding.ProductArn !== 'string') {
      throw new Error('a registered ASFF finding needs a string Id and ProductArn');
    }
    securityHub.findings.set(asffKey(finding.ProductArn, finding.Id), structuredClone(finding));
  }
}

/** Makes OCSF findings known to the new Security Hub, keyed by `metadata.uid`. */
export function registerOcsfFindings(findings: readonly Json[]): void {
  for (const finding of findings) {
    const uid = valuesAt(finding, 'metadata.uid')[0];
    if (typeof uid !== 'string') throw new Error('a registered OCSF finding needs metadata.uid');
    securityHub.ocsfFindings.set(uid, structuredClone(finding));
  }
}

/** The registered ASFF finding as Security Hub now holds it, updates applied. */
export function registeredFinding(id: string, productArn?: string): Json | undefined {
  for (const finding of securityHub.findings.values()) {
    if (finding.Id === id && (productArn === undefined || finding.ProductArn === productArn)) {
      return structuredClone(finding);
    }
  }
  return undefined;
}

/** The registered OCSF finding as Security Hub now holds it, updates applied. */
export function registeredOcsfFinding(metadataUid: string): Json | undefined {
  const finding = securityHub.ocsfFindings.get(metadataUid);
  return finding && structuredClone(finding);
}

/** Every value at a dotted path, stepping into arrays (`resources.uid`). */
function valuesAt(source: unknown, dotted: string): unknown[] {
  let current: unknown[] = [source];
  for (const key of dotted.split('.')) {
    current = current.flatMap((value) => {
      const items = Array.isArray(value) ? value : [value];
      return items.flatMap((item) =>
        typeof item === 'object' && item !== null && key in item ? [(item as Json)[key]] : [],
      );
    });
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

/** The ASFF filter names the gateway emulates, and where each looks in a finding. */
export const ASFF_FILTER_FIELDS: Readonly<Record<string, string>> = {
  Id: 'Id',
  ProductArn: 'ProductArn',
  AwsAccountId: 'AwsAccountId',
  Region: 'Region',
  GeneratorId: 'GeneratorId',
  ProductName: 'ProductName',
  RecordState: 'RecordState',
  WorkflowStatus: 'Workflow.Status',
  ComplianceStatus: 'Compliance.Status',
  ComplianceSecurityControlId: 'Compliance.SecurityControlId',
  ResourceId: 'Resources.Id',
  ResourceType: 'Resources.Type',
};

class InvalidInput extends Error {}

interface StringFilter {
  Value?: string;
  Comparison?: string;
}

function compare(value: unknown, filter: StringFilter): boolean {
  const wanted = filter.Value ?? '';
  const text = typeof value === 'string' ? value : undefined;
  switch (filter.Comparison) {
    case 'EQUALS':
      return text === wanted;
    case 'NOT_EQUALS':
      return text !== wanted;
    case 'PREFIX':
      return text?.startsWith(wanted) ?? false;
    case 'PREFIX_NOT_EQUALS':
      return !(text?.startsWith(wanted) ?? false);
    case 'CONTAINS':
      return text?.includes(wanted) ?? false;
    case 'NOT_CONTAINS':
      return !(text?.includes(wanted) ?? false);
    default:
      throw new InvalidInput(`unsupported string comparison ${String(filter.Comparison)}`);
  }
}

const NEGATIVE = new Set(['NOT_EQUALS', 'PREFIX_NOT_EQUALS', 'NOT_CONTAINS']);

/**
 * Security Hub's rule for the values of one field: positive comparisons
 * match when any does, negative ones only when all do.
 */
function fieldMatches(values: unknown[], filters: readonly StringFilter[]): boolean {
  const positive = filters.filter((f) => !NEGATIVE.has(f.Comparison ?? ''));
  const negative = filters.filter((f) => NEGATIVE.has(f.Comparison ?? ''));
  const candidates = values.length > 0 ? values : [undefined];
  return (
    (positive.length === 0 || positive.some((f) => candidates.some((v) => compare(v, f)))) &&
    negative.every((f) => candidates.every((v) => compare(v, f)))
  );
}

/** A predicate for GetFindings `Filters`, checked whole before any finding is looked at. */
function asffMatcher(filters: Json): (finding: Json) => boolean {
  const checks = Object.entries(filters).map(([name, list]) => {
    if (name === 'ProductFields' && Array.isArray(list)) return productFieldsMatcher(list);
    const path = ASFF_FILTER_FIELDS[name];
    if (!path) {
      throw new InvalidInput(
        `the integration gateway does not emulate the GetFindings filter ${name} (add it to ASFF_FILTER_FIELDS in test/integration/gateway.ts)`,
      );
    }
    if (!Array.isArray(list)) throw new InvalidInput(`Filters.${name} must be a list`);
    return (finding: Json) => fieldMatches(valuesAt(finding, path), list as StringFilter[]);
  });
  return (finding) => checks.every((check) => check(finding));
}

/**
 * The ProductFields map filter: each filter names a key; positive comparisons
 * match when any does, negative ones only when all do (as string filters).
 */
function productFieldsMatcher(filters: readonly (StringFilter & { Key?: string })[]) {
  const positive = filters.filter((f) => !NEGATIVE.has(f.Comparison ?? ''));
  const negative = filters.filter((f) => NEGATIVE.has(f.Comparison ?? ''));
  return (finding: Json) => {
    const fields = (finding.ProductFields ?? {}) as Record<string, unknown>;
    return (
      (positive.length === 0 || positive.some((f) => compare(fields[f.Key ?? ''], f))) &&
      negative.every((f) => compare(fields[f.Key ?? ''], f))
    );
  };
}

interface NumberFilter {
  Eq?: number;
  Gt?: number;
  Gte?: number;
  Lt?: number;
  Lte?: number;
}

function numberMatches(value: unknown, filter: NumberFilter): boolean {
  if (typeof value !== 'number') return false;
  return (
    (filter.Eq === undefined || value === filter.Eq) &&
    (filter.Gt === undefined || value > filter.Gt) &&
    (filter.Gte === undefined || value >= filter.Gte) &&
    (filter.Lt === undefined || value < filter.Lt) &&
    (filter.Lte === undefined || value <= filter.Lte)
  );
}

interface CompositeFilter {
  StringFilters?: { FieldName?: string; Filter?: StringFilter }[];
  NumberFilters?: { FieldName?: string; Filter?: NumberFilter }[];
  /** The service model's name for a composite's operator. */
  Operator?: 'AND' | 'OR';
  CompositeOperator?: 'AND' | 'OR';
  [other: string]: unknown;
}

function compositeMatcher(composite: CompositeFilter): (finding: Json) => boolean {
  const known = new Set(['StringFilters', 'NumberFilters', 'Operator', 'CompositeOperator']);
  const others = Object.keys(composite).filter((k) => !known.has(k));
  if (others.length > 0) {
    throw new InvalidInput(
      `the integration gateway emulates only StringFilters and NumberFilters in GetFindingsV2, not ${others.join(', ')}`,
    );
  }
  const strings = composite.StringFilters ?? [];
  const numbers = composite.NumberFilters ?? [];
  const operator = composite.Operator ?? composite.CompositeOperator;
  return (finding) => {
    const results = [
      ...strings.map((f) => fieldMatches(valuesAt(finding, f.FieldName ?? ''), [f.Filter ?? {}])),
      ...numbers.map((f) =>
        valuesAt(finding, f.FieldName ?? '').some((v) => numberMatches(v, f.Filter ?? {})),
      ),
    ];
    return operator === 'OR' ? results.some(Boolean) : results.every(Boolean);
  };
}

/** A predicate for GetFindingsV2 `Filters`, checked whole before any finding is looked at. */
function ocsfMatcher(filters: Json | undefined): (finding: Json) => boolean {
  const composites = ((filters?.CompositeFilters ?? []) as CompositeFilter[]).map(compositeMatcher);
  return (finding) => {
    const results = composites.map((matches) => matches(finding));
    return filters?.CompositeOperator === 'OR' ? results.some(Boolean) : results.every(Boolean);
  };
}

/** One page of `all`, with an opaque token for the next, as the paged APIs answer. */
function page(all: Json[], request: Json, pageSize: number) {
  const size = typeof request.MaxResults === 'number' ? request.MaxResults : pageSize;
  let start = 0;
  if (typeof request.NextToken === 'string' && request.NextToken !== '') {
    start = Number(Buffer.from(request.NextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new InvalidInput('invalid NextToken');
  }
  const findings = all.slice(start, start + size);
  const next =
    start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { Findings: findings, ...(next ? { NextToken: next } : {}) };
}

const WORKFLOW_STATUSES = new Set(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']);
const NOTE_LIMIT = 512;

function batchUpdateFindings(input: FindingUpdateRequest) {
  const identifiers = input.FindingIdentifiers ?? [];
  if (identifiers.length === 0 || identifiers.length > 100) {
    throw new InvalidInput('FindingIdentifiers must hold 1 to 100 items');
  }
  if (input.Workflow?.Status !== undefined && !WORKFLOW_STATUSES.has(input.Workflow.Status)) {
    throw new InvalidInput(`invalid Workflow.Status ${input.Workflow.Status}`);
  }
  if (input.Note && (!input.Note.Text || !input.Note.UpdatedBy)) {
    throw new InvalidInput('Note needs Text and UpdatedBy');
  }
  if ((input.Note?.Text?.length ?? 0) > NOTE_LIMIT) {
    throw new InvalidInput(`Note.Text is longer than ${NOTE_LIMIT} characters`);
  }
  const seen = new Set<string>();
  const processed: unknown[] = [];
  const unprocessed: unknown[] = [];
  for (const identifier of identifiers) {
    const key = asffKey(identifier.ProductArn, identifier.Id);
    const finding = securityHub.findings.get(key);
    if (seen.has(key)) {
      unprocessed.push({
        FindingIdentifier: identifier,
        ErrorCode: 'DuplicatedFindingIdentifier',
        ErrorMessage: 'Finding Identifier is duplicated',
      });
      continue;
    }
    seen.add(key);
    if (!finding) {
      unprocessed.push({
        FindingIdentifier: identifier,
        ErrorCode: 'FindingNotFound',
        ErrorMessage: 'Finding Not Found',
      });
      continue;
    }
    if (input.Workflow?.Status) {
      finding.Workflow = {
        ...(finding.Workflow as Json | undefined),
        Status: input.Workflow.Status,
      };
    }
    if (input.Note) {
      finding.Note = { ...input.Note, UpdatedAt: new Date().toISOString() };
    }
    processed.push(identifier);
  }
  return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
}

const OCSF_STATUS = {
  0: 'Unknown',
  1: 'New',
  2: 'In Progress',
  3: 'Suppressed',
  4: 'Resolved',
  5: 'Archived',
  99: 'Other',
} as const;
const OCSF_SEVERITY = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
  99: 'Other',
} as const;

function label<T extends Record<number, string>>(labels: T, id: number | undefined, name: string) {
  if (id === undefined) return undefined;
  const text = labels[id];
  if (text === undefined) throw new InvalidInput(`invalid ${name} ${id}`);
  return text;
}

function batchUpdateFindingsV2(input: FindingUpdateV2Request) {
  if (input.MetadataUids && input.FindingIdentifiers) {
    throw new InvalidInput('MetadataUids cannot be used together with FindingIdentifiers');
  }
  if (
    input.Comment !== undefined &&
    (input.Comment.length > NOTE_LIMIT || !/\S/.test(input.Comment))
  ) {
    throw new InvalidInput(`Comment must be 1 to ${NOTE_LIMIT} characters, not blank`);
  }
  const status = label(OCSF_STATUS, input.StatusId, 'StatusId');
  const severity = label(OCSF_SEVERITY, input.SeverityId, 'SeverityId');
  const apply = (finding: Json) => {
    if (input.Comment !== undefined) finding.comment = input.Comment;
    if (status !== undefined) Object.assign(finding, { status_id: input.StatusId, status });
    if (severity !== undefined) Object.assign(finding, { severity_id: input.SeverityId, severity });
  };
  const processed: unknown[] = [];
  const unprocessed: unknown[] = [];
  for (const uid of input.MetadataUids ?? []) {
    const finding = securityHub.ocsfFindings.get(uid);
    if (finding) {
      apply(finding);
      processed.push({ MetadataUid: uid });
    } else {
      unprocessed.push({
        MetadataUid: uid,
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: 'Finding not found',
      });
    }
  }
  for (const identifier of input.FindingIdentifiers ?? []) {
    const finding = [...securityHub.ocsfFindings.values()].find(
      (f) =>
        valuesAt(f, 'finding_info.uid')[0] === identifier.FindingInfoUid &&
        valuesAt(f, 'cloud.account.uid')[0] === identifier.CloudAccountUid &&
        valuesAt(f, 'metadata.product.uid')[0] === identifier.MetadataProductUid,
    );
    if (finding) {
      apply(finding);
      processed.push({ FindingIdentifier: identifier });
    } else {
      unprocessed.push({
        FindingIdentifier: identifier,
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: 'Finding not found',
      });
    }
  }
  return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
}

/** The Security Hub calls the gateway answers itself, by method and path. */
const SECURITY_HUB_ROUTES: Readonly<Record<string, (input: Json) => unknown>> = {
  'POST /findings': (input) => {
    securityHub.queries.push(input);
    const matches = asffMatcher((input.Filters ?? {}) as Json);
    const all = [...securityHub.findings.values()].filter(matches);
    return page(all, input, 100);
  },
  'PATCH /findings/batchupdate': (input) => {
    securityHub.updates.push(input as FindingUpdateRequest);
    return batchUpdateFindings(input as FindingUpdateRequest);
  },
  'POST /findingsv2': (input) => {
    securityHub.queriesV2.push(input);
    const matches = ocsfMatcher(input.Filters as Json | undefined);
    const all = [...securityHub.ocsfFindings.values()].filter(matches);
    return page(all, input, 100);
  },
  'PATCH /findingsv2/batchupdatev2': (input) => {
    securityHub.updatesV2.push(input as FindingUpdateV2Request);
    return batchUpdateFindingsV2(input as FindingUpdateV2Request);
  },
};

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

let gateway: Promise<{ server: Server; endpoint: string }> | undefined;

const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

function ec2Answer(action: string, elements: string): string {
  return `<${action}Response xmlns="${EC2_XMLNS}"><requestId>gateway</requestId>${elements}</${action}Response>`;
}

/** moto itself, for what the gateway looks up or does on its own. */
function motoEc2(motoEndpoint: string): EC2Client {
  const client = new EC2Client({
    region: 'us-east-1',
    endpoint: motoEndpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  // Straight to moto, not through the gateway: name the account as the gateway does.
  client.middlewareStack.add(
    (next) => async (args) => {
      const { request } = args;
      if (typeof request === 'object' && request !== null && 'headers' in request) {
        const { headers } = request;
        if (typeof headers === 'object' && headers !== null) {
          Object.assign(headers, { 'x-moto-account-id': DEFAULT_MOTO_ACCOUNT });
        }
      }
      return next(args);
    },
    { step: 'build' },
  );
  return client;
}

/**
 * The gateway's own answer to an EC2 query call about auto-assign, or what
 * to do once moto has answered it, or undefined: pass it on as it is.
 */
async function autoAssignCall(
  form: URLSearchParams,
  motoEndpoint: string,
): Promise<{ readonly answer?: string; readonly after?: () => Promise<void> } | undefined> {
  const action = form.get('Action');
  const networkInterfaceId = form.get('NetworkInterfaceId') ?? '';
  if (
    action === 'DescribeNetworkInterfaceAttribute' &&
    form.get('Attribute') === 'associatePublicIpAddress'
  ) {
    const setting = interfaces.autoAssign.get(networkInterfaceId);
    const value =
      setting === undefined
        ? ''
        : `<associatePublicIpAddress>${setting}</associatePublicIpAddress>`;
    return {
      answer: ec2Answer(
        action,
        `<networkInterfaceId>${networkInterfaceId}</networkInterfaceId>${value}`,
      ),
    };
  }
  if (action === 'ModifyNetworkInterfaceAttribute' && form.has('AssociatePublicIpAddress')) {
    interfaces.autoAssign.set(networkInterfaceId, form.get('AssociatePublicIpAddress') === 'true');
    return { answer: ec2Answer(action, '<return>true</return>') };
  }
  if (action === 'DisassociateAddress') {
    const ec2 = motoEc2(motoEndpoint);
    const { Addresses } = await ec2.send(new DescribeAddressesCommand({}));
    const eni = Addresses?.find(
      (a) => a.AssociationId === form.get('AssociationId'),
    )?.NetworkInterfaceId;
    if (eni === undefined || interfaces.autoAssign.get(eni) !== true) return undefined;
    return {
      after: async () => {
        const allocated = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
        await ec2.send(
          new AssociateAddressCommand({
            AllocationId: allocated.AllocationId,
            NetworkInterfaceId: eni,
          }),
        );
        interfaces.addressesHandedOut.push({
          networkInterfaceId: eni,
          publicIp: allocated.PublicIp ?? '?',
        });
      },
    };
  }
  return undefined;
}

/** The sample findings' account: moto's account for every request not made as an assumed role. */
export const DEFAULT_MOTO_ACCOUNT = '111111111111';

/**
 * Moto attributes a request to the account of its access key when the key
 * is one it issued for an assumed role (ASIA…, from AssumeRole); every other
 * request is made to act in the sample findings' account, as MOTO_ACCOUNT_ID
 * would, but without pinning assumed roles to it too.
 */
function accountOf(authorization: string | undefined): Record<string, string> {
  const key = /Credential=([A-Z0-9]+)\//.exec(authorization ?? '')?.[1];
  return key?.startsWith('ASIA') ? {} : { 'x-moto-account-id': DEFAULT_MOTO_ACCOUNT };
}

/** The gateway's endpoint in front of `motoEndpoint`, started on first use on 127.0.0.1. */
/**
 * Closes the gateway and its kept-alive connections, so the test worker can
 * exit as soon as its file is done (a listening server would hold it open).
 */
export async function stopGateway(): Promise<void> {
  const running = gateway;
  gateway = undefined;
  if (!running) return;
  const { server } = await running;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function gatewayEndpoint(motoEndpoint: string): Promise<string> {
  gateway ??= new Promise((resolve, reject) => {
    const target = new URL(motoEndpoint);
    const server = createServer(async (request, response) => {
      let payload = await body(request);
      const text = payload.toString('utf8');
      const route = SECURITY_HUB_ROUTES[`${request.method} ${request.url?.split('?')[0]}`];
      if (route) {
        let status = 200;
        let answer: unknown;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        try {
          answer = route(text ? (JSON.parse(text) as Json) : {});
        } catch (error) {
          // REST-JSON errors: the SDK reads the type from this header.
          const invalid = error instanceof InvalidInput;
          const code = !invalid
            ? 'InternalException'
            : request.url?.startsWith('/findingsv2')
              ? 'ValidationException'
              : 'InvalidInputException';
          status = invalid ? 400 : 500;
          headers['x-amzn-errortype'] = code;
          answer = { Code: code, Message: String(error instanceof Error ? error.message : error) };
        }
        response.writeHead(status, headers);
        response.end(JSON.stringify(answer));
        return;
      }
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
        request.url?.split('?')[0] ?? '',
      );
      if (
        request.method === 'POST' &&
        invoke &&
        request.headers['x-amz-invocation-type'] === 'Event'
      ) {
        lambdaInvocations.push({
          functionName: decodeURIComponent(invoke[1] ?? ''),
          payload: text ? (JSON.parse(text) as unknown) : undefined,
        });
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end();
        return;
      }
      if (text.includes('Action=DescribeSecurityGroupReferences')) {
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(
          '<DescribeSecurityGroupReferencesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>gateway</requestId><securityGroupReferenceSet/></DescribeSecurityGroupReferencesResponse>',
        );
        return;
      }
      const paging = ec2Paging(text);
      if (paging && 'answer' in paging) {
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(paging.answer);
        return;
      }
      const headers = { ...request.headers };
      if (paging) {
        payload = Buffer.from(paging.forward, 'utf8');
        headers['content-length'] = String(payload.length);
      }
      const own = text.includes('Action=')
        ? await autoAssignCall(new URLSearchParams(text), motoEndpoint)
        : undefined;
      if (own?.answer !== undefined) {
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(own.answer);
        return;
      }
      const upstream = forward(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: { ...headers, ...accountOf(request.headers.authorization) },
        },
        (answer) => {
          const after = own?.after;
          if (after === undefined || answer.statusCode !== 200) {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            return;
          }
          // Hold moto's answer until what EC2 would do with it is done.
          body(answer)
            .then(async (answered) => {
              await after();
              response.writeHead(200, answer.headers);
              response.end(answered);
            })
            .catch((error: unknown) => {
              response.writeHead(502);
              response.end(String(error));
            });
        },
      );
      upstream.on('error', (error) => {
        response.writeHead(502);
        response.end(String(error));
      });
      upstream.end(payload);
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('gateway has no port'));
      resolve({ server, endpoint: `http://127.0.0.1:${address.port}` });
    });
  });
  return (await gateway).endpoint;
}
