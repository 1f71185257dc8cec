import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesEventPattern } from './event-pattern';

interface MatchCase {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

function itEvaluates(cases: readonly MatchCase[]): void {
  it.each(cases)('$name', ({ pattern, event, expected }) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });
}

/** Builds `{ detail: { value } }`, the shape most single-field cases need. */
function detailWith(value: unknown): Record<string, unknown> {
  return { detail: { value } };
}

function valuePattern(...conditions: unknown[]): Record<string, unknown> {
  return { detail: { value: conditions } };
}

describe('matchesEventPattern', () => {
  describe('exact matching', () => {
    itEvaluates([
      {
        name: 'matches an equal string',
        pattern: { source: ['aws.securityhub'] },
        event: { source: 'aws.securityhub' },
        expected: true,
      },
      {
        name: 'does not match a different string',
        pattern: { source: ['aws.securityhub'] },
        event: { source: 'aws.config' },
        expected: false,
      },
      {
        name: 'is case-sensitive',
        pattern: { source: ['aws.securityhub'] },
        event: { source: 'AWS.SecurityHub' },
        expected: false,
      },
      {
        name: 'matches numbers numerically (300 and 3.0e2)',
        pattern: valuePattern(300),
        event: JSON.parse('{"detail": {"value": 3.0e2}}'),
        expected: true,
      },
      {
        name: 'does not match a different number',
        pattern: valuePattern(300),
        event: detailWith(301),
        expected: false,
      },
      {
        name: 'matches an equal boolean',
        pattern: valuePattern(true),
        event: detailWith(true),
        expected: true,
      },
      {
        name: 'does not match the other boolean',
        pattern: valuePattern(true),
        event: detailWith(false),
        expected: false,
      },
      {
        name: 'matches null with null',
        pattern: valuePattern(null),
        event: detailWith(null),
        expected: true,
      },
      {
        name: 'does not match null with the string "null"',
        pattern: valuePattern(null),
        event: detailWith('null'),
        expected: false,
      },
      {
        name: 'does not match null with a missing field',
        pattern: valuePattern(null),
        event: { detail: {} },
        expected: false,
      },
      {
        name: 'does not match null with false',
        pattern: valuePattern(null),
        event: detailWith(false),
        expected: false,
      },
      {
        name: 'does not match the string "5" with the number 5',
        pattern: valuePattern('5'),
        event: detailWith(5),
        expected: false,
      },
      {
        name: 'does not match the number 5 with the string "5"',
        pattern: valuePattern(5),
        event: detailWith('5'),
        expected: false,
      },
      {
        name: 'does not match the string "true" with the boolean true',
        pattern: valuePattern('true'),
        event: detailWith(true),
        expected: false,
      },
      {
        name: 'matches the empty string with itself',
        pattern: valuePattern(''),
        event: detailWith(''),
        expected: true,
      },
      {
        name: 'ORs the values of one leaf array (one of them matches)',
        pattern: {
          'detail-type': [
            'Security Hub Findings - Imported',
            'Security Hub Findings - Custom Action',
          ],
        },
        event: { 'detail-type': 'Security Hub Findings - Custom Action' },
        expected: true,
      },
      {
        name: 'ORs the values of one leaf array (none of them matches)',
        pattern: {
          'detail-type': [
            'Security Hub Findings - Imported',
            'Security Hub Findings - Custom Action',
          ],
        },
        event: { 'detail-type': 'Security Hub Insight Results' },
        expected: false,
      },
      {
        name: 'ANDs the keys (all match)',
        pattern: { source: ['aws.securityhub'], account: ['111111111111'] },
        event: { source: 'aws.securityhub', account: '111111111111', region: 'eu-west-1' },
        expected: true,
      },
      {
        name: 'ANDs the keys (one does not match)',
        pattern: { source: ['aws.securityhub'], account: ['111111111111'] },
        event: { source: 'aws.securityhub', account: '222222222222' },
        expected: false,
      },
      {
        name: 'follows nested keys',
        pattern: { detail: { state: { name: ['running'] } } },
        event: { detail: { state: { name: 'running', code: 16 } } },
        expected: true,
      },
      {
        name: 'requires every pattern key to be present in the event',
        pattern: { source: ['aws.securityhub'], account: ['111111111111'] },
        event: { source: 'aws.securityhub' },
        expected: false,
      },
      {
        name: 'requires the same nesting (a flat key does not match a nested one)',
        pattern: { detail: { state: ['running'] } },
        event: { state: 'running' },
        expected: false,
      },
      {
        name: 'does not read a dotted event key as nesting',
        pattern: { detail: { state: { name: ['running'] } } },
        event: { detail: { 'state.name': 'running' } },
        expected: false,
      },
    ]);
  });

  describe('arrays of scalars in the event', () => {
    itEvaluates([
      {
        name: 'matches when the event array and the pattern values intersect',
        pattern: { resources: ['arn:b', 'arn:c'] },
        event: { resources: ['arn:a', 'arn:b'] },
        expected: true,
      },
      {
        name: 'does not match when they are disjoint',
        pattern: { resources: ['arn:c'] },
        event: { resources: ['arn:a', 'arn:b'] },
        expected: false,
      },
      {
        name: 'does not match an empty event array',
        pattern: { resources: ['arn:a'] },
        event: { resources: [] },
        expected: false,
      },
      {
        name: 'matches numbers inside an array',
        pattern: valuePattern(2),
        event: detailWith([1, 2, 3]),
        expected: true,
      },
      {
        name: 'does not match an array of objects at a leaf',
        pattern: { resources: ['arn:a'] },
        event: { resources: [{ arn: 'arn:a' }] },
        expected: false,
      },
    ]);
  });

  describe('arrays of objects (flattening with array consistency)', () => {
    const findings = {
      detail: {
        findings: [
          { a: '1', b: 'x' },
          { a: '2', b: 'y' },
        ],
      },
    };

    itEvaluates([
      {
        name: 'descends into every element',
        pattern: { detail: { findings: { a: ['2'] } } },
        event: findings,
        expected: true,
      },
      {
        name: 'does not match when no element has the value',
        pattern: { detail: { findings: { a: ['3'] } } },
        event: findings,
        expected: false,
      },
      {
        name: 'matches fields of the same element',
        pattern: { detail: { findings: { a: ['1'], b: ['x'] } } },
        event: findings,
        expected: true,
      },
      {
        name: 'does not combine fields of different elements',
        pattern: { detail: { findings: { a: ['1'], b: ['y'] } } },
        event: findings,
        expected: false,
      },
      {
        name: 'combines element fields with fields outside the array',
        pattern: { detail: { actionName: ['Remediate'], findings: { a: ['2'], b: ['y'] } } },
        event: { detail: { actionName: 'Remediate', findings: findings.detail.findings } },
        expected: true,
      },
    ]);

    const nested = {
      detail: {
        findings: [
          {
            Id: 'finding-1',
            Resources: [
              { Type: 'AwsEc2SecurityGroup', Id: 'sg-1' },
              { Type: 'AwsEc2Instance', Id: 'i-1' },
            ],
          },
          { Id: 'finding-2', Resources: [{ Type: 'AwsS3Bucket', Id: 'bucket-2' }] },
        ],
      },
    };

    itEvaluates([
      {
        name: 'matches two fields of the same nested element',
        pattern: { detail: { findings: { Resources: { Type: ['AwsEc2Instance'], Id: ['i-1'] } } } },
        event: nested,
        expected: true,
      },
      {
        name: 'does not combine two peer elements of a nested array',
        pattern: {
          detail: { findings: { Resources: { Type: ['AwsEc2Instance'], Id: ['sg-1'] } } },
        },
        event: nested,
        expected: false,
      },
      {
        name: 'matches an outer field with a nested field of the same outer element',
        pattern: {
          detail: { findings: { Id: ['finding-2'], Resources: { Type: ['AwsS3Bucket'] } } },
        },
        event: nested,
        expected: true,
      },
      {
        name: 'does not combine an outer field with a nested field of another outer element',
        pattern: {
          detail: { findings: { Id: ['finding-2'], Resources: { Type: ['AwsEc2Instance'] } } },
        },
        event: nested,
        expected: false,
      },
      {
        name: 'keeps arrays of arrays consistent (same inner element)',
        pattern: { rows: { a: [1], b: [2] } },
        event: { rows: [[{ a: 1, b: 2 }], [{ a: 3, b: 4 }]] },
        expected: true,
      },
      {
        name: 'keeps arrays of arrays consistent (different inner arrays)',
        pattern: { rows: { a: [1], b: [4] } },
        event: { rows: [[{ a: 1, b: 2 }], [{ a: 3, b: 4 }]] },
        expected: false,
      },
    ]);
  });

  describe('string operators', () => {
    itEvaluates([
      {
        name: 'prefix matches a string that starts with it',
        pattern: valuePattern({ prefix: 'arn:aws:ec2:' }),
        event: detailWith('arn:aws:ec2:eu-west-1:111111111111:instance/i-1'),
        expected: true,
      },
      {
        name: 'prefix does not match another start',
        pattern: valuePattern({ prefix: 'arn:aws:ec2:' }),
        event: detailWith('arn:aws:s3:::bucket'),
        expected: false,
      },
      {
        name: 'prefix is case-sensitive',
        pattern: valuePattern({ prefix: 'ARN:' }),
        event: detailWith('arn:aws:s3:::bucket'),
        expected: false,
      },
      {
        name: 'prefix does not match numbers',
        pattern: valuePattern({ prefix: '1' }),
        event: detailWith(123),
        expected: false,
      },
      {
        name: 'prefix matches any element of an event array',
        pattern: valuePattern({ prefix: 'b' }),
        event: detailWith(['a1', 'b1']),
        expected: true,
      },
      {
        name: 'prefix/equals-ignore-case ignores case',
        pattern: valuePattern({ prefix: { 'equals-ignore-case': 'ARN:AWS:EC2' } }),
        event: detailWith('arn:aws:ec2:eu-west-1:111111111111:instance/i-1'),
        expected: true,
      },
      {
        name: 'prefix/equals-ignore-case still needs the prefix',
        pattern: valuePattern({ prefix: { 'equals-ignore-case': 'ARN:AWS:EC2' } }),
        event: detailWith('arn:aws:s3:::bucket'),
        expected: false,
      },
      {
        name: 'suffix matches a string that ends with it',
        pattern: valuePattern({ suffix: '.png' }),
        event: detailWith('image.png'),
        expected: true,
      },
      {
        name: 'suffix does not match another ending',
        pattern: valuePattern({ suffix: '.png' }),
        event: detailWith('image.PNG'),
        expected: false,
      },
      {
        name: 'suffix/equals-ignore-case ignores case',
        pattern: valuePattern({ suffix: { 'equals-ignore-case': '.png' } }),
        event: detailWith('image.PNG'),
        expected: true,
      },
      {
        name: 'suffix/equals-ignore-case still needs the suffix',
        pattern: valuePattern({ suffix: { 'equals-ignore-case': '.png' } }),
        event: detailWith('image.jpg'),
        expected: false,
      },
      {
        name: 'equals-ignore-case matches regardless of case',
        pattern: valuePattern({ 'equals-ignore-case': 'FAILED' }),
        event: detailWith('Failed'),
        expected: true,
      },
      {
        name: 'equals-ignore-case needs the whole string',
        pattern: valuePattern({ 'equals-ignore-case': 'FAILED' }),
        event: detailWith('FAILED_AGAIN'),
        expected: false,
      },
      {
        name: 'equals-ignore-case does not match non-strings',
        pattern: valuePattern({ 'equals-ignore-case': 'true' }),
        event: detailWith(true),
        expected: false,
      },
      {
        name: 'wildcard * matches any run of characters',
        pattern: valuePattern({ wildcard: 'arn:aws:ec2:*:instance/*' }),
        event: detailWith('arn:aws:ec2:eu-west-1:111111111111:instance/i-1'),
        expected: true,
      },
      {
        name: 'wildcard must match the whole string',
        pattern: valuePattern({ wildcard: 'arn:aws:ec2:*:instance/*' }),
        event: detailWith('arn:aws:ec2:eu-west-1:111111111111:volume/vol-1'),
        expected: false,
      },
      {
        name: 'wildcard * matches the empty string',
        pattern: valuePattern({ wildcard: 'EC2.*' }),
        event: detailWith('EC2.'),
        expected: true,
      },
      {
        name: 'wildcard \\* is a literal star',
        pattern: valuePattern({ wildcard: 'a\\*b' }),
        event: detailWith('a*b'),
        expected: true,
      },
      {
        name: 'wildcard \\* does not match other characters',
        pattern: valuePattern({ wildcard: 'a\\*b' }),
        event: detailWith('axb'),
        expected: false,
      },
      {
        name: 'wildcard treats regular-expression characters literally',
        pattern: valuePattern({ wildcard: 'EC2.1*' }),
        event: detailWith('EC2x19'),
        expected: false,
      },
      {
        name: 'wildcard does not match numbers',
        pattern: valuePattern({ wildcard: '1*' }),
        event: detailWith(12),
        expected: false,
      },
    ]);
  });

  describe('anything-but', () => {
    itEvaluates([
      {
        name: 'a string matches any other string',
        pattern: valuePattern({ 'anything-but': 'stopped' }),
        event: detailWith('running'),
        expected: true,
      },
      {
        name: 'a string excludes that string',
        pattern: valuePattern({ 'anything-but': 'stopped' }),
        event: detailWith('stopped'),
        expected: false,
      },
      {
        name: 'a number matches any other number',
        pattern: valuePattern({ 'anything-but': 5 }),
        event: detailWith(6),
        expected: true,
      },
      {
        name: 'a number excludes numerically equal values',
        pattern: valuePattern({ 'anything-but': 500 }),
        event: JSON.parse('{"detail": {"value": 5e2}}'),
        expected: false,
      },
      {
        name: 'a string list matches a value outside the list',
        pattern: valuePattern({ 'anything-but': ['SUPPRESSED', 'RESOLVED'] }),
        event: detailWith('NEW'),
        expected: true,
      },
      {
        name: 'a string list excludes every listed value',
        pattern: valuePattern({ 'anything-but': ['SUPPRESSED', 'RESOLVED'] }),
        event: detailWith('RESOLVED'),
        expected: false,
      },
      {
        name: 'a number list matches a number outside the list',
        pattern: valuePattern({ 'anything-but': [100, 200] }),
        event: detailWith(150),
        expected: true,
      },
      {
        name: 'a number list excludes every listed number',
        pattern: valuePattern({ 'anything-but': [100, 200] }),
        event: detailWith(200),
        expected: false,
      },
      {
        name: 'prefix matches strings without the prefix',
        pattern: valuePattern({ 'anything-but': { prefix: 'init' } }),
        event: detailWith('running'),
        expected: true,
      },
      {
        name: 'prefix excludes strings with the prefix',
        pattern: valuePattern({ 'anything-but': { prefix: 'init' } }),
        event: detailWith('initializing'),
        expected: false,
      },
      {
        name: 'a prefix list excludes any listed prefix',
        pattern: valuePattern({ 'anything-but': { prefix: ['dev-', 'test-'] } }),
        event: detailWith('test-bucket'),
        expected: false,
      },
      {
        name: 'suffix matches strings without the suffix',
        pattern: valuePattern({ 'anything-but': { suffix: '.txt' } }),
        event: detailWith('notes.md'),
        expected: true,
      },
      {
        name: 'suffix excludes strings with the suffix',
        pattern: valuePattern({ 'anything-but': { suffix: '.txt' } }),
        event: detailWith('notes.txt'),
        expected: false,
      },
      {
        name: 'equals-ignore-case matches other strings',
        pattern: valuePattern({ 'anything-but': { 'equals-ignore-case': 'passed' } }),
        event: detailWith('FAILED'),
        expected: true,
      },
      {
        name: 'equals-ignore-case excludes the string in any case',
        pattern: valuePattern({ 'anything-but': { 'equals-ignore-case': 'passed' } }),
        event: detailWith('PASSED'),
        expected: false,
      },
      {
        name: 'an equals-ignore-case list excludes each listed string in any case',
        pattern: valuePattern({
          'anything-but': { 'equals-ignore-case': ['passed', 'not_available'] },
        }),
        event: detailWith('Not_Available'),
        expected: false,
      },
      {
        name: 'wildcard matches strings outside the wildcard',
        pattern: valuePattern({ 'anything-but': { wildcard: '*/dev/*' } }),
        event: detailWith('team/prod/app'),
        expected: true,
      },
      {
        name: 'wildcard excludes strings matching the wildcard',
        pattern: valuePattern({ 'anything-but': { wildcard: '*/dev/*' } }),
        event: detailWith('team/dev/app'),
        expected: false,
      },
      {
        name: 'does not match a missing field',
        pattern: valuePattern({ 'anything-but': 'stopped' }),
        event: { detail: {} },
        expected: false,
      },
      {
        name: 'does not match an object-valued field',
        pattern: valuePattern({ 'anything-but': 'stopped' }),
        event: detailWith({ nested: 'running' }),
        expected: false,
      },
      {
        name: 'is type-strict: a string exclusion matches the number with the same digits',
        pattern: valuePattern({ 'anything-but': '5' }),
        event: detailWith(5),
        expected: true,
      },
      {
        name: 'matches a present null',
        pattern: valuePattern({ 'anything-but': 'stopped' }),
        event: detailWith(null),
        expected: true,
      },
      {
        name: 'matches an event array when any element is not excluded',
        pattern: valuePattern({ 'anything-but': 'a' }),
        event: detailWith(['a', 'b']),
        expected: true,
      },
      {
        name: 'does not match an event array whose elements are all excluded',
        pattern: valuePattern({ 'anything-but': ['a', 'b'] }),
        event: detailWith(['a', 'b']),
        expected: false,
      },
    ]);
  });

  describe('exists', () => {
    itEvaluates([
      {
        name: 'true matches a present string',
        pattern: valuePattern({ exists: true }),
        event: detailWith('x'),
        expected: true,
      },
      {
        name: 'true matches a present null',
        pattern: valuePattern({ exists: true }),
        event: detailWith(null),
        expected: true,
      },
      {
        name: 'true matches a non-empty array of scalars',
        pattern: valuePattern({ exists: true }),
        event: detailWith(['x']),
        expected: true,
      },
      {
        name: 'true does not match a missing field',
        pattern: valuePattern({ exists: true }),
        event: { detail: {} },
        expected: false,
      },
      {
        name: 'true does not match an object (only leaves exist)',
        pattern: valuePattern({ exists: true }),
        event: detailWith({ nested: 'x' }),
        expected: false,
      },
      {
        name: 'true does not match an empty array (it has no leaf value)',
        pattern: valuePattern({ exists: true }),
        event: detailWith([]),
        expected: false,
      },
      {
        name: 'false matches a missing field',
        pattern: valuePattern({ exists: false }),
        event: { detail: { other: 1 } },
        expected: true,
      },
      {
        name: 'false does not match a present field',
        pattern: valuePattern({ exists: false }),
        event: detailWith('x'),
        expected: false,
      },
      {
        name: 'false does not match a present null',
        pattern: valuePattern({ exists: false }),
        event: detailWith(null),
        expected: false,
      },
      {
        name: 'false matches an object-valued field (only leaves exist)',
        pattern: valuePattern({ exists: false }),
        event: detailWith({ nested: 'x' }),
        expected: true,
      },
      {
        name: 'false matches when the parent object is missing too',
        pattern: { source: ['aws.securityhub'], detail: { value: [{ exists: false }] } },
        event: { source: 'aws.securityhub' },
        expected: true,
      },
      {
        name: 'false is ANDed with the other keys',
        pattern: { source: ['aws.securityhub'], detail: { value: [{ exists: false }] } },
        event: { source: 'aws.config' },
        expected: false,
      },
      {
        name: 'false ORed with a value matches a missing field',
        pattern: valuePattern('NEW', { exists: false }),
        event: { detail: {} },
        expected: true,
      },
      {
        name: 'false ORed with a value matches that value',
        pattern: valuePattern('NEW', { exists: false }),
        event: detailWith('NEW'),
        expected: true,
      },
      {
        name: 'false ORed with a value does not match another value',
        pattern: valuePattern('NEW', { exists: false }),
        event: detailWith('RESOLVED'),
        expected: false,
      },
    ]);

    const findings = {
      detail: {
        findings: [
          { Id: 'f-1', Note: { Text: 'skip' } },
          { Id: 'f-2', Compliance: { Status: 'FAILED' } },
        ],
      },
    };

    itEvaluates([
      {
        name: 'false is judged in the array element the other conditions matched (absent there)',
        pattern: { detail: { findings: { Id: ['f-2'], Note: { Text: [{ exists: false }] } } } },
        event: findings,
        expected: true,
      },
      {
        name: 'false is judged in the array element the other conditions matched (present there)',
        pattern: { detail: { findings: { Id: ['f-1'], Note: { Text: [{ exists: false }] } } } },
        event: findings,
        expected: false,
      },
      {
        name: 'false on its own requires the field to be absent from every element',
        pattern: { detail: { findings: { Note: { Text: [{ exists: false }] } } } },
        event: findings,
        expected: false,
      },
      {
        name: 'false on its own matches when no element has the field',
        pattern: { detail: { findings: { Workflow: { Status: [{ exists: false }] } } } },
        event: findings,
        expected: true,
      },
    ]);
  });

  describe('numeric', () => {
    itEvaluates([
      {
        name: '= matches an equal number',
        pattern: valuePattern({ numeric: ['=', 3.018e2] }),
        event: detailWith(301.8),
        expected: true,
      },
      {
        name: '= does not match another number',
        pattern: valuePattern({ numeric: ['=', 5] }),
        event: detailWith(6),
        expected: false,
      },
      {
        name: '> matches a greater number',
        pattern: valuePattern({ numeric: ['>', 0] }),
        event: detailWith(1),
        expected: true,
      },
      {
        name: '> does not match the bound',
        pattern: valuePattern({ numeric: ['>', 0] }),
        event: detailWith(0),
        expected: false,
      },
      {
        name: '>= matches the bound',
        pattern: valuePattern({ numeric: ['>=', 0] }),
        event: detailWith(0),
        expected: true,
      },
      {
        name: '>= does not match a smaller number',
        pattern: valuePattern({ numeric: ['>=', 0] }),
        event: detailWith(-0.5),
        expected: false,
      },
      {
        name: '< matches a smaller number',
        pattern: valuePattern({ numeric: ['<', 10] }),
        event: detailWith(9.99),
        expected: true,
      },
      {
        name: '< does not match the bound',
        pattern: valuePattern({ numeric: ['<', 10] }),
        event: detailWith(10),
        expected: false,
      },
      {
        name: '<= matches the bound',
        pattern: valuePattern({ numeric: ['<=', 10] }),
        event: detailWith(10),
        expected: true,
      },
      {
        name: '<= does not match a greater number',
        pattern: valuePattern({ numeric: ['<=', 10] }),
        event: detailWith(11),
        expected: false,
      },
      {
        name: 'a range matches inside it',
        pattern: valuePattern({ numeric: ['>', 0, '<=', 5] }),
        event: detailWith(5),
        expected: true,
      },
      {
        name: 'a range does not match below it',
        pattern: valuePattern({ numeric: ['>', 0, '<=', 5] }),
        event: detailWith(0),
        expected: false,
      },
      {
        name: 'a range does not match above it',
        pattern: valuePattern({ numeric: ['>', 0, '<=', 5] }),
        event: detailWith(5.01),
        expected: false,
      },
      {
        name: 'does not match a numeric string',
        pattern: valuePattern({ numeric: ['>', 0] }),
        event: detailWith('5'),
        expected: false,
      },
      {
        name: 'matches any number of an event array',
        pattern: valuePattern({ numeric: ['>=', 70] }),
        event: detailWith([10, 90]),
        expected: true,
      },
      {
        name: 'does not match a missing field',
        pattern: valuePattern({ numeric: ['>=', 0] }),
        event: { detail: {} },
        expected: false,
      },
    ]);
  });

  describe('cidr', () => {
    itEvaluates([
      {
        name: 'matches an IPv4 address in the block',
        pattern: valuePattern({ cidr: '10.0.0.0/24' }),
        event: detailWith('10.0.0.255'),
        expected: true,
      },
      {
        name: 'does not match an IPv4 address outside the block',
        pattern: valuePattern({ cidr: '10.0.0.0/24' }),
        event: detailWith('10.0.1.0'),
        expected: false,
      },
      {
        name: 'masks host bits of the base address',
        pattern: valuePattern({ cidr: '10.0.0.77/24' }),
        event: detailWith('10.0.0.1'),
        expected: true,
      },
      {
        name: 'accepts a /32 block',
        pattern: valuePattern({ cidr: '192.168.1.1/32' }),
        event: detailWith('192.168.1.1'),
        expected: true,
      },
      {
        name: 'does not match a string that is not an IP address',
        pattern: valuePattern({ cidr: '10.0.0.0/8' }),
        event: detailWith('10.0.0.300'),
        expected: false,
      },
      {
        name: 'does not match a number',
        pattern: valuePattern({ cidr: '0.0.0.0/0' }),
        event: detailWith(167772161),
        expected: false,
      },
      {
        name: 'matches an IPv6 address in the block',
        pattern: valuePattern({ cidr: '2001:db8::/32' }),
        event: detailWith('2001:db8:ffff::1'),
        expected: true,
      },
      {
        name: 'does not match an IPv6 address outside the block',
        pattern: valuePattern({ cidr: '2001:db8::/32' }),
        event: detailWith('2001:db9::1'),
        expected: false,
      },
      {
        name: 'does not match an IPv4 address with an IPv6 block',
        pattern: valuePattern({ cidr: '::/0' }),
        event: detailWith('10.0.0.1'),
        expected: false,
      },
      {
        name: 'matches an IPv6 address with an embedded IPv4 tail',
        pattern: valuePattern({ cidr: '::ffff:10.0.0.0/120' }),
        event: detailWith('::ffff:10.0.0.9'),
        expected: true,
      },
    ]);
  });

  describe('$or', () => {
    itEvaluates([
      {
        name: 'matches when one alternative matches at the top level',
        pattern: {
          $or: [
            { source: ['aws.config'] },
            { 'detail-type': ['Security Hub Findings - Imported'] },
          ],
        },
        event: { source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported' },
        expected: true,
      },
      {
        name: 'does not match when no alternative matches',
        pattern: { $or: [{ source: ['aws.config'] }, { 'detail-type': ['Other'] }] },
        event: { source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported' },
        expected: false,
      },
      {
        name: 'is ANDed with the other keys of its object (they match)',
        pattern: { source: ['aws.securityhub'], detail: { $or: [{ a: ['1'] }, { b: ['2'] }] } },
        event: { source: 'aws.securityhub', detail: { b: '2' } },
        expected: true,
      },
      {
        name: 'is ANDed with the other keys of its object (they do not match)',
        pattern: { source: ['aws.securityhub'], detail: { $or: [{ a: ['1'] }, { b: ['2'] }] } },
        event: { source: 'aws.config', detail: { b: '2' } },
        expected: false,
      },
      {
        name: 'matches an alternative that is itself an AND',
        pattern: { detail: { $or: [{ a: ['1'] }, { b: ['2'], c: ['3'] }] } },
        event: { detail: { b: '2', c: '3' } },
        expected: true,
      },
      {
        name: 'requires every key of an AND alternative',
        pattern: { detail: { $or: [{ a: ['1'] }, { b: ['2'], c: ['3'] }] } },
        event: { detail: { b: '2', c: '4' } },
        expected: false,
      },
      {
        name: 'supports nested $or',
        pattern: {
          detail: { $or: [{ a: ['1'] }, { b: ['2'], $or: [{ c: ['3'] }, { d: ['4'] }] }] },
        },
        event: { detail: { b: '2', d: '4' } },
        expected: true,
      },
      {
        name: 'supports exists:false in an alternative',
        pattern: { detail: { $or: [{ a: ['1'] }, { a: [{ exists: false }] }] } },
        event: { detail: {} },
        expected: true,
      },
      {
        name: 'evaluates alternatives inside array elements within the same element (match)',
        pattern: { detail: { findings: { Id: ['f-2'], $or: [{ a: ['1'] }, { b: ['y'] }] } } },
        event: {
          detail: {
            findings: [
              { Id: 'f-1', a: '1' },
              { Id: 'f-2', b: 'y' },
            ],
          },
        },
        expected: true,
      },
      {
        name: 'evaluates alternatives inside array elements within the same element (no match)',
        pattern: { detail: { findings: { Id: ['f-2'], $or: [{ a: ['1'] }, { b: ['x'] }] } } },
        event: {
          detail: {
            findings: [
              { Id: 'f-1', a: '1' },
              { Id: 'f-2', b: 'y' },
            ],
          },
        },
        expected: false,
      },
      {
        name: 'keeps array consistency between an alternative and keys of an outer object',
        pattern: {
          detail: {
            findings: { Id: ['f-2'] },
            $or: [{ findings: { a: ['1'] } }, { other: ['z'] }],
          },
        },
        event: {
          detail: {
            findings: [
              { Id: 'f-1', a: '1' },
              { Id: 'f-2', b: 'y' },
            ],
          },
        },
        expected: false,
      },
    ]);
  });

  describe('object patterns against scalar event values', () => {
    itEvaluates([
      {
        name: 'an object pattern does not match a scalar',
        pattern: { detail: { state: { name: ['running'] } } },
        event: { detail: { state: 'running' } },
        expected: false,
      },
      {
        name: 'an object pattern does not match null',
        pattern: { detail: { state: { name: ['running'] } } },
        event: { detail: null },
        expected: false,
      },
      {
        name: 'an object pattern does not match an array of scalars',
        pattern: { detail: { state: { name: ['running'] } } },
        event: { detail: { state: ['running'] } },
        expected: false,
      },
      {
        name: 'exists:false below a scalar matches (the nested field is absent)',
        pattern: { detail: { state: { name: [{ exists: false }] } } },
        event: { detail: { state: 'running' } },
        expected: true,
      },
    ]);
  });

  describe('empty pattern', () => {
    it('matches every event', () => {
      expect(matchesEventPattern({}, {})).toBe(true);
      expect(matchesEventPattern({}, { source: 'aws.securityhub' })).toBe(true);
    });
  });

  describe('Security Hub events', () => {
    const importedEvent = {
      version: '0',
      id: '1622bd23-7237-fdec-8fb0-a019cccfd3cb',
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      account: '111111111111',
      time: '2021-02-17T14:56:11Z',
      region: 'us-east-1',
      resources: ['arn:aws:securityhub:us-east-1::product/aws/securityhub/finding/1'],
      detail: {
        findings: [
          {
            Id: 'arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.7/finding/1',
            ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
            GeneratorId: 'security-control/EC2.7',
            Compliance: { Status: 'FAILED', SecurityControlId: 'EC2.7' },
            Workflow: { Status: 'NEW' },
            RecordState: 'ACTIVE',
            Severity: { Label: 'MEDIUM', Normalized: 40 },
            Resources: [
              { Type: 'AwsAccount', Id: 'AWS::::Account:111111111111', Region: 'us-east-1' },
            ],
          },
          {
            Id: 'arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.2/finding/2',
            ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
            GeneratorId: 'security-control/EC2.2',
            Compliance: { Status: 'PASSED', SecurityControlId: 'EC2.2' },
            Workflow: { Status: 'RESOLVED' },
            RecordState: 'ACTIVE',
            Severity: { Label: 'INFORMATIONAL', Normalized: 0 },
            Resources: [
              {
                Type: 'AwsEc2SecurityGroup',
                Id: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
              },
            ],
          },
        ],
      },
    };

    function findingsRule(finding: Record<string, unknown>): Record<string, unknown> {
      return {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Imported'],
        detail: { findings: finding },
      };
    }

    itEvaluates([
      {
        name: 'routes a failed, new, active finding of a handled control',
        pattern: findingsRule({
          Compliance: { Status: ['FAILED'], SecurityControlId: ['EC2.7', 'EC2.15'] },
          Workflow: { Status: ['NEW', 'NOTIFIED'] },
          RecordState: ['ACTIVE'],
        }),
        event: importedEvent,
        expected: true,
      },
      {
        name: 'does not combine the control of one finding with the workflow of another',
        pattern: findingsRule({
          Compliance: { SecurityControlId: ['EC2.2'] },
          Workflow: { Status: ['NEW'] },
        }),
        event: importedEvent,
        expected: false,
      },
      {
        name: 'routes by resource type and severity within the same finding',
        pattern: findingsRule({
          Resources: { Type: [{ prefix: 'AwsEc2' }] },
          Severity: { Normalized: [{ numeric: ['>=', 0, '<', 40] }] },
        }),
        event: importedEvent,
        expected: true,
      },
      {
        name: 'does not route a custom action event to the imported-findings rule',
        pattern: findingsRule({ Compliance: { Status: ['FAILED'] } }),
        event: { ...importedEvent, 'detail-type': 'Security Hub Findings - Custom Action' },
        expected: false,
      },
    ]);
  });

  describe('invalid events', () => {
    it.each([
      ['null', null],
      ['an array', [{ source: 'aws.securityhub' }]],
      ['a string', 'aws.securityhub'],
    ])('rejects %s as an event', (_label, event) => {
      expect(() => matchesEventPattern({ source: ['aws.securityhub'] }, event)).toThrow(TypeError);
    });
  });

  describe('invalid patterns', () => {
    it.each<[string, unknown]>([
      ['a pattern that is not an object', ['aws.securityhub']],
      ['a null pattern', null],
      ['a leaf that is a string instead of an array', { source: 'aws.securityhub' }],
      ['a leaf that is a number', { detail: { value: 5 } }],
      ['an empty leaf array', { source: [] }],
      ['a nested empty object', { detail: {} }],
      ['an array inside a leaf array', { source: [['aws.securityhub']] }],
      ['an unknown operator', { source: [{ regex: '^aws' }] }],
      ['an operator object with two keys', { source: [{ prefix: 'a', suffix: 'b' }] }],
      ['an operator object without keys', { source: [{}] }],
      ['a prefix that is not a string', { source: [{ prefix: 1 }] }],
      ['an unsupported prefix modifier', { source: [{ prefix: { wildcard: 'a*' } }] }],
      ['a suffix that is not a string', { source: [{ suffix: ['a'] }] }],
      ['an equals-ignore-case that is not a string', { source: [{ 'equals-ignore-case': 1 }] }],
      ['a wildcard with consecutive stars', { source: [{ wildcard: 'a**b' }] }],
      ['a wildcard with an invalid escape', { source: [{ wildcard: 'a\\b' }] }],
      ['a wildcard ending in a backslash', { source: [{ wildcard: 'a\\' }] }],
      ['anything-but with a boolean', { source: [{ 'anything-but': true }] }],
      ['anything-but with null', { source: [{ 'anything-but': null }] }],
      ['anything-but with an empty list', { source: [{ 'anything-but': [] }] }],
      ['anything-but with a mixed list', { source: [{ 'anything-but': ['a', 1] }] }],
      [
        'anything-but with an unsupported modifier',
        { source: [{ 'anything-but': { numeric: ['>', 1] } }] },
      ],
      ['anything-but with an empty prefix', { source: [{ 'anything-but': { prefix: '' } }] }],
      [
        'anything-but/equals-ignore-case with a number',
        { source: [{ 'anything-but': { 'equals-ignore-case': 1 } }] },
      ],
      ['exists with a string', { source: [{ exists: 'true' }] }],
      ['numeric that is not an array', { value: [{ numeric: '>5' }] }],
      ['numeric with an unknown operator', { value: [{ numeric: ['!=', 5] }] }],
      ['numeric with a string bound', { value: [{ numeric: ['>', '5'] }] }],
      ['numeric with a dangling operator', { value: [{ numeric: ['>', 0, '<'] }] }],
      ['numeric with too many terms', { value: [{ numeric: ['>', 0, '<', 5, '=', 3] }] }],
      ['numeric with an upper bound first', { value: [{ numeric: ['<', 5, '>', 0] }] }],
      ['numeric with = in a range', { value: [{ numeric: ['=', 1, '<', 5] }] }],
      ['numeric with an empty range', { value: [{ numeric: ['>=', 5, '<=', 5] }] }],
      ['cidr without a prefix length', { ip: [{ cidr: '10.0.0.0' }] }],
      ['cidr with a prefix length that is too long', { ip: [{ cidr: '10.0.0.0/33' }] }],
      ['cidr with an invalid address', { ip: [{ cidr: '10.0.0.256/8' }] }],
      ['$or that is not an array', { $or: { source: ['a'] } }],
      ['$or with a single alternative', { $or: [{ source: ['a'] }] }],
      ['$or with a non-object alternative', { $or: [{ source: ['a'] }, ['b']] }],
      ['$or with an empty alternative', { $or: [{ source: ['a'] }, {}] }],
      [
        'an operator name used as a field inside $or',
        { $or: [{ prefix: ['a'] }, { source: ['b'] }] },
      ],
      [
        'the same path inside and outside $or',
        { source: ['a'], $or: [{ source: ['b'] }, { account: ['1'] }] },
      ],
      ['an invalid pattern nested in an array context', { detail: { findings: { Id: 'f-1' } } }],
    ])('rejects %s', (_label, pattern) => {
      expect(() => matchesEventPattern(pattern, { source: 'aws.securityhub' })).toThrow(
        InvalidEventPatternError,
      );
    });

    it('validates the whole pattern even when an earlier key already fails to match', () => {
      const pattern = { account: ['999999999999'], source: [{ prefix: 1 }] };

      expect(() => matchesEventPattern(pattern, { account: '111111111111' })).toThrow(
        InvalidEventPatternError,
      );
    });

    it('names the offending path in the error message', () => {
      const pattern = { detail: { findings: { Workflow: { Status: 'NEW' } } } };

      expect(() => matchesEventPattern(pattern, {})).toThrow(/detail\.findings\.Workflow\.Status/);
    });
  });
});
