/**
 * SDK mocks that reject by default: a call the test did not prepare fails
 * loudly instead of quietly returning undefined.
 */
import type { Client, MetadataBearer } from '@smithy/types';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';

export class UnexpectedCallError extends Error {
  override readonly name = 'UnexpectedCallError';
}

/**
 * Every stub made here, so test/setup.ts can restore them after each file:
 * test files share a module cache (isolate: false, for speed), and a stub
 * left on a client class would answer for the next file's real clients.
 */
const stubs = new Set<{ restore(): void }>();

export function restoreAllStubs(): void {
  for (const stub of stubs) stub.restore();
  stubs.clear();
}

export function strictMock<TInput extends object, TOutput extends MetadataBearer, TConfiguration>(
  client:
    | Client<TInput, TOutput, TConfiguration>
    | { prototype: Client<TInput, TOutput, TConfiguration> },
): AwsStub<TInput, TOutput, TConfiguration> {
  const stub = mockClient(client);
  stubs.add(stub);
  return resetStrict(stub);
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
