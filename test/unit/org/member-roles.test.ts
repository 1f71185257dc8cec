import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import {
  FAILURE_MEMORY_MS,
  MemberRoles,
  SESSION_SECONDS,
} from '../../../lambdas/core/adapters/member-roles';
import type { AwsClientOptions } from '../../../lambdas/core/aws';
import { MemberAccessError } from '../../../lambdas/core/errors';
import { serviceError, strictMock } from '../../support/aws';

const ROLE = 'arn:aws:iam::222222222222:role/hubfix-member-ec2-2';
const MEMBER = { partition: 'aws', account: '222222222222', region: 'eu-west-1' };
const HOUR = 3_600_000;

/** STS's AssumeRole answer: the credentials expire an hour after `now`. */
function issued(now: number, key = 'ASIAMEMBER') {
  return {
    Credentials: {
      AccessKeyId: key,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(now + HOUR),
    },
    AssumedRoleUser: { AssumedRoleId: 'AROA:hubfix-EC2.2', Arn: `${ROLE}/hubfix-EC2.2` },
  };
}

function setup() {
  const client = new STSClient({ region: 'us-east-1' });
  const sts = strictMock(client);
  const time = { now: Date.parse('2026-12-01T10:00:00Z') };
  const made: AwsClientOptions[] = [];
  const roles = new MemberRoles({
    sts: client,
    roleName: 'hubfix-member-ec2-2',
    sessionName: 'hubfix-EC2.2',
    createClients: (options) => {
      made.push(options);
      return { made: made.length };
    },
    now: () => time.now,
  });
  return { sts, time, made, roles };
}

const assumeInput = {
  RoleArn: ROLE,
  RoleSessionName: 'hubfix-EC2.2',
  DurationSeconds: SESSION_SECONDS,
};

describe('MemberRoles', () => {
  it("assumes the control's role in the account and builds clients for the region with its credentials", async () => {
    const { sts, time, made, roles } = setup();
    sts.on(AssumeRoleCommand, assumeInput).resolves(issued(time.now));

    const clients = await roles.clientsFor(MEMBER);

    expect(clients).toEqual({ made: 1 });
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ region: 'eu-west-1', maxAttempts: 5, retryMode: 'adaptive' });
    await expect(made[0]?.credentials?.()).resolves.toEqual({
      accessKeyId: 'ASIAMEMBER',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date(time.now + HOUR),
    });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('keeps the credentials for their lifetime: one AssumeRole per account, clients per region', async () => {
    const { sts, time, made, roles } = setup();
    sts.on(AssumeRoleCommand, assumeInput).resolves(issued(time.now));

    await Promise.all([roles.clientsFor(MEMBER), roles.clientsFor(MEMBER)]);
    time.now += 50 * 60_000;
    await roles.clientsFor(MEMBER);
    await roles.clientsFor({ ...MEMBER, region: 'us-east-1' });

    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(made.map((m) => m.region)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('renews credentials within five minutes of their expiry, for clients already made too', async () => {
    const { sts, time, made, roles } = setup();
    sts
      .on(AssumeRoleCommand, assumeInput)
      .resolvesOnce(issued(time.now, 'ASIAFIRST'))
      .resolvesOnce(issued(time.now + 56 * 60_000, 'ASIASECOND'));

    await roles.clientsFor(MEMBER);
    time.now += 56 * 60_000;
    await roles.clientsFor(MEMBER);

    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    await expect(made[0]?.credentials?.()).resolves.toMatchObject({ accessKeyId: 'ASIASECOND' });
  });

  it('names the account and role when the role cannot be assumed, and does not ask again for a while', async () => {
    const { sts, time, roles } = setup();
    // STS answers AccessDenied both for a missing role and for one that does not trust the caller.
    sts
      .on(AssumeRoleCommand, assumeInput)
      .rejects(
        serviceError(
          'AccessDenied',
          `User: arn:aws:sts::111111111111:assumed-role/central/fn is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
        ),
      );

    const first = await roles.clientsFor(MEMBER).catch((error: unknown) => error);
    await expect(roles.clientsFor(MEMBER)).rejects.toBe(first);
    time.now += FAILURE_MEMORY_MS + 1;
    await expect(roles.clientsFor(MEMBER)).rejects.toThrow(MemberAccessError);

    expect(first).toBeInstanceOf(MemberAccessError);
    expect(first).toMatchObject({ account: '222222222222', roleArn: ROLE });
    expect(String((first as Error).message)).toBe(
      `hubfix cannot assume ${ROLE} in account 222222222222: AccessDenied: User: arn:aws:sts::111111111111:assumed-role/central/fn is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('asks again at once after a throttled AssumeRole', async () => {
    const { sts, time, roles } = setup();
    const throttled = serviceError('Throttling', 'Rate exceeded');
    Object.assign(throttled, { $metadata: { httpStatusCode: 400 } });
    sts.on(AssumeRoleCommand, assumeInput).rejectsOnce(throttled).resolvesOnce(issued(time.now));

    await expect(roles.clientsFor(MEMBER)).rejects.toThrow(MemberAccessError);
    await expect(roles.clientsFor(MEMBER)).resolves.toEqual({ made: 1 });
  });
});
