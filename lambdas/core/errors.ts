/**
 * Every error hubfix raises on purpose. Each carries a stable `name` so logs
 * and metrics can group by it, and keeps the underlying `cause`.
 */

export interface ValidationIssue {
  /** Where the problem is, e.g. `controls["EC2.2"].mode`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
}

/**
 * Each subclass names itself with a string literal: bundles are minified, so
 * `constructor.name` would read "Ma" in production logs.
 */
abstract class HubfixError extends Error {
  abstract override readonly name: string;
}

/** The configuration file (synth time) or the function environment (cold start) is invalid. */
export class ConfigurationError extends HubfixError {
  override readonly name = 'ConfigurationError';

  constructor(
    readonly source: string,
    readonly issues: readonly ValidationIssue[],
    options: {
      /** What is wrong with `source` as a whole. @default 'is invalid' */
      headline?: string;
      cause?: unknown;
    } = {},
  ) {
    super(`${source} ${options.headline ?? 'is invalid'}:\n${formatIssues(issues)}`, {
      cause: options.cause,
    });
  }
}

/**
 * A schema that remediation.config.json reaches cannot be written as JSON
 * Schema (a hand-written check without `toJsonSchema`). A developer's error,
 * raised when the editor schema is generated, never at run time.
 */
export class SchemaExportError extends HubfixError {
  override readonly name = 'SchemaExportError';

  constructor(
    readonly at: string,
    reason: string,
  ) {
    super(`cannot describe ${at} as JSON Schema: ${reason}`);
  }
}

/** The Lambda event is not a Security Hub findings event hubfix can read. Nothing was changed. */
export class MalformedEventError extends HubfixError {
  override readonly name = 'MalformedEventError';

  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`malformed event:\n${formatIssues(issues)}`);
  }
}

/** One finding inside an otherwise readable event is not valid ASFF. Nothing was changed. */
export class MalformedFindingError extends HubfixError {
  override readonly name = 'MalformedFindingError';

  constructor(
    readonly findingIndex: number,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`finding #${findingIndex} is malformed:\n${formatIssues(issues)}`);
  }
}

/** The resource named by a finding is not one this control can act on. */
export class ResourceReferenceError extends HubfixError {
  override readonly name = 'ResourceReferenceError';
}

/**
 * A change stopped part-way. `stateLeft` says, for a person, what the resource
 * looks like now so that nobody has to guess.
 */
export class PartialChangeError extends HubfixError {
  override readonly name = 'PartialChangeError';
  /**
   * The changes that were made before it stopped, one line each, as apply
   * would have returned them: recorded in the ledger, so a rollback can give
   * back exactly what was done.
   */
  readonly changes: readonly string[];

  constructor(
    message: string,
    readonly stateLeft: string,
    options?: { cause?: unknown; changes?: readonly string[] },
  ) {
    super(message, options);
    this.changes = options?.changes ?? [];
  }
}

/** A ledger entry is missing fields or holds values hubfix does not know. */
export class LedgerEntryError extends HubfixError {
  override readonly name = 'LedgerEntryError';
}

/** A recorded change cannot be undone, or not safely; nothing was changed by the attempt. */
export class RollbackRefusedError extends HubfixError {
  override readonly name = 'RollbackRefusedError';
}

/**
 * Org mode: the control's role in a member account could not be assumed
 * (missing, not yet deployed there, or not trusting this function). Names the
 * account and the role, so a person knows where to look.
 */
export class MemberAccessError extends HubfixError {
  override readonly name = 'MemberAccessError';

  constructor(
    message: string,
    readonly account: string,
    readonly roleArn: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Security Hub refused to update a finding (BatchUpdateFindings UnprocessedFindings). */
export class FindingUpdateError extends HubfixError {
  override readonly name = 'FindingUpdateError';

  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Security Hub could not be asked for a finding, or answered something hubfix cannot read. */
export class FindingFetchError extends HubfixError {
  override readonly name = 'FindingFetchError';
}

/** A paginated answer kept handing out NextTokens past any real answer's length. */
export class PagingLimitError extends HubfixError {
  override readonly name = 'PagingLimitError';
}

/** Findings could not be handed to another invocation of the function. */
export class RequeueError extends HubfixError {
  override readonly name = 'RequeueError';
}

/** EventBridge did not take an outcome event. */
export class OutcomeEventError extends HubfixError {
  override readonly name = 'OutcomeEventError';
}

/** Publishing the notification to SNS failed. */
export class NotificationError extends HubfixError {
  override readonly name = 'NotificationError';
}

/**
 * Some findings of an event could not be written back to Security Hub or
 * announced on SNS. Thrown at the end of the batch so that Lambda retries the
 * event and, once retries are spent, the event lands in the dead-letter queue.
 */
export class IncompleteDeliveryError extends HubfixError {
  override readonly name = 'IncompleteDeliveryError';

  constructor(
    readonly failures: readonly { readonly findingId: string; readonly error: string }[],
  ) {
    super(
      `${failures.length} finding(s) were processed but not fully delivered: ${failures
        .map((f) => `${f.findingId}: ${f.error}`)
        .join('; ')}`,
    );
  }
}

/**
 * By convention a control's PartialChangeError says "unchanged: ..." when it
 * stopped before changing anything, so the pipeline may try again later
 * instead of asking a person to look.
 */
export function leftUnchanged(error: unknown): boolean {
  return error instanceof PartialChangeError && /^unchanged\b/i.test(error.stateLeft);
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/**
 * Whether an error says "try again later" (throttling, a service fault, the
 * network) rather than "this cannot work". The SDK has retried these already;
 * what is left is for the next event or the reconciler, not for a person.
 */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth += 1) {
    if (TRANSIENT_NAMES.has(e.name)) return true;
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
    if ((e as { $retryable?: unknown }).$retryable) return true;
    e = e.cause;
  }
  return false;
}

/** The command line is not one `npx hubfix` understands; nothing was called. */
export class UsageError extends HubfixError {
  override readonly name = 'UsageError';
}

/**
 * The CLI could not find the ledger: no stack of that name, or a stack
 * without a ledger output. Says which, and how to name another.
 */
export class LedgerLocationError extends HubfixError {
  override readonly name = 'LedgerLocationError';
}

/**
 * The CLI could not find the function to ask about a finding: no stack, a
 * stack deployed before the functions were outputs, or the finding's control
 * is not deployed. Says which, and what to do.
 */
export class FunctionLocationError extends HubfixError {
  override readonly name = 'FunctionLocationError';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  }
  return String(error);
}
