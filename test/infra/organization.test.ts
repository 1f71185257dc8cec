/**
 * Org mode's infrastructure: the central stack's functions act only through
 * member roles within the organization, its rules route member findings, and
 * the member roles' StackSet holds IAM roles only, one per control, each
 * with exactly its control's registry permissions and trusting only its
 * control's central function role, and what controls need besides (EC2.6's
 * flow-log delivery role).
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../lambdas/core/env';
import { ConfigurationError } from '../../lambdas/core/errors';
import { placeholder } from '../../lambdas/core/organization';
import { parseConfig } from '../../lib/config';
import {
  CONTROLS,
  controlFolder,
  type Permission,
  permissionsFor,
  type ScopedArn,
} from '../../lib/controls';
import { MEMBER_ROLES_STACK_SET_NAME } from '../../lib/hubfix-stack';
import { MEMBER_REGIONS_PARAMETER, ROLLBACK_PERMISSIONS } from '../../lib/organization';
import { ORGANIZATION_SCOPE_OUTPUT } from '../../lib/stack-outputs';
import { ACCOUNT, REGION } from '../support/fixtures';
import { resolveIntrinsics } from '../support/intrinsics';
import {
  controlFunctionId,
  type Resources,
  resourcesOf,
  roleStatements,
  synthesize,
} from '../support/stack';

const ORGANIZATION = {
  accounts: '*',
  excludeAccounts: ['999999999999'],
  regions: ['eu-west-1', 'us-east-1'],
  memberRoleName: 'hubfix-member',
  deploymentTargets: { organizationalUnitIds: ['ou-abcd-11111111'] },
  maxChangesPerAccountPerHour: 20,
};
const org = synthesize({
  config: { organization: ORGANIZATION, controls: { 'EC2.9': { disableSubnetAutoAssign: true } } },
  nag: true,
});
const resources = resourcesOf(org.template);
const deployed = CONTROLS;
const DELIVERY_ROLE = 'hubfix-ec2-6-flow-logs';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface MemberRole {
  Type: string;
  Properties: {
    RoleName: string;
    AssumeRolePolicyDocument: { Statement: Statement[] };
    Policies: { PolicyName: string; PolicyDocument: { Statement: Statement[] } }[];
  };
}

/** Role ARNs as CloudFormation would resolve them: arn:aws:iam::<account>:role/<logical id>. */
function resolveRoleArns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveRoleArns);
  if (typeof value !== 'object' || value === null) return value;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt?.[1] === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${getAtt[0]}`;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRoleArns(v)]));
}

/** The reconciler's logical id: the one function told the sweep's settings. */
function reconcilerOf(of: Resources): string {
  const found = Object.entries(of).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      'HUBFIX_RECONCILER' in ((r.Properties.Environment as { Variables: Json }).Variables ?? {}),
  );
  if (!found) throw new Error('no reconciler function');
  return found[0];
}

function stackSet() {
  const sets = Object.values(resources).filter((r) => r.Type === 'AWS::CloudFormation::StackSet');
  expect(sets).toHaveLength(1);
  return sets[0]?.Properties as Json;
}

const templateBody = String(resolveIntrinsics(resolveRoleArns(stackSet().TemplateBody)));
const member = JSON.parse(templateBody) as { Resources: Record<string, MemberRole> };

function centralRoleArn(controlId: string): string {
  const remediation = org.stack.controls.get(controlId);
  if (!remediation) throw new Error(`${controlId} is not deployed`);
  const role = remediation.handler.role.node.defaultChild as CfnRole;
  return `arn:aws:iam::${ACCOUNT}:role/${org.stack.getLogicalId(role)}`;
}

function memberRole(name: string): MemberRole {
  const role = Object.values(member.Resources).find((r) => r.Properties.RoleName === name);
  if (!role) throw new Error(`the member template has no role ${name}`);
  return role;
}

/** A registry ARN as the member template renders it: the member's partition and account, any region. */
function memberArnOf(arn: ScopedArn) {
  return {
    'Fn::Sub': `arn:${placeholder('AWS::Partition')}:${arn.service}:${arn.region ?? '*'}:${arn.account ?? placeholder('AWS::AccountId')}:${arn.resource}/${arn.resourceName}`,
  };
}

function sub(text: string) {
  return {
    'Fn::Sub': text
      .replaceAll('<partition>', placeholder('AWS::Partition'))
      .replaceAll('<account>', placeholder('AWS::AccountId')),
  };
}

/** A registry permission as a member role's policy holds it: regional actions only in the allowed regions. */
function memberStatementOf(permission: Permission) {
  const resources =
    permission.resources === '*' ? '*' : (permission.memberResources ?? permission.resources);
  const global = resources !== '*' && resources.every((a) => a.region === '');
  return {
    Effect: 'Allow',
    Action: [...permission.actions],
    Resource: resources === '*' ? '*' : resources.map(memberArnOf),
    ...(global && !permission.conditions
      ? {}
      : {
          Condition: {
            ...permission.conditions,
            ...(global
              ? {}
              : {
                  StringEquals: {
                    ...permission.conditions?.StringEquals,
                    'aws:RequestedRegion': { Ref: MEMBER_REGIONS_PARAMETER },
                  },
                }),
          },
        }),
  };
}

function policyOf(controlId: string): Json[] {
  const remediation = org.stack.controls.get(controlId);
  if (!remediation) throw new Error(`${controlId} is not deployed`);
  const logicalId = org.stack.getLogicalId(remediation.handler.role.node.defaultChild as CfnRole);
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles).includes(`"${logicalId}"`),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Json[] }).Statement);
}

describe('org mode: the member roles StackSet', () => {
  it('is service-managed, deploys automatically to the target OUs, in one region (IAM is global)', () => {
    expect(resolveIntrinsics(stackSet())).toMatchObject({
      StackSetName: MEMBER_ROLES_STACK_SET_NAME,
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: ['ou-abcd-11111111'] },
          Regions: [REGION],
        },
      ],
    });
  });

  it("holds IAM roles only: one per deployed control, EC2.6's delivery role and the rollback role", () => {
    const types = Object.values(member.Resources).map((r) => r.Type);

    expect(new Set(types)).toEqual(new Set(['AWS::IAM::Role']));
    expect(types).toHaveLength(deployed.length + 2);
    expect(Object.values(member.Resources).map((r) => r.Properties.RoleName)).toEqual([
      ...deployed.flatMap((c) => [
        `hubfix-member-${controlFolder(c.meta.id)}`,
        ...(c.meta.id === 'EC2.6' ? [DELIVERY_ROLE] : []),
      ]),
      'hubfix-rollback',
    ]);
    // CloudFormation's limit for TemplateBody.
    expect(Buffer.byteLength(templateBody)).toBeLessThan(51_200);
  });

  it('names the allowed regions once, as the parameter every regional statement refers to', () => {
    expect(JSON.parse(templateBody).Parameters).toEqual({
      [MEMBER_REGIONS_PARAMETER]: {
        Type: 'CommaDelimitedList',
        Default: ORGANIZATION.regions.join(','),
        Description: expect.stringContaining('organization.regions'),
      },
    });
  });

  it('stays within the TemplateBody limit with every commercial region and every setting that grants more', () => {
    const regions = [
      ...['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1'],
      ...['mx-central-1', 'sa-east-1', 'af-south-1', 'il-central-1', 'me-south-1'],
      ...['me-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
      ...['eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'ap-south-1'],
      ...['ap-south-2', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2'],
      ...['ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3'],
      ...['ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7'],
    ];
    const wide = synthesize({
      config: {
        organization: { ...ORGANIZATION, regions },
        controls: {
          'EC2.2': { strategy: 'migrate' },
          'EC2.9': { disableSubnetAutoAssign: true },
        },
      },
    });
    const set = Object.values(resourcesOf(wide.template)).find(
      (r) => r.Type === 'AWS::CloudFormation::StackSet',
    );
    const body = String(resolveIntrinsics(resolveRoleArns(set?.Properties.TemplateBody)));

    expect(Buffer.byteLength(body)).toBeLessThan(51_200);
  });

  it('makes one flow-log delivery role for every allowed region, assumable only by flow logs of the member account there, writing only into hubfix log groups', () => {
    const role = memberRole(DELIVERY_ROLE);
    const inRegions = (resource: string) =>
      ORGANIZATION.regions.map((region) =>
        sub(`arn:<partition>:${resource.replace('<region>', region)}`),
      );

    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': inRegions('ec2:<region>:<account>:vpc-flow-log/*') },
        },
      },
    ]);
    expect(role.Properties.Policies).toEqual([
      {
        PolicyName: 'hubfix-ec2-6-flow-logs',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
              Resource: sub('arn:<partition>:logs:*:<account>:log-group:/hubfix/vpc-flow-logs/*'),
            },
            {
              Effect: 'Allow',
              Action: 'logs:DescribeLogGroups',
              Resource: sub('arn:<partition>:logs:*:<account>:log-group:*'),
            },
          ],
        },
      },
    ]);
  });

  it("lets EC2.6's role pass only the member's delivery role, only to VPC flow logs, and create only hubfix's log groups", () => {
    const statements =
      memberRole('hubfix-member-ec2-6').Properties.Policies[0]?.PolicyDocument.Statement ?? [];

    expect(statements.filter((s) => [s.Action].flat().includes('iam:PassRole'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [sub(`arn:<partition>:iam::<account>:role/${DELIVERY_ROLE}`)],
        Condition: { StringEquals: { 'iam:PassedToService': 'vpc-flow-logs.amazonaws.com' } },
      },
    ]);
    expect(statements.filter((s) => [s.Action].flat().includes('logs:CreateLogGroup'))).toEqual([
      expect.objectContaining({
        Resource: [sub('arn:<partition>:logs:*:<account>:log-group:/hubfix/vpc-flow-logs/*')],
        Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: MEMBER_REGIONS_PARAMETER } } },
      }),
    ]);
  });

  it.each(deployed.map((c) => [c.meta.id, c] as const))(
    "gives %s's role exactly the registry's permissions, in the regions hubfix acts in",
    (controlId, control) => {
      const params = org.stack.controls.get(controlId)?.settings.params;
      const statements = memberRole(`hubfix-member-${controlFolder(controlId)}`).Properties
        .Policies[0]?.PolicyDocument.Statement;

      expect(statements).toEqual(permissionsFor(control, params).map(memberStatementOf));
    },
  );

  it("gives EC2.9's role its subnet step only because this deployment turns it on", () => {
    const actions = memberRole(
      'hubfix-member-ec2-9',
    ).Properties.Policies[0]?.PolicyDocument.Statement.flatMap((s) => s.Action);

    expect(actions).toContain('ec2:ModifySubnetAttribute');
  });

  it.each(deployed.map((c) => [c.meta.id] as const))(
    "makes %s's role trust only that control's central function role",
    (controlId) => {
      expect(
        memberRole(`hubfix-member-${controlFolder(controlId)}`).Properties.AssumeRolePolicyDocument
          .Statement,
      ).toEqual([
        {
          Effect: 'Allow',
          Principal: { AWS: centralRoleArn(controlId) },
          Action: 'sts:AssumeRole',
        },
      ]);
    },
  );

  it("makes the rollback role trust the administrator account, with exactly each deployed control's rollback grants", () => {
    const role = memberRole('hubfix-rollback');

    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 'sts:AssumeRole',
      },
    ]);
    // What each grant is needed for: test/unit/org/rollback-permissions.test.ts.
    expect(role.Properties.Policies[0]?.PolicyDocument.Statement).toEqual(
      deployed.flatMap((c) => ROLLBACK_PERMISSIONS[c.meta.id] ?? []).map(memberStatementOf),
    );
  });

  it('names a rollback for every registered control, so a new control is not forgotten', () => {
    expect(Object.keys(ROLLBACK_PERMISSIONS).sort()).toEqual(CONTROLS.map((c) => c.meta.id).sort());
  });
});

describe('org mode: the central stack', () => {
  it.each(deployed.map((c) => [c.meta.id] as const))(
    '%s may assume only its member role, only within the organization, and holds none of its permissions itself',
    (controlId) => {
      const statements = policyOf(controlId);
      const assume = statements.filter((s) => s.Action === 'sts:AssumeRole');

      expect(assume).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                `:iam::*:role/hubfix-member-${controlFolder(controlId)}`,
              ],
            ],
          },
          Condition: { StringEquals: { 'aws:ResourceOrgID': placeholder('aws:PrincipalOrgID') } },
        },
      ]);
      const control = deployed.find((c) => c.meta.id === controlId);
      const registry = control
        ? permissionsFor(control, org.stack.controls.get(controlId)?.settings.params).flatMap(
            (p) => p.actions,
          )
        : [];
      const own = statements.flatMap((s) => s.Action);
      expect(registry.length).toBeGreaterThan(0);
      expect(own.filter((action) => registry.includes(String(action)))).toEqual([]);
    },
  );

  it('counts changes per account in the State table, on budget keys only', () => {
    expect(policyOf('EC2.2')).toContainEqual({
      Effect: 'Allow',
      Action: 'dynamodb:UpdateItem',
      Resource: expect.anything(),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } },
    });
  });

  it('tells each function its scope, and routes findings of any account but the excluded ones, in the allowed regions', () => {
    const fn = org.stack.controls.get('EC2.2')?.handler.function;
    const fnResource = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties).includes('"controlId\\":\\"EC2.2'),
    );
    const variables =
      (fnResource?.Properties.Environment as { Variables: Json } | undefined)?.Variables ?? {};
    const rule = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.EventPattern).includes('"EC2.2"') &&
        JSON.stringify(r.Properties.EventPattern).includes('Findings - Imported'),
    );
    const findings = (
      resolveIntrinsics(rule?.Properties.EventPattern) as { detail: { findings: Json } }
    ).detail.findings;

    expect(fn).toBeDefined();
    expect(JSON.parse(String(variables[ENVIRONMENT.organization]))).toEqual({
      accounts: '*',
      excludeAccounts: ['999999999999'],
      regions: ['eu-west-1', 'us-east-1'],
      memberRoleName: 'hubfix-member',
      maxChangesPerAccountPerHour: 20,
    });
    expect(findings.ProductArn).toEqual([
      'arn:aws:securityhub:eu-west-1::product/aws/securityhub',
      'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    ]);
    expect(findings.AwsAccountId).toEqual([{ 'anything-but': ['999999999999'] }]);
  });

  it("tells the reconciler the same scope, outputs it for backfill, and grants it nothing more than a single deployment's", () => {
    const reconcilerId = reconcilerOf(resources);
    const variables = (
      resources[reconcilerId]?.Properties.Environment as { Variables: Json } | undefined
    )?.Variables;
    const ec22 = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties).includes('"controlId\\":\\"EC2.2'),
    );
    const outputs = org.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const single = resourcesOf(synthesize({ config: {} }).template);
    // Other controls are deployed in single-account mode (EC2.6): compare the grants that are not invokes.
    const grants = (of: Resources) =>
      roleStatements(of, reconcilerOf(of))
        .filter((s) => s.Action !== 'lambda:InvokeFunction')
        .map((s) => ({ Action: s.Action, Resource: s.Resource }));

    expect(variables?.[ENVIRONMENT.organization]).toBe(
      (ec22?.Properties.Environment as { Variables: Json } | undefined)?.Variables[
        ENVIRONMENT.organization
      ],
    );
    expect(JSON.parse(String(variables?.[ENVIRONMENT.organization]))).toMatchObject({
      accounts: '*',
      excludeAccounts: ['999999999999'],
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(outputs[ORGANIZATION_SCOPE_OUTPUT]?.Value).toBe(variables?.[ENVIRONMENT.organization]);
    expect(grants(resources)).toEqual(grants(single));
  });

  it("adds nothing billed while idle to a single deployment's resources (what the README prices)", () => {
    const single = Object.values(resourcesOf(synthesize({ config: {} }).template));
    const billed = ['AWS::KMS::Key', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard'];
    const count = (list: { Type: string }[], type: string) =>
      list.filter((r) => r.Type === type).length;

    for (const type of billed) {
      expect(count(Object.values(resources), type)).toBe(count(single, type));
    }
    expect(count(Object.values(resources), 'AWS::CloudWatch::Alarm')).toBe(3);
  });

  it('deploys EC2.6, telling it the name of the delivery role in the member accounts and making none here', () => {
    const fnId = controlFunctionId(resources, 'EC2.6');
    const environment = resources[fnId]?.Properties.Environment as
      | { Variables: Record<string, unknown> }
      | undefined;
    const variables = environment?.Variables ?? {};

    expect(org.stack.controls.has('EC2.6')).toBe(true);
    expect(JSON.parse(String(variables[ENVIRONMENT.provisioned]))).toEqual({
      deliveryRoleName: DELIVERY_ROLE,
    });
    expect(
      Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties).includes('vpc-flow-logs'),
      ),
    ).toEqual([]);
    expect(
      Annotations.fromStack(org.stack).findWarning('*', Match.stringLikeRegexp('org mode')),
    ).toEqual([]);
  });

  it('is cdk-nag clean', () => {
    expect([
      ...Annotations.fromStack(org.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(org.stack).findWarning(
        '*',
        Match.stringLikeRegexp('AwsSolutions-.*'),
      ),
    ]).toEqual([]);
  });
});

describe('single-account mode', () => {
  it('has no StackSet, no role to assume and no organization scope', () => {
    const { template } = synthesize({ config: {} });
    const single = Object.values(resourcesOf(template));
    const policies = single.filter((r) => r.Type === 'AWS::IAM::Policy');
    const functions = single.filter((r) => r.Type === 'AWS::Lambda::Function');

    expect(single.filter((r) => r.Type === 'AWS::CloudFormation::StackSet')).toHaveLength(0);
    expect(policies.length).toBeGreaterThan(0);
    expect(
      policies.filter((r) => JSON.stringify(r.Properties).includes('sts:AssumeRole')),
    ).toHaveLength(0);
    // One per control and the reconciler.
    expect(functions).toHaveLength(CONTROLS.length + 1);
    expect(
      functions.filter((r) => JSON.stringify(r.Properties).includes(ENVIRONMENT.organization)),
    ).toHaveLength(0);
    expect(Object.keys(template.toJSON().Outputs)).not.toContain(ORGANIZATION_SCOPE_OUTPUT);
  });
});

describe('the organization config', () => {
  it('names every bad path', () => {
    let error: unknown;
    try {
      parseConfig(
        {
          organization: {
            accounts: ['123'],
            regions: ['Europe'],
            deploymentTargets: { organizationalUnitIds: ['engineering'] },
            maxChangesPerAccountPerHour: -1,
            memberRoles: 'typo',
          },
        },
        'remediation.config.json',
      );
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).issues.map((i) => i.path)).toEqual([
      'organization.accounts[0]',
      'organization.regions[0]',
      'organization.deploymentTargets.organizationalUnitIds[0]',
      'organization.maxChangesPerAccountPerHour',
      'organization.memberRoles',
    ]);
  });

  it('refuses a list of accounts that the exclusions empty', () => {
    expect(() =>
      parseConfig(
        {
          organization: {
            accounts: ['222222222222'],
            excludeAccounts: ['222222222222'],
            regions: ['eu-west-1'],
            deploymentTargets: { organizationalUnitIds: ['r-abcd'] },
          },
        },
        'c',
      ),
    ).toThrow('organization.excludeAccounts: excludes every account in organization.accounts');
  });

  it('needs deploymentTargets, and leaves the rest to defaults', () => {
    expect(() =>
      parseConfig({ organization: { accounts: '*', regions: ['eu-west-1'] } }, 'c'),
    ).toThrow('organization.deploymentTargets: is required');
    expect(
      parseConfig(
        {
          organization: {
            accounts: '*',
            regions: ['eu-west-1'],
            deploymentTargets: { organizationalUnitIds: ['r-abcd'] },
          },
        },
        'c',
      ).organization,
    ).toEqual({
      accounts: '*',
      excludeAccounts: [],
      regions: ['eu-west-1'],
      memberRoleName: 'hubfix-member',
      deploymentTargets: { organizationalUnitIds: ['r-abcd'] },
      maxChangesPerAccountPerHour: 20,
    });
  });
});
