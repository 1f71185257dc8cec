/**
 * EC2.2 end to end through the exported handler shape: middy, Powertools,
 * environment parsing, the pipeline and the real adapters, with every AWS
 * client mocked strictly.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { BatchUpdateFindingsCommand } from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import type { Ec2_2Params } from '../../../lambdas/controls/ec2-2/meta';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { ConfigurationError } from '../../../lambdas/core/errors';
import type { LedgerEntry, RollbackAttempt } from '../../../lambdas/core/ledger-entry';
import { type RollbackLedger, rollbackChange } from '../../../lambdas/core/rollback';
import { serviceError, strictMock } from '../../support/aws';
import { silentLog } from '../../support/control';
import { ec2_2Clients, noOtherUsers } from '../../support/ec2-2';
import { FakeEc2, snapshot, type World } from '../../support/fake-ec2';
import {
  ACCOUNT,
  EC2_2_FINDING,
  EC2_2_GROUP_ID,
  importedEvent,
  REGION,
} from '../../support/fixtures';
import { controlHarness, TOPIC_ARN } from '../../support/handler';

function setup(params?: Ec2_2Params) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const others = ec2_2Clients(ec2Client);
  noOtherUsers(ec2, others);
  const harness = controlHarness(ec2_2, {
    clients: others.clients,
    ...(params ? { params } : {}),
  });
  return { ec2, others, ...harness };
}

function givenUnusedDefaultGroupWithRules(ec2: ReturnType<typeof setup>['ec2']) {
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true).resolves({
    SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: 'default', VpcId: 'vpc-1', Tags: [] }],
  });
  ec2
    .on(DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'group-id', Values: [EC2_2_GROUP_ID] }],
      MaxResults: 1000,
    })
    .resolvesOnce({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-1',
          GroupId: EC2_2_GROUP_ID,
          IsEgress: false,
          IpProtocol: '-1',
          ReferencedGroupInfo: { GroupId: EC2_2_GROUP_ID },
        },
        {
          SecurityGroupRuleId: 'sgr-2',
          GroupId: EC2_2_GROUP_ID,
          IsEgress: true,
          IpProtocol: '-1',
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    })
    .resolves({ SecurityGroupRules: [] });
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  for (const filter of ['ip-permission.group-id', 'egress.ip-permission.group-id']) {
    ec2
      .on(DescribeSecurityGroupsCommand, {
        Filters: [{ Name: filter, Values: [EC2_2_GROUP_ID] }],
        MaxResults: 1000,
      })
      .resolves({ SecurityGroups: [] });
  }
}

/** Two instances in the default group, whose rules another group ("db") references. */
function migrationWorld(): World {
  return {
    groups: [
      {
        groupId: EC2_2_GROUP_ID,
        name: 'default',
        vpcId: 'vpc-1',
        tags: {},
        rules: [
          {
            ruleId: 'sgr-1',
            egress: false,
            protocol: '-1',
            fromPort: -1,
            toPort: -1,
            referencedGroupId: EC2_2_GROUP_ID,
          },
          {
            ruleId: 'sgr-2',
            egress: true,
            protocol: '-1',
            fromPort: -1,
            toPort: -1,
            cidrIpv4: '0.0.0.0/0',
          },
        ],
      },
      {
        groupId: 'sg-0000000000000a001',
        name: 'db',
        vpcId: 'vpc-1',
        tags: {},
        rules: [
          {
            ruleId: 'sgr-3',
            egress: false,
            protocol: 'tcp',
            fromPort: 5432,
            toPort: 5432,
            referencedGroupId: EC2_2_GROUP_ID,
            description: 'app servers',
          },
        ],
      },
    ],
    interfaces: [
      { interfaceId: 'eni-1', groups: [EC2_2_GROUP_ID], instanceId: 'i-1' },
      { interfaceId: 'eni-2', groups: [EC2_2_GROUP_ID], instanceId: 'i-2' },
    ],
  };
}

type Harness = ReturnType<typeof setup>;

/** The ledger entry the harness recorded, as the CLI reads it, and the attempts recorded on it. */
function ledgerOf(t: Harness): RollbackLedger & { attempts: RollbackAttempt[] } {
  const record = t.records[0];
  const result = t.results[0]?.result;
  if (!record || !result) throw new Error('expected a recorded change');
  const entry: LedgerEntry = {
    // The harness numbers changes; the function leads them with the control id, which rollback requires.
    changeId: `${record.controlId}-${record.changeId}`,
    controlId: record.controlId,
    findingId: record.findingId,
    resource: record.resource,
    account: record.account,
    region: record.region,
    summary: record.summary,
    before: JSON.stringify(record.before),
    status: result.status,
    createdAt: '2026-12-01T00:00:00.000Z',
    changes: [...result.changes],
    ...(result.status === 'FAILED' ? { error: result.error, stateLeft: result.stateLeft } : {}),
    rollbacks: [],
    expiresAt: 0,
  };
  const attempts: RollbackAttempt[] = [];
  return {
    attempts,
    get: async (changeId) => (changeId === entry.changeId ? entry : undefined),
    claimForRollback: async (_changeId, from) => from.includes(entry.status),
    recordRollback: async (_changeId, _status, attempt) => {
      attempts.push(attempt);
    },
    recordRefusal: async (_changeId, attempt) => {
      attempts.push(attempt);
    },
  };
}

/** `hubfix rollback <changeId>`, confirmed, with the test's clients. */
function rollBackAsTheCli(t: Harness, ledger: RollbackLedger) {
  const record = t.records[0];
  return rollbackChange({
    changeId: `${record?.controlId}-${record?.changeId}`,
    by: 'arn:aws:iam::111111111111:user/ops',
    scope: { account: record?.account ?? '', region: record?.region ?? '' },
    force: false,
    ledger,
    control: async () => ec2_2,
    clients: () => t.others.clients,
    confirm: async () => true,
    log: silentLog,
  });
}

describe('EC2.2 handler', () => {
  it('empties an unused default group, notes the finding and notifies', async () => {
    // Prepare
    const t = setup();
    givenUnusedDefaultGroupWithRules(t.ec2);
    t.ec2
      .on(
        RevokeSecurityGroupIngressCommand,
        { GroupId: EC2_2_GROUP_ID, SecurityGroupRuleIds: ['sgr-1'] },
        true,
      )
      .resolves({ Return: true });
    t.ec2
      .on(
        RevokeSecurityGroupEgressCommand,
        { GroupId: EC2_2_GROUP_ID, SecurityGroupRuleIds: ['sgr-2'] },
        true,
      )
      .resolves({ Return: true });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    // Assess
    expect(result).toEqual({
      eventId: '11111111-2222-3333-4444-555555555555',
      status: 'processed',
      findings: [{ findingId: EC2_2_FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' }],
      rejected: 0,
      skipped: 0,
      duplicates: 0,
      handedOn: 0,
    });
    expect(t.records.map((r) => r.before)).toEqual([
      {
        groupId: EC2_2_GROUP_ID,
        vpcId: 'vpc-1',
        rules: [
          {
            ruleId: 'sgr-1',
            groupId: EC2_2_GROUP_ID,
            egress: false,
            protocol: '-1',
            referencedGroupId: EC2_2_GROUP_ID,
          },
          {
            ruleId: 'sgr-2',
            groupId: EC2_2_GROUP_ID,
            egress: true,
            protocol: '-1',
            cidrIpv4: '0.0.0.0/0',
          },
        ],
      },
    ]);
    expect(t.securityHub).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      FindingIdentifiers: [
        { Id: EC2_2_FINDING.Id as string, ProductArn: EC2_2_FINDING.ProductArn as string },
      ],
      Note: {
        Text: expect.stringContaining('hubfix remediated and verified'),
        UpdatedBy: 'hubfix',
      },
    });
    // A verified fix leaves the workflow for Security Hub to resolve when its check passes.
    expect(t.workflows()).toEqual([undefined]);
    expect(t.published()[0]).toMatchObject({
      TopicArn: TOPIC_ARN,
      Subject: `hubfix REMEDIATED EC2.2 ${EC2_2_GROUP_ID} (${ACCOUNT} ${REGION})`,
    });
  });

  it('notifies instead of emptying a default group that interfaces still use', async () => {
    const t = setup();
    givenUnusedDefaultGroupWithRules(t.ec2);
    t.ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Description: 'web server' }],
    });
    t.acceptDeliveries();

    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 0);
    expect(t.workflows()).toEqual(['NOTIFIED']);
  });

  it('makes no mutating call for a finding that names a non-default group', async () => {
    const t = setup();
    t.ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true).resolves({
      SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: 'payments-db', VpcId: 'vpc-1' }],
    });

    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    expect(result.findings[0]?.outcome).toBe('IGNORED');
    expect(t.ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    // Only the re-fetch that confirms the finding: nothing written, nothing published.
    expect(t.securityHub.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'GetFindingsCommand',
    ]);
    expect(t.sns.calls()).toHaveLength(0);
  });

  it('rejects a malformed event without calling AWS', async () => {
    const t = setup();

    const result = await t.invoke({ hello: 'world' });

    expect(result.status).toBe('rejected');
    expect([...t.ec2.calls(), ...t.securityHub.calls(), ...t.sns.calls()]).toHaveLength(0);
  });

  it('surfaces an API failure in the finding and the notification', async () => {
    const t = setup();
    givenUnusedDefaultGroupWithRules(t.ec2);
    t.ec2
      .on(RevokeSecurityGroupIngressCommand)
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));
    t.acceptDeliveries();

    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    expect(result.findings[0]?.outcome).toBe('FAILED');
    const [published] = t.published();
    expect(published?.Message).toContain('UnauthorizedOperation: not allowed');
    expect(published?.Message).toContain('State left behind:\n  unchanged: no rule was revoked');
    expect(published?.MessageAttributes?.outcome?.StringValue).toBe('FAILED');
  });

  it('fails at cold start, naming the variable, when the environment is wrong', () => {
    const make = () =>
      controlHarness(ec2_2, {
        clients: ec2_2Clients(new EC2Client({ region: REGION })).clients,
        env: { HUBFIX_TOPIC_ARN: 'not-an-arn' },
      });

    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow('HUBFIX_TOPIC_ARN: expected an ARN');
  });
});

describe('EC2.2 handler: users without an interface, and the migrate strategy', () => {
  it("blocks, naming the Lambda function, when a function's VPC configuration names the group", async () => {
    // Prepare
    const t = setup();
    givenUnusedDefaultGroupWithRules(t.ec2);
    t.others.lambda.on(ListFunctionsCommand).resolves({
      Functions: [
        { FunctionName: 'orders-api', VpcConfig: { SecurityGroupIds: [EC2_2_GROUP_ID] } },
      ],
    });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    // Assess
    expect(result.findings[0]?.outcome).toBe('BLOCKED');
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.published()[0]?.Message).toContain(
      `1 Lambda function version(s) name ${EC2_2_GROUP_ID}: orders-api.`,
    );
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
  });

  it('migrates a default group in use, records the migration, and the CLI rollback restores it exactly', async () => {
    // Prepare: two instances in the default group, one other group referencing it.
    const t = setup({ strategy: 'migrate', migrate: { maxInterfaces: 25 } });
    const start = migrationWorld();
    const fake = new FakeEc2(start);
    fake.install(t.ec2);
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    // Assess
    expect(result.findings[0]?.outcome).toBe('REMEDIATED');
    // Verified: the note only; Security Hub resolves it on its next check.
    expect(t.workflows()).toEqual([undefined]);
    const before = t.records[0]?.before as { migration?: { interfaces: unknown[] } };
    expect(before.migration?.interfaces).toEqual([
      { interfaceId: 'eni-1', groups: [EC2_2_GROUP_ID] },
      { interfaceId: 'eni-2', groups: [EC2_2_GROUP_ID] },
    ]);
    expect(fake.world.interfaces.every((e) => !e.groups.includes(EC2_2_GROUP_ID))).toBe(true);

    // Act: roll back from the ledger entry, as `hubfix rollback` does
    const ledger = ledgerOf(t);
    const rollback = await rollBackAsTheCli(t, ledger);

    // Assess
    expect(rollback.kind).toBe('rolled-back');
    expect(snapshot(fake.world)).toEqual(snapshot(start));
    expect(ledger.attempts.map((a) => a.outcome)).toEqual(['ROLLED_BACK']);
  });

  it('records the steps of a migration that stopped part-way, and the CLI rolls them back without giving back a rule the entry does not record as revoked', async () => {
    // Prepare: the second interface's move fails.
    const t = setup({ strategy: 'migrate', migrate: { maxInterfaces: 25 } });
    const start = migrationWorld();
    const fake = new FakeEc2(start);
    fake.install(t.ec2);
    t.acceptDeliveries();
    const moves = () =>
      fake.writes().filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand').length;
    const realAfterWrite = fake.afterWrite;
    fake.afterWrite = (now) => {
      realAfterWrite?.(now);
      if (moves() === 1) fake.failAt = fake.calls.length;
    };

    // Act
    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    // Assess: the ledger records each step done, and the state left.
    expect(result.findings[0]?.outcome).toBe('FAILED');
    const recorded = t.results[0]?.result;
    expect(recorded?.status).toBe('FAILED');
    expect(recorded?.changes).toEqual([
      expect.stringMatching(/^create /),
      expect.stringMatching(/^copy the rules of /),
      expect.stringMatching(/^add to sg-0000000000000a001 the rule\(s\) for sg-/),
      expect.stringMatching(/^add to .* its references again for sg-/),
      'read the interfaces to move',
      expect.stringMatching(/^move eni-1 to \[sg-\w+\]$/),
    ]);
    expect(recorded?.status === 'FAILED' ? recorded.stateLeft : '').toMatch(/^6 step\(s\) done: /);
    expect(fake.world.interfaces.map((e) => e.groups.length)).toEqual([1, 1]);

    // Act: `hubfix rollback` on that entry
    const ledger = ledgerOf(t);
    const rollback = await rollBackAsTheCli(t, ledger);

    // Assess: the default group's rules were never revoked, so the entry does
    // not name them and the rollback may not authorize them; it does not need
    // to, and undoes the steps that were done, back to the exact start.
    expect(rollback.kind).toBe('rolled-back');
    expect(snapshot(fake.world)).toEqual(snapshot(start));
    expect(ledger.attempts.map((a) => a.outcome)).toEqual(['ROLLED_BACK']);
  });
});
