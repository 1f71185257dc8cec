import {
  type Control,
  isFoundAtRunTime,
  type Log,
  type RollbackCall,
} from '../../../lambdas/core/control';
import type { LedgerEntry } from '../../../lambdas/core/ledger-entry';
import { ROLLBACK_ROLE_NAME, roleArn } from '../../../lambdas/core/organization';
import { parseArn } from '../../../lambdas/core/resource';
import { type RollbackPreview, rollbackChange } from '../../../lambdas/core/rollback';
import { type Command, type CommandContext, flag, stringOption } from '../command';
import { changeIdOf, formatEntry } from './show';

function parameters(call: RollbackCall): string {
  return JSON.stringify(call.parameters, (_key, value: unknown) =>
    isFoundAtRunTime(value) ? `<found at run time: ${value.foundAtRunTime}>` : value,
  );
}

/** The calls as the operator confirms them: service, action, resource, parameters. */
export function formatCalls(preview: RollbackPreview, by: string): string[] {
  const { entry, resource, calls, withheld } = preview;
  const made =
    calls.length === 0
      ? [`The rollback of ${entry.changeId} makes no AWS call: nothing is left to restore.`]
      : [
          `The rollback of ${entry.changeId} will make these AWS calls in account ${resource.account}, ${resource.region}, as ${by}:`,
          ...calls.flatMap((call, i) => [
            `  ${i + 1}. ${call.service}:${call.action} on ${call.resource}${call.when ? ` (${call.when})` : ''}`,
            ...(call.grants ? [`     gives back: ${call.grants.what}`] : []),
            `     ${parameters(call)}`,
          ]),
        ];
  if (withheld.length === 0) return made;
  return [
    ...made,
    `It will not make these, because the entry does not record that the change took their access away${entry.stateLeft ? ` (it stopped part-way and left: ${entry.stateLeft})` : ''}:`,
    ...withheld.flatMap((call) => [
      `  - ${call.service}:${call.action} on ${call.resource}: would give back ${call.grants?.what ?? 'access'}`,
      `     ${parameters(call)}`,
    ]),
  ];
}

function consoleLog(context: CommandContext): Log {
  return {
    debug: () => {},
    info: () => {},
    warn: (message) => context.warn(`warning: ${message}`),
    error: (message) => context.warn(`error: ${message}`),
  };
}

export const rollback: Command = {
  name: 'rollback',
  summary: 'undo one change with your AWS credentials',
  usage: 'rollback <change-id> [--yes] [--force] [--role-name <name>]',
  help: [
    'Undoes one change: checks that its recorded before-state acts on the',
    "entry's own resource, in the entry's account and region, and gives back",
    'only what the change recorded it took away; shows every AWS call it will',
    'make; asks you to type the resource id; then makes those calls and no',
    'other, with your credentials. Every attempt is recorded in the ledger:',
    'rolled back, refused, declined or failed, with who made it.',
    'A change in another account (org mode) is rolled back with a role there:',
    `the member's ${ROLLBACK_ROLE_NAME} role unless --role-name names another.`,
  ],
  options: {
    yes: { type: 'boolean' },
    force: { type: 'boolean' },
    'role-name': { type: 'string' },
  },
  optionHelp: [
    '--yes               do not ask: the calls are still shown and checked',
    '--force             also roll back a change left PENDING or ROLLING_BACK',
    `--role-name <name>  the role to assume in the change's account (default ${ROLLBACK_ROLE_NAME} when the account is not yours)`,
  ],
  maxPositionals: 1,
  validate(_values, positionals) {
    changeIdOf(positionals, 'rollback');
  },
  async run(context) {
    const changeId = changeIdOf(context.positionals, 'rollback');
    const { deps, region } = context;
    const ledger = await context.ledger();
    const caller = await deps.caller(region);
    const entry = await ledger.get(changeId);
    if (entry) for (const line of formatEntry(entry)) context.print(line);
    const acting = await actingAs(context, caller, entry);
    const outcome = await rollbackChange({
      changeId,
      by: acting.by,
      scope: acting.scope,
      force: flag(context.values, 'force'),
      ledger,
      control: deps.loadControl,
      clients: acting.clients,
      log: consoleLog(context),
      now: deps.now,
      async confirm(preview) {
        context.print('');
        for (const line of formatCalls(preview, acting.by)) context.print(line);
        if (flag(context.values, 'yes')) return true;
        const answer = await deps.ask(
          `Type the resource id (${preview.resource.id}) to roll back, anything else to stop: `,
        );
        if (answer === undefined) {
          context.warn('hubfix: no terminal to confirm on: pass --yes to roll back without asking');
          return false;
        }
        return answer.trim() === preview.resource.id;
      },
    });
    switch (outcome.kind) {
      case 'rolled-back':
        context.print(`rolled back ${changeId}:`);
        for (const line of outcome.lines) context.print(`  - ${line}`);
        return 0;
      case 'declined':
        context.warn(
          'hubfix: not rolled back: the resource id was not typed (the attempt is recorded)',
        );
        return 1;
      case 'refused':
        context.warn(`hubfix: refused: ${outcome.reason}`);
        return 1;
      case 'failed':
        context.warn(`hubfix: rollback failed: ${outcome.error}`);
        if (outcome.stateLeft) context.warn(`state now: ${outcome.stateLeft}`);
        return 1;
    }
  },
};

/**
 * Whose credentials the rollback uses, where: the operator's own, in the
 * CLI's region; or, for a change in another account (or with --role-name),
 * a role assumed in the change's account, in the change's region.
 */
async function actingAs(
  context: CommandContext,
  caller: { readonly arn: string; readonly account: string },
  entry: LedgerEntry | undefined,
) {
  const { deps, region } = context;
  const roleName = stringOption(context.values, 'role-name');
  const elsewhere = entry?.account !== undefined && entry.account !== caller.account;
  if (!entry?.account || !entry.region || (!elsewhere && roleName === undefined)) {
    return {
      by: caller.arn,
      scope: { account: caller.account, region },
      clients: (control: Control<unknown, unknown, unknown, object>) =>
        deps.clientsFor(control, region),
    };
  }
  const { account, region: where } = entry;
  const role = roleArn(
    parseArn(caller.arn)?.partition ?? 'aws',
    account,
    roleName ?? ROLLBACK_ROLE_NAME,
  );
  const credentials = await deps.assumeRole(role, where);
  return {
    by: `${caller.arn} as ${role}`,
    scope: { account, region: where },
    clients: (control: Control<unknown, unknown, unknown, object>) =>
      deps.clientsFor(control, where, credentials),
  };
}
