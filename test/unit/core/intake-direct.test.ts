import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../../lambdas/core/errors';
import { readIntake } from '../../../lambdas/core/intake';
import { DIRECT_REQUEST_MARKER } from '../../../lambdas/core/intake/direct';
import { EC2_2_FINDING, importedEvent, SELF } from '../../support/fixtures';

const request = {
  type: DIRECT_REQUEST_MARKER,
  requestId: 'cli-7c0f',
  request: 'plan',
  origin: 'cli',
  by: 'arn:aws:iam::111111111111:user/alice',
  findings: [
    {
      format: 'asff',
      id: 'arn:finding/1',
      productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    },
    {
      format: 'ocsf',
      uid: 'arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.2/finding/abc',
    },
  ],
};

describe('readIntake', () => {
  it("reads a person's direct request as lookups only, in the function's own account and region", () => {
    expect(readIntake(request, SELF)).toEqual({
      eventId: 'cli-7c0f',
      account: '111111111111',
      region: 'us-east-1',
      trigger: {
        kind: 'direct',
        request: 'plan',
        origin: 'cli',
        by: 'arn:aws:iam::111111111111:user/alice',
      },
      findings: [
        { ok: 'lookup', lookup: request.findings[0] },
        { ok: 'lookup', lookup: request.findings[1] },
      ],
    });
  });

  it('reads a Security Hub event with its own adapter', () => {
    const intake = readIntake(importedEvent([EC2_2_FINDING]), SELF);
    expect(intake.trigger).toEqual({ kind: 'imported' });
    expect(intake.findings[0]).toMatchObject({ ok: true, finding: { id: EC2_2_FINDING.Id } });
  });

  it.each([
    ['no findings', { ...request, findings: [] }, 'findings'],
    ['an unknown request', { ...request, request: 'delete' }, 'request'],
    ['an unknown origin', { ...request, origin: 'somewhere' }, 'origin'],
    ['a finding with no id', { ...request, findings: [{ format: 'asff' }] }, 'findings[0].id'],
    [
      'a product that is not Security Hub',
      { ...request, findings: [{ format: 'asff', id: 'x', productArn: 'arn:aws:s3:::bucket' }] },
      'findings[0].productArn',
    ],
    [
      'too many findings',
      { ...request, findings: Array.from({ length: 101 }, () => request.findings[0]) },
      'findings',
    ],
  ])('rejects a request with %s, naming the path', (_name, raw, path) => {
    const read = () => readIntake(raw, SELF);
    expect(read).toThrow(MalformedEventError);
    try {
      read();
    } catch (error) {
      expect((error as MalformedEventError).issues.map((i) => i.path)).toContain(path);
    }
  });
});
