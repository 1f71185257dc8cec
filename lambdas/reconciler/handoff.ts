/**
 * How the sweep hands findings to their controls: an asynchronous invoke of
 * each control's function with a direct request. The reconciler and
 * `npx hubfix backfill --apply` hand on the same way.
 */
import type { AsyncInvoker } from '../core/adapters/lambda-invoke';
import { LambdaRequeue } from '../core/adapters/requeue';
import { RequeueError } from '../core/errors';
import type { Handoff } from './sweep';

export function controlHandoff(
  /** Each deployed control's function name, by control id. */
  functions: Readonly<Record<string, string>>,
  connect: () => Promise<AsyncInvoker>,
): Handoff {
  const targets = new Map(
    Object.entries(functions).map(([controlId, name]) => [
      controlId,
      new LambdaRequeue(connect, name),
    ]),
  );
  return {
    async hand(controlId, request) {
      const target = targets.get(controlId);
      if (!target) throw new RequeueError(`no function handles ${controlId}`);
      await target.send(request);
    },
  };
}
