/**
 * EC2.2's migrate strategy needs mutating grants that emptying an unused
 * group does not: a deployment gets them only when it chooses migrate.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLACES_TAG } from '../../lambdas/controls/ec2-2/meta';
import { resourcesOf, synthesize } from '../support/stack';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const MIGRATE_ONLY = [
  'ec2:CreateSecurityGroup',
  'ec2:CreateTags',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:ModifyNetworkInterfaceAttribute',
];

/** The statements of EC2.2's function role in a stack synthesized with `config`. */
function ec2_2Statements(config: unknown, nag = false) {
  const synthesized = synthesize({ config, nag });
  const resources = resourcesOf(synthesized.template);
  const fn = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      (
        JSON.parse(
          (r.Properties.Environment as { Variables: Record<string, string> }).Variables
            .HUBFIX_SETTINGS ?? '{}',
        ) as { controlId?: string }
      ).controlId === 'EC2.2',
  );
  if (!fn) throw new Error('no EC2.2 function in the template');
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return { statements, synthesized };
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

/** An ARN as the template renders it, joined, e.g. "arn:${AWS::Partition}:ec2:us-east-1:1111:vpc/*". */
const rendered = (resource: unknown): string[] =>
  (Array.isArray(resource) ? resource : [resource]).map((r) => JSON.stringify(r));

describe('EC2.2 grants', () => {
  // Synthesizing takes seconds: once per configuration, for every test.
  let emptying: ReturnType<typeof ec2_2Statements>;
  let migrating: ReturnType<typeof ec2_2Statements>;
  beforeAll(() => {
    emptying = ec2_2Statements({});
    migrating = ec2_2Statements({ controls: { 'EC2.2': { strategy: 'migrate' } } }, true);
  }, 180_000);

  it('holds no mutating grant beyond revoking rules with the default strategy', () => {
    const { statements } = emptying;

    const actions = actionsOf(statements);

    for (const action of MIGRATE_ONLY) expect(actions).not.toContain(action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'lambda:ListFunctions',
        'ec2:DescribeLaunchTemplateVersions',
        'ecs:ListClusters',
        'ecs:ListServices',
        'ecs:DescribeServices',
        'autoscaling:DescribeLaunchConfigurations',
      ]),
    );
  });

  it('adds the migration grants, each narrowed, only with strategy migrate', () => {
    const { statements, synthesized } = migrating;

    expect(actionsOf(statements)).toEqual(expect.arrayContaining(MIGRATE_ONLY));
    const create = statements.filter((s) => s.Action === 'ec2:CreateSecurityGroup');
    expect(create).toHaveLength(2);
    const onGroups = create.find((s) =>
      rendered(s.Resource).some((r) => r.includes('security-group/*')),
    );
    expect(onGroups?.Condition).toEqual({
      Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [REPLACES_TAG] },
    });
    const onVpcs = create.find((s) => rendered(s.Resource).some((r) => r.includes('vpc/*')));
    expect(onVpcs?.Condition).toBeUndefined();
    const tags = statements.find((s) => s.Action === 'ec2:CreateTags');
    expect(tags?.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [REPLACES_TAG] },
    });
    expect(rendered(tags?.Resource).join()).toContain('security-group/*');
    const modify = statements.find((s) => s.Action === 'ec2:ModifyNetworkInterfaceAttribute');
    const modified = rendered(modify?.Resource).join();
    for (const resource of ['network-interface/*', 'instance/*', 'security-group/*']) {
      expect(modified).toContain(resource);
    }
    // Every grant stays in this account and region: no bare "*" among the mutating ones.
    for (const statement of statements.filter((s) =>
      actionsOf([s]).some((a) => MIGRATE_ONLY.includes(a)),
    )) {
      expect(statement.Resource).not.toBe('*');
    }
    const nagFindings = [
      ...Annotations.fromStack(synthesized.stack).findError(
        '*',
        Match.stringLikeRegexp('AwsSolutions-.*'),
      ),
      ...Annotations.fromStack(synthesized.stack).findWarning(
        '*',
        Match.stringLikeRegexp('AwsSolutions-.*'),
      ),
    ];
    expect(nagFindings.map((f) => f.id)).toEqual([]);
  });
});
