import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/core/powertools';
import { HANDLER_FILE } from '../bundling/esbuild';
import type { TracingMode } from '../config';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const BUNDLER_CLI = path.join(PROJECT_ROOT, 'lib', 'bundling', 'cli.ts');

/**
 * Bundles a handler with the project's own esbuild (see lib/bundling). No
 * Docker: the image below is never pulled because local bundling always
 * answers, and a bundling failure fails the synth rather than falling back.
 */
function bundledCode(entry: string): Code {
  return Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('unused-local-bundling-only'),
      local: {
        tryBundle(outputDir) {
          execFileSync(process.execPath, ['--import', 'tsx', BUNDLER_CLI, entry, outputDir], {
            cwd: PROJECT_ROOT,
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          return true;
        },
      },
    },
  });
}

function reservation(reserved: number | 'none' = 2): number | undefined {
  return reserved === 'none' ? undefined : reserved;
}

export interface RemediationFunctionProps {
  /** The TypeScript file exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Variables besides the Powertools ones this construct sets. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Caps how many findings are worked on at once, which keeps a burst from
   * throttling the EC2 API for everyone else in the account. `'none'`
   * reserves nothing, for accounts whose concurrency quota cannot spare it.
   * @default 2
   */
  readonly reservedConcurrentExecutions?: number | 'none';
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * X-Ray: `pass-through` traces only invocations whose caller's trace is
   * sampled; `active` lets Lambda sample (lib/config.ts, TRACING_MODES).
   * @default 'pass-through'
   */
  readonly tracing?: TracingMode;
  /**
   * What deleting the stack does to the log group.
   * @default RemovalPolicy.RETAIN — the logs are the record of what the function did
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function as every hubfix handler needs it: nodejs24.x on arm64,
 * an ESM bundle built by the local esbuild with the AWS SDK inside, an
 * explicit log group with retention, X-Ray tracing and reserved concurrency,
 * and a role holding nothing but write access to its own log group until
 * grants are added.
 */
export class RemediationFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IRole;
  readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, props: RemediationFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new LambdaFunction(this, 'Function', {
      code: bundledCode(props.entry),
      handler: `${path.parse(HANDLER_FILE).name}.handler`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(5),
      reservedConcurrentExecutions: reservation(props.reservedConcurrentExecutions),
      tracing: props.tracing === 'active' ? Tracing.ACTIVE : Tracing.PASS_THROUGH,
      logGroup: this.logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    });
  }
}
