/**
 * A small, dependency-free validator. It serves three edges with one set of
 * rules and one error shape: the config file at synth time, the function
 * environment at cold start, and incoming events. Every failure names the path
 * that is wrong and why, so a person can fix it without reading code.
 *
 * The combinators also describe themselves as JSON Schema (draft-07, what
 * editors understand best), so remediation.config.schema.json is generated
 * from the very schema the loader checks with and the two cannot disagree.
 */
import { SchemaExportError, type ValidationIssue } from './errors';

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

/** The JSON Schema keywords hubfix's combinators produce. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly title?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  readonly enum?: readonly (string | number)[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly minProperties?: number;
  readonly anyOf?: readonly JsonSchema[];
}

export interface Schema<T> {
  /** What a valid value looks like, for error messages: "a string". */
  readonly expected: string;
  /**
   * What several valid values look like, for "a list of ...": "strings".
   * @default none: a list of them reads "a list, each <expected>"
   */
  readonly expectedMany?: string;
  parse(input: unknown, path: string): ParseResult<T>;
  /**
   * The same rules as JSON Schema, for editors. Every schema that
   * remediation.config.json reaches has one; schemas that only check events
   * or the function environment may leave it out.
   */
  toJsonSchema?(): JsonSchema;
}

/** Options every combinator takes. */
export interface Described {
  /** Shown by editors next to the key (JSON Schema `description`). */
  readonly description?: string;
}

/** `schema` as JSON Schema. @throws SchemaExportError when it cannot describe itself. */
export function jsonSchemaOf(schema: Schema<unknown>, at = '(root)'): JsonSchema {
  if (!schema.toJsonSchema) {
    throw new SchemaExportError(at, `${schema.expected} has no JSON Schema form`);
  }
  return schema.toJsonSchema();
}

function withDescription(json: JsonSchema, description: string | undefined): JsonSchema {
  return description === undefined ? json : { description, ...json };
}

/** `schema` with a description for editors, for schemas shared by several keys. */
export function described<T>(schema: Schema<T>, description: string): Schema<T> {
  return {
    ...schema,
    toJsonSchema: () => withDescription(jsonSchemaOf(schema), description),
  };
}

/** JSON Schema patterns are ECMA-262 source without flags; a flag would be silently dropped. */
function patternSource(pattern: RegExp): string {
  if (pattern.flags.replace(/[gu]/g, '') !== '') {
    throw new SchemaExportError(
      pattern.source,
      `the flags "${pattern.flags}" have no JSON Schema form`,
    );
  }
  return pattern.source;
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
  if (Array.isArray(input)) return 'a list';
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
  options: Described & {
    minLength?: number;
    maxLength?: number;
    pattern?: RegExp;
    /** What a matching string is, for messages: "an email address". */
    patternName?: string;
    /** The plural of `patternName`, for messages about lists: "email addresses". */
    patternNameMany?: string;
  } = {},
): Schema<string> {
  const { minLength = 0, maxLength, pattern, patternName, patternNameMany, description } = options;
  const expected = patternName ?? (minLength > 0 ? 'a non-empty string' : 'a string');
  const expectedMany = patternName
    ? patternNameMany
    : minLength > 0
      ? 'non-empty strings'
      : 'strings';
  return {
    expected,
    ...(expectedMany === undefined ? {} : { expectedMany }),
    parse(input, path) {
      // A number where a string belongs is most often an id typed without
      // quotes (an account id); say how to write it.
      if (typeof input === 'number') {
        return fail(path, `must be ${expected}, in quotes (got the number ${input})`);
      }
      if (typeof input !== 'string') return expectedButGot(path, expected, input);
      if (input.length < minLength) return expectedButGot(path, expected, input);
      if (maxLength !== undefined && input.length > maxLength) {
        return fail(path, `must be at most ${maxLength} characters (got ${input.length})`);
      }
      if (pattern && !pattern.test(input)) return expectedButGot(path, expected, input);
      return { ok: true, value: input };
    },
    toJsonSchema: () =>
      withDescription(
        {
          type: 'string',
          ...(minLength > 0 ? { minLength } : {}),
          ...(maxLength === undefined ? {} : { maxLength }),
          ...(pattern ? { pattern: patternSource(pattern) } : {}),
        },
        description,
      ),
  };
}

export function integer(options: Described & { min?: number; max?: number } = {}): Schema<number> {
  const { min, max, description } = options;
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
    expectedMany: `whole numbers${bounds}`,
    parse(input, path) {
      if (typeof input !== 'number' || !Number.isInteger(input)) {
        return expectedButGot(path, expected, input);
      }
      if ((min !== undefined && input < min) || (max !== undefined && input > max)) {
        return expectedButGot(path, expected, input);
      }
      return { ok: true, value: input };
    },
    toJsonSchema: () =>
      withDescription(
        {
          type: 'integer',
          ...(min === undefined ? {} : { minimum: min }),
          ...(max === undefined ? {} : { maximum: max }),
        },
        description,
      ),
  };
}

export function boolean(options: Described = {}): Schema<boolean> {
  return {
    expected: 'true or false',
    parse(input, path) {
      return typeof input === 'boolean'
        ? { ok: true, value: input }
        : expectedButGot(path, 'true or false', input);
    },
    toJsonSchema: () => withDescription({ type: 'boolean' }, options.description),
  };
}

/** One of a fixed set of strings (written quoted in messages) or numbers. */
export function oneOf<const T extends readonly string[] | readonly number[]>(
  values: T,
  options: Described = {},
): Schema<T[number]> {
  const expected =
    values.length === 1
      ? JSON.stringify(values[0])
      : `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  const allowed: readonly unknown[] = values;
  return {
    expected,
    parse(input, path) {
      return allowed.includes(input)
        ? { ok: true, value: input as T[number] }
        : expectedButGot(path, expected, input);
    },
    toJsonSchema: () =>
      withDescription(
        {
          type: values.every((v) => typeof v === 'string')
            ? 'string'
            : values.every(Number.isInteger)
              ? 'integer'
              : 'number',
          enum: [...values],
        },
        options.description,
      ),
  };
}

/** A value any of `schemas` accepts: `anyOf([integer(), oneOf(['none'])])`. */
export function anyOf<const S extends readonly Schema<unknown>[]>(
  schemas: S,
  options: Described = {},
): Schema<Infer<S[number]>> {
  const expected = schemas.map((schema) => schema.expected).join(' or ');
  return {
    expected,
    parse(input, path) {
      for (const schema of schemas) {
        const result = schema.parse(input, path);
        if (result.ok) return { ok: true, value: result.value as Infer<S[number]> };
      }
      return expectedButGot(path, expected, input);
    },
    toJsonSchema: () =>
      withDescription(
        { anyOf: schemas.map((schema, index) => jsonSchemaOf(schema, `anyOf[${index}]`)) },
        options.description,
      ),
  };
}

export function array<T>(
  item: Schema<T>,
  options: Described & {
    /** Set 1 where an empty list is always a mistake (it would match nothing). */
    minItems?: number;
    maxItems?: number;
    unique?: boolean;
  } = {},
): Schema<readonly T[]> {
  const { minItems = 0, maxItems, unique = false, description } = options;
  const expected = item.expectedMany
    ? `a list of ${item.expectedMany}`
    : `a list, each ${item.expected}`;
  return {
    expected,
    parse(input, path) {
      if (!Array.isArray(input)) return expectedButGot(path, expected, input);
      if (input.length < minItems) {
        return fail(
          path,
          minItems === 1
            ? 'must not be empty'
            : `must hold at least ${minItems} items (got ${input.length})`,
        );
      }
      if (maxItems !== undefined && input.length > maxItems) {
        return fail(path, `must hold at most ${maxItems} items (got ${input.length})`);
      }
      const values: T[] = [];
      const issues: ValidationIssue[] = [];
      input.forEach((element, index) => {
        const result = item.parse(element, childPath(path, index));
        if (result.ok) values.push(result.value);
        else issues.push(...result.issues);
      });
      if (issues.length > 0) return { ok: false, issues };
      if (unique && new Set(values.map((v) => JSON.stringify(v))).size !== values.length) {
        return fail(path, 'must not repeat a value');
      }
      return { ok: true, value: values };
    },
    toJsonSchema: () =>
      withDescription(
        {
          type: 'array',
          items: jsonSchemaOf(item, '[]'),
          ...(minItems > 0 ? { minItems } : {}),
          ...(maxItems === undefined ? {} : { maxItems }),
          ...(unique ? { uniqueItems: true } : {}),
        },
        description,
      ),
  };
}

export function record<T>(
  value: Schema<T>,
  options: Described & {
    key?: Schema<string>;
    /** Set 1 where an empty object is always a mistake. */
    minEntries?: number;
  } = {},
): Schema<Readonly<Record<string, T>>> {
  const { key, minEntries = 0, description } = options;
  const expected = value.expectedMany
    ? `an object whose values are ${value.expectedMany}`
    : `an object whose values are each ${value.expected}`;
  return {
    expected,
    parse(input, path) {
      if (!isRecord(input)) return expectedButGot(path, expected, input);
      if (Object.keys(input).length < minEntries) {
        return fail(
          path,
          minEntries === 1
            ? 'must not be empty'
            : `must hold at least ${minEntries} entries (got ${Object.keys(input).length})`,
        );
      }
      const out: Record<string, T> = {};
      const issues: ValidationIssue[] = [];
      for (const [name, element] of Object.entries(input)) {
        const at = childPath(path, name);
        if (key) {
          const keyResult = key.parse(name, at);
          if (!keyResult.ok) {
            issues.push({ path: at, message: `key must be ${key.expected}` });
            continue;
          }
        }
        const result = value.parse(element, at);
        if (result.ok) out[name] = result.value;
        else issues.push(...result.issues);
      }
      return issues.length > 0 ? { ok: false, issues } : { ok: true, value: out };
    },
    toJsonSchema: () =>
      withDescription(
        {
          type: 'object',
          additionalProperties: jsonSchemaOf(value, '{}'),
          ...(key ? { propertyNames: jsonSchemaOf(key, '{key}') } : {}),
          ...(minEntries > 0 ? { minProperties: minEntries } : {}),
        },
        description,
      ),
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
    ...(schema.expectedMany === undefined ? {} : { expectedMany: schema.expectedMany }),
    parse(input, path) {
      if (input === undefined) return { ok: true, value: fallback };
      return schema.parse(input, path);
    },
    toJsonSchema: () => {
      const json = jsonSchemaOf(schema);
      return fallback === undefined ? json : { ...json, default: fallback };
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
  options: Described & {
    unknownKeys?: 'reject' | 'ignore';
    /**
     * At least one key must be given: for objects whose keys are all
     * optional criteria, where none at all is always a mistake.
     */
    requireSome?: boolean;
  } = {},
): ObjectSchema<InferShape<S>, S> {
  const expected = 'an object';
  const known = Object.keys(shape);
  return {
    shape,
    expected,
    expectedMany: 'objects',
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
        for (const key of Object.keys(input)) {
          if (!known.includes(key)) {
            issues.push({
              path: childPath(path, key),
              message: `is not a known setting (known here: ${known.join(', ') || 'none'})`,
            });
          }
        }
      }
      if (issues.length > 0) return { ok: false, issues };
      // After the unknown-key check: a misspelt key explains itself better.
      if (options.requireSome && !known.some((key) => input[key] !== undefined)) {
        return fail(path, `must name at least one of ${known.join(', ')}`);
      }
      return { ok: true, value: out as InferShape<S> };
    },
    toJsonSchema: () => {
      const entries = Object.entries(shape);
      const required = entries.filter(([, schema]) => !('optional' in schema)).map(([k]) => k);
      const rejectsUnknown = options.unknownKeys !== 'ignore';
      return withDescription(
        {
          type: 'object',
          properties: Object.fromEntries(
            entries.map(([k, schema]) => [k, jsonSchemaOf(schema, k)]),
          ),
          ...(required.length > 0 ? { required } : {}),
          ...(rejectsUnknown ? { additionalProperties: false } : {}),
          // With unknown keys refused, "some key" is "some known key".
          ...(options.requireSome
            ? rejectsUnknown
              ? { minProperties: 1 }
              : { anyOf: known.map((key) => ({ required: [key] })) }
            : {}),
        },
        options.description,
      );
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

/** {@link parseOrThrow} of JSON text: text that is not JSON is an issue at `path` too. */
export function parseJsonOrThrow<T>(
  schema: Schema<T>,
  text: string,
  toError: (issues: readonly ValidationIssue[]) => Error,
  path: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw toError([{ path, message: `is not JSON (${String(error)})` }]);
  }
  return parseOrThrow(schema, value, toError, path);
}
