/**
 * Controls page their describe calls through here, the layer of AWS helpers
 * they use; the helper itself lives in core, which reads Security Hub's pages
 * the same way.
 */
export { PagingLimitError } from '../core/errors';
export {
  type Collected,
  collect,
  collectAll,
  findFirst,
  MAX_PAGES,
  type Page,
  type PageFetcher,
} from '../core/paging';
