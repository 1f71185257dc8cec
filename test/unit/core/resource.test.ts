import { describe, expect, it } from 'vitest';
import { ResourceReferenceError } from '../../../lambdas/core/errors';
import { accountResource, arnResource, parseArn } from '../../../lambdas/core/resource';

describe('parseArn', () => {
  it.each([
    [
      'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
      {
        partition: 'aws',
        service: 'ec2',
        region: 'us-east-1',
        account: '111111111111',
        resource: 'security-group/sg-1',
      },
    ],
    [
      'arn:aws-us-gov:ec2:us-gov-west-1:111111111111:instance/i-1',
      {
        partition: 'aws-us-gov',
        service: 'ec2',
        region: 'us-gov-west-1',
        account: '111111111111',
        resource: 'instance/i-1',
      },
    ],
    [
      'arn:aws:securityhub:us-east-1::product/aws/securityhub',
      {
        partition: 'aws',
        service: 'securityhub',
        region: 'us-east-1',
        account: '',
        resource: 'product/aws/securityhub',
      },
    ],
  ])('%s', (arn, expected) => {
    expect(parseArn(arn)).toEqual(expected);
  });

  it.each(['sg-1', 'arn:aws:ec2', 'arn:aws:ec2:us-east-1:12:security-group/sg-1', ''])(
    'refuses %j',
    (value) => {
      expect(parseArn(value)).toBeUndefined();
    },
  );
});

describe('arnResource', () => {
  const spec = arnResource({
    types: ['AwsEc2Subnet'],
    service: 'ec2',
    resourceType: 'subnet',
    idPattern: /^subnet-[0-9a-f]+$/,
  });

  it('reads the short id, account and region from the ARN', () => {
    expect(
      spec.parse(
        'arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-0abc',
        'AwsEc2Subnet',
        'us-east-1',
      ),
    ).toEqual({
      type: 'AwsEc2Subnet',
      raw: 'arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-0abc',
      partition: 'aws',
      account: '111111111111',
      region: 'eu-west-1',
      id: 'subnet-0abc',
    });
  });

  it.each([
    'arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1',
    'arn:aws:s3:::bucket',
    'arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0abc/../vpc',
    'arn:aws:ec2::111111111111:subnet/subnet-0abc',
  ])('refuses %s', (raw) => {
    expect(() => spec.parse(raw, 'AwsEc2Subnet', 'us-east-1')).toThrow(ResourceReferenceError);
  });
});

describe('accountResource', () => {
  it('takes the account from the id and the region from the finding', () => {
    expect(
      accountResource().parse('AWS::::Account:111111111111', 'AwsAccount', 'us-east-1'),
    ).toEqual({
      type: 'AwsAccount',
      raw: 'AWS::::Account:111111111111',
      partition: 'aws',
      account: '111111111111',
      region: 'us-east-1',
      id: '111111111111',
    });
  });

  it('refuses anything else', () => {
    expect(() => accountResource().parse('AWS::::Account:1', 'AwsAccount', 'us-east-1')).toThrow(
      ResourceReferenceError,
    );
    expect(() =>
      accountResource().parse('AWS::::Account:111111111111', 'AwsAccount', undefined),
    ).toThrow(ResourceReferenceError);
  });
});
