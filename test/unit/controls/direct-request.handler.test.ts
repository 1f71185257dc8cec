/**
 * A person's request sent straight to a control's function, as
 * `npx hubfix remediate|plan` sends it: the function fetches the finding from
 * Security Hub, decides as for any finding, and answers in words the CLI
 * prints (reason, note, change id), in the shape the CLI reads. EC2.15
 * serves as the control.
 */
import {
  DescribeSubnetsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
} from '@aws-sdk/client-ec2';
import { GetFindingsCommand } from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import { ec2_15 } from '../../../lambdas/controls/ec2-15/remediate';
import { DIRECT_REQUEST_MARKER, type DirectRequest } from '../../../lambdas/core/intake/direct';
import { functionAnswerSchema } from '../../../lib/cli/invoke';
import { strictMock } from '../../support/aws';
import { importedEvent, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';

const FINDING = readJson('asr-ec2.15-finding.json');
const FINDING_ID = String(FINDING.Id);
const SUBNET = 'subnet-017e22c0195eb5ded';
const OPERATOR = 'arn:aws:iam::111111111111:user/ops';

function request(kind: 'remediate' | 'plan'): DirectRequest {
  return {
    type: DIRECT_REQUEST_MARKER,
    requestId: 'cli-request-1',
    request: kind,
    origin: 'cli',
    by: OPERATOR,
    findings: [{ format: 'asff', id: FINDING_ID, productArn: String(FINDING.ProductArn) }],
  };
}

function setup(settings: { mode?: 'off' | 'notify' | 'remediate' } = {}) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const t = controlHarness(ec2_15, { clients: { ec2: ec2Client }, settings });
  t.securityHubHas(FINDING_ID, FINDING);
  return { ec2, ...t };
}

function subnetOpen(t: ReturnType<typeof setup>) {
  t.ec2
    .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true)
    .resolvesOnce({
      Subnets: [
        { SubnetId: SUBNET, MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: false },
      ],
    })
    .resolvesOnce({
      Subnets: [
        { SubnetId: SUBNET, MapPublicIpOnLaunch: false, AssignIpv6AddressOnCreation: false },
      ],
    });
}

describe("a person's direct request", () => {
  it('lifts notify mode, fixes, and answers with the reason, the note and the change id', async () => {
    // Prepare: notify mode would only notify an imported finding.
    const t = setup({ mode: 'notify' });
    subnetOpen(t);
    t.ec2
      .on(
        ModifySubnetAttributeCommand,
        { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: false } },
        true,
      )
      .resolves({});
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(request('remediate'));

    // Assess
    expect(t.securityHub).toHaveReceivedCommandWith(GetFindingsCommand, {
      Filters: {
        Id: [{ Value: FINDING_ID, Comparison: 'EQUALS' }],
        ProductArn: [{ Value: String(FINDING.ProductArn), Comparison: 'EQUALS' }],
      },
    });
    expect(result.findings).toEqual([
      {
        findingId: FINDING_ID,
        decision: 'REMEDIATE',
        outcome: 'REMEDIATED',
        reason: 'a person asked for a fix',
        note: t.notes()[0],
        changeId: 'change-1',
      },
    ]);
    expect(t.notes()[0]).toMatch(/^hubfix remediated and verified: .*Change change-1\./);
    expect(t.published()[0]?.Message).toContain('npx hubfix remediate');
    expect(functionAnswerSchema.parse(JSON.parse(JSON.stringify(result)), 'answer')).toEqual({
      ok: true,
      value: result,
    });
  });

  it('says why it ignored a request when the control is off, and changes nothing', async () => {
    // Prepare: mode off reads nothing, so no EC2 call is prepared.
    const t = setup({ mode: 'off' });

    // Act
    const result = await t.invoke(request('remediate'));

    // Assess
    expect(result.findings).toEqual([
      {
        findingId: FINDING_ID,
        decision: 'IGNORE',
        outcome: 'IGNORED',
        reason: 'the control is switched off (mode "off")',
        note: 'hubfix ignored this finding: the control is switched off (mode "off").',
      },
    ]);
    expect(t.notes()).toEqual([]);
    expect(t.published()).toEqual([]);
  });

  it('plans without changing anything, and the note holds the plan', async () => {
    // Prepare
    const t = setup();
    t.ec2.on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] }, true).resolves({
      Subnets: [
        { SubnetId: SUBNET, MapPublicIpOnLaunch: true, AssignIpv6AddressOnCreation: false },
      ],
    });
    t.acceptDeliveries();

    // Act
    const result = await t.invoke(request('plan'));

    // Assess
    expect(result.findings).toEqual([
      {
        findingId: FINDING_ID,
        decision: 'PLAN',
        outcome: 'PLANNED',
        reason: 'a person asked for a plan',
        note: t.notes()[0],
      },
    ]);
    expect(t.notes()[0]).toMatch(/^hubfix plan \(a person asked for a plan\)\. It would 1\) /);
    expect(t.ec2.commandCalls(ModifySubnetAttributeCommand)).toEqual([]);
  });

  it('answers an event from Security Hub as before, without the words', async () => {
    // Prepare
    const t = setup({ mode: 'off' });

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING_ID, decision: 'IGNORE', outcome: 'IGNORED' },
    ]);
  });
});
