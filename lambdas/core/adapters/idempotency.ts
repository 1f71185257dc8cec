/**
 * Once-only handling of a finding, backed by Powertools idempotency with a
 * DynamoDB table. The first delivery runs and its result is stored; a repeat
 * gets the stored result without touching AWS; a delivery that arrives while
 * the first is still running is told so and does nothing.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { OnceGuard, OnceResult } from '../ports';

export interface DynamoDbOnceGuardOptions {
  readonly tableName: string;
  /** How long a finished record answers repeats. @default 3600 */
  readonly expiresAfterSeconds?: number;
}

export class DynamoDbOnceGuard implements OnceGuard {
  private readonly persistenceStore: DynamoDBPersistenceLayer;
  private readonly config: IdempotencyConfig;

  constructor(client: DynamoDBClient, options: DynamoDbOnceGuardOptions) {
    this.persistenceStore = new DynamoDBPersistenceLayer({
      tableName: options.tableName,
      awsSdkV3Client: client,
    });
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      expiresAfterSeconds: options.expiresAfterSeconds ?? 3600,
    });
  }

  /** Lets an in-progress record expire with the invocation, not the full hour. */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async run<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>> {
    let ran = false;
    const once = makeIdempotent(
      async (_payload: { key: string }) => {
        ran = true;
        return work();
      },
      { persistenceStore: this.persistenceStore, config: this.config },
    );
    try {
      const value = (await once({ key })) as T;
      return { kind: ran ? 'ran' : 'replayed', value };
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError) return { kind: 'in-progress' };
      throw error;
    }
  }
}
