/**
 * Where the sweep reads failed findings: Security Hub CSPM (GetFindings,
 * ASFF) and the new Security Hub (GetFindingsV2, OCSF), this account and
 * region only, FAILED and ACTIVE, of the deployed controls. Each finding is
 * parsed by the same intake parsers the pipeline uses; one that cannot be
 * read is reported as unreadable, never guessed at.
 *
 * A control's ASFF findings come in two forms, as the EventBridge rules
 * route them (lib/event-patterns.ts): consolidated ones carry
 * `Compliance.SecurityControlId`, legacy per-standard ones often only
 * `ProductFields.ControlId`. GetFindings ANDs different attributes, so each
 * form is its own query; a finding the legacy query returns that also
 * carries a SecurityControlId belongs to the first query and is skipped
 * there, so no finding is counted twice.
 */
import {
  GetFindingsCommand,
  type GetFindingsCommandInput,
  GetFindingsV2Command,
  type GetFindingsV2CommandInput,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { parseAsffFinding } from '../core/intake/asff';
import { parseOcsfFinding } from '../core/intake/ocsf';
import type { ParsedFinding } from '../core/intake/types';
import { isRecord } from '../core/schema';
import { type SweepScope, securityHubProducts } from './decide';
import type { SweepQuery, SweepSource, SweptItem, SweptPage } from './sweep';

/** Security Hub takes up to 20 values for one filter attribute. */
export const CONTROLS_PER_QUERY = 20;
/** GetFindings answers at most 100 findings a page. */
export const PAGE_SIZE = 100;

/** The queries that find every failed finding of `controls`: per form, 20 controls at a time. */
export function sweepQueries(controls: readonly string[]): SweepQuery[] {
  const chunks: string[][] = [];
  for (let i = 0; i < controls.length; i += CONTROLS_PER_QUERY) {
    chunks.push(controls.slice(i, i + CONTROLS_PER_QUERY));
  }
  return [
    ...chunks.map((ids) => ({ form: 'security-control-id' as const, controls: ids })),
    ...chunks.map((ids) => ({ form: 'product-fields' as const, controls: ids })),
    ...chunks.map((ids) => ({ form: 'ocsf' as const, controls: ids })),
  ];
}

export interface SourceScope {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** What a sweep of `controls` reads, and what it may act on. */
export function sweepTargets(
  controls: readonly string[],
  where: SourceScope,
): { queries: SweepQuery[]; scope: SweepScope } {
  const deployed = [...controls].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return {
    queries: sweepQueries(deployed),
    scope: {
      account: where.account,
      region: where.region,
      products: securityHubProducts(where.partition, where.region),
      controls: new Set(deployed),
    },
  };
}

const equals = (value: string) => ({ Value: value, Comparison: 'EQUALS' as const });

export function asffFilters(
  query: SweepQuery,
  scope: SourceScope,
): NonNullable<GetFindingsCommandInput['Filters']> {
  return {
    ProductArn: [
      equals(`arn:${scope.partition}:securityhub:${scope.region}::product/aws/securityhub`),
    ],
    AwsAccountId: [equals(scope.account)],
    Region: [equals(scope.region)],
    ComplianceStatus: [equals('FAILED')],
    RecordState: [equals('ACTIVE')],
    ...(query.form === 'security-control-id'
      ? { ComplianceSecurityControlId: query.controls.map(equals) }
      : {
          ProductFields: query.controls.map((id) => ({
            Key: 'ControlId',
            Value: id,
            Comparison: 'EQUALS' as const,
          })),
        }),
  };
}

export function ocsfFilters(
  query: SweepQuery,
  scope: SourceScope,
): NonNullable<GetFindingsV2CommandInput['Filters']> {
  const field = (FieldName: string, value: string) => ({
    FieldName: FieldName as 'cloud.region',
    Filter: equals(value),
  });
  return {
    CompositeOperator: 'AND',
    CompositeFilters: [
      {
        Operator: 'AND',
        StringFilters: [
          field(
            'metadata.product.uid',
            `arn:${scope.partition}:securityhub:${scope.region}::productv2/aws/securityhub`,
          ),
          field('cloud.account.uid', scope.account),
          field('cloud.region', scope.region),
        ],
        // compliance.status_id 3: Fail.
        NumberFilters: [{ FieldName: 'compliance.status_id', Filter: { Eq: 3 } }],
      },
      {
        Operator: 'OR',
        StringFilters: query.controls.map((id) => field('compliance.control', id)),
      },
    ],
  };
}

function item(parsed: ParsedFinding): SweptItem {
  return parsed.ok
    ? { kind: 'finding', finding: parsed.finding }
    : { kind: 'unreadable', findingId: parsed.findingId, error: parsed.error.message };
}

/** A legacy-form answer that carries a SecurityControlId: the consolidated query has it. */
function carriesSecurityControlId(raw: unknown): boolean {
  return (
    isRecord(raw) &&
    isRecord(raw.Compliance) &&
    typeof raw.Compliance.SecurityControlId === 'string'
  );
}

export class SecurityHubSweepSource implements SweepSource {
  constructor(
    private readonly client: SecurityHubClient,
    private readonly scope: SourceScope,
  ) {}

  async page(query: SweepQuery, nextToken: string | undefined): Promise<SweptPage> {
    if (query.form === 'ocsf') {
      const page = await this.client.send(
        new GetFindingsV2Command({
          Filters: ocsfFilters(query, this.scope),
          MaxResults: PAGE_SIZE,
          NextToken: nextToken,
        }),
      );
      return {
        items: ((page.Findings ?? []) as unknown[]).map((raw, i) => item(parseOcsfFinding(raw, i))),
        nextToken: page.NextToken || undefined,
      };
    }
    const page = await this.client.send(
      new GetFindingsCommand({
        Filters: asffFilters(query, this.scope),
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
      }),
    );
    return {
      items: (page.Findings ?? []).map((raw, i) =>
        query.form === 'product-fields' && carriesSecurityControlId(raw)
          ? { kind: 'duplicate' }
          : item(parseAsffFinding(raw, i)),
      ),
      nextToken: page.NextToken || undefined,
    };
  }
}
