import { UsageError } from '../../../lambdas/core/errors';
import type { DriftRecord, LedgerEntry } from '../../../lambdas/core/ledger-entry';
import type { Command } from '../command';
import { when } from '../text';

/** What changed back after the fix, and who to ask to keep it fixed. */
export function formatDrift(drift: DriftRecord): string[] {
  return [
    `drifted    ${when(drift.detectedAt)}: the fix did not hold; a fix now would ${drift.changedBack}${
      drift.outcome ? ` (hubfix: ${drift.outcome})` : ''
    }`,
    drift.owner
      ? `owner      ${drift.owner}: fix the template, or hubfix will fight it`
      : "owner      not named by the resource's tags (CloudFormation, Service Catalog...): look for what puts it back",
  ];
}

export function formatEntry(entry: LedgerEntry): string[] {
  let before: string;
  try {
    before = JSON.stringify(JSON.parse(entry.before), null, 2);
  } catch {
    before = entry.before;
  }
  const where = [entry.account, entry.region].filter((part) => part !== undefined).join(', ');
  return [
    `change     ${entry.changeId}`,
    `control    ${entry.controlId}`,
    `resource   ${entry.resource}`,
    ...(where ? [`where      ${where}`] : []),
    `finding    ${entry.findingId}`,
    `status     ${entry.status}`,
    `recorded   ${when(entry.createdAt)}${entry.completedAt ? `, finished ${when(entry.completedAt)}` : ''}`,
    `summary    ${entry.summary}`,
    ...(entry.changes.length > 0 ? ['changes', ...entry.changes.map((c) => `  - ${c}`)] : []),
    ...(entry.error ? [`error      ${entry.error}`] : []),
    ...(entry.stateLeft ? [`state left ${entry.stateLeft}`] : []),
    ...(entry.drift ? formatDrift(entry.drift) : []),
    ...entry.rollbacks.flatMap((r) => [
      `rollback   ${r.outcome} ${when(r.at)} by ${r.by}${r.error ? `: ${r.error}` : ''}`,
      ...r.lines.map((l) => `  - ${l}`),
    ]),
    'before-state (what the change removed or replaced)',
    // One printed line per JSON line, so a newline inside a value cannot start a line of its own.
    ...before.split('\n').map((l) => `  ${l}`),
  ];
}

export function changeIdOf(positionals: readonly string[], command: string): string {
  const [changeId] = positionals;
  if (!changeId) {
    throw new UsageError(`${command} needs a change id (list them with: npx hubfix history)`);
  }
  return changeId;
}

export const show: Command = {
  name: 'show',
  summary: 'one change: what it removed, what happened',
  usage: 'show <change-id>',
  help: [
    'Prints one ledger entry: the resource, the outcome, what the change did,',
    'whether it held (if the resource changed back: what, and which stack owns',
    'it), every rollback attempt, and the before-state it recorded.',
  ],
  options: {},
  optionHelp: [],
  maxPositionals: 1,
  validate(_values, positionals) {
    changeIdOf(positionals, 'show');
  },
  async run(context) {
    const changeId = changeIdOf(context.positionals, 'show');
    const entry = await (await context.ledger()).get(changeId);
    if (!entry) {
      context.warn(`hubfix: no change ${changeId} in ${await context.tableName()}`);
      return 1;
    }
    for (const line of formatEntry(entry)) context.print(line);
    return 0;
  },
};
