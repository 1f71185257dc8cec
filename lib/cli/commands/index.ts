/** Every `npx hubfix` command. Adding one is a module beside this file and a line here. */
import type { Command } from '../command';
import { backfill } from './backfill';
import { history } from './history';
import { report } from './report';
import { plan, remediate } from './request';
import { rollback } from './rollback';
import { show } from './show';

export const COMMANDS: readonly Command[] = [
  history,
  show,
  rollback,
  report,
  remediate,
  plan,
  backfill,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}
