/**
 * Where the stack is deployed. By default nowhere in particular: every ARN,
 * pattern and name carries `AWS::Region` / `AWS::AccountId` / `AWS::Partition`
 * and CloudFormation fills them in, so one `cdk synth` output deploys to any
 * account and region (directly or as a StackSet). `-c env=aws://<account>/<region>`
 * pins the stack instead, for teams that want `cdk deploy` to refuse the
 * wrong credentials.
 */
import type { Environment } from 'aws-cdk-lib';
import { ConfigurationError } from '../lambdas/core/errors';

/** The CDK context key: `npx cdk deploy -c env=aws://111111111111/eu-west-1`. */
export const ENV_CONTEXT_KEY = 'env';

/** Every AWS region name: `us-east-1`, `ap-southeast-4`, `us-gov-west-1`, `cn-north-1`... */
export const REGION_PATTERN = /[a-z]{2}(?:-[a-z]+)+-\d{1,2}/;

const ENV_PATTERN = new RegExp(`^aws://(\\d{12})/(${REGION_PATTERN.source})$`);

/**
 * The environment `-c env=` names, or undefined (environment-agnostic) when
 * it is absent.
 * @throws ConfigurationError when the value is not `aws://<12 digits>/<region>`.
 */
export function environmentFromContext(value: unknown): Environment | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? ENV_PATTERN.exec(value) : null;
  if (!match) {
    throw new ConfigurationError(`-c ${ENV_CONTEXT_KEY}=`, [
      {
        path: ENV_CONTEXT_KEY,
        message: `expected aws://<12-digit account>/<region> (e.g. aws://111111111111/eu-west-1), got ${JSON.stringify(value)}`,
      },
    ]);
  }
  return { account: match[1], region: match[2] };
}
