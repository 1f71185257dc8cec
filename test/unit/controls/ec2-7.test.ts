import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ec2_7Params } from '../../../lambdas/controls/ec2-7/meta';
import {
  type EbsDefaultEncryptionState,
  type Ec2_7Before,
  type Ec2_7Clients,
  ec2_7,
} from '../../../lambdas/controls/ec2-7/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import { PartialChangeError, RollbackRefusedError } from '../../../lambdas/core/errors';
import type { ResourceRef } from '../../../lambdas/core/resource';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { fakeClock, findingContext, rollbackContext } from '../../support/control';

const ACCOUNT = '111111111111';
const ref: ResourceRef = {
  type: 'AwsAccount',
  raw: `AWS::::Account:${ACCOUNT}`,
  partition: 'aws',
  account: ACCOUNT,
  region: 'us-east-1',
  id: ACCOUNT,
};

const ec2Mock = strictMock(EC2Client);
const clients: Ec2_7Clients = { ec2: new EC2Client({ region: 'us-east-1' }) };
const ctx: FindingContext<Ec2_7Clients, Ec2_7Params> = findingContext(clients, {});
const OFF: EbsDefaultEncryptionState = { account: ACCOUNT, region: 'us-east-1', enabled: false };
const BEFORE: Ec2_7Before = { account: ACCOUNT, region: 'us-east-1', enabled: false };

/** Each read answers with the next of `answers`, the last one from then on. */
function givenEncryption(...answers: boolean[]) {
  const stub = ec2Mock.on(GetEbsEncryptionByDefaultCommand, {}, true);
  for (const answer of answers) stub.resolvesOnce({ EbsEncryptionByDefault: answer });
  const last = answers.at(-1);
  if (last !== undefined) stub.resolves({ EbsEncryptionByDefault: last });
}

function changePlan(state: EbsDefaultEncryptionState): ChangePlan<Ec2_7Before> {
  const plan = ec2_7.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

beforeEach(() => {
  resetStrict(ec2Mock);
});

describe('EC2.7', () => {
  it('reads the setting, plans, turns encryption by default on and verifies it', async () => {
    // Prepare
    givenEncryption(false, true);
    ec2Mock
      .on(EnableEbsEncryptionByDefaultCommand, {}, true)
      .resolves({ EbsEncryptionByDefault: true });

    // Act
    const read = await ec2_7.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');
    const plan = changePlan(read.state);
    const blockers = await ec2_7.preflight(read.state, ctx);
    const applied = await ec2_7.apply(read.state, plan, ctx);
    const verdict = await ec2_7.verify(read.state, ctx);

    // Assess
    expect(read).toEqual({ kind: 'found', state: OFF, tags: {} });
    expect(plan.summary).toBe(
      `turn on EBS encryption by default for account ${ACCOUNT} in us-east-1`,
    );
    expect(plan.before).toEqual(BEFORE);
    expect(plan.undo).toEqual(['aws ec2 disable-ebs-encryption-by-default --region us-east-1']);
    expect(plan.steps[0]).toContain('Existing volumes and snapshots stay as they are');
    expect(blockers).toEqual([]);
    expect(applied.changes).toEqual(['turned on EBS encryption by default in us-east-1']);
    expect(verdict).toEqual({ ok: true });
    expect(ec2Mock.calls()).toHaveLength(3);
  });

  it('sees encryption already on as compliant', async () => {
    givenEncryption(true);

    const read = await ec2_7.readState(ref, ctx);
    if (read.kind !== 'found') throw new Error('expected found');

    expect(ec2_7.plan(read.state, ctx)).toEqual({
      kind: 'compliant',
      summary: `EBS encryption by default is already on for account ${ACCOUNT} in us-east-1`,
    });
  });

  it('lets a read failure through, so the pipeline fails closed', async () => {
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ec2_7.readState(ref, ctx)).rejects.toThrow('UnauthorizedOperation');
  });

  it('reports the account unchanged when enabling fails', async () => {
    ec2Mock
      .on(EnableEbsEncryptionByDefaultCommand)
      .rejects(serviceError('UnauthorizedOperation', 'not allowed'));

    const apply = ec2_7.apply(OFF, changePlan(OFF), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      stateLeft: 'unchanged: EBS encryption by default is still off',
    });
  });

  it('does not claim success when EC2 does not confirm the change', async () => {
    ec2Mock.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false });

    await expect(ec2_7.apply(OFF, changePlan(OFF), ctx)).rejects.toMatchObject({
      stateLeft: expect.stringContaining('unknown'),
    });
  });

  it('fails verification when the setting still reads off after the verify backoff', async () => {
    givenEncryption(false);
    const { clock, sleeps } = fakeClock();

    expect(await ec2_7.verify(OFF, { ...ctx, clock })).toEqual({
      ok: false,
      reason: 'EBS encryption by default still reads off in us-east-1',
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging read shows the setting on', async () => {
    givenEncryption(false, false, true);
    const { clock, sleeps } = fakeClock();

    expect(await ec2_7.verify(OFF, { ...ctx, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('rolls back by turning encryption by default off again in the recorded region', async () => {
    // Prepare
    ec2Mock
      .on(DisableEbsEncryptionByDefaultCommand, {}, true)
      .resolves({ EbsEncryptionByDefault: false });

    // Act
    const lines = await ec2_7.rollback(BEFORE, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      'turned EBS encryption by default off again in us-east-1: new volumes are no longer encrypted unless their creator asks',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DisableEbsEncryptionByDefaultCommand, 1);
  });

  it('refuses to roll back from another region, which would change that region instead', async () => {
    const elsewhere = { ec2: new EC2Client({ region: 'eu-west-1' }) };

    await expect(ec2_7.rollback(BEFORE, rollbackContext(elsewhere))).rejects.toBeInstanceOf(
      RollbackRefusedError,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('validates a before-state read back from the ledger', () => {
    expect(ec2_7.before.parse(BEFORE, 'before').ok).toBe(true);
    expect(ec2_7.before.parse({ ...BEFORE, account: 'me' }, 'before').ok).toBe(false);
    expect(ec2_7.before.parse({ account: ACCOUNT, region: 'us-east-1' }, 'before').ok).toBe(false);
  });
});
