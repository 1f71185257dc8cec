/**
 * Org mode's fixtures: a member account's copy of a sample finding, and the
 * scope a central deployment runs with.
 */
import type { OrganizationScope } from '../../lambdas/core/organization';
import type { ChangeBudget } from '../../lambdas/core/ports';
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

/**
 * The budget as the State table keeps it, in memory: `limit` changes per
 * account, then spent.
 */
export function budgetOf(limit: number): ChangeBudget & { readonly taken: Map<string, number> } {
  const taken = new Map<string, number>();
  return {
    taken,
    async take(account) {
      const count = taken.get(account) ?? 0;
      if (count >= limit) return { kind: 'spent', limit };
      taken.set(account, count + 1);
      return { kind: 'taken' };
    },
  };
}
