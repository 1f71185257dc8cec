/**
 * Asking a control's function directly, as `npx hubfix remediate|plan` does:
 * a synchronous Lambda invoke with a direct request, and the function's
 * answer read back. The request names findings only; the function fetches
 * each from Security Hub itself, so invoking it proves nothing by itself.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DirectRequest } from '../../lambdas/core/intake/direct';
import {
  array,
  type Infer,
  integer,
  object,
  oneOf,
  optional,
  string,
} from '../../lambdas/core/schema';

export type InvokeAnswer =
  /** The function returned; `payload` is its JSON result. */
  | { readonly kind: 'returned'; readonly payload: unknown }
  /** The function threw or timed out (Lambda's FunctionError); the message is the function's. */
  | {
      readonly kind: 'function-error';
      readonly errorType: string | undefined;
      readonly errorMessage: string;
    };

export interface FunctionInvoker {
  /**
   * Runs the function once, synchronously, with the request.
   * @throws the Lambda error when the function was not run (access denied,
   * throttled, no such function).
   */
  invoke(functionArn: string, request: DirectRequest): Promise<InvokeAnswer>;
}

function text(payload: Uint8Array | undefined): string {
  return payload ? new TextDecoder().decode(payload) : '';
}

function json(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export class LambdaFunctionInvoker implements FunctionInvoker {
  constructor(private readonly client: LambdaClient) {}

  async invoke(functionArn: string, request: DirectRequest): Promise<InvokeAnswer> {
    const response = await this.client.send(
      new InvokeCommand({
        FunctionName: functionArn,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    const payload = json(text(response.Payload));
    if (response.FunctionError) {
      // The runtime's error object: {"errorType": ..., "errorMessage": ..., "trace": [...]}.
      const error =
        typeof payload === 'object' && payload !== null
          ? (payload as { errorType?: unknown; errorMessage?: unknown })
          : {};
      return {
        kind: 'function-error',
        errorType: typeof error.errorType === 'string' ? error.errorType : undefined,
        errorMessage:
          typeof error.errorMessage === 'string'
            ? error.errorMessage
            : typeof payload === 'string' && payload
              ? payload
              : `the function failed (${response.FunctionError}) without saying why`,
      };
    }
    return { kind: 'returned', payload };
  }
}

const count = integer({ min: 0 });

/**
 * The control handler's answer (HandlerResult in lambdas/core/handler.ts),
 * read as untrusted JSON: whatever the stack output points at answers it.
 */
export const functionAnswerSchema = object(
  {
    eventId: optional(string()),
    status: oneOf(['processed', 'rejected']),
    findings: array(
      object(
        {
          findingId: string(),
          decision: string(),
          outcome: string(),
          reason: optional(string()),
          note: optional(string()),
          changeId: optional(string()),
        },
        { unknownKeys: 'ignore' },
      ),
    ),
    rejected: count,
    skipped: count,
    duplicates: count,
    handedOn: count,
  },
  { unknownKeys: 'ignore' },
);

export type FunctionAnswer = Infer<typeof functionAnswerSchema>;
