/**
 * Reading one instance live, shared by the instance controls (EC2.8, EC2.9,
 * EC2.24) so "gone" means the same thing everywhere.
 */
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';

const GONE = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** The instance, or undefined when it does not exist or is terminated. */
export async function describeInstance(
  ec2: EC2Client,
  instanceId: string,
): Promise<Instance | undefined> {
  try {
    const response = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = response.Reservations?.[0]?.Instances?.[0];
    return instance?.State?.Name === 'terminated' ? undefined : instance;
  } catch (error) {
    if (error instanceof Error && GONE.has(error.name)) return undefined;
    throw error;
  }
}
