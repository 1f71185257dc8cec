import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2_2 } from '../../../lambdas/controls/ec2-2/remediate';
import type { Control } from '../../../lambdas/core/control';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { main } from '../../../lib/cli/main';
import { resetStrict, strictMock } from '../../support/aws';
import { ENTRY, fakeCli, OPERATOR } from '../../support/cli';
import { givenNoRulesNow } from '../../support/ec2-2';

const ec2 = new EC2Client({ region: 'us-east-1' });
const stub = strictMock(ec2);
const controls = { 'EC2.2': ec2_2 as unknown as Control<unknown, unknown, unknown, object> };
const RESTORE = {
  GroupId: 'sg-1234123f',
  IpPermissions: [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
  ],
};

beforeEach(() => {
  resetStrict(stub);
});

function cli(options: { entry?: LedgerEntry; answer?: string } = {}) {
  return fakeCli({
    entries: [options.entry ?? ENTRY],
    controls,
    clients: { ec2 },
    ...(options.answer === undefined ? {} : { answer: options.answer }),
  });
}

describe('npx hubfix rollback', () => {
  it('shows the exact calls, asks for the resource id, and makes only those calls', async () => {
    // Prepare
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const t = cli({ answer: 'sg-1234123f\n' });

    // Act
    const code = await main(['rollback', ENTRY.changeId], t.deps);

    // Assess
    expect(code).toBe(0);
    const shown = t.out.indexOf(
      `The rollback of ${ENTRY.changeId} will make these AWS calls in account 111111111111, us-east-1, as ${OPERATOR.arn}:`,
    );
    expect(shown).toBeGreaterThan(0);
    expect(t.out.slice(shown + 1, shown + 4)).toEqual([
      '  1. ec2:AuthorizeSecurityGroupIngress on sg-1234123f',
      '     gives back: inbound rule sgr-1: tcp 22 from 0.0.0.0/0',
      `     ${JSON.stringify(RESTORE)}`,
    ]);
    expect(t.calls).toContain(
      'ask Type the resource id (sg-1234123f) to roll back, anything else to stop: ',
    );
    expect(stub).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(t.calls).toContain('record ROLLED_BACK ROLLED_BACK');
    expect(t.out).toContain(`rolled back ${ENTRY.changeId}:`);
  });

  it.each([
    ['"yes" is not the resource id', 'yes'],
    ['another resource id', 'sg-9999999f'],
    ['nothing', ''],
  ])('changes nothing and records the attempt when the answer is %s', async (_name, answer) => {
    const t = cli({ answer });

    expect(await main(['rollback', ENTRY.changeId], t.deps)).toBe(1);
    expect(stub.calls()).toHaveLength(0);
    expect(t.calls).not.toContain(`claim ${ENTRY.changeId}`);
    expect(t.attempts).toMatchObject([{ outcome: 'DECLINED', by: OPERATOR.arn }]);
    expect(t.err).toEqual([
      'hubfix: not rolled back: the resource id was not typed (the attempt is recorded)',
    ]);
  });

  it('does not roll back without a terminal to confirm on, unless --yes', async () => {
    const t = cli();

    expect(await main(['rollback', ENTRY.changeId], t.deps)).toBe(1);
    expect(t.err[0]).toBe(
      'hubfix: no terminal to confirm on: pass --yes to roll back without asking',
    );
    expect(stub.calls()).toHaveLength(0);
  });

  it('with --yes still shows and checks the calls, but does not ask', async () => {
    givenNoRulesNow(stub, 'sg-1234123f');
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const t = cli();

    expect(await main(['rollback', ENTRY.changeId, '--yes'], t.deps)).toBe(0);
    expect(t.out).toContain('  1. ec2:AuthorizeSecurityGroupIngress on sg-1234123f');
    expect(t.calls.some((c) => c.startsWith('ask'))).toBe(false);
  });

  it('refuses an entry whose before-state opens another group, before asking anything', async () => {
    // Prepare: the entry names sg-1234123f; its before-state would open sg-9999999f.
    const forged = {
      ...ENTRY,
      before: ENTRY.before.replaceAll('sg-1234123f', 'sg-9999999f'),
    };
    const t = cli({ entry: forged, answer: 'sg-1234123f' });

    // Act
    const code = await main(['rollback', ENTRY.changeId], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toBe(
      "hubfix: refused: the recorded before-state is not bound to this entry: the recorded before-state acts on sg-9999999f, but the entry's resource is sg-1234123f",
    );
    expect(t.calls.some((c) => c.startsWith('ask'))).toBe(false);
    expect(stub.calls()).toHaveLength(0);
    expect(t.attempts).toMatchObject([{ outcome: 'REFUSED', by: OPERATOR.arn }]);
  });

  it('refuses to give back a rule the change did not record revoking', async () => {
    const t = cli({ entry: { ...ENTRY, changes: [] }, answer: 'sg-1234123f' });

    expect(await main(['rollback', ENTRY.changeId], t.deps)).toBe(1);
    expect(t.err[0]).toContain(
      'hubfix: refused: the rollback would give back more than the change took away: AuthorizeSecurityGroupIngress on sg-1234123f',
    );
    expect(stub.calls()).toHaveLength(0);
  });

  it('shows what a part-way change never took away as not given back, and gives back the rest', async () => {
    // Prepare: the change revoked sgr-1 and stopped before sgr-2
    const sgr2 = {
      ruleId: 'sgr-2',
      groupId: 'sg-1234123f',
      egress: true,
      protocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    };
    const before = JSON.parse(ENTRY.before) as { rules: unknown[] };
    const partWay: LedgerEntry = {
      ...ENTRY,
      status: 'FAILED',
      before: JSON.stringify({ ...before, rules: [...before.rules, sgr2] }),
      stateLeft: 'the 1 inbound rule(s) were revoked; the outbound rules are still in place',
    };
    stub
      .on(
        DescribeSecurityGroupRulesCommand,
        {
          Filters: [{ Name: 'group-id', Values: ['sg-1234123f'] }],
          MaxResults: 1000,
          NextToken: undefined,
        },
        true,
      )
      .resolves({
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: 'sgr-2',
            GroupId: 'sg-1234123f',
            IsEgress: true,
            IpProtocol: '-1',
            CidrIpv4: '0.0.0.0/0',
          },
        ],
      });
    stub.on(AuthorizeSecurityGroupIngressCommand, RESTORE, true).resolves({ Return: true });
    const t = cli({ entry: partWay, answer: 'sg-1234123f' });

    // Act
    const code = await main(['rollback', ENTRY.changeId], t.deps);

    // Assess
    expect(code).toBe(0);
    const withheld = t.out.indexOf(
      'It will not make these, because the entry does not record that the change took their access away (it stopped part-way and left: the 1 inbound rule(s) were revoked; the outbound rules are still in place):',
    );
    expect(withheld).toBeGreaterThan(0);
    expect(t.out[withheld + 1]).toBe(
      '  - ec2:AuthorizeSecurityGroupEgress on sg-1234123f: would give back outbound rule sgr-2: all traffic to 0.0.0.0/0',
    );
    expect(stub).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(stub).toHaveReceivedCommandTimes(AuthorizeSecurityGroupEgressCommand, 0);
    expect(t.calls).toContain('record ROLLED_BACK ROLLED_BACK');
  });

  it('refuses, before asking, a part-way change that recorded nothing it took away', async () => {
    const t = cli({
      entry: {
        ...ENTRY,
        status: 'FAILED',
        changes: [],
        stateLeft: 'unchanged: no rule was revoked',
      },
      answer: 'sg-1234123f',
    });

    expect(await main(['rollback', ENTRY.changeId], t.deps)).toBe(1);
    expect(t.err[0]).toContain(
      'hubfix: refused: the change stopped before recording anything it took away, so the rollback may give nothing back',
    );
    expect(t.calls.some((c) => c.startsWith('ask'))).toBe(false);
    expect(stub.calls()).toHaveLength(0);
  });

  it('prints a refusal quoting ledger text with its control characters escaped', async () => {
    const t = cli({
      entry: {
        ...ENTRY,
        status: 'ROLLED_BACK',
        rollbacks: [
          {
            at: '2026-11-22T12:00:00Z',
            by: 'mallory\u001b[2K\rok',
            outcome: 'ROLLED_BACK',
            lines: [],
          },
        ],
      },
    });

    expect(await main(['rollback', ENTRY.changeId], t.deps)).toBe(1);
    expect(t.err[0]).toBe(
      `hubfix: refused: change ${ENTRY.changeId} was already rolled back on 2026-11-22T12:00:00Z by mallory\\x1b[2K\\x0dok`,
    );
  });
});
