/**
 * Hostile and malformed input: whatever arrives, hubfix answers with a typed
 * rejection or an IGNORE, and makes no mutating AWS call unless a genuine
 * finding about this account's live default group asks for it.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { strictMock } from '../../support/aws';
import { ec2_2Clients, noOtherUsers } from '../../support/ec2-2';
import {
  customActionEvent,
  EC2_2_FINDING,
  EC2_2_GROUP_ID,
  importedEvent,
  type Json,
  REGION,
  withChanges,
} from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const RUNS = { numRuns: 150 };

/** EC2.2's handler with a live default group that is unused and has rules: a fix would go ahead. */
function setup(groupName = 'default') {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const others = ec2_2Clients(ec2Client);
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true).resolves({
    SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: groupName, VpcId: 'vpc-1' }],
  });
  let rules = [
    {
      SecurityGroupRuleId: 'sgr-2',
      GroupId: EC2_2_GROUP_ID,
      IsEgress: true,
      IpProtocol: '-1',
      CidrIpv4: '0.0.0.0/0',
    },
  ];
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake(async () => ({ SecurityGroupRules: rules }));
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  ec2.on(DescribeSecurityGroupsCommand, { MaxResults: 1000 }).resolves({ SecurityGroups: [] });
  noOtherUsers(ec2, others);
  ec2.on(RevokeSecurityGroupEgressCommand).callsFake(async () => {
    rules = [];
    return { Return: true };
  });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  const harness = controlHarness(ec2_2, { clients: others.clients });
  harness.acceptDeliveries();
  const mutations = () =>
    ec2.commandCalls(RevokeSecurityGroupEgressCommand).length +
    ec2.commandCalls(RevokeSecurityGroupIngressCommand).length;
  return { ec2, mutations, ...harness };
}

/** Paths in a finding that a forger would change, and values to change them to. */
const IDENTITY_PATHS = [
  'ProductArn',
  'AwsAccountId',
  'GeneratorId',
  'ProductFields.ControlId',
  'Compliance.Status',
  'RecordState',
  'Resources',
  'Id',
] as const;

describe('hostile input', () => {
  it('rejects any JSON that is not a findings event, without an AWS call', async () => {
    const t = setup();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (json) => {
        const result = await t.invoke(json);
        expect(result.status).toBe('rejected');
      }),
      RUNS,
    );
    expect(t.ec2.calls()).toHaveLength(0);
    expect(t.securityHub.calls()).toHaveLength(0);
  });

  it('rejects arbitrary JSON in place of the detail or of a finding, changing nothing', async () => {
    const t = setup();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.boolean(), async (json, asFinding) => {
        const event = asFinding
          ? importedEvent([json as Json])
          : { ...importedEvent([]), detail: json };
        const result = await t.invoke(event);
        expect(result.findings).toEqual([]);
      }),
      RUNS,
    );
    expect(t.mutations()).toBe(0);
    expect(t.securityHub.calls()).toHaveLength(0);
  });

  it('never changes a group that is not a default group, however the finding is altered', async () => {
    const t = setup('payments-db');
    const finding = fc.record({
      path: fc.constantFrom(
        ...IDENTITY_PATHS,
        'Title',
        'Workflow.Status',
        'Severity.Label',
        'UpdatedAt',
      ),
      value: fc.jsonValue(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(finding, { maxLength: 4 }),
        fc.boolean(),
        async (changes, asAction) => {
          const altered = withChanges(
            EC2_2_FINDING,
            Object.fromEntries(changes.map((c) => [c.path, c.value])),
          );
          const event = asAction ? customActionEvent([altered]) : importedEvent([altered]);
          const result = await t.invoke(event);
          for (const handled of result.findings) expect(handled.outcome).toBe('IGNORED');
        },
      ),
      RUNS,
    );
    expect(t.mutations()).toBe(0);
  });

  it('never acts on a forged identity, even when the live group could be emptied', async () => {
    const t = setup();
    const forged = fc.oneof(
      fc.record({
        path: fc.constant('AwsAccountId'),
        value: fc.stringMatching(/^\d{12}$/).filter((a) => a !== '111111111111'),
      }),
      fc.record({
        path: fc.constant('ProductArn'),
        value: fc.string().filter((p) => !p.endsWith('us-east-1::product/aws/securityhub')),
      }),
      fc.record({
        path: fc.constant('Resources'),
        value: fc
          .tuple(
            fc.stringMatching(/^\d{12}$/),
            fc.constantFrom('us-east-1', 'eu-west-1', 'ap-northeast-1'),
          )
          .filter(([account, region]) => account !== '111111111111' || region !== 'us-east-1')
          .map(([account, region]) => [
            {
              Type: 'AwsEc2SecurityGroup',
              Id: `arn:aws:ec2:${region}:${account}:security-group/${EC2_2_GROUP_ID}`,
            },
          ]),
      }),
      fc.record({
        path: fc.constant('Compliance.Status'),
        value: fc.constantFrom('PASSED', 'WARNING', 'NOT_AVAILABLE', 'failed'),
      }),
      fc.record({
        path: fc.constant('RecordState'),
        value: fc.constantFrom('ARCHIVED', 'active', ''),
      }),
    );
    const envelope = fc.record({
      account: fc.constantFrom('111111111111', '222222222222'),
      region: fc.constantFrom('us-east-1', 'eu-west-1'),
    });
    await fc.assert(
      fc.asyncProperty(forged, envelope, async (change, env) => {
        const event = importedEvent(
          [withChanges(EC2_2_FINDING, { [change.path]: change.value })],
          env,
        );
        const result = await t.invoke(event);
        for (const handled of result.findings) expect(handled.outcome).toBe('IGNORED');
      }),
      RUNS,
    );
    expect(t.mutations()).toBe(0);
  });

  it('acts on the genuine finding (the properties above are not vacuous)', async () => {
    const t = setup();

    const result = await t.invoke(importedEvent([EC2_2_FINDING]));

    expect(result.findings.map((f) => f.outcome)).toEqual(['REMEDIATED']);
    expect(t.mutations()).toBe(1);
  });

  it.each([
    ['101 findings', importedEvent(Array.from({ length: 101 }, () => EC2_2_FINDING))],
    ['a 300 KB event id', importedEvent([EC2_2_FINDING], { id: 'x'.repeat(300_000) })],
  ])('rejects an oversized event (%s) quickly and changes nothing', async (_name, event) => {
    const t = setup();
    const started = performance.now();

    const result = await t.invoke(event);

    expect(result.status).toBe('rejected');
    expect(performance.now() - started).toBeLessThan(500);
    expect(t.ec2.calls()).toHaveLength(0);
  });

  it('rejects a finding with oversized fields and still handles its neighbours', async () => {
    const t = setup();
    const huge = withChanges(EC2_2_FINDING, { Id: 'other', Title: 't'.repeat(100_000) });

    const result = await t.invoke(importedEvent([huge, EC2_2_FINDING]));

    expect(result.rejected).toBe(1);
    expect(result.findings.map((f) => f.outcome)).toEqual(['REMEDIATED']);
  });
});
