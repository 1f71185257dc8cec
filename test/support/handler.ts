/**
 * Runs a control's real handler (middy, Powertools, environment parsing,
 * pipeline, adapters) with strict mocks for Security Hub and SNS, so a
 * control's end-to-end tests only prepare its own service calls.
 */
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import type { Control } from '../../lambdas/core/control';
import { createControlHandler } from '../../lambdas/core/handler';
import {
  type ChangeRecord,
  type ChangeRecorder,
  type ChangeResult,
  everyTime,
  type OnceGuard,
} from '../../lambdas/core/pipeline';
import type { RuntimeSettings } from '../../lambdas/core/settings';
import { strictMock } from './aws';
import { fakeClock } from './control';
import { ACCOUNT, PLAN_ACTION_ARN, REGION, REMEDIATE_ACTION_ARN } from './fixtures';

export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:hubfix`;

export const LAMBDA_CONTEXT = {
  functionName: 'hubfix-test',
  awsRequestId: 'request-1',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hubfix-test`,
  getRemainingTimeInMillis: () => 60_000,
} as Context;

export interface HarnessOptions<Params, Clients> {
  /** The control's SDK clients, usually instances the test has mocked. */
  readonly clients: Clients;
  /** Settings on top of: mode remediate, no dry run, default tags, empty allow-list. */
  readonly settings?: Partial<Omit<RuntimeSettings<Params>, 'params'>>;
  /** The control's params; defaults to what its schema fills in for `{}`. */
  readonly params?: Params;
  readonly provisioned?: Readonly<Record<string, string>>;
  /** Raw environment overrides, to test cold-start validation. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default everyTime: every delivery is handled (idempotency has its own tests) */
  readonly guard?: OnceGuard;
}

export function controlHarness<State, Before, Params, Clients extends object>(
  control: Control<State, Before, Params, Clients>,
  options: HarnessOptions<Params, Clients>,
) {
  const securityHubClient = new SecurityHubClient({ region: REGION });
  const snsClient = new SNSClient({ region: REGION });
  const securityHub = strictMock(securityHubClient);
  const sns = strictMock(snsClient);
  const records: ChangeRecord[] = [];
  const results: { changeId: string; result: ChangeResult }[] = [];
  const recorder: ChangeRecorder = {
    async recordBefore(record) {
      records.push(record);
    },
    async recordResult(changeId, result) {
      results.push({ changeId, result });
    },
  };

  const defaults = control.params.parse({}, 'params');
  if (!defaults.ok && options.params === undefined) {
    throw new Error(`${control.id} params need explicit values in this test`);
  }
  const settings = {
    controlId: control.id,
    mode: 'remediate',
    dryRun: false,
    notifyOnly: control.notifyOnly,
    tags: {
      optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
      suppress: { key: 'hubfix:suppress' },
    },
    allowList: [],
    ...options.settings,
    params: options.params ?? (defaults.ok ? defaults.value : undefined),
  };
  const env = {
    HUBFIX_SETTINGS: JSON.stringify(settings),
    HUBFIX_TOPIC_ARN: TOPIC_ARN,
    HUBFIX_REMEDIATE_ACTION_ARN: REMEDIATE_ACTION_ARN,
    HUBFIX_PLAN_ACTION_ARN: PLAN_ACTION_ARN,
    HUBFIX_ACCOUNT_ID: ACCOUNT,
    HUBFIX_PROVISIONED: JSON.stringify(options.provisioned ?? {}),
    HUBFIX_LEDGER_TABLE: 'hubfix-ledger',
    HUBFIX_LEDGER_RETENTION_DAYS: '365',
    HUBFIX_IDEMPOTENCY_TABLE: 'hubfix-idempotency',
    AWS_REGION: REGION,
    ...options.env,
  };

  const handler = createControlHandler(control, {
    env,
    clients: options.clients,
    securityHub: securityHubClient,
    sns: snsClient,
    recorder,
    guard: options.guard ?? everyTime,
    newChangeId: () => 'change-1',
    clock: fakeClock().clock,
  });

  return {
    /** Invokes the handler as Lambda would. */
    invoke: (event: unknown) => handler(event, LAMBDA_CONTEXT),
    securityHub,
    sns,
    records,
    results,
    /** Lets finding updates and publishes succeed. */
    acceptDeliveries() {
      securityHub
        .on(BatchUpdateFindingsCommand)
        .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
      sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
    },
    /** The workflow statuses written to findings, in order. */
    workflows(): (string | undefined)[] {
      return securityHub
        .commandCalls(BatchUpdateFindingsCommand)
        .map((c) => c.args[0].input.Workflow?.Status);
    },
    /** The notes written to findings, in order. */
    notes(): (string | undefined)[] {
      return securityHub
        .commandCalls(BatchUpdateFindingsCommand)
        .map((c) => c.args[0].input.Note?.Text);
    },
    /** What was published to SNS, in order. */
    published(): PublishCommandInput[] {
      return sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    },
  };
}
