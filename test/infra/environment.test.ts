/**
 * A template for any region and account (issue 13 §2): `cdk synth` writes no
 * region and no account into the template, so the same output deploys
 * anywhere; `-c env=aws://<account>/<region>` still pins it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/core/errors';
import { environmentFromContext, REGION_PATTERN } from '../../lib/environment';
import { resolveIntrinsics } from '../support/intrinsics';
import { synthesize } from '../support/stack';

/** Every AWS region name (us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1...). */
const ANY_REGION = new RegExp(`\\b${REGION_PATTERN.source}\\b`, 'g');
/** Twelve digits that are not part of a longer number or hash (asset hashes are hex). */
const ANY_ACCOUNT = /(?<![0-9a-f])\d{12}(?![0-9a-f])/g;

const everything = {
  notifications: { emails: ['secops@example.com'], kmsKey: 'managed-by-hubfix' },
  controls: { 'EC2.9': { disableSubnetAutoAssign: true } },
};
// Synthesized once, outside any test's time limit.
const templates = [
  ['the default config', JSON.stringify(synthesize().template.toJSON())],
  [
    'every optional resource on',
    JSON.stringify(synthesize({ config: everything }).template.toJSON()),
  ],
] as const;

describe('the synthesized template', () => {
  it.each(templates)('names no region and no account, with %s', (_name, text) => {
    expect(text.match(ANY_REGION) ?? []).toEqual([]);
    expect(text.match(ANY_ACCOUNT) ?? []).toEqual([]);
    expect(text).toContain('{"Ref":"AWS::Region"}');
    expect(text).toContain('{"Ref":"AWS::AccountId"}');
    expect(text).toContain('{"Ref":"AWS::Partition"}');
  });

  it('recognises every region name it must not contain', () => {
    const regions = ['us-east-1', 'eu-central-2', 'ap-southeast-4', 'us-gov-west-1', 'cn-north-1'];
    for (const region of regions) expect(`"${region}"`.match(ANY_REGION)).toEqual([region]);
    expect('"123456789012"'.match(ANY_ACCOUNT)).toEqual(['123456789012']);
    expect('"9930638c1e3cf03c410d651241139232ea"'.match(ANY_ACCOUNT)).toBeNull();
  });

  it('resolves to the account and region CloudFormation deploys it in', () => {
    const { stack } = synthesize();

    expect(
      resolveIntrinsics(stack.resolve(stack.remediateAction.actionTargetArn), {
        partition: 'aws-us-gov',
        region: 'us-gov-west-1',
        account: '222222222222',
      }),
    ).toBe('arn:aws-us-gov:securityhub:us-gov-west-1:222222222222:action/custom/HubfixRemediate');
  });

  it('is pinned to an explicit environment when one is given', () => {
    const env = { account: '222222222222', region: 'eu-west-1' };
    const { stack } = synthesize({ env });

    expect(stack.region).toBe('eu-west-1');
    expect(stack.account).toBe('222222222222');
    // Whatever region CloudFormation runs it in, the ARNs stay those of the pinned env.
    expect(resolveIntrinsics(stack.resolve(stack.remediateAction.actionTargetArn))).toBe(
      'arn:aws:securityhub:eu-west-1:222222222222:action/custom/HubfixRemediate',
    );
  });
});

describe('-c env=', () => {
  it('is optional: without it the stack is environment-agnostic', () => {
    expect(environmentFromContext(undefined)).toBeUndefined();
  });

  it('takes aws://<account>/<region>', () => {
    expect(environmentFromContext('aws://111111111111/eu-west-1')).toEqual({
      account: '111111111111',
      region: 'eu-west-1',
    });
    expect(environmentFromContext('aws://111111111111/us-gov-west-1')).toEqual({
      account: '111111111111',
      region: 'us-gov-west-1',
    });
  });

  it.each([
    '111111111111/eu-west-1',
    'aws://11111111111/eu-west-1',
    'aws://111111111111/Europe',
    'aws://111111111111',
    '',
    42,
  ])('refuses %j with a message that shows the form', (value) => {
    expect(() => environmentFromContext(value)).toThrow(ConfigurationError);
    expect(() => environmentFromContext(value)).toThrow(
      /env: expected aws:\/\/<12-digit account>\/<region>/,
    );
  });
});
