/**
 * THE registry. One entry per control drives the stack (one function, its
 * rules, queue and grants), the config schema, the README table and the test
 * matrix. Adding a control is one folder in lambdas/controls/ and one entry
 * here.
 */
import * as path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ec2_2Meta } from '../lambdas/controls/ec2-2/meta';
import type { ObjectSchema } from '../lambdas/core/schema';
import type { Mode } from '../lambdas/core/settings';

/** An ARN pattern in the stack's own partition, region and account. */
export interface ScopedArn {
  readonly service: string;
  readonly resource: string;
  readonly resourceName: string;
  /**
   * The ARN's region field.
   * @default the stack's region; '' for global services such as IAM
   */
  readonly region?: string;
}

export interface Permission {
  readonly actions: readonly string[];
  /**
   * What the actions are limited to. `'*'` is for actions that support no
   * resource-level permissions; `reason` then says so for the cdk-nag record.
   */
  readonly resources: readonly ScopedArn[] | '*';
  readonly reason?: string;
  /**
   * IAM conditions on the grant, e.g. `iam:PassedToService` for `iam:PassRole`.
   * @default no conditions
   */
  readonly conditions?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
}

export interface ControlMeta {
  readonly id: string;
  readonly title: string;
  readonly notifyOnly: boolean;
  readonly params: ObjectSchema<unknown>;
}

export interface ControlDefinition {
  readonly meta: ControlMeta;
  /** Used when neither the control's config nor `defaults.mode` sets a mode. */
  readonly defaultMode: Mode;
  /** Changes traffic or availability when applied; these default to notify. */
  readonly disruptive: boolean;
  /** What the function may call, beyond finding updates, SNS and its logs. */
  readonly permissions: readonly Permission[];
  /** @default Duration.minutes(5) — a custom action may carry many findings. */
  readonly timeout?: Duration;
  /**
   * Makes what the control needs besides its function (a role for a service
   * to assume, say) and grants the function what it needs on it. The values
   * returned reach the control as `ctx.provisioned`.
   * @default nothing is provisioned
   */
  readonly provision?: (scope: Construct, grantee: IRole) => Readonly<Record<string, string>>;
}

const DESCRIBE_ONLY = 'EC2 Describe* actions support no resource-level permissions';

export const CONTROLS: readonly ControlDefinition[] = [
  {
    meta: ec2_2Meta,
    defaultMode: 'remediate',
    disruptive: false,
    permissions: [
      {
        actions: [
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSecurityGroupRules',
          'ec2:DescribeSecurityGroupReferences',
          'ec2:DescribeNetworkInterfaces',
        ],
        resources: '*',
        reason: DESCRIBE_ONLY,
      },
      {
        actions: ['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
        resources: [{ service: 'ec2', resource: 'security-group', resourceName: '*' }],
      },
    ],
  },
];

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** `EC2.2` → `ec2-2`, the control's folder under lambdas/controls/. */
export function controlFolder(controlId: string): string {
  return controlId.toLowerCase().replace(/\./g, '-');
}

export function handlerEntry(controlId: string): string {
  return path.join(PROJECT_ROOT, 'lambdas', 'controls', controlFolder(controlId), 'handler.ts');
}

export function findControl(
  controlId: string,
  controls: readonly ControlDefinition[] = CONTROLS,
): ControlDefinition | undefined {
  return controls.find((c) => c.meta.id === controlId);
}
