/**
 * The calls a rollback shows are the only mutating calls it can make: its
 * clients are wrapped so that any other mutating request is refused before
 * it is sent. Reads (Describe, Get, List) pass.
 */
import { isFoundAtRunTime, type RollbackCall } from './control';
import { RollbackRefusedError } from './errors';

const READ_ONLY = /^(Describe|Get|List)[A-Z]/;

interface Sender {
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
  readonly config?: { readonly serviceId?: string };
}

function isSender(value: unknown): value is Sender {
  return (
    typeof value === 'object' &&
    value !== null &&
    'send' in value &&
    typeof value.send === 'function'
  );
}

/** JSON with sorted keys and no undefined values, so equal requests compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, inner]) => inner !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** The request matches the shown parameters; a value found at run time matches any value. */
export function matchesCall(
  call: RollbackCall,
  service: string,
  action: string,
  input: Readonly<Record<string, unknown>>,
): boolean {
  if (call.service !== service || call.action !== action) return false;
  const sent = Object.keys(input).filter((key) => input[key] !== undefined);
  const shown = Object.keys(call.parameters);
  if (sent.length !== shown.length || !sent.every((key) => shown.includes(key))) return false;
  return shown.every((key) => {
    const expected = call.parameters[key];
    return isFoundAtRunTime(expected) || canonical(expected) === canonical(input[key]);
  });
}

function actionOf(command: unknown): string {
  const name =
    typeof command === 'object' && command !== null ? command.constructor.name : String(command);
  return name.replace(/Command$/, '');
}

function inputOf(command: unknown): Readonly<Record<string, unknown>> {
  if (typeof command === 'object' && command !== null && 'input' in command) {
    const { input } = command;
    if (typeof input === 'object' && input !== null) return input as Record<string, unknown>;
  }
  return {};
}

/** Wraps every SDK client in `clients` so it sends no mutating call but those in `calls`. */
export function guardClients<Clients>(clients: Clients, calls: readonly RollbackCall[]): Clients {
  if (typeof clients !== 'object' || clients === null) return clients;
  const guarded: Record<string, unknown> = {};
  for (const [key, client] of Object.entries(clients)) {
    if (!isSender(client)) {
      guarded[key] = client;
      continue;
    }
    const service = (client.config?.serviceId ?? key).toLowerCase().replace(/\s+/g, '');
    guarded[key] = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: unknown, ...rest: unknown[]) => {
          const action = actionOf(command);
          const input = inputOf(command);
          if (
            !READ_ONLY.test(action) &&
            !calls.some((call) => matchesCall(call, service, action, input))
          ) {
            return Promise.reject(
              new RollbackRefusedError(
                `the rollback tried ${service}:${action} ${JSON.stringify(input).slice(0, 300)}, a call it did not show; it was not sent`,
              ),
            );
          }
          return target.send(command, ...rest);
        };
      },
    });
  }
  return guarded as Clients;
}
