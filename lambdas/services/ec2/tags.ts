import type { Tags } from '../../core/control';

/** EC2's `[{ Key, Value }]` tag list as a plain map; a tag without a value reads as "". */
export function tagsOf(list: readonly { Key?: string; Value?: string }[] | undefined): Tags {
  const tags: Record<string, string> = {};
  for (const { Key, Value } of list ?? []) if (Key !== undefined) tags[Key] = Value ?? '';
  return tags;
}
