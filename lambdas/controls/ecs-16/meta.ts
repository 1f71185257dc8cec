/**
 * What the registry and the function both need to know about ECS.16, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { type Infer, integer, object, optional } from '../../core/schema';

/**
 * The longest a function may wait for a replacement task set to become
 * steady. The registry gives ECS.16 a 15-minute function timeout (Lambda's
 * maximum), which leaves three minutes for reading, switching and deleting.
 */
export const ECS_16_MAX_STABILITY_SECONDS = 720;

export const ecs_16Params = object({
  /**
   * How long to wait for the replacement task set to reach a steady state
   * before giving up, deleting it and leaving the original in place.
   */
  stabilityTimeoutSeconds: optional(integer({ min: 60, max: ECS_16_MAX_STABILITY_SECONDS }), 600),
});

export type Ecs_16Params = Infer<typeof ecs_16Params>;

export const ecs_16Meta = {
  id: 'ECS.16',
  title: 'ECS task sets should not automatically assign public IP addresses',
  notifyOnly: false,
  params: ecs_16Params,
} as const;
