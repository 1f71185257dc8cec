/**
 * Throttling and 5xx answers are retried with backoff by the SDK clients
 * hubfix builds (adaptive retry mode). aws-sdk-client-mock replaces `send`
 * above the retry middleware, so these tests answer at the HTTP layer instead.
 */
import { Readable } from 'node:stream';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { HttpRequest } from '@smithy/types';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsClientOptions, DEFAULT_MAX_ATTEMPTS } from '../../../lambdas/core/aws';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** Answers each request with the next scripted answer, recording every attempt. */
function scripted(answers: readonly Answer[]) {
  const attempts: HttpRequest[] = [];
  return {
    attempts,
    handler: {
      async handle(request: HttpRequest) {
        attempts.push(request);
        const answer = answers[Math.min(attempts.length - 1, answers.length - 1)];
        if (!answer) throw new Error('no scripted answer');
        return {
          response: {
            statusCode: answer.status,
            reason: undefined,
            headers: { 'content-type': 'text/xml', ...answer.headers },
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Settles a promise while moving fake time on, so real backoff delays take no real time. */
async function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  const settled = Promise.allSettled([promise]).then(([result]) => result);
  let done = false;
  void settled.then(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(1_000);
  const result = await settled;
  if (!result) throw new Error('nothing settled');
  return result;
}

const ec2Error = (code: string) =>
  `<Response><Errors><Error><Code>${code}</Code><Message>${code}</Message></Error></Errors><RequestID>r</RequestID></Response>`;
const ec2Ok =
  '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo><item><groupId>sg-1</groupId><groupName>default</groupName></item></securityGroupInfo></DescribeSecurityGroupsResponse>';

describe('retries', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses adaptive retry with several attempts', () => {
    expect(awsClientOptions('us-east-1')).toEqual({
      region: 'us-east-1',
      maxAttempts: 5,
      retryMode: 'adaptive',
    });
  });

  it('retries EC2 RequestLimitExceeded and 5xx answers until one succeeds', async () => {
    // Prepare
    const http = scripted([
      { status: 503, body: ec2Error('RequestLimitExceeded') },
      { status: 500, body: ec2Error('InternalError') },
      { status: 200, body: ec2Ok },
    ]);
    const ec2 = new EC2Client({
      ...awsClientOptions('us-east-1'),
      credentials,
      requestHandler: http.handler,
    });

    // Act
    const result = await settle(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] })),
    );

    // Assess
    expect(result.status === 'fulfilled' && result.value.SecurityGroups?.[0]?.GroupName).toBe(
      'default',
    );
    expect(http.attempts).toHaveLength(3);
  });

  it('gives up after the last attempt and surfaces the throttling error', async () => {
    const http = scripted([
      {
        status: 400,
        body: '{"__type":"ThrottlingException","message":"Rate exceeded"}',
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException' },
      },
    ]);
    const securityHub = new SecurityHubClient({
      ...awsClientOptions('us-east-1'),
      credentials,
      requestHandler: http.handler,
    });

    const send = securityHub.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f', ProductArn: 'p' }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    const result = await settle(send);
    expect(result.status === 'rejected' && result.reason).toMatchObject({
      name: 'ThrottlingException',
    });
    expect(http.attempts).toHaveLength(DEFAULT_MAX_ATTEMPTS);
  });

  it('does not retry a client error that retrying cannot fix', async () => {
    const http = scripted([{ status: 400, body: ec2Error('InvalidGroup.NotFound') }]);
    const ec2 = new EC2Client({
      ...awsClientOptions('us-east-1'),
      credentials,
      requestHandler: http.handler,
    });

    await expect(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] })),
    ).rejects.toMatchObject({
      name: 'InvalidGroup.NotFound',
    });
    expect(http.attempts).toHaveLength(1);
  });
});
