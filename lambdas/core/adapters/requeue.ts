/**
 * Hands findings to another invocation of the same function: an
 * asynchronous Lambda invoke of itself with a direct request. Lambda keeps
 * an asynchronous event for up to 6 hours and retries it, and the request
 * names only finding identifiers, so the next invocation fetches each
 * finding from Security Hub again before it does anything.
 */
import { describeError, RequeueError } from '../errors';
import type { DirectRequest } from '../intake/direct';
import type { Requeue } from '../ports';
import type { AsyncInvoker } from './lambda-invoke';

/** Lambda's limit for an asynchronous invocation's payload. */
export const ASYNC_PAYLOAD_LIMIT = 256 * 1024;

export class LambdaRequeue implements Requeue {
  private invoker: Promise<AsyncInvoker> | undefined;

  constructor(
    /**
     * Makes the Lambda client on first use: most invocations hand nothing
     * on, and need not load it at cold start.
     */
    private readonly connect: () => Promise<AsyncInvoker>,
    /** This function's own name, as Lambda sets AWS_LAMBDA_FUNCTION_NAME. */
    private readonly functionName: string,
  ) {}

  async send(request: DirectRequest): Promise<void> {
    const payload = JSON.stringify(request);
    if (Buffer.byteLength(payload, 'utf8') > ASYNC_PAYLOAD_LIMIT) {
      throw new RequeueError(
        `the request for ${request.findings.length} findings is over Lambda's 256 KB limit for an asynchronous invocation`,
      );
    }
    let status: number | undefined;
    try {
      this.invoker ??= this.connect();
      status = await (await this.invoker).invokeAsync(
        this.functionName,
        new TextEncoder().encode(payload),
      );
    } catch (error) {
      this.invoker = undefined;
      throw new RequeueError(`Lambda Invoke failed: ${describeError(error)}`, { cause: error });
    }
    // An asynchronous invocation Lambda accepted answers 202.
    if (status !== 202) {
      throw new RequeueError(`Lambda answered ${status ?? 'no status'} to an asynchronous invoke`);
    }
  }
}
