import { beforeEach, describe, expect, it } from 'vitest';
import type { FindingUpdate, FindingWriter } from '../../../lambdas/core/adapters/security-hub';
import type { Notification, Notifier } from '../../../lambdas/core/adapters/sns';
import type { Control, Log } from '../../../lambdas/core/control';
import { IncompleteDeliveryError, PartialChangeError } from '../../../lambdas/core/errors';
import {
  type ChangeRecord,
  type ChangeRecorder,
  type ChangeResult,
  createPipeline,
  type MetricsPort,
} from '../../../lambdas/core/pipeline';
import { arnResource } from '../../../lambdas/core/resource';
import { integer, object } from '../../../lambdas/core/schema';
import type { RuntimeSettings } from '../../../lambdas/core/settings';
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

interface FakeState {
  readonly rules: number;
}
interface FakeBefore {
  readonly rules: number;
}

/** Everything the pipeline did, in order, across the control and the ports. */
let calls: string[];
let updates: { id: string; update: FindingUpdate }[];
let notifications: Notification[];
let records: ChangeRecord[];
let results: { changeId: string; result: ChangeResult }[];
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
    params: {},
    ...changes,
  };
}

interface PortFailures {
  update?: (id: string) => Error | undefined;
  publish?: Error;
  recordBefore?: Error;
}

function pipeline(control = fakeControl(), runtime = settings(), failures: PortFailures = {}) {
  const findings: FindingWriter = {
    async update(finding, update) {
      calls.push(`update ${update.workflow}`);
      const failure = failures.update?.(finding.id);
      if (failure) throw failure;
      updates.push({ id: finding.id, update });
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
  };
  const metricsPort: MetricsPort = { count: (name) => metrics.push(name) };
  return createPipeline({
    control,
    settings: runtime,
    clients: {},
    self: SELF,
    actions: ACTIONS,
    findings,
    notifier,
    recorder,
    log,
    metrics: metricsPort,
    newChangeId: () => 'change-1',
  });
}

const finding = (changes: Record<string, unknown> = {}): Json =>
  withChanges(EC2_2_FINDING, changes);

beforeEach(() => {
  calls = [];
  updates = [];
  notifications = [];
  records = [];
  results = [];
  metrics = [];
  logs = [];
});

describe('pipeline: remediation', () => {
  it('records the before-state before changing anything, verifies, resolves and notifies', async () => {
    // Act
    const result = await pipeline().processEvent(importedEvent([finding()]));

    // Assess
    expect(calls).toEqual([
      'readState sg-1234123f',
      'plan',
      'preflight',
      'recordBefore',
      'apply',
      'verify',
      'recordResult REMEDIATED',
      'update RESOLVED',
      'publish REMEDIATED',
    ]);
    expect(records).toEqual([
      {
        changeId: 'change-1',
        controlId: 'EC2.2',
        findingId: EC2_2_FINDING.Id,
        resource: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f',
        summary: 'revoke 2 rules',
        before: { rules: 2 },
      },
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
    expect(metrics).toEqual(['REMEDIATED']);
    expect(result.handled.map((h) => h.report.outcome.kind)).toEqual(['REMEDIATED']);
  });

  it('resolves an already compliant resource without changing it', async () => {
    const control = fakeControl({
      readState: async () => ({ kind: 'found', state: { rules: 0 }, tags: {} }),
    });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual([
      'readState sg-1234123f',
      'plan',
      'update RESOLVED',
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

  it('changes nothing when the before-state cannot be recorded', async () => {
    await pipeline(fakeControl(), settings(), {
      recordBefore: new Error('ledger down'),
    }).processEvent(importedEvent([finding()]));

    expect(calls).not.toContain('apply');
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

    expect(calls).toEqual(['readState sg-1234123f', 'update SUPPRESSED', 'publish SUPPRESSED']);
    expect(updates[0]?.update.note).toBe(
      'hubfix suppressed this finding: suppressed by tag hubfix:suppress: "lab VPC".',
    );
  });

  it('notifies in notify mode, saying what a fix would do', async () => {
    await pipeline(fakeControl(), settings({ mode: 'notify' })).processEvent(
      importedEvent([finding()]),
    );

    expect(calls).toEqual(['readState sg-1234123f', 'plan', 'update NOTIFIED', 'publish NOTIFIED']);
    expect(updates[0]?.update.note).toBe(
      'hubfix did not change anything: the control is in notify mode. A fix would revoke 2 rules.',
    );
  });

  it('plans on a dry run: runs the read-only preflight and changes nothing', async () => {
    await pipeline(fakeControl(), settings({ dryRun: true })).processEvent(
      importedEvent([finding()]),
    );

    expect(calls).toEqual([
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

  it('fails closed when the live state cannot be read', async () => {
    const control = fakeControl({
      readState: async () => {
        throw new Error('AccessDenied');
      },
    });

    await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual(['readState sg-1234123f', 'update NOTIFIED', 'publish NOTIFIED']);
    expect(updates[0]?.update.note).toContain(
      'could not be read, so hubfix will not act blind (AccessDenied)',
    );
  });

  it('ignores a resource the live read says the control does not apply to', async () => {
    const control = fakeControl({
      readState: async () => ({ kind: 'not-applicable', reason: 'sg-1 is not a default group' }),
    });

    const result = await pipeline(control).processEvent(importedEvent([finding()]));

    expect(calls).toEqual(['readState sg-1234123f']);
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

    // Act
    const result = await pipeline(control).processEvent(
      customActionEvent([finding(), otherControl, second]),
    );

    // Assess
    expect(result.skipped).toBe(1);
    expect(result.handled.map((h) => [h.report.findingId, h.report.outcome.kind])).toEqual([
      [EC2_2_FINDING.Id, 'NOTIFIED'],
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
    expect(metrics).toEqual(['MalformedFinding', 'REMEDIATED']);
  });

  it('still notifies when the finding update fails, then throws so Lambda retries', async () => {
    const run = pipeline(fakeControl(), settings(), {
      update: () => new Error('FindingNotFound'),
    }).processEvent(importedEvent([finding()]));

    await expect(run).rejects.toBeInstanceOf(IncompleteDeliveryError);
    expect(notifications[0]?.message).toContain('COULD NOT BE UPDATED: FindingNotFound');
    expect(metrics).toEqual(['FindingUpdateFailed', 'REMEDIATED']);
  });

  it('throws after the batch when a notification could not be published', async () => {
    const run = pipeline(fakeControl(), settings(), {
      publish: new Error('SNS down'),
    }).processEvent(importedEvent([finding()]));

    await expect(run).rejects.toThrow('1 finding(s) were processed but not fully delivered');
    expect(updates).toHaveLength(1);
  });
});
