import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_1 } from '../../../lambdas/controls/ec2-1/remediate';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { foundAtRunTime, type RollbackCall } from '../../../lambdas/core/control';
import { RollbackRefusedError } from '../../../lambdas/core/errors';
import { guardClients, matchesCall } from '../../../lambdas/core/rollback-guard';
import { resetStrict, strictMock } from '../../support/aws';
import { rollbackContext } from '../../support/control';
import { ec2_2Clients, givenNoRulesNow } from '../../support/ec2-2';

const ec2 = new EC2Client({ region: 'us-east-1' });
const stub = strictMock(ec2);

beforeEach(() => {
  resetStrict(stub);
});

const SHARE_INPUT = {
  SnapshotId: 'snap-0aaaaaaaaaaaaaaa1',
  Attribute: 'createVolumePermission',
  OperationType: 'add',
  GroupNames: ['all'],
} as const;

const share: RollbackCall = {
  service: 'ec2',
  action: 'ModifySnapshotAttribute',
  resource: 'snap-0aaaaaaaaaaaaaaa1',
  parameters: SHARE_INPUT,
};

describe('matchesCall', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['the shown request', { ...share.parameters }, true],
    [
      'the same request with keys in another order',
      {
        GroupNames: ['all'],
        OperationType: 'add',
        Attribute: 'createVolumePermission',
        SnapshotId: 'snap-0aaaaaaaaaaaaaaa1',
      },
      true,
    ],
    ['another snapshot', { ...share.parameters, SnapshotId: 'snap-0bbbbbbbbbbbbbbb2' }, false],
    ['a parameter that was not shown', { ...share.parameters, UserIds: ['999999999999'] }, false],
    ['a shown parameter left out', { SnapshotId: 'snap-0aaaaaaaaaaaaaaa1' }, false],
  ])('%s: %s', (_name, input, expected) => {
    expect(matchesCall(share, 'ec2', 'ModifySnapshotAttribute', input)).toBe(expected);
  });

  it('lets a value found at run time be anything, but only for that parameter', () => {
    const remove: RollbackCall = {
      service: 'ec2',
      action: 'DeleteFlowLogs',
      resource: 'vpc-1',
      parameters: { FlowLogIds: foundAtRunTime("hubfix's flow logs") },
    };

    expect(matchesCall(remove, 'ec2', 'DeleteFlowLogs', { FlowLogIds: ['fl-1'] })).toBe(true);
    expect(
      matchesCall(remove, 'ec2', 'DeleteFlowLogs', { FlowLogIds: ['fl-1'], DryRun: true }),
    ).toBe(false);
    expect(matchesCall(remove, 'ecs', 'DeleteFlowLogs', { FlowLogIds: ['fl-1'] })).toBe(false);
  });
});

describe('guardClients', () => {
  it('sends the shown calls and reads, and refuses any other mutating call unsent', async () => {
    // Prepare
    stub
      .on(ModifySnapshotAttributeCommand, { ...SHARE_INPUT, GroupNames: ['all'] }, true)
      .resolves({});
    stub.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    const { ec2: guarded } = guardClients({ ec2 }, [share]);

    // Act
    await guarded.send(new ModifySnapshotAttributeCommand({ ...SHARE_INPUT, GroupNames: ['all'] }));
    await guarded.send(new DescribeSecurityGroupsCommand({}));
    const other = guarded.send(
      new ModifySnapshotAttributeCommand({
        ...SHARE_INPUT,
        GroupNames: ['all'],
        SnapshotId: 'snap-0bbbbbbbbbbbbbbb2',
      }),
    );

    // Assess
    await expect(other).rejects.toThrow(RollbackRefusedError);
    await expect(other).rejects.toThrow('a call it did not show; it was not sent');
    expect(stub.commandCalls(ModifySnapshotAttributeCommand)).toHaveLength(1);
    expect(await guarded.config.region()).toBe('us-east-1');
  });

  it("runs EC2.2's rollback within the calls it describes", async () => {
    // Prepare
    const before = {
      groupId: 'sg-1234123f',
      vpcId: 'vpc-1',
      rules: [
        {
          ruleId: 'sgr-1',
          groupId: 'sg-1234123f',
          egress: false,
          protocol: 'tcp',
          fromPort: 22,
          toPort: 22,
          cidrIpv4: '10.0.0.0/8',
        },
      ],
    };
    const description = ec2_2.describeRollback(before);
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

    // Act
    const lines = await ec2_2.rollback(
      before,
      rollbackContext(guardClients(ec2_2Clients(ec2).clients, description.calls)),
    );

    // Assess
    expect(lines).toEqual(['restored inbound rule sgr-1: tcp 22 from 10.0.0.0/8']);
    expect(stub).toHaveReceivedCommandWith(
      AuthorizeSecurityGroupIngressCommand,
      description.calls[0]?.parameters ?? {},
    );
  });

  it("refuses EC2.1's rollback when it would share a snapshot it did not show", async () => {
    // Prepare: the description of one before-state, the rollback of another.
    const shown = ec2_1.describeRollback({
      account: '111111111111',
      region: 'us-east-1',
      snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'],
    });
    stub.on(ModifySnapshotAttributeCommand).resolves({});

    // Act
    const rollback = ec2_1.rollback(
      { account: '111111111111', region: 'us-east-1', snapshotIds: ['snap-0bbbbbbbbbbbbbbb2'] },
      rollbackContext(guardClients({ ec2 }, shown.calls)),
    );

    // Assess
    await expect(rollback).rejects.toThrow('a call it did not show');
    expect(stub.commandCalls(ModifySnapshotAttributeCommand)).toHaveLength(0);
  });
});
