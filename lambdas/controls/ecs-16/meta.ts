/**
 * What the registry and the function both need to know about ECS.16, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { array, type Infer, integer, object, optional, string } from '../../core/schema';

/**
 * The longest a function may wait for a replacement task set to become
 * steady. The registry gives ECS.16 a 15-minute function timeout (Lambda's
 * maximum), which leaves three minutes for reading, switching and deleting.
 */
export const ECS_16_MAX_STABILITY_SECONDS = 720;

export { REPLACES_TAG } from '../../services/replaces-tag';

/** The service that CreateTaskSet hands the task definition's roles to. */
export const ECS_TASKS_SERVICE = 'ecs-tasks.amazonaws.com';

/** An IAM role name with its path, as it follows `:role/` in the role's ARN. */
const roleName = string({
  pattern: /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
  patternName:
    'a role name with its path, as it follows ":role/" in the role\'s ARN (e.g. "ecsTaskExecutionRole" or "service-role/web-task")',
});

export const ecs_16Params = object({
  /**
   * How long to wait for the replacement task set to reach a steady state
   * before giving up, deleting it and leaving the original in place.
   */
  stabilityTimeoutSeconds: optional(integer({ min: 60, max: ECS_16_MAX_STABILITY_SECONDS }), 600),
  /**
   * Which roles the function may pass to ECS tasks when it creates a
   * replacement: CreateTaskSet passes on the task definition's task role and
   * execution role, and IAM then checks `iam:PassRole` on each. `roles` lists
   * role names of this account; `tag` allows every role of this account
   * that carries that tag key and value. Both may be given. By default no
   * role may be passed, and a task set whose task definition names a role is
   * blocked with the roles it needs.
   */
  passRoles: optional(
    object({
      roles: optional(array(roleName, { maxItems: 20, unique: true }), []),
      tag: optional(
        object({
          key: string({ minLength: 1, maxLength: 128 }),
          value: string({ maxLength: 256 }),
        }),
      ),
    }),
    { roles: [] },
  ),
});

export type Ecs_16Params = Infer<typeof ecs_16Params>;

export const ecs_16Meta = {
  id: 'ECS.16',
  title: 'ECS task sets should not automatically assign public IP addresses',
  notifyOnly: false,
  params: ecs_16Params,
} as const;
