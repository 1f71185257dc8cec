/**
 * EC2.8 — an instance should require IMDSv2 session tokens.
 *
 * Requiring tokens (`HttpTokens=required`) makes every IMDSv1 call fail, so
 * hubfix first looks at the instance's CloudWatch metric `MetadataNoToken`
 * (IMDSv1 calls it answered): any call in the configured window blocks the
 * change, because something on the instance would break. Only HttpTokens is
 * sent: the endpoint and the hop limit stay exactly as they are (sending
 * `HttpEndpoint=enabled` would switch IMDS on where an owner turned it off).
 *
 * Verification accepts `HttpTokens: required` while EC2 still reports the
 * options as `pending`: EC2 has then accepted and recorded the new value (it
 * is what DescribeInstances, and so AWS Config and Security Hub, read) and
 * only propagation to the host remains, which takes seconds. Waiting for
 * `applied` would cost repeated describes and Lambda time and prove nothing
 * more about what hubfix asked for; a value that does not read `required`
 * fails verification.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import { describeError, PartialChangeError, RollbackRefusedError } from '../../core/errors';
import { object, oneOf, string } from '../../core/schema';
import { describeInstance } from '../../services/ec2/instances';
import { instanceResource } from '../../services/ec2/resources';
import { tagsOf } from '../../services/ec2/tags';
import { type Ec2_8Params, ec2_8Meta } from './meta';

export interface Ec2_8Clients {
  readonly ec2: EC2Client;
  readonly cloudwatch: CloudWatchClient;
}

export interface InstanceMetadataState {
  readonly instanceId: string;
  /** `optional` or `required`. */
  readonly httpTokens: string;
  /** `enabled` or `disabled`; left as it is. */
  readonly httpEndpoint: string | undefined;
  /** Left as it is. */
  readonly hopLimit: number | undefined;
}

export const ec2_8Before = object({
  instanceId: string({ pattern: /^i-[0-9a-f]{8,17}$/, patternName: 'an instance id' }),
  /** HttpTokens before hubfix required tokens. */
  httpTokens: oneOf(['optional'] as const),
});

export interface Ec2_8Before {
  readonly instanceId: string;
  readonly httpTokens: 'optional';
}

const DAY_MS = 86_400_000;

function isGone(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'InvalidInstanceID.NotFound' || error.name === 'InvalidInstanceID.Malformed')
  );
}

/**
 * The sum of `MetadataNoToken` over the window, one data point a day, in one
 * call. No data points (a stopped instance) reads as no IMDSv1 call.
 */
async function imdsv1Calls(
  cloudwatch: CloudWatchClient,
  instanceId: string,
  days: number,
  now: Date,
): Promise<number> {
  const response = await cloudwatch.send(
    new GetMetricDataCommand({
      MetricDataQueries: [
        {
          Id: 'imdsv1',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/EC2',
              MetricName: 'MetadataNoToken',
              Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
            },
            Period: 86_400,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(now.getTime() - days * DAY_MS),
      EndTime: now,
    }),
  );
  const result = response.MetricDataResults?.[0];
  const calls = (result?.Values ?? []).reduce((sum, value) => sum + value, 0);
  // A partial answer with calls in it is still proof of IMDSv1 use; without
  // any, it proves nothing, and a missing answer must not read as "unused".
  if (calls === 0 && result?.StatusCode !== 'Complete') {
    throw new Error(
      `CloudWatch did not return MetadataNoToken for ${instanceId} completely (status ${result?.StatusCode ?? 'missing'}); IMDSv1 use cannot be ruled out`,
    );
  }
  return calls;
}

/** The control with an injectable clock, so the metric window is deterministic in tests. */
export function createEc2_8(
  now: () => Date = () => new Date(),
): Control<InstanceMetadataState, Ec2_8Before, Ec2_8Params, Ec2_8Clients> {
  return {
    ...ec2_8Meta,
    resource: instanceResource(),
    before: ec2_8Before,

    createClients: (options) => ({
      ec2: new EC2Client(options),
      cloudwatch: new CloudWatchClient(options),
    }),

    async readState(ref, { clients: { ec2 } }) {
      const instance = await describeInstance(ec2, ref.id);
      if (!instance) {
        return { kind: 'not-applicable', reason: `${ref.id} no longer exists or is terminated` };
      }
      const options = instance.MetadataOptions;
      if (!options?.HttpTokens) {
        throw new Error(`EC2 did not report the metadata options of ${ref.id}`);
      }
      return {
        kind: 'found',
        state: {
          instanceId: ref.id,
          httpTokens: options.HttpTokens,
          httpEndpoint: options.HttpEndpoint,
          hopLimit: options.HttpPutResponseHopLimit,
        },
        tags: tagsOf(instance.Tags),
      };
    },

    plan(state, { params }) {
      const id = state.instanceId;
      if (state.httpTokens === 'required') {
        return {
          kind: 'compliant',
          summary: `${id} already requires IMDSv2 (HttpTokens=required)`,
        };
      }
      const endpoint =
        state.httpEndpoint === 'disabled'
          ? 'the metadata endpoint stays disabled'
          : 'the metadata endpoint stays enabled';
      return {
        kind: 'change',
        summary: `require IMDSv2 on ${id} (HttpTokens ${state.httpTokens} → required)`,
        steps: [
          `check that CloudWatch MetadataNoToken for ${id} is 0 over the last ${params.imdsv1UsageWindowDays} days, i.e. nothing on it still calls IMDSv1`,
          `set HttpTokens=required on ${id}; ${endpoint} and the hop limit stays ${state.hopLimit ?? 'as it is'}. From then on IMDSv1 calls (requests without a session token) get HTTP 401`,
          `check with DescribeInstances that ${id} reads HttpTokens=required`,
        ],
        before: { instanceId: id, httpTokens: 'optional' },
        undo: [
          `aws ec2 modify-instance-metadata-options --instance-id ${id} --http-tokens optional`,
        ],
      };
    },

    async preflight(state, { clients: { cloudwatch }, params }) {
      const days = params.imdsv1UsageWindowDays;
      const calls = await imdsv1Calls(cloudwatch, state.instanceId, days, now());
      if (calls === 0) return [];
      return [
        `${state.instanceId} answered ${calls} IMDSv1 call(s) in the last ${days} days (CloudWatch MetadataNoToken); requiring IMDSv2 would break the software making them. Update it to use IMDSv2 (current AWS SDKs and the CLI do), then remediate again once the metric stays at 0.`,
      ];
    },

    async apply(state, plan, { clients: { ec2 } }) {
      const id = plan.before.instanceId;
      let reported: string | undefined;
      try {
        const response = await ec2.send(
          new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required' }),
        );
        reported = response.InstanceMetadataOptions?.State;
      } catch (error) {
        throw new PartialChangeError(
          `requiring IMDSv2 on ${id} failed: ${describeError(error)}`,
          `unchanged: HttpTokens is still ${state.httpTokens}`,
          { cause: error },
        );
      }
      return {
        changes: [
          `set HttpTokens=required on ${id} (was ${plan.before.httpTokens}); EC2 reports the metadata options as ${reported ?? 'accepted'}`,
        ],
      };
    },

    async verify(state, { clients: { ec2 }, log }) {
      const instance = await describeInstance(ec2, state.instanceId);
      if (!instance) return { ok: false, reason: `${state.instanceId} no longer exists` };
      const options = instance.MetadataOptions;
      if (options?.HttpTokens !== 'required') {
        return {
          ok: false,
          reason: `${state.instanceId} reads HttpTokens=${options?.HttpTokens ?? 'missing'}, not required`,
        };
      }
      if (options.State === 'pending') {
        log.info('HttpTokens reads required; EC2 is still applying it to the host', {
          instanceId: state.instanceId,
        });
      }
      return { ok: true };
    },

    describeRollback({ instanceId, httpTokens }) {
      return {
        target: { resourceId: instanceId },
        calls: [
          {
            service: 'ec2',
            action: 'ModifyInstanceMetadataOptions',
            resource: instanceId,
            parameters: { InstanceId: instanceId, HttpTokens: httpTokens },
            grants: { what: `${instanceId} answers IMDSv1 calls again`, removed: instanceId },
          },
        ],
      };
    },

    async rollback(before, { clients: { ec2 } }) {
      try {
        await ec2.send(
          new ModifyInstanceMetadataOptionsCommand({
            InstanceId: before.instanceId,
            HttpTokens: before.httpTokens,
          }),
        );
      } catch (error) {
        if (isGone(error)) {
          throw new RollbackRefusedError(
            `${before.instanceId} no longer exists, so there is nothing to restore`,
            { cause: error },
          );
        }
        throw error;
      }
      return [
        `set HttpTokens=${before.httpTokens} on ${before.instanceId} again: it accepts IMDSv1 calls once more`,
      ];
    },
  };
}

export const ec2_8 = createEc2_8();
