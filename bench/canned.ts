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
  | ((input: Readonly<Record<string, unknown>>) => object);
export type Answers = Readonly<Record<string, Answer>>;

export class CallLog {
  readonly calls: string[] = [];
  private readonly served = new Map<string, number>();

  /** Starts a new finding: lists answer from their first entry again. */
  reset(): void {
    this.calls.length = 0;
    this.served.clear();
  }

  next(key: string, answer: Answer, input: object): object {
    if (typeof answer === 'function') return answer({ ...input });
    if (!Array.isArray(answer)) return answer as object;
    const index = this.served.get(key) ?? 0;
    this.served.set(key, index + 1);
    const chosen = answer[Math.min(index, answer.length - 1)];
    if (!chosen) throw new Error(`empty answer list for ${key}`);
    return chosen;
  }
}

export function canned<
  Input extends object,
  Output extends MetadataBearer,
  C extends { middlewareStack: MiddlewareStack<Input, Output> },
>(client: C, service: string, answers: Answers, log: CallLog): C {
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      log.calls.push(`${service}:${command}`);
      const answer = answers[command];
      if (answer === undefined)
        throw new Error(`the bench has no answer for ${service}:${command}`);
      const output = log.next(`${service}:${command}`, answer, { ...args.input });
      // Canned data stands in for the service's answer, whatever the command.
      return { output: { $metadata: {}, ...output } as Output, response: {} };
    },
    { step: 'initialize', name: 'hubfixBenchCannedAnswers', priority: 'high' },
  );
  return client;
}
