import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineAndColumn } from '../../lib/json-syntax';

/** JSON's own characters and the mistakes people make with them. */
const jsonish = fc.constantFrom(...'{}[]:,"\\ \n\r\t0123456789-+.eEtrufalsn/\'x'.split(''));

/** Valid JSON with one character slipped in somewhere: mostly invalid, always near-valid. */
const nearlyJson = fc.tuple(fc.json(), fc.nat(), jsonish).map(([json, at, char]) => {
  const cut = at % (json.length + 1);
  return `${json.slice(0, cut)}${char}${json.slice(cut)}`;
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', () => {
  it('finds a problem exactly when JSON.parse fails', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.json(), fc.string({ unit: jsonish, maxLength: 30 }), nearlyJson),
        (text) => {
          expect(findJsonSyntaxError(text) === undefined).toBe(parses(text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['', { line: 1, column: 1, message: 'expected a value' }],
    ['{"a": 1,}', { line: 1, column: 9, message: 'JSON allows no comma after the last property' }],
    ['[1, 2,]', { line: 1, column: 7, message: 'JSON allows no comma after the last item' }],
    ['{"a": "x\n"}', { line: 1, column: 9, message: 'a string is not closed before the end' }],
    ['{"a": "\\q"}', { line: 1, column: 8, message: 'unknown escape in a string' }],
    ['{"a": "\\u12"}', { line: 1, column: 8, message: 'a \\u escape needs four hex digits' }],
    ['{"a" 1}', { line: 1, column: 6, message: "expected ':' after the property name, found '1'" }],
    ['{} {}', { line: 1, column: 4, message: 'expected the end of the file' }],
    ['{\n  "a": 1\n  /* b */\n}', { line: 3, column: 3, message: 'JSON allows no comments' }],
  ])('places the problem in %j', (text, where) => {
    const problem = findJsonSyntaxError(text);

    expect(problem).toMatchObject({ line: where.line, column: where.column });
    expect(problem?.message).toContain(where.message);
  });
});

describe('lineAndColumn', () => {
  it.each([
    ['abc', 2, { line: 1, column: 3 }],
    ['a\nbc', 3, { line: 2, column: 2 }],
    ['a\r\nbc', 4, { line: 2, column: 2 }],
    ['a\rbc', 2, { line: 2, column: 1 }],
    ['a\n\nb', 3, { line: 3, column: 1 }],
  ])('counts lines as editors do in %j at %d', (text, offset, expected) => {
    expect(lineAndColumn(text, offset)).toEqual(expected);
  });
});
