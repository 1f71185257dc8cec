/**
 * EC2's request throttling, as its documentation describes it: each API has
 * its own bucket per account and region; a request takes a token; tokens
 * come back at a fixed rate up to the bucket's size; a request that finds the
 * bucket empty fails with RequestLimitExceeded.
 */
export interface BucketSize {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * Request token buckets of the Amazon EC2 API ("Request throttling for the
 * Amazon EC2 API", EC2 Developer Guide): non-mutating actions (Describe*,
 * Get*) 100 tokens, 20 a second; mutating actions 50 tokens, 5 a second.
 */
export const EC2_BUCKETS = {
  nonMutating: { capacity: 100, refillPerSecond: 20 },
  mutating: { capacity: 50, refillPerSecond: 5 },
} as const satisfies Record<string, BucketSize>;

export function ec2BucketFor(action: string): BucketSize {
  return /^(Describe|Get|List)/.test(action) ? EC2_BUCKETS.nonMutating : EC2_BUCKETS.mutating;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly size: BucketSize,
    /** Seconds. */
    now: number,
  ) {
    this.tokens = size.capacity;
    this.last = now;
  }

  /** Takes a token at `now` (seconds) if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(
      this.size.capacity,
      this.tokens + (now - this.last) * this.size.refillPerSecond,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One bucket per API action, created full when first used. */
export class ApiBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly sizeFor: (action: string) => BucketSize) {}

  take(action: string, now: number): boolean {
    let bucket = this.buckets.get(action);
    if (!bucket) {
      bucket = new TokenBucket(this.sizeFor(action), now);
      this.buckets.set(action, bucket);
    }
    return bucket.take(now);
  }
}
