/**
 * EC2.24 — no instance should use paravirtual (PV) virtualization.
 *
 * Notify-only: a PV instance cannot be switched to HVM in place; it has to
 * be replaced by a new instance launched from an HVM AMI (seed 004). hubfix
 * confirms live that the instance is paravirtual and writes the seed's
 * migration steps, filled in with this instance's facts (type, subnet, zone,
 * groups, volumes, Elastic IPs), as what a person has to do. It never
 * changes anything, so apply, verify and rollback refuse.
 *
 * Elastic IPs are told apart from Amazon-assigned addresses by the
 * association's owner, which DescribeInstances already reports; the steps
 * look up the allocation id when they are run, so no extra call is needed.
 */
import { EC2Client, type Instance } from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import { RollbackRefusedError } from '../../core/errors';
import { object, string } from '../../core/schema';
import { describeInstance } from '../../services/ec2/instances';
import { instanceResource } from '../../services/ec2/resources';
import { tagsOf } from '../../services/ec2/tags';
import { type Ec2_24Params, ec2_24Meta } from './meta';

export interface Ec2_24Clients {
  readonly ec2: EC2Client;
}

export interface AttachedVolume {
  readonly volumeId: string;
  readonly deviceName: string;
  readonly root: boolean;
}

export interface ParavirtualInstanceState {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly subnetId: string | undefined;
  readonly vpcId: string | undefined;
  readonly imageId: string | undefined;
  readonly platform: string | undefined;
  readonly keyName: string | undefined;
  readonly instanceProfileArn: string | undefined;
  readonly securityGroups: readonly string[];
  readonly volumes: readonly AttachedVolume[];
  readonly elasticIps: readonly string[];
  readonly privateIp: string | undefined;
  /** An Amazon-assigned public address: it changes with the new instance. */
  readonly publicIp: string | undefined;
}

export const ec2_24Before = object({
  instanceId: string({ pattern: /^i-[0-9a-f]{8,17}$/, patternName: 'an instance id' }),
});

export interface Ec2_24Before {
  readonly instanceId: string;
}

const NO_AUTOMATIC_CHANGE =
  'EC2.24 is notify-only: no automatic change exists, so hubfix never applies, verifies or rolls back anything for it';

function attachedVolumes(instance: Instance): AttachedVolume[] {
  const volumes: AttachedVolume[] = [];
  for (const mapping of instance.BlockDeviceMappings ?? []) {
    const volumeId = mapping.Ebs?.VolumeId;
    if (!volumeId || !mapping.DeviceName) continue;
    volumes.push({
      volumeId,
      deviceName: mapping.DeviceName,
      root: mapping.DeviceName === instance.RootDeviceName,
    });
  }
  return volumes;
}

/** Public addresses whose owner is an account, not Amazon: Elastic IPs. */
function elasticIps(instance: Instance): string[] {
  const ips = new Set<string>();
  for (const eni of instance.NetworkInterfaces ?? []) {
    for (const address of eni.PrivateIpAddresses ?? []) {
      const association = address.Association;
      if (association?.PublicIp && association.IpOwnerId !== 'amazon') {
        ips.add(association.PublicIp);
      }
    }
  }
  return [...ips];
}

function describeVolume(volume: AttachedVolume): string {
  return `${volume.volumeId} (${volume.deviceName}${volume.root ? ', root' : ''})`;
}

function launchStep(state: ParavirtualInstanceState): string {
  const where = [
    state.subnetId ? `in ${state.subnetId}` : '',
    state.vpcId ? `(${state.vpcId}, ${state.availabilityZone})` : `in ${state.availabilityZone}`,
  ]
    .filter((part) => part !== '')
    .join(' ');
  const extras = [
    state.securityGroups.length > 0
      ? `the security groups ${state.securityGroups.join(', ')} so the same traffic reaches it`
      : '',
    state.keyName ? `key pair ${state.keyName}` : '',
    state.instanceProfileArn ? `instance profile ${state.instanceProfileArn}` : '',
  ].filter((part) => part !== '');
  const os = state.platform ? ` (${state.platform})` : '';
  const from = state.imageId ? `, in place of the PV AMI ${state.imageId}` : '';
  return `launch a new instance from an HVM AMI of the same operating system${os}${from}, with a current-generation instance type that AMI supports instead of ${state.instanceType}, ${where}${
    extras.length > 0 ? `, with ${extras.join(', ')}` : ''
  }`;
}

function volumeSteps(state: ParavirtualInstanceState): string[] {
  const root = state.volumes.filter((v) => v.root);
  const data = state.volumes.filter((v) => !v.root);
  const steps: string[] = [];
  if (data.length > 0) {
    steps.push(
      `move the data volumes ${data.map(describeVolume).join(', ')}: stop ${state.instanceId}, detach them and attach them to the new instance (or create new volumes from the step-1 snapshots); volumes attach only within ${state.availabilityZone}`,
    );
  }
  if (root.length > 0) {
    steps.push(
      `do not boot from the old root volume ${root.map((v) => v.volumeId).join(', ')}: it is set up for paravirtual boot. Attach it (or a volume from its snapshot) to the new instance as a data volume only to copy files from it`,
    );
  }
  return steps;
}

function addressStep(state: ParavirtualInstanceState): string {
  if (state.elasticIps.length > 0) {
    return state.elasticIps
      .map(
        (ip) =>
          `move the Elastic IP ${ip} to the new instance: aws ec2 associate-address --allocation-id $(aws ec2 describe-addresses --public-ips ${ip} --query 'Addresses[0].AllocationId' --output text) --instance-id <new-instance-id> --allow-reassociation`,
      )
      .join('; then ');
  }
  const addresses = [state.privateIp, state.publicIp].filter(
    (ip): ip is string => ip !== undefined,
  );
  return `${state.instanceId} has no Elastic IP: point DNS records and clients that use ${
    addresses.length > 0 ? addresses.join(' or ') : 'its addresses'
  } at the new instance's addresses`;
}

export const ec2_24: Control<ParavirtualInstanceState, Ec2_24Before, Ec2_24Params, Ec2_24Clients> =
  {
    ...ec2_24Meta,
    resource: instanceResource(),
    before: ec2_24Before,

    createClients: (options) => ({ ec2: new EC2Client(options) }),

    async readState(ref, { clients: { ec2 } }) {
      const instance = await describeInstance(ec2, ref.id);
      if (!instance) {
        return { kind: 'not-applicable', reason: `${ref.id} no longer exists or is terminated` };
      }
      if (instance.VirtualizationType !== 'paravirtual') {
        return {
          kind: 'not-applicable',
          reason: `${ref.id} uses ${instance.VirtualizationType ?? 'unknown'} virtualization, not paravirtual, so EC2.24 does not apply to it`,
        };
      }
      return {
        kind: 'found',
        state: {
          instanceId: ref.id,
          instanceType: instance.InstanceType ?? 'its current type',
          availabilityZone: instance.Placement?.AvailabilityZone ?? 'its Availability Zone',
          subnetId: instance.SubnetId,
          vpcId: instance.VpcId,
          imageId: instance.ImageId,
          platform: instance.PlatformDetails,
          keyName: instance.KeyName,
          instanceProfileArn: instance.IamInstanceProfile?.Arn,
          securityGroups: (instance.SecurityGroups ?? []).map(
            (g) => `${g.GroupId ?? '?'}${g.GroupName ? ` (${g.GroupName})` : ''}`,
          ),
          volumes: attachedVolumes(instance),
          elasticIps: elasticIps(instance),
          privateIp: instance.PrivateIpAddress,
          publicIp: instance.PublicIpAddress,
        },
        tags: tagsOf(instance.Tags),
      };
    },

    plan(state) {
      const id = state.instanceId;
      const volumes = state.volumes.map(describeVolume);
      return {
        kind: 'change',
        summary: `replace the paravirtual instance ${id} (${state.instanceType}, ${state.availabilityZone}) with a new HVM instance, by hand`,
        steps: [
          `back up ${id}: aws ec2 create-image --instance-id ${id} --name ${id}-before-hvm (an AMI with snapshots of ${
            volumes.length > 0 ? volumes.join(', ') : 'its EBS volumes'
          }); copy anything on instance store volumes elsewhere, as it is lost when the instance stops`,
          launchStep(state),
          ...volumeSteps(state),
          'install the application and the software it needs on the new instance, and restore its data from the backup',
          addressStep(state),
          `check that the new instance does the work ${id} did, then stop ${id}; once sure it is no longer needed, terminate it (aws ec2 terminate-instances --instance-ids ${id}) and remove the backup AMI when it is no longer wanted`,
        ],
        before: { instanceId: id },
        undo: [
          `aws ec2 start-instances --instance-ids ${id}  # the old instance, as long as it was only stopped`,
          ...state.elasticIps.map(
            (ip) =>
              `aws ec2 associate-address --allocation-id $(aws ec2 describe-addresses --public-ips ${ip} --query 'Addresses[0].AllocationId' --output text) --instance-id ${id} --allow-reassociation`,
          ),
        ],
      };
    },

    async preflight() {
      return [];
    },

    async apply() {
      throw new Error(NO_AUTOMATIC_CHANGE);
    },

    async verify() {
      throw new Error(NO_AUTOMATIC_CHANGE);
    },

    describeRollback(before) {
      return {
        target: { resourceId: before.instanceId },
        calls: [],
        problems: [NO_AUTOMATIC_CHANGE],
      };
    },

    async rollback() {
      throw new RollbackRefusedError(NO_AUTOMATIC_CHANGE);
    },
  };
