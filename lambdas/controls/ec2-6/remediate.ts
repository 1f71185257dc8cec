/**
 * EC2.6 — every VPC should have flow logging on.
 *
 * An active flow log that records rejected traffic (type REJECT or ALL)
 * already satisfies the control, whoever made it and wherever it delivers.
 * Otherwise hubfix creates the CloudWatch Logs group
 * `/hubfix/vpc-flow-logs/<vpc-id>` (reusing it if it exists) with the
 * configured retention, and a flow log into it, delivered by the role
 * provisioned for this control in the VPC's account: the stack's, or in org
 * mode the one the member roles' StackSet made in every member account
 * (the VPC User Guide: "The IAM role must belong to your AWS account").
 * CreateFlowLogs takes "a new or existing" group, but a group the delivery
 * role made would keep records forever; hubfix makes it first, with the
 * retention, so the delivery role needs no logs:CreateLogGroup.
 *
 * The log group is part of the end state, not a temporary resource: if the
 * flow log cannot be created, the (empty) group stays and the next attempt
 * reuses it, which needs no delete permission. A rollback deletes only the
 * flow log hubfix created and keeps the group and the records in it.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateFlowLogsCommand,
  type CreateFlowLogsCommandOutput,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  DescribeVpcsCommand,
  type DescribeVpcsCommandOutput,
  EC2Client,
  type Filter,
  type UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { type Control, foundAtRunTime, type Provisioned } from '../../core/control';
import { ConfigurationError, describeError, PartialChangeError } from '../../core/errors';
import { roleArn } from '../../core/organization';
import { array, integer, object, oneOf, string } from '../../core/schema';
import { vpcResource } from '../../services/ec2/resources';
import { tagsOf } from '../../services/ec2/tags';
import { collectAll } from '../../services/paging';
import { verifyEventually } from '../../services/wait';
import {
  DELIVERY_ROLE_KEY,
  DELIVERY_ROLE_NAME_KEY,
  EC2_6_TRAFFIC_TYPES,
  type Ec2_6Params,
  ec2_6Meta,
  FLOW_LOG_GROUP_PREFIX,
} from './meta';

export interface Ec2_6Clients {
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
}

export interface FlowLogRecord {
  readonly flowLogId: string;
  readonly status: string | undefined;
  readonly trafficType: string | undefined;
  /** A log group name or a destination ARN. */
  readonly destination: string | undefined;
}

export interface VpcFlowLogState {
  readonly vpcId: string;
  /** The VPC's account and partition, where its flow log's delivery role must be. */
  readonly account: string;
  readonly partition: string;
  readonly flowLogs: readonly FlowLogRecord[];
}

export const ec2_6Before = object({
  vpcId: string({ pattern: /^vpc-[0-9a-f]{8,17}$/, patternName: 'a VPC id' }),
  logGroupName: string({ minLength: 1 }),
  trafficType: oneOf(EC2_6_TRAFFIC_TYPES),
  retentionDays: integer({ min: 1 }),
  /** Flow logs of the VPC before the change; a rollback never deletes these. */
  existingFlowLogIds: array(string({ minLength: 1 })),
});

export interface Ec2_6Before {
  readonly vpcId: string;
  readonly logGroupName: string;
  readonly trafficType: (typeof EC2_6_TRAFFIC_TYPES)[number];
  readonly retentionDays: number;
  readonly existingFlowLogIds: readonly string[];
}

export { DELIVERY_ROLE_KEY, DELIVERY_ROLE_NAME_KEY } from './meta';

/**
 * The delivery role in the VPC's own account: flow logs take a role of the
 * account they are made in. In org mode the function is told the role's
 * name (the same in every member account), never the central account's
 * role; in single-account mode the stack's role, in the only account there is.
 */
function deliveryRoleOf(
  provisioned: Provisioned,
  vpc: Pick<VpcFlowLogState, 'account' | 'partition'>,
): string | undefined {
  const name = provisioned[DELIVERY_ROLE_NAME_KEY];
  return name ? roleArn(vpc.partition, vpc.account, name) : provisioned[DELIVERY_ROLE_KEY];
}

const NOT_PROVISIONED = `HUBFIX_PROVISIONED has neither ${DELIVERY_ROLE_KEY} nor ${DELIVERY_ROLE_NAME_KEY}`;

function hasName(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

export function flowLogGroupName(vpcId: string): string {
  return `${FLOW_LOG_GROUP_PREFIX}${vpcId}`;
}

/** Active and recording rejected traffic: what EC2.6 asks for. */
function satisfiesControl(flowLog: FlowLogRecord): boolean {
  return (
    flowLog.status === 'ACTIVE' &&
    (flowLog.trafficType === 'REJECT' || flowLog.trafficType === 'ALL')
  );
}

function describeFlowLog(flowLog: FlowLogRecord): string {
  return `${flowLog.flowLogId} (${flowLog.status ?? 'status unknown'}, ${flowLog.trafficType ?? '?'} traffic to ${flowLog.destination ?? '?'})`;
}

/** A filtered describe: every page is read, an empty one with a token included. */
async function listFlowLogs(ec2: EC2Client, filters: Filter[]): Promise<FlowLogRecord[]> {
  return collectAll(async (nextToken) => {
    const page = await ec2.send(
      new DescribeFlowLogsCommand({ Filter: filters, NextToken: nextToken }),
    );
    return {
      items: (page.FlowLogs ?? []).flatMap((flowLog) =>
        flowLog.FlowLogId
          ? [
              {
                flowLogId: flowLog.FlowLogId,
                status: flowLog.FlowLogStatus,
                trafficType: flowLog.TrafficType,
                destination: flowLog.LogGroupName ?? flowLog.LogDestination,
              },
            ]
          : [],
      ),
      nextToken: page.NextToken,
    };
  });
}

function byVpc(vpcId: string): Filter[] {
  return [{ Name: 'resource-id', Values: [vpcId] }];
}

function unsuccessful(items: readonly UnsuccessfulItem[]): string {
  return items
    .map((item) =>
      `${item.ResourceId ?? '?'}: ${item.Error?.Code ?? '?'} ${item.Error?.Message ?? ''}`.trim(),
    )
    .join('; ');
}

export const ec2_6: Control<VpcFlowLogState, Ec2_6Before, Ec2_6Params, Ec2_6Clients> = {
  ...ec2_6Meta,
  resource: vpcResource(),
  before: ec2_6Before,

  createClients: (options) => ({
    ec2: new EC2Client(options),
    logs: new CloudWatchLogsClient(options),
  }),

  async readState(ref, { clients: { ec2 } }) {
    let response: DescribeVpcsCommandOutput;
    try {
      response = await ec2.send(new DescribeVpcsCommand({ VpcIds: [ref.id] }));
    } catch (error) {
      if (hasName(error, 'InvalidVpcID.NotFound', 'InvalidVpcID.Malformed')) {
        return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
      }
      throw error;
    }
    const vpc = response.Vpcs?.[0];
    if (!vpc) return { kind: 'not-applicable', reason: `${ref.id} no longer exists` };
    return {
      kind: 'found',
      state: {
        vpcId: ref.id,
        account: ref.account,
        partition: ref.partition,
        flowLogs: await listFlowLogs(ec2, byVpc(ref.id)),
      },
      tags: tagsOf(vpc.Tags),
    };
  },

  plan(state, ctx) {
    const { vpcId, flowLogs } = state;
    const covering = flowLogs.find(satisfiesControl);
    if (covering) {
      return {
        kind: 'compliant',
        summary: `${vpcId} already has flow log ${describeFlowLog(covering)}`,
      };
    }
    const { trafficType, logRetentionDays } = ctx.params;
    const logGroupName = flowLogGroupName(vpcId);
    const role = deliveryRoleOf(ctx.provisioned, state) ?? '(not provisioned)';
    const others = flowLogs.map(describeFlowLog);
    return {
      kind: 'change',
      summary: `turn on flow logs (${trafficType}) for ${vpcId} into CloudWatch Logs group ${logGroupName}`,
      steps: [
        `create the CloudWatch Logs group ${logGroupName} unless it exists, and set its retention to ${logRetentionDays} days`,
        `create a flow log for ${vpcId} recording ${trafficType} traffic into ${logGroupName}, delivered by the role hubfix made for it (${role}). CloudWatch Logs charges for the records ingested and stored`,
        ...(others.length > 0
          ? [`leave the VPC's other flow logs as they are: ${others.join(', ')}`]
          : []),
        `check with DescribeFlowLogs that ${vpcId} has an active flow log`,
      ],
      before: {
        vpcId,
        logGroupName,
        trafficType,
        retentionDays: logRetentionDays,
        existingFlowLogIds: flowLogs.map((f) => f.flowLogId),
      },
      undo: [
        `aws ec2 delete-flow-logs --flow-log-ids $(aws ec2 describe-flow-logs --filter Name=resource-id,Values=${vpcId} Name=log-group-name,Values=${logGroupName} --query 'FlowLogs[].FlowLogId' --output text)`,
        `aws logs delete-log-group --log-group-name ${logGroupName}  # only if its records are no longer wanted`,
      ],
    };
  },

  async preflight(state, ctx) {
    return deliveryRoleOf(ctx.provisioned, state)
      ? []
      : [
          `the stack did not provision the flow-log delivery role (${NOT_PROVISIONED}); deploy hubfix again so the EC2.6 function gets it`,
        ];
  },

  async apply(state, plan, ctx) {
    const { ec2, logs } = ctx.clients;
    const { vpcId, logGroupName, trafficType, retentionDays } = plan.before;
    const deliveryRoleArn = deliveryRoleOf(ctx.provisioned, state);
    if (!deliveryRoleArn) {
      throw new ConfigurationError('the function environment', [
        { path: 'HUBFIX_PROVISIONED', message: NOT_PROVISIONED },
      ]);
    }
    const changes: string[] = [];

    let created: boolean;
    try {
      await logs.send(new CreateLogGroupCommand({ logGroupName }));
      created = true;
      changes.push(`created log group ${logGroupName}`);
    } catch (error) {
      if (!hasName(error, 'ResourceAlreadyExistsException')) {
        throw new PartialChangeError(
          `creating log group ${logGroupName} failed: ${describeError(error)}`,
          'unchanged: no log group and no flow log was created',
          { cause: error },
        );
      }
      created = false;
      changes.push(`log group ${logGroupName} already existed; reused it`);
    }
    const group = `log group ${logGroupName} ${created ? 'was created (empty)' : 'already existed'}`;

    try {
      await logs.send(
        new PutRetentionPolicyCommand({ logGroupName, retentionInDays: retentionDays }),
      );
      changes.push(`set the retention of ${logGroupName} to ${retentionDays} days`);
    } catch (error) {
      throw new PartialChangeError(
        `setting the retention of ${logGroupName} failed: ${describeError(error)}`,
        `${group}, its retention was not set; no flow log was created`,
        { cause: error },
      );
    }

    const noFlowLog = `${group} with a retention of ${retentionDays} days; no flow log was created`;
    let response: CreateFlowLogsCommandOutput;
    try {
      response = await ec2.send(
        new CreateFlowLogsCommand({
          ResourceIds: [vpcId],
          ResourceType: 'VPC',
          TrafficType: trafficType,
          LogDestinationType: 'cloud-watch-logs',
          LogGroupName: logGroupName,
          DeliverLogsPermissionArn: deliveryRoleArn,
        }),
      );
    } catch (error) {
      throw new PartialChangeError(
        `creating the flow log for ${vpcId} failed: ${describeError(error)}`,
        noFlowLog,
        { cause: error },
      );
    }
    // CreateFlowLogs answers 200 and lists per-resource failures instead.
    const flowLogIds = response.FlowLogIds ?? [];
    const rejected = response.Unsuccessful ?? [];
    const existed = rejected.some((item) => item.Error?.Code === 'FlowLogAlreadyExists');
    const failed = rejected.filter((item) => item.Error?.Code !== 'FlowLogAlreadyExists');
    if (failed.length > 0 || (flowLogIds.length === 0 && !existed)) {
      throw new PartialChangeError(
        `creating the flow log for ${vpcId} failed: ${
          failed.length > 0 ? unsuccessful(failed) : 'EC2 returned no flow log id'
        }`,
        noFlowLog,
      );
    }
    if (existed) changes.push(`a flow log of ${vpcId} with these settings already existed`);
    for (const id of flowLogIds) {
      changes.push(
        `created flow log ${id} for ${vpcId} (${trafficType} traffic into ${logGroupName})`,
      );
    }
    return { changes };
  },

  async verify(state, { clients: { ec2 }, clock }) {
    return verifyEventually(clock, async () => {
      const flowLogs = await listFlowLogs(ec2, byVpc(state.vpcId));
      return flowLogs.some(satisfiesControl)
        ? { ok: true }
        : {
            ok: false,
            reason: `${state.vpcId} has no active flow log recording rejected traffic${
              flowLogs.length > 0 ? ` (found: ${flowLogs.map(describeFlowLog).join(', ')})` : ''
            }`,
          };
    });
  },

  describeRollback(before) {
    const { vpcId, logGroupName, existingFlowLogIds } = before;
    const expected = flowLogGroupName(vpcId);
    return {
      target: { resourceId: vpcId },
      calls: [
        {
          service: 'ec2',
          action: 'DeleteFlowLogs',
          resource: vpcId,
          parameters: {
            FlowLogIds: foundAtRunTime(
              `the flow logs of ${vpcId} into ${logGroupName}${
                existingFlowLogIds.length > 0 ? `, except ${existingFlowLogIds.join(', ')}` : ''
              }`,
            ),
          },
          when: 'only if there are any',
        },
      ],
      // EC2.6 only ever creates flow logs into its own group, so a rollback
      // must never delete flow logs into any other (someone's audit logs).
      problems:
        logGroupName === expected
          ? []
          : [`EC2.6 creates flow logs into ${expected} only, not into ${logGroupName}`],
    };
  },

  async rollback(before, { clients: { ec2 } }) {
    const { vpcId, logGroupName, existingFlowLogIds } = before;
    const ours = (
      await listFlowLogs(ec2, [...byVpc(vpcId), { Name: 'log-group-name', Values: [logGroupName] }])
    )
      .map((f) => f.flowLogId)
      .filter((id) => !existingFlowLogIds.includes(id));
    const kept = `kept log group ${logGroupName} and the records in it (remove them by hand with: aws logs delete-log-group --log-group-name ${logGroupName})`;
    if (ours.length === 0) {
      return [`no flow log of hubfix's is left on ${vpcId}; nothing to delete`, kept];
    }
    const response = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: ours }));
    const failed = (response.Unsuccessful ?? []).filter(
      (item) => item.Error?.Code !== 'InvalidFlowLogId.NotFound',
    );
    if (failed.length > 0) {
      const failedIds = new Set(failed.map((item) => item.ResourceId));
      const deleted = ours.filter((id) => !failedIds.has(id));
      throw new PartialChangeError(
        `deleting flow logs of ${vpcId} failed: ${unsuccessful(failed)}`,
        `deleted: ${deleted.join(', ') || 'none'}; still present: ${[...failedIds].join(', ')}`,
      );
    }
    return [...ours.map((id) => `deleted flow log ${id} of ${vpcId}`), kept];
  },
};
