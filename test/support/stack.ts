/**
 * Synthesizes the stack as tests need it: with a known account and region so
 * patterns and ARNs are plain strings, and without bundling, which the infra
 * test and `cdk synth` cover on their own.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type HubfixConfig, parseConfig } from '../../lib/config';
import { CONTROLS, type ControlDefinition } from '../../lib/controls';
import { HubfixStack } from '../../lib/hubfix-stack';
import { ACCOUNT, REGION } from './fixtures';

export interface SynthOptions {
  readonly config?: unknown;
  readonly controls?: readonly ControlDefinition[];
  readonly nag?: boolean;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: HubfixStack;
  readonly template: Template;
  readonly config: HubfixConfig;
}

export function synthesize(options: SynthOptions = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(options.config ?? {}, 'test config', options.controls ?? CONTROLS);
  const stack = new HubfixStack(app, 'Hubfix', {
    config,
    controls: options.controls ?? CONTROLS,
    env: { account: ACCOUNT, region: REGION },
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
