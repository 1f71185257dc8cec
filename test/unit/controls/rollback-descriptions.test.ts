/**
 * Every control's describeRollback: which resource a before-state acts on,
 * the exact calls, what each gives back, and what a genuine change of that
 * control could not have recorded. Round trips through `apply` prove the
 * lines a change records name what its rollback gives back.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifySnapshotAttributeCommand,
  ModifySubnetAttributeCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { DescribeTaskSetsCommand, ECSClient } from '@aws-sdk/client-ecs';
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
import { ecs_16 } from '../../../lambdas/controls/ecs-16/remediate';
import type { ChangePlan, RollbackDescription } from '../../../lambdas/core/control';
import { wideningProblems } from '../../../lambdas/core/rollback-checks';
import type { SecurityGroupRuleRecord } from '../../../lambdas/services/ec2/security-group-rules';
import { resetStrict, strictMock } from '../../support/aws';
import { findingContext, rollbackContext } from '../../support/control';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const GROUP = 'sg-1234123f';

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

const TASK_SET = {
  id: 'ecs-svc/1234567890123456789',
  arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-set/prod/web/ecs-svc/1234567890123456789`,
  taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:7`,
  primary: true,
  launchType: 'FARGATE' as const,
  loadBalancers: [],
  serviceRegistries: [],
  network: { subnets: ['subnet-1'], securityGroups: [GROUP], assignPublicIp: 'ENABLED' as const },
  tags: [],
};

function summary(description: RollbackDescription) {
  return {
    target: description.target.resourceId,
    calls: description.calls.map(
      (c) =>
        `${c.service}:${c.action} ${c.resource}${c.grants ? ` gives ${c.grants.removed}` : ''}`,
    ),
    problems: description.problems ?? [],
  };
}

describe('describeRollback', () => {
  it.each<[string, () => RollbackDescription, ReturnType<typeof summary>]>([
    [
      'EC2.1 re-shares each recorded snapshot, unblocking public sharing first and restoring it last',
      () =>
        ec2_1.describeRollback({
          account: ACCOUNT,
          region: REGION,
          snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'],
          blockPublicAccess: { previous: 'block-new-sharing', applied: 'block-all-sharing' },
        }),
      {
        target: ACCOUNT,
        calls: [
          `ec2:DisableSnapshotBlockPublicAccess ${ACCOUNT} gives snapshot block public access`,
          'ec2:ModifySnapshotAttribute snap-0aaaaaaaaaaaaaaa1 gives snap-0aaaaaaaaaaaaaaa1',
          `ec2:EnableSnapshotBlockPublicAccess ${ACCOUNT}`,
        ],
        problems: [],
      },
    ],
    [
      'EC2.2 authorizes each revoked rule again, on its own group only',
      () =>
        ec2_2.describeRollback({
          groupId: GROUP,
          vpcId: 'vpc-1',
          rules: [rule({}), rule({ ruleId: 'sgr-2', egress: true, groupId: 'sg-9999999f' })],
        }),
      {
        target: GROUP,
        calls: [
          `ec2:AuthorizeSecurityGroupIngress ${GROUP} gives sgr-1`,
          `ec2:AuthorizeSecurityGroupEgress ${GROUP} gives sgr-2`,
        ],
        problems: [`rule sgr-2 belongs to sg-9999999f, not to ${GROUP}`],
      },
    ],
    [
      'EC2.6 deletes only flow logs into its own log group',
      () =>
        ec2_6.describeRollback({
          vpcId: 'vpc-0123456789abcdef0',
          logGroupName: '/aws/security/org-flow-logs',
          trafficType: 'REJECT',
          retentionDays: 365,
          existingFlowLogIds: [],
        }),
      {
        target: 'vpc-0123456789abcdef0',
        calls: ['ec2:DeleteFlowLogs vpc-0123456789abcdef0'],
        problems: [
          'EC2.6 creates flow logs into /hubfix/vpc-flow-logs/vpc-0123456789abcdef0 only, not into /aws/security/org-flow-logs',
        ],
      },
    ],
    [
      'EC2.7 turns default encryption off only when it was off',
      () => ec2_7.describeRollback({ account: ACCOUNT, region: REGION, enabled: false }),
      {
        target: ACCOUNT,
        calls: [`ec2:DisableEbsEncryptionByDefault ${ACCOUNT} gives EBS encryption by default`],
        problems: [],
      },
    ],
    [
      'EC2.8 makes tokens optional again on its instance',
      () => ec2_8.describeRollback({ instanceId: 'i-0123456789abcdef0', httpTokens: 'optional' }),
      {
        target: 'i-0123456789abcdef0',
        calls: ['ec2:ModifyInstanceMetadataOptions i-0123456789abcdef0 gives i-0123456789abcdef0'],
        problems: [],
      },
    ],
    [
      'EC2.9 associates the Elastic IP again and turns the subnet setting back on',
      () =>
        ec2_9.describeRollback({
          instanceId: 'i-0123456789abcdef0',
          networkInterfaceId: 'eni-1',
          privateIpAddress: '10.0.0.5',
          subnetId: 'subnet-1',
          address: {
            kind: 'elastic',
            publicIp: '203.0.113.5',
            allocationId: 'eipalloc-1',
            associationId: 'eipassoc-1',
            interfaceAutoAssign: 'off',
          },
          subnetAutoAssignTurnedOff: true,
        }),
      {
        target: 'i-0123456789abcdef0',
        calls: [
          'ec2:AssociateAddress eni-1 gives eipalloc-1',
          'ec2:ModifySubnetAttribute subnet-1 gives auto-assign public IPv4 address on subnet-1',
        ],
        problems: [],
      },
    ],
    [
      "EC2.9 also turns the interface's auto-assign back on, only when it read on before the change",
      () =>
        ec2_9.describeRollback({
          instanceId: 'i-0123456789abcdef0',
          networkInterfaceId: 'eni-1',
          privateIpAddress: '10.0.0.5',
          subnetId: 'subnet-1',
          address: {
            kind: 'elastic',
            publicIp: '203.0.113.5',
            allocationId: 'eipalloc-1',
            associationId: 'eipassoc-1',
            interfaceAutoAssign: 'on',
          },
          subnetAutoAssignTurnedOff: false,
        }),
      {
        target: 'i-0123456789abcdef0',
        calls: [
          'ec2:AssociateAddress eni-1 gives eipalloc-1',
          'ec2:ModifyNetworkInterfaceAttribute eni-1 gives auto-assign public IPv4 on eni-1',
        ],
        problems: [],
      },
    ],
    [
      'EC2.9 cannot bring an auto-assigned address back',
      () =>
        ec2_9.describeRollback({
          instanceId: 'i-0123456789abcdef0',
          networkInterfaceId: 'eni-1',
          privateIpAddress: '10.0.0.5',
          subnetId: 'subnet-1',
          address: { kind: 'auto-assigned', publicIp: '203.0.113.5' },
          subnetAutoAssignTurnedOff: false,
        }),
      {
        target: 'i-0123456789abcdef0',
        calls: [],
        problems: [
          expect.stringContaining(
            "went back to Amazon's pool and cannot be got back",
          ) as unknown as string,
        ],
      },
    ],
    [
      'EC2.15 turns back on exactly the settings it turned off',
      () => ec2_15.describeRollback({ subnetId: 'subnet-1', turnedOff: ['MapPublicIpOnLaunch'] }),
      {
        target: 'subnet-1',
        calls: [
          'ec2:ModifySubnetAttribute subnet-1 gives auto-assign public IPv4 address on subnet-1',
        ],
        problems: [],
      },
    ],
    [
      'EC2.18 restores only inbound world-open rules',
      () =>
        ec2_18.describeRollback({
          groupId: GROUP,
          vpcId: 'vpc-1',
          rules: [rule({}), rule({ ruleId: 'sgr-3', egress: true, protocol: '-1' })],
        }),
      {
        target: GROUP,
        calls: [
          `ec2:AuthorizeSecurityGroupIngress ${GROUP} gives sgr-1`,
          `ec2:AuthorizeSecurityGroupEgress ${GROUP} gives sgr-3`,
        ],
        problems: [
          'outbound rule sgr-3: all traffic to 0.0.0.0/0 is not an inbound rule open to the internet, which is all EC2.18 revokes',
        ],
      },
    ],
    [
      'EC2.19 refuses a rule from another group as its source',
      () =>
        ec2_19.describeRollback({
          groupId: GROUP,
          vpcId: 'vpc-1',
          rules: [rule({ cidrIpv4: undefined, referencedGroupId: 'sg-5555555f' })],
        }),
      {
        target: GROUP,
        calls: [`ec2:AuthorizeSecurityGroupIngress ${GROUP} gives sgr-1`],
        problems: [
          'inbound rule sgr-1: tcp 22 from sg-5555555f is not an inbound rule open to the internet, which is all EC2.19 revokes',
        ],
      },
    ],
    [
      'EC2.24 has nothing to roll back',
      () => ec2_24.describeRollback({ instanceId: 'i-0123456789abcdef0' }),
      {
        target: 'i-0123456789abcdef0',
        calls: [],
        problems: [
          'EC2.24 is notify-only: no automatic change exists, so hubfix never applies, verifies or rolls back anything for it',
        ],
      },
    ],
    [
      'ECS.2 updates the service it names, in the cluster its ARN names',
      () =>
        ecs_2.describeRollback({
          cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`,
          service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`,
          network: TASK_SET.network,
        }),
      {
        target: 'prod/api',
        calls: [
          `ecs:UpdateService arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api gives assignPublicIp to DISABLED`,
        ],
        problems: [
          `the recorded cluster arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other is not prod, the cluster its ARN names`,
        ],
      },
    ],
    [
      'ECS.16 creates a twin of the recorded task set, passing its task definition',
      () =>
        ecs_16.describeRollback({
          cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
          service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`,
          taskSet: TASK_SET,
        }),
      {
        target: 'prod/web/ecs-svc/1234567890123456789',
        calls: [
          `ecs:CreateTaskSet arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web gives ecs-svc/1234567890123456789`,
          `ecs:UpdateServicePrimaryTaskSet arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`,
          `ecs:DeleteTaskSet arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`,
        ],
        problems: [],
      },
    ],
    [
      'ECS.16 refuses a recorded service other than the task set ARN names',
      () =>
        ecs_16.describeRollback({
          cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
          service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/admin`,
          taskSet: TASK_SET,
        }),
      expect.objectContaining({
        problems: [
          `the recorded service arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/admin is not web, the service its task set ARN names`,
        ],
      }) as unknown as ReturnType<typeof summary>,
    ],
  ])('%s', (_name, describe, expected) => {
    expect(summary(describe())).toEqual(expected);
  });

  it('shows the exact request, e.g. EC2.1 sharing a snapshot with group "all"', () => {
    const [share] = ec2_1.describeRollback({
      account: ACCOUNT,
      region: REGION,
      snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'],
    }).calls;

    expect(share?.parameters).toEqual({
      SnapshotId: 'snap-0aaaaaaaaaaaaaaa1',
      Attribute: 'createVolumePermission',
      OperationType: 'add',
      GroupNames: ['all'],
    });
  });
});

describe('the lines a change records name what its rollback gives back', () => {
  const ec2 = new EC2Client({ region: REGION });
  const stub = strictMock(ec2);

  beforeEach(() => {
    resetStrict(stub);
  });

  async function roundTrip<State, Before, Params>(
    control: {
      plan(state: State, ctx: never): { kind: string };
      apply(
        state: State,
        plan: ChangePlan<Before>,
        ctx: never,
      ): Promise<{ changes: readonly string[] }>;
      describeRollback(before: Before): RollbackDescription;
    },
    state: State,
    params: Params,
  ) {
    const ctx = findingContext({ ec2 }, params) as never;
    const plan = control.plan(state, ctx) as ChangePlan<Before>;
    const { changes } = await control.apply(state, plan, ctx);
    const { calls } = control.describeRollback(plan.before);
    return { changes, calls };
  }

  it.each<
    [string, () => Promise<{ changes: readonly string[]; calls: RollbackDescription['calls'] }>]
  >([
    [
      'EC2.1',
      async () => {
        stub.on(ModifySnapshotAttributeCommand).resolves({});
        return roundTrip(
          ec2_1,
          {
            account: ACCOUNT,
            region: REGION,
            snapshots: [
              {
                snapshotId: 'snap-0aaaaaaaaaaaaaaa1',
                volumeId: undefined,
                sizeGiB: 8,
                description: undefined,
              },
            ],
            batchSize: 1,
            blockPublicAccess: undefined,
          },
          { blockPublicAccess: 'off' as const },
        );
      },
    ],
    [
      'EC2.2',
      async () => {
        stub.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
        return roundTrip(
          ec2_2,
          { groupId: GROUP, vpcId: 'vpc-1', rules: [rule({})] },
          { strategy: 'empty-if-unused' as const },
        );
      },
    ],
    [
      'EC2.7',
      async () => {
        stub.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
        return roundTrip(ec2_7, { account: ACCOUNT, region: REGION, enabled: false }, {});
      },
    ],
    [
      'EC2.8',
      async () => {
        stub.on(ModifyInstanceMetadataOptionsCommand).resolves({
          InstanceId: 'i-0123456789abcdef0',
          InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required' },
        });
        return roundTrip(
          ec2_8,
          {
            instanceId: 'i-0123456789abcdef0',
            httpTokens: 'optional',
            httpEndpoint: 'enabled',
            hopLimit: 1,
            lifecycle: 'running',
            launchedAt: new Date('2026-01-01T00:00:00Z'),
            stoppedAt: undefined,
          },
          { imdsv1UsageWindowDays: 14 },
        );
      },
    ],
    [
      'EC2.15',
      async () => {
        stub.on(ModifySubnetAttributeCommand).resolves({});
        return roundTrip(
          ec2_15,
          {
            subnetId: 'subnet-1',
            vpcId: 'vpc-1',
            ipv6Native: false,
            on: ['MapPublicIpOnLaunch', 'AssignIpv6AddressOnCreation'],
          },
          {},
        );
      },
    ],
  ])('%s', async (_name, run) => {
    const { changes, calls } = await run();

    expect(calls.some((call) => call.grants)).toBe(true);
    expect(wideningProblems({ changes, stateLeft: undefined }, calls)).toEqual([]);
    expect(wideningProblems({ changes: [], stateLeft: undefined }, calls)).not.toEqual([]);
  });
});

describe('checkRollback reads the live state', () => {
  const ec2 = new EC2Client({ region: REGION });
  const ec2Stub = strictMock(ec2);
  const ecs = new ECSClient({ region: REGION });
  const ecsStub = strictMock(ecs);

  beforeEach(() => {
    resetStrict(ec2Stub);
    resetStrict(ecsStub);
  });

  const elastic = {
    instanceId: 'i-0123456789abcdef0',
    networkInterfaceId: 'eni-1',
    privateIpAddress: '10.0.0.5',
    subnetId: 'subnet-1',
    address: {
      kind: 'elastic' as const,
      publicIp: '203.0.113.5',
      allocationId: 'eipalloc-1',
      associationId: 'eipassoc-1',
      interfaceAutoAssign: 'off' as const,
    },
    subnetAutoAssignTurnedOff: false,
  };

  it.each([
    ['eni-1', []],
    [
      'eni-2',
      ['eni-1 is not the primary network interface of i-0123456789abcdef0 (that is eni-2)'],
    ],
  ])('EC2.9: the interface must still be the primary one (now %s)', async (primary, problems) => {
    ec2Stub.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0123456789abcdef0',
              SubnetId: 'subnet-1',
              NetworkInterfaces: [{ NetworkInterfaceId: primary, Attachment: { DeviceIndex: 0 } }],
            },
          ],
        },
      ],
    });

    expect(await ec2_9.checkRollback?.(elastic, rollbackContext({ ec2 }))).toEqual(problems);
  });

  it.each([
    [TASK_SET.taskDefinition, []],
    [
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:8`,
      [
        `no task set of web runs ${TASK_SET.taskDefinition} (they run arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:8); passing its roles to ECS again is refused`,
      ],
    ],
  ])(
    'ECS.16: some task set of the service must run the recorded task definition (now %s)',
    async (running, problems) => {
      ecsStub.on(DescribeTaskSetsCommand).resolves({
        taskSets: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: running }],
      });

      expect(
        await ecs_16.checkRollback?.(
          {
            cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
            service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`,
            taskSet: TASK_SET,
          },
          rollbackContext({ ecs, ec2 }),
        ),
      ).toEqual(problems);
    },
  );
});
