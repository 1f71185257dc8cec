import { UsageError } from '../../../lambdas/core/errors';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { type Command, stringOption } from '../command';
import { shortResource, table, when } from '../text';

/** Where a change was made: `<account> <region>`, or `-` for an entry recorded without them. */
function whereOf(entry: LedgerEntry): string {
  return entry.account && entry.region ? `${entry.account} ${entry.region}` : '-';
}

export function formatHistory(entries: readonly LedgerEntry[]): string[] {
  if (entries.length === 0) return ['no changes recorded yet'];
  // One deployment for an organization records changes in many accounts and
  // regions: name them when the list holds more than one place.
  const places = new Set(entries.map(whereOf));
  const showWhere = places.size > 1;
  return table(
    [
      'CHANGE ID',
      'WHEN',
      'CONTROL',
      'STATUS',
      ...(showWhere ? ['WHERE'] : []),
      'RESOURCE',
      'SUMMARY',
    ],
    entries.map((e) => [
      e.changeId,
      when(e.createdAt),
      e.controlId,
      // A fix that did not hold: `hubfix show` says what changed back and who owns it.
      e.drift ? `${e.status} (drifted)` : e.status,
      ...(showWhere ? [whereOf(e)] : []),
      shortResource(e.resource),
      e.summary,
    ]),
  );
}

function limitOf(raw: string | undefined): number {
  const limit = Number(raw ?? '20');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${raw}"`);
  }
  return limit;
}

export const history: Command = {
  name: 'history',
  summary: 'recent changes, newest first',
  usage: 'history [--limit 20]',
  help: [
    'Lists the most recent changes hubfix recorded in the ledger, newest first.',
    'A fix whose resource changed back later is marked "(drifted)"; `show` says',
    'what changed back and which stack owns the resource.',
  ],
  options: { limit: { type: 'string' } },
  optionHelp: ['--limit <n>         how many changes to list, 1 to 1000 (default: 20)'],
  maxPositionals: 0,
  validate(values) {
    limitOf(stringOption(values, 'limit'));
  },
  async run(context) {
    const ledger = await context.ledger();
    const entries = await ledger.recent(limitOf(stringOption(context.values, 'limit')));
    for (const line of formatHistory(entries)) context.print(line);
    return 0;
  },
};
