import type { Tag } from '@aws-sdk/client-ecs';
import type { Tags } from '../../core/control';

/** ECS's `[{ key, value }]` tag list as a plain map; a tag without a value reads as "". */
export function ecsTagsOf(list: readonly Tag[] | undefined): Tags {
  const tags: Record<string, string> = {};
  for (const { key, value } of list ?? []) if (key !== undefined) tags[key] = value ?? '';
  return tags;
}
