/**
 * Where the sweep reads failed findings: Security Hub CSPM (GetFindings,
 * ASFF) and the new Security Hub (GetFindingsV2, OCSF), of this account and
 * region (in org mode: of the allowed member accounts and regions, which the
 * administrator's Security Hub aggregates), FAILED and ACTIVE, of the
 * deployed controls. Each finding is parsed by the same intake parsers the
 * pipeline uses; one that cannot be read is reported as unreadable, never
 * guessed at.
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
import type { OrganizationScope } from '../core/organization';
import { isRecord } from '../core/schema';
import { type SweepScope, securityHubProducts } from './decide';
import type {
  AccountFilter,
  QueryForm,
  SweepQuery,
  SweepSource,
  SweptItem,
  SweptPage,
} from './sweep';

/**
 * Security Hub takes up to 20 values for one filter attribute (GetFindings),
 * and up to 20 filters of one type in a composite filter (GetFindingsV2).
 */
export const VALUES_PER_FILTER = 20;
/** GetFindings answers at most 100 findings a page. */
export const PAGE_SIZE = 100;

export interface SourceScope {
  /** This deployment's own account and region, and its partition. */
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /**
   * Org mode: sweep these member accounts and regions instead.
   * @default undefined — single-account mode: this account and region only
   */
  readonly organization?:
    | Pick<OrganizationScope, 'accounts' | 'excludeAccounts' | 'regions'>
    | undefined;
}

function chunks<T>(list: readonly T[], size: number = VALUES_PER_FILTER): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Where the sweep reads, as shares that each fit one query: this account and
 * region; or in org mode the allowed regions 20 at a time, and the listed
 * accounts (less the excluded ones) 20 at a time, or every account but the
 * excluded ones. Values of one attribute are ORed, so listed accounts and
 * regions split into more queries; exclusions are ANDed (NOT_EQUALS) and
 * cannot be split: beyond 20, the rest are read and left by row 0.
 */
export function sweepPlaces(
  where: SourceScope,
): { readonly accounts: AccountFilter; readonly regions: readonly string[] }[] {
  const { organization } = where;
  if (organization === undefined) {
    return [{ accounts: { only: [where.account] }, regions: [where.region] }];
  }
  const { accounts, excludeAccounts } = organization;
  const accountShares: AccountFilter[] =
    accounts === '*'
      ? [{ except: excludeAccounts.slice(0, VALUES_PER_FILTER) }]
      : chunks(accounts.filter((account) => !excludeAccounts.includes(account))).map((only) => ({
          only,
        }));
  return chunks(organization.regions).flatMap((regions) =>
    accountShares.map((share) => ({ accounts: share, regions })),
  );
}

/** The queries that find every failed finding of `controls`: per form and place, 20 controls at a time. */
export function sweepQueries(controls: readonly string[], where: SourceScope): SweepQuery[] {
  const places = sweepPlaces(where);
  const forms: QueryForm[] = ['security-control-id', 'product-fields', 'ocsf'];
  return forms.flatMap((form) =>
    places.flatMap((place) => chunks(controls).map((ids) => ({ form, controls: ids, ...place }))),
  );
}

/** What a sweep of `controls` reads, and what it may act on. */
export function sweepTargets(
  controls: readonly string[],
  where: SourceScope,
): { queries: SweepQuery[]; scope: SweepScope } {
  const deployed = [...controls].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const { organization } = where;
  return {
    queries: sweepQueries(deployed, where),
    scope: {
      account: where.account,
      region: where.region,
      products: (organization?.regions ?? [where.region]).flatMap((region) =>
        securityHubProducts(where.partition, region),
      ),
      controls: new Set(deployed),
      ...(organization
        ? {
            organization: {
              accounts: organization.accounts,
              excludeAccounts: organization.excludeAccounts,
              regions: organization.regions,
            },
          }
        : {}),
    },
  };
}

/** The accounts and regions the sweep reads, in words (the CLI's and the summary's). */
export function describePlaces(where: SourceScope): { accounts: string; regions: string } {
  const { organization } = where;
  if (organization === undefined) return { accounts: where.account, regions: where.region };
  const { accounts, excludeAccounts } = organization;
  const except = excludeAccounts.length > 0 ? ` except ${excludeAccounts.join(', ')}` : '';
  return {
    accounts:
      accounts === '*'
        ? `every account Security Hub aggregates${except}`
        : accounts.filter((account) => !excludeAccounts.includes(account)).join(', '),
    regions: organization.regions.join(', '),
  };
}

const equals = (value: string) => ({ Value: value, Comparison: 'EQUALS' as const });
const notEquals = (value: string) => ({ Value: value, Comparison: 'NOT_EQUALS' as const });

function productArn(partition: string, region: string, resource: 'product' | 'productv2') {
  return `arn:${partition}:securityhub:${region}::${resource}/aws/securityhub`;
}

export function asffFilters(
  query: SweepQuery,
  partition: string,
): NonNullable<GetFindingsCommandInput['Filters']> {
  const { accounts } = query;
  const accountFilter =
    'only' in accounts ? accounts.only.map(equals) : accounts.except.map(notEquals);
  return {
    ProductArn: query.regions.map((region) => equals(productArn(partition, region, 'product'))),
    // Every account but none excluded: no filter (an empty list is not one AWS takes).
    ...(accountFilter.length > 0 ? { AwsAccountId: accountFilter } : {}),
    Region: query.regions.map(equals),
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

type OcsfFilters = NonNullable<GetFindingsV2CommandInput['Filters']>;
type Composite = NonNullable<OcsfFilters['CompositeFilters']>[number];
type OcsfStringFilter = NonNullable<Composite['StringFilters']>[number];

/**
 * The new Security Hub's filters: composites ANDed together. A field with
 * one value joins the first composite's AND; one with more values gets a
 * composite of its own whose operator ORs them, as does the list of
 * controls; excluded accounts are a composite that ANDs NOT_EQUALS. At most
 * five composites (AWS takes ten), each of at most 20 string filters.
 */
export function ocsfFilters(query: SweepQuery, partition: string): OcsfFilters {
  const field = (
    FieldName: OcsfStringFilter['FieldName'],
    Filter: OcsfStringFilter['Filter'],
  ): OcsfStringFilter => ({ FieldName, Filter });
  const { accounts } = query;
  const anyOf: [OcsfStringFilter['FieldName'], string[]][] = [
    [
      'metadata.product.uid',
      query.regions.map((region) => productArn(partition, region, 'productv2')),
    ],
    ['cloud.account.uid', 'only' in accounts ? [...accounts.only] : []],
    ['cloud.region', [...query.regions]],
  ];
  const single = anyOf.filter(([, values]) => values.length === 1);
  const several = anyOf.filter(([, values]) => values.length > 1);
  const excluded = 'except' in accounts ? accounts.except : [];
  return {
    CompositeOperator: 'AND',
    CompositeFilters: [
      {
        Operator: 'AND',
        ...(single.length > 0
          ? { StringFilters: single.map(([name, [value = '']]) => field(name, equals(value))) }
          : {}),
        // compliance.status_id 3: Fail.
        NumberFilters: [{ FieldName: 'compliance.status_id', Filter: { Eq: 3 } }],
      },
      ...several.map(
        ([name, values]): Composite => ({
          Operator: 'OR',
          StringFilters: values.map((value) => field(name, equals(value))),
        }),
      ),
      ...(excluded.length > 0
        ? [
            {
              Operator: 'AND' as const,
              StringFilters: excluded.map((account) =>
                field('cloud.account.uid', notEquals(account)),
              ),
            },
          ]
        : []),
      {
        Operator: 'OR',
        StringFilters: query.controls.map((id) => field('compliance.control', equals(id))),
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
    private readonly partition: string,
  ) {}

  async page(query: SweepQuery, nextToken: string | undefined): Promise<SweptPage> {
    if (query.form === 'ocsf') {
      const page = await this.client.send(
        new GetFindingsV2Command({
          Filters: ocsfFilters(query, this.partition),
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
        Filters: asffFilters(query, this.partition),
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
