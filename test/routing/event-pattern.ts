/**
 * Test-side implementation of Amazon EventBridge event-pattern matching.
 *
 * Routing tests use it to check that synthesized rule patterns route real Security Hub events, because
 * the TestEventPattern API is not reachable from the test environment. The semantics follow the
 * EventBridge documentation and aws/event-ruler's array-consistent `rulesForJSONEvent`:
 *
 * 1. The pattern is compiled into "sub-rules", one per combination of `$or` alternatives. A sub-rule is
 *    a flat list of leaf conditions, each addressed by the full key path from the event root.
 * 2. The event is flattened into leaf fields (path, scalar value, array membership). Objects and arrays
 *    contribute no field of their own, which is why `exists` only sees leaf values.
 * 3. A sub-rule matches when every leaf condition is met by some field and no two of the chosen fields
 *    come from different elements of the same array (array consistency).
 *
 * Deliberate differences from event-ruler, where its behaviour is an implementation artefact:
 * - `{"exists": false}` inside arrays is judged after all positive conditions have picked their array
 *   elements, so the result does not depend on the alphabetical order of the keys (see `isAbsent`).
 * - Keys are compared segment by segment, so `{"a.b": [...]}` does not match `{"a": {"b": ...}}`.
 * - A CIDR base address with host bits set is masked to its network (event-ruler starts the range at
 *   the literal address), and `/32` and `/128` are accepted.
 * - The same leaf path reached twice in one sub-rule (for example once outside and once inside `$or`)
 *   is rejected instead of letting the later condition silently override the earlier one.
 */

/** Thrown when a pattern would be rejected by EventBridge (or has no defined meaning here). */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

type JsonScalar = string | number | boolean | null;

/** Array id -> element index, for every array of objects an event field sits inside. */
type ArrayMembership = ReadonlyMap<number, number>;

interface EventField {
  readonly value: JsonScalar;
  readonly membership: ArrayMembership;
}

/** Event fields grouped by the key of their path (see `pathKey`). */
type FieldIndex = ReadonlyMap<string, readonly EventField[]>;

type ValuePredicate = (value: JsonScalar) => boolean;

/** One entry of a leaf array: either a test on a present value or `{"exists": false}`. */
type LeafAlternative =
  | { readonly kind: 'value'; readonly test: ValuePredicate }
  | { readonly kind: 'absent' };

interface LeafCondition {
  readonly path: readonly string[];
  readonly key: string;
  readonly valueTests: readonly ValuePredicate[];
  readonly acceptsAbsence: boolean;
}

/** The leaf conditions of one `$or` branch combination; all of them must hold. */
type SubRule = readonly LeafCondition[];

const OR_KEYWORD = '$or';

/** event-ruler refuses these as field names inside `$or`, to catch misplaced operators. */
const RESERVED_NAMES_INSIDE_OR: ReadonlySet<string> = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

const EMPTY_MEMBERSHIP: ArrayMembership = new Map();

/**
 * Whether `event` matches the EventBridge `pattern`.
 *
 * An empty pattern `{}` matches every event. EventBridge itself rejects empty patterns when a rule is
 * created, but "no constraints" is the only sensible reading for a matcher.
 *
 * @throws InvalidEventPatternError when the pattern is not a valid EventBridge pattern.
 * @throws TypeError when the event is not a JSON object.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  const subRules = compilePattern(pattern);
  if (!isJsonObject(event)) {
    throw new TypeError('An event must be a JSON object');
  }
  const fields = flattenEvent(event);
  return subRules.some((subRule) => satisfiesSubRule(subRule, fields));
}

// ---------------------------------------------------------------------------------------------------
// Pattern compilation
// ---------------------------------------------------------------------------------------------------

function compilePattern(pattern: unknown): readonly SubRule[] {
  if (!isJsonObject(pattern)) {
    throw new InvalidEventPatternError('A pattern must be a JSON object');
  }
  if (Object.keys(pattern).length === 0) {
    return [[]];
  }
  return compileObject(pattern, [], false);
}

function compileObject(
  node: Readonly<Record<string, unknown>>,
  path: readonly string[],
  insideOr: boolean,
): SubRule[] {
  const entries = Object.entries(node);
  if (entries.length === 0) {
    throw invalidAt(path, 'Empty objects are not allowed');
  }
  let subRules: SubRule[] = [[]];
  for (const [name, value] of entries) {
    if (name === OR_KEYWORD) {
      subRules = combineSubRules(subRules, compileOr(value, path));
      continue;
    }
    const childPath = [...path, name];
    if (insideOr && RESERVED_NAMES_INSIDE_OR.has(name)) {
      throw invalidAt(childPath, `"${name}" is a reserved name and cannot be a field inside $or`);
    }
    if (isUnknownArray(value)) {
      subRules = combineSubRules(subRules, [[compileLeaf(value, childPath)]]);
    } else if (isJsonObject(value)) {
      subRules = combineSubRules(subRules, compileObject(value, childPath, insideOr));
    } else {
      throw invalidAt(childPath, 'Must be an object or an array');
    }
  }
  return subRules;
}

function compileOr(value: unknown, path: readonly string[]): SubRule[] {
  const orPath = [...path, OR_KEYWORD];
  if (!isUnknownArray(value) || value.length < 2) {
    throw invalidAt(orPath, 'Must be an array of at least 2 objects');
  }
  return value.flatMap((alternative) => {
    if (!isJsonObject(alternative)) {
      throw invalidAt(orPath, 'Only JSON objects are allowed in $or');
    }
    return compileObject(alternative, path, true);
  });
}

/** Cross product: every existing sub-rule must also satisfy one of the additional sub-rules. */
function combineSubRules(current: readonly SubRule[], additional: readonly SubRule[]): SubRule[] {
  return current.flatMap((left) =>
    additional.map((right) => {
      for (const condition of right) {
        if (left.some((existing) => existing.key === condition.key)) {
          throw invalidAt(condition.path, 'The same path cannot be constrained twice in one rule');
        }
      }
      return [...left, ...right];
    }),
  );
}

function compileLeaf(entries: readonly unknown[], path: readonly string[]): LeafCondition {
  if (entries.length === 0) {
    throw invalidAt(path, 'Empty arrays are not allowed');
  }
  const alternatives = entries.map((entry) => compileLeafAlternative(entry, path));
  return {
    path,
    key: pathKey(path),
    valueTests: alternatives.flatMap((alternative) =>
      alternative.kind === 'value' ? [alternative.test] : [],
    ),
    acceptsAbsence: alternatives.some((alternative) => alternative.kind === 'absent'),
  };
}

function compileLeafAlternative(entry: unknown, path: readonly string[]): LeafAlternative {
  if (isJsonScalar(entry)) {
    if (typeof entry === 'number' && !Number.isFinite(entry)) {
      throw invalidAt(path, 'Numbers must be finite');
    }
    return { kind: 'value', test: (value) => isSameScalar(entry, value) };
  }
  if (isJsonObject(entry)) {
    return compileOperator(entry, path);
  }
  throw invalidAt(path, 'Match values must be a string, number, true, false, null or an operator');
}

function compileOperator(
  expression: Readonly<Record<string, unknown>>,
  path: readonly string[],
): LeafAlternative {
  const [operator, operand] = singleEntry(expression, path, 'operator');
  switch (operator) {
    case 'prefix':
      return valueAlternative(onlyStrings(compilePrefix(operand, path)));
    case 'suffix':
      return valueAlternative(onlyStrings(compileSuffix(operand, path)));
    case 'equals-ignore-case':
      return valueAlternative(
        onlyStrings(equalsIgnoringCase(requireString(operand, path, operator))),
      );
    case 'wildcard':
      return valueAlternative(
        onlyStrings(compileWildcard(requireString(operand, path, operator), path)),
      );
    case 'anything-but':
      return valueAlternative(compileAnythingBut(operand, path));
    case 'numeric':
      return valueAlternative(onlyNumbers(compileNumeric(operand, path)));
    case 'cidr':
      return valueAlternative(onlyStrings(compileCidr(operand, path)));
    case 'exists':
      if (typeof operand !== 'boolean') {
        throw invalidAt(path, 'exists must be true or false');
      }
      // Any leaf value, null included, counts as present: event-ruler flattens null like any scalar.
      return operand ? valueAlternative(() => true) : { kind: 'absent' };
    default:
      throw invalidAt(path, `Unrecognized match type "${operator}"`);
  }
}

function valueAlternative(test: ValuePredicate): LeafAlternative {
  return { kind: 'value', test };
}

function compilePrefix(operand: unknown, path: readonly string[]): (text: string) => boolean {
  if (isJsonObject(operand)) {
    const prefix = requireIgnoreCaseModifier(operand, path, 'prefix');
    return (text) => foldCase(text).startsWith(foldCase(prefix));
  }
  const prefix = requireString(operand, path, 'prefix');
  return (text) => text.startsWith(prefix);
}

function compileSuffix(operand: unknown, path: readonly string[]): (text: string) => boolean {
  if (isJsonObject(operand)) {
    const suffix = requireIgnoreCaseModifier(operand, path, 'suffix');
    return (text) => foldCase(text).endsWith(foldCase(suffix));
  }
  const suffix = requireString(operand, path, 'suffix');
  return (text) => text.endsWith(suffix);
}

function requireIgnoreCaseModifier(
  modifier: Readonly<Record<string, unknown>>,
  path: readonly string[],
  operator: string,
): string {
  const [name, operand] = singleEntry(modifier, path, `${operator} modifier`);
  if (name !== 'equals-ignore-case') {
    throw invalidAt(path, `Unsupported ${operator} modifier "${name}"`);
  }
  return requireString(operand, path, `${operator}/equals-ignore-case`);
}

function equalsIgnoringCase(expected: string): (text: string) => boolean {
  const folded = foldCase(expected);
  return (text) => foldCase(text) === folded;
}

/**
 * Per event-ruler, anything-but matches every present leaf value that is not excluded, whatever its
 * type: `{"anything-but": "x"}` matches the number 5, `true` and `null`, and `{"anything-but": 5}`
 * matches the string "5". For an array of scalars in the event, each element is a separate value of
 * the same field, so the condition matches when at least one element is not excluded
 * (`{"anything-but": "a"}` matches `["a", "b"]`). A missing field never matches.
 */
function compileAnythingBut(operand: unknown, path: readonly string[]): ValuePredicate {
  const excluded = compileAnythingButExclusion(operand, path);
  return (value) => !excluded(value);
}

function compileAnythingButExclusion(operand: unknown, path: readonly string[]): ValuePredicate {
  if (typeof operand === 'string' || isFiniteNumber(operand)) {
    return (value) => isSameScalar(operand, value);
  }
  if (isUnknownArray(operand)) {
    const excluded = operand.filter((item) => typeof item === 'string' || isFiniteNumber(item));
    const allStrings = excluded.every((item) => typeof item === 'string');
    const allNumbers = excluded.every((item) => typeof item === 'number');
    if (
      excluded.length === 0 ||
      excluded.length !== operand.length ||
      !(allStrings || allNumbers)
    ) {
      throw invalidAt(
        path,
        'An anything-but list must be non-empty and all strings or all numbers',
      );
    }
    return (value) => excluded.some((item) => isSameScalar(item, value));
  }
  if (isJsonObject(operand)) {
    const [modifier, modifierOperand] = singleEntry(operand, path, 'anything-but modifier');
    const patterns = requireStringOrStringList(modifierOperand, path, `anything-but/${modifier}`);
    const buildTest = anythingButModifier(modifier, path);
    const tests = patterns.map((pattern) => buildTest(pattern));
    return (value) => typeof value === 'string' && tests.some((test) => test(value));
  }
  throw invalidAt(path, 'anything-but must be a string, a number, a list or an operator object');
}

function anythingButModifier(
  modifier: string,
  path: readonly string[],
): (pattern: string) => (text: string) => boolean {
  switch (modifier) {
    case 'prefix':
      return (prefix) => {
        requireNonEmpty(prefix, path, 'anything-but/prefix');
        return (text) => text.startsWith(prefix);
      };
    case 'suffix':
      return (suffix) => {
        requireNonEmpty(suffix, path, 'anything-but/suffix');
        return (text) => text.endsWith(suffix);
      };
    case 'equals-ignore-case':
      return equalsIgnoringCase;
    case 'wildcard':
      return (wildcard) => compileWildcard(wildcard, path);
    default:
      throw invalidAt(path, `Unsupported anything-but modifier "${modifier}"`);
  }
}

/**
 * `*` matches any run of characters (including none); `\*` is a literal star and `\\` a literal
 * backslash. Consecutive stars and any other escape are rejected, as EventBridge does.
 */
function compileWildcard(wildcard: string, path: readonly string[]): (text: string) => boolean {
  let source = '';
  let previousWasStar = false;
  for (let index = 0; index < wildcard.length; index += 1) {
    const character = wildcard.charAt(index);
    if (character === '*') {
      if (previousWasStar) {
        throw invalidAt(path, 'Consecutive wildcard characters are not allowed');
      }
      source += '.*';
      previousWasStar = true;
      continue;
    }
    previousWasStar = false;
    if (character === '\\') {
      const escaped = wildcard.charAt(index + 1);
      if (escaped !== '*' && escaped !== '\\') {
        throw invalidAt(path, 'A backslash may only escape "*" or "\\" in a wildcard');
      }
      source += escapeRegExp(escaped);
      index += 1;
      continue;
    }
    source += escapeRegExp(character);
  }
  // The `s` flag lets `*` run across line breaks, which are ordinary characters in event values.
  const regExp = new RegExp(`^${source}$`, 's');
  return (text) => regExp.test(text);
}

type NumericOperator = '=' | '<' | '<=' | '>' | '>=';

const NUMERIC_COMPARISONS: Readonly<
  Record<NumericOperator, (left: number, right: number) => boolean>
> = {
  '=': (left, right) => left === right,
  '<': (left, right) => left < right,
  '<=': (left, right) => left <= right,
  '>': (left, right) => left > right,
  '>=': (left, right) => left >= right,
};

/**
 * One comparison, or a lower bound (`>`/`>=`) followed by an upper bound (`<`/`<=`) that is strictly
 * greater: the only shapes event-ruler's grammar accepts.
 */
function compileNumeric(operand: unknown, path: readonly string[]): (value: number) => boolean {
  if (!isUnknownArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw invalidAt(
      path,
      'numeric must be [operator, number] or [lower op, number, upper op, number]',
    );
  }
  const [firstOperator, firstBound, secondOperator, secondBound] = operand;
  const first = numericComparison(firstOperator, firstBound, path);
  if (operand.length === 2) {
    return first;
  }
  if (firstOperator !== '>' && firstOperator !== '>=') {
    throw invalidAt(path, 'The first comparison of a numeric range must be ">" or ">="');
  }
  if (secondOperator !== '<' && secondOperator !== '<=') {
    throw invalidAt(path, 'The second comparison of a numeric range must be "<" or "<="');
  }
  const second = numericComparison(secondOperator, secondBound, path);
  if (!isFiniteNumber(firstBound) || !isFiniteNumber(secondBound) || firstBound >= secondBound) {
    throw invalidAt(path, 'The lower bound of a numeric range must be less than the upper bound');
  }
  return (value) => first(value) && second(value);
}

function numericComparison(
  operator: unknown,
  bound: unknown,
  path: readonly string[],
): (value: number) => boolean {
  if (!isNumericOperator(operator)) {
    throw invalidAt(path, `Unrecognized numeric operator ${JSON.stringify(operator)}`);
  }
  if (!isFiniteNumber(bound)) {
    throw invalidAt(path, `The value of ${operator} must be a finite number`);
  }
  const compare = NUMERIC_COMPARISONS[operator];
  return (value) => compare(value, bound);
}

function isNumericOperator(operator: unknown): operator is NumericOperator {
  return typeof operator === 'string' && Object.hasOwn(NUMERIC_COMPARISONS, operator);
}

// ---------------------------------------------------------------------------------------------------
// IP addresses (for cidr)
// ---------------------------------------------------------------------------------------------------

interface IpAddress {
  readonly bits: 32 | 128;
  readonly value: bigint;
}

function compileCidr(operand: unknown, path: readonly string[]): (text: string) => boolean {
  const cidr = requireString(operand, path, 'cidr');
  const [address, prefixLength, ...rest] = cidr.split('/');
  const base = address === undefined ? undefined : parseIpAddress(address);
  if (base === undefined || prefixLength === undefined || rest.length > 0) {
    throw invalidAt(path, `Malformed CIDR "${cidr}"`);
  }
  if (!/^\d{1,3}$/.test(prefixLength) || Number(prefixLength) > base.bits) {
    throw invalidAt(path, `Malformed CIDR prefix length in "${cidr}"`);
  }
  const mask = networkMask(base.bits, Number(prefixLength));
  const network = base.value & mask;
  return (text) => {
    const candidate = parseIpAddress(text);
    return candidate?.bits === base.bits && (candidate.value & mask) === network;
  };
}

function networkMask(bits: 32 | 128, prefixLength: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return (all << BigInt(bits - prefixLength)) & all;
}

function parseIpAddress(text: string): IpAddress | undefined {
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) {
    return { bits: 32, value: ipv4 };
  }
  const ipv6 = parseIpv6(text);
  return ipv6 === undefined ? undefined : { bits: 128, value: ipv6 };
}

function parseIpv4(text: string): bigint | undefined {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1);
  if (octets === undefined || octets.some((octet) => Number(octet) > 255)) {
    return undefined;
  }
  return octets.reduce((accumulated, octet) => (accumulated << 8n) | BigInt(octet), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const withHexTail = replaceEmbeddedIpv4(text);
  if (withHexTail === undefined) {
    return undefined;
  }
  const halves = withHexTail.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const [head = '', tail] = halves;
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const explicitGroups = headGroups.length + tailGroups.length;
  const compressed = tail !== undefined;
  if (compressed ? explicitGroups > 7 : explicitGroups !== 8) {
    return undefined;
  }
  const zeroGroups: string[] = Array.from({ length: 8 - explicitGroups }, () => '0');
  const groups = [...headGroups, ...zeroGroups, ...tailGroups];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) {
    return undefined;
  }
  return groups.reduce((accumulated, group) => (accumulated << 16n) | BigInt(`0x${group}`), 0n);
}

/** Rewrites a dotted IPv4 tail (`::ffff:10.0.0.1`) as two hex groups; undefined when it is invalid. */
function replaceEmbeddedIpv4(text: string): string | undefined {
  if (!text.includes('.')) {
    return text;
  }
  const lastColon = text.lastIndexOf(':');
  const ipv4 = lastColon < 0 ? undefined : parseIpv4(text.slice(lastColon + 1));
  if (ipv4 === undefined) {
    return undefined;
  }
  const high = (ipv4 >> 16n).toString(16);
  const low = (ipv4 & 0xffffn).toString(16);
  return `${text.slice(0, lastColon + 1)}${high}:${low}`;
}

// ---------------------------------------------------------------------------------------------------
// Event flattening and matching
// ---------------------------------------------------------------------------------------------------

function flattenEvent(event: Readonly<Record<string, unknown>>): FieldIndex {
  const index = new Map<string, EventField[]>();
  let nextArrayId = 0;

  const visit = (value: unknown, path: readonly string[], membership: ArrayMembership): void => {
    if (isJsonScalar(value)) {
      const key = pathKey(path);
      const fields = index.get(key) ?? [];
      fields.push({ value, membership });
      index.set(key, fields);
    } else if (isUnknownArray(value)) {
      const arrayId = nextArrayId;
      nextArrayId += 1;
      value.forEach((element, elementIndex) => {
        // Scalars of one array are alternative values of a single field, so like event-ruler only
        // objects and nested arrays record which element they came from.
        const elementMembership = isJsonScalar(element)
          ? membership
          : new Map([...membership, [arrayId, elementIndex]]);
        visit(element, path, elementMembership);
      });
    } else if (isJsonObject(value)) {
      for (const [name, child] of Object.entries(value)) {
        visit(child, [...path, name], membership);
      }
    }
    // Anything else (undefined, functions, ...) is not JSON and disappears, as in JSON.stringify.
  };

  visit(event, [], EMPTY_MEMBERSHIP);
  return index;
}

/**
 * Depth-first search for one field per positive condition such that all chosen fields are array
 * consistent. Conditions that may be met by absence are checked last, against the array elements the
 * positive conditions settled on.
 */
function satisfiesSubRule(subRule: SubRule, fields: FieldIndex): boolean {
  const search = (
    remaining: readonly LeafCondition[],
    membership: ArrayMembership,
    deferredAbsences: readonly LeafCondition[],
  ): boolean => {
    const [condition, ...rest] = remaining;
    if (condition === undefined) {
      return deferredAbsences.every((absent) => isAbsent(absent, fields, membership));
    }
    for (const field of fields.get(condition.key) ?? []) {
      if (!condition.valueTests.some((test) => test(field.value))) {
        continue;
      }
      const combined = combineMemberships(membership, field.membership);
      if (combined !== undefined && search(rest, combined, deferredAbsences)) {
        return true;
      }
    }
    return condition.acceptsAbsence && search(rest, membership, [...deferredAbsences, condition]);
  };
  return search(subRule, EMPTY_MEMBERSHIP, []);
}

/**
 * A field is absent when no leaf value exists at its path in the array elements the rest of the rule
 * matched. Arrays the rule did not pin to an element are searched in full, so
 * `{"findings": {"Note": [{"exists": false}]}}` means "no finding has a Note", as in event-ruler.
 */
function isAbsent(
  condition: LeafCondition,
  fields: FieldIndex,
  membership: ArrayMembership,
): boolean {
  const candidates = fields.get(condition.key) ?? [];
  return candidates.every(
    (field) => combineMemberships(membership, field.membership) === undefined,
  );
}

/** Union of two memberships, or undefined when they sit in different elements of the same array. */
function combineMemberships(
  left: ArrayMembership,
  right: ArrayMembership,
): ArrayMembership | undefined {
  if (right.size === 0) {
    return left;
  }
  const combined = new Map(left);
  for (const [arrayId, elementIndex] of right) {
    const existing = combined.get(arrayId);
    if (existing !== undefined && existing !== elementIndex) {
      return undefined;
    }
    combined.set(arrayId, elementIndex);
  }
  return combined;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

/** A collision-free key for a path; joining with "." would conflate `a.b` with `a` -> `b`. */
function pathKey(path: readonly string[]): string {
  return JSON.stringify(path);
}

function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Array.isArray narrows to any[]; this keeps the elements unknown. */
function isUnknownArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isJsonScalar(value: unknown): value is JsonScalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Type-strict equality; numbers compare numerically, so 300 equals 3.0e2. */
function isSameScalar(expected: JsonScalar, actual: JsonScalar): boolean {
  return expected === actual;
}

function onlyStrings(test: (text: string) => boolean): ValuePredicate {
  return (value) => typeof value === 'string' && test(value);
}

function onlyNumbers(test: (value: number) => boolean): ValuePredicate {
  return (value) => typeof value === 'number' && test(value);
}

function foldCase(text: string): string {
  return text.toLowerCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function singleEntry(
  expression: Readonly<Record<string, unknown>>,
  path: readonly string[],
  what: string,
): [string, unknown] {
  const entries = Object.entries(expression);
  const [entry] = entries;
  if (entry === undefined || entries.length > 1) {
    throw invalidAt(path, `An ${what} object must have exactly one key`);
  }
  return entry;
}

function requireString(operand: unknown, path: readonly string[], operator: string): string {
  if (typeof operand !== 'string') {
    throw invalidAt(path, `The value of ${operator} must be a string`);
  }
  return operand;
}

function requireNonEmpty(text: string, path: readonly string[], operator: string): void {
  if (text === '') {
    throw invalidAt(path, `The value of ${operator} must not be empty`);
  }
}

function requireStringOrStringList(
  operand: unknown,
  path: readonly string[],
  operator: string,
): readonly string[] {
  if (typeof operand === 'string') {
    return [operand];
  }
  if (isUnknownArray(operand) && operand.length > 0) {
    const strings = operand.filter((item) => typeof item === 'string');
    if (strings.length === operand.length) {
      return strings;
    }
  }
  throw invalidAt(path, `The value of ${operator} must be a string or a non-empty list of strings`);
}

function invalidAt(path: readonly string[], message: string): InvalidEventPatternError {
  const location = path.length === 0 ? '(root)' : path.join('.');
  return new InvalidEventPatternError(`Invalid event pattern at ${location}: ${message}`);
}
