/**
 * The function settings that change the template: reserved concurrency,
 * what deleting the stack does to the log groups, and X-Ray tracing. One control is enough to
 * synthesize: every control's function is built by the same construct.
 */
import { describe, expect, it } from 'vitest';
import { type ControlDefinition, findControl } from '../../lib/controls';
import { resourcesOf, synthesize } from '../support/stack';

function registered(id: string): ControlDefinition {
  const control = findControl(id);
  if (!control) throw new Error(`${id} is not registered`);
  return control;
}
const ec2_2 = registered('EC2.2');

function synthesizeWith(functions: Record<string, unknown>) {
  const resources = Object.values(
    resourcesOf(synthesize({ config: { functions }, controls: [ec2_2] }).template),
  );
  const fn = resources.find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      'HUBFIX_SETTINGS' in (r.Properties.Environment as { Variables: object }).Variables,
  );
  const reconciler = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r !== fn);
  const logGroups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
  if (!fn || !reconciler) throw new Error('no control function or reconciler synthesized');
  return { fn, reconciler, logGroups };
}

const byDefault = synthesizeWith({});
const unreservedAndDisposable = synthesizeWith({
  reservedConcurrency: 'none',
  logRemovalPolicy: 'destroy',
  tracing: 'active',
});

describe('functions in the template', () => {
  it('reserve 2 concurrent executions each by default', () => {
    expect(byDefault.fn.Properties.ReservedConcurrentExecutions).toBe(2);
  });

  it('reserve nothing with reservedConcurrency "none"', () => {
    expect(unreservedAndDisposable.fn.Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
    expect(unreservedAndDisposable.reconciler.Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
  });

  it('reserve one for the reconciler by default: one sweep at a time', () => {
    expect(byDefault.reconciler.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('keep their log groups when the stack is deleted, by default', () => {
    // The control's and the reconciler's.
    expect(byDefault.logGroups).toHaveLength(2);
    for (const logGroup of byDefault.logGroups) {
      expect(logGroup).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('trace only what a traced caller sends, by default: no trace is paid for per finding', () => {
    for (const fn of [byDefault.fn, byDefault.reconciler]) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'PassThrough' });
    }
  });

  it('let Lambda sample invocations with tracing "active"', () => {
    for (const fn of [unreservedAndDisposable.fn, unreservedAndDisposable.reconciler]) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('delete their log groups with the stack with logRemovalPolicy "destroy"', () => {
    expect(unreservedAndDisposable.logGroups).toHaveLength(2);
    for (const logGroup of unreservedAndDisposable.logGroups) {
      expect(logGroup).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });
});
