/**
 * The stack outputs the CLI reads: the ledger, the topic, and each control's
 * function, under the key `npx hubfix remediate|plan` looks for.
 */
import { describe, expect, it } from 'vitest';
import { CONTROLS } from '../../lib/controls';
import {
  FUNCTION_OUTPUT_PREFIX,
  functionOutputKey,
  LEDGER_TABLE_OUTPUT,
  TOPIC_OUTPUT,
} from '../../lib/stack-outputs';
import { resourcesOf, synthesize } from '../support/stack';

const { template } = synthesize();
const resources = resourcesOf(template);
const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

/** The logical id of the function whose settings name the control. */
function functionOf(controlId: string): string | undefined {
  return Object.entries(resources).find(([, r]) => {
    if (r.Type !== 'AWS::Lambda::Function') return false;
    const variables = (r.Properties?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables;
    return JSON.parse(String(variables?.HUBFIX_SETTINGS ?? '{}')).controlId === controlId;
  })?.[0];
}

describe('stack outputs', () => {
  it.each(CONTROLS.map((c) => c.meta.id))("names %s's function by its ARN", (controlId) => {
    const fn = functionOf(controlId);

    expect(fn).toBeDefined();
    expect(outputs[functionOutputKey(controlId)]?.Value).toEqual({ 'Fn::GetAtt': [fn, 'Arn'] });
  });

  it('has one function output per control and no other, next to the ledger and the topic', () => {
    const keys = Object.keys(outputs);

    expect(keys.filter((k) => k.startsWith(FUNCTION_OUTPUT_PREFIX)).sort()).toEqual(
      CONTROLS.map((c) => functionOutputKey(c.meta.id)).sort(),
    );
    expect(keys).toEqual(expect.arrayContaining([LEDGER_TABLE_OUTPUT, TOPIC_OUTPUT]));
  });

  it.each([
    ['EC2.2', 'FunctionEC2Dot2'],
    ['ECS.16', 'FunctionECSDot16'],
    ['EC2.22', 'FunctionEC2Dot22'],
    ['EC22.2', 'FunctionEC22Dot2'],
  ])('keys %s as %s: alphanumeric, and no two control ids alike', (controlId, key) => {
    expect(functionOutputKey(controlId)).toBe(key);
  });
});
