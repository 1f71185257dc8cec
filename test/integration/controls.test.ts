/**
 * EC2.15, EC2.9 (Elastic IP, with and without auto-assign) and ECS.2 against moto: each control's deployed
 * bundle handles the finding, then the CLI's rollback undoes the change from
 * the ledger, checking the emulated resources after each step.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ec2_9 } from '../../lambdas/controls/ec2-9/remediate';
import { ec2_15 } from '../../lambdas/controls/ec2-15/remediate';
import { ecs_2 } from '../../lambdas/controls/ecs-2/remediate';
import type { Control } from '../../lambdas/core/control';
import { rollbackChange } from '../../lambdas/core/rollback';
import { EC2_2_FINDING, importedEvent, withChanges } from '../support/fixtures';
import { type Deployment, deploy, registerFindings, resultOf } from './deployed';
import { interfaces } from './gateway';
import { againstMoto, MOTO_SCOPE, motoAvailable, quietLog } from './support';

/** A legacy-format finding for the control, registered in Security Hub. */
function findingOf(controlId: string, type: string, id: string) {
  const finding = withChanges(EC2_2_FINDING, {
    Id: `arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/${controlId}/finding/${id.split('/').at(-1)}`,
    GeneratorId: `aws-foundational-security-best-practices/v/1.0.0/${controlId}`,
    'ProductFields.ControlId': controlId,
    Resources: [{ Type: type, Id: id, Region: 'us-east-1' }],
  });
  registerFindings([finding]);
  return finding;
}

async function vpcWithSubnet(ec2: EC2Client) {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.1.0/24' }),
  );
  const groups = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return {
    vpcId,
    subnetId: subnet.Subnet?.SubnetId ?? '',
    groupId: groups.SecurityGroups?.[0]?.GroupId ?? '',
  };
}

/**
 * The control's deployed function handles one finding in remediate mode;
 * `rollback` then undoes its change from the ledger with the CLI's code.
 */
async function remediateThenRollBack<State, Before, Params, Clients extends object>(
  app: Deployment,
  control: Control<State, Before, Params, Clients>,
  clients: Clients,
  params: Record<string, unknown>,
  finding: Record<string, unknown>,
) {
  const run = await app.invoke(control.id, importedEvent([finding]), {
    settings: { mode: 'remediate', dryRun: false, params },
  });
  const [entry] = await app.ledger.recent(1);
  return {
    outcome: (resultOf(run) as { findings: { outcome: string }[] }).findings[0]?.outcome,
    rollback: () =>
      rollbackChange({
        changeId: entry?.changeId ?? 'no change recorded',
        by: 'integration-test',
        scope: MOTO_SCOPE,
        force: false,
        ledger: app.ledger,
        control: async () => control as unknown as Control<unknown, unknown, unknown, object>,
        clients: () => clients,
        confirm: async () => true,
        log: quietLog,
      }),
  };
}

describe.skipIf(!motoAvailable)(
  againstMoto('EC2.15, EC2.9 and ECS.2, the deployed bundles'),
  () => {
    it('EC2.15: stops a subnet auto-assigning public IPs, and rolls it back', async () => {
      // Prepare
      const app = await deploy();
      const ec2 = new EC2Client(app.options);
      const { subnetId } = await vpcWithSubnet(ec2);
      await ec2.send(
        new ModifySubnetAttributeCommand({
          SubnetId: subnetId,
          MapPublicIpOnLaunch: { Value: true },
        }),
      );
      const mapsPublicIp = async () =>
        (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets?.[0]
          ?.MapPublicIpOnLaunch;

      // Act
      const run = await remediateThenRollBack(
        app,
        ec2_15,
        { ec2 },
        {},
        findingOf(
          'EC2.15',
          'AwsEc2Subnet',
          `arn:aws:ec2:us-east-1:111111111111:subnet/${subnetId}`,
        ),
      );

      // Assess
      expect(run.outcome).toBe('REMEDIATED');
      expect(await mapsPublicIp()).toBe(false);
      // A verified fix is noted; the workflow is Security Hub's to resolve on its next check.
      expect(app.findingUpdates).toEqual([
        expect.objectContaining({ Note: expect.objectContaining({ UpdatedBy: 'hubfix' }) }),
      ]);
      expect(app.findingUpdates[0]?.Workflow).toBeUndefined();
      expect((await run.rollback()).kind).toBe('rolled-back');
      expect(await mapsPublicIp()).toBe(true);
    });

    /** A running instance in a fresh subnet with one of the account's Elastic IPs on it. */
    async function instanceWithElasticIp(ec2: EC2Client) {
      const { subnetId } = await vpcWithSubnet(ec2);
      const launched = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.micro',
          SubnetId: subnetId,
        }),
      );
      const instanceId = launched.Instances?.[0]?.InstanceId ?? '';
      const primary = launched.Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '';
      const address = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(
        new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
      );
      const publicIp = async () =>
        (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
          .Reservations?.[0]?.Instances?.[0]?.PublicIpAddress;
      return { instanceId, primary, elasticIp: address.PublicIp, publicIp };
    }

    const ec2_9Finding = (instanceId: string) =>
      findingOf(
        'EC2.9',
        'AwsEc2Instance',
        `arn:aws:ec2:us-east-1:111111111111:instance/${instanceId}`,
      );

    /** A short watch: what is checked is the order of the calls, not EC2's timing. */
    const EC2_9_PARAMS = { disableSubnetAutoAssign: false, settleSeconds: 5 };

    it('EC2.9: takes an Elastic IP off an instance, keeps the allocation, and puts it back', async () => {
      // Prepare: an instance with an Elastic IP; EC2 does not report its interface's setting.
      const app = await deploy();
      const ec2 = new EC2Client(app.options);
      const { instanceId, primary, elasticIp, publicIp } = await instanceWithElasticIp(ec2);
      expect(await publicIp()).toBe(elasticIp);

      // Act
      const run = await remediateThenRollBack(
        app,
        ec2_9,
        { ec2 },
        EC2_9_PARAMS,
        ec2_9Finding(instanceId),
      );

      // Assess: the address is off the instance but still allocated, then back; the setting
      // hubfix could not read was turned off as a precaution, and a rollback leaves it off.
      expect(run.outcome).toBe('REMEDIATED');
      expect(await publicIp()).toBeUndefined();
      expect(interfaces.autoAssign.get(primary)).toBe(false);
      expect((await run.rollback()).kind).toBe('rolled-back');
      expect(await publicIp()).toBe(elasticIp);
      expect(interfaces.autoAssign.get(primary)).toBe(false);
    });

    it('EC2.9: turns an auto-assigning interface off before its Elastic IP goes, so EC2 hands out no new address, and rolls both back', async () => {
      // Prepare: the primary interface auto-assigns (the gateway keeps that setting for moto).
      const app = await deploy();
      const ec2 = new EC2Client(app.options);
      const { instanceId, primary, elasticIp, publicIp } = await instanceWithElasticIp(ec2);
      interfaces.autoAssign.set(primary, true);

      // Act
      const run = await remediateThenRollBack(
        app,
        ec2_9,
        { ec2 },
        EC2_9_PARAMS,
        ec2_9Finding(instanceId),
      );

      // Assess: auto-assign went off first, so the disassociation got the instance no new
      // address and the watch saw none; rollback re-associates and turns auto-assign on.
      expect(run.outcome).toBe('REMEDIATED');
      expect(interfaces.addressesHandedOut).toEqual([]);
      expect(await publicIp()).toBeUndefined();
      expect(interfaces.autoAssign.get(primary)).toBe(false);
      expect((await run.rollback()).kind).toBe('rolled-back');
      expect(await publicIp()).toBe(elasticIp);
      expect(interfaces.autoAssign.get(primary)).toBe(true);
    });

    it('EC2.9 gateway: an interface that auto-assigns gets a new address once its Elastic IP goes', async () => {
      // What the test above relies on: disassociating without turning auto-assign off
      // first gets the instance a new public address (here from the gateway).
      const app = await deploy();
      const ec2 = new EC2Client(app.options);
      const { primary, elasticIp, publicIp } = await instanceWithElasticIp(ec2);
      interfaces.autoAssign.set(primary, true);
      const { Addresses } = await ec2.send(
        new DescribeAddressesCommand({ PublicIps: [elasticIp ?? ''] }),
      );

      await ec2.send(
        new DisassociateAddressCommand({ AssociationId: Addresses?.[0]?.AssociationId }),
      );

      const now = await publicIp();
      expect(now).toBeDefined();
      expect(now).not.toBe(elasticIp);
      expect(interfaces.addressesHandedOut).toEqual([
        { networkInterfaceId: primary, publicIp: now },
      ]);
    });

    it('ECS.2: stops a service assigning public IPs with a new deployment, and rolls it back', async () => {
      // Prepare: a Fargate-style service in awsvpc mode with public IPs on.
      const app = await deploy();
      const ec2 = new EC2Client(app.options);
      const ecs = new ECSClient(app.options);
      const { subnetId, groupId } = await vpcWithSubnet(ec2);
      await ecs.send(new CreateClusterCommand({ clusterName: 'apps' }));
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'web',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'web', image: 'nginx', essential: true }],
        }),
      );
      const created = await ecs.send(
        new CreateServiceCommand({
          cluster: 'apps',
          serviceName: 'web',
          taskDefinition: 'web',
          desiredCount: 1,
          launchType: 'FARGATE',
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: [subnetId],
              securityGroups: [groupId],
              assignPublicIp: 'ENABLED',
            },
          },
        }),
      );
      const serviceArn = created.service?.serviceArn ?? '';
      const assignPublicIp = async () =>
        (await ecs.send(new DescribeServicesCommand({ cluster: 'apps', services: ['web'] })))
          .services?.[0]?.networkConfiguration?.awsvpcConfiguration?.assignPublicIp;

      // Act
      const run = await remediateThenRollBack(
        app,
        ecs_2,
        { ecs, ec2 },
        {},
        findingOf('ECS.2', 'AwsEcsService', serviceArn),
      );

      // Assess
      expect(run.outcome).toBe('REMEDIATED');
      expect(await assignPublicIp()).toBe('DISABLED');
      expect((await run.rollback()).kind).toBe('rolled-back');
      expect(await assignPublicIp()).toBe('ENABLED');
    });
  },
);
