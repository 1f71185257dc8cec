/**
 * The deployed app, emulated: the bundles and template that `cdk synth`
 * produced, "deployed" onto moto_server and invoked the way Lambda invokes
 * them. Integration tests of controls use this rather than the TypeScript
 * sources, so what is tested is what ships.
 *
 * Once per run, the global setup (global-setup.ts) synthesizes the real app
 * with `cdk synth` (synth.ts: cdk.json's app, real esbuild bundling, cdk-nag,
 * offline, a permissive config: see INTEGRATION_CONFIG) into a temporary
 * cdk.out. Per test:
 *
 * ```ts
 * const app = await deploy();                 // reset moto; create the stack's resources in it
 * registerFindings([finding]);                // what Security Hub's GetFindings will answer
 * const run = await app.invoke('EC2.2', importedEvent([finding]), {
 *   settings: { mode: 'remediate', params: { strategy: 'empty-if-unused' } },
 * });                                         // one cold start, one invocation, in a fresh process
 * expect(resultOf(run)).toMatchObject({ findings: [{ outcome: 'REMEDIATED' }] });
 * expect(app.findingUpdates.map((u) => u.Workflow?.Status)).toEqual(['RESOLVED']);
 * expect(await app.ledger.recent(5)).toMatchObject([{ status: 'REMEDIATED' }]);
 * expect(await app.published()).toMatchObject([{ attributes: { outcome: 'REMEDIATED' } }]);
 * ```
 *
 * - `deploy()` resets moto and the gateway, then creates in moto every
 *   resource the functions' environments reference, as the template defines
 *   it: DynamoDB tables (key schema, indexes), the SNS topic (with an SQS
 *   queue subscribed, so publishes can be read back), IAM roles, SQS queues,
 *   event buses; Security Hub custom actions are ARNs. It resolves every
 *   control function's environment (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 *   Fn::Select, Fn::Split, pseudo parameters: account 111111111111, region
 *   us-east-1, partition aws) and throws on anything it cannot resolve, so a
 *   new variable or resource type is noticed here first.
 * - `app.invoke(controlId, event, options)`: a cold start in a new process
 *   (lambda-runtime.mjs) with the function's resolved environment, Lambda's
 *   own variables, `AWS_ENDPOINT_URL` at the gateway and credentials
 *   `testing`; the exported handler gets the event and a Lambda-like context
 *   (`getRemainingTimeInMillis`, `awsRequestId`, `invokedFunctionArn`,
 *   `functionName`...). Answers an `Invocation`: returned (the handler's
 *   JSON result), threw (at init or in the handler, with its error), or
 *   timed-out (the process is killed at the deadline, as Lambda does).
 * - `app.start(controlId, options)`: an execution environment that stays
 *   warm: `instance.invoke(event)` as often as needed, one at a time,
 *   then `instance.stop()`. Two instances of one control run at once, as
 *   two concurrent Lambda invocations do: start both, then
 *   `Promise.all([a.invoke(e1), b.invoke(e2)])`.
 * - Options: `settings` overrides HUBFIX_SETTINGS field by field (mode,
 *   dryRun, allowList, tags; `params` merged into the template's params),
 *   starting from the template's value; `env` sets or (with undefined)
 *   removes raw variables after resolution; `remainingTimeMs` shortens the
 *   deadline (default: the function's Timeout).
 * - What happened: `app.findingUpdates` (BatchUpdateFindings requests),
 *   `app.securityHub` (all Security Hub requests and the registered
 *   findings as updated), `app.published()` (SNS messages, via the queue),
 *   `app.ledger` (DynamoDbLedgerAdmin on the ledger table), `app.tables`,
 *   `app.topicArn`, `app.options` for the test's own SDK clients.
 *
 * Security Hub's GetFindings/GetFindingsV2 answer from
 * `registerFindings`/`registerOcsfFindings` (gateway.ts); an unregistered
 * finding is unknown to Security Hub, so BatchUpdateFindings refuses it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDbLedgerAdmin } from '../../lambdas/core/adapters/ledger-admin';
import { ENVIRONMENT } from '../../lambdas/core/env';
import type { RuntimeSettings } from '../../lambdas/core/settings';
import { ACCOUNT, REGION } from '../support/fixtures';
import {
  type Json,
  type SynthesizedFunction,
  synthesizedFunction,
  synthesizedFunctions,
  synthesizedStack,
  type TemplateResource,
} from './assembly';
import { lambdaInvocations, securityHub } from './gateway';
import { type Created, createTemplateTable, credentials, motoOptions, resetMoto } from './support';

export {
  registeredFinding,
  registeredOcsfFinding,
  registerFindings,
  registerOcsfFindings,
} from './gateway';

const PARTITION = 'aws';
const RUNTIME = path.join(import.meta.dirname, 'lambda-runtime.mjs');

/** HUBFIX_SETTINGS fields a test may change; `params` is merged into the template's. */
export type SettingsOverride = Partial<
  Pick<RuntimeSettings<unknown>, 'mode' | 'dryRun' | 'allowList' | 'tags'>
> & { readonly params?: Readonly<Record<string, unknown>> };

export interface FunctionOptions {
  /** @default the template's HUBFIX_SETTINGS unchanged */
  readonly settings?: SettingsOverride;
  /** Raw variables set after resolution; undefined removes one. @default none */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The deadline the context reports, and when the process is killed. @default the function's Timeout */
  readonly remainingTimeMs?: number;
}

export interface InvocationError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** How one invocation ended, with the lines the function wrote meanwhile (Powertools logs, EMF). */
export type Invocation =
  | { readonly kind: 'returned'; readonly result: unknown; readonly logs: readonly string[] }
  | {
      readonly kind: 'threw';
      readonly phase: 'init' | 'invoke';
      readonly error: InvocationError;
      readonly logs: readonly string[];
    }
  | { readonly kind: 'timed-out'; readonly logs: readonly string[] };

/** The handler's result; throws with the error and logs when it did not return. */
export function resultOf(invocation: Invocation): unknown {
  if (invocation.kind === 'returned') return invocation.result;
  const why =
    invocation.kind === 'threw'
      ? `threw at ${invocation.phase}: ${invocation.error.name}: ${invocation.error.message}`
      : 'timed out';
  throw new Error(`the function ${why}\n${invocation.logs.join('\n')}`);
}

/** One SNS message as a subscriber receives it. */
export interface Publication {
  readonly subject: string | undefined;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

type ChildMessage =
  | { type: 'ready'; logs: string[] }
  | { type: 'init-error'; error: InvocationError; logs: string[] }
  | { type: 'result'; id: string; ok: true; value: unknown; logs: string[] }
  | { type: 'result'; id: string; ok: false; error: InvocationError; logs: string[] };

/** A warm execution environment of one function: a process that has run the bundle's init. */
export class FunctionInstance {
  private pending:
    | { id: string; resolve: (invocation: Invocation) => void; timer: NodeJS.Timeout }
    | undefined;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    /** How the cold start went: undefined when the handler loaded. */
    readonly initError: Extract<Invocation, { kind: 'threw' }> | undefined,
    private readonly functionArn: string,
    private readonly remainingTimeMs: number,
  ) {
    child.on('message', (message: ChildMessage) => {
      if (message.type !== 'result' || message.id !== this.pending?.id) return;
      this.settle(
        message.ok
          ? { kind: 'returned', result: message.value, logs: message.logs }
          : { kind: 'threw', phase: 'invoke', error: message.error, logs: message.logs },
      );
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.settle({
        kind: 'threw',
        phase: 'invoke',
        error: { name: 'Runtime.ExitError', message: `exited with ${signal ?? code}` },
        logs: [],
      });
    });
  }

  /** Starts a process and runs the bundle's cold start in it. */
  static async start(
    fn: SynthesizedFunction,
    environment: Readonly<Record<string, string>>,
    functionArn: string,
    remainingTimeMs: number,
  ): Promise<FunctionInstance> {
    const child = fork(RUNTIME, [], {
      cwd: fn.assetDir,
      env: environment,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // The runtime keeps what the function writes; the pipes only need draining.
    child.stdout?.resume();
    child.stderr?.resume();
    const init = await new Promise<ChildMessage>((resolve) => {
      child.once('message', (message: ChildMessage) => resolve(message));
      child.once('exit', (code) =>
        resolve({
          type: 'init-error',
          error: { name: 'Runtime.ExitError', message: `exited with ${code} during init` },
          logs: [],
        }),
      );
    });
    const initError =
      init.type === 'init-error'
        ? ({ kind: 'threw', phase: 'init', error: init.error, logs: init.logs } as const)
        : undefined;
    return new FunctionInstance(child, initError, functionArn, remainingTimeMs);
  }

  /** One invocation; the next waits for this one, as in one Lambda execution environment. */
  async invoke(event: unknown): Promise<Invocation> {
    if (this.initError) return this.initError;
    if (this.exited) throw new Error('this function instance has stopped');
    if (this.pending) throw new Error('one invocation at a time per instance; start another');
    const id = randomUUID();
    return new Promise<Invocation>((resolve) => {
      const timer = setTimeout(() => {
        this.settle({ kind: 'timed-out', logs: [] });
        this.child.kill('SIGKILL');
      }, this.remainingTimeMs);
      this.pending = { id, resolve, timer };
      this.child.send({
        type: 'invoke',
        id,
        event,
        context: {
          awsRequestId: id,
          invokedFunctionArn: this.functionArn,
          deadlineMs: Date.now() + this.remainingTimeMs,
        },
      });
    });
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private settle(invocation: Invocation): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(invocation);
  }
}

type MotoOptions = Awaited<ReturnType<typeof motoOptions>>;

/**
 * A call the harness makes to moto with no SDK client in the project (SQS,
 * IAM): moto routes it by the service named in the credential scope.
 */
async function motoRequest(
  options: MotoOptions,
  service: string,
  init: { headers: Record<string, string>; body: string },
): Promise<string> {
  const response = await fetch(options.endpoint, {
    method: 'POST',
    headers: {
      ...init.headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: init.body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto ${service} answered ${response.status}: ${text}`);
  return text;
}

function iamQuery(options: MotoOptions, parameters: Record<string, string>): Promise<string> {
  return motoRequest(options, 'iam', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...parameters, Version: '2010-05-08' }).toString(),
  });
}

async function sqsCall<T>(options: MotoOptions, action: string, input: Json): Promise<T> {
  const text = await motoRequest(options, 'sqs', {
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
    },
    body: JSON.stringify(input),
  });
  return JSON.parse(text || '{}') as T;
}

async function createQueue(options: MotoOptions, name: string): Promise<string> {
  const { QueueUrl } = await sqsCall<{ QueueUrl?: string }>(options, 'CreateQueue', {
    QueueName: name,
  });
  if (!QueueUrl) throw new Error(`moto created no queue ${name}`);
  return QueueUrl;
}

const arn = (service: string, resource: string, region = REGION) =>
  `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;

const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': PARTITION,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Hubfix',
};

/** The physical name Lambda would give a function of the stack. */
function functionNameOf(logicalId: string): string {
  return `${synthesizedStack().stackName}-${logicalId}`.slice(0, 64);
}

/** Every DynamoDB table the template defines, by logical id. */
function templateTables(): [string, TemplateResource][] {
  return Object.entries(synthesizedStack().resources).filter(
    ([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable' || r.Type === 'AWS::DynamoDB::Table',
  );
}

/** Creates moto resources for the template's resources on first reference, and resolves tokens. */
class Resolver {
  private readonly created = new Map<string, Promise<Created>>();
  readonly topics: string[] = [];
  private readonly dynamodb: DynamoDBClient;
  private readonly sns: SNSClient;
  private readonly events: EventBridgeClient;

  constructor(
    private readonly options: MotoOptions,
    private readonly resources: Readonly<Record<string, TemplateResource>>,
  ) {
    this.dynamodb = new DynamoDBClient(options);
    this.sns = new SNSClient(options);
    this.events = new EventBridgeClient(options);
  }

  resource(logicalId: string, where: string): Promise<Created> {
    let created = this.created.get(logicalId);
    if (!created) {
      const resource = this.resources[logicalId];
      if (!resource) throw new Error(`${where}: the template has no resource ${logicalId}`);
      created = this.create(logicalId, resource, where);
      this.created.set(logicalId, created);
    }
    return created;
  }

  private async create(
    logicalId: string,
    resource: TemplateResource,
    where: string,
  ): Promise<Created> {
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        return createTemplateTable(this.dynamodb, logicalId, resource);
      case 'AWS::SNS::Topic': {
        const name = typeof properties.TopicName === 'string' ? properties.TopicName : logicalId;
        const topic = await this.sns.send(new CreateTopicCommand({ Name: name }));
        if (!topic.TopicArn) throw new Error('moto created no topic');
        this.topics.push(topic.TopicArn);
        return { ref: topic.TopicArn, attributes: { TopicArn: topic.TopicArn, TopicName: name } };
      }
      case 'AWS::SecurityHub::ActionTarget': {
        const actionArn = arn('securityhub', `action/custom/${String(properties.Id)}`);
        return { ref: actionArn, attributes: { ActionTargetArn: actionArn } };
      }
      case 'AWS::IAM::Role': {
        const policy = await this.resolve(properties.AssumeRolePolicyDocument, where);
        const roleName = logicalId.slice(0, 64);
        const answer = await iamQuery(this.options, {
          Action: 'CreateRole',
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(policy),
        });
        const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(answer)?.[1];
        if (!roleArn) throw new Error(`${where}: moto created no role ${roleName}: ${answer}`);
        return { ref: roleName, attributes: { Arn: roleArn } };
      }
      case 'AWS::SQS::Queue': {
        const url = await createQueue(this.options, logicalId);
        return {
          ref: url,
          attributes: { Arn: arn('sqs', logicalId), QueueName: logicalId, QueueUrl: url },
        };
      }
      case 'AWS::Lambda::Function': {
        // Not created in moto: the harness runs the bundles itself, under these names.
        const functionName = functionNameOf(logicalId);
        return {
          ref: functionName,
          attributes: { Arn: arn('lambda', `function:${functionName}`) },
        };
      }
      case 'AWS::Events::EventBus': {
        const name = typeof properties.Name === 'string' ? properties.Name : logicalId;
        const bus = await this.events.send(new CreateEventBusCommand({ Name: name }));
        return {
          ref: name,
          attributes: { Arn: bus.EventBusArn ?? arn('events', `event-bus/${name}`), Name: name },
        };
      }
      default:
        throw new Error(
          `${where}: cannot create ${logicalId} (${resource.Type}) in moto; teach test/integration/deployed.ts how`,
        );
    }
  }

  private async reference(name: string, attribute: string | undefined, where: string) {
    if (attribute === undefined && name in PSEUDO_PARAMETERS)
      return PSEUDO_PARAMETERS[name] as string;
    const created = await this.resource(name, where);
    if (attribute === undefined) return created.ref;
    const value = created.attributes[attribute];
    if (value === undefined)
      throw new Error(`${where}: cannot resolve Fn::GetAtt ${name}.${attribute}`);
    return value;
  }

  /** A template value with every intrinsic function resolved against moto. */
  async resolve(value: unknown, where: string): Promise<unknown> {
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.resolve(v, where)));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value as Json);
    const [only] = entries;
    if (entries.length !== 1 || !only || !(only[0] === 'Ref' || only[0].startsWith('Fn::'))) {
      const out: Json = {};
      for (const [key, inner] of entries) out[key] = await this.resolve(inner, where);
      return out;
    }
    const [fn, argument] = only;
    const args = await this.resolve(argument, where);
    switch (fn) {
      case 'Ref':
        return this.reference(String(args), undefined, where);
      case 'Fn::GetAtt': {
        const [name, attribute] = Array.isArray(args) ? args : String(args).split('.');
        return this.reference(String(name), String(attribute), where);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown[]];
        return parts.map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = args as [number | string, unknown[]];
        return list[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = args as [string, string];
        return text.split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = (Array.isArray(args) ? args : [args, {}]) as [string, Json];
        let out = '';
        let last = 0;
        for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
          const [whole, name = ''] = match;
          out += text.slice(last, match.index);
          last = match.index + whole.length;
          if (name.startsWith('!')) out += `\${${name.slice(1)}}`;
          else if (name in variables) out += String(variables[name]);
          else {
            const [logical, attribute] = name.split('.');
            out += await this.reference(String(logical), attribute, where);
          }
        }
        return out + text.slice(last);
      }
      default:
        throw new Error(`${where}: cannot resolve ${fn}; teach test/integration/deployed.ts how`);
    }
  }
}

/** One control function, deployed: its template definition and resolved environment. */
export interface DeployedFunction extends SynthesizedFunction {
  /** The physical name Lambda would give it. */
  readonly functionName: string;
  readonly functionArn: string;
  /** The template's environment with every token resolved to moto's resources. */
  readonly resolvedEnvironment: Readonly<Record<string, string>>;
}

let live: FunctionInstance[] = [];

function stopAll(): void {
  for (const instance of live) instance.stop();
  live = [];
}

/** The app on moto for one test; see the module comment. */
export class Deployment {
  /** For the test's own SDK clients: the gateway endpoint, region, credentials. */
  readonly options: MotoOptions;
  /** Table name in moto by template logical id. */
  readonly tables: Readonly<Record<string, string>>;
  readonly topicArn: string;
  readonly ledger: DynamoDbLedgerAdmin;
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  /** Security Hub as the gateway emulates it: requests received, findings held. */
  readonly securityHub = securityHub;
  /** BatchUpdateFindings requests, oldest first. */
  readonly findingUpdates = securityHub.updates;
  /** Asynchronous invokes the functions made (hand-ons), oldest first; the test delivers them. */
  readonly lambdaInvocations = lambdaInvocations;
  private readonly received: Publication[] = [];

  constructor(init: {
    options: MotoOptions;
    tables: Record<string, string>;
    topicArn: string;
    functions: Map<string, DeployedFunction>;
    private: {
      queueUrl: string;
      dynamodb: DynamoDBClient;
      ledgerTable: string;
      resolver: Resolver;
    };
  }) {
    this.options = init.options;
    this.tables = init.tables;
    this.topicArn = init.topicArn;
    this.functions = init.functions;
    this.ledger = new DynamoDbLedgerAdmin(init.private.dynamodb, init.private.ledgerTable);
    this.queueUrl = init.private.queueUrl;
    this.resolver = init.private.resolver;
  }

  private readonly queueUrl: string;
  private readonly resolver: Resolver;

  /**
   * A template value with its intrinsic functions resolved against this
   * deployment, creating in moto what it references; throws on what it cannot.
   */
  resolve(value: unknown, where = 'a template value'): Promise<unknown> {
    return this.resolver.resolve(value, where);
  }

  function(controlId: string): DeployedFunction {
    const fn = this.functions.get(controlId);
    if (!fn)
      throw new Error(`${controlId} is not deployed (${[...this.functions.keys()].join(', ')})`);
    return fn;
  }

  /** The process environment Lambda would give the function, pointed at moto. */
  environment(controlId: string, options: FunctionOptions = {}): Record<string, string> {
    const fn = this.function(controlId);
    const env: Record<string, string | undefined> = {
      ...fn.resolvedEnvironment,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: 'testing',
      AWS_ENDPOINT_URL: this.options.endpoint,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `integration/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      LAMBDA_TASK_ROOT: fn.assetDir,
      _HANDLER: fn.handler,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
    };
    if (options.settings) {
      const base = JSON.parse(fn.resolvedEnvironment[ENVIRONMENT.settings] ?? '{}') as Json;
      const { params, ...rest } = options.settings;
      env[ENVIRONMENT.settings] = JSON.stringify({
        ...base,
        ...rest,
        params: { ...(base.params as Json | undefined), ...params },
      });
    }
    Object.assign(env, options.env);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
    return out;
  }

  /** A warm execution environment of the control's function (cold start done). */
  async start(controlId: string, options: FunctionOptions = {}): Promise<FunctionInstance> {
    const fn = this.function(controlId);
    const instance = await FunctionInstance.start(
      fn,
      this.environment(controlId, options),
      fn.functionArn,
      options.remainingTimeMs ?? fn.timeoutSeconds * 1000,
    );
    live.push(instance);
    return instance;
  }

  /** One cold start and one invocation in a fresh process, then the process ends. */
  async invoke(
    controlId: string,
    event: unknown,
    options: FunctionOptions = {},
  ): Promise<Invocation> {
    const instance = await this.start(controlId, options);
    try {
      return await instance.invoke(event);
    } finally {
      instance.stop();
    }
  }

  /** Every message published to the stack's topic so far, oldest first. */
  async published(): Promise<readonly Publication[]> {
    for (;;) {
      // Each message is received once: it stays invisible for longer than any test.
      const batch = await sqsCall<{ Messages?: { Body?: string }[] }>(
        this.options,
        'ReceiveMessage',
        { QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 43_200 },
      );
      const messages = batch.Messages ?? [];
      if (messages.length === 0) return [...this.received];
      for (const message of messages) {
        const envelope = JSON.parse(message.Body ?? '{}') as {
          Subject?: string;
          Message?: string;
          MessageAttributes?: Record<string, { Value?: string }>;
        };
        this.received.push({
          subject: envelope.Subject,
          message: envelope.Message ?? '',
          attributes: Object.fromEntries(
            Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value ?? '']),
          ),
        });
      }
    }
  }

  /** Ends every function process this deployment started. */
  stop(): void {
    stopAll();
  }
}

/**
 * Resets moto and the gateway, then deploys the synthesized stack onto moto
 * (see the module comment). Ends the processes of the previous deployment.
 */
export async function deploy(): Promise<Deployment> {
  stopAll();
  await resetMoto();
  const options = await motoOptions();
  const stack = synthesizedStack();
  const resolver = new Resolver(options, stack.resources);
  const tables: Record<string, string> = {};
  for (const [logicalId] of templateTables()) {
    tables[logicalId] = (await resolver.resource(logicalId, 'the stack')).ref;
  }
  const functions = new Map<string, DeployedFunction>();
  for (const fn of synthesizedFunctions().values()) {
    const resolved: Record<string, string> = {};
    for (const [name, value] of Object.entries(fn.environment)) {
      const where = `${fn.controlId} ${name}`;
      const out = await resolver.resolve(value, where);
      if (typeof out !== 'string') throw new Error(`${where} resolved to ${JSON.stringify(out)}`);
      resolved[name] = out;
    }
    const functionName = functionNameOf(fn.logicalId);
    functions.set(fn.controlId, {
      ...fn,
      functionName,
      functionArn: arn('lambda', `function:${functionName}`),
      resolvedEnvironment: resolved,
    });
  }
  const [topicArn, ...otherTopics] = resolver.topics;
  if (!topicArn || otherTopics.length > 0) {
    throw new Error(
      `expected the functions to publish to one topic, found ${resolver.topics.length}`,
    );
  }
  // A subscriber queue, so the test reads what subscribers would receive.
  const queueUrl = await createQueue(options, 'hubfix-integration-published');
  const { Attributes } = await sqsCall<{ Attributes?: { QueueArn?: string } }>(
    options,
    'GetQueueAttributes',
    { QueueUrl: queueUrl, AttributeNames: ['QueueArn'] },
  );
  await new SNSClient(options).send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
  );
  const ledgerTable = [...functions.values()]
    .map((fn) => fn.resolvedEnvironment[ENVIRONMENT.ledgerTable])
    .find((table) => table !== undefined);
  if (!ledgerTable) throw new Error(`no function names a ${ENVIRONMENT.ledgerTable}`);
  return new Deployment({
    options,
    tables,
    topicArn,
    functions,
    private: { queueUrl, dynamodb: new DynamoDBClient(options), ledgerTable, resolver },
  });
}

/** The deployed function of a control, as the template defines it (no moto needed). */
export { synthesizedFunction };
