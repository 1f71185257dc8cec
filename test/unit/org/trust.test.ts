import { describe, expect, it } from 'vitest';
import { readAsffEvent } from '../../../lambdas/core/intake/asff';
import type { OrganizationScope } from '../../../lambdas/core/organization';
import { arnResource } from '../../../lambdas/core/resource';
import { assessTrust } from '../../../lambdas/core/trust';
import { EC2_2_FINDING, importedEvent, type Json, SELF, withChanges } from '../../support/fixtures';
import { asMember, MEMBER, MEMBER_REGION, SCOPE } from '../../support/organization';

const securityGroups = arnResource({
  types: ['AwsEc2SecurityGroup'],
  service: 'ec2',
  resourceType: 'security-group',
  idPattern: /^sg-[0-9a-f]{8,17}$/,
});

/** Only the member account, by id. */
const LISTED: OrganizationScope = { ...SCOPE, accounts: [MEMBER] };

/** An aggregated event: it reaches the administrator account in the aggregation region. */
function assess(finding: Json, scope: OrganizationScope | 'single-account' = SCOPE) {
  const parsed = readAsffEvent(importedEvent([finding]));
  const [first] = parsed.findings;
  if (!first?.ok) throw new Error('fixture did not parse');
  return assessTrust({
    event: parsed,
    finding: first.finding,
    request: 'imported',
    controlId: 'EC2.2',
    resourceSpec: securityGroups,
    self: SELF,
    organization: scope === 'single-account' ? undefined : scope,
  });
}

describe('assessTrust in org mode', () => {
  it("accepts a member's finding and names the resource in the member's account and region", () => {
    expect(assess(asMember(EC2_2_FINDING))).toEqual({
      ok: true,
      resource: expect.objectContaining({
        account: MEMBER,
        region: MEMBER_REGION,
        id: 'sg-1234123f',
      }),
    });
  });

  it("still accepts the administrator account's own findings", () => {
    expect(assess(EC2_2_FINDING)).toMatchObject({ ok: true, resource: { account: SELF.account } });
  });

  it.each([
    [
      'an excluded account',
      asMember(EC2_2_FINDING, '999999999999'),
      "the finding is outside hubfix's scope: account 999999999999 is excluded (organization.excludeAccounts)",
    ],
    [
      'an account not listed',
      asMember(EC2_2_FINDING, '333333333333'),
      "the finding is outside hubfix's scope: account 333333333333 is not among the accounts hubfix may act in (organization.accounts)",
      LISTED,
    ],
    [
      'an allowed account in a region not allowed',
      asMember(EC2_2_FINDING, MEMBER, 'ap-southeast-2'),
      "the finding is outside hubfix's scope: region ap-southeast-2 is not among the regions hubfix may act in (organization.regions: us-east-1, eu-west-1)",
    ],
    [
      "a member's finding naming another account's resource",
      withChanges(asMember(EC2_2_FINDING), {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: `arn:aws:ec2:${MEMBER_REGION}:333333333333:security-group/sg-1234123f`,
            Region: MEMBER_REGION,
          },
        ],
      }),
      `the resource is in account 333333333333, not ${MEMBER}`,
    ],
    [
      "a member's finding naming a resource in another region",
      withChanges(asMember(EC2_2_FINDING), {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: `arn:aws:ec2:us-east-1:${MEMBER}:security-group/sg-1234123f`,
          },
        ],
      }),
      `the resource is in region us-east-1, not ${MEMBER_REGION}`,
    ],
  ])('refuses %s', (_case, finding, reason, scope: OrganizationScope = SCOPE) => {
    expect(assess(finding, scope)).toMatchObject({ ok: false, reason });
  });

  it('refuses in single-account mode what org mode accepts, as before', () => {
    expect(assess(asMember(EC2_2_FINDING), 'single-account')).toMatchObject({
      ok: false,
      reason: `the finding was produced in ${MEMBER_REGION}, not us-east-1`,
    });
    expect(assess(asMember(EC2_2_FINDING, MEMBER, 'us-east-1'), 'single-account')).toMatchObject({
      ok: false,
      reason: `the finding belongs to account ${MEMBER}, not 111111111111`,
    });
  });
});
