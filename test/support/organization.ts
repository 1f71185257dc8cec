/**
 * Org mode's fixtures: a member account's copy of a sample finding, and the
 * scope a central deployment runs with.
 */
import type { OrganizationScope } from '../../lambdas/core/organization';
import { ACCOUNT, type Json, REGION } from './fixtures';

export const MEMBER = '222222222222';
export const MEMBER_REGION = 'eu-west-1';

/** The scope of the tests' central deployment: every account but one, two regions. */
export const SCOPE: OrganizationScope = {
  accounts: '*',
  excludeAccounts: ['999999999999'],
  regions: [REGION, MEMBER_REGION],
  memberRoleName: 'hubfix-member',
  maxChangesPerAccountPerHour: 20,
};

/**
 * The finding as a member account's Security Hub produced it: its account
 * and region in every identifier (Id, ProductArn, AwsAccountId, resource ARNs).
 */
export function asMember<T extends Json>(
  finding: T,
  account: string = MEMBER,
  region: string = MEMBER_REGION,
): T {
  return JSON.parse(
    JSON.stringify(finding).replaceAll(ACCOUNT, account).replaceAll(REGION, region),
  ) as T;
}
