/**
 * An in-memory EC2 for the security group calls EC2.2's migration makes,
 * answering as EC2 does where it matters to correctness:
 * - filtered describes answer an empty first page that carries a NextToken,
 *   then one item a page;
 * - CreateSecurityGroup in a VPC adds an "allow all outbound" rule;
 * - authorizing a rule that exists fails the whole call with
 *   InvalidPermission.Duplicate; revoking one that does not (non-default
 *   VPC) fails with InvalidPermission.NotFound and revokes nothing;
 * - ModifyNetworkInterfaceAttribute replaces the whole group list;
 * - optionally, reads lag behind writes (eventual consistency).
 * Any call can be made to fail, to inject a fault at every point.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type Filter,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { serviceError } from './aws';
import type { Ec2Mock } from './ec2-2';

export interface FakeRule {
  readonly ruleId: string;
  readonly egress: boolean;
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly referencedGroupId?: string;
  readonly description?: string;
}

export interface FakeGroup {
  readonly groupId: string;
  readonly name: string;
  readonly vpcId: string;
  readonly tags: Record<string, string>;
  rules: FakeRule[];
}

export interface FakeInterface {
  readonly interfaceId: string;
  groups: string[];
  readonly interfaceType?: string;
  readonly requesterManaged?: boolean;
  readonly instanceId?: string;
  readonly description?: string;
}

export interface World {
  readonly groups: FakeGroup[];
  readonly interfaces: FakeInterface[];
}

const MUTATING = new Set([
  'CreateSecurityGroupCommand',
  'AuthorizeSecurityGroupIngressCommand',
  'AuthorizeSecurityGroupEgressCommand',
  'RevokeSecurityGroupIngressCommand',
  'RevokeSecurityGroupEgressCommand',
  'ModifyNetworkInterfaceAttributeCommand',
  'DeleteSecurityGroupCommand',
]);

function copyWorld(world: World): World {
  return structuredClone(world);
}

function ruleKey(rule: Omit<FakeRule, 'ruleId' | 'description'>): string {
  const ports = rule.protocol === '-1' ? '' : `${rule.fromPort}-${rule.toPort}`;
  return [
    rule.egress,
    rule.protocol,
    ports,
    rule.cidrIpv4 ?? '',
    rule.cidrIpv6 ?? '',
    rule.referencedGroupId ?? '',
  ].join('|');
}

function rulesOf(permission: IpPermission, egress: boolean): Omit<FakeRule, 'ruleId'>[] {
  const base = {
    egress,
    protocol: permission.IpProtocol ?? '-1',
    ...(permission.IpProtocol === '-1'
      ? { fromPort: -1, toPort: -1 }
      : { fromPort: permission.FromPort, toPort: permission.ToPort }),
  };
  const described = (d: string | undefined) => (d ? { description: d } : {});
  return [
    ...(permission.IpRanges ?? []).map((r) => ({
      ...base,
      cidrIpv4: r.CidrIp,
      ...described(r.Description),
    })),
    ...(permission.Ipv6Ranges ?? []).map((r) => ({
      ...base,
      cidrIpv6: r.CidrIpv6,
      ...described(r.Description),
    })),
    ...(permission.UserIdGroupPairs ?? []).map((p) => ({
      ...base,
      referencedGroupId: p.GroupId,
      ...described(p.Description),
    })),
  ];
}

export class FakeEc2 {
  world: World;
  /** Every call, in order: command name and input. */
  readonly calls: { command: string; input: Record<string, unknown> }[] = [];
  /** Fail the call with this index (0-based, counting every call). */
  failAt: number | undefined;
  /**
   * Eventual consistency: this many reads after each write still see the
   * world as it was before that write.
   */
  staleReads = 0;
  private staleLeft = 0;
  /** Called after every successful write, to check invariants at every moment. */
  afterWrite: (world: World) => void = () => {};
  private readonly history: World[] = [];
  private nextId = 1;

  constructor(world: World) {
    this.world = copyWorld(world);
  }

  /** The world a read sees. */
  private seen(): World {
    if (this.staleLeft === 0) return this.world;
    this.staleLeft -= 1;
    return this.history[this.history.length - 1] ?? this.world;
  }

  private id(prefix: string): string {
    return `${prefix}-${String(this.nextId++).padStart(17, '0')}`;
  }

  private group(groupId: unknown): FakeGroup {
    const group = this.world.groups.find((g) => g.groupId === groupId);
    if (!group)
      throw serviceError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    return group;
  }

  /** Pages as EC2 answers a filtered describe: an empty page first, then one item a page. */
  private page<T>(items: T[], token: unknown): { items: T[]; next: string | undefined } {
    if (token === undefined) return { items: [], next: items.length > 0 ? 't0' : 'tend' };
    if (token === 'tend') return { items: [], next: undefined };
    const at = Number(String(token).slice(1));
    return {
      items: items.slice(at, at + 1),
      next: at + 1 < items.length ? `t${at + 1}` : undefined,
    };
  }

  private matches(
    filters: Filter[] | undefined,
    test: (name: string, values: string[]) => boolean,
  ) {
    return (filters ?? []).every((f) => test(f.Name ?? '', f.Values ?? []));
  }

  install(mock: Ec2Mock): void {
    const on = <I extends object>(command: { name: string }, answer: (input: I) => unknown) => {
      // Each answer is typed by the fake's own input shapes; EC2's types are far wider.
      const loose = mock as unknown as {
        on(c: unknown): { callsFake(f: (input: I) => unknown): unknown };
      };
      loose.on(command).callsFake((input: I) => this.call(command.name, input, answer));
    };
    on(
      DescribeSecurityGroupsCommand,
      (input: { GroupIds?: string[]; Filters?: Filter[]; NextToken?: string }) => {
        const world = this.seen();
        if (input.GroupIds) {
          const found = input.GroupIds.map((id) => {
            const g = world.groups.find((x) => x.groupId === id);
            if (!g)
              throw serviceError(
                'InvalidGroup.NotFound',
                `The security group '${id}' does not exist`,
              );
            return g;
          });
          return { SecurityGroups: found.map((g) => this.render(g)) };
        }
        const selected = world.groups.filter((g) =>
          this.matches(input.Filters, (name, values) => {
            if (name === 'vpc-id') return values.includes(g.vpcId);
            if (name === 'group-name') return values.includes(g.name);
            if (name === 'ip-permission.group-id')
              return g.rules.some((r) => !r.egress && values.includes(r.referencedGroupId ?? ''));
            if (name === 'egress.ip-permission.group-id')
              return g.rules.some((r) => r.egress && values.includes(r.referencedGroupId ?? ''));
            throw new Error(`fake EC2 has no filter ${name}`);
          }),
        );
        const { items, next } = this.page(selected, input.NextToken);
        return { SecurityGroups: items.map((g) => this.render(g)), NextToken: next };
      },
    );
    on(DescribeSecurityGroupRulesCommand, (input: { Filters?: Filter[]; NextToken?: string }) => {
      const ids = input.Filters?.find((f) => f.Name === 'group-id')?.Values ?? [];
      const rules = this.seen()
        .groups.filter((g) => ids.includes(g.groupId))
        .flatMap((g) => g.rules.map((r) => this.renderRule(g, r)));
      const { items, next } = this.page(rules, input.NextToken);
      return { SecurityGroupRules: items, NextToken: next };
    });
    on(DescribeNetworkInterfacesCommand, (input: { Filters?: Filter[]; NextToken?: string }) => {
      const selected = this.seen().interfaces.filter((eni) =>
        this.matches(input.Filters, (name, values) => {
          if (name === 'group-id') return eni.groups.some((g) => values.includes(g));
          if (name === 'network-interface-id') return values.includes(eni.interfaceId);
          throw new Error(`fake EC2 has no filter ${name}`);
        }),
      );
      const { items, next } = this.page(selected, input.NextToken);
      return {
        NetworkInterfaces: items.map((eni) => ({
          NetworkInterfaceId: eni.interfaceId,
          Groups: eni.groups.map((GroupId) => ({ GroupId })),
          InterfaceType: eni.interfaceType ?? 'interface',
          RequesterManaged: eni.requesterManaged ?? false,
          OwnerId: '111111111111',
          ...(eni.instanceId
            ? { Attachment: { InstanceId: eni.instanceId, InstanceOwnerId: '111111111111' } }
            : {}),
          Description: eni.description ?? '',
        })),
        NextToken: next,
      };
    });
    on(
      CreateSecurityGroupCommand,
      (input: {
        GroupName: string;
        VpcId: string;
        TagSpecifications?: { Tags?: { Key?: string; Value?: string }[] }[];
      }) => {
        if (this.world.groups.some((g) => g.vpcId === input.VpcId && g.name === input.GroupName)) {
          throw serviceError(
            'InvalidGroup.Duplicate',
            `The security group '${input.GroupName}' already exists`,
          );
        }
        const groupId = this.id('sg');
        const tags = Object.fromEntries(
          (input.TagSpecifications ?? []).flatMap((s) => s.Tags ?? []).map((t) => [t.Key, t.Value]),
        );
        this.world.groups.push({
          groupId,
          name: input.GroupName,
          vpcId: input.VpcId,
          tags,
          rules: [
            {
              ruleId: this.id('sgr'),
              egress: true,
              protocol: '-1',
              fromPort: -1,
              toPort: -1,
              cidrIpv4: '0.0.0.0/0',
            },
          ],
        });
        return { GroupId: groupId };
      },
    );
    const authorize =
      (egress: boolean) => (input: { GroupId: string; IpPermissions: IpPermission[] }) => {
        const group = this.group(input.GroupId);
        const adding = input.IpPermissions.flatMap((p) => rulesOf(p, egress));
        const present = new Set(group.rules.map(ruleKey));
        if (adding.some((r) => present.has(ruleKey(r)))) {
          throw serviceError('InvalidPermission.Duplicate', 'the specified rule already exists');
        }
        for (const r of adding) this.group(r.referencedGroupId ?? input.GroupId);
        group.rules.push(...adding.map((r) => ({ ruleId: this.id('sgr'), ...r })));
        return { Return: true };
      };
    on(AuthorizeSecurityGroupIngressCommand, authorize(false));
    on(AuthorizeSecurityGroupEgressCommand, authorize(true));
    const revoke =
      (egress: boolean) =>
      (input: {
        GroupId: string;
        IpPermissions?: IpPermission[];
        SecurityGroupRuleIds?: string[];
      }) => {
        const group = this.group(input.GroupId);
        if (input.SecurityGroupRuleIds) {
          const ids = input.SecurityGroupRuleIds;
          for (const id of ids) {
            if (!group.rules.some((r) => r.ruleId === id && r.egress === egress)) {
              throw serviceError('InvalidSecurityGroupRuleId.NotFound', `rule ${id} not found`);
            }
          }
          group.rules = group.rules.filter((r) => !ids.includes(r.ruleId));
          return { Return: true };
        }
        const keys = (input.IpPermissions ?? []).flatMap((p) => rulesOf(p, egress)).map(ruleKey);
        const present = new Set(group.rules.map(ruleKey));
        if (keys.some((k) => !present.has(k))) {
          throw serviceError('InvalidPermission.NotFound', 'the specified rule does not exist');
        }
        group.rules = group.rules.filter((r) => !keys.includes(ruleKey(r)));
        return { Return: true };
      };
    on(RevokeSecurityGroupIngressCommand, revoke(false));
    on(RevokeSecurityGroupEgressCommand, revoke(true));
    on(
      ModifyNetworkInterfaceAttributeCommand,
      (input: { NetworkInterfaceId: string; Groups: string[] }) => {
        const eni = this.world.interfaces.find((e) => e.interfaceId === input.NetworkInterfaceId);
        if (!eni) throw serviceError('InvalidNetworkInterfaceID.NotFound', 'no such interface');
        for (const g of input.Groups) this.group(g);
        eni.groups = [...input.Groups];
        return {};
      },
    );
    on(DeleteSecurityGroupCommand, (input: { GroupId: string }) => {
      const group = this.group(input.GroupId);
      const used =
        this.world.interfaces.some((e) => e.groups.includes(group.groupId)) ||
        this.world.groups.some(
          (g) => g !== group && g.rules.some((r) => r.referencedGroupId === group.groupId),
        );
      if (used) throw serviceError('DependencyViolation', 'resource has a dependent object');
      this.world.groups.splice(this.world.groups.indexOf(group), 1);
      return {};
    });
  }

  private call<I>(command: string, input: I, answer: (input: I) => unknown): unknown {
    const index = this.calls.length;
    this.calls.push({ command, input: input as Record<string, unknown> });
    if (index === this.failAt)
      throw serviceError('InternalError', `injected fault at call ${index} (${command})`);
    if (!MUTATING.has(command)) return answer(input);
    const before = copyWorld(this.world);
    try {
      const result = answer(input);
      this.history.push(before);
      this.staleLeft = this.staleReads;
      this.afterWrite(this.world);
      return result;
    } catch (error) {
      this.world = before;
      throw error;
    }
  }

  private render(group: FakeGroup) {
    return {
      GroupId: group.groupId,
      GroupName: group.name,
      VpcId: group.vpcId,
      Tags: Object.entries(group.tags).map(([Key, Value]) => ({ Key, Value })),
    };
  }

  private renderRule(group: FakeGroup, rule: FakeRule): SecurityGroupRule {
    return {
      SecurityGroupRuleId: rule.ruleId,
      GroupId: group.groupId,
      GroupOwnerId: '111111111111',
      IsEgress: rule.egress,
      IpProtocol: rule.protocol,
      FromPort: rule.fromPort,
      ToPort: rule.toPort,
      ...(rule.cidrIpv4 ? { CidrIpv4: rule.cidrIpv4 } : {}),
      ...(rule.cidrIpv6 ? { CidrIpv6: rule.cidrIpv6 } : {}),
      ...(rule.referencedGroupId
        ? { ReferencedGroupInfo: { GroupId: rule.referencedGroupId, UserId: '111111111111' } }
        : {}),
      ...(rule.description ? { Description: rule.description } : {}),
    };
  }

  /** The next `reads` reads still see the world as it was before the last write. */
  lagNextReads(reads: number): void {
    this.staleLeft = reads;
  }

  /** Mutating calls made so far. */
  writes(): { command: string; input: Record<string, unknown> }[] {
    return this.calls.filter((c) => MUTATING.has(c.command));
  }
}

/** Rules and group lists as comparable text, whatever their ids: what "the same state" means. */
export function snapshot(world: World): string[] {
  const name = (id: string | undefined) =>
    world.groups.find((g) => g.groupId === id)?.name ?? id ?? '';
  return [
    ...world.groups.flatMap((g) =>
      g.rules.map(
        (r) =>
          `${g.name} ${r.egress ? 'out' : 'in'} ${r.protocol} ${r.fromPort}-${r.toPort} ${
            r.cidrIpv4 ?? r.cidrIpv6 ?? name(r.referencedGroupId)
          } "${r.description ?? ''}"`,
      ),
    ),
    ...world.interfaces.map((e) => `${e.interfaceId} [${e.groups.map(name).sort().join(', ')}]`),
    ...world.groups.map((g) => `group ${g.name}`),
  ].sort();
}
