/**
 * What the bench needs to run one control: a finding, what its live resource
 * answers, and the fewest calls each outcome needs, with the reason.
 */
import type { Control } from '../lambdas/core/control';
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
   * The control to run, when it needs something the default instance lacks
   * (a clock whose waits take no time against canned answers).
   * @default the control the registry loads
   */
  readonly control?: () => Control<unknown, unknown, unknown, object>;
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
