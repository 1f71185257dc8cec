import { describe, expect, it } from 'vitest';
import { ApiBuckets, EC2_BUCKETS, ec2BucketFor, TokenBucket } from '../../../bench/token-bucket';

describe("EC2's request token buckets", () => {
  it('lets a full bucket burst, then refills at its rate', () => {
    // Prepare: the non-mutating bucket, 100 tokens, 20 a second.
    const bucket = new TokenBucket(EC2_BUCKETS.nonMutating, 0);

    // Act: 101 requests at once, then one after 0.04 s and one after 0.05 s.
    const burst = Array.from({ length: 101 }, () => bucket.take(0));
    const early = bucket.take(0.04);
    const refilled = bucket.take(0.05);

    // Assess
    expect(burst.filter(Boolean)).toHaveLength(100);
    expect(burst.at(-1)).toBe(false);
    expect(early).toBe(false);
    expect(refilled).toBe(true);
  });

  it('never holds more than its capacity, however long it rests', () => {
    const bucket = new TokenBucket(EC2_BUCKETS.mutating, 0);
    const taken = Array.from({ length: 60 }, () => bucket.take(3600));
    expect(taken.filter(Boolean)).toHaveLength(EC2_BUCKETS.mutating.capacity);
  });

  it('keeps one bucket per API, sized by whether the action mutates', () => {
    // Prepare
    const buckets = new ApiBuckets(ec2BucketFor);

    // Act: empty the revoke bucket; a describe still has its own tokens.
    for (let i = 0; i < EC2_BUCKETS.mutating.capacity; i += 1)
      buckets.take('RevokeSecurityGroupIngress', 0);

    // Assess
    expect(buckets.take('RevokeSecurityGroupIngress', 0)).toBe(false);
    expect(buckets.take('DescribeSecurityGroups', 0)).toBe(true);
    expect(ec2BucketFor('DescribeSecurityGroupRules')).toBe(EC2_BUCKETS.nonMutating);
    expect(ec2BucketFor('ModifySubnetAttribute')).toBe(EC2_BUCKETS.mutating);
  });
});
