/**
 * The deployable artifact itself: the bundle `cdk synth` put in the cloud
 * assembly for EC2.2 (minified ESM, tree-shaken SDK inside), started in its
 * own process as Lambda starts it, with the environment the template gives
 * it, against moto.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { HANDLER_FILE } from '../../lib/bundling/esbuild';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { deploy, registerFindings, resultOf, synthesizedFunction } from './deployed';
import { againstMoto, motoAvailable } from './support';

describe.skipIf(!motoAvailable)(againstMoto('the EC2.2 bundle from cdk synth'), () => {
  it('is one bundled file in the function asset, holding no TypeScript', () => {
    const fn = synthesizedFunction('EC2.2');

    expect(fn.handler).toBe(`${path.parse(HANDLER_FILE).name}.handler`);
    expect(readdirSync(fn.assetDir)).toEqual([HANDLER_FILE]);
    expect(existsSync(path.join(fn.assetDir, HANDLER_FILE))).toBe(true);
  });

  it('reads, revokes, records, updates the finding and notifies through the bundled SDK', async () => {
    // Prepare: the stack on moto, a default group with an SSH rule, the finding in Security Hub.
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
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
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    const finding = withChanges(EC2_2_FINDING, {
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
        },
      ],
    });
    registerFindings([finding]);

    // Act: a cold start and one invocation of the synthesized bundle.
    const run = await app.invoke('EC2.2', importedEvent([finding]), {
      settings: { mode: 'remediate', dryRun: false, params: { strategy: 'empty-if-unused' } },
    });

    // Assess: Security Hub's copy was fetched first; the rule is gone, the finding
    // noted, the ledger has the change, SNS was told.
    expect(resultOf(run)).toMatchObject({
      findings: [{ decision: 'REMEDIATE', outcome: 'REMEDIATED' }],
    });
    expect(app.securityHub.queries).toContainEqual(
      expect.objectContaining({
        Filters: expect.objectContaining({ Id: [{ Value: finding.Id, Comparison: 'EQUALS' }] }),
      }),
    );
    // A verified fix is noted; the workflow is Security Hub's to resolve on its next check.
    expect(app.findingUpdates).toEqual([
      expect.objectContaining({ Note: expect.objectContaining({ UpdatedBy: 'hubfix' }) }),
    ]);
    expect(app.findingUpdates[0]?.Workflow).toBeUndefined();
    const after = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(after.SecurityGroups?.[0]?.IpPermissions).toEqual([]);
    const [entry] = await app.ledger.recent(5);
    expect(entry).toMatchObject({ controlId: 'EC2.2', status: 'REMEDIATED' });
    expect(entry?.changeId).toMatch(/^EC2\.2-[0-9a-f-]{36}$/);
    expect(await app.published()).toEqual([
      expect.objectContaining({
        attributes: expect.objectContaining({ control: 'EC2.2', outcome: 'REMEDIATED' }),
      }),
    ]);
  });
});
