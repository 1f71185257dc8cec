/**
 * remediation.config.schema.json is what editors check the config with. It is
 * generated from the loader's own schema; these tests keep the committed file
 * in step with the code and check, with a real JSON Schema validator, that an
 * editor and `cdk synth` accept and refuse the same files.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, SchemaExportError } from '../../lambdas/core/errors';
import { jsonSchemaOf, object, type Schema } from '../../lambdas/core/schema';
import { CONFIG_SCHEMA_FILE, parseConfig } from '../../lib/config';
import { CONFIG_SCHEMA_PATH, PROJECT_ROOT, renderConfigSchema } from '../../lib/config-schema';
import { CONTROLS } from '../../lib/controls';

const committed = readFileSync(CONFIG_SCHEMA_PATH, 'utf8');
const ajv = new Ajv({ strict: true, allErrors: true });
const validate = ajv.compile(JSON.parse(committed));

function editorAccepts(config: unknown): boolean {
  return validate(config) === true;
}

function loaderAccepts(config: unknown): boolean {
  try {
    parseConfig(config, 'test.json');
    return true;
  } catch (error) {
    if (error instanceof ConfigurationError) return false;
    throw error;
  }
}

/** Each control with every one of its settings at its default. */
const everyControlAtDefaults = Object.fromEntries(
  CONTROLS.map((control) => {
    const params = control.meta.params.parse({}, control.meta.id);
    if (!params.ok) throw new Error(`${control.meta.id} has no defaults`);
    const mode = control.meta.notifyOnly ? 'notify' : 'remediate';
    return [control.meta.id, { mode, dryRun: true, ...(params.value as object) }];
  }),
);

const VALID: readonly unknown[] = [
  {},
  { controls: everyControlAtDefaults },
  {
    $schema: `./${CONFIG_SCHEMA_FILE}`,
    $comment: 'everything set',
    notifications: { emails: ['secops@example.com'] },
    tags: { optOut: { key: 'owner:auto-fix', values: [] }, suppress: { key: 'owner:suppress' } },
    defaults: { mode: 'notify', dryRun: true },
    allowList: [
      { tags: { environment: ['dev', 'staging'], team: [] } },
      { resourceIds: ['sg-0123456789abcdef0'], accountIds: ['012345678901'] },
    ],
    customActions: { overrideAllowList: true },
    controls: { 'EC2.18': { authorizedTcpPorts: [443, '8000-8100'], authorizedUdpPorts: [53] } },
    functions: {
      reservedConcurrency: 'none',
      logRetentionDays: 3653,
      logRemovalPolicy: 'destroy',
      memorySize: 512,
      tracing: 'active',
    },
    ledger: { retentionDays: 3650 },
  },
];

const INVALID: readonly unknown[] = [
  [],
  { dryrun: true },
  { defaults: { mode: 'fix' } },
  { defaults: { dryRun: 'yes' } },
  { notifications: { emails: ['ops-at-example.com'] } },
  { notifications: { emails: ['ops@example.com', 'ops@example.com'] } },
  { notifications: { emails: 'ops@example.com' } },
  { tags: { optOut: { key: '' } } },
  { tags: { optOut: { values: ['false'] } } },
  { tags: { suppress: { key: 'k'.repeat(129) } } },
  { allowList: {} },
  { allowList: [{}] },
  { allowList: [{ tag: { environment: ['dev'] } }] },
  { allowList: [{ tags: {} }] },
  { allowList: [{ tags: { environment: [1] } }] },
  { allowList: [{ tags: { '': ['x'] } }] },
  { allowList: [{ resourceIds: [] }] },
  { allowList: [{ resourceIds: [''] }] },
  { allowList: [{ accountIds: [] }] },
  { allowList: [{ accountIds: ['123'] }] },
  { allowList: [{ accountIds: [123456789012] }] },
  { customActions: { overrideAllowList: 'yes' } },
  { customActions: { override: true } },
  { controls: { 'EC9.99': {} } },
  { controls: { 'EC2.2': { mdoe: 'notify' } } },
  { controls: { 'EC2.2': { mode: 'auto' } } },
  { controls: { 'EC2.24': { mode: 'remediate' } } },
  { controls: { 'EC2.1': { blockPublicAccess: 'on' } } },
  { controls: { 'EC2.6': { trafficType: 'ACCEPT' } } },
  { controls: { 'EC2.6': { logRetentionDays: 366 } } },
  { controls: { 'EC2.8': { imdsv1UsageWindowDays: 456 } } },
  { controls: { 'EC2.18': { authorizedTcpPorts: ['dns'] } } },
  { controls: { 'EC2.18': { authorizedTcpPorts: [70000] } } },
  { controls: { 'EC2.18': { authorizedTcpPorts: ['1024-70000'] } } },
  { controls: { 'ECS.16': { stabilityTimeoutSeconds: 30 } } },
  { functions: { reservedConcurrency: 0 } },
  { functions: { reservedConcurrency: 'all' } },
  { functions: { reservedConcurrency: 2.5 } },
  { functions: { logRetentionDays: 10 } },
  { functions: { logRemovalPolicy: 'delete' } },
  { functions: { memorySize: 64 } },
  { functions: { tracing: 'Active' } },
  { functions: { tracing: true } },
  { ledger: { retentionDays: 0 } },
];

/** A copy of `value` with `replacement` at `at`, making the objects on the way. */
function withValueAt(value: unknown, at: readonly string[], replacement: unknown): unknown {
  const [key, ...rest] = at;
  if (key === undefined) return replacement;
  const record =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return { ...record, [key]: withValueAt(record[key], rest, replacement) };
}

describe(CONFIG_SCHEMA_FILE, () => {
  it('is committed exactly as `npm run schema` writes it from the loader', () => {
    // On failure: run `npm run schema` and commit the file.
    expect(committed).toBe(renderConfigSchema());
  });

  it('is named by the shipped config, so editors check it', () => {
    const shipped = JSON.parse(
      readFileSync(path.join(PROJECT_ROOT, 'remediation.config.json'), 'utf8'),
    ) as { $schema?: string };

    expect(shipped.$schema).toBe(`./${CONFIG_SCHEMA_FILE}`);
    expect(editorAccepts(shipped)).toBe(true);
    expect(loaderAccepts(shipped)).toBe(true);
  });

  it('is a draft-07 schema Ajv compiles in strict mode', () => {
    expect(ajv.validateSchema(JSON.parse(committed))).toBe(true);
  });

  it.each(VALID.map((config) => [config]))('accepts %j, as the loader does', (config) => {
    expect(loaderAccepts(config)).toBe(true);
    expect(editorAccepts(config)).toBe(true);
  });

  it.each(INVALID.map((config) => [config]))('refuses %j, as the loader does', (config) => {
    expect(loaderAccepts(config)).toBe(false);
    expect(editorAccepts(config)).toBe(false);
  });

  it('agrees with the loader on varied configs, and on each with one mistake put in', () => {
    const some = (...values: unknown[]) => fc.constantFrom(...values);
    const validConfig = fc.record(
      {
        notifications: fc.record({ emails: some([], ['secops@example.com']) }),
        tags: fc.record({ optOut: fc.record({ key: some('k'), values: some([], ['no']) }) }),
        defaults: fc.record(
          { mode: some('off', 'notify', 'remediate'), dryRun: fc.boolean() },
          { requiredKeys: [] },
        ),
        allowList: some(
          [],
          [{ tags: { environment: ['dev'] } }],
          [{ accountIds: ['111111111111'] }, { resourceIds: ['sg-1'], tags: { team: [] } }],
        ),
        customActions: fc.record({ overrideAllowList: fc.boolean() }),
        controls: fc.record(
          {
            'EC2.2': fc.record({
              mode: some('off', 'remediate'),
              strategy: some('empty-if-unused'),
            }),
            'EC2.8': fc.record({ imdsv1UsageWindowDays: some(1, 455) }, { requiredKeys: [] }),
            'EC2.18': fc.record({ authorizedTcpPorts: some([], [80, '1024-2048']) }),
            'EC2.24': fc.record({ mode: some('off', 'notify'), dryRun: fc.boolean() }),
          },
          { requiredKeys: [] },
        ),
        functions: fc.record(
          {
            reservedConcurrency: some(1, 1000, 'none'),
            logRetentionDays: some(30, 3653),
            logRemovalPolicy: some('retain', 'destroy'),
            memorySize: some(128, 10240),
            tracing: some('pass-through', 'active'),
          },
          { requiredKeys: [] },
        ),
        ledger: fc.record({ retentionDays: some(1, 3650) }),
      },
      { requiredKeys: [] },
    );
    const mistakes: readonly (readonly [readonly string[], unknown])[] = [
      [['extra'], 1],
      [
        ['notifications', 'emails'],
        ['secops@example.com', 'secops@example.com'],
      ],
      [['notifications', 'emails'], ['secops']],
      [['tags', 'optOut', 'key'], ''],
      [['tags', 'optOut', 'values'], 'no'],
      [['defaults', 'mode'], 'fix'],
      [['defaults', 'dryRun'], 1],
      [['allowList'], [{}]],
      [['allowList'], [{ tags: {} }]],
      [['allowList'], [{ accountIds: [111111111111] }]],
      [['allowList'], [{ resourceIds: [] }]],
      [['allowList'], 'all'],
      [['customActions', 'overrideAllowList'], 'true'],
      [['controls', 'EC9.9'], {}],
      [['controls', 'EC2.24', 'mode'], 'remediate'],
      [['controls', 'EC2.2', 'strategy'], 'empty'],
      [['controls', 'EC2.8', 'imdsv1UsageWindowDays'], 0],
      [['controls', 'EC2.18', 'authorizedTcpPorts'], [65536]],
      [['controls', 'EC2.18', 'verbose'], true],
      [['functions', 'reservedConcurrency'], 1001],
      [['functions', 'reservedConcurrency'], 'None'],
      [['functions', 'logRetentionDays'], 31],
      [['functions', 'logRemovalPolicy'], 'keep'],
      [['ledger', 'retentionDays'], 3651],
    ];

    fc.assert(
      fc.property(validConfig, fc.constantFrom(...mistakes), (config, [at, wrong]) => {
        expect(loaderAccepts(config)).toBe(true);
        expect(editorAccepts(config)).toBe(true);

        const broken = withValueAt(config, at, wrong);
        expect(loaderAccepts(broken)).toBe(false);
        expect(editorAccepts(broken)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('is looser than the loader in one way only: a port range must run low to high', () => {
    const reversed = { controls: { 'EC2.18': { authorizedTcpPorts: ['2048-1024'] } } };

    expect(editorAccepts(reversed)).toBe(true);
    expect(loaderAccepts(reversed)).toBe(false);
  });
});

describe('jsonSchemaOf', () => {
  it('refuses a schema that cannot describe itself rather than allowing anything', () => {
    const handWritten: Schema<unknown> = {
      expected: 'anything',
      parse: (value) => ({ ok: true, value }),
    };

    expect(() => jsonSchemaOf(object({ loose: handWritten }))).toThrow(SchemaExportError);
  });
});
