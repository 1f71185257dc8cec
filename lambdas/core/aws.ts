/**
 * One place that says how hubfix talks to AWS. Throttling and 5xx errors are
 * retried by the SDK with exponential backoff; adaptive mode also slows the
 * client down when the service keeps throttling, which matters when a burst
 * of findings hits the same API at once.
 */
export interface AwsClientOptions {
  readonly region: string;
  readonly maxAttempts: number;
  readonly retryMode: 'adaptive' | 'standard';
}

export const DEFAULT_MAX_ATTEMPTS = 5;

export function awsClientOptions(region: string): AwsClientOptions {
  return { region, maxAttempts: DEFAULT_MAX_ATTEMPTS, retryMode: 'adaptive' };
}
