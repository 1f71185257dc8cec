import {
  GetFindingsCommand,
  GetFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import { DynamoDbStateStore } from '../../../lambdas/core/adapters/state';
import { controlHandoff } from '../../../lambdas/reconciler/handoff';
import { SecurityHubSweepSource } from '../../../lambdas/reconciler/source';
import type { CliSweeper } from '../../../lib/cli/command';
import { main } from '../../../lib/cli/main';
import { strictMock } from '../../support/aws';
import { fakeCli, OPERATOR } from '../../support/cli';
import { ACCOUNT, type Json, REGION } from '../../support/fixtures';
import { asMember, MEMBER_REGION, SCOPE as ORGANIZATION } from '../../support/organization';
import {
  CONTROL_FUNCTIONS,
  failedFinding,
  fakeLambda,
  historyEntry,
  STATE_TABLE,
  stateTable,
} from '../../support/reconciler';

const PRODUCT = `arn:aws:securityhub:${REGION}::product/aws/securityhub`;
const equals = (Value: string) => ({ Value, Comparison: 'EQUALS' as const });
const SCOPE = {
  ProductArn: [equals(PRODUCT)],
  AwsAccountId: [equals(ACCOUNT)],
  Region: [equals(REGION)],
  ComplianceStatus: [equals('FAILED')],
  RecordState: [equals('ACTIVE')],
};

function consolidated(n: number): Json {
  return failedFinding(n, { consolidated: true });
}

/**
 * The sweeper `backfill` gets: the real Security Hub source, history and
 * hand-on over stand-ins for Security Hub, the state table and Lambda.
 * Security Hub answers `pages` for the consolidated query of `controls`, and
 * one empty page for every other query.
 */
function world(pages: readonly (readonly Json[])[], controls = ['EC2.2', 'EC2.9']) {
  const client = new SecurityHubClient({ region: REGION });
  const hub = strictMock(client);
  pages.forEach((findings, index) => {
    hub
      .on(GetFindingsCommand, {
        Filters: { ...SCOPE, ComplianceSecurityControlId: controls.map(equals) },
        MaxResults: 100,
        NextToken: index === 0 ? undefined : `token-${index}`,
      })
      .resolves({
        Findings: findings as never,
        ...(index < pages.length - 1 ? { NextToken: `token-${index + 1}` } : {}),
      });
  });
  hub
    .on(GetFindingsCommand, {
      Filters: {
        ...SCOPE,
        ProductFields: controls.map((Value) => ({
          Key: 'ControlId',
          Value,
          Comparison: 'EQUALS' as const,
        })),
      },
    })
    .resolves({ Findings: [] });
  hub.on(GetFindingsV2Command).resolves({ Findings: [] });
  const table = stateTable();
  const lambda = fakeLambda();
  const sweeper: CliSweeper = {
    settings: { controls: CONTROL_FUNCTIONS, graceHours: 24 },
    partition: 'aws',
    organization: undefined,
    source: new SecurityHubSweepSource(client, 'aws'),
    history: new DynamoDbStateStore(table.client, { tableName: STATE_TABLE, historyDays: 0 }),
    handoff: controlHandoff(CONTROL_FUNCTIONS, lambda.connect),
  };
  return { hub, table, lambda, sweeper };
}

describe('npx hubfix backfill', () => {
  it('plans by default: reports what it would hand on, and hands nothing on', async () => {
    // Prepare: one never-handled finding, one fixed an hour ago.
    const w = world([[consolidated(1), consolidated(2)]]);
    w.table.remember(
      'EC2.2',
      String(consolidated(2).Id),
      historyEntry('REMEDIATED', new Date(Date.now() - 3_600_000)),
    );
    const t = fakeCli({ sweeper: w.sweeper });

    // Act
    const code = await main(['backfill'], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(w.lambda.invocations).toEqual([]);
    expect(t.out[0]).toBe(
      `hubfix backfill in ${ACCOUNT} ${REGION} (plan: nothing was changed): 1 finding(s) would be handed to their controls; run with --apply to do it.`,
    );
    expect(t.out).toContainEqual(
      expect.stringMatching(/^EC2\.2\s+2\s+1\s+0\s+0\s+0\s+1\s+0\s+0\s+0$/),
    );
    expect(t.out.join('\n')).not.toContain('Handed on');
    expect(t.calls).toContain(`sweeper Hubfix ${REGION} ${ACCOUNT}`);
  });

  it('hands the findings to their control functions with --apply, saying who asked', async () => {
    const w = world([[consolidated(1)], [consolidated(2)]]);
    const t = fakeCli({ sweeper: w.sweeper });

    const code = await main(['backfill', '--apply'], t.deps);

    expect(code).toBe(0);
    expect(w.lambda.invocations.map((i) => [i.functionName, i.payload])).toEqual([
      [
        CONTROL_FUNCTIONS['EC2.2'],
        expect.objectContaining({
          request: 'imported',
          origin: 'cli',
          by: OPERATOR.arn,
          findings: [{ format: 'asff', id: String(consolidated(1).Id), productArn: PRODUCT }],
        }),
      ],
      [
        CONTROL_FUNCTIONS['EC2.2'],
        expect.objectContaining({
          findings: [{ format: 'asff', id: String(consolidated(2).Id), productArn: PRODUCT }],
        }),
      ],
    ]);
    expect(t.out[0]).toBe(
      `hubfix backfill in ${ACCOUNT} ${REGION}: handed 2 of 2 finding(s) to their controls.`,
    );
    expect(t.out.join('\n')).toContain('Handed on: 2 finding(s) in 2 request(s)');
  });

  it('sweeps only the controls named with --control', async () => {
    const w = world([[consolidated(1)]], ['EC2.2']);
    const t = fakeCli({ sweeper: w.sweeper });

    expect(await main(['backfill', '--control', 'EC2.2'], t.deps)).toBe(0);
    expect(w.hub.commandCalls(GetFindingsCommand)).toHaveLength(2);
  });

  it('draws one progress line per page on a terminal, and clears it', async () => {
    const w = world([[consolidated(1)], [], [consolidated(2)]]);
    const t = fakeCli({ sweeper: w.sweeper, tty: true });

    await main(['backfill'], t.deps);

    expect(t.progress).toEqual([
      'swept 1 page(s), 1 finding(s)…',
      'swept 2 page(s), 1 finding(s)…',
      'swept 3 page(s), 2 finding(s)…',
      'swept 4 page(s), 2 finding(s)…',
      'swept 5 page(s), 2 finding(s)…',
      '',
    ]);
  });

  it('draws no progress line when stderr is not a terminal', async () => {
    const w = world([[consolidated(1)]]);
    const t = fakeCli({ sweeper: w.sweeper });

    await main(['backfill'], t.deps);

    expect(t.progress).toEqual([]);
  });

  it('says which controls are not deployed, and sweeps nothing', async () => {
    const w = world([]);
    const t = fakeCli({ sweeper: w.sweeper });

    const code = await main(['backfill', '--control', 'EC2.7'], t.deps);

    expect(code).toBe(1);
    expect(t.err[0]).toBe('hubfix: EC2.7 is not deployed in stack Hubfix (deployed: EC2.2, EC2.9)');
    expect(w.hub.calls()).toHaveLength(0);
  });

  it.each([
    [['backfill', '--plan', '--apply'], 'hubfix: --plan and --apply exclude each other'],
    [['backfill', '--control', 'EC9.99'], 'hubfix: --control EC9.99: no such control in hubfix'],
  ])('refuses %j before asking AWS anything', async (argv, message) => {
    const t = fakeCli();

    expect(await main(argv, t.deps)).toBe(2);
    expect(t.err[0]).toBe(message);
    expect(t.calls).toEqual([]);
  });
});

describe('npx hubfix backfill, a stack in org mode', () => {
  const REGIONS = [REGION, MEMBER_REGION];
  const ORG_FILTERS = {
    ProductArn: REGIONS.map((region) =>
      equals(`arn:aws:securityhub:${region}::product/aws/securityhub`),
    ),
    AwsAccountId: [{ Value: '999999999999', Comparison: 'NOT_EQUALS' as const }],
    Region: REGIONS.map(equals),
    ComplianceStatus: [equals('FAILED')],
    RecordState: [equals('ACTIVE')],
  };

  /** The org mode sweeper: Security Hub answers the organization's queries only. */
  function orgWorld(findings: readonly Json[]) {
    const client = new SecurityHubClient({ region: REGION });
    const hub = strictMock(client);
    const input = (filters: Record<string, unknown>) => ({
      Filters: filters,
      MaxResults: 100,
      NextToken: undefined,
    });
    hub
      .on(
        GetFindingsCommand,
        input({ ...ORG_FILTERS, ComplianceSecurityControlId: ['EC2.2', 'EC2.9'].map(equals) }),
        true,
      )
      .resolves({ Findings: findings as never });
    hub
      .on(
        GetFindingsCommand,
        input({
          ...ORG_FILTERS,
          ProductFields: ['EC2.2', 'EC2.9'].map((Value) => ({
            Key: 'ControlId',
            Value,
            Comparison: 'EQUALS' as const,
          })),
        }),
        true,
      )
      .resolves({ Findings: [] });
    hub.on(GetFindingsV2Command).resolves({ Findings: [] });
    const table = stateTable();
    const lambda = fakeLambda();
    const sweeper: CliSweeper = {
      settings: { controls: CONTROL_FUNCTIONS, graceHours: 24 },
      partition: 'aws',
      organization: ORGANIZATION,
      source: new SecurityHubSweepSource(client, 'aws'),
      history: new DynamoDbStateStore(table.client, { tableName: STATE_TABLE, historyDays: 0 }),
      handoff: controlHandoff(CONTROL_FUNCTIONS, lambda.connect),
    };
    return { hub, table, lambda, sweeper };
  }

  it("sweeps the stack's accounts and regions, says which, and hands a member's finding on", async () => {
    // Prepare: a member account's failed finding from eu-west-1.
    const member = asMember(consolidated(1));
    const w = orgWorld([member]);
    const t = fakeCli({ sweeper: w.sweeper });

    // Act
    const code = await main(['backfill', '--apply'], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(t.out.slice(0, 2)).toEqual([
      `hubfix backfill in ${ACCOUNT} ${REGION}: handed 1 of 1 finding(s) to their controls.`,
      'Swept: accounts every account Security Hub aggregates except 999999999999; regions us-east-1, eu-west-1.',
    ]);
    expect(w.lambda.invocations.map((i) => [i.functionName, i.payload])).toEqual([
      [
        CONTROL_FUNCTIONS['EC2.2'],
        expect.objectContaining({
          request: 'imported',
          origin: 'cli',
          findings: [
            {
              format: 'asff',
              id: String(member.Id),
              productArn: `arn:aws:securityhub:${MEMBER_REGION}::product/aws/securityhub`,
            },
          ],
        }),
      ],
    ]);
    expect(w.table.reads).toEqual([`EC2.2#finding#${String(member.Id)}`]);
    expect(w.hub.commandCalls(GetFindingsCommand)).toHaveLength(2);
  });
});
