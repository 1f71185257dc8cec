/**
 * EC2.18 as it ships: the bundle `cdk synth` produced, against moto. A group
 * open to the world for SSH and for ICMP loses the SSH rule and keeps the
 * ICMP one (path-MTU discovery needs it; the control judges TCP and UDP
 * ports only).
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { deploy, registerFindings, resultOf } from './deployed';
import { againstMoto, motoAvailable } from './support';

/** A group open to the world for SSH, ICMP (all types) and ICMPv6. */
async function groupOpenForSshAndIcmp(ec2: EC2Client): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: 'web',
      Description: 'web servers',
      VpcId: vpc.Vpc?.VpcId,
    }),
  );
  const groupId = group.GroupId ?? '';
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
    }),
  );
  return groupId;
}

async function inboundProtocols(ec2: EC2Client, groupId: string): Promise<string[]> {
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
  );
  return (rules.SecurityGroupRules ?? [])
    .filter((rule) => rule.IsEgress === false)
    .map((rule) => `${rule.IpProtocol} ${rule.FromPort}-${rule.ToPort}`)
    .sort();
}

describe.skipIf(!motoAvailable)(againstMoto('EC2.18, the deployed bundle'), () => {
  it('revokes a world-open SSH rule and keeps the world-open ICMP rules beside it', async () => {
    // Prepare
    const app = await deploy();
    const ec2 = new EC2Client(app.options);
    const groupId = await groupOpenForSshAndIcmp(ec2);
    const finding = withChanges(EC2_2_FINDING, {
      Id: `arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.18/finding/${groupId}`,
      GeneratorId: 'security-control/EC2.18',
      'Compliance.SecurityControlId': 'EC2.18',
      'ProductFields.ControlId': undefined,
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: `arn:aws:ec2:us-east-1:111111111111:security-group/${groupId}`,
          Region: 'us-east-1',
        },
      ],
    });
    registerFindings([finding]);

    // Act
    const run = await app.invoke('EC2.18', importedEvent([finding]), {
      settings: { mode: 'remediate', dryRun: false },
    });

    // Assess: SSH is gone, both ICMP rules stay, and the ledger holds only SSH.
    expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
    expect(await inboundProtocols(ec2, groupId)).toEqual(['icmp -1--1', 'icmpv6 -1--1']);
    const [entry] = await app.ledger.recent(5);
    expect(entry).toMatchObject({ status: 'REMEDIATED', controlId: 'EC2.18' });
    const revoked = (JSON.parse(entry?.before ?? '{}') as { rules: { protocol: string }[] }).rules;
    expect(revoked.map((rule) => rule.protocol)).toEqual(['tcp']);
  });
});
