/**
 * THE registry. One entry per control drives the stack (one function, its
 * rules, queue and grants), the config schema, the README table and the test
 * matrix. Adding a control is one folder in lambdas/controls/ and one entry
 * here.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ec2_1Meta } from '../lambdas/controls/ec2-1/meta';
import { ec2_2Meta } from '../lambdas/controls/ec2-2/meta';
import { ec2_6Meta } from '../lambdas/controls/ec2-6/meta';
import {
  FLOW_LOG_DELIVERY_ROLE_NAME,
  FLOW_LOGS_SERVICE,
  MEMBER_FLOW_LOG_DELIVERY_ROLE_NAME,
  memberFlowLogDeliveryRole,
  provisionFlowLogDeliveryRole,
} from '../lambdas/controls/ec2-6/provision';
import { ec2_7Meta } from '../lambdas/controls/ec2-7/meta';
import { ec2_8Meta } from '../lambdas/controls/ec2-8/meta';
import { ec2_9Meta, TEMPORARY_TAG, TEMPORARY_UNTIL_TAG } from '../lambdas/controls/ec2-9/meta';
import { ec2_15Meta } from '../lambdas/controls/ec2-15/meta';
import { ec2_18Meta } from '../lambdas/controls/ec2-18/meta';
import { ec2_19Meta } from '../lambdas/controls/ec2-19/meta';
import { ec2_24Meta } from '../lambdas/controls/ec2-24/meta';
import { ecs_2Meta } from '../lambdas/controls/ecs-2/meta';
import { ECS_TASKS_SERVICE, ecs_16Meta } from '../lambdas/controls/ecs-16/meta';
import type { Provisioned } from '../lambdas/core/control';
import type { ObjectSchema } from '../lambdas/core/schema';
import type { Mode } from '../lambdas/core/settings';
import { REPLACES_TAG } from '../lambdas/services/replaces-tag';

/** An ARN pattern in the stack's own partition, region and account. */
export interface ScopedArn {
  readonly service: string;
  readonly resource: string;
  readonly resourceName: string;
  /**
   * The ARN's region field.
   * @default the stack's region; '' for global services such as IAM
   */
  readonly region?: string;
  /**
   * The ARN's account field.
   * @default the stack's account; '' for ARNs that carry none (EBS snapshots)
   */
  readonly account?: string;
}

export interface Permission {
  readonly actions: readonly string[];
  /**
   * What the actions are limited to. `'*'` is for actions that support no
   * resource-level permissions; `reason` then says so for the cdk-nag record.
   */
  readonly resources: readonly ScopedArn[] | '*';
  /**
   * Why the grant is as wide as it is, for the cdk-nag record: required for
   * `'*'`; for ARN patterns with a wildcard it replaces the default reason
   * ("any <type> a finding names, in this account and region").
   * @default a reason derived from the resources
   */
  readonly reason?: string;
  /**
   * IAM conditions on the grant, e.g. `iam:PassedToService` for `iam:PassRole`.
   * @default no conditions
   */
  readonly conditions?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
  /**
   * Org mode: what the actions are limited to in a member account, when that
   * differs from `resources` (a resource `provision` makes is named
   * otherwise there).
   * @default resources
   */
  readonly memberResources?: readonly ScopedArn[];
}

/** Resources of the member roles' template, by logical id (CloudFormation JSON). */
export type MemberResources = Readonly<Record<string, unknown>>;

/**
 * What a control needs besides its function (a role for a service to
 * assume, say), in both modes: a control that needs something cannot act in
 * an account that lacks it.
 */
export interface Provision {
  /**
   * Single-account mode: makes it in the stack and grants the function what
   * it needs on it. The values returned reach the control as
   * `ctx.provisioned`.
   */
  inStack(scope: Construct, grantee: IRole): Provisioned;
  /**
   * Org mode: the same in every member account, as IAM resources of the
   * member roles' template (nothing billed: a member account pays nothing),
   * and the values the function gets in place of `inStack`'s. Values are
   * known before any member account is (names, not ARNs).
   */
  inMembers(organization: { readonly regions: readonly string[] }): {
    readonly resources: MemberResources;
    readonly provisioned: Provisioned;
  };
}

export interface ControlMeta<Params = unknown> {
  readonly id: string;
  readonly title: string;
  readonly notifyOnly: boolean;
  readonly params: ObjectSchema<Params>;
}

/** A setting's value that adds grants, for the README's permissions table. */
export interface SettingVariant<Params> {
  /** How the table says when the grant applies, e.g. "`strategy` is `migrate`". */
  readonly when: string;
  /** The settings that differ from the defaults. */
  readonly params: Partial<Params>;
}

export interface ControlDefinition<Params = unknown> {
  readonly meta: ControlMeta<Params>;
  /** Used when neither the control's config nor `defaults.mode` sets a mode. */
  readonly defaultMode: Mode;
  /** Changes traffic or availability when applied; these default to notify. */
  readonly disruptive: boolean;
  /** What the function may call, beyond finding updates, SNS and its logs. */
  readonly permissions: readonly Permission[];
  /**
   * Grants only some settings need (a strategy or an optional step), so a
   * deployment that does not use them does not hold them.
   * @default none
   */
  settingPermissions?(params: Params): readonly Permission[];
  /**
   * Settings other than booleans under which `settingPermissions` grants
   * more, each with the words the README's permissions table says it with
   * (booleans are tried on by themselves).
   * @default none
   */
  readonly settingVariants?: readonly SettingVariant<Params>[];
  /** @default Duration.minutes(5) — a custom action may carry many findings. */
  readonly timeout?: Duration;
  /**
   * What the control needs besides its function, in the stack or in every
   * member account.
   * @default nothing is provisioned
   */
  readonly provision?: Provision;
}

const DESCRIBE_ONLY = 'EC2 Describe* actions support no resource-level permissions';

/** This account's hub in the region, for each Security Hub product. */
export const HUBS: readonly ScopedArn[] = [
  { service: 'securityhub', resource: 'hub', resourceName: 'default' },
  // The new Security Hub names its hub by an id given when it is enabled.
  { service: 'securityhub', resource: 'hubv2', resourceName: '*' },
];

/**
 * The finding fields BatchUpdateFindings (ASFF) and BatchUpdateFindingsV2
 * (OCSF) could set besides the ones hubfix writes (`Workflow.Status` and
 * `Note`; `StatusId` and `Comment`). Security Hub puts each field a request
 * sets into a `securityhub:ASFFSyntaxPath/<field>` or
 * `securityhub:OCSFSyntaxPath/<field>` condition key; requiring them all to be
 * absent (Null = true) refuses a request that sets any of them. The OCSF keys
 * are spelt as the API reference does (`SeverityId`) and as OCSF does
 * (`severity_id`): a key that never occurs costs nothing.
 */
export const FORBIDDEN_FINDING_FIELDS: readonly string[] = [
  ...[
    'Confidence',
    'Criticality',
    'RelatedFindings',
    'RelatedFindings.Id',
    'RelatedFindings.ProductArn',
    'Severity.Label',
    'Severity.Normalized',
    'Severity.Product',
    'Types',
    'UserDefinedFields.key',
    'UserDefinedFields.value',
    'VerificationState',
  ].map((field) => `securityhub:ASFFSyntaxPath/${field}`),
  ...['SeverityId', 'severity_id'].map((field) => `securityhub:OCSFSyntaxPath/${field}`),
];

/** What every control function may do with findings, whatever its control. */
export const FINDING_PERMISSIONS: readonly Permission[] = [
  {
    // The Service Authorization Reference lists no securityhub:GetFindingsV2:
    // securityhub:GetFindings authorizes both GetFindings (ASFF) and
    // GetFindingsV2 (OCSF), as BatchUpdateFindings does both updates.
    actions: ['securityhub:GetFindings'],
    resources: HUBS,
    reason:
      "Security Hub's new hub is named by an id assigned when it is enabled (hubv2/<id>); there is one per account and region, and hubv2/* in this account and region is that one",
  },
  {
    // One IAM action for BatchUpdateFindings and BatchUpdateFindingsV2.
    actions: ['securityhub:BatchUpdateFindings'],
    resources: HUBS,
    reason:
      "Security Hub's new hub is named by an id assigned when it is enabled (hubv2/<id>); there is one per account and region, and the conditions allow only workflow status and note (status and comment) to be set",
    conditions: {
      Null: Object.fromEntries(FORBIDDEN_FINDING_FIELDS.map((key) => [key, 'true'])),
    },
  },
];

/** EC2.18 and EC2.19 differ only in which world-open inbound rules offend. */
const REVOKE_WORLD_OPEN_INGRESS: readonly Permission[] = [
  {
    actions: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules'],
    resources: '*',
    reason: DESCRIBE_ONLY,
  },
  {
    actions: ['ec2:RevokeSecurityGroupIngress'],
    resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
  },
];

/** An ARN for any EC2 resource of one type in this account and region. */
function anyEc2(resource: string): ScopedArn {
  return { service: 'ec2', resource, resourceName: '*' };
}

/** Carries hubfix's temporary tag: made by the temporary Elastic IP technique. */
const TEMPORARY_RESOURCE = { Null: { [`aws:ResourceTag/${TEMPORARY_TAG}`]: 'false' } } as const;

const TEMPORARY_ONLY =
  "only resources tagged hubfix:temporary, which EC2.9's temporary Elastic IP technique makes (their ids are not known beforehand) and removes again, or removes on its next read when an interrupted run left them";

/** Made with hubfix's temporary tag, and with no tag but the two it sets. */
const TAGGED_AS_TEMPORARY = {
  Null: { [`aws:RequestTag/${TEMPORARY_TAG}`]: 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [TEMPORARY_TAG, TEMPORARY_UNTIL_TAG] },
} as const;

/**
 * EC2.9's grants, each on the resource types the Service Authorization
 * Reference lists for its action, and no others:
 * - ModifyNetworkInterfaceAttribute authorizes the network interface (and,
 *   where applicable, its instance, security groups and subnet). The
 *   function only sets AssociatePublicIpAddress=false on a primary
 *   interface: `ec2:Attribute/AssociatePublicIpAddress` (the EC2 User
 *   Guide's ec2:Attribute key, which covers a request's primitive
 *   parameters) holds it to exactly that on the interface; the instance the
 *   interface is attached to is granted beside it, and no security group or
 *   subnet, since the call changes neither.
 * - DisassociateAddress authorizes the Elastic IP and the network
 *   interface (not the instance). It takes the owner's address off, so it
 *   cannot be held to hubfix's tag.
 * - Everything that only the temporary technique and its cleanup do is held
 *   to the hubfix:temporary tag: on the request when the resource is made
 *   (AllocateAddress, CreateNetworkInterface, and CreateTags only as part of
 *   those), on the resource otherwise (AssociateAddress's Elastic IP,
 *   Attach/Detach/DeleteNetworkInterface's interface, ReleaseAddress). The
 *   other resources those calls authorize are the owner's, which carry no
 *   such tag: the instance (Attach/Detach, AssociateAddress), its primary
 *   interface (AssociateAddress), the subnet and security groups the
 *   temporary interface is made in (CreateNetworkInterface).
 * The tag's value is the instance id, but IAM evaluates each resource of an
 * EC2 request with that resource's own keys: the interface's tag cannot be
 * compared with the instance's id (ec2:InstanceID belongs to the instance),
 * so the conditions ask only that the tag is there.
 */
const EC2_9_PERMISSIONS: readonly Permission[] = [
  {
    actions: [
      'ec2:DescribeInstances',
      'ec2:DescribeAddresses',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeNetworkInterfaceAttribute',
      'ec2:DescribeSubnets',
    ],
    resources: '*',
    reason: DESCRIBE_ONLY,
  },
  {
    actions: ['ec2:ModifyNetworkInterfaceAttribute'],
    resources: [anyEc2('network-interface')],
    conditions: { StringEquals: { 'ec2:Attribute/AssociatePublicIpAddress': 'false' } },
    reason:
      'the primary interface of the instance a finding names, re-read before acting, and only to set AssociatePublicIpAddress=false (ec2:Attribute/AssociatePublicIpAddress)',
  },
  {
    actions: [
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:AssociateAddress',
      'ec2:AttachNetworkInterface',
      'ec2:DetachNetworkInterface',
    ],
    resources: [anyEc2('instance')],
    reason:
      'the instance a finding names, re-read before acting: these calls also authorize the instance whose interface they change; the interface and Elastic IP grants hold each call to what EC2.9 does',
  },
  {
    actions: ['ec2:DisassociateAddress'],
    resources: [anyEc2('elastic-ip'), anyEc2('network-interface')],
    reason:
      "the Elastic IP on the primary interface of the instance a finding names (the owner's, kept allocated for rollback, or hubfix's temporary one), re-read before acting",
  },
  {
    actions: ['ec2:AllocateAddress'],
    resources: [anyEc2('elastic-ip')],
    conditions: TAGGED_AS_TEMPORARY,
    reason: TEMPORARY_ONLY,
  },
  {
    actions: ['ec2:CreateNetworkInterface'],
    resources: [anyEc2('network-interface')],
    conditions: TAGGED_AS_TEMPORARY,
    reason: TEMPORARY_ONLY,
  },
  {
    actions: ['ec2:CreateTags'],
    resources: [anyEc2('network-interface'), anyEc2('elastic-ip')],
    conditions: {
      StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface', 'AllocateAddress'] },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TEMPORARY_TAG, TEMPORARY_UNTIL_TAG] },
    },
    reason:
      'EC2.9 tags the temporary interface and Elastic IP only as CreateNetworkInterface and AllocateAddress make them, with hubfix:temporary and hubfix:temporary-until only; their ids are not known beforehand',
  },
  {
    actions: ['ec2:AssociateAddress', 'ec2:ReleaseAddress'],
    resources: [anyEc2('elastic-ip')],
    conditions: TEMPORARY_RESOURCE,
    reason: TEMPORARY_ONLY,
  },
  {
    actions: ['ec2:CreateNetworkInterface'],
    resources: [anyEc2('subnet'), anyEc2('security-group')],
    reason:
      'the subnet and security groups of the instance a finding names, where the temporary interface is made; the interface itself must carry hubfix:temporary',
  },
  {
    actions: ['ec2:AssociateAddress'],
    resources: [anyEc2('network-interface')],
    reason:
      'the primary interface of the instance a finding names; the Elastic IP associated with it must carry hubfix:temporary',
  },
  {
    // In the order CDK renders them, so each grant is found by its actions.
    actions: [
      'ec2:AttachNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DetachNetworkInterface',
    ],
    resources: [anyEc2('network-interface')],
    conditions: TEMPORARY_RESOURCE,
    reason: TEMPORARY_ONLY,
  },
];

/**
 * What EC2.2's `migrate` strategy adds: make the replacement group (only
 * with hubfix's tag), copy rules to it and re-point other groups' rules
 * (authorize), and move interfaces (ModifyNetworkInterfaceAttribute, which
 * authorizes the interface, its instance and every group in the new list).
 * Rollback runs with the operator's own credentials, so the function never
 * deletes a group.
 */
const MIGRATE_DEFAULT_GROUP: readonly Permission[] = [
  {
    actions: ['ec2:CreateSecurityGroup'],
    resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
    conditions: {
      Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [REPLACES_TAG] },
    },
    reason: `the replacement's id is not known before it is made; the conditions allow only a group tagged ${REPLACES_TAG} and no other tag`,
  },
  {
    // The VPC is authorized on its own: the request-tag conditions above
    // apply to the new group, not to the VPC it is made in.
    actions: ['ec2:CreateSecurityGroup'],
    resources: [{ service: 'ec2', resource: 'vpc', resourceName: '*' }],
    reason:
      'CreateSecurityGroup also authorizes the VPC the group is made in: the default group of any VPC of this account and region may be migrated, and the replacement is made in that VPC only',
  },
  {
    actions: ['ec2:CreateTags'],
    resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
    conditions: {
      StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [REPLACES_TAG] },
    },
    reason: "the replacement's tag, only as CreateSecurityGroup makes it",
  },
  {
    actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
    resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
    reason:
      "the replacement's copy of the default group's rules, and the same rules for the replacement in each group that references the default group, which may be any group of its VPC; EC2 has no condition key for a rule's peer",
  },
  {
    actions: ['ec2:ModifyNetworkInterfaceAttribute'],
    resources: [
      { service: 'ec2', resource: 'network-interface', resourceName: '*' },
      { service: 'ec2', resource: 'instance', resourceName: '*' },
      { service: 'ec2', resource: 'security-group', resourceName: '*' },
    ],
    reason:
      "moves each interface of the default group to the replacement; EC2 authorizes the interface, its instance and every group of the new list (the interface's other groups, any of this account and region)",
  },
];

export const CONTROLS: readonly ControlDefinition[] = [
  defineControl({
    meta: ec2_1Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      {
        actions: ['ec2:DescribeSnapshots'],
        resources: '*',
        reason: 'EC2 DescribeSnapshots supports no resource-level permissions',
      },
      {
        // Only what the fix sends: remove group "all" from createVolumePermission, add nothing.
        actions: ['ec2:ModifySnapshotAttribute'],
        resources: [{ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }],
        conditions: {
          StringEquals: { 'ec2:Attribute': 'createVolumePermission', 'ec2:Remove/group': 'all' },
          Null: { 'ec2:Add/group': 'true', 'ec2:Add/userId': 'true', 'ec2:Remove/userId': 'true' },
        },
        reason:
          'EBS snapshot ARNs carry no account (arn:<partition>:ec2:<region>::snapshot/<id>), so the grant names every snapshot of this region; EC2 lets only a snapshot\'s owner change its permissions, and the conditions allow only removing group "all" from createVolumePermission, adding nothing and removing no account',
      },
    ],
    settingPermissions: (params) =>
      params.blockPublicAccess === 'off'
        ? []
        : [
            {
              actions: [
                'ec2:GetSnapshotBlockPublicAccessState',
                'ec2:EnableSnapshotBlockPublicAccess',
              ],
              resources: '*',
              reason:
                'snapshot block public access is a setting of the account and region, with no resource-level permissions',
            },
          ],
    // Its one setting is not a boolean: the permissions table shows what turning it on adds.
    settingVariants: [
      {
        when: '`blockPublicAccess` is not `off`',
        params: { blockPublicAccess: 'block-new-sharing' },
      },
    ],
  }),
  defineControl({
    meta: ec2_2Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      {
        actions: [
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSecurityGroupRules',
          'ec2:DescribeSecurityGroupReferences',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:DescribeVpcs',
        ],
        resources: '*',
        reason: DESCRIBE_ONLY,
      },
      {
        // Users of the default group that have no network interface right now.
        actions: [
          'lambda:ListFunctions',
          'ecs:ListClusters',
          'ecs:ListServices',
          'autoscaling:DescribeLaunchConfigurations',
        ],
        resources: '*',
        reason:
          'lambda:ListFunctions, ecs:ListClusters, ecs:ListServices and autoscaling:DescribeLaunchConfigurations support no resource-level permissions; EC2.2 only reads them to find users of a default security group',
      },
      {
        actions: ['ecs:DescribeServices'],
        // `service/*` also covers old-format service ARNs, which name no cluster.
        resources: [{ service: 'ecs', resource: 'service', resourceName: '*' }],
      },
      {
        actions: ['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
        resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
      },
    ],
    settingPermissions: (params) => (params.strategy === 'migrate' ? MIGRATE_DEFAULT_GROUP : []),
    settingVariants: [{ when: '`strategy` is `migrate`', params: { strategy: 'migrate' } }],
  }),
  {
    meta: ec2_6Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      {
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeFlowLogs'],
        resources: '*',
        reason: DESCRIBE_ONLY,
      },
      {
        actions: ['ec2:CreateFlowLogs'],
        resources: [
          { service: 'ec2', resource: 'vpc', resourceName: '*' },
          { service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' },
        ],
      },
      {
        actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
        // Renders arn:<partition>:logs:<region>:<account>:log-group:/hubfix/vpc-flow-logs/*
        resources: [
          { service: 'logs', resource: 'log-group:/hubfix/vpc-flow-logs', resourceName: '*' },
        ],
      },
      {
        // CreateFlowLogs hands the delivery role hubfix provisions to VPC
        // flow logs: only that role, and only to that service. A member
        // account has one delivery role for every region (provision.ts).
        actions: ['iam:PassRole'],
        resources: [
          {
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: FLOW_LOG_DELIVERY_ROLE_NAME,
          },
        ],
        memberResources: [
          {
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: MEMBER_FLOW_LOG_DELIVERY_ROLE_NAME,
          },
        ],
        conditions: { StringEquals: { 'iam:PassedToService': FLOW_LOGS_SERVICE } },
      },
    ],
    provision: { inStack: provisionFlowLogDeliveryRole, inMembers: memberFlowLogDeliveryRole },
  },
  {
    meta: ec2_7Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      {
        actions: ['ec2:GetEbsEncryptionByDefault', 'ec2:EnableEbsEncryptionByDefault'],
        resources: '*',
        reason:
          'EBS encryption by default is an account setting with no resource-level permissions',
      },
    ],
  },
  {
    meta: ec2_8Meta,
    defaultMode: 'notify',
    disruptive: true,
    permissions: [
      {
        actions: ['ec2:DescribeInstances', 'cloudwatch:GetMetricData'],
        resources: '*',
        reason: 'EC2 Describe* and CloudWatch GetMetricData support no resource-level permissions',
      },
      {
        actions: ['ec2:ModifyInstanceMetadataOptions'],
        resources: [{ service: 'ec2', resource: 'instance', resourceName: '*' }],
      },
    ],
  },
  defineControl({
    meta: ec2_9Meta,
    defaultMode: 'notify',
    disruptive: true,
    // Leftovers of an interrupted run, the temporary Elastic IP technique and
    // the settle watch after an Elastic IP goes (settleSeconds, at most 5
    // minutes) fit in one invocation; the control handles one instance each.
    timeout: Duration.minutes(10),
    permissions: EC2_9_PERMISSIONS,
    settingPermissions: (params) =>
      params.disableSubnetAutoAssign
        ? [
            {
              actions: ['ec2:ModifySubnetAttribute'],
              resources: [anyEc2('subnet')],
              reason:
                'the subnet of the instance a finding names, re-read before acting, only to turn MapPublicIpOnLaunch off',
            },
          ]
        : [],
  }),
  {
    meta: ec2_15Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      { actions: ['ec2:DescribeSubnets'], resources: '*', reason: DESCRIBE_ONLY },
      {
        actions: ['ec2:ModifySubnetAttribute'],
        resources: [{ service: 'ec2', resource: 'subnet', resourceName: '*' }],
      },
    ],
  },
  {
    meta: ec2_18Meta,
    defaultMode: 'notify',
    disruptive: true,
    permissions: REVOKE_WORLD_OPEN_INGRESS,
  },
  {
    meta: ec2_19Meta,
    defaultMode: 'notify',
    disruptive: true,
    permissions: REVOKE_WORLD_OPEN_INGRESS,
  },
  {
    meta: ec2_24Meta,
    defaultMode: 'notify',
    disruptive: false,
    permissions: [{ actions: ['ec2:DescribeInstances'], resources: '*', reason: DESCRIBE_ONLY }],
  },
  {
    meta: ecs_2Meta,
    defaultMode: 'notify',
    disruptive: true,
    permissions: [
      {
        actions: ['ecs:DescribeServices'],
        // `service/*` also covers old-format service ARNs, which name no cluster.
        resources: [{ service: 'ecs', resource: 'service', resourceName: '*' }],
      },
      {
        // Only requests that turn public IPs off and leave the task definition alone.
        actions: ['ecs:UpdateService'],
        resources: [{ service: 'ecs', resource: 'service', resourceName: '*' }],
        conditions: {
          Bool: { 'ecs:auto-assign-public-ip': 'false' },
          Null: { 'ecs:task-definition': 'true' },
        },
        reason:
          'ECS.2 must reach any service a finding names, in this account and region (service/* also covers old-format ARNs, which name no cluster); the conditions allow only an UpdateService that sets assignPublicIp DISABLED and names no task definition. ECS has no condition key for the other fields of the request (security groups, desired count, deployment settings)',
      },
      {
        actions: ['ecs:ListClusters'],
        resources: '*',
        reason:
          'ecs:ListClusters supports no resource-level permissions; ECS.2 lists clusters only to find an old-format service ARN that names none',
      },
      {
        actions: ['ec2:DescribeRouteTables', 'ec2:DescribeSubnets'],
        resources: '*',
        reason: DESCRIBE_ONLY,
      },
    ],
  },
  defineControl({
    meta: ecs_16Meta,
    defaultMode: 'notify',
    disruptive: true,
    // Lambda's maximum: the wait for a steady replacement task set (at most
    // ECS_16_MAX_STABILITY_SECONDS) plus the calls around it.
    timeout: Duration.minutes(15),
    permissions: [
      {
        actions: ['ecs:DescribeTaskSets', 'ecs:DeleteTaskSet'],
        resources: [{ service: 'ecs', resource: 'task-set', resourceName: '*/*/*' }],
      },
      {
        // Every task set the function creates carries hubfix's marker tag.
        actions: ['ecs:CreateTaskSet'],
        resources: [{ service: 'ecs', resource: 'task-set', resourceName: '*/*/*' }],
        conditions: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
      },
      {
        // The tags go on as CreateTaskSet makes the task set, and only then.
        actions: ['ecs:TagResource'],
        resources: [{ service: 'ecs', resource: 'task-set', resourceName: '*/*/*' }],
        conditions: { StringEquals: { 'ecs:CreateAction': 'CreateTaskSet' } },
      },
      {
        actions: ['ecs:DescribeServices', 'ecs:UpdateServicePrimaryTaskSet'],
        resources: [{ service: 'ecs', resource: 'service', resourceName: '*/*' }],
      },
      {
        actions: ['ecs:DescribeTaskDefinition'],
        resources: '*',
        reason:
          "ecs:DescribeTaskDefinition supports no resource-level permissions; ECS.16 reads only the roles of the task set's task definition",
      },
      {
        actions: ['ec2:DescribeRouteTables', 'ec2:DescribeSubnets'],
        resources: '*',
        reason: DESCRIBE_ONLY,
      },
    ],
    // CreateTaskSet passes the task definition's task and execution roles on
    // to ECS tasks: only the roles the settings name, only to ECS tasks.
    settingPermissions: ({ passRoles }) => [
      ...(passRoles.roles.length > 0
        ? [
            {
              actions: ['iam:PassRole'],
              resources: passRoles.roles.map((name) => ({
                service: 'iam',
                region: '',
                resource: 'role',
                resourceName: name,
              })),
              conditions: { StringEquals: { 'iam:PassedToService': ECS_TASKS_SERVICE } },
            },
          ]
        : []),
      ...(passRoles.tag
        ? [
            {
              actions: ['iam:PassRole'],
              resources: [{ service: 'iam', region: '', resource: 'role', resourceName: '*' }],
              conditions: {
                StringEquals: {
                  'iam:PassedToService': ECS_TASKS_SERVICE,
                  [`iam:ResourceTag/${passRoles.tag.key}`]: passRoles.tag.value,
                },
              },
              reason: `ECS.16 may pass any role of this account tagged ${passRoles.tag.key}=${passRoles.tag.value} (controls["ECS.16"].passRoles.tag), and only to ${ECS_TASKS_SERVICE}`,
            },
          ]
        : []),
    ],
  }),
];

/** Every grant a control's function gets when deployed with `params`. */
export function permissionsFor(control: ControlDefinition, params: unknown): readonly Permission[] {
  return [...control.permissions, ...(control.settingPermissions?.(params) ?? [])];
}

/** Types a registry entry by its params, so `settingPermissions` reads them typed. */
export function defineControl<Params>(definition: ControlDefinition<Params>): ControlDefinition {
  return definition;
}

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** `EC2.2` → `ec2-2`, the control's folder under lambdas/controls/. */
export function controlFolder(controlId: string): string {
  return controlId.toLowerCase().replace(/\./g, '-');
}

export function handlerEntry(controlId: string): string {
  return path.join(PROJECT_ROOT, 'lambdas', 'controls', controlFolder(controlId), 'handler.ts');
}

export function findControl(
  controlId: string,
  controls: readonly ControlDefinition[] = CONTROLS,
): ControlDefinition | undefined {
  return controls.find((c) => c.meta.id === controlId);
}
