import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeOutcomePublisher } from '../../../lambdas/core/adapters/events';
import type { AsyncInvoker } from '../../../lambdas/core/adapters/lambda-invoke';
import { LambdaRequeue } from '../../../lambdas/core/adapters/requeue';
import { OutcomeEventError, RequeueError } from '../../../lambdas/core/errors';
import { DIRECT_REQUEST_MARKER, type DirectRequest } from '../../../lambdas/core/intake/direct';
import type { OutcomeEvent } from '../../../lambdas/core/ports';
import { resetStrict, serviceError, strictMock } from '../../support/aws';

const event: OutcomeEvent = {
  control: 'EC2.2',
  outcome: 'FAILED',
  decision: 'REMEDIATE',
  reason: 'allow-listed',
  account: '111111111111',
  region: 'us-east-1',
  resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
  resourceType: 'AwsEc2SecurityGroup',
  findingId: 'finding-1',
  changeId: 'EC2.2-1',
  severity: 'HIGH',
  request: 'imported',
  via: 'security-hub',
  workflow: 'NOTIFIED',
  drifted: false,
};

describe('EventBridgeOutcomePublisher', () => {
  const eventBridge = strictMock(EventBridgeClient);
  const publisher = () =>
    new EventBridgeOutcomePublisher(new EventBridgeClient({ region: 'us-east-1' }));
  beforeEach(() => {
    resetStrict(eventBridge);
  });

  it('puts one "Remediation Outcome" event from source hubfix on the default bus', async () => {
    eventBridge
      .on(
        PutEventsCommand,
        {
          Entries: [
            {
              Source: 'hubfix',
              DetailType: 'Remediation Outcome',
              Detail: JSON.stringify(event),
              EventBusName: 'default',
              Resources: [event.resource],
            },
          ],
        },
        true,
      )
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });

    await publisher().publish(event);

    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('turns an entry EventBridge refused (answered with 200) into an error', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
    });

    await expect(publisher().publish(event)).rejects.toThrow(
      new OutcomeEventError(
        'EventBridge refused the outcome event: ThrottlingException: slow down',
      ),
    );
  });

  it('wraps a failed call, keeping the cause', async () => {
    const cause = serviceError('AccessDeniedException');
    eventBridge.on(PutEventsCommand).rejects(cause);

    await expect(publisher().publish(event)).rejects.toMatchObject({
      name: 'OutcomeEventError',
      cause,
    });
  });
});

describe('LambdaRequeue', () => {
  const request: DirectRequest = {
    type: DIRECT_REQUEST_MARKER,
    requestId: 'event-1-rest',
    request: 'remediate',
    origin: 'requeue',
    findings: [{ format: 'asff', id: 'finding-2' }],
  };

  function invoker(status: number | Error) {
    const sent: { functionName: string; payload: unknown }[] = [];
    let connects = 0;
    const connect = async (): Promise<AsyncInvoker> => {
      connects += 1;
      return {
        async invokeAsync(functionName, payload) {
          if (status instanceof Error) throw status;
          sent.push({ functionName, payload: JSON.parse(new TextDecoder().decode(payload)) });
          return status;
        },
      };
    };
    return { connect, sent, connects: () => connects };
  }

  it('invokes its own function asynchronously with the request, loading the client once', async () => {
    const lambda = invoker(202);
    const requeue = new LambdaRequeue(lambda.connect, 'Hubfix-Ecs16-abc');

    await requeue.send(request);
    await requeue.send(request);

    expect(lambda.sent).toEqual([
      { functionName: 'Hubfix-Ecs16-abc', payload: request },
      { functionName: 'Hubfix-Ecs16-abc', payload: request },
    ]);
    expect(lambda.connects()).toBe(1);
  });

  it('fails when Lambda did not take the event (anything but 202)', async () => {
    await expect(new LambdaRequeue(invoker(200).connect, 'f').send(request)).rejects.toThrow(
      new RequeueError('Lambda answered 200 to an asynchronous invoke'),
    );
  });

  it('fails, keeping the cause, when the invoke fails', async () => {
    const cause = serviceError('TooManyRequestsException');
    await expect(
      new LambdaRequeue(invoker(cause).connect, 'f').send(request),
    ).rejects.toMatchObject({
      name: 'RequeueError',
      cause,
    });
  });

  it("refuses a request over Lambda's 256 KB asynchronous payload limit without calling it", async () => {
    const lambda = invoker(202);
    const huge = {
      ...request,
      findings: Array.from({ length: 100 }, () => ({
        format: 'asff' as const,
        id: 'x'.repeat(3_000),
      })),
    };

    await expect(new LambdaRequeue(lambda.connect, 'f').send(huge)).rejects.toBeInstanceOf(
      RequeueError,
    );
    expect(lambda.connects()).toBe(0);
  });
});
