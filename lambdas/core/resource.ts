/**
 * Turns the `Resources[].Id` of a finding into a reference a control can act
 * on, and refuses anything that is not the expected kind of resource. The
 * account and region come from the identifier itself, so the pipeline can
 * check them against its own before touching anything.
 */
import { ResourceReferenceError } from './errors';

export interface ResourceRef {
  /** ASFF resource type, e.g. AwsEc2SecurityGroup. */
  readonly type: string;
  /** The identifier exactly as the finding gave it (usually an ARN). */
  readonly raw: string;
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  /** The short id the service APIs take, e.g. sg-0123456789abcdef0. */
  readonly id: string;
}

export interface ResourceSpec {
  /** ASFF resource types this control handles, in order of preference. */
  readonly types: readonly string[];
  /** @throws ResourceReferenceError when the identifier is not of the expected shape. */
  parse(raw: string, type: string, fallbackRegion: string | undefined): ResourceRef;
}

const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/;

export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

export function parseArn(value: string): ParsedArn | undefined {
  const match = ARN.exec(value);
  if (!match) return undefined;
  const [, partition, service, region, account, resource] = match;
  if (!partition || !service || region === undefined || account === undefined || !resource) {
    return undefined;
  }
  return { partition, service, region, account, resource };
}

/**
 * A resource named by an ARN such as
 * `arn:aws:ec2:us-east-1:111111111111:security-group/sg-1234123f`.
 */
export function arnResource(options: {
  readonly types: readonly string[];
  readonly service: string;
  readonly resourceType: string;
  readonly idPattern: RegExp;
}): ResourceSpec {
  return {
    types: options.types,
    parse(raw, type) {
      const arn = parseArn(raw);
      const prefix = `${options.resourceType}/`;
      if (!arn || arn.service !== options.service || !arn.resource.startsWith(prefix)) {
        throw new ResourceReferenceError(
          `expected an ${options.service} ${options.resourceType} ARN, got "${raw.slice(0, 200)}"`,
        );
      }
      const id = arn.resource.slice(prefix.length);
      if (!options.idPattern.test(id) || !arn.region || !arn.account) {
        throw new ResourceReferenceError(
          `"${raw.slice(0, 200)}" does not name a single ${options.resourceType}`,
        );
      }
      return { type, raw, partition: arn.partition, account: arn.account, region: arn.region, id };
    },
  };
}

/** Account-level findings name `AWS::::Account:111111111111`; the region is the finding's. */
export function accountResource(): ResourceSpec {
  return {
    types: ['AwsAccount'],
    parse(raw, type, fallbackRegion) {
      const match = /^AWS::::Account:(\d{12})$/.exec(raw);
      const account = match?.[1];
      if (!account || !fallbackRegion) {
        throw new ResourceReferenceError(`expected AWS::::Account:<12 digits>, got "${raw}"`);
      }
      return { type, raw, partition: 'aws', account, region: fallbackRegion, id: account };
    },
  };
}
