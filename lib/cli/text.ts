/**
 * Text the CLI prints from the ledger is untrusted: whoever can write the
 * ledger could hide a call, fake a prompt or reorder a line on the operator's
 * terminal with escape sequences or bidirectional overrides. Every line the
 * CLI prints goes through {@link escapeTerminal}.
 */

/**
 * C0 and C1 controls, DEL, format characters (bidi embeddings, overrides and
 * isolates U+202A–U+202E and U+2066–U+2069, marks, zero-width characters,
 * BOM...), line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

function visible(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every unsafe character shown as an escape (`\x1b`, `\u202e`). */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, visible);
}

export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function shortResource(resource: string): string {
  return resource.split(/[/:]/).at(-1) ?? resource;
}

/** Rows as columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

/**
 * A value as one line of JSON that is safe on a terminal: JSON.stringify
 * escapes C0 controls but leaves DEL, C1, format characters and line
 * separators raw; they become \u escapes, which any JSON reader reads back.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (character) =>
    Array.from(
      { length: character.length },
      (_, i) => `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}
