/**
 * The member `hubfix-rollback` role's grants (ROLLBACK_PERMISSIONS), proven
 * against what rollbacks do, both ways:
 * - every call each control's describeRollback shows, for every variant it
 *   records, needs only IAM actions the table grants on a resource that
 *   covers it, under conditions the call meets;
 * - every read a rollback of each variant makes, run as the CLI runs it
 *   (checkRollback, then rollback, with clients that may make no mutating
 *   call but the shown ones), is granted too;
 * - and each grant of the table is needed by one of those calls or reads.
 * What each API call needs is written out below from the Service
 * Authorization Reference, as the registry's grants for the same calls are
 * (lib/controls.ts); a call the model does not know fails the test.
 */

import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  AssociateAddressCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DeleteFlowLogsCommand,
  DescribeAddressesCommand,
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DisableEbsEncryptionByDefaultCommand,
  DisableSnapshotBlockPublicAccessCommand,
  EC2Client,
  EnableSnapshotBlockPublicAccessCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySnapshotAttributeCommand,
  ModifySubnetAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTaskSetCommand,
  type CreateTaskSetCommandInput,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  type TaskSet,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsStub } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_1 } from '../../../lambdas/controls/ec2-1/remediate';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import { ec2_6 } from '../../../lambdas/controls/ec2-6/remediate';
import { ec2_7 } from '../../../lambdas/controls/ec2-7/remediate';
import { ec2_8 } from '../../../lambdas/controls/ec2-8/remediate';
import { ec2_9 } from '../../../lambdas/controls/ec2-9/remediate';
import { ec2_15 } from '../../../lambdas/controls/ec2-15/remediate';
import { ec2_18 } from '../../../lambdas/controls/ec2-18/remediate';
import { ec2_19 } from '../../../lambdas/controls/ec2-19/remediate';
import { ec2_24 } from '../../../lambdas/controls/ec2-24/remediate';
import { ecs_2 } from '../../../lambdas/controls/ecs-2/remediate';
import { ECS_TASKS_SERVICE } from '../../../lambdas/controls/ecs-16/meta';
import { ecs_16 } from '../../../lambdas/controls/ecs-16/remediate';
import {
  isFoundAtRunTime,
  type RollbackCall,
  type RollbackContext,
  type RollbackDescription,
} from '../../../lambdas/core/control';
import { NO_DEADLINE } from '../../../lambdas/core/deadline';
import { guardClients } from '../../../lambdas/core/rollback-guard';
import type { SecurityGroupRuleRecord } from '../../../lambdas/services/ec2/security-group-rules';
import { REPLACES_TAG } from '../../../lambdas/services/replaces-tag';
import { CONTROLS, type Permission, type ScopedArn } from '../../../lib/controls';
import { ROLLBACK_PERMISSIONS } from '../../../lib/organization';
import { resetStrict, strictMock } from '../../support/aws';
import { ec2Ref, fakeClock, findingContext, rollbackContext } from '../../support/control';
import { noOtherUsers } from '../../support/ec2-2';
import { FakeEc2, type World } from '../../support/fake-ec2';

const ACCOUNT = '111111111111';
// The clients' region: EC2.1 and EC2.7 refuse a rollback in another region than the change's.
const REGION = 'us-east-1';

const ec2 = new EC2Client({ region: REGION });
const ecs = new ECSClient({ region: REGION });
const logs = new CloudWatchLogsClient({ region: REGION });
const lambda = new LambdaClient({ region: REGION });
const autoScaling = new AutoScalingClient({ region: REGION });
const cloudwatch = new CloudWatchClient({ region: REGION });
const CLIENTS = { ec2, ecs, logs, lambda, autoScaling, cloudwatch };
type AllClients = typeof CLIENTS;

// Loosely typed: each mock is only read for the calls it recorded, and reset.
type AnyStub = AwsStub<object, never, unknown>;
const ec2Mock = strictMock(ec2);
const ecsMock = strictMock(ecs);
const MOCKS: Readonly<Record<string, AnyStub>> = {
  ec2: ec2Mock as unknown as AnyStub, // widened for the recording only (calls() and reset)
  ecs: ecsMock as unknown as AnyStub,
  logs: strictMock(logs) as unknown as AnyStub,
  lambda: strictMock(lambda) as unknown as AnyStub,
  autoscaling: strictMock(autoScaling) as unknown as AnyStub,
  cloudwatch: strictMock(cloudwatch) as unknown as AnyStub,
};

beforeEach(() => {
  for (const mock of Object.values(MOCKS)) resetStrict(mock);
});

/** One IAM authorization a call needs: an action, on a resource ARN (or `*`), with its request context. */
interface Need {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

function ec2Arn(type: string, id: string): string {
  return `arn:aws:ec2:${REGION}:${ACCOUNT}:${type}/${id}`;
}

/** A request value, or a stand-in when it is known only at run time (the resource type is what a grant is about). */
function idOf(value: unknown, standIn: string): string {
  return typeof value === 'string' && !isFoundAtRunTime(value) ? value : standIn;
}

/**
 * What IAM authorizes for each call a rollback shows (Service Authorization
 * Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 * and list_amazonelasticcontainerservice.html), as the registry grants the
 * same calls to the functions: an action with no resource-level permissions
 * needs `*`.
 */
function needsOf(call: RollbackCall): Need[] {
  const p = call.parameters;
  const action = `${call.service}:${call.action}`;
  const on = (resource: string, context?: Record<string, string>): Need => ({
    action,
    resource,
    ...(context ? { context } : {}),
  });
  switch (action) {
    case 'ec2:DisableSnapshotBlockPublicAccess':
    case 'ec2:EnableSnapshotBlockPublicAccess':
    case 'ec2:DisableEbsEncryptionByDefault':
      return [on('*')];
    case 'ec2:ModifySnapshotAttribute':
      // Snapshot ARNs carry no account.
      return [on(`arn:aws:ec2:${REGION}::snapshot/${idOf(p.SnapshotId, call.resource)}`)];
    case 'ec2:AuthorizeSecurityGroupIngress':
    case 'ec2:AuthorizeSecurityGroupEgress':
    case 'ec2:RevokeSecurityGroupIngress':
    case 'ec2:RevokeSecurityGroupEgress':
      return [on(ec2Arn('security-group', idOf(p.GroupId, call.resource)))];
    case 'ec2:DeleteSecurityGroup':
      // Only the replacement, which CreateSecurityGroup made with hubfix's tag.
      return [
        on(ec2Arn('security-group', idOf(p.GroupId, call.resource)), {
          [`aws:ResourceTag/${REPLACES_TAG}`]: 'sg-default',
        }),
      ];
    case 'ec2:ModifyNetworkInterfaceAttribute': {
      // The interface and the instance it is attached to; the groups of a new group list.
      const context =
        typeof p.AssociatePublicIpAddress === 'boolean'
          ? { 'ec2:Attribute/AssociatePublicIpAddress': String(p.AssociatePublicIpAddress) }
          : undefined;
      const groups = Array.isArray(p.Groups) ? p.Groups : p.Groups ? ['sg-found-at-run-time'] : [];
      return [
        on(ec2Arn('network-interface', idOf(p.NetworkInterfaceId, call.resource)), context),
        on(ec2Arn('instance', 'i-attached'), context),
        ...groups.map((g) =>
          on(ec2Arn('security-group', idOf(g, 'sg-found-at-run-time')), context),
        ),
      ];
    }
    case 'ec2:AssociateAddress':
      return [
        on(ec2Arn('elastic-ip', idOf(p.AllocationId, 'eipalloc-found-at-run-time'))),
        on(ec2Arn('network-interface', idOf(p.NetworkInterfaceId, call.resource))),
        on(ec2Arn('instance', 'i-attached')),
      ];
    case 'ec2:ModifySubnetAttribute':
      return [on(ec2Arn('subnet', idOf(p.SubnetId, call.resource)))];
    case 'ec2:ModifyInstanceMetadataOptions':
      return [on(ec2Arn('instance', idOf(p.InstanceId, call.resource)))];
    case 'ec2:DeleteFlowLogs':
      return [on(ec2Arn('vpc-flow-log', 'fl-found-at-run-time'))];
    case 'ecs:UpdateService':
    case 'ecs:UpdateServicePrimaryTaskSet':
      return [on(idOf(p.service, call.resource))];
    case 'ecs:DeleteTaskSet':
    case 'ecs:CreateTaskSet': {
      const service = idOf(p.service, call.resource);
      const [cluster, name] = service.split(':service/')[1]?.split('/') ?? [];
      const taskSet = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/${cluster}/${name}/ecs-svc/0`;
      if (action === 'ecs:DeleteTaskSet') return [on(taskSet)];
      const tagged = Array.isArray(p.tags) && p.tags.length > 0;
      return [
        on(taskSet),
        // The task definition's task and execution roles go to ECS tasks.
        {
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${ACCOUNT}:role/task-definition-role`,
          context: { 'iam:PassedToService': ECS_TASKS_SERVICE },
        },
        ...(tagged
          ? [
              {
                action: 'ecs:TagResource',
                resource: taskSet,
                context: { 'ecs:CreateAction': 'CreateTaskSet' },
              },
            ]
          : []),
      ];
    }
    default:
      throw new Error(
        `no authorization model for ${action}: add it from the Service Authorization Reference`,
      );
  }
}

const READ = /^(Describe|Get|List)[A-Z]/;

/** What a read a rollback made needs: EC2's describes take no resource; ECS's name the service or its task sets. */
function readNeedOf(service: string, action: string, input: Record<string, unknown>): Need {
  const full = `${service}:${action}`;
  if (service === 'ec2') return { action: full, resource: '*' };
  if (full === 'ecs:DescribeServices' && Array.isArray(input.services)) {
    return { action: full, resource: String(input.services[0]) };
  }
  if (full === 'ecs:DescribeTaskSets' && typeof input.service === 'string') {
    const [cluster, name] = input.service.split(':service/')[1]?.split('/') ?? [];
    return {
      action: full,
      resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/${cluster}/${name}/ecs-svc/0`,
    };
  }
  throw new Error(`no authorization model for the read ${full}`);
}

/** A table ARN as the member template renders it: the member's account, any region. */
function patternOf(arn: ScopedArn): RegExp {
  const text = `arn:aws:${arn.service}:${arn.region ?? '*'}:${arn.account ?? ACCOUNT}:${arn.resource}/${arn.resourceName}`;
  return new RegExp(`^${text.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
}

function conditionsHold(
  conditions: Permission['conditions'],
  context: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(conditions ?? {}).every(([operator, block]) =>
    Object.entries(block).every(([key, value]) => {
      const actual = context[key];
      switch (operator) {
        case 'StringEquals':
          return actual !== undefined && [value].flat().includes(actual);
        case 'Null':
          return value === 'true' ? actual === undefined : actual !== undefined;
        default:
          return false;
      }
    }),
  );
}

/** One grant of the table: one action on one resource pattern (or `*`), with the entry's conditions. */
interface Grant {
  readonly action: string;
  readonly resource: ScopedArn | '*';
  readonly conditions: Permission['conditions'];
}

function grantsOf(table: readonly Permission[]): Grant[] {
  return table.flatMap((p) =>
    p.actions.flatMap((action) =>
      (p.resources === '*' ? ['*' as const] : (p.memberResources ?? p.resources)).map(
        (resource) => ({ action, resource, conditions: p.conditions }),
      ),
    ),
  );
}

function grantCovers(grant: Grant, need: Need): boolean {
  return (
    grant.action === need.action &&
    conditionsHold(grant.conditions, need.context ?? {}) &&
    (grant.resource === '*' || patternOf(grant.resource).test(need.resource))
  );
}

/** A control as a rollback uses it, with every client it could ask for. */
interface RollingBack<Before> {
  readonly id: string;
  describeRollback(before: Before): RollbackDescription;
  checkRollback?(before: Before, ctx: RollbackContext<AllClients>): Promise<readonly string[]>;
  rollback(before: Before, ctx: RollbackContext<AllClients>): Promise<readonly string[]>;
}

interface Variant {
  readonly name: string;
  /** Prepares the AWS answers along this variant's rollback and gives its before-state's needs and reads. */
  run(): Promise<{ readonly needs: Need[]; readonly refused: boolean }>;
}

/**
 * One recorded variant: its description's needs, then its rollback as the
 * CLI runs it (lambdas/core/rollback.ts: checkRollback, then rollback, with
 * clients guarded to the shown calls), and the reads it made. A before-state
 * whose description has problems is refused before any call: it needs nothing.
 */
function variant<Before>(
  control: RollingBack<Before>,
  name: string,
  setUp: () => Promise<Before> | Before,
): Variant {
  return {
    name,
    async run() {
      const before = await setUp();
      const description = control.describeRollback(before);
      if ((description.problems ?? []).length > 0) {
        expect(description.calls).toEqual([]);
        return { needs: [], refused: true };
      }
      const from = Object.fromEntries(
        Object.entries(MOCKS).map(([service, mock]) => [service, mock.calls().length]),
      );
      const context = rollbackContext(
        guardClients(CLIENTS, description.calls),
        {},
        fakeClock().clock,
      );
      expect(await control.checkRollback?.(before, context)).not.toEqual(
        expect.arrayContaining([expect.anything()]),
      );
      await control.rollback(before, context);
      const reads = Object.entries(MOCKS).flatMap(([service, mock]) =>
        mock
          .calls()
          .slice(from[service])
          .flatMap((call) => {
            const command = call.args[0] as { constructor: { name: string }; input: object };
            const action = command.constructor.name.replace(/Command$/, '');
            return READ.test(action)
              ? [readNeedOf(service, action, command.input as Record<string, unknown>)]
              : [];
          }),
      );
      return { needs: [...description.calls.flatMap(needsOf), ...reads], refused: false };
    },
  };
}

const GROUP = 'sg-1234123f';
const VPC = 'vpc-0123456789abcdef0';
const INSTANCE = 'i-0123456789abcdef0';
const ENI = 'eni-0123456789abcdef0';
const SUBNET = 'subnet-0123456789abcdef0';
const SNAPSHOT = 'snap-0aaaaaaaaaaaaaaa1';

function rule(changes: Partial<SecurityGroupRuleRecord>): SecurityGroupRuleRecord {
  return {
    ruleId: 'sgr-1',
    groupId: GROUP,
    egress: false,
    protocol: 'tcp',
    fromPort: 22,
    toPort: 22,
    cidrIpv4: '0.0.0.0/0',
    ...changes,
  };
}

/** Each shown call that changes a rule answers as EC2 does for a rule that is not there yet. */
function givenRulesAuthorized(description: RollbackDescription) {
  for (const call of description.calls) {
    if (call.action === 'AuthorizeSecurityGroupEgress') {
      ec2Mock
        .on(AuthorizeSecurityGroupEgressCommand, call.parameters, true)
        .resolves({ Return: true });
    } else {
      ec2Mock
        .on(AuthorizeSecurityGroupIngressCommand, call.parameters, true)
        .resolves({ Return: true });
    }
  }
}

/** The group lacks every recorded rule now, so the rollback authorizes each one. */
function restoresRules<Before extends { readonly groupId: string }>(
  control: RollingBack<Before>,
  name: string,
  before: Before,
): Variant {
  return variant(control, name, () => {
    ec2Mock
      .on(
        DescribeSecurityGroupRulesCommand,
        {
          Filters: [{ Name: 'group-id', Values: [before.groupId] }],
          MaxResults: 1000,
          NextToken: undefined,
        },
        true,
      )
      .resolves({ SecurityGroupRules: [] });
    givenRulesAuthorized(control.describeRollback(before));
    return before;
  });
}

/** A default group used by two interfaces and referenced by another group, migrated by apply on an in-memory EC2. */
async function migrated() {
  const defaultGroup = 'sg-0000000000000d001';
  const app = 'sg-0000000000000a001';
  const world: World = {
    groups: [
      {
        groupId: defaultGroup,
        name: 'default',
        vpcId: VPC,
        tags: {},
        rules: [
          { ruleId: 'sgr-d1', egress: false, protocol: '-1', referencedGroupId: defaultGroup },
          { ruleId: 'sgr-d2', egress: true, protocol: '-1', cidrIpv4: '0.0.0.0/0' },
        ],
      },
      {
        groupId: app,
        name: 'app',
        vpcId: VPC,
        tags: {},
        rules: [
          {
            ruleId: 'sgr-a1',
            egress: false,
            protocol: 'tcp',
            fromPort: 5432,
            toPort: 5432,
            referencedGroupId: defaultGroup,
          },
          {
            ruleId: 'sgr-a2',
            egress: true,
            protocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            referencedGroupId: defaultGroup,
          },
        ],
      },
    ],
    interfaces: [
      { interfaceId: 'eni-1', groups: [defaultGroup], instanceId: 'i-1' },
      { interfaceId: 'eni-2', groups: [defaultGroup, app], instanceId: 'i-2' },
    ],
  };
  const fake = new FakeEc2(world);
  fake.install(ec2Mock as unknown as Parameters<FakeEc2['install']>[0]); // the same stub, typed as the fake expects
  noOtherUsers(ec2Mock, {
    lambda: MOCKS.lambda as never,
    ecs: MOCKS.ecs as never,
    autoScaling: MOCKS.autoscaling as never,
  });
  const ctx = findingContext(
    CLIENTS,
    { strategy: 'migrate', migrate: { maxInterfaces: 25 } } as const,
    {
      deadline: NO_DEADLINE,
      clock: fakeClock().clock,
    },
  );
  const read = await ec2_2.readState(
    ec2Ref('AwsEc2SecurityGroup', 'security-group', defaultGroup),
    ctx,
  );
  if (read.kind !== 'found') throw new Error('expected the default group');
  const plan = ec2_2.plan(read.state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a migration');
  await ec2_2.apply(read.state, plan, ctx);
  return plan.before;
}

const CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
const SERVICE = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`;
const OLD_ID = 'ecs-svc/1111111111111111111';
const OLD_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${OLD_ID}`;
const NEW_ID = 'ecs-svc/2222222222222222222';
const NEW_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${NEW_ID}`;
const TWIN_ID = 'ecs-svc/3333333333333333333';
const TWIN_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/${TWIN_ID}`;
const TASK_DEFINITION = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:7`;
const NETWORK = { subnets: [SUBNET], securityGroups: [GROUP], assignPublicIp: 'ENABLED' as const };

function taskSet(overrides: Partial<TaskSet>): TaskSet {
  return {
    id: OLD_ID,
    taskSetArn: OLD_ARN,
    status: 'ACTIVE',
    taskDefinition: TASK_DEFINITION,
    networkConfiguration: { awsvpcConfiguration: { ...NETWORK } },
    stabilityStatus: 'STEADY_STATE',
    tags: [],
    ...overrides,
  };
}

const REPLACEMENT = taskSet({
  id: NEW_ID,
  taskSetArn: NEW_ARN,
  status: 'PRIMARY',
  networkConfiguration: { awsvpcConfiguration: { ...NETWORK, assignPublicIp: 'DISABLED' } },
  tags: [{ key: REPLACES_TAG, value: OLD_ID }],
});

const ECS_16_BEFORE = {
  cluster: CLUSTER,
  service: SERVICE,
  taskSet: {
    id: OLD_ID,
    arn: OLD_ARN,
    taskDefinition: TASK_DEFINITION,
    primary: true,
    launchType: 'FARGATE' as const,
    loadBalancers: [],
    serviceRegistries: [],
    network: NETWORK,
    tags: [{ key: 'team', value: 'web' }],
  },
};

function givenTaskSets(...taskSets: TaskSet[]) {
  ecsMock
    .on(DescribeTaskSetsCommand, { cluster: CLUSTER, service: SERVICE, include: ['TAGS'] }, true)
    .resolves({ taskSets });
}

function givenPrimaryAndDelete(primary: string, deleted: string) {
  ecsMock
    .on(
      UpdateServicePrimaryTaskSetCommand,
      { cluster: CLUSTER, service: SERVICE, primaryTaskSet: primary },
      true,
    )
    .resolves({});
  ecsMock
    .on(
      DeleteTaskSetCommand,
      { cluster: CLUSTER, service: SERVICE, taskSet: deleted, force: true },
      true,
    )
    .resolves({});
}

/** Every variant each control records, by control id. */
const VARIANTS: Readonly<Record<string, readonly Variant[]>> = {
  'EC2.1': [
    variant(ec2_1, 'snapshots re-shared, block public access lifted and put back', () => {
      ec2Mock
        .on(DisableSnapshotBlockPublicAccessCommand, {}, true)
        .resolves({ State: 'unblocked' });
      ec2Mock
        .on(
          ModifySnapshotAttributeCommand,
          {
            SnapshotId: SNAPSHOT,
            Attribute: 'createVolumePermission',
            OperationType: 'add',
            GroupNames: ['all'],
          },
          true,
        )
        .resolves({});
      ec2Mock
        .on(EnableSnapshotBlockPublicAccessCommand, { State: 'block-new-sharing' }, true)
        .resolves({ State: 'block-new-sharing' });
      return {
        account: ACCOUNT,
        region: REGION,
        snapshotIds: [SNAPSHOT],
        blockPublicAccess: { previous: 'block-new-sharing', applied: 'block-all-sharing' },
      } as const;
    }),
    variant(ec2_1, 'block public access lifted only, as it was', () => {
      ec2Mock
        .on(DisableSnapshotBlockPublicAccessCommand, {}, true)
        .resolves({ State: 'unblocked' });
      return {
        account: ACCOUNT,
        region: REGION,
        snapshotIds: [],
        blockPublicAccess: { previous: 'unblocked', applied: 'block-all-sharing' },
      } as const;
    }),
  ],
  'EC2.2': [
    restoresRules(ec2_2, 'empty: every rule back', {
      groupId: GROUP,
      vpcId: VPC,
      rules: [
        rule({}),
        rule({ ruleId: 'sgr-2', egress: true, protocol: '-1', fromPort: -1, toPort: -1 }),
      ],
    }),
    variant(
      ec2_2,
      'migrate: rules, interfaces and references back, the replacement deleted',
      migrated,
    ),
  ],
  'EC2.6': [
    variant(ec2_6, "hubfix's flow log deleted, others kept", () => {
      const group = `/hubfix/vpc-flow-logs/${VPC}`;
      ec2Mock
        .on(
          DescribeFlowLogsCommand,
          {
            Filter: [
              { Name: 'resource-id', Values: [VPC] },
              { Name: 'log-group-name', Values: [group] },
            ],
            NextToken: undefined,
          },
          true,
        )
        .resolves({ FlowLogs: [{ FlowLogId: 'fl-old' }, { FlowLogId: 'fl-new' }] });
      ec2Mock
        .on(DeleteFlowLogsCommand, { FlowLogIds: ['fl-new'] }, true)
        .resolves({ Unsuccessful: [] });
      return {
        vpcId: VPC,
        logGroupName: group,
        trafficType: 'REJECT',
        retentionDays: 365,
        existingFlowLogIds: ['fl-old'],
      } as const;
    }),
  ],
  'EC2.7': [
    variant(ec2_7, 'encryption by default off again', () => {
      ec2Mock
        .on(DisableEbsEncryptionByDefaultCommand, {}, true)
        .resolves({ EbsEncryptionByDefault: false });
      return { account: ACCOUNT, region: REGION, enabled: false };
    }),
    variant(ec2_7, 'it was on already: nothing to do', () => ({
      account: ACCOUNT,
      region: REGION,
      enabled: true,
    })),
  ],
  'EC2.8': [
    variant(ec2_8, 'tokens optional again', () => {
      ec2Mock
        .on(
          ModifyInstanceMetadataOptionsCommand,
          { InstanceId: INSTANCE, HttpTokens: 'optional' },
          true,
        )
        .resolves({ InstanceId: INSTANCE });
      return { instanceId: INSTANCE, httpTokens: 'optional' } as const;
    }),
  ],
  'EC2.9': [
    variant(ec2_9, 'Elastic IP back on its interface, and the subnet setting', () => {
      givenInstance();
      givenAddress('free');
      ec2Mock
        .on(
          ModifySubnetAttributeCommand,
          { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: true } },
          true,
        )
        .resolves({});
      return elasticBefore('off', true);
    }),
    variant(ec2_9, "Elastic IP already back, and the interface's auto-assign on again", () => {
      givenInstance();
      givenAddress('on its interface');
      ec2Mock
        .on(
          ModifyNetworkInterfaceAttributeCommand,
          { NetworkInterfaceId: ENI, AssociatePublicIpAddress: true },
          true,
        )
        .resolves({});
      return elasticBefore('on', false);
    }),
    variant(
      ec2_9,
      'an auto-assigned address (taken off directly or by the temporary Elastic IP technique): refused',
      () => ({
        ...elasticBefore('off', false),
        address: { kind: 'auto-assigned', publicIp: '203.0.113.5' },
      }),
    ),
  ],
  'EC2.15': [
    variant(ec2_15, 'both auto-assign settings back on', () => {
      ec2Mock
        .on(
          ModifySubnetAttributeCommand,
          { SubnetId: SUBNET, MapPublicIpOnLaunch: { Value: true } },
          true,
        )
        .resolves({});
      ec2Mock
        .on(
          ModifySubnetAttributeCommand,
          { SubnetId: SUBNET, AssignIpv6AddressOnCreation: { Value: true } },
          true,
        )
        .resolves({});
      return {
        subnetId: SUBNET,
        turnedOff: ['MapPublicIpOnLaunch', 'AssignIpv6AddressOnCreation'],
      } as const;
    }),
  ],
  'EC2.18': [
    restoresRules(ec2_18, 'world-open inbound rules back', {
      groupId: GROUP,
      vpcId: VPC,
      rules: [rule({})],
    }),
  ],
  'EC2.19': [
    restoresRules(ec2_19, 'world-open inbound rules back', {
      groupId: GROUP,
      vpcId: VPC,
      rules: [rule({ fromPort: 3389, toPort: 3389 })],
    }),
  ],
  'EC2.24': [variant(ec2_24, 'notify-only: refused', () => ({ instanceId: INSTANCE }))],
  'ECS.2': [
    variant(ecs_2, 'public IPs back on the service', () => {
      const before = { cluster: CLUSTER, service: SERVICE, network: NETWORK };
      ecsMock
        .on(DescribeServicesCommand, { cluster: CLUSTER, services: [SERVICE] }, true)
        .resolves({
          services: [
            {
              serviceArn: SERVICE,
              status: 'ACTIVE',
              networkConfiguration: {
                awsvpcConfiguration: { ...NETWORK, assignPublicIp: 'DISABLED' },
              },
            },
          ],
        });
      const [update] = ecs_2.describeRollback(before).calls;
      ecsMock.on(UpdateServiceCommand, update?.parameters, true).resolves({});
      return before;
    }),
  ],
  'ECS.16': [
    variant(
      ecs_16,
      'the recorded task set is still there: primary again, the replacement deleted',
      () => {
        givenTaskSets(taskSet({}), REPLACEMENT);
        givenPrimaryAndDelete(OLD_ARN, NEW_ARN);
        return ECS_16_BEFORE;
      },
    ),
    variant(
      ecs_16,
      'a twin of the recorded task set, with its tags, steady, primary; the replacement deleted',
      () => {
        givenTaskSets(REPLACEMENT);
        const [create] = ecs_16.describeRollback(ECS_16_BEFORE).calls;
        ecsMock
          // A shown call's parameters are the request as sent (RollbackCall.parameters).
          .on(
            CreateTaskSetCommand,
            create?.parameters as unknown as CreateTaskSetCommandInput,
            true,
          )
          .resolves({ taskSet: { id: TWIN_ID, taskSetArn: TWIN_ARN, status: 'ACTIVE' } });
        ecsMock
          .on(
            DescribeTaskSetsCommand,
            { cluster: CLUSTER, service: SERVICE, taskSets: [TWIN_ARN] },
            true,
          )
          .resolves({ taskSets: [taskSet({ id: TWIN_ID, taskSetArn: TWIN_ARN })] });
        givenPrimaryAndDelete(TWIN_ARN, NEW_ARN);
        return ECS_16_BEFORE;
      },
    ),
  ],
};

function elasticBefore(interfaceAutoAssign: 'on' | 'off', subnetAutoAssignTurnedOff: boolean) {
  return {
    instanceId: INSTANCE,
    networkInterfaceId: ENI,
    privateIpAddress: '10.0.0.5',
    subnetId: SUBNET,
    address: {
      kind: 'elastic' as const,
      publicIp: '203.0.113.5',
      allocationId: 'eipalloc-1',
      associationId: 'eipassoc-1',
      interfaceAutoAssign,
    },
    subnetAutoAssignTurnedOff,
  };
}

function givenInstance() {
  ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE] }, true).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            SubnetId: SUBNET,
            NetworkInterfaces: [{ NetworkInterfaceId: ENI, Attachment: { DeviceIndex: 0 } }],
          },
        ],
      },
    ],
  });
}

/**
 * Where the Elastic IP is when the rollback reads it: free (it then
 * associates it, as EC2 answers), or still on the recorded interface.
 */
function givenAddress(place: 'free' | 'on its interface') {
  ec2Mock.on(DescribeAddressesCommand, { AllocationIds: ['eipalloc-1'] }, true).resolves({
    Addresses: [
      place === 'free'
        ? { AllocationId: 'eipalloc-1' }
        : {
            AllocationId: 'eipalloc-1',
            AssociationId: 'eipassoc-1',
            NetworkInterfaceId: ENI,
            PrivateIpAddress: '10.0.0.5',
          },
    ],
  });
  if (place === 'free') {
    ec2Mock
      .on(
        AssociateAddressCommand,
        {
          AllocationId: 'eipalloc-1',
          NetworkInterfaceId: ENI,
          PrivateIpAddress: '10.0.0.5',
          AllowReassociation: false,
        },
        true,
      )
      .resolves({ AssociationId: 'eipassoc-2' });
  }
}

describe('the member rollback role (ROLLBACK_PERMISSIONS)', () => {
  it('has the variants of every registered control, and an entry for each', () => {
    const ids = CONTROLS.map((c) => c.meta.id).sort();

    expect(Object.keys(VARIANTS).sort()).toEqual(ids);
    expect(Object.keys(ROLLBACK_PERMISSIONS).sort()).toEqual(ids);
  });

  it.each(CONTROLS.map((c) => [c.meta.id] as const))(
    '%s: grants every call and read its rollbacks make, and nothing they do not',
    async (controlId) => {
      // Prepare
      const table = ROLLBACK_PERMISSIONS[controlId] ?? [];
      const needs: Need[] = [];

      // Act: each variant, on its own answers.
      for (const v of VARIANTS[controlId] ?? []) {
        for (const mock of Object.values(MOCKS)) resetStrict(mock);
        const { needs: more } = await v.run();
        needs.push(...more);
      }

      // Assess: nothing missing, nothing extra.
      expect(needs.filter((need) => !grantsOf(table).some((g) => grantCovers(g, need)))).toEqual(
        [],
      );
      expect(
        grantsOf(table).filter((grant) => !needs.some((need) => grantCovers(grant, need))),
      ).toEqual([]);
    },
  );

  it('refuses a grant whose condition a call does not meet, and finds a missing one', () => {
    const passRole: Need = {
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/r`,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    };
    const table = grantsOf(ROLLBACK_PERMISSIONS['ECS.16'] ?? []);

    expect(table.some((g) => grantCovers(g, passRole))).toBe(false);
    expect(
      grantsOf(ROLLBACK_PERMISSIONS['EC2.18'] ?? []).some((g) =>
        grantCovers(g, {
          action: 'ec2:RevokeSecurityGroupIngress',
          resource: ec2Arn('security-group', GROUP),
        }),
      ),
    ).toBe(false);
  });
});
