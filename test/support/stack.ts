/**
 * Synthesizes the stack as tests need it: environment-agnostic as `cdk synth`
 * makes it (tests resolve the pseudo parameters with `resolveIntrinsics`),
 * with cdk.json's feature flags, and without bundling, which the infra test
 * and `cdk synth` cover on their own.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Aspects, type Environment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type HubfixConfig, parseConfig } from '../../lib/config';
import { CONTROLS, type ControlDefinition } from '../../lib/controls';
import { HubfixStack } from '../../lib/hubfix-stack';

export interface SynthOptions {
  readonly config?: unknown;
  readonly controls?: readonly ControlDefinition[];
  readonly nag?: boolean;
  /** @default none: environment-agnostic, as `cdk synth` without `-c env=` */
  readonly env?: Environment;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: HubfixStack;
  readonly template: Template;
  readonly config: HubfixConfig;
}

/** The feature flags `cdk synth` runs with. */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.resolve(import.meta.dirname, '..', '..', 'cdk.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}

export function synthesize(options: SynthOptions = {}): Synthesized {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
  });
  const config = parseConfig(options.config ?? {}, 'test config', options.controls ?? CONTROLS);
  const stack = new HubfixStack(app, 'Hubfix', {
    config,
    controls: options.controls ?? CONTROLS,
    env: options.env,
  });
  if (options.nag) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const template = Template.fromStack(stack);
  return { app, stack, template, config };
}

/** Every resource hubfix synthesizes has Properties (CDK renders `{}` at least). */
export type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

export function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

/** An IAM policy statement as the template holds it. */
export interface StatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** The logical id of the function that handles `controlId` (read from its settings). */
export function controlFunctionId(resources: Resources, controlId: string): string {
  const found = Object.entries(resources).find(([, r]) => {
    if (r.Type !== 'AWS::Lambda::Function') return false;
    const variables = (r.Properties.Environment as { Variables?: Record<string, string> })
      ?.Variables;
    return (
      (JSON.parse(variables?.HUBFIX_SETTINGS ?? '{}') as { controlId?: string }).controlId ===
      controlId
    );
  });
  if (!found) throw new Error(`no function for ${controlId}`);
  return found[0];
}

/** Every statement of the policies on the role of the function with logical id `functionId`. */
export function roleStatements(resources: Resources, functionId: string): StatementJson[] {
  const fn = resources[functionId]?.Properties as
    | { Role: { 'Fn::GetAtt': [string, string] } }
    | undefined;
  if (!fn) throw new Error(`no resource ${functionId}`);
  const roleId = fn.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: StatementJson[] }).Statement);
}
