/**
 * The function settings that change the template: reserved concurrency and
 * what deleting the stack does to the log groups. One control is enough to
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
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function');
  const logGroups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
  if (!fn) throw new Error('no function synthesized');
  return { fn, logGroups };
}

const byDefault = synthesizeWith({});
const unreservedAndDisposable = synthesizeWith({
  reservedConcurrency: 'none',
  logRemovalPolicy: 'destroy',
});

describe('functions in the template', () => {
  it('reserve 2 concurrent executions each by default', () => {
    expect(byDefault.fn.Properties.ReservedConcurrentExecutions).toBe(2);
  });

  it('reserve nothing with reservedConcurrency "none"', () => {
    expect(unreservedAndDisposable.fn.Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
  });

  it('keep their log groups when the stack is deleted, by default', () => {
    expect(byDefault.logGroups).toHaveLength(1);
    expect(byDefault.logGroups[0]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('delete their log groups with the stack with logRemovalPolicy "destroy"', () => {
    expect(unreservedAndDisposable.logGroups).toHaveLength(1);
    expect(unreservedAndDisposable.logGroups[0]).toMatchObject({
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });
});
