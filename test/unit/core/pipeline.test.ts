import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbOnceGuard } from '../../../lambdas/core/adapters/idempotency';
import { type Clock, systemClock } from '../../../lambdas/core/clock';
import type { Control, Log } from '../../../lambdas/core/control';
import { deadlineIn } from '../../../lambdas/core/deadline';
import { IncompleteDeliveryError, PartialChangeError } from '../../../lambdas/core/errors';
import { parseAsffFinding } from '../../../lambdas/core/intake/asff';
import { DIRECT_REQUEST_MARKER, type DirectRequest } from '../../../lambdas/core/intake/direct';
import { createPipeline } from '../../../lambdas/core/pipeline';
import type {
  ChangeRecord,
  ChangeRecorder,
  ChangeResult,
  DriftMark,
  FindingHistory,
  FindingStore,
  FindingUpdate,
  HistoryEntry,
  MetricsPort,
  Notification,
  Notifier,
  OnceGuard,
  OutcomeEvent,
  OutcomePublisher,
  ResourceLease,
} from '../../../lambdas/core/ports';
import { arnResource } from '../../../lambdas/core/resource';
import { integer, object } from '../../../lambdas/core/schema';
import type { RuntimeSettings } from '../../../lambdas/core/settings';
import { fakeClock } from '../../support/control';
import { itemTable } from '../../support/dynamodb-items';
import {
  ACTIONS,
  customActionEvent,
  EC2_2_FINDING,
  importedEvent,
  type Json,
  PLAN_ACTION_ARN,
  SELF,
  withChanges,
} from '../../support/fixtures';
import { LAMBDA_CONTEXT } from '../../support/handler';
import { importedV2Event, ocsfFinding } from '../../support/ocsf';

interface FakeState {
  readonly rules: number;
}
interface FakeBefore {
  readonly rules: number;
}

/** Everything the pipeline did, in order, across the control and the ports. */
let calls: string[];
let updates: { id: string; update: FindingUpdate }[];
let events: OutcomeEvent[];
let requeued: DirectRequest[];
/** What Security Hub answers when asked for a finding again, by id; the event's copy unless a test says otherwise. */
let securityHubCopies: Map<string, Json | undefined | Error>;
let historyItems: Map<string, HistoryEntry>;
let notifications: Notification[];
let records: ChangeRecord[];
let results: { changeId: string; result: ChangeResult }[];
let driftMarks: { changeId: string; mark: DriftMark }[];
let metrics: string[];
let logs: { level: string; message: string; extra: unknown[] }[];

const log: Log = {
  debug: (message, ...extra) => logs.push({ level: 'debug', message, extra }),
  info: (message, ...extra) => logs.push({ level: 'info', message, extra }),
  warn: (message, ...extra) => logs.push({ level: 'warn', message, extra }),
  error: (message, ...extra) => logs.push({ level: 'error', message, extra }),
};

type Behaviour = Partial<
  Pick<
    Control<FakeState, FakeBefore, object, object>,
    'readState' | 'preflight' | 'apply' | 'verify'
  >
>;

function fakeControl(behaviour: Behaviour = {}): Control<FakeState, FakeBefore, object, object> {
  return {
    id: 'EC2.2',
    title: 'fake EC2.2',
    resource: arnResource({
      types: ['AwsEc2SecurityGroup'],
      service: 'ec2',
      resourceType: 'security-group',
      idPattern: /^sg-[0-9a-f]+$/,
    }),
    params: object({}),
    before: object({ rules: integer() }),
    notifyOnly: false,
    createClients: () => ({}),
    describeRollback: () => ({ target: { resourceId: 'sg-1' }, calls: [] }),
    async readState(ref, ctx) {
      calls.push(`readState ${ref.id}`);
      return behaviour.readState
        ? behaviour.readState(ref, ctx)
        : { kind: 'found', state: { rules: 2 }, tags: { environment: 'dev' } };
    },
    plan(state) {
      calls.push('plan');
      return state.rules === 0
        ? { kind: 'compliant', summary: 'no rules' }
        : {
            kind: 'change',
            summary: `revoke ${state.rules} rules`,
            steps: ['revoke rule 1', 'revoke rule 2'],
            before: { rules: state.rules },
            undo: ['re-add them'],
          };
    },
    async preflight(state, ctx) {
      calls.push('preflight');
      return behaviour.preflight ? behaviour.preflight(state, ctx) : [];
    },
    async apply(state, plan, ctx) {
      calls.push('apply');
      return behaviour.apply
        ? behaviour.apply(state, plan, ctx)
        : { changes: ['revoked rule 1', 'revoked rule 2'] };
    },
    async verify(state, ctx) {
      calls.push('verify');
      return behaviour.verify ? behaviour.verify(state, ctx) : { ok: true };
    },
    async rollback() {
      return [];
    },
  };
}

function settings(changes: Partial<RuntimeSettings<object>> = {}): RuntimeSettings<object> {
  return {
    controlId: 'EC2.2',
    mode: 'remediate',
    dryRun: false,
    notifyOnly: false,
    tags: {
      optOut: { key: 'hubfix:auto-remediate', values: ['false'] },
      suppress: { key: 'hubfix:suppress' },
    },
    allowList: [],
    overrideAllowList: false,
    maxDriftFixes: 1,
    params: {},
    ...changes,
  };
}

interface PortFailures {
  update?: (id: string) => Error | undefined;
  publish?: Error;
  recordBefore?: Error;
  requeue?: Error;
  markDrifted?: Error;
}

interface PipelineExtras {
  lease?: ResourceLease;
  history?: FindingHistory;
  clock?: Clock;
  guard?: OnceGuard;
  events?: OutcomePublisher;
}

function pipeline(
  control = fakeControl(),
  runtime = settings(),
  failures: PortFailures = {},
  extras: PipelineExtras = {},
) {
  const findings: FindingStore = {
    async fetch(lookup) {
      const id = lookup.format === 'asff' ? lookup.id : lookup.uid;
      calls.push(`fetch ${id === EC2_2_FINDING.Id ? 'finding' : id}`);
      const copy = securityHubCopies.has(id) ? securityHubCopies.get(id) : undefined;
      if (copy instanceof Error) throw copy;
      if (copy === undefined) return undefined;
      const parsed = parseAsffFinding(copy, 0);
      if (!parsed.ok) throw parsed.error;
      return parsed.finding;
    },
    async update(ref, update) {
      calls.push(`update ${update.workflow ?? 'unchanged'}`);
      const id = ref.format === 'asff' ? ref.id : ref.uid;
      const failure = failures.update?.(id);
      if (failure) throw failure;
      updates.push({ id, update });
    },
  };
  const notifier: Notifier = {
    async publish(notification) {
      calls.push(`publish ${notification.attributes.outcome}`);
      if (failures.publish) throw failures.publish;
      notifications.push(notification);
    },
  };
  const recorder: ChangeRecorder = {
    async recordBefore(record) {
      calls.push('recordBefore');
      if (failures.recordBefore) throw failures.recordBefore;
      records.push(record);
    },
    async recordResult(changeId, result) {
      calls.push(`recordResult ${result.status}`);
      results.push({ changeId, result });
    },
    async markDrifted(changeId, mark) {
      calls.push(`markDrifted ${changeId}`);
      if (failures.markDrifted) throw failures.markDrifted;
      driftMarks.push({ changeId, mark });
    },
  };
  const metricsPort: MetricsPort = {
    count: (name) => metrics.push(name),
    timing: (name) => metrics.push(`${name} (ms)`),
  };
  const history: FindingHistory = extras.history ?? {
    async get(controlId, key) {
      return historyItems.get(`${controlId}#${key}`);
    },
    async put(controlId, key, entry) {
      historyItems.set(`${controlId}#${key}`, entry);
    },
  };
  let changes = 0;
  return createPipeline({
    control,
    settings: runtime,
    clients: {},
    self: SELF,
    actions: ACTIONS,
    findings,
    notifier,
    events: extras.events ?? {
      async publish(event) {
        events.push(event);
      },
    },
    requeue: {
      async send(request) {
        calls.push(`requeue ${request.findings.length}`);
        if (failures.requeue) throw failures.requeue;
        requeued.push(request);
      },
    },
    recorder,
    log,
    metrics: metricsPort,
    newChangeId: () => `change-${++changes}`,
    clock: extras.clock ?? fakeClock().clock,
    history,
    ...(extras.lease ? { lease: extras.lease } : {}),
    ...(extras.guard ? { guard: extras.guard } : {}),
  });
}

const finding = (changes: Record<string, unknown> = {}): Json =>
  withChanges(EC2_2_FINDING, changes);

/** Security Hub knows these findings, exactly as the events carry them. */
function securityHubKnows(...findings: Json[]) {
  for (const f of findings) securityHubCopies.set(f.Id as string, f);
}

beforeEach(() => {
  calls = [];
  updates = [];
  events = [];
  requeued = [];
  securityHubCopies = new Map();
  historyItems = new Map();
  securityHubKnows(EC2_2_FINDING);
  notifications = [];
  records = [];
  results = [];
  driftMarks = [];
  metrics = [];
  logs = [];
});

describe('pipeline: remediation', () => {
  it('confirms the finding with Security Hub, records the before-state before changing anything, verifies and notifies', async () => {
    // Act
    const result = await pipeline().processEvent(importedEvent([finding()]));

    // Assess
    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'plan',
      'preflight',
      'recordBefore',
      'apply',
      'verify',
      'recordResult REMEDIATED',
      'update unchanged',
      'publish REMEDIATED',
    ]);
    expect(records).toEqual([
      {
        changeId: 'change-1',
        controlId: 'EC2.2',
        findingId: EC2_2_FINDING.Id,
        resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
        account: '111111111111',
        region: 'us-east-1',
        summary: 'revoke 2 rules',
        before: { rules: 2 },
      },
    ]);
    // A verified fix leaves the workflow to Security Hub, which resolves it when its check passes.
    expect(updates[0]?.update.workflow).toBeUndefined();
    expect(events).toEqual([
      expect.objectContaining({
        control: 'EC2.2',
        outcome: 'REMEDIATED',
        changeId: 'change-1',
        findingId: EC2_2_FINDING.Id,
        account: '111111111111',
        region: 'us-east-1',
        resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
        severity: 'INFORMATIONAL',
      }),
    ]);
    expect(updates[0]?.update.note).toContain(
      'hubfix remediated and verified: revoke 2 rules. Change change-1.',
    );
    expect(notifications[0]?.attributes).toEqual({
      control: 'EC2.2',
      outcome: 'REMEDIATED',
      severity: 'INFORMATIONAL',
    });
    expect(notifications[0]?.message).toContain('What changed:\n  1. revoked rule 1');
    expect(metrics).toEqual(['RemediationDuration (ms)', 'REMEDIATED']);
    expect(result.handled.map((h) => h.report.outcome.kind)).toEqual(['REMEDIATED']);
  });

  it('notes an already compliant resource without changing it, leaving the workflow to Security Hub', async () => {
    const control = fakeControl({
      readState: async () => ({ kind: 'found', state: { rules: 0 }, tags: {} }),
    });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'plan',
      'update unchanged',
      'publish ALREADY_COMPLIANT',
    ]);
  });

  it('holds back and explains when preflight finds a blocker', async () => {
    const control = fakeControl({ preflight: async () => ['attached to eni-1'] });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).not.toContain('apply');
    expect(calls).not.toContain('recordBefore');
    expect(updates[0]?.update).toEqual({
      workflow: 'NOTIFIED',
      note: 'hubfix did not change the resource: attached to eni-1. A fix would revoke 2 rules.',
    });
  });

  it('changes nothing when the before-state cannot be recorded, and looks again later', async () => {
    const result = await pipeline(fakeControl(), settings(), {
      recordBefore: new Error('ledger down'),
    }).processEvent(importedEvent([finding()]));

    expect(calls).not.toContain('apply');
    expect(result.handled[0]?.report.outcome.kind).toBe('DEFERRED');
    expect(updates[0]?.update.workflow).toBeUndefined();
    expect(updates[0]?.update.note).toContain(
      'the before-state could not be recorded, so nothing was changed: ledger down',
    );
  });

  it('reports the state left behind when apply stops part-way', async () => {
    const control = fakeControl({
      apply: async () => {
        throw new PartialChangeError(
          'egress revoke failed',
          'inbound rules revoked; outbound rules still in place',
        );
      },
    });

    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    expect(result.handled[0]?.report.outcome).toMatchObject({
      kind: 'FAILED',
      stage: 'apply',
      stateLeft: 'inbound rules revoked; outbound rules still in place',
    });
    expect(results).toEqual([
      {
        changeId: 'change-1',
        result: {
          status: 'FAILED',
          changes: [],
          error: 'PartialChangeError: egress revoke failed',
          stateLeft: 'inbound rules revoked; outbound rules still in place',
        },
      },
    ]);
    expect(updates[0]?.update.workflow).toBe('NOTIFIED');
    expect(metrics).toEqual(['FAILED']);
  });

  it('records the changes made before apply stopped, so a rollback can give back exactly those', async () => {
    const control = fakeControl({
      apply: async () => {
        throw new PartialChangeError('egress revoke failed', 'inbound rules revoked', {
          changes: ['revoked inbound rule sgr-1'],
        });
      },
    });

    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    expect(results[0]?.result).toMatchObject({
      status: 'FAILED',
      changes: ['revoked inbound rule sgr-1'],
    });
    expect(result.handled[0]?.report.outcome).toMatchObject({
      kind: 'FAILED',
      changes: ['revoked inbound rule sgr-1'],
    });
    expect(notifications[0]?.message).toContain(
      'Changes made before it stopped:\n  1. revoked inbound rule sgr-1',
    );
  });

  it('does not call a change verified when verification fails', async () => {
    const control = fakeControl({ verify: async () => ({ ok: false, reason: '1 rule remains' }) });

    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    expect(result.handled[0]?.report.outcome).toMatchObject({
      kind: 'FAILED',
      stage: 'verify',
      stateLeft: 'changed but not verified: 1 rule remains',
    });
    expect(updates[0]?.update.workflow).toBe('NOTIFIED');
  });
});

describe('pipeline: decisions that change nothing', () => {
  it('suppresses when the owner tagged a reason, quoting it', async () => {
    const control = fakeControl({
      readState: async () => ({
        kind: 'found',
        state: { rules: 2 },
        tags: { 'hubfix:suppress': 'lab VPC' },
      }),
    });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'update SUPPRESSED',
      'publish SUPPRESSED',
    ]);
    expect(updates[0]?.update.note).toBe(
      'hubfix suppressed this finding: suppressed by tag hubfix:suppress: "lab VPC".',
    );
  });

  it('notifies in notify mode, saying what a fix would do', async () => {
    await pipeline(fakeControl(), settings({ mode: 'notify' })).processEvent(
      importedEvent([finding()]),
    );

    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'plan',
      'update NOTIFIED',
      'publish NOTIFIED',
    ]);
    expect(updates[0]?.update.note).toBe(
      'hubfix did not change anything: the control is in notify mode. A fix would revoke 2 rules.',
    );
  });

  it('plans on a dry run: runs the read-only preflight and changes nothing', async () => {
    await pipeline(fakeControl(), settings({ dryRun: true })).processEvent(
      importedEvent([finding()]),
    );

    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'plan',
      'preflight',
      'update NOTIFIED',
      'publish PLANNED',
    ]);
    expect(updates[0]?.update.note).toContain('It would 1) revoke rule 1 2) revoke rule 2');
  });

  it('plans when a person chooses "Plan"', async () => {
    await pipeline().processEvent(
      customActionEvent([finding({ 'Workflow.Status': 'NOTIFIED' })], PLAN_ACTION_ARN),
    );

    expect(calls).toContain('publish PLANNED');
    expect(calls).not.toContain('apply');
  });

  it('fails closed when the live state cannot be read, leaving the workflow so it is looked at again', async () => {
    const control = fakeControl({
      readState: async () => {
        throw new Error('AccessDenied');
      },
    });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual([
      'fetch finding',
      'readState sg-1234123f',
      'update unchanged',
      'publish DEFERRED',
    ]);
    expect(updates[0]?.update.note).toContain(
      'could not be read, so hubfix will not act blind (AccessDenied)',
    );
  });

  it('ignores a resource the live read says the control does not apply to', async () => {
    const control = fakeControl({
      readState: async () => ({ kind: 'not-applicable', reason: 'sg-1 is not a default group' }),
    });

    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual(['fetch finding', 'readState sg-1234123f']);
    expect(result.handled[0]?.report.outcome).toEqual({
      kind: 'IGNORED',
      reason: 'sg-1 is not a default group',
    });
    expect(
      logs.some((l) => l.level === 'warn' && l.message === 'live resource is not applicable'),
    ).toBe(true);
  });

  it.each([
    ['a PASSED finding', { 'Compliance.Status': 'PASSED' }],
    ['an ARCHIVED finding', { RecordState: 'ARCHIVED' }],
    ['another product', { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }],
    [
      'a resource in another account',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: 'arn:aws:ec2:us-east-1:999999999999:security-group/sg-1234123f',
          },
        ],
      },
    ],
  ])('ignores %s without a single AWS call', async (_name, changes) => {
    const result = await pipeline().processEvent(importedEvent([finding(changes)]));

    expect(calls).toEqual([]);
    expect(result.handled[0]?.report.outcome.kind).toBe('IGNORED');
    expect(metrics).toEqual(['IGNORED']);
  });

  it('reads nothing when the control is off', async () => {
    await pipeline(fakeControl(), settings({ mode: 'off' })).processEvent(
      importedEvent([finding()]),
    );

    expect(calls).toEqual([]);
  });

  it("ignores a custom action that is not one of hubfix's", async () => {
    const event = customActionEvent(
      [finding()],
      'arn:aws:securityhub:us-east-1:111111111111:action/custom/Other',
    );

    const result = await pipeline().processEvent(event);

    expect(calls).toEqual([]);
    expect(result.handled[0]?.report.outcome).toMatchObject({ kind: 'IGNORED' });
  });
});

describe('pipeline: batches and bad input', () => {
  it('handles every finding of a custom action, skipping other controls, one failure not stopping the rest', async () => {
    // Prepare
    const second = finding({
      Id: 'finding-2',
      Resources: [
        {
          Type: 'AwsEc2SecurityGroup',
          Id: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-2222222f',
        },
      ],
    });
    const otherControl = finding({
      Id: 'finding-3',
      'ProductFields.ControlId': 'EC2.19',
      GeneratorId: 'security-control/EC2.19',
    });
    const control = fakeControl({
      readState: async (ref) => {
        if (ref.id === 'sg-1234123f') throw new Error('throttled');
        return { kind: 'found', state: { rules: 2 }, tags: {} };
      },
    });

    securityHubKnows(second, otherControl);

    // Act
    const result = await pipeline(control).processEvent(
      customActionEvent([finding(), otherControl, second]),
    );

    // Assess
    expect(result.skipped).toBe(1);
    expect(result.handled.map((h) => [h.report.findingId, h.report.outcome.kind])).toEqual([
      [EC2_2_FINDING.Id, 'DEFERRED'],
      ['finding-2', 'REMEDIATED'],
    ]);
  });

  it('rejects a malformed event without any AWS call', async () => {
    const result = await pipeline().processEvent({
      'detail-type': 'Security Hub Findings - Imported',
      detail: 'x',
    });

    expect(result.status).toBe('rejected');
    expect(calls).toEqual([]);
    expect(metrics).toEqual(['MalformedEvent']);
    expect(logs[0]).toMatchObject({
      level: 'error',
      message: 'malformed event rejected; nothing was changed',
    });
  });

  it('rejects a malformed finding and still handles the others', async () => {
    const result = await pipeline().processEvent(importedEvent([{ Id: 'broken' }, finding()]));

    expect(result.rejected).toEqual([
      { findingId: 'broken', error: expect.stringContaining('finding #0 is malformed') },
    ]);
    expect(result.handled).toHaveLength(1);
    expect(metrics).toEqual(['MalformedFinding', 'RemediationDuration (ms)', 'REMEDIATED']);
  });

  it('still notifies when the finding update fails, then throws so Lambda retries', async () => {
    const run = pipeline(fakeControl(), settings(), {
      update: () => new Error('FindingNotFound'),
    }).processEvent(importedEvent([finding()]));

    await expect(run).rejects.toBeInstanceOf(IncompleteDeliveryError);
    expect(notifications[0]?.message).toContain('COULD NOT BE UPDATED: FindingNotFound');
    expect(metrics).toEqual(['RemediationDuration (ms)', 'FindingUpdateFailed', 'REMEDIATED']);
  });

  it('throws after the batch when a notification could not be published', async () => {
    const run = pipeline(fakeControl(), settings(), {
      publish: new Error('SNS down'),
    }).processEvent(importedEvent([finding()]));

    await expect(run).rejects.toThrow('1 finding(s) were processed but not fully delivered');
    expect(updates).toHaveLength(1);
  });
});

describe('pipeline: trust Security Hub, not the event', () => {
  it('ignores a finding Security Hub does not know, without reading or changing anything', async () => {
    // Prepare: a forged event naming a real resource.
    securityHubCopies.clear();

    // Act
    const result = await pipeline().processEvent(importedEvent([finding()]));

    // Assess
    expect(calls).toEqual(['fetch finding']);
    expect(result.handled[0]?.report.outcome).toEqual({
      kind: 'IGNORED',
      reason: 'Security Hub does not know this finding',
    });
    expect(logs.some((l) => l.level === 'warn' && l.message === 'finding refused')).toBe(true);
  });

  it.each([
    ['no longer FAILED', { 'Compliance.Status': 'PASSED' }],
    ['ARCHIVED', { RecordState: 'ARCHIVED' }],
    ['already handled (not NEW)', { 'Workflow.Status': 'NOTIFIED' }],
    [
      'about another control',
      {
        'Compliance.SecurityControlId': 'EC2.19',
        'ProductFields.ControlId': 'EC2.19',
        GeneratorId: 'security-control/EC2.19',
      },
    ],
    [
      'naming another resource',
      {
        Resources: [
          {
            Type: 'AwsEc2SecurityGroup',
            Id: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-99999999',
          },
        ],
      },
    ],
  ])("ignores the event when Security Hub's copy is %s", async (_name, changes) => {
    securityHubCopies.set(EC2_2_FINDING.Id as string, finding(changes));

    const result = await pipeline().processEvent(importedEvent([finding()]));

    expect(calls).toEqual(['fetch finding']);
    expect(result.handled[0]?.report.outcome.kind).toBe('IGNORED');
  });

  it("acts on Security Hub's copy: its control parameters, not the event's", async () => {
    // Prepare: the event claims authorizedTcpPorts=[] (which would revoke 80 and 443).
    const params = (ports: string[]) => ({
      'Compliance.SecurityControlParameters': [{ Name: 'authorizedTcpPorts', Value: ports }],
    });
    securityHubCopies.set(EC2_2_FINDING.Id as string, finding(params(['80', '443'])));
    let seen: unknown;
    const control = fakeControl({
      preflight: async (_state, ctx) => {
        seen = ctx.finding.controlParameters;
        return [];
      },
    });

    // Act
    await pipeline(control).processEvent(importedEvent([finding(params([]))]));

    // Assess
    expect(seen).toEqual({ authorizedTcpPorts: ['80', '443'] });
  });

  it('plans and notifies from the event when Security Hub cannot be asked, but changes nothing and says so', async () => {
    securityHubCopies.set(EC2_2_FINDING.Id as string, new Error('TooManyRequestsException'));

    const result = await pipeline().processEvent(importedEvent([finding()]));

    expect(calls).not.toContain('apply');
    expect(calls).not.toContain('recordBefore');
    expect(result.handled[0]?.report.outcome.kind).toBe('DEFERRED');
    expect(updates[0]?.update.note).toContain('Security Hub could not confirm the finding');
    expect(notifications[0]?.message).toContain(
      "Caution:   Security Hub could not confirm this finding (TooManyRequestsException); what follows is from the event's copy, and nothing was changed.",
    );
  });

  it('still notifies from the event copy in notify mode when Security Hub cannot be asked', async () => {
    securityHubCopies.set(EC2_2_FINDING.Id as string, new Error('ThrottlingException'));

    const result = await pipeline(fakeControl(), settings({ mode: 'notify' })).processEvent(
      importedEvent([finding()]),
    );

    expect(result.handled[0]?.report.outcome.kind).toBe('NOTIFIED');
    expect(notifications[0]?.message).toContain('Caution:   Security Hub could not confirm');
  });

  it("mode off ignores a person's custom action too, without a single call", async () => {
    const result = await pipeline(fakeControl(), settings({ mode: 'off' })).processEvent(
      customActionEvent([finding({ 'Workflow.Status': 'NOTIFIED' })]),
    );

    expect(calls).toEqual([]);
    expect(result.handled[0]?.report.outcome.kind).toBe('IGNORED');
  });

  it("honours the allow-list on a person's Remediate unless the config overrides it", async () => {
    const onlyProd = { allowList: [{ tags: { environment: ['prod'] } }] };
    const action = customActionEvent([finding({ 'Workflow.Status': 'NOTIFIED' })]);
    securityHubKnows(finding({ 'Workflow.Status': 'NOTIFIED' }));

    const held = await pipeline(
      fakeControl(),
      settings({ mode: 'notify', ...onlyProd }),
    ).processEvent(action);
    const overridden = await pipeline(
      fakeControl(),
      settings({ mode: 'notify', ...onlyProd, overrideAllowList: true }),
    ).processEvent(action);

    expect(held.handled[0]?.report.outcome.kind).toBe('NOTIFIED');
    expect(overridden.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
  });
});

describe('pipeline: direct requests (npx hubfix, hand-ons, the reconciler)', () => {
  const request = (changes: Partial<DirectRequest> = {}): DirectRequest => ({
    type: DIRECT_REQUEST_MARKER,
    requestId: 'request-1',
    request: 'remediate',
    origin: 'cli',
    findings: [{ format: 'asff', id: EC2_2_FINDING.Id as string }],
    ...changes,
  });

  it("fetches each named finding from Security Hub and handles it as a person's request", async () => {
    securityHubKnows(finding({ 'Workflow.Status': 'NOTIFIED' }));

    const result = await pipeline(fakeControl(), settings({ mode: 'notify' })).processEvent(
      request(),
    );

    expect(calls[0]).toBe('fetch finding');
    expect(calls.filter((c) => c.startsWith('fetch'))).toHaveLength(1);
    expect(result.handled[0]?.report).toMatchObject({
      request: 'remediate-action',
      via: 'cli',
      outcome: { kind: 'REMEDIATED' },
    });
    expect(notifications[0]?.message).toContain('Request:   npx hubfix remediate');
  });

  it('rejects a finding Security Hub does not know, and changes nothing', async () => {
    securityHubCopies.clear();

    const result = await pipeline().processEvent(request());

    expect(result.rejected).toEqual([
      { findingId: EC2_2_FINDING.Id, error: 'Security Hub does not know this finding' },
    ]);
    expect(calls).toEqual(['fetch finding']);
  });

  it('rejects a request that is not one hubfix can read, without any call', async () => {
    const result = await pipeline().processEvent({ ...request(), findings: [] });

    expect(result.status).toBe('rejected');
    expect(calls).toEqual([]);
  });
});

describe('pipeline: waiting for AWS no longer than it must', () => {
  it("reads the finding's history while it takes the lease, which does not need it", async () => {
    // Prepare: a history read that takes a while.
    const history: FindingHistory = {
      async get() {
        calls.push('history asked');
        await new Promise((resolve) => setTimeout(resolve, 20));
        calls.push('history answered');
        return undefined;
      },
      async put() {},
    };
    const lease: ResourceLease = {
      async acquire() {
        calls.push('lease taken');
        return true;
      },
      async release() {},
    };

    // Act
    const result = await pipeline(fakeControl(), settings(), {}, { history, lease }).processEvent(
      importedEvent([finding()]),
    );

    // Assess: the lease was taken before the history answered; the decision waited for it.
    expect(result.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
    expect(calls.slice(0, 5)).toEqual([
      'fetch finding',
      'history asked',
      'lease taken',
      'history answered',
      'readState sg-1234123f',
    ]);
  });

  it('sends the outcome event alongside the finding update and the notification, which follows the update', async () => {
    // Prepare
    const outcomeEvents: OutcomePublisher = {
      async publish(event) {
        calls.push(`event ${event.outcome}`);
        events.push(event);
      },
    };

    // Act
    await pipeline(fakeControl(), settings(), {}, { events: outcomeEvents }).processEvent(
      importedEvent([finding()]),
    );

    // Assess: the event did not wait for the update; the notification, which says how the update went, did.
    expect(calls.slice(-4)).toEqual([
      'recordResult REMEDIATED',
      'event REMEDIATED',
      'update unchanged',
      'publish REMEDIATED',
    ]);
  });

  it('still tells the other two when the outcome event fails, and reports it undelivered', async () => {
    // Prepare
    const failing: OutcomePublisher = {
      async publish() {
        throw new Error('EventBridge is down');
      },
    };

    // Act
    const outcome = await pipeline(fakeControl(), settings(), {}, { events: failing })
      .processEvent(importedEvent([finding()]))
      .catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(IncompleteDeliveryError);
    expect(calls).toContain('update unchanged');
    expect(calls).toContain('publish REMEDIATED');
    expect(metrics).toContain('OutcomeEventFailed');
  });
});

describe('pipeline: one resource, one change at a time', () => {
  /** A lease table as DynamoDB's conditional writes make it: one holder per key. */
  function sharedLease() {
    const holders = new Map<string, string>();
    const lease: ResourceLease = {
      async acquire(key, holder) {
        if (holders.has(key)) return false;
        holders.set(key, holder);
        return true;
      },
      async release(key, holder) {
        if (holders.get(key) === holder) holders.delete(key);
      },
    };
    return { lease, holders };
  }

  it('lets two concurrent findings for one group change it once: the second finds it compliant', async () => {
    // Prepare: one live group, two findings (two standards) naming it.
    const { lease } = sharedLease();
    let rules = 2;
    let applying: () => void = () => {};
    const applied = new Promise<void>((resolve) => {
      applying = resolve;
    });
    const control = fakeControl({
      readState: async () => ({ kind: 'found', state: { rules }, tags: {} }),
      apply: async () => {
        applying();
        await new Promise((resolve) => setTimeout(resolve, 5));
        rules = 0;
        return { changes: ['revoked 2 rules'] };
      },
    });
    const other = finding({ Id: 'finding-cis' });
    securityHubKnows(other);

    // Act: the second arrives while the first is applying, and waits in real time.
    const first = pipeline(control, settings(), {}, { lease, clock: systemClock }).processEvent(
      importedEvent([finding()]),
      {
        deadline: deadlineIn(60_000),
        id: 'invocation-a',
      },
    );
    await applied;
    const second = pipeline(control, settings(), {}, { lease, clock: systemClock }).processEvent(
      importedEvent([other]),
      {
        deadline: deadlineIn(60_000),
        id: 'invocation-b',
      },
    );
    const [a, b] = await Promise.all([first, second]);

    // Assess
    expect(a.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
    expect(b.handled[0]?.report.outcome.kind).toBe('ALREADY_COMPLIANT');
    expect(calls.filter((c) => c === 'apply')).toHaveLength(1);
  });

  it('changes a group once when Security Hub CSPM and the new Security Hub both report it', async () => {
    // Prepare: the same default group, one ASFF finding and one OCSF finding.
    const { lease } = sharedLease();
    let rules = 2;
    let applying: () => void = () => {};
    const applied = new Promise<void>((resolve) => {
      applying = resolve;
    });
    const control = fakeControl({
      readState: async () => ({ kind: 'found', state: { rules }, tags: {} }),
      apply: async () => {
        applying();
        await new Promise((resolve) => setTimeout(resolve, 5));
        rules = 0;
        return { changes: ['revoked 2 rules'] };
      },
    });
    const v2 = ocsfFinding('EC2.2');
    securityHubCopies.set((v2.finding_info as { uid: string }).uid, v2);

    // Act
    const cspm = pipeline(control, settings(), {}, { lease, clock: systemClock }).processEvent(
      importedEvent([finding()]),
      { deadline: deadlineIn(60_000), id: 'invocation-a' },
    );
    await applied;
    const ocsf = pipeline(control, settings(), {}, { lease, clock: systemClock }).processEvent(
      importedV2Event(v2),
      { deadline: deadlineIn(60_000), id: 'invocation-b' },
    );
    const [a, b] = await Promise.all([cspm, ocsf]);

    // Assess
    expect(a.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
    expect(b.handled[0]?.report.outcome.kind).toBe('ALREADY_COMPLIANT');
    expect(calls.filter((c) => c === 'apply')).toHaveLength(1);
  });

  it('defers, changing nothing, when the resource stays busy past the wait', async () => {
    const { lease, holders } = sharedLease();
    holders.set('EC2.2#lease#111111111111#us-east-1#sg-1234123f', 'someone else');

    const result = await pipeline(fakeControl(), settings(), {}, { lease }).processEvent(
      importedEvent([finding()]),
      { deadline: deadlineIn(600_000), id: 'invocation-a' },
    );

    expect(calls).toEqual(['fetch finding', 'update unchanged', 'publish DEFERRED']);
    expect(result.handled[0]?.report.outcome).toMatchObject({
      kind: 'DEFERRED',
      reason: expect.stringContaining(
        'another hubfix invocation is changing sg-1234123f right now',
      ),
    });
    expect(updates[0]?.update.workflow).toBeUndefined();
    expect(metrics).toContain('LeaseBusy');
  });

  it('takes no lease for what cannot change anything (notify mode)', async () => {
    const { lease, holders } = sharedLease();
    holders.set('EC2.2#lease#111111111111#us-east-1#sg-1234123f', 'someone else');

    const result = await pipeline(
      fakeControl(),
      settings({ mode: 'notify' }),
      {},
      { lease },
    ).processEvent(importedEvent([finding()]));

    expect(result.handled[0]?.report.outcome.kind).toBe('NOTIFIED');
  });
});

describe('pipeline: the finding lifecycle', () => {
  it('recognises a fix that did not hold, fixes it once more, and names the stack that owns it', async () => {
    // Prepare: hubfix fixed this finding before.
    historyItems.set(`EC2.2#${EC2_2_FINDING.Id}`, {
      lastOutcome: 'REMEDIATED',
      lastReason: 'the resource is allow-listed and the control is in remediate mode',
      lastAt: '2026-11-01T00:00:00.000Z',
      lastChangeId: 'EC2.2-old',
      fixes: 1,
      lastFixAt: '2026-11-01T00:00:00.000Z',
      lastFixChangeId: 'EC2.2-old',
      continuing: false,
      workflowSet: undefined,
    });
    const control = fakeControl({
      readState: async () => ({
        kind: 'found',
        state: { rules: 2 },
        tags: { 'aws:cloudformation:stack-name': 'web-prod' },
      }),
    });

    // Act
    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    // Assess
    const handled = result.handled[0];
    expect(handled?.report.outcome.kind).toBe('REMEDIATED');
    expect(handled?.report.drift).toMatchObject({
      previousChangeId: 'EC2.2-old',
      owner: 'CloudFormation stack "web-prod"',
    });
    expect(updates[0]?.update.workflow).toBe('NOTIFIED');
    expect(updates[0]?.update.note).toContain('fix the template, or hubfix will fight it');
    expect(metrics).toContain('Drift');
    expect(historyItems.get(`EC2.2#${EC2_2_FINDING.Id}`)?.fixes).toBe(2);
    // The earlier fix's ledger entry says it did not hold: what changed back, and who owns it.
    expect(driftMarks).toEqual([
      {
        changeId: 'EC2.2-old',
        mark: {
          detectedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
          findingId: EC2_2_FINDING.Id,
          changedBack: 'revoke 2 rules',
          owner: 'CloudFormation stack "web-prod"',
          outcome: 'REMEDIATED',
        },
      },
    ]);
  });

  it('marks no ledger entry when nothing drifted', async () => {
    await pipeline().processEvent(importedEvent([finding()]));

    expect(calls.filter((c) => c.startsWith('markDrifted'))).toEqual([]);
    expect(driftMarks).toEqual([]);
  });

  it('still tells the finding and SNS when the drift mark cannot be written', async () => {
    // Prepare: hubfix fixed this finding before; the ledger refuses the mark.
    historyItems.set(`EC2.2#${EC2_2_FINDING.Id}`, {
      lastOutcome: 'REMEDIATED',
      lastReason: 'allow-listed',
      lastAt: '2026-11-01T00:00:00.000Z',
      lastChangeId: 'EC2.2-old',
      fixes: 2,
      lastFixAt: '2026-11-01T00:00:00.000Z',
      lastFixChangeId: 'EC2.2-old',
      continuing: false,
      workflowSet: undefined,
    });

    // Act
    const result = await pipeline(fakeControl(), settings(), {
      markDrifted: new Error('ConditionalCheckFailed'),
    }).processEvent(importedEvent([finding()]));

    // Assess
    expect(result.handled[0]?.report.outcome.kind).toBe('DRIFTED');
    expect(calls).toContain('markDrifted EC2.2-old');
    expect(updates[0]?.update.workflow).toBe('NOTIFIED');
    expect(notifications.map((n) => n.attributes.outcome)).toEqual(['DRIFTED']);
    expect(metrics).toContain('LedgerWriteFailed');
  });

  it('stops fighting after the configured number of fixes: DRIFTED, nothing changed', async () => {
    historyItems.set(`EC2.2#${EC2_2_FINDING.Id}`, {
      lastOutcome: 'REMEDIATED',
      lastReason: 'the resource is allow-listed and the control is in remediate mode',
      lastAt: '2026-11-02T00:00:00.000Z',
      lastChangeId: 'EC2.2-second',
      fixes: 2,
      lastFixAt: '2026-11-02T00:00:00.000Z',
      lastFixChangeId: 'EC2.2-second',
      continuing: false,
      workflowSet: 'NOTIFIED',
    });

    const result = await pipeline().processEvent(importedEvent([finding()]));

    expect(calls).not.toContain('apply');
    expect(result.handled[0]?.report.outcome.kind).toBe('DRIFTED');
    expect(updates[0]?.update.workflow).toBe('NOTIFIED');
  });

  it('remembers what it did with each finding', async () => {
    await pipeline().processEvent(importedEvent([finding()]));

    expect(historyItems.get(`EC2.2#${EC2_2_FINDING.Id}`)).toEqual({
      lastOutcome: 'REMEDIATED',
      lastReason: 'the resource is allow-listed and the control is in remediate mode',
      lastAt: '2026-11-22T10:00:00.000Z',
      lastChangeId: 'change-1',
      fixes: 1,
      lastFixAt: '2026-11-22T10:00:00.000Z',
      lastFixChangeId: 'change-1',
      continuing: false,
      workflowSet: undefined,
    });
  });

  it('lifts a lapsed suppression: the reconciler hands it over, and the workflow goes back to NEW', async () => {
    // Prepare: the owner's suppression ended yesterday; the finding is still SUPPRESSED.
    const suppressed = finding({ 'Workflow.Status': 'SUPPRESSED' });
    securityHubKnows(suppressed);
    const control = fakeControl({
      readState: async () => ({
        kind: 'found',
        state: { rules: 2 },
        tags: { 'hubfix:suppress': 'lab; until 2026-11-21' },
      }),
    });

    // Act
    const result = await pipeline(control).processEvent({
      type: DIRECT_REQUEST_MARKER,
      requestId: 'sweep-1',
      request: 'reconcile',
      origin: 'reconciler',
      findings: [{ format: 'asff', id: EC2_2_FINDING.Id as string }],
    });

    // Assess
    expect(result.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
    expect(updates[0]?.update.workflow).toBe('NEW');
    expect(result.handled[0]?.report.decision.reason).toContain('ended on 2026-11-21');
  });
});

describe('pipeline: a sweep says nothing new twice', () => {
  it('keeps quiet when the reconciler finds the same outcome for the same reason', async () => {
    const sweep = {
      type: DIRECT_REQUEST_MARKER,
      requestId: 'sweep-1',
      request: 'reconcile',
      origin: 'reconciler',
      findings: [{ format: 'asff', id: EC2_2_FINDING.Id as string }],
    } as const;
    const notifyMode = settings({ mode: 'notify' });

    const first = await pipeline(fakeControl(), notifyMode).processEvent(sweep);
    const second = await pipeline(fakeControl(), notifyMode).processEvent({
      ...sweep,
      requestId: 'sweep-2',
    });

    expect(first.handled[0]?.report.outcome.kind).toBe('NOTIFIED');
    expect(second.handled[0]?.report.outcome.kind).toBe('NOTIFIED');
    expect(updates).toHaveLength(1);
    expect(notifications).toHaveLength(1);
    expect(metrics).toContain('Unchanged');
  });
});

describe('pipeline: work that does not fit one invocation', () => {
  it('handles as many findings as the control allows and hands the rest on, once', async () => {
    const control = { ...fakeControl(), findingsPerInvocation: 1 };
    const second = finding({ Id: 'finding-2' });
    const third = finding({ Id: 'finding-3' });
    securityHubKnows(second, third);

    const result = await pipeline(control).processEvent(
      customActionEvent([finding(), second, third]),
    );

    expect(result.handled.map((h) => h.report.findingId)).toEqual([EC2_2_FINDING.Id]);
    expect(result.handedOn).toBe(2);
    expect(requeued).toEqual([
      {
        type: DIRECT_REQUEST_MARKER,
        requestId: '66666666-7777-8888-9999-000000000000-rest',
        request: 'remediate',
        origin: 'requeue',
        findings: [
          { format: 'asff', id: 'finding-2', productArn: EC2_2_FINDING.ProductArn },
          { format: 'asff', id: 'finding-3', productArn: EC2_2_FINDING.ProductArn },
        ],
      },
    ]);
    // Handed on before the long work starts, so a timeout cannot lose them.
    expect(calls.indexOf('requeue 2')).toBeLessThan(calls.indexOf('apply'));
  });

  it('fails the invocation (so Lambda retries) when the rest cannot be handed on', async () => {
    const control = { ...fakeControl(), findingsPerInvocation: 1 };
    const second = finding({ Id: 'finding-2' });
    securityHubKnows(second);

    const run = pipeline(control, settings(), { requeue: new Error('Lambda down') }).processEvent(
      customActionEvent([finding(), second]),
    );

    await expect(run).rejects.toBeInstanceOf(IncompleteDeliveryError);
  });

  it('hands the finding on for the next part when a fix covered only part of it', async () => {
    const control = fakeControl();
    const partial = {
      ...control,
      plan: (state: FakeState) => {
        const plan = control.plan(state, undefined as never);
        return plan.kind === 'change' ? { ...plan, remaining: '4,400 snapshots' } : plan;
      },
    };

    const result = await pipeline(partial).processEvent(importedEvent([finding()]));

    expect(result.handled[0]?.report.outcome.kind).toBe('REMEDIATED');
    expect(requeued).toEqual([
      {
        type: DIRECT_REQUEST_MARKER,
        requestId: 'change-1-next',
        request: 'imported',
        origin: 'requeue',
        findings: [{ format: 'asff', id: EC2_2_FINDING.Id, productArn: EC2_2_FINDING.ProductArn }],
      },
    ]);
    expect(updates[0]?.update.note).toContain(
      'Still to do, in another invocation: 4,400 snapshots.',
    );
    // The next part is not drift: the last fix said it would continue.
    expect(historyItems.get(`EC2.2#${EC2_2_FINDING.Id}`)?.continuing).toBe(true);
  });
});

describe('pipeline: every outcome persists through the real idempotency layer', () => {
  const driftedTwice: HistoryEntry = {
    lastOutcome: 'REMEDIATED',
    lastReason: 'the resource is allow-listed and the control is in remediate mode',
    lastAt: '2026-11-02T00:00:00.000Z',
    lastChangeId: 'EC2.2-second',
    fixes: 2,
    lastFixAt: '2026-11-02T00:00:00.000Z',
    lastFixChangeId: 'EC2.2-second',
    continuing: false,
    workflowSet: 'NOTIFIED',
  };
  const live = (state: FakeState, tags: Record<string, string> = {}) =>
    fakeControl({ readState: async () => ({ kind: 'found', state, tags }) });
  const SCENARIOS: readonly [string, () => Parameters<typeof pipeline>, Json?][] = [
    [
      'IGNORED',
      () => [fakeControl({ readState: async () => ({ kind: 'not-applicable', reason: 'gone' }) })],
    ],
    ['SUPPRESSED', () => [live({ rules: 2 }, { 'hubfix:suppress': 'lab' })]],
    ['NOTIFIED', () => [fakeControl(), settings({ mode: 'notify' })]],
    [
      'DEFERRED',
      () => [
        fakeControl({
          readState: async () => {
            throw new Error('AccessDenied');
          },
        }),
      ],
    ],
    ['PLANNED', () => [fakeControl(), settings({ dryRun: true })]],
    ['ALREADY_COMPLIANT', () => [live({ rules: 0 })]],
    ['BLOCKED', () => [fakeControl({ preflight: async () => ['in use'] })]],
    ['REMEDIATED', () => [fakeControl()]],
    ['FAILED', () => [fakeControl({ verify: async () => ({ ok: false, reason: 'still there' }) })]],
    [
      'DRIFTED',
      () => {
        historyItems.set(`EC2.2#${EC2_2_FINDING.Id}`, driftedTwice);
        return [fakeControl()];
      },
    ],
  ];

  it.each(SCENARIOS)('%s is saved, and a repeat delivery replays it', async (kind, scenario) => {
    // Prepare: Powertools' DynamoDB persistence layer, marshalling for real.
    const table = itemTable();
    const guard = new DynamoDbOnceGuard(table.client, { tableName: 'hubfix-idempotency' });
    // As the handler does: Powertools warns, once per record, without it.
    guard.registerLambdaContext(LAMBDA_CONTEXT);
    const [control, runtime] = scenario();
    const run = () =>
      pipeline(control, runtime ?? settings(), {}, { guard }).processEvent(
        importedEvent([finding()]),
      );

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(first.handled[0]?.report.outcome.kind).toBe(kind);
    expect(second.duplicates).toBe(1);
    const saved = [...table.items.values()][0];
    expect(saved?.status?.S).toBe('COMPLETED');
    // What a replay gets back: small, plain JSON, nothing DynamoDB would refuse.
    expect(unmarshall(saved ?? {}).data).toEqual(
      expect.objectContaining({ findingId: EC2_2_FINDING.Id, outcome: kind }),
    );
  });
});
