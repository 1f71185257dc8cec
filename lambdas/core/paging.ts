/**
 * Reading a paginated AWS answer to the end. EC2 (and other services) apply a
 * filter after they cut a page, so a filtered describe call can answer an
 * empty or short page that still carries a NextToken: an empty first page
 * says nothing about the rest. Every "is anything there?" question in hubfix
 * goes through here, so evidence is read until an item is found or the token
 * ends, never judged on one page.
 */
import { PagingLimitError } from './errors';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken: string | undefined;
}

/** Fetches the page after `nextToken` (undefined: the first page). */
export type PageFetcher<T> = (nextToken: string | undefined) => Promise<Page<T>>;

export interface Collected<T> {
  readonly items: readonly T[];
  /** True when there may be more than `items` holds: `atMost` stopped the reading. */
  readonly more: boolean;
}

/**
 * A bound on pages read, so a service that kept answering tokens forever
 * could not keep a function busy until its timeout. 1,000 pages is far more
 * than any real answer needs.
 */
export const MAX_PAGES = 1_000;

/**
 * Reads pages until the token ends or `atMost` items are found (then `more`
 * says whether anything may be left). With the default, everything is read.
 * @throws PagingLimitError after MAX_PAGES pages that never ended.
 */
export async function collect<T>(
  fetch: PageFetcher<T>,
  options: { readonly atMost?: number } = {},
): Promise<Collected<T>> {
  const atMost = options.atMost ?? Number.POSITIVE_INFINITY;
  const items: T[] = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages += 1) {
    const page = await fetch(nextToken);
    items.push(...page.items);
    nextToken = page.nextToken || undefined;
    if (items.length > atMost) return { items: items.slice(0, atMost), more: true };
    if (items.length === atMost && nextToken !== undefined) return { items, more: true };
    if (nextToken === undefined) return { items, more: false };
  }
  throw new PagingLimitError(`gave up after ${MAX_PAGES} pages that kept answering a NextToken`);
}

/** Every item, across every page. */
export async function collectAll<T>(fetch: PageFetcher<T>): Promise<T[]> {
  return [...(await collect(fetch)).items];
}

/** The first item on any page, or undefined once the token has ended with none. */
export async function findFirst<T>(fetch: PageFetcher<T>): Promise<T | undefined> {
  return (await collect(fetch, { atMost: 1 })).items[0];
}
