import {
  GetFindingsCommand,
  GetFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../lambdas/core/errors';
import { readReconcilerEnvironment } from '../../../lambdas/reconciler/env';
import { createReconcilerHandler } from '../../../lambdas/reconciler/reconciler';
import { strictMock } from '../../support/aws';
import { fakeClock } from '../../support/control';
import { ACCOUNT, type Json, REGION } from '../../support/fixtures';
import { LAMBDA_CONTEXT } from '../../support/handler';
import { ocsfFinding } from '../../support/ocsf';
import { asMember, MEMBER, MEMBER_REGION, SCOPE as ORGANIZATION } from '../../support/organization';
import {
  CONTROL_FUNCTIONS,
  failedFinding,
  fakeLambda,
  historyEntry,
  RECONCILER_FUNCTION,
  reconcilerEnv,
  stateTable,
  TOPIC,
} from '../../support/reconciler';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');
const SWEEP_ID = '2026-11-30T12:00:00Z';
const PRODUCT = `arn:aws:securityhub:${REGION}::product/aws/securityhub`;
const equals = (Value: string) => ({ Value, Comparison: 'EQUALS' as const });

/** What the sweep must ask for: this account and region, FAILED and ACTIVE, the deployed controls. */
const SCOPE_FILTERS = {
  ProductArn: [equals(PRODUCT)],
  AwsAccountId: [equals(ACCOUNT)],
  Region: [equals(REGION)],
  ComplianceStatus: [equals('FAILED')],
  RecordState: [equals('ACTIVE')],
};
const CONSOLIDATED = {
  ...SCOPE_FILTERS,
  ComplianceSecurityControlId: [equals('EC2.2'), equals('EC2.9')],
};
const LEGACY = {
  ...SCOPE_FILTERS,
  ProductFields: ['EC2.2', 'EC2.9'].map((Value) => ({
    Key: 'ControlId',
    Value,
    Comparison: 'EQUALS' as const,
  })),
};
const OCSF = {
  CompositeOperator: 'AND',
  CompositeFilters: [
    {
      Operator: 'AND',
      StringFilters: [
        {
          FieldName: 'metadata.product.uid',
          Filter: equals(`arn:aws:securityhub:${REGION}::productv2/aws/securityhub`),
        },
        { FieldName: 'cloud.account.uid', Filter: equals(ACCOUNT) },
        { FieldName: 'cloud.region', Filter: equals(REGION) },
      ],
      NumberFilters: [{ FieldName: 'compliance.status_id', Filter: { Eq: 3 } }],
    },
    {
      Operator: 'OR',
      StringFilters: ['EC2.2', 'EC2.9'].map((id) => ({
        FieldName: 'compliance.control',
        Filter: equals(id),
      })),
    },
  ],
};

/** Security Hub's throttling answer: LimitExceededException, HTTP 429. */
function throttled(): Error {
  const error = new Error('Rate exceeded');
  error.name = 'LimitExceededException';
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 429 } });
  return error;
}

function consolidated(n: number, changes: Record<string, unknown> = {}): Json {
  return failedFinding(n, { consolidated: true, changes });
}

function findingId(n: number): string {
  return String(consolidated(n).Id);
}

/**
 * The reconciler with every AWS service it talks to stood in for. Time is the
 * fake clock's; each GetFindings call takes `pageMs` of it, so a sweep can
 * run out of time as a real one does.
 */
function reconciler(
  options: { pageMs?: number; timeoutMs?: number; env?: Record<string, string | undefined> } = {},
) {
  const { clock, sleeps } = fakeClock(NOW);
  const securityHub = new SecurityHubClient({ region: REGION });
  const hub = strictMock(securityHub);
  const sns = new SNSClient({ region: REGION });
  const topic = strictMock(sns);
  topic.on(PublishCommand, { TopicArn: TOPIC }).resolves({ MessageId: 'message-1' });
  const table = stateTable();
  const lambda = fakeLambda();
  const handler = createReconcilerHandler({
    env: reconcilerEnv(options.env),
    securityHub,
    sns,
    dynamodb: table.client,
    invoker: lambda.connect,
    clock,
  });
  const pageMs = options.pageMs ?? 0;
  let invocations = 0;
  /** Answers for one query, page by page; each page's token leads to the next. */
  const pages = (filters: Json, answers: readonly (readonly Json[] | Error)[], v2 = false) => {
    answers.forEach((answer, index) => {
      const input = {
        Filters: filters,
        MaxResults: 100,
        NextToken: index === 0 ? undefined : `token-${index}`,
      };
      const command = (v2 ? GetFindingsV2Command : GetFindingsCommand) as typeof GetFindingsCommand;
      const tail = index < answers.length - 1 ? { NextToken: `token-${index + 1}` } : {};
      hub.on(command, input, true).callsFake(async () => {
        if (pageMs > 0) await clock.sleep(pageMs);
        if (answer instanceof Error) throw answer;
        return { Findings: answer, ...tail };
      });
    });
  };
  return {
    clock,
    sleeps,
    hub,
    topic,
    table,
    lambda,
    /** Every query answers one empty page. */
    empty() {
      pages(CONSOLIDATED, [[]]);
      pages(LEGACY, [[]]);
      pages(OCSF, [[]], true);
    },
    pages,
    async invoke(event: Json) {
      invocations += 1;
      const end = clock.now() + (options.timeoutMs ?? 900_000);
      const context = {
        ...LAMBDA_CONTEXT,
        functionName: RECONCILER_FUNCTION,
        awsRequestId: `request-${invocations}`,
        getRemainingTimeInMillis: () => end - clock.now(),
      } as Context;
      return handler(event, context);
    },
    /** The reconciler's hand-ons to itself, in order. */
    handOns() {
      return lambda.invocations.filter((i) => i.functionName === RECONCILER_FUNCTION);
    },
    /** The requests handed to control functions (not to the reconciler itself). */
    handed() {
      return lambda.invocations.filter((i) => i.functionName !== RECONCILER_FUNCTION);
    },
    summaries() {
      return topic.commandCalls(PublishCommand).map((call) => call.args[0].input);
    },
  };
}

const START = { type: 'hubfix.reconcile', sweepId: SWEEP_ID };

describe('the reconciler', () => {
  it('pages every query to the end and hands never-handled findings on as imported ones', async () => {
    // Prepare: three consolidated pages (the middle one empty, with a token, as Security Hub does).
    const r = reconciler();
    r.pages(CONSOLIDATED, [[consolidated(1), consolidated(2)], [], [consolidated(3)]]);
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);

    // Act
    const result = await r.invoke(START);

    // Assess
    expect(result).toMatchObject({ status: 'finished', findings: 3, handed: 3 });
    expect(r.hub.commandCalls(GetFindingsCommand)).toHaveLength(4);
    expect(r.hub.commandCalls(GetFindingsV2Command)).toHaveLength(1);
    expect(r.handed()).toEqual([
      {
        functionName: CONTROL_FUNCTIONS['EC2.2'],
        payload: {
          type: 'hubfix.finding-request',
          requestId: `reconciler-${SWEEP_ID}-0.0-EC2.2-imported-0`,
          request: 'imported',
          origin: 'reconciler',
          findings: [1, 2].map((n) => ({ format: 'asff', id: findingId(n), productArn: PRODUCT })),
        },
      },
      {
        functionName: CONTROL_FUNCTIONS['EC2.2'],
        payload: {
          type: 'hubfix.finding-request',
          requestId: `reconciler-${SWEEP_ID}-0.2-EC2.2-imported-0`,
          request: 'imported',
          origin: 'reconciler',
          findings: [{ format: 'asff', id: findingId(3), productArn: PRODUCT }],
        },
      },
    ]);
    expect(r.table.reads).toEqual([1, 2, 3].map((n) => `EC2.2#finding#${findingId(n)}`));
  });

  it('decides each finding by what hubfix last did with it, and sends one summary', async () => {
    // Prepare: fixed two days ago and still failing; fixed an hour ago; suppressed by hubfix.
    const r = reconciler();
    const ago = (hours: number) => new Date(NOW - hours * 3_600_000);
    r.table.remember('EC2.2', findingId(1), historyEntry('REMEDIATED', ago(48)));
    r.table.remember('EC2.2', findingId(2), historyEntry('REMEDIATED', ago(1)));
    r.table.remember('EC2.2', findingId(3), historyEntry('SUPPRESSED', ago(5), 'SUPPRESSED'));
    r.pages(CONSOLIDATED, [
      [consolidated(1), consolidated(2), consolidated(3, { 'Workflow.Status': 'SUPPRESSED' })],
    ]);
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);

    // Act
    await r.invoke(START);

    // Assess
    expect(r.handed().map((i) => i.payload)).toMatchObject([
      {
        request: 'reconcile',
        findings: [{ id: findingId(1) }, { id: findingId(3) }],
      },
    ]);
    const [summary, ...more] = r.summaries();
    expect(more).toEqual([]);
    expect(summary?.Subject).toBe(
      `hubfix sweep: 3 failed findings, 2 handed on (${ACCOUNT} ${REGION})`,
    );
    expect(summary?.Message).toMatch(
      /CONTROL\s+FINDINGS\s+BACKFILL\s+STILL-FAILING\s+RE-DECIDE\s+SUPPRESSION\s+WITHIN-GRACE/,
    );
    expect(summary?.Message).toMatch(/\nEC2\.2\s+3\s+0\s+1\s+0\s+1\s+1\s+0\s+0\s+0\n/);
  });

  it('counts findings it cannot read, and another account’s, and acts on neither', async () => {
    // Prepare: Security Hub returns a finding without an id, and one of another account.
    const r = reconciler();
    const unreadable = { ...consolidated(1), Id: undefined };
    const foreign = consolidated(2, { AwsAccountId: '222222222222' });
    r.pages(CONSOLIDATED, [[unreadable, foreign]]);
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);

    // Act
    const result = await r.invoke(START);

    // Assess
    expect(result).toMatchObject({ status: 'finished', findings: 1, handed: 0 });
    expect(r.handed()).toEqual([]);
    expect(r.table.reads).toEqual([]);
    const message = r.summaries()[0]?.Message ?? '';
    expect(message).toContain('Unreadable: 1 finding(s)');
    expect(message).toMatch(/\nEC2\.2\s+1(\s+0){7}\s+1\n/);
  });

  it('skips a legacy answer that also carries a SecurityControlId (the first query has it)', async () => {
    const r = reconciler();
    r.pages(CONSOLIDATED, [[consolidated(1)]]);
    r.pages(LEGACY, [[consolidated(1), failedFinding(2)]]);
    r.pages(OCSF, [[]], true);

    const result = await r.invoke(START);

    expect(result).toMatchObject({ findings: 2, handed: 2 });
    expect(r.handed().flatMap((i) => (i.payload.findings as Json[]).map((f) => f.id))).toEqual([
      findingId(1),
      String(failedFinding(2).Id),
    ]);
  });

  it('backs off when GetFindings is throttled, then reads on', async () => {
    // Prepare: the first page is refused twice with Security Hub's 429.
    const r = reconciler();
    let calls = 0;
    r.hub
      .on(GetFindingsCommand, { Filters: CONSOLIDATED, MaxResults: 100, NextToken: undefined })
      .callsFake(async () => {
        calls += 1;
        if (calls <= 2) throw throttled();
        return { Findings: [consolidated(1)] };
      });
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);

    // Act
    const result = await r.invoke(START);

    // Assess
    expect(result).toMatchObject({ status: 'finished', handed: 1 });
    expect(r.sleeps).toEqual([2_000, 4_000]);
  });

  it('stops and says so when throttling outlasts its backoff, and hands nothing on from there', async () => {
    const r = reconciler();
    r.pages(CONSOLIDATED, [[consolidated(1)], throttled()]);

    const result = await r.invoke(START);

    expect(result).toMatchObject({ status: 'stopped', handed: 1 });
    expect(r.sleeps).toEqual([2_000, 4_000, 8_000, 16_000]);
    const [summary] = r.summaries();
    expect(summary?.Subject).toMatch(/^hubfix sweep \(incomplete\)/);
    expect(summary?.Message).toContain('Security Hub CSPM (GetFindings) failed');
  });

  it('hands the new Security Hub’s OCSF findings on by their uid', async () => {
    const r = reconciler();
    r.pages(CONSOLIDATED, [[]]);
    r.pages(LEGACY, [[]]);
    const finding = ocsfFinding('EC2.2');
    r.pages(OCSF, [[finding]], true);

    const result = await r.invoke(START);

    expect(result).toMatchObject({ status: 'finished', findings: 1, handed: 1 });
    expect(r.handed().map((i) => i.payload)).toMatchObject([
      {
        request: 'imported',
        findings: [{ format: 'ocsf', uid: (finding.finding_info as Json).uid }],
      },
    ]);
  });

  it('skips a product it may not read, and says so', async () => {
    const r = reconciler();
    r.pages(CONSOLIDATED, [[]]);
    r.pages(LEGACY, [[]]);
    const denied = new Error('Security Hub is not enabled');
    denied.name = 'AccessDeniedException';
    Object.assign(denied, { $fault: 'client', $metadata: { httpStatusCode: 403 } });
    r.pages(OCSF, [denied], true);

    const result = await r.invoke(START);

    expect(result).toMatchObject({ status: 'finished' });
    expect(r.summaries()[0]?.Message).toContain(
      'Not read: the new Security Hub (GetFindingsV2): AccessDeniedException',
    );
  });

  it('hands the sweep to its next invocation when time runs short, and finishes there', async () => {
    // Prepare: each page takes 20 s; 70 s less the reserves (15 s, and 30 s a page) fit two pages.
    const r = reconciler({ pageMs: 20_000, timeoutMs: 70_000 });
    r.pages(CONSOLIDATED, [[consolidated(1)], [consolidated(2)], [consolidated(3)]]);
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);

    // Act: each hand-on is delivered, as Lambda would.
    const results = [await r.invoke(START)];
    while (results.at(-1)?.status === 'paused') {
      results.push(await r.invoke(r.handOns().at(-1)?.payload ?? {}));
    }

    // Assess
    expect(results.map((x) => [x.status, x.step, x.findings])).toEqual([
      ['paused', 0, 2],
      ['paused', 1, 3],
      ['finished', 2, 3],
    ]);
    expect(r.handOns()[0]?.payload).toMatchObject({
      type: 'hubfix.reconcile',
      sweepId: SWEEP_ID,
      state: { step: 1, query: 0, page: 2, nextToken: 'token-2' },
    });
    expect(r.handed().flatMap((i) => (i.payload.findings as Json[]).map((f) => f.id))).toEqual(
      [1, 2, 3].map(findingId),
    );
    expect(r.summaries()).toHaveLength(1);
    expect(r.summaries()[0]?.Message).toMatch(/Sweep:\s+\S+, 3 invocation\(s\), 5 page\(s\)/);
  });

  it('sweeps 10,000 findings across invocations, each handed on once', async () => {
    // Prepare: 100 pages of 100; a page takes 10 s (throttled GetFindings, 100 history reads),
    // so a 15-minute invocation cannot read them all.
    const r = reconciler({ pageMs: 10_000 });
    const page = (p: number) => Array.from({ length: 100 }, (_, i) => consolidated(p * 100 + i));
    r.pages(
      CONSOLIDATED,
      Array.from({ length: 100 }, (_, p) => page(p)),
    );
    r.pages(LEGACY, [[]]);
    r.pages(OCSF, [[]], true);
    const started = performance.now();

    // Act
    const results = [await r.invoke(START)];
    while (results.at(-1)?.status === 'paused') {
      results.push(await r.invoke(r.handOns().at(-1)?.payload ?? {}));
    }
    const tookMs = performance.now() - started;

    // Assess
    expect(results.map((x) => x.status)).toEqual(['paused', 'finished']);
    expect(results.at(-1)).toMatchObject({ findings: 10_000, handed: 10_000 });
    const ids = r.handed().flatMap((i) => (i.payload.findings as Json[]).map((f) => f.id));
    expect(new Set(ids).size).toBe(10_000);
    expect(r.handed()).toHaveLength(100);
    expect(r.hub.commandCalls(GetFindingsCommand)).toHaveLength(101);
    expect(r.table.reads).toHaveLength(10_000);
    expect(r.summaries()).toHaveLength(1);
    // The figures for the closing note (canned answers, this machine).
    console.info(
      `10,000 findings: ${r.hub.calls().length} Security Hub calls, ${r.table.reads.length} history reads, ${r.lambda.invocations.length} invokes, ${results.length} invocations, ${Math.round(tookMs)} ms`,
    );
  });

  it('does nothing again when a step of the sweep is delivered twice', async () => {
    const r = reconciler();
    r.empty();

    await r.invoke(START);
    const again = await r.invoke(START);

    expect(again).toMatchObject({ status: 'duplicate', findings: 0 });
    expect(r.hub.commandCalls(GetFindingsCommand)).toHaveLength(2);
    expect(r.summaries()).toHaveLength(1);
    expect(r.table.items.get(`reconciler#sweep#${SWEEP_ID}#0`)).toMatchObject({
      holder: 'request-1',
    });
  });

  it('rejects an event it does not read, without calling AWS', async () => {
    const r = reconciler();

    const result = await r.invoke({ type: 'hubfix.reconcile', sweepId: 'x y' });

    expect(result).toMatchObject({ status: 'rejected' });
    expect(r.hub.calls()).toHaveLength(0);
    expect(r.table.items.size).toBe(0);
  });

  it('fails its cold start on an environment it cannot read', () => {
    expect(() =>
      createReconcilerHandler({
        env: reconcilerEnv({ HUBFIX_RECONCILER: JSON.stringify({ controls: {}, graceHours: 24 }) }),
      }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createReconcilerHandler({ env: reconcilerEnv({ HUBFIX_STATE_TABLE: undefined }) }),
    ).toThrow(/HUBFIX_STATE_TABLE/);
  });

  it('reads the organization scope at cold start, as the control functions read it', () => {
    const scope = { accounts: ['222222222222'], regions: ['eu-west-1'] };

    const env = readReconcilerEnvironment(
      reconcilerEnv({ HUBFIX_ORGANIZATION: JSON.stringify(scope) }),
    );

    expect(env.organization).toEqual({
      accounts: ['222222222222'],
      excludeAccounts: [],
      regions: ['eu-west-1'],
      memberRoleName: 'hubfix-member',
      maxChangesPerAccountPerHour: 20,
    });
    expect(readReconcilerEnvironment(reconcilerEnv()).organization).toBeUndefined();
  });

  it('fails its cold start on an organization scope it cannot read', () => {
    expect(() =>
      createReconcilerHandler({ env: reconcilerEnv({ HUBFIX_ORGANIZATION: '{"accounts":' }) }),
    ).toThrow(/HUBFIX_ORGANIZATION: is not JSON/);
    expect(() =>
      createReconcilerHandler({
        env: reconcilerEnv({
          HUBFIX_ORGANIZATION: JSON.stringify({ ...ORGANIZATION, regions: [] }),
        }),
      }),
    ).toThrow(ConfigurationError);
  });
});

/** Org mode: every account but 999999999999, in us-east-1 and eu-west-1. */
const ORG_ENV = { HUBFIX_ORGANIZATION: JSON.stringify(ORGANIZATION) };
const ORG_REGIONS = [REGION, MEMBER_REGION];
const ORG_SCOPE_FILTERS = {
  ProductArn: ORG_REGIONS.map((region) =>
    equals(`arn:aws:securityhub:${region}::product/aws/securityhub`),
  ),
  AwsAccountId: [{ Value: '999999999999', Comparison: 'NOT_EQUALS' }],
  Region: ORG_REGIONS.map(equals),
  ComplianceStatus: [equals('FAILED')],
  RecordState: [equals('ACTIVE')],
};
const ORG_CONSOLIDATED = {
  ...ORG_SCOPE_FILTERS,
  ComplianceSecurityControlId: [equals('EC2.2'), equals('EC2.9')],
};
const ORG_LEGACY = { ...ORG_SCOPE_FILTERS, ProductFields: LEGACY.ProductFields };
const ORG_OCSF = {
  CompositeOperator: 'AND',
  CompositeFilters: [
    {
      Operator: 'AND',
      NumberFilters: [{ FieldName: 'compliance.status_id', Filter: { Eq: 3 } }],
    },
    {
      Operator: 'OR',
      StringFilters: ORG_REGIONS.map((region) => ({
        FieldName: 'metadata.product.uid',
        Filter: equals(`arn:aws:securityhub:${region}::productv2/aws/securityhub`),
      })),
    },
    {
      Operator: 'OR',
      StringFilters: ORG_REGIONS.map((region) => ({
        FieldName: 'cloud.region',
        Filter: equals(region),
      })),
    },
    {
      Operator: 'AND',
      StringFilters: [
        {
          FieldName: 'cloud.account.uid',
          Filter: { Value: '999999999999', Comparison: 'NOT_EQUALS' },
        },
      ],
    },
    OCSF.CompositeFilters[1],
  ],
};

describe('the reconciler in org mode', () => {
  it("sweeps the organization's accounts and regions and hands a member's finding to its control", async () => {
    // Prepare: a member account's finding from eu-west-1, and the administrator's own.
    const r = reconciler({ env: ORG_ENV });
    const member = asMember(consolidated(1));
    const own = consolidated(2);
    r.pages(ORG_CONSOLIDATED, [[member, own]]);
    r.pages(ORG_LEGACY, [[]]);
    r.pages(ORG_OCSF, [[]], true);

    // Act
    const result = await r.invoke(START);

    // Assess
    expect(result).toMatchObject({ status: 'finished', findings: 2, handed: 2 });
    expect(r.handed()).toEqual([
      {
        functionName: CONTROL_FUNCTIONS['EC2.2'],
        payload: {
          type: 'hubfix.finding-request',
          requestId: `reconciler-${SWEEP_ID}-0.0-EC2.2-imported-0`,
          request: 'imported',
          origin: 'reconciler',
          findings: [
            {
              format: 'asff',
              id: String(member.Id),
              productArn: `arn:aws:securityhub:${MEMBER_REGION}::product/aws/securityhub`,
            },
            { format: 'asff', id: findingId(2), productArn: PRODUCT },
          ],
        },
      },
    ]);
    expect(String(member.Id)).toContain(`:${MEMBER_REGION}:${MEMBER}:`);
    expect(r.table.reads).toEqual([
      `EC2.2#finding#${String(member.Id)}`,
      `EC2.2#finding#${findingId(2)}`,
    ]);
    const [summary] = r.summaries();
    expect(summary?.Subject).toBe(
      `hubfix sweep: 2 failed findings, 2 handed on (${ACCOUNT} ${REGION})`,
    );
    expect(summary?.Message).toContain(
      'Swept:     accounts every account Security Hub aggregates except 999999999999; regions us-east-1, eu-west-1',
    );
  });

  it('leaves a finding of an account outside the scope as not its own, and reads no history for it', async () => {
    // Prepare: Security Hub answers a finding of the excluded account all the same.
    const r = reconciler({ env: ORG_ENV });
    r.pages(ORG_CONSOLIDATED, [[asMember(consolidated(1), '999999999999')]]);
    r.pages(ORG_LEGACY, [[]]);
    r.pages(ORG_OCSF, [[]], true);

    // Act
    const result = await r.invoke(START);

    // Assess
    expect(result).toMatchObject({ status: 'finished', findings: 1, handed: 0 });
    expect(r.handed()).toEqual([]);
    expect(r.table.reads).toEqual([]);
    expect(r.summaries()[0]?.Message).toMatch(/\nEC2\.2\s+1(\s+0){7}\s+1\n/);
  });
});
