/**
 * The reconciler's bundle, deployed on moto: a sweep finds one failed
 * finding hubfix never handled (backfill) and one it fixed two days ago whose
 * group got its rules back (drift), and hands each to EC2.2's function, whose
 * bundle then handles them as it would in AWS.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { DynamoDbStateStore } from '../../lambdas/core/adapters/state';
import { ENVIRONMENT } from '../../lambdas/core/env';
import { EC2_2_FINDING, importedEvent, type Json, withChanges } from '../support/fixtures';
import { RECONCILER_FUNCTION_ID } from './assembly';
import { deploy, registerFindings, resultOf } from './deployed';
import { againstMoto, motoAvailable } from './support';

const REMEDIATE = {
  settings: { mode: 'remediate', dryRun: false, params: { strategy: 'empty-if-unused' } },
} as const;

/** A new VPC's default group, with SSH open to the world. */
async function openDefaultGroup(ec2: EC2Client, cidr: string): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
  const group = (
    await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.Vpc?.VpcId ?? ''] },
          { Name: 'group-name', Values: ['default'] },
        ],
      }),
    )
  ).SecurityGroups?.[0];
  const groupId = group?.GroupId ?? '';
  await openSsh(ec2, groupId);
  return groupId;
}

async function openSsh(ec2: EC2Client, groupId: string): Promise<void> {
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
}

/** The failed finding Security Hub holds for a group; `consolidated` as newer findings are. */
function findingFor(groupId: string, consolidated: boolean): Json {
  return withChanges(EC2_2_FINDING, {
    Id: `${String(EC2_2_FINDING.Id)}-${groupId}`,
    Region: 'us-east-1',
    Resources: [
      {
        Type: 'AwsEc2SecurityGroup',
        Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        Region: 'us-east-1',
      },
    ],
    ...(consolidated
      ? { 'Compliance.SecurityControlId': 'EC2.2', GeneratorId: 'security-control/EC2.2' }
      : {}),
  });
}

describe.skipIf(!motoAvailable)(againstMoto('the reconciler, the deployed bundle'), () => {
  it('hands a never-handled finding on as new and a drifted one for another look', async () => {
    // Prepare: hubfix fixed the second group, whose rule then came back; two days pass.
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const fresh = await openDefaultGroup(ec2, '10.30.0.0/16');
    const drifting = await openDefaultGroup(ec2, '10.31.0.0/16');
    const freshFinding = findingFor(fresh, true);
    const driftingFinding = findingFor(drifting, false);
    registerFindings([freshFinding, driftingFinding]);
    const fixed = await app.invoke('EC2.2', importedEvent([driftingFinding]), REMEDIATE);
    expect(resultOf(fixed)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    await openSsh(ec2, drifting);
    const stateTable =
      app.function(RECONCILER_FUNCTION_ID).resolvedEnvironment[ENVIRONMENT.stateTable];
    const history = new DynamoDbStateStore(new DynamoDBClient(app.options), {
      tableName: stateTable ?? '',
      historyDays: 30,
    });
    const last = await history.get('EC2.2', String(driftingFinding.Id));
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000).toISOString();
    await history.put('EC2.2', String(driftingFinding.Id), {
      ...(last ?? { fixes: 1, continuing: false, lastOutcome: 'REMEDIATED', lastReason: '' }),
      lastAt: twoDaysAgo,
      lastFixAt: twoDaysAgo,
    } as NonNullable<typeof last>);
    app.lambdaInvocations.length = 0;
    const updatesBefore = app.findingUpdates.length;

    // Act: the schedule starts a sweep; then Lambda delivers what it handed on.
    const sweep = await app.invoke(RECONCILER_FUNCTION_ID, {
      type: 'hubfix.reconcile',
      sweepId: '2026-11-30T06:00:00Z',
    });
    const handedOn = [...app.lambdaInvocations];
    const runs = [];
    for (const { payload } of handedOn) runs.push(await app.invoke('EC2.2', payload, REMEDIATE));

    // Assess: one request of each kind, to EC2.2's function, by finding.
    expect(resultOf(sweep)).toMatchObject({ status: 'finished', findings: 2, handed: 2 });
    const ec22 = app.function('EC2.2').functionName;
    expect(handedOn).toEqual([
      {
        functionName: ec22,
        payload: expect.objectContaining({
          request: 'imported',
          origin: 'reconciler',
          findings: [expect.objectContaining({ id: freshFinding.Id })],
        }),
      },
      {
        functionName: ec22,
        payload: expect.objectContaining({
          request: 'reconcile',
          origin: 'reconciler',
          findings: [expect.objectContaining({ id: driftingFinding.Id })],
        }),
      },
    ]);
    expect(runs.map((run) => resultOf(run))).toMatchObject([
      { findings: [{ findingId: freshFinding.Id, outcome: 'REMEDIATED' }] },
      { findings: [{ findingId: driftingFinding.Id, outcome: 'REMEDIATED' }] },
    ]);
    // The fix of the fresh one is only noted; the drifted one is NOTIFIED, saying it changed back.
    const updates = app.findingUpdates.slice(updatesBefore);
    expect(updates.map((u) => [u.FindingIdentifiers?.[0]?.Id, u.Workflow?.Status])).toEqual([
      [freshFinding.Id, undefined],
      [driftingFinding.Id, 'NOTIFIED'],
    ]);
    expect(updates[1]?.Note?.Text).toContain('changed back');
    const summary = (await app.published()).find((p) => p.attributes.outcome === 'SWEPT');
    expect(summary?.subject).toBe(
      'hubfix sweep: 2 failed findings, 2 handed on (111111111111 us-east-1)',
    );
    expect(summary?.message).toMatch(/\nEC2\.2\s+2\s+1\s+1\s+0\s+0\s+0\s+0\s+0\s+0\n/);
  });
});
