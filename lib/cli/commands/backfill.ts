import { systemClock } from '../../../lambdas/core/clock';
import type { Log } from '../../../lambdas/core/control';
import { NO_DEADLINE } from '../../../lambdas/core/deadline';
import { UsageError } from '../../../lambdas/core/errors';
import { HAND_REASONS } from '../../../lambdas/reconciler/decide';
import { describePlaces, sweepTargets } from '../../../lambdas/reconciler/source';
import { formatTable, legend, tallyLines, tallyTable } from '../../../lambdas/reconciler/summary';
import { runSweep, type SweepState, startSweep } from '../../../lambdas/reconciler/sweep';
import { findControl } from '../../controls';
import { type Command, type CommandContext, flag, type OptionValues } from '../command';

function controlsOf(values: OptionValues): string[] {
  const raw = values.control;
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

function progressLine(state: SweepState, apply: boolean): string {
  const { tally } = state;
  const handed = apply ? `, ${tally.handed} handed on` : '';
  return `swept ${tally.pages} page(s), ${tally.findings} finding(s)${handed}…`;
}

/** Warnings and errors on stderr; the sweep's routine lines are for the reconciler's logs. */
function cliLog(context: CommandContext): Log {
  const say = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    context.warn(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  return { debug() {}, info() {}, warn: say('warning'), error: say('error') };
}

export const backfill: Command = {
  name: 'backfill',
  summary: "sweep the deployed controls' failed findings now, as the reconciler does",
  usage: 'backfill [--plan | --apply] [--control <id>]...',
  help: [
    "Runs the reconciler's sweep with your credentials: it pages the failed, active",
    'findings of this account and region for the deployed controls (a stack in org',
    'mode: of every member account and region it may act in, through this',
    "account's Security Hub), and decides for each whether to hand it to its control",
    '(never handled: backfill; fixed but still failing after the grace period:',
    'drift; notified, blocked or failed: decided again; suppressed: lifted when the',
    'tag is gone or expired).',
    '',
    'With --plan (the default) it only reports what it would hand on, and changes',
    'nothing. With --apply it hands those findings to their control functions,',
    'which fetch each finding and read its resource again before anything is done.',
    'Needs securityhub:GetFindings, dynamodb:GetItem on the state table, and for',
    '--apply lambda:InvokeFunction on the control functions.',
  ],
  options: {
    plan: { type: 'boolean' },
    apply: { type: 'boolean' },
    control: { type: 'string', multiple: true },
  },
  optionHelp: [
    '--plan              report what would be handed on, change nothing (default)',
    '--apply             hand the findings to their control functions',
    '--control <id>      only this control (repeat for more), e.g. --control EC2.2',
  ],
  maxPositionals: 0,
  validate(values) {
    if (flag(values, 'plan') && flag(values, 'apply')) {
      throw new UsageError('--plan and --apply exclude each other');
    }
    for (const id of controlsOf(values)) {
      if (!findControl(id)) throw new UsageError(`--control ${id}: no such control in hubfix`);
    }
  },
  async run(context) {
    const { deps, region, values } = context;
    const apply = flag(values, 'apply');
    const caller = await deps.caller(region);
    const sweeper = await deps.sweeper(context.stack, region, caller);
    const deployed = Object.keys(sweeper.settings.controls);
    const asked = controlsOf(values);
    const missing = asked.filter((id) => !deployed.includes(id));
    if (missing.length > 0) {
      throw new UsageError(
        `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not deployed in stack ${context.stack} (deployed: ${deployed.join(', ')})`,
      );
    }
    const where = {
      account: caller.account,
      region,
      partition: sweeper.partition,
      organization: sweeper.organization,
    };
    const { queries, scope } = sweepTargets(asked.length > 0 ? asked : deployed, where);
    const startedAt = deps.now();
    const progress = deps.progress;
    const run = await runSweep(
      {
        source: sweeper.source,
        history: sweeper.history,
        handoff: apply ? sweeper.handoff : undefined,
        origin: 'cli',
        by: caller.arn,
        queries,
        scope,
        graceMs: sweeper.settings.graceHours * 3_600_000,
        clock: systemClock,
        deadline: NO_DEADLINE,
        log: cliLog(context),
        ...(progress
          ? { onPage: (state: SweepState) => progress(progressLine(state, apply)) }
          : {}),
      },
      startSweep(`backfill-${startedAt.toISOString()}`, startedAt),
    );
    progress?.('');

    const { tally } = run.state;
    const toHand = Object.values(tally.byControl).reduce(
      (n, counts) => n + HAND_REASONS.reduce((m, reason) => m + (counts[reason] ?? 0), 0),
      0,
    );
    context.print(
      apply
        ? `hubfix backfill in ${caller.account} ${region}: handed ${tally.handed} of ${toHand} finding(s) to their controls.`
        : `hubfix backfill in ${caller.account} ${region} (plan: nothing was changed): ${toHand} finding(s) would be handed to their controls; run with --apply to do it.`,
    );
    if (sweeper.organization) {
      const swept = describePlaces(where);
      context.print(`Swept: accounts ${swept.accounts}; regions ${swept.regions}.`);
    }
    context.print('');
    for (const line of formatTable(tallyTable(tally))) context.print(line);
    context.print('');
    for (const line of tallyLines(tally, { planOnly: !apply })) context.print(line);
    context.print('What the columns mean:');
    for (const line of legend()) context.print(line);
    if (run.kind === 'stopped') {
      context.warn(`hubfix: the sweep stopped before the end: ${run.reason}`);
      return 1;
    }
    return tally.handFailed > 0 ? 1 : 0;
  },
};
