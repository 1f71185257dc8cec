/**
 * The one Lambda call hubfix makes (an asynchronous invoke of itself), kept
 * in its own module so the handler can load it on first use: a dynamic
 * import of the SDK package itself would bundle every Lambda command.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsClientOptions } from '../aws';

export interface AsyncInvoker {
  /** @returns the status Lambda answered (202 when it took the event). */
  invokeAsync(functionName: string, payload: Uint8Array): Promise<number | undefined>;
}

export function lambdaInvoker(
  options: AwsClientOptions,
  instrument: (client: LambdaClient) => LambdaClient = (client) => client,
): AsyncInvoker {
  const client = instrument(new LambdaClient(options));
  return {
    async invokeAsync(functionName, payload) {
      const response = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: payload,
        }),
      );
      return response.StatusCode;
    },
  };
}
