/**
 * EC2.8 — an instance should require IMDSv2 session tokens.
 *
 * Requiring tokens (`HttpTokens=required`) makes every IMDSv1 call fail, so
 * hubfix changes it only on evidence that nothing on the instance makes
 * such calls. The evidence is the instance's CloudWatch metric
 * `MetadataNoToken` (IMDSv1 calls it answered) over the configured window,
 * and it counts only for time the instance was running:
 *
 * - EC2 publishes the metric only while the instance runs, so no data points
 *   for days it was stopped, or before it was launched, say nothing. The
 *   instance must have been running for the whole window: `LaunchTime` is
 *   "the time that the instance was last launched" (EC2 API reference,
 *   Instance), i.e. reset by every start, so a running instance whose
 *   LaunchTime is at or before the start of the window has run throughout
 *   it. `UsageOperationUpdateTime` (when the billing product changed) and
 *   the primary interface's attach time (the first launch) say nothing about
 *   stops since, and a stopped instance's `StateTransitionReason` only
 *   dates its last stop, so neither proves continuous running.
 * - CloudWatch must then have a data point for every day of the window (a
 *   running instance reports 0 when all calls use tokens, per the EC2 User
 *   Guide's metric list): a day without one is absence of data, not
 *   evidence. GetMetricData is read to its last page (`NextToken`), and an
 *   answer whose last page is not `Complete` rules nothing out.
 * - Any IMDSv1 call in the window blocks the change.
 * - An instance whose metadata endpoint is disabled can make no IMDS call at
 *   all, so requiring tokens breaks nothing there and needs no evidence.
 *
 * Only HttpTokens is sent: the endpoint and the hop limit stay exactly as
 * they are (sending `HttpEndpoint=enabled` would switch IMDS on where an
 * owner turned it off).
 *
 * Verification accepts `HttpTokens: required` while EC2 still reports the
 * options as `pending`: EC2 has then accepted and recorded the new value (it
 * is what DescribeInstances, and so AWS Config and Security Hub, read) and
 * only propagation to the host remains, which takes seconds. A value that
 * does not read `required` after verify's backoff fails verification.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import type { Control, VerifyResult } from '../../core/control';
import { describeError, PartialChangeError, RollbackRefusedError } from '../../core/errors';
import { object, oneOf, string } from '../../core/schema';
import { describeInstance } from '../../services/ec2/instances';
import { instanceResource } from '../../services/ec2/resources';
import { tagsOf } from '../../services/ec2/tags';
import { collectAll } from '../../services/paging';
import { verifyEventually } from '../../services/wait';
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
  /** running, stopped, pending... */
  readonly lifecycle: string;
  /** When the instance last started (EC2 resets LaunchTime at every start). */
  readonly launchedAt: Date | undefined;
  /** When a stopped instance stopped, as its StateTransitionReason dates it. */
  readonly stoppedAt: Date | undefined;
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
const METRIC_ID = 'imdsv1';

function isGone(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'InvalidInstanceID.NotFound' || error.name === 'InvalidInstanceID.Malformed')
  );
}

/** "User initiated (2026-11-20 09:12:44 GMT)": the time EC2 gives for a stop. */
export function stoppedAtOf(reason: string | undefined): Date | undefined {
  const match = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason ?? '');
  if (!match) return undefined;
  const at = new Date(`${match[1]}T${match[2]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Whether the instance ran for the whole window, so that its metric can be
 * evidence; when not, the blocker that says how much of it it ran.
 */
export function runningEvidence(
  state: InstanceMetadataState,
  days: number,
  now: number,
): { readonly covered: true } | { readonly covered: false; readonly blocker: string } {
  const id = state.instanceId;
  const windowStart = now - days * DAY_MS;
  const launched = state.launchedAt?.getTime();
  if (launched === undefined) {
    return {
      covered: false,
      blocker: `not enough evidence: EC2 did not report when ${id} last started, so hubfix cannot tell that it ran for the whole ${days} days its MetadataNoToken metric must cover.`,
    };
  }
  if (state.lifecycle !== 'running') {
    const stopped = state.stoppedAt?.getTime();
    const ran =
      stopped === undefined
        ? undefined
        : Math.floor(Math.max(0, stopped - Math.max(launched, windowStart)) / DAY_MS);
    return {
      covered: false,
      blocker: `not enough evidence: ${id} is ${state.lifecycle}, and CloudWatch records MetadataNoToken only while an instance runs${
        ran === undefined ? '' : `; it ran for ${ran} of the last ${days} days`
      }. Software that calls IMDSv1 may simply not have run. Remediate again once it has been running for ${days} days in a row.`,
    };
  }
  if (launched > windowStart) {
    const ran = Math.floor((now - launched) / DAY_MS);
    return {
      covered: false,
      blocker: `not enough evidence: running for ${ran} of the ${days} days. ${id} last started at ${state.launchedAt?.toISOString()} (EC2 resets LaunchTime at every start), and before that CloudWatch has no MetadataNoToken data that could show IMDSv1 calls; no data is not proof that nothing makes them. hubfix can decide from ${day(new Date(launched + days * DAY_MS))} if it keeps running.`,
    };
  }
  return { covered: true };
}

interface MetricReading {
  /** IMDSv1 calls summed over the window. */
  readonly calls: number;
  /** Days of the window with a data point. */
  readonly dataPoints: number;
}

/**
 * MetadataNoToken over the window, one Sum a day, read to the last page.
 * @throws Error when the last page is not Complete and shows no call: a
 *   partial answer with calls in it is proof enough, one without proves nothing.
 */
async function readMetadataNoToken(
  cloudwatch: CloudWatchClient,
  instanceId: string,
  days: number,
  now: number,
): Promise<MetricReading> {
  const results: MetricDataResult[] = await collectAll(async (nextToken) => {
    const page = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: [
          {
            Id: METRIC_ID,
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
        StartTime: new Date(now - days * DAY_MS),
        EndTime: new Date(now),
        NextToken: nextToken,
      }),
    );
    return {
      items: (page.MetricDataResults ?? []).filter((result) => result.Id === METRIC_ID),
      nextToken: page.NextToken,
    };
  });
  const values = results.flatMap((result) => result.Values ?? []);
  const calls = values.reduce((sum, value) => sum + value, 0);
  const status = results.at(-1)?.StatusCode;
  if (calls === 0 && status !== 'Complete') {
    throw new Error(
      `CloudWatch did not return MetadataNoToken for ${instanceId} completely (status ${status ?? 'missing'}); IMDSv1 use cannot be ruled out`,
    );
  }
  return { calls, dataPoints: values.length };
}

function evidenceStep(state: InstanceMetadataState, days: number, now: number): string {
  const id = state.instanceId;
  if (state.httpEndpoint === 'disabled') {
    return `check nothing more: the metadata endpoint of ${id} is disabled, so nothing on it can call IMDS, with or without a token`;
  }
  const rule = `check the evidence that nothing on ${id} calls IMDSv1: it must have been running for the whole ${days} days (LaunchTime, which EC2 resets at every start, at or before ${day(new Date(now - days * DAY_MS))}), and CloudWatch MetadataNoToken must have a data point for each of those days and add up to 0`;
  const running = runningEvidence(state, days, now);
  return running.covered ? rule : `${rule}. Not met now: ${running.blocker}`;
}

export const ec2_8: Control<InstanceMetadataState, Ec2_8Before, Ec2_8Params, Ec2_8Clients> = {
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
    const lifecycle = instance.State?.Name ?? 'unknown';
    return {
      kind: 'found',
      state: {
        instanceId: ref.id,
        httpTokens: options.HttpTokens,
        httpEndpoint: options.HttpEndpoint,
        hopLimit: options.HttpPutResponseHopLimit,
        lifecycle,
        launchedAt: instance.LaunchTime,
        stoppedAt:
          lifecycle === 'stopped' ? stoppedAtOf(instance.StateTransitionReason) : undefined,
      },
      tags: tagsOf(instance.Tags),
    };
  },

  plan(state, { params, clock }) {
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
        evidenceStep(state, params.imdsv1UsageWindowDays, clock.now()),
        `set HttpTokens=required on ${id}; ${endpoint} and the hop limit stays ${state.hopLimit ?? 'as it is'}. From then on IMDSv1 calls (requests without a session token) get HTTP 401`,
        `check with DescribeInstances that ${id} reads HttpTokens=required`,
      ],
      before: { instanceId: id, httpTokens: 'optional' },
      undo: [`aws ec2 modify-instance-metadata-options --instance-id ${id} --http-tokens optional`],
    };
  },

  async preflight(state, { clients: { cloudwatch }, params, clock }) {
    if (state.httpEndpoint === 'disabled') return [];
    const days = params.imdsv1UsageWindowDays;
    const now = clock.now();
    const running = runningEvidence(state, days, now);
    if (!running.covered) return [running.blocker];
    const metric = await readMetadataNoToken(cloudwatch, state.instanceId, days, now);
    if (metric.calls > 0) {
      return [
        `${state.instanceId} answered ${metric.calls} IMDSv1 call(s) in the last ${days} days (CloudWatch MetadataNoToken); requiring IMDSv2 would break the software making them. Update it to use IMDSv2 (current AWS SDKs and the CLI do), then remediate again once the metric stays at 0.`,
      ];
    }
    if (metric.dataPoints < days) {
      return [
        `not enough evidence: ${state.instanceId} ran for the whole ${days} days, but CloudWatch has MetadataNoToken data for only ${metric.dataPoints} of them; days without data could have held IMDSv1 calls, so hubfix does not take them for none.`,
      ];
    }
    return [];
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

  async verify(state, { clients: { ec2 }, log, clock }) {
    return verifyEventually(clock, async (): Promise<VerifyResult> => {
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
    });
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
