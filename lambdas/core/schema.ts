/**
 * A small, dependency-free validator. It serves three edges with one set of
 * rules and one error shape: the config file at synth time, the function
 * environment at cold start, and incoming events. Every failure names the path
 * that is wrong and why, so a person can fix it without reading code.
 */
import type { ValidationIssue } from './errors';

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

export interface Schema<T> {
  /** What a valid value looks like, for error messages. */
  readonly expected: string;
  parse(input: unknown, path: string): ParseResult<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const segment = IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return parent === '' ? segment.replace(/^\./, '') : `${parent}${segment}`;
}

function describeValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') {
    const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
    return `"${shown}"`;
  }
  if (typeof input === 'object') return 'an object';
  return String(input);
}

function fail<T>(path: string, message: string): ParseResult<T> {
  return { ok: false, issues: [{ path: path === '' ? '(root)' : path, message }] };
}

function expectedButGot<T>(path: string, expected: string, input: unknown): ParseResult<T> {
  return fail(path, `expected ${expected}, got ${describeValue(input)}`);
}

export function isRecord(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

export function string(
  options: { minLength?: number; maxLength?: number; pattern?: RegExp; patternName?: string } = {},
): Schema<string> {
  const { minLength = 0, maxLength, pattern, patternName } = options;
  const expected = patternName ?? (minLength > 0 ? 'a non-empty string' : 'a string');
  return {
    expected,
    parse(input, path) {
      if (typeof input !== 'string') return expectedButGot(path, expected, input);
      if (input.length < minLength) return expectedButGot(path, expected, input);
      if (maxLength !== undefined && input.length > maxLength) {
        return fail(path, `must be at most ${maxLength} characters (got ${input.length})`);
      }
      if (pattern && !pattern.test(input)) return expectedButGot(path, expected, input);
      return { ok: true, value: input };
    },
  };
}

export function integer(options: { min?: number; max?: number } = {}): Schema<number> {
  const { min, max } = options;
  const bounds =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  const expected = `a whole number${bounds}`;
  return {
    expected,
    parse(input, path) {
      if (typeof input !== 'number' || !Number.isInteger(input)) {
        return expectedButGot(path, expected, input);
      }
      if ((min !== undefined && input < min) || (max !== undefined && input > max)) {
        return expectedButGot(path, expected, input);
      }
      return { ok: true, value: input };
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    parse(input, path) {
      return typeof input === 'boolean'
        ? { ok: true, value: input }
        : expectedButGot(path, 'true or false', input);
    },
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const expected = `one of ${values.map((v) => `"${v}"`).join(', ')}`;
  return {
    expected,
    parse(input, path) {
      return typeof input === 'string' && (values as readonly string[]).includes(input)
        ? { ok: true, value: input as T[number] }
        : expectedButGot(path, expected, input);
    },
  };
}

export function array<T>(
  item: Schema<T>,
  options: { maxItems?: number; unique?: boolean } = {},
): Schema<readonly T[]> {
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    parse(input, path) {
      if (!Array.isArray(input)) return expectedButGot(path, expected, input);
      if (options.maxItems !== undefined && input.length > options.maxItems) {
        return fail(path, `must hold at most ${options.maxItems} items (got ${input.length})`);
      }
      const values: T[] = [];
      const issues: ValidationIssue[] = [];
      input.forEach((element, index) => {
        const result = item.parse(element, childPath(path, index));
        if (result.ok) values.push(result.value);
        else issues.push(...result.issues);
      });
      if (issues.length > 0) return { ok: false, issues };
      if (options.unique && new Set(values.map((v) => JSON.stringify(v))).size !== values.length) {
        return fail(path, 'must not repeat a value');
      }
      return { ok: true, value: values };
    },
  };
}

export function record<T>(
  value: Schema<T>,
  options: { key?: Schema<string> } = {},
): Schema<Readonly<Record<string, T>>> {
  const expected = `an object of ${value.expected}`;
  return {
    expected,
    parse(input, path) {
      if (!isRecord(input)) return expectedButGot(path, expected, input);
      const out: Record<string, T> = {};
      const issues: ValidationIssue[] = [];
      for (const [key, element] of Object.entries(input)) {
        const at = childPath(path, key);
        if (options.key) {
          const keyResult = options.key.parse(key, at);
          if (!keyResult.ok) {
            issues.push({ path: at, message: `key must be ${options.key.expected}` });
            continue;
          }
        }
        const result = value.parse(element, at);
        if (result.ok) out[key] = result.value;
        else issues.push(...result.issues);
      }
      return issues.length > 0 ? { ok: false, issues } : { ok: true, value: out };
    },
  };
}

/** Marks a key as optional; `fallback` fills it in when absent. */
export interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export function optional<T>(schema: Schema<T>): OptionalSchema<T | undefined>;
export function optional<T>(schema: Schema<T>, fallback: T): OptionalSchema<T>;
export function optional<T>(schema: Schema<T>, fallback?: T): OptionalSchema<T | undefined> {
  return {
    optional: true,
    expected: schema.expected,
    parse(input, path) {
      if (input === undefined) return { ok: true, value: fallback };
      return schema.parse(input, path);
    },
  };
}

export type Shape = Readonly<Record<string, Schema<unknown>>>;
/** Keys whose schema is optional without a fallback may be left out. */
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<infer T> ? (undefined extends T ? K : never) : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferShape<S extends Shape> = Simplify<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    readonly [K in OptionalKeys<S>]?: Infer<S[K]>;
  }
>;

/**
 * An object with known keys. Unknown keys are an error by default, which
 * catches a misspelt setting before it silently does nothing; event payloads
 * pass `unknownKeys: 'ignore'` because ASFF carries far more than hubfix reads.
 */
export type ObjectSchema<T, S extends Shape = Shape> = Schema<T> & { readonly shape: S };

export function object<S extends Shape>(
  shape: S,
  options: { unknownKeys?: 'reject' | 'ignore' } = {},
): ObjectSchema<InferShape<S>, S> {
  const expected = 'an object';
  return {
    shape,
    expected,
    parse(input, path) {
      if (!isRecord(input)) return expectedButGot(path, expected, input);
      const out: Record<string, unknown> = {};
      const issues: ValidationIssue[] = [];
      for (const [key, schema] of Object.entries(shape)) {
        const at = childPath(path, key);
        const value = input[key];
        if (value === undefined && !('optional' in schema)) {
          issues.push({ path: at, message: `is required (${schema.expected})` });
          continue;
        }
        const result = schema.parse(value, at);
        if (result.ok) {
          if (result.value !== undefined) out[key] = result.value;
        } else issues.push(...result.issues);
      }
      if (options.unknownKeys !== 'ignore') {
        const known = Object.keys(shape);
        for (const key of Object.keys(input)) {
          if (!known.includes(key)) {
            issues.push({
              path: childPath(path, key),
              message: `is not a known setting (known here: ${known.join(', ') || 'none'})`,
            });
          }
        }
      }
      return issues.length > 0 ? { ok: false, issues } : { ok: true, value: out as InferShape<S> };
    },
  };
}

export function parseOrThrow<T>(
  schema: Schema<T>,
  input: unknown,
  toError: (issues: readonly ValidationIssue[]) => Error,
  path = '',
): T {
  const result = schema.parse(input, path);
  if (!result.ok) throw toError(result.issues);
  return result.value;
}
