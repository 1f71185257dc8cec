/**
 * What the bench needs to run one control: a finding, what its live resource
 * answers, and the fewest calls each outcome needs, with the reason.
 */
import type { Clock } from '../lambdas/core/clock';
import { EC2_2_FINDING, type Json, withChanges } from '../test/support/fixtures';
import type { Answers } from './canned';

export interface MinimumCalls {
  /**
   * Calls to the resource's own services that read, change and verify it.
   * The bench adds one finding update and one publish.
   */
  readonly resourceCalls: number;
  readonly why: string;
}

export interface Scenario {
  /** A finding this control handles (ASFF JSON). */
  readonly finding: Record<string, unknown>;
  /**
   * The control's clients' answers, keyed by client (as in createClients)
   * then command name without "Command", for a live resource that needs
   * fixing and whose fix verifies. `tags` are the resource's tags.
   */
  answers(tags: Readonly<Record<string, string>>): Readonly<Record<string, Answers>>;
  /**
   * The clock the control waits on (ctx.clock), for a control that waits or
   * paces its calls: against canned answers a clock whose waits take no time.
   * @default the system clock
   */
  readonly clock?: Clock;
  /** The control's params. @default what its schema fills in for {} */
  readonly params?: unknown;
  readonly provisioned?: Readonly<Record<string, string>>;
  /**
   * Time a real fix spends waiting for AWS to settle (the bench's canned
   * answers settle at once). An assumption, stated in the cost model.
   * @default 0
   */
  readonly typicalWaitSeconds?: number;
  readonly minimum: {
    readonly remediate: MinimumCalls;
    readonly notify: MinimumCalls;
    /**
     * Absent for account-level findings: an account has no tags, so no owner
     * can suppress by tag (the allow-list's accountIds and the mode decide).
     */
    readonly suppress?: MinimumCalls;
  };
}

/**
 * A finding for a control without a fixture of its own: the EC2.2 sample,
 * made about that control and one resource of the bench account and region.
 */
export function findingAbout(
  controlId: string,
  title: string,
  resource: { readonly type: string; readonly arn: string },
  /** @default a bench id in the control's own form */
  id = `arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/${controlId}/finding/bench`,
): Json {
  return withChanges(EC2_2_FINDING, {
    Id: id,
    GeneratorId: `aws-foundational-security-best-practices/v/1.0.0/${controlId}`,
    Title: title,
    'ProductFields.ControlId': controlId,
    Resources: [{ Type: resource.type, Id: resource.arn, Partition: 'aws', Region: 'us-east-1' }],
  });
}

/** Tags as EC2 answers them. */
export const ec2Tags = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Tags as ECS answers them. */
export const ecsTags = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/** Waits that take no time, for canned answers that settle at once. */
export const NO_WAIT_CLOCK: Clock = { now: () => Date.now(), sleep: async () => {} };
