/**
 * What the registry and the function both need to know about ECS.2, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, object } from '../../core/schema';

/** ECS.2 has no settings of its own: the fix is always the same. */
export const ecs_2Params = object({});

export type Ecs_2Params = Infer<typeof ecs_2Params>;

export const ecs_2Meta = {
  id: 'ECS.2',
  title: 'ECS services should not have public IP addresses assigned to them automatically',
  notifyOnly: false,
  params: ecs_2Params,
} as const;
