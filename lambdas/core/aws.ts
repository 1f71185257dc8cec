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
  /**
   * Org mode: a member role's temporary credentials, refreshed before they
   * expire. @default the function's own (the SDK's default chain)
   */
  readonly credentials?: CredentialsProvider;
}

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What the SDK clients take as `credentials`: asked again once what it gave expires. */
export type CredentialsProvider = () => Promise<TemporaryCredentials>;

export const DEFAULT_MAX_ATTEMPTS = 5;

export function awsClientOptions(region: string): AwsClientOptions {
  return { region, maxAttempts: DEFAULT_MAX_ATTEMPTS, retryMode: 'adaptive' };
}
