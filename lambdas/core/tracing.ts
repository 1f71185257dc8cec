/**
 * X-Ray tracing, written for hubfix's budget. Powertools Tracer loads the
 * X-Ray SDK, which alone added 15 ms to each cold start (x1.50 of the AWS
 * SDK's own import time, against a budget of x1.25; see bench/results.md).
 * This speaks the same documented wire format to the same Lambda X-Ray
 * daemon, for what hubfix needs: one subsegment per invocation, annotated
 * with ColdStart and Service, and one per AWS SDK call, with the trace passed
 * on to the service called.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { MiddlewareObj } from '@middy/core';
import type {
  BuildMiddleware,
  InitializeMiddleware,
  MetadataBearer,
  MiddlewareStack,
} from '@smithy/types';
import type { Context } from 'aws-lambda';

export interface TraceHeader {
  readonly root: string;
  readonly parent: string | undefined;
  readonly sampled: boolean;
}

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1` */
export function parseTraceHeader(value: string | undefined): TraceHeader | undefined {
  if (!value) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const root = fields.get('Root');
  if (!root || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(root)) return undefined;
  return { root, parent: fields.get('Parent'), sampled: fields.get('Sampled') === '1' };
}

export interface DaemonAddress {
  readonly host: string;
  readonly port: number;
}

/** `127.0.0.1:2000`, or the `tcp:host:port udp:host:port` form; segments go over UDP. */
export function parseDaemonAddress(value: string | undefined): DaemonAddress | undefined {
  if (!value) return undefined;
  const udp = /udp:([^ :]+):(\d+)/.exec(value) ?? /^([^ :]+):(\d+)$/.exec(value.trim());
  const [, host, port] = udp ?? [];
  return host && port ? { host, port: Number(port) } : undefined;
}

export interface Subsegment {
  readonly type: 'subsegment';
  readonly id: string;
  readonly trace_id: string;
  readonly parent_id: string;
  readonly name: string;
  readonly start_time: number;
  readonly end_time: number;
  readonly namespace?: 'aws';
  readonly aws?: {
    readonly operation: string;
    readonly region: string;
    readonly request_id?: string;
    readonly retries?: number;
  };
  readonly http?: { readonly response: { readonly status: number } };
  readonly annotations?: Readonly<Record<string, string | number | boolean>>;
  readonly error?: boolean;
  readonly throttle?: boolean;
  readonly fault?: boolean;
  readonly cause?: {
    readonly exceptions: readonly { readonly type: string; readonly message: string }[];
  };
}

export interface SegmentSink {
  send(subsegment: Subsegment): void;
}

/** Sends each subsegment to the X-Ray daemon as one UDP datagram, as the X-Ray SDKs do. */
export class UdpSegmentSink implements SegmentSink {
  private socket: Socket | undefined;

  constructor(private readonly address: DaemonAddress) {}

  send(subsegment: Subsegment): void {
    if (!this.socket) {
      // Loaded on first use: functions that never send a trace never pay for dgram.
      this.socket = process.getBuiltinModule('node:dgram').createSocket('udp4');
      // Tracing must never keep the function's event loop alive.
      this.socket.unref();
    }
    const datagram = Buffer.from(`{"format":"json","version":1}\n${JSON.stringify(subsegment)}`);
    // Fire and forget: a lost trace must never fail a remediation.
    this.socket.send(datagram, this.address.port, this.address.host, () => {});
  }
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
]);

interface ErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
  };
}

function outcomeOf(error: ErrorLike): Pick<Subsegment, 'error' | 'throttle' | 'fault' | 'http'> {
  const status = error.$metadata?.httpStatusCode;
  const throttled = status === 429 || THROTTLING.has(error.name ?? '');
  const fault = status === undefined || status >= 500;
  return {
    ...(status === undefined ? {} : { http: { response: { status } } }),
    ...(throttled ? { throttle: true, error: true } : fault ? { fault: true } : { error: true }),
  };
}

export interface TracerOptions {
  /** Where subsegments go; undefined when tracing is off (no daemon). */
  readonly sink: SegmentSink | undefined;
  /** The current invocation's trace header (Lambda sets it per invocation). */
  readonly traceHeader: () => string | undefined;
  readonly service: string;
  readonly region: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** @default () => Date.now() */
  readonly now?: () => number;
  /** @default 8 random bytes as 16 hex digits */
  readonly newId?: () => string;
}

interface Active {
  readonly header: TraceHeader;
  readonly id: string;
  readonly start: number;
}

export class Tracer {
  private readonly now: () => number;
  private readonly newId: () => string;
  private active: Active | undefined;
  private coldStart = true;
  /** Subsegment id of each SDK call in flight, for the header passed to the service. */
  private readonly calls = new WeakMap<object, string>();

  constructor(private readonly options: TracerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.newId = options.newId ?? (() => randomBytes(8).toString('hex'));
  }

  /** The trace this code runs in, when it is being traced. */
  private current(): { header: TraceHeader; parent: string } | undefined {
    if (!this.options.sink) return undefined;
    if (this.active) return { header: this.active.header, parent: this.active.id };
    const header = parseTraceHeader(this.options.traceHeader());
    return header?.sampled && header.parent ? { header, parent: header.parent } : undefined;
  }

  private send(subsegment: Subsegment): void {
    try {
      this.options.sink?.send(subsegment);
    } catch {
      // Tracing is best effort by design.
    }
  }

  /** One subsegment per invocation: `## handler`, with ColdStart and Service annotations. */
  middleware(): MiddlewareObj<unknown, unknown, Error, Context> {
    const begin = () => {
      const coldStart = this.coldStart;
      this.coldStart = false;
      const trace = this.current();
      this.active = trace
        ? { header: trace.header, id: this.newId(), start: this.now() }
        : undefined;
      return coldStart;
    };
    let coldStart = true;
    const end = (error?: unknown) => {
      const active = this.active;
      this.active = undefined;
      if (!active?.header.parent) return;
      this.send({
        type: 'subsegment',
        id: active.id,
        trace_id: active.header.root,
        parent_id: active.header.parent,
        name: '## handler',
        start_time: active.start / 1000,
        end_time: this.now() / 1000,
        annotations: {
          ColdStart: coldStart,
          Service: this.options.service,
          ...this.options.annotations,
        },
        ...(error instanceof Error
          ? { fault: true, cause: { exceptions: [{ type: error.name, message: error.message }] } }
          : {}),
      });
    };
    return {
      before: () => {
        coldStart = begin();
      },
      after: () => end(),
      onError: (request) => end(request.error),
    };
  }

  /** Records every call of an SDK client as a subsegment and passes the trace on. */
  instrument<
    Input extends object,
    Output extends MetadataBearer,
    C extends { middlewareStack: MiddlewareStack<Input, Output> },
  >(client: C): C {
    const { region } = this.options;
    const traced: InitializeMiddleware<Input, Output> = (next, context) => async (args) => {
      const trace = this.current();
      if (!trace) return next(args);
      const id = this.newId();
      this.calls.set(context, id);
      const start = this.now();
      const base = {
        type: 'subsegment' as const,
        id,
        trace_id: trace.header.root,
        parent_id: trace.parent,
        name: (context.clientName ?? 'AWS').replace(/Client$/, ''),
        namespace: 'aws' as const,
        start_time: start / 1000,
      };
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      try {
        const result = await next(args);
        const metadata = result.output.$metadata;
        this.send({
          ...base,
          end_time: this.now() / 1000,
          aws: {
            operation,
            region,
            request_id: metadata.requestId,
            retries: Math.max(0, (metadata.attempts ?? 1) - 1),
          },
          http: { response: { status: metadata.httpStatusCode ?? 200 } },
        });
        return result;
      } catch (error) {
        const failure: ErrorLike = error instanceof Error ? error : { message: String(error) };
        this.send({
          ...base,
          end_time: this.now() / 1000,
          aws: { operation, region, request_id: failure.$metadata?.requestId },
          ...outcomeOf(failure),
          cause: {
            exceptions: [{ type: failure.name ?? 'Error', message: failure.message ?? '' }],
          },
        });
        throw error;
      }
    };
    const header: BuildMiddleware<Input, Output> = (next, context) => async (args) => {
      const trace = this.current();
      const id = this.calls.get(context);
      const request = args.request;
      if (trace && id && typeof request === 'object' && request !== null && 'headers' in request) {
        const headers = (request as { headers: Record<string, string> }).headers;
        headers['X-Amzn-Trace-Id'] = `Root=${trace.header.root};Parent=${id};Sampled=1`;
      }
      return next(args);
    };
    client.middlewareStack.add(traced, {
      step: 'initialize',
      name: 'hubfixTraceSubsegment',
      priority: 'high',
    });
    client.middlewareStack.add(header, { step: 'build', name: 'hubfixTraceHeader' });
    return client;
  }
}
