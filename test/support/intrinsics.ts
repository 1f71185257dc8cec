/**
 * Resolves the few CloudFormation intrinsics hubfix's patterns and ARNs use
 * (pseudo-parameter Refs and Fn::Join), the way CloudFormation would at
 * deploy time, so tests can compare plain strings.
 */
export interface Pseudo {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export const TEST_PSEUDO: Pseudo = {
  partition: 'aws',
  region: 'us-east-1',
  account: '111111111111',
};

export function resolveIntrinsics(value: unknown, pseudo: Pseudo = TEST_PSEUDO): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, pseudo));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only) {
    const [key, argument] = only;
    if (key === 'Ref' && typeof argument === 'string' && argument.startsWith('AWS::')) {
      const pseudoValues: Record<string, string> = {
        'AWS::Partition': pseudo.partition,
        'AWS::Region': pseudo.region,
        'AWS::AccountId': pseudo.account,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      const resolved = pseudoValues[argument];
      if (resolved === undefined) throw new Error(`unknown pseudo parameter ${argument}`);
      return resolved;
    }
    if (key === 'Fn::Join' && Array.isArray(argument)) {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((p) => resolveIntrinsics(p, pseudo)).join(separator);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, pseudo)]));
}
