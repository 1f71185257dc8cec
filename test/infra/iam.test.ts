/**
 * Least privilege, proved from the synthesized template (issue 11 §3): every
 * IAM statement of every role is walked, and a mutating action granted on `*`
 * or on a whole resource type without a narrowing condition fails the test
 * unless it is on the allow list below, with its reason. The list is meant to
 * shrink; an entry nothing needs any more fails too.
 */
import { describe, expect, it } from 'vitest';
import { changeIdFor } from '../../lambdas/core/handler';
import { CONTROLS, FORBIDDEN_FINDING_FIELDS } from '../../lib/controls';
import { type Grant, grantsOf, managedPolicyArns, roleStatements } from '../support/iam';
import { resolveIntrinsics } from '../support/intrinsics';
import { type Resources, resourcesOf, synthesize } from '../support/stack';

/** Verbs that read: an action named `<service>:<Verb>...` changes nothing. */
const READ_ONLY_VERBS = ['Describe', 'Get', 'List'] as const;

/** Read-only although their names do not say so, with why. */
const READ_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  'kms:Decrypt': 'returns the plaintext of data under the key; changes nothing',
  'kms:GenerateDataKey*': 'returns a new data key for the caller; changes nothing',
  'dynamodb:Query': 'reads items',
  'dynamodb:Scan': 'reads items',
  'dynamodb:BatchGetItem': 'reads items',
  'dynamodb:ConditionCheckItem': 'checks a condition on an item; changes nothing',
};

/** Condition keys that do not narrow what a grant reaches. */
const NOT_NARROWING = new Set(['aws:SecureTransport']);

function isReadOnly(action: string): boolean {
  if (action in READ_ONLY_ACTIONS) return true;
  const [service, name] = action.split(':');
  if (!service || !name) return false;
  return READ_ONLY_VERBS.some((verb) => name.startsWith(verb));
}

/**
 * How far a resource reaches, or undefined for a named resource (or a name
 * prefix such as `log-group:/hubfix/vpc-flow-logs/*`): `*`, any account or
 * region, or every resource of one type (`security-group/*`, `task-set/*\/*\/*`).
 */
function breadth(resource: string): string | undefined {
  if (resource === '*') return 'any resource';
  const parts = resource.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return undefined;
  const [, , , region, account] = parts;
  if (region === '*' || account === '*') return 'any account or region';
  const rest = parts.slice(5).join(':');
  if (/^[*/:]+$/.test(rest)) return 'every resource of the service';
  const typed = /^([A-Za-z0-9-]+)[/:](.*)$/.exec(rest);
  if (typed && /^[*/:]+$/.test(typed[2] ?? '')) return `every ${typed[1]}`;
  return undefined;
}

function narrows(condition: Grant['condition']): boolean {
  return Object.values(condition ?? {}).some((block) =>
    Object.keys(block).some((key) => !NOT_NARROWING.has(key)),
  );
}

interface Allowed {
  readonly action: string;
  /** The controls whose functions hold it. */
  readonly controls: readonly string[];
  readonly reason: string;
}

const EVERY_CONTROL = CONTROLS.map((c) => c.meta.id);
/** The reconciler's role, as ownersOf names it. */
const RECONCILER = 'reconciler';

/** Unconditioned mutating wildcards that remain, each with its reason. */
const ALLOWED: readonly Allowed[] = [
  {
    action: 'xray:PutTraceSegments',
    controls: [...EVERY_CONTROL, RECONCILER],
    reason:
      "X-Ray accepts no resource-level permissions; the call writes the function's own trace segments, not any AWS resource",
  },
  {
    action: 'xray:PutTelemetryRecords',
    controls: [...EVERY_CONTROL, RECONCILER],
    reason:
      'X-Ray accepts no resource-level permissions; the call writes telemetry, not a resource',
  },
  {
    action: 'ec2:EnableSnapshotBlockPublicAccess',
    controls: ['EC2.1'],
    reason:
      'an account-and-region setting with no resource-level permissions; the function only makes it stricter',
  },
  {
    action: 'ec2:EnableEbsEncryptionByDefault',
    controls: ['EC2.7'],
    reason: 'an account-and-region setting with no resource-level permissions',
  },
  {
    action: 'ec2:RevokeSecurityGroupIngress',
    controls: ['EC2.2', 'EC2.18', 'EC2.19'],
    reason:
      'a finding may name any security group of this account and region, and EC2 has no condition key for which rules a revoke removes; the function re-reads the group (EC2.2: that it is named default) before revoking',
  },
  {
    action: 'ec2:RevokeSecurityGroupEgress',
    controls: ['EC2.2'],
    reason:
      'a finding may name the default group of any VPC of this account and region; EC2 has no condition key for the group name',
  },
  {
    action: 'ec2:CreateFlowLogs',
    controls: ['EC2.6'],
    reason:
      'a finding may name any VPC of this account and region; the action only adds a flow log (its delivery role is pinned by the iam:PassRole grant)',
  },
  {
    action: 'ec2:ModifyInstanceMetadataOptions',
    controls: ['EC2.8'],
    reason:
      'a finding may name any instance of this account and region; the function only sets HttpTokens to required',
  },
  {
    action: 'ec2:ModifySubnetAttribute',
    controls: ['EC2.15', 'EC2.9'],
    reason:
      'a finding may name any subnet of this account and region (EC2.9 holds it only with disableSubnetAutoAssign); the function only turns auto-assign off',
  },
  // EC2.9: each of these calls also authorizes the owner's resources beside
  // the one it changes; the grant on the changed one is held by a condition
  // (test/infra/ec2-9-iam.test.ts proves each).
  {
    action: 'ec2:ModifyNetworkInterfaceAttribute',
    controls: ['EC2.9'],
    reason:
      'unconditioned only on the instance the interface is attached to, which the call also authorizes; on the interface itself only with ec2:Attribute/AssociatePublicIpAddress = false',
  },
  {
    action: 'ec2:CreateNetworkInterface',
    controls: ['EC2.9'],
    reason:
      "unconditioned only on the instance's subnet and security groups, which the call also authorizes; the new interface itself must be tagged hubfix:temporary",
  },
  {
    action: 'ec2:AttachNetworkInterface',
    controls: ['EC2.9'],
    reason:
      'unconditioned only on the instance, which the call also authorizes; the interface must carry hubfix:temporary',
  },
  {
    action: 'ec2:DetachNetworkInterface',
    controls: ['EC2.9'],
    reason:
      'unconditioned only on the instance, which the call also authorizes; the interface must carry hubfix:temporary',
  },
  {
    action: 'ec2:AssociateAddress',
    controls: ['EC2.9'],
    reason:
      'unconditioned only on the instance and its primary interface, which the call also authorizes; the Elastic IP must carry hubfix:temporary',
  },
  {
    action: 'ec2:DisassociateAddress',
    controls: ['EC2.9'],
    reason:
      "takes the owner's Elastic IP off, so no hubfix tag can hold it; the function re-reads the instance a finding names and disassociates only the association on its primary interface",
  },
  {
    action: 'ec2:CreateSecurityGroup',
    controls: ['EC2.2'],
    reason:
      'only with strategy migrate, on VPCs: CreateSecurityGroup authorizes the VPC apart from the new group (which only a request tagged hubfix:replaces may make), and the default group of any VPC may be migrated',
  },
  {
    action: 'ec2:AuthorizeSecurityGroupIngress',
    controls: ['EC2.2'],
    reason:
      "only with strategy migrate: the replacement's copy of the default group's rules, and the re-pointed rules of any group of its VPC that references it; EC2 has no condition key for a rule's peer",
  },
  {
    action: 'ec2:AuthorizeSecurityGroupEgress',
    controls: ['EC2.2'],
    reason:
      'only with strategy migrate: as for ingress, outbound rules that name the default group are re-pointed to the replacement',
  },
  {
    action: 'ec2:ModifyNetworkInterfaceAttribute',
    controls: ['EC2.2'],
    reason:
      'only with strategy migrate: every interface of the default group moves to the replacement; EC2 authorizes the interface, its instance and each group of the new list, and has no condition key for the groups set',
  },
  {
    action: 'ecs:DeleteTaskSet',
    controls: ['ECS.16'],
    reason:
      "removes the owner's public task set once its replacement is primary and steady (the owner's carries no hubfix tag to hold it by), and on re-entry a replacement of hubfix's own that never became primary; ECS has no condition key for a task set's network configuration",
  },
  {
    action: 'ecs:UpdateServicePrimaryTaskSet',
    controls: ['ECS.16'],
    reason:
      'makes the replacement primary on the service a finding names, in this account and region; ECS has no condition key for which task set becomes primary',
  },
];

/** Each role's owner: the control whose function assumes it, the reconciler, or the role's logical id. */
function ownersOf(resources: Resources): Map<string, string> {
  const owners = new Map<string, string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const role = (resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const variables = (resource.Properties.Environment as { Variables: Record<string, string> })
      .Variables;
    const settings = JSON.parse(variables.HUBFIX_SETTINGS ?? '{}') as { controlId?: string };
    owners.set(role, 'HUBFIX_RECONCILER' in variables ? RECONCILER : (settings.controlId ?? role));
  }
  return owners;
}

interface Offence {
  readonly owner: string;
  readonly action: string;
  readonly resource: string;
  readonly breadth: string;
}

function offencesIn(resources: Resources): Offence[] {
  const owners = ownersOf(resources);
  return grantsOf(resources).flatMap((grant) => {
    const reach = breadth(grant.resource);
    if (
      grant.effect !== 'Allow' ||
      isReadOnly(grant.action) ||
      !reach ||
      narrows(grant.condition)
    ) {
      return [];
    }
    const owner = owners.get(grant.role) ?? grant.role;
    return [{ owner, action: grant.action, resource: grant.resource, breadth: reach }];
  });
}

function isAllowed(offence: Offence): boolean {
  return ALLOWED.some((a) => a.action === offence.action && a.controls.includes(offence.owner));
}

/** Every optional grant on: EC2.1's block public access, EC2.2's migrate, EC2.9's subnet step, a topic key hubfix manages. */
const EVERYTHING_ON = {
  notifications: { kmsKey: 'managed-by-hubfix' },
  controls: {
    'EC2.1': { blockPublicAccess: 'block-new-sharing' },
    'EC2.9': { disableSubnetAutoAssign: true },
    'EC2.2': { strategy: 'migrate' },
  },
};
const configs = [
  ['the default config', {}],
  ['every optional grant on', EVERYTHING_ON],
] as const;
const synthesized = new Map<string, Resources>(
  configs.map(([name, config]) => [name, resourcesOf(synthesize({ config }).template)]),
);

function resourcesFor(name: string): Resources {
  const resources = synthesized.get(name);
  if (!resources) throw new Error(`not synthesized: ${name}`);
  return resources;
}

describe('the IAM walker', () => {
  it.each([
    ['ec2:DescribeInstances', true],
    ['ec2:GetEbsEncryptionByDefault', true],
    ['ecs:ListClusters', true],
    ['kms:GenerateDataKey*', true],
    ['ec2:ModifySubnetAttribute', false],
    ['ec2:De*', false],
    ['ec2:*', false],
    ['*', false],
    ['xray:PutTraceSegments', false],
  ] as const)('classifies %s as read-only: %s', (action, readOnly) => {
    expect(isReadOnly(action)).toBe(readOnly);
  });

  it.each([
    ['*', 'any resource'],
    ['arn:<Partition>:ec2:<Region>:<AccountId>:security-group/*', 'every security-group'],
    ['arn:<Partition>:ecs:<Region>:<AccountId>:task-set/*/*/*', 'every task-set'],
    ['arn:<Partition>:logs:<Region>:<AccountId>:log-group:*', 'every log-group'],
    ['arn:aws:ec2:*:111111111111:instance/i-1', 'any account or region'],
    ['arn:<Partition>:iam::<AccountId>:role/*', 'every role'],
    ['arn:<Partition>:logs:<Region>:<AccountId>:log-group:/hubfix/vpc-flow-logs/*', undefined],
    ['arn:<Partition>:securityhub:<Region>:<AccountId>:hub/default', undefined],
    ['<LedgerB7379752.Arn>', undefined],
  ] as const)('measures the reach of %s', (resource, reach) => {
    expect(breadth(resource)).toBe(reach);
  });
});

describe.each(configs.map(([name]) => name))('IAM in the template, %s', (name) => {
  const resources = resourcesFor(name);

  it('grants no mutating action on * or a whole resource type without a narrowing condition, beyond the allow list', () => {
    const offences = offencesIn(resources).filter((offence) => !isAllowed(offence));

    expect(offences).toEqual([]);
  });

  it('uses no inverted statements (NotAction, NotResource) and no AWS managed policies', () => {
    expect(grantsOf(resources).filter((g) => g.inverted)).toEqual([]);
    expect(managedPolicyArns(resources)).toEqual([]);
  });
});

describe('the allow list', () => {
  it('gives every entry a reason', () => {
    for (const entry of ALLOWED) expect(entry.reason.length).toBeGreaterThan(20);
  });

  it('holds no entry that nothing needs any more', () => {
    const offences = [...synthesized.values()].flatMap(offencesIn);
    const unused = ALLOWED.flatMap((entry) =>
      entry.controls
        .filter(
          (control) => !offences.some((o) => o.action === entry.action && o.owner === control),
        )
        .map((control) => `${control} ${entry.action}`),
    );

    expect(unused).toEqual([]);
  });
});

/** The condition keys a BatchUpdateFindings(V2) request puts in its context, per field set. */
const ASFF = (field: string) => `securityhub:ASFFSyntaxPath/${field}`;
const OCSF = (field: string) => `securityhub:OCSFSyntaxPath/${field}`;

/** IAM's Null operator: "true" requires the key to be absent, "false" present. */
function allowedBy(
  condition: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined,
  requestKeys: readonly string[],
): boolean {
  return Object.entries(condition ?? {}).every(
    ([operator, block]) =>
      operator === 'Null' &&
      Object.entries(block).every(
        ([key, value]) => (value === 'true') === !requestKeys.includes(key),
      ),
  );
}

describe.each(CONTROLS.map((c) => [c.meta.id, c] as const))('control %s', (controlId, control) => {
  const resources = resourcesFor('the default config');
  const owners = ownersOf(resources);
  const statements = roleStatements(resources)
    .filter(({ role }) => owners.get(role) === controlId)
    .map(({ statement }) => statement);
  const withAction = (action: string) =>
    statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
  const hubs = (resolved: unknown) => resolveIntrinsics(resolved);

  it('may re-fetch findings from either Security Hub, in this account and region only', () => {
    const [read] = withAction('securityhub:GetFindings');

    expect(hubs(read?.Resource)).toEqual([
      'arn:aws:securityhub:us-east-1:111111111111:hub/default',
      'arn:aws:securityhub:us-east-1:111111111111:hubv2/*',
    ]);
  });

  it.each([
    [
      'an ASFF workflow status and note',
      [ASFF('Workflow.Status'), ASFF('Note.Text'), ASFF('Note.UpdatedBy')],
      true,
    ],
    ['an OCSF status and comment', [OCSF('StatusId'), OCSF('Comment')], true],
    ['a severity label', [ASFF('Workflow.Status'), ASFF('Severity.Label')], false],
    ['a normalized severity', [ASFF('Severity.Normalized')], false],
    ['a verification state', [ASFF('Note.Text'), ASFF('VerificationState')], false],
    ['a confidence', [ASFF('Confidence')], false],
    ['a criticality', [ASFF('Criticality')], false],
    ['types', [ASFF('Types')], false],
    [
      'user-defined fields',
      [ASFF('UserDefinedFields.key'), ASFF('UserDefinedFields.value')],
      false,
    ],
    ['related findings', [ASFF('RelatedFindings')], false],
    ['an OCSF severity', [OCSF('StatusId'), OCSF('SeverityId')], false],
  ] as const)('may update a finding with %s: %s', (_what, requestKeys, allowed) => {
    const updates = withAction('securityhub:BatchUpdateFindings');

    expect(updates).toHaveLength(1);
    expect(hubs(updates[0]?.Resource)).toEqual([
      'arn:aws:securityhub:us-east-1:111111111111:hub/default',
      'arn:aws:securityhub:us-east-1:111111111111:hubv2/*',
    ]);
    expect(allowedBy(updates[0]?.Condition, requestKeys)).toBe(allowed);
  });

  it('is refused every finding field BatchUpdateFindings accepts besides Workflow and Note', () => {
    // BatchUpdateFindings request members (API reference), less the identifiers.
    const updatable = [
      'Confidence',
      'Criticality',
      'RelatedFindings',
      'Severity',
      'Types',
      'UserDefinedFields',
      'VerificationState',
    ];
    for (const field of updatable) {
      expect(FORBIDDEN_FINDING_FIELDS.some((key) => key.startsWith(ASFF(field)))).toBe(true);
    }
    expect(FORBIDDEN_FINDING_FIELDS.some((key) => /Workflow|Note|StatusId|Comment/.test(key))).toBe(
      false,
    );
  });

  const ledgerWrites = statements.filter((s) => JSON.stringify(s.Resource).includes('"Ledger'));
  if (control.meta.notifyOnly) {
    it('never changes anything, so it holds no grant on the ledger', () => {
      expect(ledgerWrites).toEqual([]);
    });
  } else {
    it('writes only its own ledger entries: keys led by its control id', () => {
      expect(ledgerWrites).toEqual([
        {
          Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Ledger/), 'Arn'] },
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${controlId}-*`] },
          },
        },
      ]);
      // IAM's StringLike: `*` is any run of characters, everything else literal.
      const pattern = new RegExp(`^${controlId.replaceAll('.', '\\.')}-.*$`);
      expect(changeIdFor(controlId)).toMatch(pattern);
      // EC2.1's pattern must not take EC2.15's entries.
      const others = CONTROLS.map((c) => c.meta.id).filter((id) => id !== controlId);
      const nearest = others.find((id) => id.startsWith(controlId)) ?? others[0] ?? '';
      expect(changeIdFor(nearest)).not.toMatch(pattern);
    });
  }
});
