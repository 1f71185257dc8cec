/**
 * What `backfill` reads from the stack: the reconciler's settings, the state
 * table and, for a stack in org mode, the organization scope its reconciler
 * sweeps (the stack's outputs, named in lib/stack-outputs.ts).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../lambdas/core/errors';
import { sweeperOfStack } from '../../../lib/cli/aws';
import {
  ORGANIZATION_SCOPE_OUTPUT,
  RECONCILER_SETTINGS_OUTPUT,
  STATE_TABLE_OUTPUT,
} from '../../../lib/stack-outputs';
import { strictMock } from '../../support/aws';
import { OPERATOR } from '../../support/cli';
import { REGION } from '../../support/fixtures';
import { SCOPE } from '../../support/organization';
import { CONTROL_FUNCTIONS, STATE_TABLE } from '../../support/reconciler';

const SETTINGS = JSON.stringify({ controls: CONTROL_FUNCTIONS, graceHours: 24 });

function stackWith(outputs: Record<string, string>) {
  const cloudFormation = strictMock(CloudFormationClient);
  cloudFormation.on(DescribeStacksCommand, { StackName: 'Hubfix' }, true).resolves({
    Stacks: [
      {
        StackName: 'Hubfix',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
          OutputKey,
          OutputValue,
        })),
      },
    ],
  });
  return cloudFormation;
}

describe("backfill's sweeper, from the stack's outputs", () => {
  it('reads the organization scope of a stack in org mode', async () => {
    stackWith({
      [RECONCILER_SETTINGS_OUTPUT]: SETTINGS,
      [STATE_TABLE_OUTPUT]: STATE_TABLE,
      [ORGANIZATION_SCOPE_OUTPUT]: JSON.stringify(SCOPE),
    });

    const sweeper = await sweeperOfStack('Hubfix', REGION, OPERATOR);

    expect(sweeper.organization).toEqual(SCOPE);
    expect(sweeper.settings).toEqual({ controls: CONTROL_FUNCTIONS, graceHours: 24 });
    expect(sweeper.partition).toBe('aws');
  });

  it('has no organization scope for a single-account stack', async () => {
    stackWith({ [RECONCILER_SETTINGS_OUTPUT]: SETTINGS, [STATE_TABLE_OUTPUT]: STATE_TABLE });

    expect((await sweeperOfStack('Hubfix', REGION, OPERATOR)).organization).toBeUndefined();
  });

  it('refuses an organization scope it cannot read, naming the output', async () => {
    stackWith({
      [RECONCILER_SETTINGS_OUTPUT]: SETTINGS,
      [STATE_TABLE_OUTPUT]: STATE_TABLE,
      [ORGANIZATION_SCOPE_OUTPUT]: JSON.stringify({ ...SCOPE, regions: ['moon-1'] }),
    });

    const failure = sweeperOfStack('Hubfix', REGION, OPERATOR);

    await expect(failure).rejects.toThrow(ConfigurationError);
    await expect(failure).rejects.toThrow(/the OrganizationScope output of Hubfix/);
  });
});
