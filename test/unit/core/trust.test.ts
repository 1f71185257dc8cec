import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/core/finding';
import { readAsffEvent } from '../../../lambdas/core/intake/asff';
import type { Request } from '../../../lambdas/core/policy';
import { arnResource } from '../../../lambdas/core/resource';
import { assessTrust } from '../../../lambdas/core/trust';
import { EC2_2_FINDING, importedEvent, type Json, SELF, withChanges } from '../../support/fixtures';

const securityGroups = arnResource({
  types: ['AwsEc2SecurityGroup'],
  service: 'ec2',
  resourceType: 'security-group',
  idPattern: /^sg-[0-9a-f]{8,17}$/,
});

function assess(changes: Record<string, unknown>, request: Request = 'imported', event: Json = {}) {
  const raw = importedEvent([withChanges(EC2_2_FINDING, changes)], event);
  const parsed = readAsffEvent(raw);
  const [first] = parsed.findings;
  if (!first?.ok) throw new Error('fixture did not parse');
  const finding: Finding = first.finding;
  return assessTrust({
    event: parsed,
    finding,
    request,
    controlId: 'EC2.2',
    resourceSpec: securityGroups,
    self: SELF,
  });
}

describe('assessTrust', () => {
  it('accepts a genuine, failed, active, new finding and names its resource', () => {
    const verdict = assess({});

    expect(verdict).toEqual({
      ok: true,
      resource: {
        type: 'AwsEc2SecurityGroup',
        raw: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
        partition: 'aws',
        account: '111111111111',
        region: 'us-east-1',
        id: 'sg-1234123f',
      },
    });
  });

  it.each([
    [
      'another product',
      { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector' },
      'not from the AWS Security Hub product',
    ],
    [
      'a third-party product',
      { ProductArn: 'arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default' },
      'not from the AWS Security Hub product',
    ],
    [
      "another region's product",
      { ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub' },
      'produced in eu-west-1',
    ],
    ['another account', { AwsAccountId: '222222222222' }, 'account 222222222222'],
    ['another control', { 'ProductFields.ControlId': 'EC2.19' }, 'control EC2.19'],
    [
      'a GeneratorId naming another control',
      { GeneratorId: 'security-control/EC2.19' },
      'GeneratorId names EC2.19',
    ],
    ['PASSED', { 'Compliance.Status': 'PASSED' }, 'PASSED, not FAILED'],
    ['no compliance status', { Compliance: undefined }, 'missing, not FAILED'],
    ['ARCHIVED', { RecordState: 'ARCHIVED' }, 'ARCHIVED, not ACTIVE'],
    ['already NOTIFIED', { 'Workflow.Status': 'NOTIFIED' }, 'NOTIFIED, not NEW'],
    [
      "no resource of the control's type",
      { Resources: [{ Type: 'AwsEc2Vpc', Id: 'arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1' }] },
      'names no AwsEc2SecurityGroup',
    ],
    [
      'a resource id that is not an ARN',
      { Resources: [{ Type: 'AwsEc2SecurityGroup', Id: 'sg-1234123f' }] },
      'expected an ec2 security-group ARN',
    ],
    [
      'a resource in another account',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: 'arn:aws:ec2:us-east-1:222222222222:security-group/sg-1234123f',
          },
        ],
      },
      'in account 222222222222',
    ],
    [
      'a resource in another region',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: 'arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1234123f',
          },
        ],
      },
      'in region eu-west-1',
    ],
    [
      'a resource Region field that disagrees',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Region: 'eu-west-1',
            Id: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
          },
        ],
      },
      'in region',
    ],
    [
      'a wildcard resource id',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: 'arn:aws:ec2:us-east-1:111111111111:security-group/*',
          },
        ],
      },
      'does not name a single security-group',
    ],
  ])('refuses %s', (_name, changes, reason) => {
    const verdict = assess(changes);

    expect(verdict.ok).toBe(false);
    expect(verdict.ok === false && verdict.reason).toContain(reason);
  });

  it('refuses an event from another account or region than its own', () => {
    expect(assess({}, 'imported', { account: '222222222222' }).ok).toBe(false);
    expect(assess({}, 'imported', { region: 'eu-west-1' }).ok).toBe(false);
  });

  it("honours a person's custom action whatever the workflow status", () => {
    expect(assess({ 'Workflow.Status': 'NOTIFIED' }, 'remediate-action').ok).toBe(true);
    expect(assess({ 'Workflow.Status': 'SUPPRESSED' }, 'plan-action').ok).toBe(true);
  });
});
