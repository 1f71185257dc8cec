/**
 * The contract a control module fulfils. A control knows only its resource:
 * how to read it, what would block a change, what the change is, how to make
 * it, check it and undo it. Parsing, policy, finding updates, notifications,
 * metrics and the ledger belong to the pipeline and are written once.
 */
import type { AwsClientOptions } from './aws';
import type { Clock } from './clock';
import type { Deadline } from './deadline';
import { ConfigurationError } from './errors';
import type { Finding } from './finding';
import type { ResourceRef, ResourceSpec } from './resource';
import type { ObjectSchema, Schema } from './schema';

/** The slice of a logger controls may use; Powertools' Logger satisfies it. */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export type Tags = Readonly<Record<string, string>>;

export type ReadResult<State> =
  | { readonly kind: 'found'; readonly state: State; readonly tags: Tags }
  /** The live resource is not what the control is about (or is gone): nothing to do. */
  | { readonly kind: 'not-applicable'; readonly reason: string };

export type Plan<Before> =
  | { readonly kind: 'compliant'; readonly summary: string }
  | ChangePlan<Before>;

export interface ChangePlan<Before> {
  readonly kind: 'change';
  /** One line a person can scan, e.g. "revoke 3 rules from sg-1 (default group of vpc-2)". */
  readonly summary: string;
  /** Each step, in order, in plain words. */
  readonly steps: readonly string[];
  /** What the change removes or replaces: stored before the change so it can be undone. */
  readonly before: Before;
  /** How to undo it by hand; empty when `irreversible` explains why it cannot be. */
  readonly undo: readonly string[];
  /** Set when part of the change cannot be undone, saying which part and why. */
  readonly irreversible?: string;
  /**
   * Set when the plan covers only part of what is wrong, because the rest
   * cannot be done within one invocation (thousands of snapshots, say): says
   * what is left, in words. The pipeline applies and verifies this part,
   * records it as its own change, and hands the finding to another
   * invocation for the next part.
   */
  readonly remaining?: string;
}

export interface ApplyResult {
  /** What was changed, one line per change. */
  readonly changes: readonly string[];
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Names and ARNs of resources the stack made for a control (for example the
 * role VPC flow logs deliver with), keyed as the registry's `provision` says.
 */
export type Provisioned = Readonly<Record<string, string>>;

export interface FindingContext<Clients, Params> {
  readonly clients: Clients;
  readonly params: Params;
  readonly finding: Finding;
  readonly log: Log;
  readonly provisioned: Provisioned;
  /**
   * When this invocation's time runs out (less what the pipeline needs after
   * the control returns). A control that waits starts no step it cannot
   * finish, cleanup included.
   */
  readonly deadline: Deadline;
  /** What a control waits on (verify's backoff, a task set settling). */
  readonly clock: Clock;
}

export interface RollbackContext<Clients> {
  readonly clients: Clients;
  readonly log: Log;
  readonly provisioned: Provisioned;
  /**
   * What a rollback that waits (ECS.16's task set) waits on.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A value of a rollback call that is known only when the rollback runs (the
 * ids of flow logs hubfix created, say), described in words.
 */
export interface FoundAtRunTime {
  readonly foundAtRunTime: string;
}

export function foundAtRunTime(what: string): FoundAtRunTime {
  return { foundAtRunTime: what };
}

export function isFoundAtRunTime(value: unknown): value is FoundAtRunTime {
  return (
    typeof value === 'object' &&
    value !== null &&
    'foundAtRunTime' in value &&
    typeof value.foundAtRunTime === 'string'
  );
}

/** Access a rollback call gives back, which the change must have taken away. */
export interface RollbackGrant {
  /** What is given back, in words, e.g. `group "all" may create volumes from snap-1`. */
  readonly what: string;
  /**
   * A token (a snapshot id, a rule id...) that the entry's recorded changes
   * name when the change really removed this; without it the grant is refused.
   */
  readonly removed: string;
}

/** One AWS call a rollback may make, as shown to the operator before it runs. */
export interface RollbackCall {
  /** The SDK client's service, e.g. `ec2`, `ecs`. */
  readonly service: string;
  /** The API action, e.g. `AuthorizeSecurityGroupIngress`. */
  readonly action: string;
  /** The id of the resource the call acts on. */
  readonly resource: string;
  /** The request as sent; values known only at run time are {@link FoundAtRunTime}. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Set when the call is made only under a condition, saying which. */
  readonly when?: string;
  /** Set when the call gives back access (a public snapshot, an open rule, a role). */
  readonly grants?: RollbackGrant;
}

/**
 * What a before-state's rollback acts on and every mutating call it may make.
 * `target` must be the ledger entry's own resource; `problems` lists what in
 * the before-state a genuine change of this control could not have recorded
 * (a rule of another group, an outbound rule for an inbound-only control).
 */
export interface RollbackDescription {
  readonly target: {
    /** The id the control's resource spec gives the entry's resource (`sg-1`, an account id...). */
    readonly resourceId: string;
    /** Set when the before-state names the account itself. */
    readonly account?: string;
    /** Set when the before-state names the region itself. */
    readonly region?: string;
  };
  readonly calls: readonly RollbackCall[];
  /** @default none */
  readonly problems?: readonly string[];
}

/** @throws ConfigurationError when the stack did not provision `key` for this control. */
export function provisionedValue(ctx: { readonly provisioned: Provisioned }, key: string): string {
  const value = ctx.provisioned[key];
  if (!value) {
    throw new ConfigurationError('the function environment', [
      {
        path: `HUBFIX_PROVISIONED.${key}`,
        message: 'is required by this control but was not provisioned',
      },
    ]);
  }
  return value;
}

export interface Control<State, Before, Params, Clients> {
  /** Security Hub control id, e.g. "EC2.2". */
  readonly id: string;
  readonly title: string;
  readonly resource: ResourceSpec;
  /** The control's own settings in remediation.config.json. */
  readonly params: ObjectSchema<Params>;
  /** Validates a before-state read back from the ledger before a rollback uses it. */
  readonly before: Schema<Before>;
  /** No automatic fix exists: the control only ever notifies. */
  readonly notifyOnly: boolean;
  /**
   * How many of its findings one invocation handles; the pipeline hands the
   * rest of a batch to further invocations. For controls whose fix waits for
   * minutes (ECS.16's task set replacement).
   * @default no limit
   */
  readonly findingsPerInvocation?: number;

  createClients(options: AwsClientOptions): Clients;
  /** Live state and tags; never the finding's copy. */
  readState(ref: ResourceRef, ctx: FindingContext<Clients, Params>): Promise<ReadResult<State>>;
  /** Pure: what would change, or that nothing needs to. */
  plan(state: State, ctx: FindingContext<Clients, Params>): Plan<Before>;
  /** Reasons not to change the resource now; empty when it is safe to go on. */
  preflight(state: State, ctx: FindingContext<Clients, Params>): Promise<readonly string[]>;
  /** @throws PartialChangeError when it stops part-way, saying what state it left. */
  apply(
    state: State,
    plan: ChangePlan<Before>,
    ctx: FindingContext<Clients, Params>,
  ): Promise<ApplyResult>;
  verify(state: State, ctx: FindingContext<Clients, Params>): Promise<VerifyResult>;
  /**
   * Pure: the resource a recorded before-state acts on and the mutating calls
   * its rollback may make. The CLI shows them, checks them against the ledger
   * entry, and lets the rollback make no other mutating call.
   */
  describeRollback(before: Before): RollbackDescription;
  /**
   * Read-only checks of the live state before a rollback (the network
   * interface is still the instance's primary one, say); returns reasons to
   * refuse, empty when it is safe to go on.
   * @default no live checks
   */
  checkRollback?(before: Before, ctx: RollbackContext<Clients>): Promise<readonly string[]>;
  /** Restores the before-state; returns what it did, one line per change. */
  rollback(before: Before, ctx: RollbackContext<Clients>): Promise<readonly string[]>;
}
