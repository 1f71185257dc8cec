/**
 * The mutating grants of EC2.1, ECS.2 and ECS.16, read from the synthesized
 * template: each is narrowed by resource and condition to what the code
 * sends, and the grants that depend on settings appear only with them.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resolveIntrinsics } from '../support/intrinsics';
import {
  controlFunctionId,
  resourcesOf,
  roleStatements,
  type StatementJson,
  synthesize,
} from '../support/stack';

function statementsFor(config: unknown, controlId: string) {
  const { template, stack } = synthesize({ config, nag: true });
  const resources = resourcesOf(template);
  const statements = roleStatements(resources, controlFunctionId(resources, controlId));
  const nagFindings = [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ];
  return { statements, nagFindings, template };
}

function actionsOf(statement: StatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/**
 * The statements granting `action`, with the template's pseudo parameters
 * resolved as CloudFormation would in account 111111111111, us-east-1.
 */
function granting(statements: readonly StatementJson[], action: string): unknown[] {
  return statements.filter((s) => actionsOf(s).includes(action)).map((s) => resolveIntrinsics(s));
}

function arn(rest: string) {
  return `arn:aws${rest}`;
}

describe('EC2.1 grants', () => {
  const defaults = statementsFor({}, 'EC2.1');

  it('lets ModifySnapshotAttribute only remove group "all" from snapshots of this region', () => {
    expect(granting(defaults.statements, 'ec2:ModifySnapshotAttribute')).toEqual([
      {
        Effect: 'Allow',
        Action: 'ec2:ModifySnapshotAttribute',
        Resource: arn(':ec2:us-east-1::snapshot/*'),
        Condition: {
          StringEquals: { 'ec2:Attribute': 'createVolumePermission', 'ec2:Remove/group': 'all' },
          Null: { 'ec2:Add/group': 'true', 'ec2:Add/userId': 'true', 'ec2:Remove/userId': 'true' },
        },
      },
    ]);
  });

  it('holds snapshot block public access only when it is configured', () => {
    const configured = statementsFor(
      { controls: { 'EC2.1': { blockPublicAccess: 'block-new-sharing' } } },
      'EC2.1',
    );

    expect(granting(defaults.statements, 'ec2:EnableSnapshotBlockPublicAccess')).toEqual([]);
    expect(granting(defaults.statements, 'ec2:GetSnapshotBlockPublicAccessState')).toEqual([]);
    expect(granting(configured.statements, 'ec2:EnableSnapshotBlockPublicAccess')).toEqual([
      {
        Effect: 'Allow',
        Action: expect.arrayContaining([
          'ec2:GetSnapshotBlockPublicAccessState',
          'ec2:EnableSnapshotBlockPublicAccess',
        ]),
        Resource: '*',
      },
    ]);
    expect(configured.nagFindings).toEqual([]);
  });

  it('passes cdk-nag with a reason that says what the snapshot grant allows', () => {
    const suppressions = JSON.stringify(defaults.template.toJSON());

    expect(defaults.nagFindings).toEqual([]);
    expect(suppressions).toContain(
      'the conditions allow only removing group \\"all\\" from createVolumePermission',
    );
  });
});

describe('ECS.2 grants', () => {
  const { statements } = statementsFor({}, 'ECS.2');

  it('lets UpdateService only turn public IPs off, without a task definition', () => {
    expect(granting(statements, 'ecs:UpdateService')).toEqual([
      {
        Effect: 'Allow',
        Action: 'ecs:UpdateService',
        Resource: arn(':ecs:us-east-1:111111111111:service/*'),
        Condition: {
          Bool: { 'ecs:auto-assign-public-ip': 'false' },
          Null: { 'ecs:task-definition': 'true' },
        },
      },
    ]);
  });
});

describe('ECS.16 grants', () => {
  const defaults = statementsFor({}, 'ECS.16');

  it('may pass no role at all by default', () => {
    expect(granting(defaults.statements, 'iam:PassRole')).toEqual([]);
  });

  it('passes only the roles the settings name, only to ECS tasks', () => {
    const { statements, nagFindings } = statementsFor(
      {
        controls: {
          'ECS.16': { passRoles: { roles: ['web-task', 'service-role/ecsTaskExecutionRole'] } },
        },
      },
      'ECS.16',
    );

    expect(granting(statements, 'iam:PassRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: expect.arrayContaining([
          arn(':iam::111111111111:role/web-task'),
          arn(':iam::111111111111:role/service-role/ecsTaskExecutionRole'),
        ]),
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    expect(nagFindings).toEqual([]);
  });

  it('passes roles carrying the configured tag, only to ECS tasks, and says so to cdk-nag', () => {
    const { statements, nagFindings, template } = statementsFor(
      { controls: { 'ECS.16': { passRoles: { tag: { key: 'hubfix:pass', value: 'ecs' } } } } },
      'ECS.16',
    );

    expect(granting(statements, 'iam:PassRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: arn(':iam::111111111111:role/*'),
        Condition: {
          StringEquals: {
            'iam:PassedToService': 'ecs-tasks.amazonaws.com',
            'iam:ResourceTag/hubfix:pass': 'ecs',
          },
        },
      },
    ]);
    expect(nagFindings).toEqual([]);
    expect(JSON.stringify(template.toJSON())).toContain(
      'ECS.16 may pass any role of this account tagged hubfix:pass=ecs',
    );
  });

  it('tags task sets only as CreateTaskSet makes them, and creates only tagged ones', () => {
    const taskSets = arn(':ecs:us-east-1:111111111111:task-set/*/*/*');

    expect(granting(defaults.statements, 'ecs:TagResource')).toEqual([
      {
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: taskSets,
        Condition: { StringEquals: { 'ecs:CreateAction': 'CreateTaskSet' } },
      },
    ]);
    expect(granting(defaults.statements, 'ecs:CreateTaskSet')).toEqual([
      {
        Effect: 'Allow',
        Action: 'ecs:CreateTaskSet',
        Resource: taskSets,
        Condition: { Null: { 'aws:RequestTag/hubfix:replaces': 'false' } },
      },
    ]);
    expect(defaults.nagFindings).toEqual([]);
  });
});
