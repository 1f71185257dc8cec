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

/**
 * An asynchronous invoke of one function with a JSON payload, within
 * Lambda's payload limit. The pipeline hands findings on with it; the
 * reconciler hands requests to the controls' functions and its sweep to
 * itself.
 */
export class LambdaAsyncSender {
  private invoker: Promise<AsyncInvoker> | undefined;

  constructor(
    /**
     * Makes the Lambda client on first use: most invocations hand nothing
     * on, and need not load it at cold start.
     */
    private readonly connect: () => Promise<AsyncInvoker>,
    /** The function to invoke (its own name, as Lambda sets AWS_LAMBDA_FUNCTION_NAME, to requeue). */
    readonly functionName: string,
  ) {}

  /**
   * @param what names the payload in errors ("the request for 3 findings").
   * @throws RequeueError when Lambda did not take it.
   */
  async sendPayload(payload: unknown, what: string): Promise<void> {
    const json = JSON.stringify(payload);
    if (Buffer.byteLength(json, 'utf8') > ASYNC_PAYLOAD_LIMIT) {
      throw new RequeueError(
        `${what} is over Lambda's 256 KB limit for an asynchronous invocation`,
      );
    }
    let status: number | undefined;
    try {
      this.invoker ??= this.connect();
      status = await (await this.invoker).invokeAsync(
        this.functionName,
        new TextEncoder().encode(json),
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

export class LambdaRequeue extends LambdaAsyncSender implements Requeue {
  send(request: DirectRequest): Promise<void> {
    return this.sendPayload(request, `the request for ${request.findings.length} findings`);
  }
}
