/**
 * The `organization` key of remediation.config.json (org mode), and the
 * member roles' template built from the registry: one role per deployed
 * control with exactly that control's permissions, trusting only that
 * control's central function role, plus the rollback role operators assume.
 * IAM only, so a member account pays nothing for it.
 */

import { ECS_TASKS_SERVICE } from '../lambdas/controls/ecs-16/meta';
import {
  accountSelectionSchema,
  DEFAULT_MAX_CHANGES_PER_ACCOUNT_PER_HOUR,
  DEFAULT_MEMBER_ROLE_NAME,
  maxChangesSchema,
  memberRoleNameFor,
  memberRoleNameSchema,
  type OrganizationScope,
  placeholder,
  ROLLBACK_ROLE_NAME,
  regionSchema,
} from '../lambdas/core/organization';
import {
  array,
  type Infer,
  jsonSchemaOf,
  object,
  optional,
  type Schema,
  string,
} from '../lambdas/core/schema';
import { accountIdSchema } from '../lambdas/core/settings';
import { REPLACES_TAG } from '../lambdas/services/replaces-tag';
import { type ControlDefinition, controlFolder, type Permission, type ScopedArn } from './controls';

/** An organizational unit (`ou-…`) or the organization's root (`r-…`), as StackSets take them. */
const organizationalUnitIdSchema = string({
  pattern: /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/,
  patternName: 'an organizational unit id ("ou-abcd-11111111") or a root id ("r-abcd")',
});

const organizationShape = object({
  accounts: accountSelectionSchema,
  excludeAccounts: optional(array(accountIdSchema, { unique: true }), []),
  regions: array(regionSchema, {
    unique: true,
    minItems: 1,
    description: 'The regions hubfix may act in; findings from any other region are ignored.',
  }),
  memberRoleName: optional(memberRoleNameSchema, DEFAULT_MEMBER_ROLE_NAME),
  deploymentTargets: object(
    {
      organizationalUnitIds: array(organizationalUnitIdSchema, { unique: true, minItems: 1 }),
    },
    { description: 'Where the member roles are deployed: these OUs, and accounts that join them.' },
  ),
  maxChangesPerAccountPerHour: optional(maxChangesSchema, DEFAULT_MAX_CHANGES_PER_ACCOUNT_PER_HOUR),
});

export type OrganizationConfig = Infer<typeof organizationShape>;

/** The shape, and one rule across keys: a list of accounts must keep one after the exclusions. */
export const organizationConfigSchema: Schema<OrganizationConfig> = {
  expected: organizationShape.expected,
  toJsonSchema: () => ({
    ...jsonSchemaOf(organizationShape),
    description:
      'Org mode: one deployment for an AWS Organization (README, "One deployment for an organization"). Absent: single-account mode.',
  }),
  parse(input, path) {
    const parsed = organizationShape.parse(input, path);
    if (!parsed.ok || parsed.value.accounts === '*') return parsed;
    const { accounts, excludeAccounts } = parsed.value;
    return accounts.every((account) => excludeAccounts.includes(account))
      ? {
          ok: false,
          issues: [
            {
              path: `${path}.excludeAccounts`,
              message: 'excludes every account in organization.accounts: hubfix would act nowhere',
            },
          ],
        }
      : parsed;
  },
};

/** What each control's function is told at run time (HUBFIX_ORGANIZATION). */
export function scopeOf(organization: OrganizationConfig): OrganizationScope {
  return {
    accounts: organization.accounts,
    excludeAccounts: organization.excludeAccounts,
    regions: organization.regions,
    memberRoleName: organization.memberRoleName,
    maxChangesPerAccountPerHour: organization.maxChangesPerAccountPerHour,
  };
}

/** One deployed control, as its member role needs it. */
export interface MemberControl {
  readonly definition: ControlDefinition;
  /** The params it is deployed with: they decide its setting permissions. */
  readonly params: unknown;
  /** The central function's role ARN (a token until deploy time). */
  readonly centralRoleArn: string;
}

type Json = Record<string, unknown>;

/**
 * A registry ARN in the member account: its account and partition are the
 * member's (the member stack's pseudo parameters); its region any, because
 * the role is global and `aws:RequestedRegion` narrows where it may act.
 */
function memberArn(arn: ScopedArn): Json {
  const region = arn.region === undefined ? '*' : arn.region;
  // EBS snapshot ARNs carry no account: '' stays ''.
  const account = arn.account === undefined ? placeholder('AWS::AccountId') : arn.account;
  // As the central stack's formatArn renders it: `<resource>/<resourceName>`.
  return {
    'Fn::Sub': `arn:${placeholder('AWS::Partition')}:${arn.service}:${region}:${account}:${arn.resource}/${arn.resourceName}`,
  };
}

/**
 * The member template's one parameter: the regions hubfix acts in. Every
 * regional statement names it rather than the list, so the template (inline,
 * at most 51,200 bytes) does not grow with each region listed.
 */
export const MEMBER_REGIONS_PARAMETER = 'HubfixRegions';

/**
 * A regional action may only be used in the regions hubfix acts in; IAM has
 * no region to narrow. A permission's `memberResources`, when it has them,
 * are what it is limited to here.
 */
function statementOf(permission: Permission): Json {
  const scoped =
    permission.resources === '*' ? '*' : (permission.memberResources ?? permission.resources);
  const resources = scoped === '*' ? '*' : scoped.map(memberArn);
  const global = scoped !== '*' && scoped.every((arn) => arn.region === '');
  const conditions: Record<string, Record<string, unknown>> = {};
  for (const [operator, values] of Object.entries(permission.conditions ?? {})) {
    conditions[operator] = { ...values };
  }
  if (!global) {
    conditions.StringEquals = {
      ...conditions.StringEquals,
      'aws:RequestedRegion': { Ref: MEMBER_REGIONS_PARAMETER },
    };
  }
  return {
    Effect: 'Allow',
    Action: [...permission.actions],
    Resource: resources,
    ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
  };
}

export const ROLLBACK_ROLE_ID = 'HubfixRollbackRole';

export function memberRoleLogicalId(controlId: string): string {
  return `HubfixMember${controlFolder(controlId)
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
}

/**
 * The member accounts' template: IAM roles only. `administratorAccount` is
 * who may assume the rollback role (its operators, through their own IAM
 * policies); the control roles trust only their own central function role.
 */
export function memberTemplate(options: {
  readonly organization: OrganizationConfig;
  readonly controls: readonly MemberControl[];
  readonly administratorAccount: string;
  readonly partition: string;
}): Json {
  const { organization, controls } = options;
  const resources: Json = {};
  for (const control of controls) {
    const { id } = control.definition.meta;
    const permissions = [
      ...control.definition.permissions,
      ...(control.definition.settingPermissions?.(control.params) ?? []),
    ];
    resources[memberRoleLogicalId(id)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: memberRoleNameFor(organization.memberRoleName, id),
        Description: `hubfix ${id}: assumed by the central ${id} function to remediate this account`,
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: control.centralRoleArn },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        Policies: [
          {
            PolicyName: `hubfix-${controlFolder(id)}`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: permissions.map(statementOf),
            },
          },
        ],
      },
    };
    // What the control needs besides its role (EC2.6's flow-log delivery role).
    Object.assign(resources, control.definition.provision?.inMembers(organization).resources);
  }
  resources[ROLLBACK_ROLE_ID] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: ROLLBACK_ROLE_NAME,
      Description:
        'hubfix rollback: operators of the administrator account assume it to undo a change hubfix made here (npx hubfix rollback --role-name)',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: {
              AWS: `arn:${options.partition}:iam::${options.administratorAccount}:root`,
            },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'hubfix-rollback',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: rollbackPermissionsFor(controls).map(statementOf),
          },
        },
      ],
    },
  };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      "hubfix member roles: one per control, each trusting only its central function, what a control needs besides (EC2.6's flow-log delivery role), and the rollback role. IAM only.",
    Parameters: {
      [MEMBER_REGIONS_PARAMETER]: {
        Type: 'CommaDelimitedList',
        Default: organization.regions.join(','),
        Description:
          'The regions hubfix acts in (organization.regions): regional actions are allowed only there',
      },
    },
    Resources: resources,
  };
}

const SECURITY_GROUPS: ScopedArn = {
  service: 'ec2',
  resource: 'security-group',
  resourceName: '*',
};
const SUBNETS: ScopedArn = { service: 'ec2', resource: 'subnet', resourceName: '*' };
const INSTANCES: ScopedArn = { service: 'ec2', resource: 'instance', resourceName: '*' };
const NETWORK_INTERFACES: ScopedArn = {
  service: 'ec2',
  resource: 'network-interface',
  resourceName: '*',
};
const DESCRIBE_ONLY = 'EC2 Describe* actions support no resource-level permissions';

/**
 * Everything a control's rollback calls in a member account, and nothing
 * else: the reads its `checkRollback` and `rollback` make, and the calls
 * its `describeRollback` may show (lambdas/controls/<id>/remediate.ts and
 * lambdas/services/), for every variant a control records, whatever the
 * settings it is deployed with now (a change made under other settings may
 * still be rolled back). A notify-only control changes nothing, so it has
 * nothing to undo. test/unit/org/rollback-permissions.test.ts proves the
 * table both ways: each described call and each read of a sample rollback
 * of every variant is covered, and each grant is needed by one of them.
 */
export const ROLLBACK_PERMISSIONS: Readonly<Record<string, readonly Permission[]>> = {
  'EC2.1': [
    {
      actions: ['ec2:DisableSnapshotBlockPublicAccess', 'ec2:EnableSnapshotBlockPublicAccess'],
      resources: '*',
      reason:
        'snapshot block public access is a setting of the account and region, with no resource-level permissions',
    },
    {
      actions: ['ec2:ModifySnapshotAttribute'],
      resources: [{ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }],
      reason:
        "EBS snapshot ARNs carry no account; EC2 lets only its owner change a snapshot's permissions",
    },
  ],
  'EC2.2': [
    {
      // The rules the group has now (a recorded rule still there is not sent again); with `migrate`, the replacement and the interfaces too.
      actions: [
        'ec2:DescribeSecurityGroupRules',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeNetworkInterfaces',
      ],
      resources: '*',
      reason: DESCRIBE_ONLY,
    },
    {
      // Revoke only after `migrate`: the rules for the replacement, in any group that referenced the default group.
      actions: [
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
      ],
      resources: [SECURITY_GROUPS],
    },
    {
      // `migrate`: each interface gets the default group back (EC2 authorizes the interface, its instance and every group of the new list).
      actions: ['ec2:ModifyNetworkInterfaceAttribute'],
      resources: [NETWORK_INTERFACES, INSTANCES, SECURITY_GROUPS],
    },
    {
      // `migrate`: the replacement goes when nothing uses it; only a group carrying hubfix's tag.
      actions: ['ec2:DeleteSecurityGroup'],
      resources: [SECURITY_GROUPS],
      conditions: { Null: { [`aws:ResourceTag/${REPLACES_TAG}`]: 'false' } },
    },
  ],
  'EC2.6': [
    { actions: ['ec2:DescribeFlowLogs'], resources: '*', reason: DESCRIBE_ONLY },
    {
      actions: ['ec2:DeleteFlowLogs'],
      resources: [{ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }],
    },
  ],
  'EC2.7': [
    {
      actions: ['ec2:DisableEbsEncryptionByDefault'],
      resources: '*',
      reason: 'EBS encryption by default is an account setting',
    },
  ],
  'EC2.8': [{ actions: ['ec2:ModifyInstanceMetadataOptions'], resources: [INSTANCES] }],
  'EC2.9': [
    {
      // The instance's primary interface, before anything; where the Elastic IP is, before associating it.
      actions: ['ec2:DescribeInstances', 'ec2:DescribeAddresses'],
      resources: '*',
      reason: DESCRIBE_ONLY,
    },
    {
      actions: ['ec2:AssociateAddress'],
      resources: [
        { service: 'ec2', resource: 'elastic-ip', resourceName: '*' },
        NETWORK_INTERFACES,
        INSTANCES,
      ],
    },
    {
      // Auto-assign back on, on the interface only: ec2:Attribute holds it to that.
      actions: ['ec2:ModifyNetworkInterfaceAttribute'],
      resources: [NETWORK_INTERFACES],
      conditions: { StringEquals: { 'ec2:Attribute/AssociatePublicIpAddress': 'true' } },
    },
    { actions: ['ec2:ModifyNetworkInterfaceAttribute'], resources: [INSTANCES] },
    { actions: ['ec2:ModifySubnetAttribute'], resources: [SUBNETS] },
  ],
  'EC2.15': [{ actions: ['ec2:ModifySubnetAttribute'], resources: [SUBNETS] }],
  'EC2.18': [
    // The rules the group has now: a recorded rule still there is not sent again.
    { actions: ['ec2:DescribeSecurityGroupRules'], resources: '*', reason: DESCRIBE_ONLY },
    { actions: ['ec2:AuthorizeSecurityGroupIngress'], resources: [SECURITY_GROUPS] },
  ],
  'EC2.19': [
    { actions: ['ec2:DescribeSecurityGroupRules'], resources: '*', reason: DESCRIBE_ONLY },
    { actions: ['ec2:AuthorizeSecurityGroupIngress'], resources: [SECURITY_GROUPS] },
  ],
  'EC2.24': [],
  'ECS.2': [
    {
      actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
      resources: [{ service: 'ecs', resource: 'service', resourceName: '*' }],
    },
  ],
  'ECS.16': [
    {
      actions: ['ecs:DescribeTaskSets', 'ecs:CreateTaskSet', 'ecs:DeleteTaskSet'],
      resources: [{ service: 'ecs', resource: 'task-set', resourceName: '*/*/*' }],
    },
    {
      // The recorded task set's tags go on as CreateTaskSet makes its twin, and only then.
      actions: ['ecs:TagResource'],
      resources: [{ service: 'ecs', resource: 'task-set', resourceName: '*/*/*' }],
      conditions: { StringEquals: { 'ecs:CreateAction': 'CreateTaskSet' } },
    },
    {
      actions: ['ecs:UpdateServicePrimaryTaskSet'],
      resources: [{ service: 'ecs', resource: 'service', resourceName: '*/*' }],
    },
    {
      // The task definition's task and execution roles, which a task set of the service runs now (checkRollback).
      actions: ['iam:PassRole'],
      resources: [{ service: 'iam', region: '', resource: 'role', resourceName: '*' }],
      conditions: { StringEquals: { 'iam:PassedToService': ECS_TASKS_SERVICE } },
    },
  ],
};

/**
 * The rollback role's grants for these controls: each control's whole
 * entry, whatever its settings (a change recorded under other settings may
 * still be rolled back).
 * @throws Error when a control has no entry in ROLLBACK_PERMISSIONS, so a new control is not forgotten.
 */
export function rollbackPermissionsFor(controls: readonly MemberControl[]): Permission[] {
  return controls.flatMap(({ definition }) => {
    const { id } = definition.meta;
    const undo = ROLLBACK_PERMISSIONS[id];
    if (undo === undefined) {
      throw new Error(`${id} has no entry in ROLLBACK_PERMISSIONS (lib/organization.ts)`);
    }
    return [...undo];
  });
}
