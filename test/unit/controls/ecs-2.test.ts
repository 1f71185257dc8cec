import {
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Ecs_2Params } from '../../../lambdas/controls/ecs-2/meta';
import {
  type Ecs_2Before,
  type EcsClients,
  ecs_2,
  type ServiceState,
} from '../../../lambdas/controls/ecs-2/remediate';
import type { ChangePlan, FindingContext } from '../../../lambdas/core/control';
import {
  PartialChangeError,
  ResourceReferenceError,
  RollbackRefusedError,
} from '../../../lambdas/core/errors';
import type { ResourceRef } from '../../../lambdas/core/resource';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { fakeClock, findingContext, rollbackContext } from '../../support/control';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:111111111111:cluster/prod';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/prod/web';
const ref: ResourceRef = {
  type: 'AwsEcsService',
  raw: SERVICE_ARN,
  partition: 'aws',
  account: '111111111111',
  region: 'us-east-1',
  id: 'prod/web',
};

const PUBLIC_NETWORK = {
  awsvpcConfiguration: {
    subnets: ['subnet-a', 'subnet-b'],
    securityGroups: ['sg-1'],
    assignPublicIp: 'ENABLED' as const,
  },
};

function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceArn: SERVICE_ARN,
    serviceName: 'web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    deploymentController: { type: 'ECS' },
    networkConfiguration: PUBLIC_NETWORK,
    deployments: [
      {
        id: 'ecs-svc/1',
        status: 'PRIMARY',
        networkConfiguration: PUBLIC_NETWORK,
        rolloutState: 'COMPLETED',
      },
    ],
    tags: [{ key: 'environment', value: 'dev' }],
    ...overrides,
  };
}

const NAT_TABLE: RouteTable = {
  RouteTableId: 'rtb-private',
  VpcId: 'vpc-1',
  Associations: [{ SubnetId: 'subnet-a' }, { SubnetId: 'subnet-b' }],
  Routes: [
    { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
    { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' },
  ],
};

function igwTable(id: string, subnets: string[], main = false): RouteTable {
  return {
    RouteTableId: id,
    VpcId: 'vpc-1',
    Associations: [
      ...subnets.map((subnet) => ({ SubnetId: subnet })),
      ...(main ? [{ Main: true }] : []),
    ],
    Routes: [
      { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
      { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' },
    ],
  };
}

const ecsMock = strictMock(ECSClient);
const ec2Mock = strictMock(EC2Client);
const clients: EcsClients = {
  ecs: new ECSClient({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
};
const ctx: FindingContext<EcsClients, Ecs_2Params> = findingContext(clients, {});

function givenService(live: Service | undefined, cluster = 'prod') {
  ecsMock
    .on(DescribeServicesCommand, { cluster, services: [SERVICE_ARN], include: ['TAGS'] }, true)
    .resolves(
      live
        ? { services: [live], failures: [] }
        : { services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] },
    );
}

function givenExplicitTables(tables: RouteTable[], subnets = ['subnet-a', 'subnet-b']) {
  ec2Mock
    .on(
      DescribeRouteTablesCommand,
      {
        Filters: [{ Name: 'association.subnet-id', Values: subnets }],
        MaxResults: 100,
        NextToken: undefined,
      },
      true,
    )
    .resolves({ RouteTables: tables });
}

function givenMainTable(table: RouteTable) {
  ec2Mock
    .on(
      DescribeRouteTablesCommand,
      {
        Filters: [
          { Name: 'vpc-id', Values: ['vpc-1'] },
          { Name: 'association.main', Values: ['true'] },
        ],
        MaxResults: 100,
        NextToken: undefined,
      },
      true,
    )
    .resolves({ RouteTables: [table] });
}

async function readFound(): Promise<ServiceState> {
  const read = await ecs_2.readState(ref, ctx);
  if (read.kind !== 'found') throw new Error(`expected found, got ${JSON.stringify(read)}`);
  return read.state;
}

function changePlan(state: ServiceState): ChangePlan<Ecs_2Before> {
  const plan = ecs_2.plan(state, ctx);
  if (plan.kind !== 'change') throw new Error('expected a change plan');
  return plan;
}

const STATE: ServiceState = {
  clusterArn: CLUSTER_ARN,
  serviceArn: SERVICE_ARN,
  serviceName: 'web',
  controller: 'ECS',
  network: {
    subnets: ['subnet-a', 'subnet-b'],
    securityGroups: ['sg-1'],
    assignPublicIp: 'ENABLED',
  },
  primaryDeployment: 'ecs-svc/1',
};

beforeEach(() => {
  resetStrict(ecsMock);
  resetStrict(ec2Mock);
});

describe('ECS.2 resource', () => {
  it('reads long and old-format service ARNs', () => {
    expect(ecs_2.resource.parse(SERVICE_ARN, 'AwsEcsService', undefined)).toEqual(ref);
    expect(
      ecs_2.resource.parse(
        'arn:aws:ecs:us-east-1:111111111111:service/web',
        'AwsEcsService',
        undefined,
      ),
    ).toMatchObject({ id: 'web', account: '111111111111', region: 'us-east-1' });
  });

  it.each([
    'arn:aws:ecs:us-east-1:111111111111:cluster/prod',
    'arn:aws:ecs:us-east-1:111111111111:service/prod/web/extra',
    'arn:aws:ecs::111111111111:service/prod/web',
    'arn:aws:ec2:us-east-1:111111111111:service/prod/web',
  ])('refuses %s', (raw) => {
    expect(() => ecs_2.resource.parse(raw, 'AwsEcsService', undefined)).toThrow(
      ResourceReferenceError,
    );
  });
});

describe('ECS.2 readState', () => {
  it('reads the live service, its network configuration, controller and tags', async () => {
    // Prepare
    givenService(service());

    // Act
    const read = await ecs_2.readState(ref, ctx);

    // Assess
    expect(read).toEqual({ kind: 'found', state: STATE, tags: { environment: 'dev' } });
  });

  it('does not apply to a service that no longer exists', async () => {
    givenService(undefined);

    expect(await ecs_2.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: 'prod/web no longer exists',
    });
  });

  it('does not apply when the cluster is gone', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(serviceError('ClusterNotFoundException'));

    expect(await ecs_2.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: 'prod/web no longer exists',
    });
  });

  it('does not apply to an INACTIVE service', async () => {
    givenService(service({ status: 'INACTIVE' }));

    expect(await ecs_2.readState(ref, ctx)).toEqual({
      kind: 'not-applicable',
      reason: 'prod/web is INACTIVE, not ACTIVE',
    });
  });

  it('does not apply to a service without awsvpc networking', async () => {
    givenService(service({ networkConfiguration: undefined }));

    const read = await ecs_2.readState(ref, ctx);

    expect(read).toEqual({
      kind: 'not-applicable',
      reason: expect.stringContaining('has no awsvpc network configuration'),
    });
  });

  it('lets any other API failure through, so the pipeline fails closed', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(serviceError('AccessDeniedException'));

    await expect(ecs_2.readState(ref, ctx)).rejects.toThrow('AccessDeniedException');
  });

  describe('with an old-format service ARN (no cluster in it)', () => {
    const SHORT_ARN = 'arn:aws:ecs:us-east-1:111111111111:service/web';
    const shortRef: ResourceRef = { ...ref, raw: SHORT_ARN, id: 'web' };
    const OTHER_CLUSTER = 'arn:aws:ecs:us-east-1:111111111111:cluster/batch';

    function givenClusters() {
      ecsMock
        .on(ListClustersCommand, { maxResults: 100, nextToken: undefined }, true)
        .resolves({ clusterArns: [OTHER_CLUSTER], nextToken: 'page-2' });
      ecsMock
        .on(ListClustersCommand, { maxResults: 100, nextToken: 'page-2' }, true)
        .resolves({ clusterArns: [CLUSTER_ARN] });
    }

    function inCluster(cluster: string, live: Service | undefined) {
      ecsMock
        .on(DescribeServicesCommand, { cluster, services: [SHORT_ARN], include: ['TAGS'] }, true)
        .resolves({ services: live ? [live] : [], failures: live ? [] : [{ reason: 'MISSING' }] });
    }

    it('finds the cluster by asking every cluster', async () => {
      // Prepare
      givenClusters();
      inCluster(OTHER_CLUSTER, undefined);
      inCluster(CLUSTER_ARN, service({ serviceArn: SHORT_ARN }));

      // Act
      const read = await ecs_2.readState(shortRef, ctx);

      // Assess
      expect(read).toMatchObject({
        kind: 'found',
        state: { clusterArn: CLUSTER_ARN, serviceArn: SHORT_ARN, serviceName: 'web' },
      });
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
    });

    it('reads every page of clusters, an empty one with a token included', async () => {
      // Prepare
      ecsMock
        .on(ListClustersCommand, { maxResults: 100, nextToken: undefined }, true)
        .resolves({ clusterArns: [], nextToken: 'page-2' });
      ecsMock
        .on(ListClustersCommand, { maxResults: 100, nextToken: 'page-2' }, true)
        .resolves({ clusterArns: [CLUSTER_ARN] });
      inCluster(CLUSTER_ARN, service({ serviceArn: SHORT_ARN }));

      // Act
      const read = await ecs_2.readState(shortRef, ctx);

      // Assess
      expect(read).toMatchObject({ kind: 'found', state: { clusterArn: CLUSTER_ARN } });
    });

    it('refuses to guess when two clusters have a service of that ARN', async () => {
      givenClusters();
      inCluster(OTHER_CLUSTER, service({ serviceArn: SHORT_ARN, clusterArn: OTHER_CLUSTER }));
      inCluster(CLUSTER_ARN, service({ serviceArn: SHORT_ARN }));

      const read = ecs_2.readState(shortRef, ctx);

      await expect(read).rejects.toBeInstanceOf(ResourceReferenceError);
      await expect(read).rejects.toThrow('matches services in 2 clusters');
    });
  });
});

describe('ECS.2 plan', () => {
  it('keeps the subnets and groups, turns public IPs off, and says how to undo it', async () => {
    givenService(service());

    const plan = changePlan(await readFound());

    expect(plan.summary).toBe(
      `stop assigning public IPs to the tasks of ECS service web (${CLUSTER_ARN}) and start a new deployment`,
    );
    expect(plan.steps).toEqual([
      'update web: keep subnets subnet-a, subnet-b and security groups sg-1, set assignPublicIp to DISABLED',
      'start a new deployment (forceNewDeployment), so the running tasks are replaced by tasks without public IPs',
      'check that web says assignPublicIp DISABLED and that a new deployment is primary; it replaces the running tasks by itself over the next minutes, and hubfix does not wait for it to finish',
    ]);
    expect(plan.before).toEqual({
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      network: STATE.network,
    });
    expect(plan.undo).toEqual([
      `aws ecs update-service --cluster ${CLUSTER_ARN} --service ${SERVICE_ARN} --network-configuration '{"awsvpcConfiguration":{"subnets":["subnet-a","subnet-b"],"securityGroups":["sg-1"],"assignPublicIp":"ENABLED"}}' --force-new-deployment`,
    ]);
  });

  it('sees a service that assigns no public IPs as compliant', async () => {
    givenService(
      service({
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
      }),
    );

    expect(ecs_2.plan(await readFound(), ctx)).toEqual({
      kind: 'compliant',
      summary: `ECS service web (${CLUSTER_ARN}) assigns no public IPs`,
    });
  });
});

describe('ECS.2 preflight', () => {
  it('reads every page of route tables: an empty page with a token says nothing', async () => {
    // Prepare: EC2 filters after cutting a page; the table is on page two.
    const filters = [{ Name: 'association.subnet-id', Values: ['subnet-a', 'subnet-b'] }];
    ec2Mock
      .on(
        DescribeRouteTablesCommand,
        { Filters: filters, MaxResults: 100, NextToken: undefined },
        true,
      )
      .resolves({ RouteTables: [], NextToken: 'page-2' });
    ec2Mock
      .on(
        DescribeRouteTablesCommand,
        { Filters: filters, MaxResults: 100, NextToken: 'page-2' },
        true,
      )
      .resolves({ RouteTables: [igwTable('rtb-public', ['subnet-a', 'subnet-b'])] });

    // Act
    const blockers = await ecs_2.preflight(STATE, ctx);

    // Assess
    expect(blockers).toEqual([
      expect.stringMatching(
        /^subnet\(s\) subnet-a, subnet-b route 0\.0\.0\.0\/0 to an internet gateway/,
      ),
    ]);
  });

  it('finds nothing in the way when the subnets route through NAT, in one call', async () => {
    givenExplicitTables([NAT_TABLE]);

    expect(await ecs_2.preflight(STATE, ctx)).toEqual([]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeRouteTablesCommand, 1);
  });

  it('blocks when a subnet reaches the internet only through an internet gateway', async () => {
    givenExplicitTables([
      { ...NAT_TABLE, Associations: [{ SubnetId: 'subnet-a' }] },
      igwTable('rtb-public', ['subnet-b']),
    ]);

    const blockers = await ecs_2.preflight(STATE, ctx);

    expect(blockers).toEqual([
      'subnet(s) subnet-b route 0.0.0.0/0 to an internet gateway and have no NAT route: without public IPs the tasks there could no longer pull images or reach the internet. Run them in private subnets with a NAT gateway, or add VPC endpoints for ECR (api and dkr), S3 and CloudWatch Logs, then fix this finding again.',
    ]);
  });

  it("uses the VPC's main route table for a subnet without an explicit association", async () => {
    // Prepare: subnet-a routes through NAT, subnet-b falls back to a public main table.
    givenExplicitTables([{ ...NAT_TABLE, Associations: [{ SubnetId: 'subnet-a' }] }]);
    givenMainTable(igwTable('rtb-main', [], true));

    // Act
    const blockers = await ecs_2.preflight(STATE, ctx);

    // Assess
    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toMatch(/^subnet\(s\) subnet-b route 0\.0\.0\.0\/0/);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSubnetsCommand, 0);
  });

  it('looks up the VPC when no subnet has an explicit association', async () => {
    givenExplicitTables([]);
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: ['subnet-a'] }, true)
      .resolves({ Subnets: [{ SubnetId: 'subnet-a', VpcId: 'vpc-1' }] });
    givenMainTable(igwTable('rtb-main', [], true));

    const blockers = await ecs_2.preflight(STATE, ctx);

    expect(blockers[0]).toMatch(/^subnet\(s\) subnet-a, subnet-b route/);
  });

  it('does not count a blackhole NAT route as a way out', async () => {
    const table = igwTable('rtb-public', ['subnet-a', 'subnet-b']);
    givenExplicitTables([
      {
        ...table,
        Routes: [
          ...(table.Routes ?? []),
          { DestinationCidrBlock: '192.168.0.0/16', NatGatewayId: 'nat-gone', State: 'blackhole' },
        ],
      },
    ]);

    expect(await ecs_2.preflight(STATE, ctx)).toHaveLength(1);
  });

  it('lets a NAT route rescue a table whose default route goes to an internet gateway', async () => {
    const table = igwTable('rtb-mixed', ['subnet-a', 'subnet-b']);
    givenExplicitTables([
      {
        ...table,
        Routes: [
          ...(table.Routes ?? []),
          { DestinationCidrBlock: '172.16.0.0/12', InstanceId: 'i-nat', State: 'active' },
        ],
      },
    ]);

    expect(await ecs_2.preflight(STATE, ctx)).toEqual([]);
  });

  it.each([
    ['CODE_DEPLOY', 'is deployed by CodeDeploy (blue/green)'],
    ['EXTERNAL', 'uses the EXTERNAL deployment controller'],
  ])(
    'blocks a service whose %s controller owns the network configuration',
    async (controller, text) => {
      const blockers = await ecs_2.preflight({ ...STATE, controller }, ctx);

      expect(blockers).toHaveLength(1);
      expect(blockers[0]).toContain(text);
      expect(ec2Mock.calls()).toHaveLength(0);
    },
  );

  it('fails rather than guess when the route tables cannot be read', async () => {
    ec2Mock.on(DescribeRouteTablesCommand).rejects(serviceError('UnauthorizedOperation'));

    await expect(ecs_2.preflight(STATE, ctx)).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('ECS.2 apply, verify, rollback', () => {
  const DISABLED_NETWORK = {
    awsvpcConfiguration: {
      ...PUBLIC_NETWORK.awsvpcConfiguration,
      assignPublicIp: 'DISABLED' as const,
    },
  };

  /** Each verify read answers with the next of `reads`, the last one from then on. */
  function givenVerifyRead(...reads: Service[]) {
    const stub = ecsMock.on(
      DescribeServicesCommand,
      { cluster: CLUSTER_ARN, services: [SERVICE_ARN] },
      true,
    );
    for (const live of reads) stub.resolvesOnce({ services: [live] });
    const last = reads.at(-1);
    if (last) stub.resolves({ services: [last] });
  }

  /** The service as DescribeServices shows it once UpdateService started the deployment. */
  function deploying(overrides: Partial<Service> = {}): Service {
    return service({
      networkConfiguration: DISABLED_NETWORK,
      deployments: [
        {
          id: 'ecs-svc/2',
          status: 'PRIMARY',
          networkConfiguration: DISABLED_NETWORK,
          rolloutState: 'IN_PROGRESS',
        },
        {
          id: 'ecs-svc/1',
          status: 'ACTIVE',
          networkConfiguration: PUBLIC_NETWORK,
          rolloutState: 'COMPLETED',
        },
      ],
      ...overrides,
    });
  }

  it('updates the service with its own network and public IPs off, then verifies', async () => {
    // Prepare
    givenService(service());
    const state = await readFound();
    const plan = changePlan(state);
    ecsMock
      .on(
        UpdateServiceCommand,
        {
          cluster: CLUSTER_ARN,
          service: SERVICE_ARN,
          networkConfiguration: DISABLED_NETWORK,
          forceNewDeployment: true,
        },
        true,
      )
      .resolves({ service: deploying() });
    givenVerifyRead(deploying());

    // Act
    const result = await ecs_2.apply(state, plan, ctx);
    const verdict = await ecs_2.verify(state, ctx);

    // Assess
    expect(result.changes).toEqual([
      'set assignPublicIp to DISABLED on web, keeping subnets subnet-a, subnet-b and security groups sg-1',
      'started a new deployment of web: its tasks are being replaced by tasks without public IPs',
    ]);
    expect(verdict).toEqual({ ok: true });
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('leaves the security groups out when the service uses the VPC default group', async () => {
    givenService(
      service({
        networkConfiguration: {
          awsvpcConfiguration: { subnets: ['subnet-a'], assignPublicIp: 'ENABLED' },
        },
      }),
    );
    const state = await readFound();
    ecsMock
      .on(
        UpdateServiceCommand,
        {
          cluster: CLUSTER_ARN,
          service: SERVICE_ARN,
          networkConfiguration: {
            awsvpcConfiguration: { subnets: ['subnet-a'], assignPublicIp: 'DISABLED' },
          },
          forceNewDeployment: true,
        },
        true,
      )
      .resolves({});

    const result = await ecs_2.apply(state, changePlan(state), ctx);

    expect(result.changes[0]).toContain(
      "keeping subnets subnet-a and the VPC's default security group",
    );
  });

  it('says nothing changed when the update is refused', async () => {
    givenService(service());
    const state = await readFound();
    ecsMock.on(UpdateServiceCommand).rejects(serviceError('AccessDeniedException', 'no'));

    const apply = ecs_2.apply(state, changePlan(state), ctx);

    await expect(apply).rejects.toBeInstanceOf(PartialChangeError);
    await expect(apply).rejects.toMatchObject({
      message: 'updating web failed: AccessDeniedException: no',
      stateLeft: 'unchanged: the service still assigns public IPs and no deployment was started',
    });
  });

  it('reports a service that still assigns public IPs once the verify backoff is spent', async () => {
    givenVerifyRead(service());
    const { clock, sleeps } = fakeClock();

    expect(await ecs_2.verify(STATE, { ...ctx, clock })).toEqual({
      ok: false,
      reason: 'web still has assignPublicIp ENABLED',
    });
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('verifies once a lagging read shows the new deployment', async () => {
    // Right after UpdateService, DescribeServices may still show the old configuration.
    givenVerifyRead(service(), deploying());
    const { clock, sleeps } = fakeClock();

    expect(await ecs_2.verify(STATE, { ...ctx, clock })).toEqual({ ok: true });
    expect(sleeps).toEqual([1_000]);
  });

  it.each<[string, Service, string]>([
    [
      'the service says DISABLED but no new deployment has started',
      deploying({
        deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', networkConfiguration: PUBLIC_NETWORK }],
      }),
      'web has started no new deployment yet: ecs-svc/1 is still the primary one',
    ],
    [
      'no deployment is primary',
      deploying({ deployments: [] }),
      'web shows no primary deployment yet',
    ],
    [
      'the new deployment failed',
      deploying({
        deployments: [
          {
            id: 'ecs-svc/2',
            status: 'PRIMARY',
            networkConfiguration: DISABLED_NETWORK,
            rolloutState: 'FAILED',
            rolloutStateReason: 'tasks failed to start',
          },
        ],
      }),
      'the deployment ecs-svc/2 of web failed: tasks failed to start',
    ],
  ])('does not verify when %s', async (_name, live, reason) => {
    givenVerifyRead(live);

    expect(await ecs_2.verify(STATE, ctx)).toEqual({ ok: false, reason });
  });

  it('rolls back by restoring the recorded network configuration with a new deployment', async () => {
    // Prepare
    givenService(service());
    const before = changePlan(await readFound()).before;
    givenVerifyRead(service({ networkConfiguration: DISABLED_NETWORK }));
    ecsMock
      .on(
        UpdateServiceCommand,
        {
          cluster: CLUSTER_ARN,
          service: SERVICE_ARN,
          networkConfiguration: PUBLIC_NETWORK,
          forceNewDeployment: true,
        },
        true,
      )
      .resolves({});

    // Act
    const lines = await ecs_2.rollback(before, rollbackContext(clients));

    // Assess
    expect(lines).toEqual([
      'restored subnets subnet-a, subnet-b and security groups sg-1, assignPublicIp ENABLED on web and started a new deployment',
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('changes nothing on a rollback that is already done', async () => {
    givenVerifyRead(service());

    const lines = await ecs_2.rollback(
      { cluster: CLUSTER_ARN, service: SERVICE_ARN, network: STATE.network },
      rollbackContext(clients),
    );

    expect(lines).toEqual([
      'already restored: web has subnets subnet-a, subnet-b and security groups sg-1, assignPublicIp ENABLED',
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 0);
  });

  it('refuses to roll back a service that is gone', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(serviceError('ServiceNotFoundException'));

    await expect(
      ecs_2.rollback(
        { cluster: CLUSTER_ARN, service: SERVICE_ARN, network: STATE.network },
        rollbackContext(clients),
      ),
    ).rejects.toBeInstanceOf(RollbackRefusedError);
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 0);
  });

  it('validates a before-state read back from the ledger', () => {
    const valid = { cluster: CLUSTER_ARN, service: SERVICE_ARN, network: STATE.network };

    expect(ecs_2.before.parse(valid, 'before').ok).toBe(true);
    expect(
      ecs_2.before.parse(
        { ...valid, network: { ...STATE.network, assignPublicIp: 'SOMETIMES' } },
        'before',
      ).ok,
    ).toBe(false);
    expect(ecs_2.before.parse({ cluster: CLUSTER_ARN, network: STATE.network }, 'before').ok).toBe(
      false,
    );
  });
});
