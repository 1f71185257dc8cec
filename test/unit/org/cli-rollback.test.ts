/**
 * `npx hubfix rollback` of a change hubfix made in a member account (org
 * mode): it assumes the member's rollback role (or the one named with
 * --role-name) and acts in the change's account and region.
 */
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import type { Control } from '../../../lambdas/core/control';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { main } from '../../../lib/cli/main';
import { resetStrict, strictMock } from '../../support/aws';
import { ENTRY, fakeCli, OPERATOR } from '../../support/cli';
import { givenNoRulesNow } from '../../support/ec2-2';
import { asMember, MEMBER, MEMBER_REGION } from '../../support/organization';

const ec2 = new EC2Client({ region: MEMBER_REGION });
const stub = strictMock(ec2);
const controls = { 'EC2.2': ec2_2 as unknown as Control<unknown, unknown, unknown, object> };
const RESTORE = {
  GroupId: 'sg-1234123f',
  IpPermissions: [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
  ],
};
/** The same change, made in the member account and region. */
const MEMBER_ENTRY: LedgerEntry = {
  ...asMember(ENTRY as unknown as Record<string, unknown>),
  account: MEMBER,
  region: MEMBER_REGION,
} as unknown as LedgerEntry;
const ROLLBACK_ROLE = `arn:aws:iam::${MEMBER}:role/hubfix-rollback`;

beforeEach(() => {
  resetStrict(stub);
});

function cli(entry: LedgerEntry = MEMBER_ENTRY, fail: { assume?: Error } = {}) {
  return fakeCli({ entries: [entry], controls, clients: { ec2 }, fail });
}

describe('npx hubfix rollback of a member account change', () => {
  it("assumes the member's hubfix-rollback role and acts in the change's account and region", async () => {
    // Prepare
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const t = cli();

    // Act
    const code = await main(['rollback', MEMBER_ENTRY.changeId, '--yes'], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(t.calls).toContain(`assume ${ROLLBACK_ROLE} in ${MEMBER_REGION}`);
    expect(t.calls).toContain(`clients ${MEMBER_REGION} with assumed credentials`);
    expect(t.out).toContain(
      `The rollback of ${MEMBER_ENTRY.changeId} will make these AWS calls in account ${MEMBER}, ${MEMBER_REGION}, as ${OPERATOR.arn} as ${ROLLBACK_ROLE}:`,
    );
    expect(stub).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(t.attempts).toMatchObject([
      { outcome: 'ROLLED_BACK', by: `${OPERATOR.arn} as ${ROLLBACK_ROLE}` },
    ]);
  });

  it('assumes the role --role-name names instead', async () => {
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const t = cli();

    const code = await main(
      ['rollback', MEMBER_ENTRY.changeId, '--yes', '--role-name', 'BreakGlass'],
      t.deps,
    );

    expect(code).toBe(0);
    expect(t.calls).toContain(`assume arn:aws:iam::${MEMBER}:role/BreakGlass in ${MEMBER_REGION}`);
  });

  it('says which role could not be assumed, and changes nothing', async () => {
    const denied = new Error(
      `User: ${OPERATOR.arn} is not authorized to perform: sts:AssumeRole on resource: ${ROLLBACK_ROLE}`,
    );
    denied.name = 'AccessDenied';
    const t = cli(MEMBER_ENTRY, { assume: denied });

    const code = await main(['rollback', MEMBER_ENTRY.changeId, '--yes'], t.deps);

    expect(code).toBe(1);
    expect(stub.calls()).toHaveLength(0);
    expect(t.calls).not.toContain(`claim ${MEMBER_ENTRY.changeId}`);
    expect(t.err.join('\n')).toContain(ROLLBACK_ROLE);
  });

  it("uses the operator's own credentials for a change in the operator's account", async () => {
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const own = { ...ENTRY, account: OPERATOR.account, region: 'us-east-1' };
    const t = cli(own);

    expect(await main(['rollback', own.changeId, '--yes'], t.deps)).toBe(0);
    expect(t.calls.filter((c) => c.startsWith('assume'))).toEqual([]);
    expect(t.calls).toContain('clients us-east-1');
  });
});
