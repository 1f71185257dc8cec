import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
/**
 * Instant answers for SDK clients, by command name, given at the very first
 * middleware step: no serialisation, signing or network, so what the bench
 * measures is hubfix's own work. Every call is counted on the way.
 */

/** An answer, a list answered in order (the last repeats), or a function of the input. */
export type Answer =
  | object
  | readonly object[]
  | ((input: Readonly<Record<string, unknown>>) => object | Promise<object>);
export type Answers = Readonly<Record<string, Answer>>;

export class CallLog {
  readonly calls: string[] = [];
  /** Each call's input, in order, for sizing what was sent. */
  readonly inputs: Readonly<Record<string, unknown>>[] = [];
  private readonly served = new Map<string, number>();

  /** Starts a new finding: lists answer from their first entry again. */
  reset(): void {
    this.calls.length = 0;
    this.inputs.length = 0;
    this.served.clear();
  }

  next(key: string, answer: Answer, input: object): object | Promise<object> {
    if (typeof answer === 'function') return answer({ ...input });
    if (!Array.isArray(answer)) return answer as object;
    const index = this.served.get(key) ?? 0;
    this.served.set(key, index + 1);
    const chosen = answer[Math.min(index, answer.length - 1)];
    if (!chosen) throw new Error(`empty answer list for ${key}`);
    return chosen;
  }
}

/**
 * Where canned answers are given: `instant` at the very first step (no
 * serialisation, signing, retries), for measuring hubfix's own work;
 * `after-retry` inside the SDK's retry middleware, so an answer that is an
 * error (a throttle) is retried by the SDK's real retry strategy and rate
 * limiter, as it would be against AWS.
 */
export type Placement = 'instant' | 'after-retry';

export function canned<
  Input extends object,
  Output extends MetadataBearer,
  C extends { middlewareStack: MiddlewareStack<Input, Output> },
>(client: C, service: string, answers: Answers, log: CallLog, placement: Placement = 'instant'): C {
  const answer = async (commandName: unknown, input: object): Promise<Output> => {
    const command = String(commandName).replace(/Command$/, '');
    log.calls.push(`${service}:${command}`);
    log.inputs.push({ ...input });
    const chosen = answers[command];
    if (chosen === undefined) throw new Error(`the bench has no answer for ${service}:${command}`);
    const output = await log.next(`${service}:${command}`, chosen, { ...input });
    // Canned data stands in for the service's answer, whatever the command.
    return { $metadata: {}, ...output } as Output;
  };
  if (placement === 'instant') {
    client.middlewareStack.add(
      (_next, context) => async (args) => ({
        output: await answer(context.commandName, args.input),
        response: {},
      }),
      { step: 'initialize', name: 'hubfixBenchCannedAnswers', priority: 'high' },
    );
  } else {
    client.middlewareStack.add(
      (_next, context) => async (args) => ({
        output: await answer(context.commandName, args.input),
        response: {},
      }),
      { step: 'finalizeRequest', name: 'hubfixBenchCannedAnswers', priority: 'low' },
    );
  }
  return client;
}
