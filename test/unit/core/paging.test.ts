import { describe, expect, it } from 'vitest';
import { PagingLimitError } from '../../../lambdas/core/errors';
import { collect, collectAll, findFirst, MAX_PAGES, type Page } from '../../../lambdas/core/paging';

/** Pages as EC2 answers a filtered describe: empty or short pages that still carry a token. */
function pagesOf<T>(pages: readonly (readonly T[])[]) {
  const asked: (string | undefined)[] = [];
  const fetch = async (token: string | undefined): Promise<Page<T>> => {
    asked.push(token);
    const index = token === undefined ? 0 : Number(token);
    const items = pages[index] ?? [];
    return { items, nextToken: index + 1 < pages.length ? String(index + 1) : undefined };
  };
  return { fetch, asked };
}

describe('paging', () => {
  it('follows empty pages with a token until an item appears', async () => {
    // Prepare
    const { fetch, asked } = pagesOf([[], [], ['eni-1'], ['eni-2']]);
    // Act
    const first = await findFirst(fetch);
    // Assess
    expect(first).toBe('eni-1');
    expect(asked).toEqual([undefined, '1', '2']);
  });

  it('answers undefined only once the token has ended', async () => {
    const { fetch, asked } = pagesOf<string>([[], [], []]);
    expect(await findFirst(fetch)).toBeUndefined();
    expect(asked).toEqual([undefined, '1', '2']);
  });

  it('collects every item of every page', async () => {
    const { fetch } = pagesOf([['a'], [], ['b', 'c']]);
    expect(await collectAll(fetch)).toEqual(['a', 'b', 'c']);
  });

  it('stops at atMost and says there may be more', async () => {
    const { fetch, asked } = pagesOf([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await collect(fetch, { atMost: 3 })).toEqual({ items: ['a', 'b', 'c'], more: true });
    expect(asked).toEqual([undefined, '1']);
  });

  it('says there may be more when exactly atMost were read and a token is left', async () => {
    const { fetch } = pagesOf([['a', 'b'], []]);
    expect(await collect(fetch, { atMost: 2 })).toEqual({ items: ['a', 'b'], more: true });
  });

  it('says nothing more when the last page ends exactly at atMost', async () => {
    const { fetch } = pagesOf([['a'], ['b']]);
    expect(await collect(fetch, { atMost: 2 })).toEqual({ items: ['a', 'b'], more: false });
  });

  it('treats an empty-string token as the end', async () => {
    const fetch = async (): Promise<Page<string>> => ({ items: [], nextToken: '' });
    expect(await collect(fetch)).toEqual({ items: [], more: false });
  });

  it('gives up on a service that never stops answering tokens', async () => {
    let calls = 0;
    const fetch = async (): Promise<Page<string>> => {
      calls += 1;
      return { items: [], nextToken: 'again' };
    };
    await expect(findFirst(fetch)).rejects.toBeInstanceOf(PagingLimitError);
    expect(calls).toBe(MAX_PAGES);
  });
});
