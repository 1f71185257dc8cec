/**
 * Org mode through the exported handler: a member account's EC2.7 finding,
 * aggregated into the administrator account, is fixed in the member account
 * with the member role's credentials, written back through the
 * administrator's Security Hub, and recorded with its account and region.
 */
import {
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { BatchUpdateFindingsCommand, GetFindingsCommand } from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ec2_7 } from '../../../lambdas/controls/ec2-7/remediate';
import { DIRECT_REQUEST_MARKER, type DirectRequest } from '../../../lambdas/core/intake/direct';
import type { FindingLookup } from '../../../lambdas/core/intake/types';
import type { ChangeBudget } from '../../../lambdas/core/ports';
import { serviceError, strictMock } from '../../support/aws';
import { findingsOf, importedEvent, type Json, REGION, readJson } from '../../support/fixtures';
import { controlHarness } from '../../support/handler';
import { ocsfFinding } from '../../support/ocsf';
import { asMember, budgetOf, MEMBER, MEMBER_REGION, SCOPE } from '../../support/organization';

const [SAMPLE] = findingsOf(readJson('asr-ec2.7-imported-event.json'));
if (!SAMPLE) throw new Error('the EC2.7 sample event holds no finding');
const FINDING = asMember(SAMPLE);
const ROLE_ARN = `arn:aws:iam::${MEMBER}:role/hubfix-member-ec2-7`;
const EXPIRES = new Date('2099-01-01T00:00:00Z');
const OCSF_MEMBER_UID = String(
  (asMember(ocsfFinding('EC2.7')).finding_info as { uid: unknown } | undefined)?.uid,
);

function setup(options: { budget?: ChangeBudget } = {}) {
  const ec2Client = new EC2Client({ region: REGION });
  const ec2 = strictMock(ec2Client);
  const t = controlHarness(ec2_7, {
    clients: { ec2: ec2Client },
    organization: SCOPE,
    ...options,
  });
  t.acceptDeliveries();
  return { ec2, ...t };
}

function givenMemberRole(t: ReturnType<typeof setup>) {
  t.sts
    .on(
      AssumeRoleCommand,
      { RoleArn: ROLE_ARN, RoleSessionName: 'hubfix-EC2.7', DurationSeconds: 3600 },
      true,
    )
    .resolves({
      Credentials: {
        AccessKeyId: 'ASIAMEMBER',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: EXPIRES,
      },
      AssumedRoleUser: { AssumedRoleId: 'AROAMEMBER:hubfix-EC2.7', Arn: `${ROLE_ARN}/x` },
    });
}

function givenEncryptionOff(ec2: ReturnType<typeof setup>['ec2']) {
  ec2
    .on(GetEbsEncryptionByDefaultCommand, {}, true)
    .resolvesOnce({ EbsEncryptionByDefault: false })
    .resolvesOnce({ EbsEncryptionByDefault: true });
}

describe('org mode: a member account finding', () => {
  it('assumes the control role in the member account, fixes it there, and records account and region', async () => {
    // Prepare
    const t = setup();
    givenMemberRole(t);
    givenEncryptionOff(t.ec2);
    t.ec2
      .on(EnableEbsEncryptionByDefaultCommand, {}, true)
      .resolves({ EbsEncryptionByDefault: true });

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'REMEDIATED' },
    ]);
    expect(t.memberClients).toHaveLength(1);
    expect(t.memberClients[0]?.region).toBe(MEMBER_REGION);
    await expect(t.memberClients[0]?.credentials?.()).resolves.toEqual({
      accessKeyId: 'ASIAMEMBER',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: EXPIRES,
    });
    expect(t.records).toEqual([
      expect.objectContaining({
        account: MEMBER,
        region: MEMBER_REGION,
        resource: `AWS::::Account:${MEMBER}`,
        before: { account: MEMBER, region: MEMBER_REGION, enabled: false },
      }),
    ]);
    // Security Hub is the administrator's: the re-fetch and the write-back name the member's finding.
    expect(t.securityHub.commandCalls(GetFindingsCommand)[0]?.args[0].input.Filters).toMatchObject({
      Id: [{ Value: FINDING.Id, Comparison: 'EQUALS' }],
    });
    expect(
      t.securityHub.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.FindingIdentifiers,
    ).toEqual([{ Id: FINDING.Id, ProductArn: FINDING.ProductArn }]);
    expect(t.published()[0]?.Subject).toBe(
      `hubfix REMEDIATED EC2.7 ${MEMBER} (${MEMBER} ${MEMBER_REGION})`,
    );
  });

  it('notifies with the account and the reason when the member role is missing, once for all its findings', async () => {
    // Prepare
    const t = setup();
    t.sts
      .on(AssumeRoleCommand)
      .rejects(
        serviceError(
          'AccessDenied',
          `User: arn:aws:sts::111111111111:assumed-role/central/fn is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
        ),
      );
    const second = withId(FINDING, `${String(FINDING.Id)}-2`);

    // Act
    const result = await t.invoke(importedEvent([FINDING, second]));

    // Assess
    expect(result.status).toBe('processed');
    expect(result.findings.map((f) => f.outcome)).toEqual(['NOTIFIED', 'NOTIFIED']);
    expect(t.sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(t.ec2.calls()).toHaveLength(0);
    expect(t.records).toEqual([]);
    expect(t.workflows()).toEqual(['NOTIFIED', 'NOTIFIED']);
    expect(t.notes()[0]).toContain(`hubfix cannot assume ${ROLE_ARN} in account ${MEMBER}`);
    expect(t.events[0]).toMatchObject({ outcome: 'NOTIFIED', account: MEMBER });
  });

  // The reasons are the trust stage's (test/unit/org/trust.test.ts).
  it.each([
    ['an excluded account', asMember(SAMPLE, '999999999999')],
    ['an allowed account in a region not allowed', asMember(SAMPLE, MEMBER, 'ap-southeast-2')],
  ])('ignores %s without assuming any role', async (_case, finding) => {
    // Prepare
    const t = setup();

    // Act
    const result = await t.invoke(importedEvent([finding]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: finding.Id, decision: 'IGNORE', outcome: 'IGNORED' },
    ]);
    expect(t.sts.calls()).toHaveLength(0);
    expect(t.ec2.calls()).toHaveLength(0);
    expect(t.securityHub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
    expect(t.published()).toEqual([]);
  });

  it('ignores a finding Security Hub no longer holds (an account that left the organization)', async () => {
    // Prepare
    const t = setup();
    t.securityHubHas(String(FINDING.Id), undefined);

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'IGNORE', outcome: 'IGNORED' },
    ]);
    expect(t.sts.calls()).toHaveLength(0);
  });

  it("notifies instead of changing once the account's hourly budget is spent, and says so", async () => {
    // Prepare
    const budget = budgetOf(0);
    const t = setup({ budget });
    givenMemberRole(t);
    t.ec2
      .on(GetEbsEncryptionByDefaultCommand, {}, true)
      .resolves({ EbsEncryptionByDefault: false });

    // Act
    const result = await t.invoke(importedEvent([FINDING]));

    // Assess
    expect(result.findings).toEqual([
      { findingId: FINDING.Id, decision: 'REMEDIATE', outcome: 'NOTIFIED' },
    ]);
    expect(t.ec2.commandCalls(EnableEbsEncryptionByDefaultCommand)).toHaveLength(0);
    expect(t.records).toEqual([]);
    expect(t.workflows()).toEqual(['NOTIFIED']);
    expect(t.notes()[0]).toContain(
      `hubfix already made 0 changes in account ${MEMBER} this hour (organization.maxChangesPerAccountPerHour)`,
    );
  });
});

/** What the reconciler hands a control for a finding it swept (lambdas/reconciler/sweep.ts). */
function handedOn(lookup: FindingLookup): DirectRequest {
  return {
    type: DIRECT_REQUEST_MARKER,
    requestId: 'reconciler-2026-11-30T12:00:00Z-0.0-EC2.7-imported-0',
    request: 'imported',
    origin: 'reconciler',
    findings: [lookup],
  };
}

describe("org mode: a member account's finding the reconciler hands on", () => {
  it.each([
    [
      'ASFF, by id and product ARN',
      FINDING,
      { format: 'asff', id: String(FINDING.Id), productArn: String(FINDING.ProductArn) },
      String(FINDING.Id),
    ],
    [
      'OCSF, by uid',
      asMember(ocsfFinding('EC2.7')),
      { format: 'ocsf', uid: OCSF_MEMBER_UID },
      OCSF_MEMBER_UID,
    ],
  ] as const)(
    '%s: re-fetched from the administrator, fixed through the member role, in the member account',
    async (_case, finding, lookup, key) => {
      // Prepare: the administrator's Security Hub holds the member's finding.
      const t = setup();
      t.securityHubHas(key, finding);
      givenMemberRole(t);
      givenEncryptionOff(t.ec2);
      t.ec2
        .on(EnableEbsEncryptionByDefaultCommand, {}, true)
        .resolves({ EbsEncryptionByDefault: true });

      // Act
      const result = await t.invoke(handedOn(lookup));

      // Assess
      expect(result.findings).toMatchObject([{ decision: 'REMEDIATE', outcome: 'REMEDIATED' }]);
      expect(t.sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
      expect(t.memberClients.map((c) => c.region)).toEqual([MEMBER_REGION]);
      expect(t.records).toEqual([
        expect.objectContaining({ account: MEMBER, region: MEMBER_REGION }),
      ]);
      // Written back to the member's finding through the administrator's Security Hub.
      const updates = t.securityHub
        .calls()
        .map((call) => call.args[0].input as Record<string, unknown>)
        .filter((input) => 'FindingIdentifiers' in input);
      expect(updates).toHaveLength(1);
      expect(JSON.stringify(updates[0])).toContain(key);
      expect(key).toContain(MEMBER);
    },
  );
});

function withId(finding: Json, id: string): Json {
  return { ...finding, Id: id };
}
