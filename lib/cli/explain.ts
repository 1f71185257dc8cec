/**
 * Errors in words: what went wrong and what to do, never an SDK class name.
 */
import { describeError, FindingFetchError } from '../../lambdas/core/errors';

export interface Where {
  readonly region: string;
  /** The ledger table, when the CLI knows it already. */
  readonly table?: string;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** "User: arn... is not authorized to perform: dynamodb:Query on resource: arn..." */
function deniedAction(message: string): { action?: string; resource?: string } {
  const action = /perform:\s*([\w-]+:[\w*]+)/.exec(message)?.[1];
  const resource = /on resource:\s*(\S+)/.exec(message)?.[1];
  return { action, resource };
}

const CREDENTIALS_HINT =
  'set AWS_PROFILE to a profile in ~/.aws/config (aws configure list-profiles), sign in with "aws sso login --profile <name>" or "aws configure", or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';

export function explainError(error: unknown, where: Where): string {
  // The Security Hub adapter wraps what AWS answered; the answer is what to explain.
  if (error instanceof FindingFetchError && error.cause instanceof Error) {
    return explainError(error.cause, where);
  }
  const name = nameOf(error);
  const message = messageOf(error).replace(/\s+/g, ' ').trim();
  if (
    name === 'CredentialsProviderError' ||
    /could not load credentials|unable to locate credentials/i.test(message)
  ) {
    return `no AWS credentials found: ${CREDENTIALS_HINT}`;
  }
  if (
    /^(ExpiredToken|ExpiredTokenException|TokenRefreshRequired)$/.test(name) ||
    /token.*expired|expired.*token/i.test(message)
  ) {
    return `your AWS session has expired: sign in again (for example "aws sso login"), then retry`;
  }
  if (
    /^(UnrecognizedClientException|InvalidClientTokenId|InvalidSignatureException|SignatureDoesNotMatch)$/.test(
      name,
    )
  ) {
    return `AWS did not accept your credentials (${message}): check AWS_PROFILE or your access keys`;
  }
  if (
    /^(AccessDeniedException|AccessDenied|UnauthorizedOperation|UnauthorizedException)$/.test(name)
  ) {
    const { action, resource } = deniedAction(message);
    return action
      ? `your credentials may not call ${action}${resource ? ` on ${resource}` : ''}: ask for that permission, or use a profile that has it`
      : `your credentials were refused: ${message}`;
  }
  if (name === 'ResourceNotFoundException') {
    return where.table
      ? `the ledger table ${where.table} does not exist in ${where.region}: check the region (--region), or name the table with --table <name> or the stack with --stack <name>`
      : `not found in ${where.region}: ${message}`;
  }
  if (name === 'TimeoutError' || /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(message)) {
    return `could not reach AWS in ${where.region} (${message}): check your network, proxy or AWS_ENDPOINT_URL`;
  }
  // Left after the SDK's own retries. CloudFormation says Throttling, Security Hub
  // TooManyRequestsException or LimitExceededException ("Rate exceeded").
  if (
    /^(Throttling|ThrottlingException|TooManyRequestsException|ProvisionedThroughputExceededException)$/.test(
      name,
    ) ||
    (name === 'LimitExceededException' && /rate|throttl/i.test(message))
  ) {
    return `AWS is throttling these calls: wait a moment and try again`;
  }
  return describeError(error).replace(/^[A-Za-z]*(Error|Exception): /, '');
}
