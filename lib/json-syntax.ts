/**
 * Where a JSON text goes wrong, as line and column. `JSON.parse` names a
 * position for some mistakes only ("Expected ',' or '}' ... at position 13")
 * and none for the ones newcomers make most (a comment, a bare word), so the
 * config loader asks this small scanner instead. It follows RFC 8259 exactly
 * and runs only after `JSON.parse` has failed.
 */

export interface JsonSyntaxProblem {
  /** Offset of the first character that cannot be right, in UTF-16 code units. */
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in characters of that line. */
  readonly column: number;
  readonly message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

function found(text: string, at: number): string {
  if (at >= text.length) return 'the end of the file';
  const char = text[at] ?? '';
  if (char === '\n' || char === '\r') return 'the end of the line';
  return `'${char}'`;
}

function scan(text: string): void {
  let at = 0;

  const skipWhitespace = (): void => {
    while (at < text.length && WHITESPACE.has(text[at] ?? '')) at += 1;
  };
  const stop = (message: string): Stop =>
    text[at] === '/'
      ? new Stop(at, 'JSON allows no comments (use "$comment": "...")')
      : new Stop(at, `${message}, found ${found(text, at)}`);

  const value = (): void => {
    skipWhitespace();
    const char = text[at];
    if (char === '{') {
      object();
      return;
    }
    if (char === '[') {
      array();
      return;
    }
    if (char === '"') {
      string();
      return;
    }
    if (char === "'") throw new Stop(at, 'strings need double quotes ("..."), not \'...\'');
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return;
      }
    }
    NUMBER.lastIndex = at;
    if (char !== undefined && /[-\d]/.test(char) && NUMBER.test(text)) {
      at = NUMBER.lastIndex;
      return;
    }
    throw stop(
      'expected a value (a string in double quotes, a number, true, false, null, {...} or [...])',
    );
  };

  const string = (): void => {
    at += 1;
    for (;;) {
      const char = text[at];
      if (char === undefined) throw new Stop(at, 'a string is not closed (missing ")');
      if (char === '"') {
        at += 1;
        return;
      }
      if (char === '\\') {
        const escaped = text[at + 1];
        if (escaped === 'u') {
          HEX4.lastIndex = at + 2;
          if (!HEX4.test(text)) throw new Stop(at, 'a \\u escape needs four hex digits');
          at += 6;
          continue;
        }
        if (escaped === undefined || !ESCAPES.has(escaped)) {
          throw new Stop(at, 'unknown escape in a string (write a backslash as \\\\)');
        }
        at += 2;
        continue;
      }
      if (char < ' ') throw new Stop(at, 'a string is not closed before the end of the line');
      at += 1;
    }
  };

  const object = (): void => {
    at += 1;
    skipWhitespace();
    if (text[at] === '}') {
      at += 1;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[at] !== '"') {
        if (text[at] === '}') throw new Stop(at, 'JSON allows no comma after the last property');
        throw stop('expected a property name in double quotes');
      }
      string();
      skipWhitespace();
      if (text[at] !== ':') throw stop("expected ':' after the property name");
      at += 1;
      value();
      skipWhitespace();
      if (text[at] === '}') {
        at += 1;
        return;
      }
      if (text[at] !== ',') throw stop("expected ',' or '}' after a property value");
      at += 1;
    }
  };

  const array = (): void => {
    at += 1;
    skipWhitespace();
    if (text[at] === ']') {
      at += 1;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[at] === ']') throw new Stop(at, 'JSON allows no comma after the last item');
      value();
      skipWhitespace();
      if (text[at] === ']') {
        at += 1;
        return;
      }
      if (text[at] !== ',') throw stop("expected ',' or ']' after an item");
      at += 1;
    }
  };

  value();
  skipWhitespace();
  if (at < text.length) throw stop('expected the end of the file after the top-level value');
}

/** Line and column of `offset`; a line ends at \n, \r\n or \r, as editors count. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  try {
    scan(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { offset: error.offset, ...lineAndColumn(text, error.offset), message: error.message };
  }
}
