/**
 * SDK mocks that reject by default: a call the test did not prepare fails
 * loudly instead of quietly returning undefined.
 */
import type { Client, MetadataBearer } from '@smithy/types';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';

export class UnexpectedCallError extends Error {
  override readonly name = 'UnexpectedCallError';
}

export function strictMock<TInput extends object, TOutput extends MetadataBearer, TConfiguration>(
  client:
    | Client<TInput, TOutput, TConfiguration>
    | { prototype: Client<TInput, TOutput, TConfiguration> },
): AwsStub<TInput, TOutput, TConfiguration> {
  return resetStrict(mockClient(client));
}

/** Forgets prepared answers and calls; anything unprepared rejects again. */
export function resetStrict<TInput extends object, TOutput extends MetadataBearer, TConfiguration>(
  stub: AwsStub<TInput, TOutput, TConfiguration>,
): AwsStub<TInput, TOutput, TConfiguration> {
  stub.reset();
  stub.onAnyCommand().callsFake((input: unknown) => {
    throw new UnexpectedCallError(`unexpected AWS call with input ${JSON.stringify(input)}`);
  });
  return stub;
}

/** An SDK-style service error, as the clients throw them. */
export function serviceError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return error;
}
