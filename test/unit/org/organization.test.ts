import { describe, expect, it } from 'vitest';
import {
  memberRoleNameFor,
  organizationScopeSchema,
  outOfScope,
  roleArn,
} from '../../../lambdas/core/organization';
import { SCOPE } from '../../support/organization';

describe('outOfScope', () => {
  it.each([
    [
      'an account of the organization, in an allowed region',
      '222222222222',
      'eu-west-1',
      undefined,
    ],
    [
      'an excluded account',
      '999999999999',
      'eu-west-1',
      'account 999999999999 is excluded (organization.excludeAccounts)',
    ],
    [
      'a region not allowed',
      '222222222222',
      'ap-southeast-2',
      'region ap-southeast-2 is not among the regions hubfix may act in (organization.regions: us-east-1, eu-west-1)',
    ],
  ])('with accounts "*": %s', (_case, account, region, expected) => {
    expect(outOfScope(SCOPE, account, region)).toBe(expected);
  });

  it('with a list of accounts: only those, and an exclusion still wins', () => {
    const scope = { ...SCOPE, accounts: ['222222222222', '999999999999'] };

    expect(outOfScope(scope, '222222222222', 'us-east-1')).toBeUndefined();
    expect(outOfScope(scope, '333333333333', 'us-east-1')).toBe(
      'account 333333333333 is not among the accounts hubfix may act in (organization.accounts)',
    );
    expect(outOfScope(scope, '999999999999', 'us-east-1')).toMatch(/is excluded/);
  });
});

describe('member role names', () => {
  it('are the prefix and the control id, lower case, dots as dashes', () => {
    expect(memberRoleNameFor('hubfix-member', 'EC2.2')).toBe('hubfix-member-ec2-2');
    expect(memberRoleNameFor('hubfix-member', 'ECS.16')).toBe('hubfix-member-ecs-16');
    expect(roleArn('aws-us-gov', '222222222222', 'hubfix-member-ec2-2')).toBe(
      'arn:aws-us-gov:iam::222222222222:role/hubfix-member-ec2-2',
    );
  });
});

describe('the organization scope schema', () => {
  it('fills in the defaults', () => {
    const parsed = organizationScopeSchema.parse({ accounts: '*', regions: ['eu-west-1'] }, 'x');

    expect(parsed).toEqual({
      ok: true,
      value: {
        accounts: '*',
        excludeAccounts: [],
        regions: ['eu-west-1'],
        memberRoleName: 'hubfix-member',
        maxChangesPerAccountPerHour: 20,
      },
    });
  });

  it('names every bad path', () => {
    const parsed = organizationScopeSchema.parse(
      {
        accounts: ['12345', '222222222222'],
        regions: [],
        memberRoleName: 'a role with spaces',
        maxChangesPerAccountPerHour: 0,
      },
      'organization',
    );

    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.issues.map((i) => i.path)).toEqual([
      'organization.accounts[0]',
      'organization.regions',
      'organization.memberRoleName',
      'organization.maxChangesPerAccountPerHour',
    ]);
  });

  it('refuses an empty account list and anything but "*" as a word', () => {
    for (const accounts of [[], 'all', 42]) {
      const parsed = organizationScopeSchema.parse({ accounts, regions: ['eu-west-1'] }, 'o');
      expect(parsed.ok ? [] : parsed.issues.map((i) => i.path)).toEqual(['o.accounts']);
    }
  });
});
