/**
 * The sweep's queries and their filters, as Security Hub takes them: values
 * of one attribute (GetFindings) are ORed when EQUALS and ANDed when
 * NOT_EQUALS, at most 20 values an attribute and 10 attributes; GetFindingsV2
 * takes at most 10 composite filters of at most 20 filters of one type each
 * (botocore's securityhub service-2.json, AwsSecurityFindingFilters,
 * StringFilter and GetFindingsV2Request).
 */
import { describe, expect, it } from 'vitest';
import { parseAsffFinding } from '../../../lambdas/core/intake/asff';
import type { OrganizationScope } from '../../../lambdas/core/organization';
import { decideSweep } from '../../../lambdas/reconciler/decide';
import {
  asffFilters,
  describePlaces,
  ocsfFilters,
  type SourceScope,
  sweepQueries,
  sweepTargets,
} from '../../../lambdas/reconciler/source';
import type { SweepQuery } from '../../../lambdas/reconciler/sweep';
import { ACCOUNT, EC2_2_FINDING, REGION } from '../../support/fixtures';
import { asMember } from '../../support/organization';

const EU = 'eu-west-1';
const equals = (Value: string) => ({ Value, Comparison: 'EQUALS' as const });
const notEquals = (Value: string) => ({ Value, Comparison: 'NOT_EQUALS' as const });
const product = (region: string) => `arn:aws:securityhub:${region}::product/aws/securityhub`;
const productV2 = (region: string) => `arn:aws:securityhub:${region}::productv2/aws/securityhub`;
const CONTROLS = ['EC2.2', 'EC2.9'];
/** An account id for each n: 200000000001, 200000000002, ... */
const account = (n: number) => String(200_000_000_000 + n);

function where(organization?: Partial<OrganizationScope>): SourceScope {
  return {
    account: ACCOUNT,
    region: REGION,
    partition: 'aws',
    ...(organization
      ? {
          organization: {
            accounts: '*',
            excludeAccounts: [],
            regions: [REGION],
            ...organization,
          },
        }
      : {}),
  };
}

const consolidated = (filters: Record<string, unknown>) => ({
  ...filters,
  ComplianceStatus: [equals('FAILED')],
  RecordState: [equals('ACTIVE')],
  ComplianceSecurityControlId: CONTROLS.map(equals),
});
const status = [{ FieldName: 'compliance.status_id', Filter: { Eq: 3 } }];
const controls = {
  Operator: 'OR',
  StringFilters: CONTROLS.map((id) => ({ FieldName: 'compliance.control', Filter: equals(id) })),
};

/** [case, where, the consolidated query's GetFindings filters, the OCSF query's GetFindingsV2 filters] */
const TABLE: [string, SourceScope, Record<string, unknown>, Record<string, unknown>][] = [
  [
    'single-account mode: this account and region',
    where(),
    consolidated({
      ProductArn: [equals(product(REGION))],
      AwsAccountId: [equals(ACCOUNT)],
      Region: [equals(REGION)],
    }),
    {
      CompositeOperator: 'AND',
      CompositeFilters: [
        {
          Operator: 'AND',
          StringFilters: [
            { FieldName: 'metadata.product.uid', Filter: equals(productV2(REGION)) },
            { FieldName: 'cloud.account.uid', Filter: equals(ACCOUNT) },
            { FieldName: 'cloud.region', Filter: equals(REGION) },
          ],
          NumberFilters: status,
        },
        controls,
      ],
    },
  ],
  [
    'a list of accounts, less the excluded one, in two regions',
    where({
      accounts: [account(1), account(2), account(3)],
      excludeAccounts: [account(3)],
      regions: [REGION, EU],
    }),
    consolidated({
      ProductArn: [equals(product(REGION)), equals(product(EU))],
      AwsAccountId: [equals(account(1)), equals(account(2))],
      Region: [equals(REGION), equals(EU)],
    }),
    {
      CompositeOperator: 'AND',
      CompositeFilters: [
        { Operator: 'AND', NumberFilters: status },
        {
          Operator: 'OR',
          StringFilters: [REGION, EU].map((region) => ({
            FieldName: 'metadata.product.uid',
            Filter: equals(productV2(region)),
          })),
        },
        {
          Operator: 'OR',
          StringFilters: [account(1), account(2)].map((id) => ({
            FieldName: 'cloud.account.uid',
            Filter: equals(id),
          })),
        },
        {
          Operator: 'OR',
          StringFilters: [REGION, EU].map((region) => ({
            FieldName: 'cloud.region',
            Filter: equals(region),
          })),
        },
        controls,
      ],
    },
  ],
  [
    'every account but the excluded ones, in one region',
    where({ accounts: '*', excludeAccounts: [account(8), account(9)], regions: [EU] }),
    consolidated({
      ProductArn: [equals(product(EU))],
      AwsAccountId: [notEquals(account(8)), notEquals(account(9))],
      Region: [equals(EU)],
    }),
    {
      CompositeOperator: 'AND',
      CompositeFilters: [
        {
          Operator: 'AND',
          StringFilters: [
            { FieldName: 'metadata.product.uid', Filter: equals(productV2(EU)) },
            { FieldName: 'cloud.region', Filter: equals(EU) },
          ],
          NumberFilters: status,
        },
        {
          Operator: 'AND',
          StringFilters: [account(8), account(9)].map((id) => ({
            FieldName: 'cloud.account.uid',
            Filter: notEquals(id),
          })),
        },
        controls,
      ],
    },
  ],
  [
    'every account, none excluded: no account filter at all',
    where({ accounts: '*', regions: [EU] }),
    consolidated({ ProductArn: [equals(product(EU))], Region: [equals(EU)] }),
    {
      CompositeOperator: 'AND',
      CompositeFilters: [
        {
          Operator: 'AND',
          StringFilters: [
            { FieldName: 'metadata.product.uid', Filter: equals(productV2(EU)) },
            { FieldName: 'cloud.region', Filter: equals(EU) },
          ],
          NumberFilters: status,
        },
        controls,
      ],
    },
  ],
];

function ofForm(queries: readonly SweepQuery[], form: SweepQuery['form']): SweepQuery[] {
  return queries.filter((q) => q.form === form);
}

/** Security Hub's documented limits, checked on every query a sweep would send. */
function expectWithinLimits(queries: readonly SweepQuery[]): void {
  for (const query of queries) {
    if (query.form === 'ocsf') {
      const { CompositeFilters = [] } = ocsfFilters(query, 'aws');
      expect(CompositeFilters.length).toBeLessThanOrEqual(10);
      for (const composite of CompositeFilters) {
        expect(composite.StringFilters?.length ?? 0).toBeLessThanOrEqual(20);
      }
    } else {
      const filters = Object.values(asffFilters(query, 'aws'));
      expect(filters.length).toBeLessThanOrEqual(10);
      for (const values of filters) {
        expect(Array.isArray(values) && values.length > 0 && values.length <= 20).toBe(true);
      }
    }
  }
}

describe("the sweep's queries", () => {
  it.each(TABLE)('%s', (_case, scope, asff, ocsf) => {
    const queries = sweepQueries(CONTROLS, scope);

    expect(queries.map((q) => q.form)).toEqual(['security-control-id', 'product-fields', 'ocsf']);
    const [first, legacy, v2] = queries;
    if (!first || !legacy || !v2) throw new Error('three queries expected');
    expect(asffFilters(first, 'aws')).toEqual(asff);
    const { ComplianceSecurityControlId: _, ...common } = asff;
    expect(asffFilters(legacy, 'aws')).toEqual({
      ...common,
      ProductFields: CONTROLS.map((Value) => ({ Key: 'ControlId', Value, Comparison: 'EQUALS' })),
    });
    expect(ocsfFilters(v2, 'aws')).toEqual(ocsf);
    expectWithinLimits(queries);
  });

  it('splits more listed accounts than one query takes into queries of 20, each form alike', () => {
    const listed = Array.from({ length: 45 }, (_, i) => account(i + 1));
    const queries = sweepQueries(CONTROLS, where({ accounts: listed, regions: [REGION, EU] }));

    expect(queries).toHaveLength(9);
    for (const form of ['security-control-id', 'product-fields', 'ocsf'] as const) {
      const shares = ofForm(queries, form).map((q) => q.accounts);
      expect(shares).toEqual([
        { only: listed.slice(0, 20) },
        { only: listed.slice(20, 40) },
        { only: listed.slice(40) },
      ]);
    }
    const first = ofForm(queries, 'security-control-id').map((q) => asffFilters(q, 'aws'));
    expect(first.flatMap((f) => f.AwsAccountId?.map((a) => a.Value))).toEqual(listed);
    expectWithinLimits(queries);
  });

  it('splits more regions than one query takes, each with its own product ARNs', () => {
    const regions = Array.from({ length: 23 }, (_, i) => `us-test-${i + 1}`);
    const queries = sweepQueries(CONTROLS, where({ accounts: '*', regions }));

    const first = ofForm(queries, 'security-control-id');
    expect(first.map((q) => q.regions)).toEqual([regions.slice(0, 20), regions.slice(20)]);
    expect(asffFilters(first[1] as SweepQuery, 'aws')).toMatchObject({
      ProductArn: regions.slice(20).map((r) => equals(product(r))),
      Region: regions.slice(20).map(equals),
    });
    expectWithinLimits(queries);
  });

  it('splits more controls than one query takes, in every place', () => {
    const many = Array.from({ length: 21 }, (_, i) => `EC2.${i + 1}`);
    const queries = sweepQueries(many, where({ accounts: [account(1)], regions: [REGION, EU] }));

    expect(ofForm(queries, 'ocsf').map((q) => q.controls.length)).toEqual([20, 1]);
    expectWithinLimits(queries);
  });

  it('filters on the first 20 exclusions; the sweep leaves findings of the others as not its own', () => {
    const excluded = Array.from({ length: 22 }, (_, i) => account(i + 1));
    const scope = where({ accounts: '*', excludeAccounts: excluded, regions: [REGION] });
    const { queries, scope: sweepScope } = sweepTargets(CONTROLS, scope);

    expect(queries).toHaveLength(3);
    expect(queries[0]?.accounts).toEqual({ except: excluded.slice(0, 20) });
    expectWithinLimits(queries);
    const parsed = parseAsffFinding(asMember(EC2_2_FINDING, account(22), REGION), 0);
    if (!parsed.ok) throw parsed.error;
    expect(
      decideSweep({
        finding: parsed.finding,
        history: undefined,
        now: new Date(),
        graceMs: 3_600_000,
        scope: sweepScope,
      }),
    ).toMatchObject({ kind: 'leave', why: 'not-ours' });
  });

  it('acts on what it reads: the products of each allowed region, and the organization scope', () => {
    const { scope } = sweepTargets(
      ['EC2.9', 'EC2.2'],
      where({ accounts: '*', excludeAccounts: [account(9)], regions: [REGION, EU] }),
    );

    expect(scope).toEqual({
      account: ACCOUNT,
      region: REGION,
      products: [product(REGION), productV2(REGION), product(EU), productV2(EU)],
      controls: new Set(CONTROLS),
      organization: { accounts: '*', excludeAccounts: [account(9)], regions: [REGION, EU] },
    });
    expect(sweepTargets(CONTROLS, where()).scope).toEqual({
      account: ACCOUNT,
      region: REGION,
      products: [product(REGION), productV2(REGION)],
      controls: new Set(CONTROLS),
    });
  });

  it.each([
    [where(), { accounts: ACCOUNT, regions: REGION }],
    [
      where({ accounts: '*', excludeAccounts: [account(9)], regions: [REGION, EU] }),
      {
        accounts: `every account Security Hub aggregates except ${account(9)}`,
        regions: 'us-east-1, eu-west-1',
      },
    ],
    [
      where({ accounts: [account(1), account(2)], excludeAccounts: [account(2)] }),
      { accounts: account(1), regions: REGION },
    ],
  ])('says where it sweeps (%#)', (scope, words) => {
    expect(describePlaces(scope)).toEqual(words);
  });
});
