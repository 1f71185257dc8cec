/**
 * Reads every IAM grant of a synthesized template: the inline and managed
 * policies of its roles, one row per (role, action, resource), with the
 * statement's conditions. ARNs are rendered as CloudFormation would resolve
 * them, with `<Region>` / `<Logical.Arn>` placeholders for values only
 * known at deploy time (no colons, so an ARN still splits into its fields).
 */
import type { Resources } from './stack';

export interface PolicyStatementJson {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface Grant {
  /** The role's logical id. */
  readonly role: string;
  readonly effect: 'Allow' | 'Deny';
  readonly action: string;
  readonly resource: string;
  readonly condition: PolicyStatementJson['Condition'];
  /** NotAction or NotResource: an inverted statement, which hubfix never needs. */
  readonly inverted: boolean;
}

/** A CloudFormation value as text; intrinsics become `<...>` placeholders. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const [entry] = Object.entries(value);
  if (!entry) return '';
  const [key, argument] = entry;
  if (key === 'Ref') return `<${String(argument).replace(/^AWS::/, '')}>`;
  if (key === 'Fn::GetAtt') return `<${(argument as string[]).join('.')}>`;
  if (key === 'Fn::Join') {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (key === 'Fn::Sub') return Array.isArray(argument) ? String(argument[0]) : String(argument);
  return JSON.stringify(value);
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function statementsOf(document: unknown): readonly PolicyStatementJson[] {
  return list((document as { Statement?: PolicyStatementJson | PolicyStatementJson[] }).Statement);
}

/** Every (role, statement) pair: roles' inline policies, and Policy/ManagedPolicy resources attached to roles. */
export function roleStatements(
  resources: Resources,
): { role: string; statement: PolicyStatementJson }[] {
  const out: { role: string; statement: PolicyStatementJson }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const properties = resource.Properties;
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of list(properties.Policies as { PolicyDocument: unknown }[] | undefined)) {
        for (const statement of statementsOf(policy.PolicyDocument)) {
          out.push({ role: id, statement });
        }
      }
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      for (const role of list(properties.Roles as unknown[] | undefined)) {
        for (const statement of statementsOf(properties.PolicyDocument)) {
          out.push({ role: render(role).replace(/^<|>$/g, ''), statement });
        }
      }
    }
  }
  return out;
}

export function grantsOf(resources: Resources): Grant[] {
  return roleStatements(resources).flatMap(({ role, statement }) => {
    const inverted = statement.NotAction !== undefined || statement.NotResource !== undefined;
    const actions = list(statement.Action);
    const targets = list(statement.Resource);
    return actions.flatMap((action) =>
      (targets.length > 0 ? targets : ['(none)']).map((resource) => ({
        role,
        effect: statement.Effect,
        action,
        resource: render(resource),
        condition: statement.Condition,
        inverted,
      })),
    );
  });
}

/** AWS managed policies attached to any role: hubfix's roles must hold none. */
export function managedPolicyArns(resources: Resources): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Role')
    .flatMap((r) => list(r.Properties.ManagedPolicyArns as unknown[] | undefined).map(render));
}
