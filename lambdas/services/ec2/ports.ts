/**
 * Port numbers and ranges as people write them ("443", 443, "1024-2048"),
 * shared by the config schema (synth time, so no SDK here) and the
 * open-ingress controls that compare them with security group rules.
 */
import type { Schema } from '../../core/schema';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** A port as remediation.config.json or a finding's parameters give it. */
export type PortSpec = number | string;

export const ALL_PORTS: PortRange = { from: 0, to: 65535 };

const SPEC = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/;

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 65535;
}

/** The range a spec names, or undefined when it is not a port, a port range or in 0–65535. */
export function parsePortSpec(spec: PortSpec): PortRange | undefined {
  if (typeof spec === 'number') return isPort(spec) ? { from: spec, to: spec } : undefined;
  const match = SPEC.exec(spec);
  if (!match?.[1]) return undefined;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  return isPort(from) && isPort(to) && from <= to ? { from, to } : undefined;
}

/**
 * Accepts a port number or a "from-to" string, and keeps it as written: the
 * resolved settings travel to the function as JSON and are parsed again there,
 * so the schema must accept its own output.
 */
const PORT_SPEC_EXPECTED = 'a port number (0-65535) or a range such as "1024-2048"';

/** 0 to 65535, leading zeros allowed as parsePortSpec allows them, in regex. */
const PORT_REGEX = '(?:\\d{1,4}|[0-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';

export const portSpecSchema: Schema<PortSpec> = {
  expected: PORT_SPEC_EXPECTED,
  expectedMany: 'port numbers (0-65535) or ranges such as "1024-2048"',
  // JSON Schema cannot say that a range's ends are in order ("2048-1024");
  // the loader can, so an editor accepts a little more than synth.
  toJsonSchema: () => ({
    anyOf: [
      { type: 'integer', minimum: 0, maximum: 65535 },
      { type: 'string', pattern: `^\\s*${PORT_REGEX}\\s*(?:-\\s*${PORT_REGEX}\\s*)?$` },
    ],
  }),
  parse(input, path) {
    if ((typeof input === 'number' || typeof input === 'string') && parsePortSpec(input)) {
      return { ok: true, value: input };
    }
    return {
      ok: false,
      issues: [
        {
          path: path === '' ? '(root)' : path,
          message: `expected ${PORT_SPEC_EXPECTED}, got ${JSON.stringify(input) ?? 'nothing'}`,
        },
      ],
    };
  },
};

/** The lowest port of `range` that none of `allowed` covers, if any. */
export function firstUncovered(
  range: PortRange,
  allowed: readonly PortRange[],
): number | undefined {
  let next = range.from;
  const sorted = [...allowed].sort((a, b) => a.from - b.from);
  for (const span of sorted) {
    if (span.from > next) break;
    if (span.to >= next) next = span.to + 1;
    if (next > range.to) return undefined;
  }
  return next <= range.to ? next : undefined;
}

/** The ports of `candidates` that fall inside `range`. */
export function portsWithin(range: PortRange, candidates: readonly number[]): number[] {
  return candidates.filter((port) => port >= range.from && port <= range.to);
}

export function formatRange(range: PortRange): string {
  return range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`;
}

export function formatRanges(ranges: readonly PortRange[]): string {
  return ranges.length === 0 ? 'none' : ranges.map(formatRange).join(', ');
}
