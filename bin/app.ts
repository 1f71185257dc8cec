#!/usr/bin/env node
/**
 * CDK app entry: load and validate the config, then build the stack.
 * `npx cdk deploy -c config=path/to/other.json` selects another config file.
 * The template is environment-agnostic unless `-c env=aws://<account>/<region>`
 * pins it (see lib/environment.ts).
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigurationError } from '../lambdas/core/errors';
import { CONFIG_CONTEXT_KEY, configPathFromContext, loadConfig } from '../lib/config';
import { ENV_CONTEXT_KEY, environmentFromContext } from '../lib/environment';
import { HubfixStack } from '../lib/hubfix-stack';

const app = new App();

try {
  const config = loadConfig(configPathFromContext(app.node.tryGetContext(CONFIG_CONTEXT_KEY)));
  new HubfixStack(app, 'Hubfix', {
    config,
    description: 'hubfix: auto-remediation for AWS Security Hub control findings',
    env: environmentFromContext(app.node.tryGetContext(ENV_CONTEXT_KEY)),
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  process.stderr.write(`hubfix: ${error.message}\n`);
  process.exit(1);
}
