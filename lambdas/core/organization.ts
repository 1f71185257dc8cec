/**
 * Org mode: one central deployment (the Security Hub delegated administrator,
 * in the aggregation region) acts on findings of member accounts by assuming
 * a per-control role in each. This module holds what both sides share: the
 * settings the function receives, the member roles' names, and the pure
 * scope check (is this account and region one hubfix may act in?).
 */

import { array, integer, jsonSchemaOf, object, optional, type Schema, string } from './schema';
import { accountIdSchema } from './settings';

/** The role a `hubfix rollback --role-name` assumes by default in a member account. */
export const ROLLBACK_ROLE_NAME = 'hubfix-rollback';

export const DEFAULT_MEMBER_ROLE_NAME = 'hubfix-member';
export const DEFAULT_MAX_CHANGES_PER_ACCOUNT_PER_HOUR = 20;

/**
 * IAM role names are at most 64 characters; the longest suffix a control
 * adds (`-ecs-16`) leaves room for a prefix of 48.
 */
export const memberRoleNameSchema = string({
  pattern: /^[\w+=,.@-]{1,48}$/,
  patternName: 'an IAM role name prefix (letters, digits, +=,.@_-; at most 48 characters)',
});

export const regionSchema = string({
  pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
  patternName: 'an AWS region such as "eu-west-1"',
});

const accountListSchema = array(accountIdSchema, { unique: true });

/** `"*"` (every account Security Hub aggregates) or a list of account ids. */
export type AccountSelection = '*' | readonly string[];

export const accountSelectionSchema: Schema<AccountSelection> = {
  expected: '"*" or a list of 12-digit account ids',
  parse(input, path) {
    if (input === '*') return { ok: true, value: '*' };
    if (!Array.isArray(input)) {
      return {
        ok: false,
        issues: [{ path, message: `expected ${this.expected}, got ${JSON.stringify(input)}` }],
      };
    }
    const list = accountListSchema.parse(input, path);
    if (!list.ok) return list;
    if (list.value.length === 0) {
      return {
        ok: false,
        issues: [{ path, message: 'must name at least one account, or be "*"' }],
      };
    }
    return list;
  },
  toJsonSchema: () => ({
    description:
      '"*" (every account Security Hub aggregates) or the 12-digit ids of the accounts hubfix may act in.',
    anyOf: [
      { type: 'string', enum: ['*'] },
      { ...jsonSchemaOf(accountListSchema), minItems: 1 },
    ],
  }),
};

/** What a control's function needs of the organization config, at run time. */
export interface OrganizationScope {
  readonly accounts: AccountSelection;
  readonly excludeAccounts: readonly string[];
  readonly regions: readonly string[];
  /** The member roles' name prefix; each control's role is `<prefix>-<control>`. */
  readonly memberRoleName: string;
  readonly maxChangesPerAccountPerHour: number;
}

export const maxChangesSchema = integer({ min: 1, max: 10_000 });

export const organizationScopeSchema: Schema<OrganizationScope> = object({
  accounts: accountSelectionSchema,
  excludeAccounts: optional(array(accountIdSchema, { unique: true }), []),
  regions: array(regionSchema, { unique: true, minItems: 1 }),
  memberRoleName: optional(memberRoleNameSchema, DEFAULT_MEMBER_ROLE_NAME),
  maxChangesPerAccountPerHour: optional(maxChangesSchema, DEFAULT_MAX_CHANGES_PER_ACCOUNT_PER_HOUR),
});

/** `EC2.2` → `<prefix>-ec2-2`: one role per control in every member account. */
export function memberRoleNameFor(prefix: string, controlId: string): string {
  return `${prefix}-${controlId.toLowerCase().replace(/\./g, '-')}`;
}

/**
 * `${name}`: an IAM policy variable or a CloudFormation Fn::Sub placeholder,
 * spelt so that it does not read as a JavaScript template.
 */
export function placeholder(name: string): string {
  return `$\{${name}}`;
}

export function roleArn(partition: string, account: string, roleName: string): string {
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

/**
 * Why hubfix may not act in this account and region, or undefined when it
 * may. Pure, so the trust stage and its table test share it.
 */
export function outOfScope(
  scope: Pick<OrganizationScope, 'accounts' | 'excludeAccounts' | 'regions'>,
  account: string,
  region: string,
): string | undefined {
  if (scope.excludeAccounts.includes(account)) {
    return `account ${account} is excluded (organization.excludeAccounts)`;
  }
  if (scope.accounts !== '*' && !scope.accounts.includes(account)) {
    return `account ${account} is not among the accounts hubfix may act in (organization.accounts)`;
  }
  if (!scope.regions.includes(region)) {
    return `region ${region} is not among the regions hubfix may act in (organization.regions: ${scope.regions.join(', ')})`;
  }
  return undefined;
}

/**
 * The reason a finding outside the scope is refused, as the trust stage and
 * the reconciler's sweep both say it; undefined when it is inside.
 */
export function scopeRefusal(
  scope: Pick<OrganizationScope, 'accounts' | 'excludeAccounts' | 'regions'>,
  account: string,
  region: string,
): string | undefined {
  const outside = outOfScope(scope, account, region);
  return outside === undefined ? undefined : `the finding is outside hubfix's scope: ${outside}`;
}
