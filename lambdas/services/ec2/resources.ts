/**
 * How EC2 resources are named in findings, written once for every control
 * that acts on them: an ARN in this account and region whose id has the
 * resource's own prefix.
 */
import { arnResource, type ResourceSpec } from '../../core/resource';

function ec2Resource(type: string, resourceType: string, prefix: string): ResourceSpec {
  return arnResource({
    types: [type],
    service: 'ec2',
    resourceType,
    idPattern: new RegExp(`^${prefix}-[0-9a-f]{8,17}$`),
  });
}

export const securityGroupResource = (): ResourceSpec =>
  ec2Resource('AwsEc2SecurityGroup', 'security-group', 'sg');
export const instanceResource = (): ResourceSpec => ec2Resource('AwsEc2Instance', 'instance', 'i');
export const subnetResource = (): ResourceSpec => ec2Resource('AwsEc2Subnet', 'subnet', 'subnet');
export const vpcResource = (): ResourceSpec => ec2Resource('AwsEc2Vpc', 'vpc', 'vpc');
