/**
 * The same event delivered twice changes nothing the second time, and two
 * concurrent deliveries do not both act: Powertools idempotency with its
 * DynamoDB persistence layer, around EC2.2's real handler.
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { BatchUpdateFindingsCommand } from '@aws-sdk/client-securityhub';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { DynamoDbOnceGuard } from '../../../lambdas/core/adapters/idempotency';
import { IncompleteDeliveryError } from '../../../lambdas/core/errors';
import { readAsffEvent } from '../../../lambdas/core/intake/asff';
import { onceKey } from '../../../lambdas/core/request';
import { strictMock } from '../../support/aws';
import { itemTable } from '../../support/dynamodb-items';
import { ec2_2Clients, noOtherUsers } from '../../support/ec2-2';
import {
  customActionEvent,
  EC2_2_FINDING,
  EC2_2_GROUP_ID,
  importedEvent,
  REGION,
} from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

function setup(options: { slowRead?: boolean } = {}) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const others = ec2_2Clients(ec2Client);
  const table = itemTable();
  const guard = new DynamoDbOnceGuard(table.client, { tableName: 'hubfix-idempotency' });
  const harness = controlHarness(ec2_2, { clients: others.clients, guard });
  let rules = [
    {
      SecurityGroupRuleId: 'sgr-2',
      GroupId: EC2_2_GROUP_ID,
      IsEgress: true,
      IpProtocol: '-1',
      CidrIpv4: '0.0.0.0/0',
    },
  ];
  ec2
    .on(DescribeSecurityGroupsCommand, { GroupIds: [EC2_2_GROUP_ID] }, true)
    .callsFake(async () => {
      // A slow read keeps the first delivery in progress while the second arrives.
      if (options.slowRead) await new Promise((resolve) => setTimeout(resolve, 50));
      return {
        SecurityGroups: [{ GroupId: EC2_2_GROUP_ID, GroupName: 'default', VpcId: 'vpc-1' }],
      };
    });
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake(async () => ({ SecurityGroupRules: rules }));
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  ec2.on(DescribeSecurityGroupsCommand, { MaxResults: 1000 }).resolves({ SecurityGroups: [] });
  noOtherUsers(ec2, others);
  ec2
    .on(
      RevokeSecurityGroupEgressCommand,
      { GroupId: EC2_2_GROUP_ID, SecurityGroupRuleIds: ['sgr-2'] },
      true,
    )
    .callsFake(async () => {
      rules = [];
      return { Return: true };
    });
  return { ec2, table, ...harness };
}

describe('idempotency', () => {
  it('changes nothing when the same event is delivered twice', async () => {
    // Prepare
    const t = setup();
    t.acceptDeliveries();
    const event = importedEvent([EC2_2_FINDING]);

    // Act
    const first = await t.invoke(event);
    const callsAfterFirst = t.ec2.calls().length;
    const second = await t.invoke(event);

    // Assess
    expect(first.findings.map((f) => f.outcome)).toEqual(['REMEDIATED']);
    expect(second).toMatchObject({ findings: [], duplicates: 1 });
    expect(t.ec2.calls()).toHaveLength(callsAfterFirst);
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 1);
    expect(t.securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
    expect(t.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('lets only one of two concurrent deliveries act', async () => {
    const t = setup({ slowRead: true });
    t.acceptDeliveries();
    const event = importedEvent([EC2_2_FINDING]);

    const results = await Promise.all([t.invoke(event), t.invoke(event)]);

    expect(results.map((r) => r.findings.length).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.duplicates).sort()).toEqual([0, 1]);
    expect(t.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 1);
    expect(t.securityHub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
  });

  it('forgets a delivery that could not update the finding, so the retry handles it again', async () => {
    // Prepare: the first finding update fails, the retry's succeeds.
    const t = setup();
    t.securityHub
      .on(BatchUpdateFindingsCommand)
      .rejectsOnce(new Error('ServiceUnavailable'))
      .resolves({ UnprocessedFindings: [] });
    t.sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const event = importedEvent([EC2_2_FINDING]);

    // Act
    const first = t.invoke(event);
    await expect(first).rejects.toBeInstanceOf(IncompleteDeliveryError);
    const retry = await t.invoke(event);

    // Assess: the retry sees the group already empty and resolves the finding.
    expect(retry.findings.map((f) => f.outcome)).toEqual(['ALREADY_COMPLIANT']);
    expect(t.workflows()).toEqual([undefined, undefined]);
    expect(t.table.items.size).toBe(1);
  });
});

describe('onceKey', () => {
  it('is the finding and its UpdatedAt for imported findings', () => {
    const event = readAsffEvent(importedEvent([EC2_2_FINDING]));
    const [parsed] = event.findings;
    if (!parsed?.ok) throw new Error('fixture');

    expect(onceKey(event, parsed.finding, 'imported')).toBe(
      `${EC2_2_FINDING.Id}|2021-02-17T08:56:22.772Z|imported`,
    );
  });

  it("adds the event id for a person's custom action, so choosing it again is a new request", () => {
    const event = readAsffEvent(customActionEvent([EC2_2_FINDING]));
    const [parsed] = event.findings;
    if (!parsed?.ok) throw new Error('fixture');

    expect(onceKey(event, parsed.finding, 'remediate-action')).toBe(
      `${EC2_2_FINDING.Id}|2021-02-17T08:56:22.772Z|remediate-action|66666666-7777-8888-9999-000000000000`,
    );
  });
});
