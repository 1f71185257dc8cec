/**
 * Records before-states as structured log lines, kept for the log group's
 * retention. It is the ledger of last resort: the pipeline writes the
 * before-state here before every change, so it is never only in memory.
 */
import type { Log } from './control';
import type { ChangeRecord, ChangeRecorder, ChangeResult } from './pipeline';

export class LogChangeRecorder implements ChangeRecorder {
  constructor(private readonly log: Log) {}

  async recordBefore(record: ChangeRecord): Promise<void> {
    this.log.info('before-state recorded', { ledger: 'log', ...record });
  }

  async recordResult(changeId: string, result: ChangeResult): Promise<void> {
    this.log.info('change result recorded', { ledger: 'log', changeId, ...result });
  }
}
