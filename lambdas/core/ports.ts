/**
 * The pipeline's ports: what the stages need from the outside world, as
 * interfaces. Stages depend on these; adapters (lambdas/core/adapters/)
 * implement them with injected SDK clients; tests implement them in memory.
 */
import type { Finding, FindingRef, WorkflowStatus } from './finding';
import type { DirectRequest } from './intake/direct';
import type { FindingLookup } from './intake/types';
import type { OutcomeKind } from './report';

/** What to write to a finding. */
export interface FindingUpdate {
  /** Undefined leaves the workflow as it is: the note alone is written. */
  readonly workflow: WorkflowStatus | undefined;
  readonly note: string;
}

/** Security Hub, as the pipeline asks it. */
export interface FindingStore {
  /**
   * The finding as Security Hub holds it now, or undefined when Security Hub
   * does not know it.
   * @throws FindingFetchError when Security Hub could not be asked, or answered something unreadable.
   */
  fetch(lookup: FindingLookup): Promise<Finding | undefined>;
  /** @throws FindingUpdateError when Security Hub did not apply the update. */
  update(ref: FindingRef, update: FindingUpdate): Promise<void>;
}

export interface Notification {
  readonly subject: string;
  readonly message: string;
  readonly attributes: {
    readonly control: string;
    readonly outcome: string;
    readonly severity: string;
  };
}

export interface Notifier {
  /** @throws NotificationError when SNS did not accept the message. */
  publish(notification: Notification): Promise<void>;
}

/** What teams route to Jira, ServiceNow, Slack or PagerDuty with EventBridge rules. */
export interface OutcomeEvent {
  readonly control: string;
  readonly outcome: string;
  readonly decision: string;
  readonly reason: string;
  readonly account: string;
  readonly region: string;
  readonly resource: string;
  readonly resourceType: string;
  readonly findingId: string;
  readonly changeId: string | undefined;
  readonly severity: string;
  readonly request: string;
  readonly via: string;
  readonly workflow: string | undefined;
  readonly drifted: boolean;
}

export interface OutcomePublisher {
  /** @throws OutcomeEventError when EventBridge did not take the event. */
  publish(event: OutcomeEvent): Promise<void>;
}

/** For tests and tools that route no events. */
export const noOutcomeEvents: OutcomePublisher = { async publish() {} };

export interface ChangeRecord {
  readonly changeId: string;
  readonly controlId: string;
  readonly findingId: string;
  readonly resource: string;
  /** Where the resource is: a rollback acts there and nowhere else. */
  readonly account: string;
  readonly region: string;
  readonly summary: string;
  readonly before: unknown;
}

export type ChangeResult =
  | { readonly status: 'REMEDIATED'; readonly changes: readonly string[] }
  | {
      readonly status: 'FAILED';
      readonly changes: readonly string[];
      readonly error: string;
      readonly stateLeft: string;
    };

/** What the ledger notes on an earlier fix that did not hold. */
export interface DriftMark {
  readonly detectedAt: string;
  /** The finding whose resource changed back. */
  readonly findingId: string;
  /** What a fix would have to do again, in the new plan's words. */
  readonly changedBack: string;
  /** The stack (or other IaC) that owns the resource, when its tags say. */
  readonly owner: string | undefined;
  /** What hubfix did this time: REMEDIATED (fixed it again), DRIFTED (left it to a person)... */
  readonly outcome: string;
}

/** Stores what a change will remove before the change is made (the ledger). */
export interface ChangeRecorder {
  /** @throws when the before-state could not be stored; the change is then not made. */
  recordBefore(record: ChangeRecord): Promise<void>;
  recordResult(changeId: string, result: ChangeResult): Promise<void>;
  /** Notes on an earlier change that what it fixed changed back (the first time it is seen). */
  markDrifted(changeId: string, mark: DriftMark): Promise<void>;
}

export interface MetricsPort {
  count(name: string): void;
  /** A duration, in milliseconds. */
  timing(name: string, milliseconds: number): void;
}

export type OnceResult<T> =
  | { readonly kind: 'ran' | 'replayed'; readonly value: T }
  /** The same work is running elsewhere right now; this delivery does nothing. */
  | { readonly kind: 'in-progress' };

/**
 * Runs work once per key. A repeat gets the first run's result; when the work
 * throws, nothing is remembered, so a retry runs it again.
 */
export interface OnceGuard {
  run<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>>;
  /** Lets in-progress records expire with the invocation that holds them. */
  registerLambdaContext?(context: { getRemainingTimeInMillis(): number }): void;
}

/** For tests and tools that want every delivery handled. */
export const everyTime: OnceGuard = {
  async run(_key, work) {
    return { kind: 'ran', value: await work() };
  },
};

/** Hands findings to another invocation of this function. */
export interface Requeue {
  /** @throws RequeueError when the request could not be handed on. */
  send(request: DirectRequest): Promise<void>;
}

export interface ResourceLease {
  /** @returns whether the lease is now held by `holder`, until `until` at the latest. */
  acquire(key: string, holder: string, until: Date): Promise<boolean>;
  /** Gives the lease up, if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
}

/** For tests and tools that run one invocation at a time. */
export const noLease: ResourceLease = {
  async acquire() {
    return true;
  },
  async release() {},
};

/** What hubfix last did with one finding. */
export interface HistoryEntry {
  readonly lastOutcome: OutcomeKind;
  /** Why, in the decision's words: a sweep that would say the same again says nothing. */
  readonly lastReason: string;
  readonly lastAt: string;
  readonly lastChangeId: string | undefined;
  /** Verified fixes of this finding's resource, counting every one. */
  readonly fixes: number;
  readonly lastFixAt: string | undefined;
  readonly lastFixChangeId: string | undefined;
  /** The last fix covered only part of the resource; more of it was handed on. */
  readonly continuing: boolean;
  /** The workflow hubfix last set, when it set one. */
  readonly workflowSet: WorkflowStatus | undefined;
}

/** Where hubfix remembers what it did with each finding. */
export interface FindingHistory {
  get(controlId: string, findingKey: string): Promise<HistoryEntry | undefined>;
  put(controlId: string, findingKey: string, entry: HistoryEntry): Promise<void>;
}

/** For tests and tools that need no memory. */
export const noHistory: FindingHistory = {
  async get() {
    return undefined;
  },
  async put() {},
};

/** Where a resource is: the account and region a control's clients must act in. */
export interface Place {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
}

/**
 * A control's SDK clients for the account and region of a finding's
 * resource: the function's own in single-account mode, clients with a
 * member role's credentials in org mode.
 */
export interface MemberAccess<Clients> {
  /** @throws MemberAccessError when the member role cannot be assumed. */
  clientsFor(place: Place): Promise<Clients>;
}

/** Single-account mode: the function's own clients, wherever trust let the finding through. */
export function localAccess<Clients>(clients: Clients): MemberAccess<Clients> {
  return {
    async clientsFor() {
      return clients;
    },
  };
}

/** Org mode's per-account blast radius: changes per account per hour. */
export interface ChangeBudget {
  /**
   * Takes one change from the account's budget for the current hour.
   * @returns `taken`, or `spent` with how many changes the hour allows.
   */
  take(
    account: string,
  ): Promise<{ readonly kind: 'taken' } | { readonly kind: 'spent'; readonly limit: number }>;
}

/** Single-account mode: no budget. */
export const unlimitedChanges: ChangeBudget = {
  async take() {
    return { kind: 'taken' };
  },
};
