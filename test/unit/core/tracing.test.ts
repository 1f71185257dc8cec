import { createSocket } from 'node:dgram';
import { Readable } from 'node:stream';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { HttpRequest } from '@smithy/types';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  parseDaemonAddress,
  parseTraceHeader,
  type SegmentSink,
  type Subsegment,
  Tracer,
  UdpSegmentSink,
} from '../../../lambdas/core/tracing';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const HEADER = `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`;

function recordingSink() {
  const sent: Subsegment[] = [];
  const sink: SegmentSink = { send: (s) => sent.push(s) };
  return { sink, sent };
}

function tracer(
  sink: SegmentSink | undefined,
  header: { value: string | undefined } = { value: HEADER },
) {
  let id = 0;
  let clock = 1_700_000_000_000;
  return new Tracer({
    sink,
    traceHeader: () => header.value,
    service: 'hubfix',
    region: 'us-east-1',
    annotations: { control: 'EC2.2' },
    now: () => (clock += 5),
    newId: () => `id${String(++id).padStart(14, '0')}`,
  });
}

/** An EC2 client whose HTTP layer answers with a status and body, recording requests. */
function ec2Answering(status: number, body: string) {
  const requests: HttpRequest[] = [];
  const client = new EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        requests.push(request);
        return {
          response: {
            statusCode: status,
            headers: {
              'content-type': 'text/xml',
              'x-amzn-requestid': status === 200 ? 'req-1' : 'req-2',
            },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
  return { client, requests };
}

const OK =
  '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>';
const error = (code: string) =>
  `<Response><Errors><Error><Code>${code}</Code><Message>nope</Message></Error></Errors><RequestID>req-2</RequestID></Response>`;

describe('parseTraceHeader', () => {
  it.each([
    [HEADER, { root: ROOT, parent: '53995c3f42cd8ad8', sampled: true }],
    [`Root=${ROOT};Sampled=0`, { root: ROOT, parent: undefined, sampled: false }],
    [`Root=${ROOT};Parent=1;Sampled=1;Lineage=a:1`, { root: ROOT, parent: '1', sampled: true }],
    ['Root=bad;Sampled=1', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (value, expected) => {
    expect(parseTraceHeader(value)).toEqual(expected);
  });
});

describe('parseDaemonAddress', () => {
  it.each([
    ['169.254.79.129:2000', { host: '169.254.79.129', port: 2000 }],
    ['tcp:127.0.0.1:2000 udp:127.0.0.2:2001', { host: '127.0.0.2', port: 2001 }],
    ['nonsense', undefined],
    [undefined, undefined],
  ])('%s', (value, expected) => {
    expect(parseDaemonAddress(value)).toEqual(expected);
  });
});

describe('Tracer', () => {
  it('records an SDK call as an aws subsegment and passes the trace on to the service', async () => {
    // Prepare
    const { sink, sent } = recordingSink();
    const { client, requests } = ec2Answering(200, OK);
    tracer(sink).instrument(client);

    // Act
    await client.send(new DescribeSecurityGroupsCommand({}));

    // Assess
    expect(sent).toEqual([
      {
        type: 'subsegment',
        id: 'id00000000000001',
        trace_id: ROOT,
        parent_id: '53995c3f42cd8ad8',
        name: 'EC2',
        namespace: 'aws',
        start_time: expect.any(Number),
        end_time: expect.any(Number),
        aws: {
          operation: 'DescribeSecurityGroups',
          region: 'us-east-1',
          request_id: 'req-1',
          retries: 0,
        },
        http: { response: { status: 200 } },
      },
    ]);
    expect(requests[0]?.headers['X-Amzn-Trace-Id']).toBe(
      `Root=${ROOT};Parent=id00000000000001;Sampled=1`,
    );
  });

  it.each([
    ['a client error', 400, 'InvalidGroup.NotFound', { error: true }],
    ['throttling', 503, 'RequestLimitExceeded', { error: true, throttle: true }],
    ['a service fault', 500, 'InternalError', { fault: true }],
  ])('marks %s and keeps the cause', async (_name, status, code, flags) => {
    const { sink, sent } = recordingSink();
    const { client } = ec2Answering(status, error(code));
    tracer(sink).instrument(client);

    await expect(client.send(new DescribeSecurityGroupsCommand({}))).rejects.toMatchObject({
      name: code,
    });

    expect(sent[0]).toMatchObject({
      ...flags,
      http: { response: { status } },
      cause: { exceptions: [{ type: code, message: 'nope' }] },
    });
  });

  it('nests SDK calls under a per-invocation handler subsegment annotated with cold starts', async () => {
    // Prepare
    const { sink, sent } = recordingSink();
    const t = tracer(sink);
    const { client } = ec2Answering(200, OK);
    t.instrument(client);
    const handler = middy(async () => client.send(new DescribeSecurityGroupsCommand({}))).use(
      t.middleware(),
    );

    // Act
    await handler({}, {} as Context);
    await handler({}, {} as Context);

    // Assess
    const handlers = sent.filter((s) => s.name === '## handler');
    const calls = sent.filter((s) => s.name === 'EC2');
    expect(handlers.map((h) => h.annotations)).toEqual([
      { ColdStart: true, Service: 'hubfix', control: 'EC2.2' },
      { ColdStart: false, Service: 'hubfix', control: 'EC2.2' },
    ]);
    expect(handlers.every((h) => h.parent_id === '53995c3f42cd8ad8')).toBe(true);
    expect(calls.map((c) => c.parent_id)).toEqual(handlers.map((h) => h.id));
  });

  it('records a failed invocation as a fault', async () => {
    const { sink, sent } = recordingSink();
    const t = tracer(sink);
    const handler = middy(async () => {
      throw new TypeError('boom');
    }).use(t.middleware());

    await expect(handler({}, {} as Context)).rejects.toThrow('boom');

    expect(sent[0]).toMatchObject({
      name: '## handler',
      fault: true,
      cause: { exceptions: [{ type: 'TypeError', message: 'boom' }] },
    });
  });

  it.each([
    ['no daemon', undefined, HEADER],
    ['an unsampled trace', 'sink', `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=0`],
    ['no trace header', 'sink', undefined],
  ])('stays silent with %s, and leaves requests alone', async (_name, withSink, header) => {
    const { sink, sent } = recordingSink();
    const { client, requests } = ec2Answering(200, OK);
    tracer(withSink ? sink : undefined, { value: header }).instrument(client);

    await client.send(new DescribeSecurityGroupsCommand({}));

    expect(sent).toEqual([]);
    expect(requests[0]?.headers['X-Amzn-Trace-Id']).toBeUndefined();
  });
});

describe('UdpSegmentSink', () => {
  it('sends each subsegment as one datagram with the X-Ray header line', async () => {
    // Prepare: a daemon stand-in on a free local port.
    const daemon = createSocket('udp4');
    const received = new Promise<string>((resolve) =>
      daemon.once('message', (message) => resolve(message.toString())),
    );
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const { port } = daemon.address();
    const subsegment: Subsegment = {
      type: 'subsegment',
      id: 'id00000000000001',
      trace_id: ROOT,
      parent_id: '53995c3f42cd8ad8',
      name: '## handler',
      start_time: 1,
      end_time: 2,
    };

    // Act
    new UdpSegmentSink({ host: '127.0.0.1', port }).send(subsegment);

    // Assess
    const [header, body] = (await received).split('\n');
    daemon.close();
    expect(JSON.parse(header ?? '')).toEqual({ format: 'json', version: 1 });
    expect(JSON.parse(body ?? '')).toEqual(subsegment);
  });
});
