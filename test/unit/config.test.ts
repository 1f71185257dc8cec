import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/core/errors';
import { boolean, object, optional } from '../../lambdas/core/schema';
import {
  configPathFromContext,
  DEFAULT_CONFIG_PATH,
  encodeSettings,
  loadConfig,
  parseConfig,
  resolveSettings,
  SETTINGS_ENV_LIMIT,
} from '../../lib/config';
import { CONTROLS, type ControlDefinition, findControl } from '../../lib/controls';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function issuesOf(input: unknown, controls: readonly ControlDefinition[] = CONTROLS): string[] {
  try {
    parseConfig(input, 'test.json', controls);
  } catch (error) {
    if (error instanceof ConfigurationError)
      return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

const ec2_2 = findControl('EC2.2');
if (!ec2_2) throw new Error('EC2.2 is not registered');

/** A notify-only control, to test the rules that apply to such controls. */
const notifyOnly: ControlDefinition = {
  meta: {
    id: 'EC2.24',
    title: 'paravirtual',
    notifyOnly: true,
    params: object({ verbose: optional(boolean(), false) }),
  },
  defaultMode: 'notify',
  disruptive: false,
  permissions: [],
};

describe('parseConfig', () => {
  it('fills in every default from an empty file', () => {
    const config = parseConfig({}, 'test.json');

    expect(config).toEqual({
      notifications: { emails: [], kmsKey: { kind: 'none' } },
      alarms: { throttles: 'account' },
      dashboard: { enabled: true, name: undefined },
      tags: {
        optOut: { key: 'hubfix:auto-remediate', values: ['false', 'off'] },
        suppress: { key: 'hubfix:suppress' },
      },
      defaults: { mode: undefined, dryRun: false },
      allowList: [],
      controls: {},
      customActions: { overrideAllowList: false },
      functions: {
        reservedConcurrency: 2,
        logRetentionDays: 30,
        logRemovalPolicy: 'retain',
        memorySize: 256,
        tracing: 'pass-through',
      },
      ledger: { retentionDays: 365 },
      reconcile: { enabled: true, schedule: 'rate(6 hours)', graceHours: 24, maxAttempts: 1 },
    });
  });

  it.each([
    ['none', { kind: 'none' }],
    ['managed-by-hubfix', { kind: 'managed-by-hubfix' }],
    [
      'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      {
        kind: 'key',
        keyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ],
    [
      'arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      {
        kind: 'key',
        keyArn: 'arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      },
    ],
  ])('reads notifications.kmsKey %s', (kmsKey, encryption) => {
    expect(parseConfig({ notifications: { kmsKey } }, 'test.json').notifications.kmsKey).toEqual(
      encryption,
    );
  });

  it('accepts the shipped remediation.config.json', () => {
    expect(() => loadConfig(path.join(ROOT, 'remediation.config.json'))).not.toThrow();
  });

  it.each([
    [
      { defaults: { mode: 'fix' } },
      'defaults.mode: expected one of "off", "notify", "remediate", got "fix"',
    ],
    [
      { controls: { 'EC2.2': { mode: 'auto' } } },
      'controls["EC2.2"].mode: expected one of "off", "notify", "remediate", got "auto"',
    ],
    [
      { controls: { 'EC2.2': { strategy: 'delete-all' } } },
      'controls["EC2.2"].strategy: expected one of "empty-if-unused", "migrate", got "delete-all"',
    ],
    [
      { controls: { 'EC2.2': { mdoe: 'notify' } } },
      'controls["EC2.2"].mdoe: is not a known setting (known here: mode, dryRun, strategy, migrate)',
    ],
    [
      { controls: { 'EC9.99': {} } },
      `controls["EC9.99"]: is not a control hubfix knows (known: ${CONTROLS.map((c) => c.meta.id).join(', ')})`,
    ],
    [
      { notifications: { emails: ['ops-at-example.com'] } },
      'notifications.emails[0]: expected an email address, got "ops-at-example.com"',
    ],
    [
      { notifications: { kmsKey: 'alias/aws/sns' } },
      'notifications.kmsKey: expected one of "none", "managed-by-hubfix" or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "alias/aws/sns"',
    ],
    [
      { alarms: { throttles: 'functions' } },
      'alarms.throttles: expected one of "account", "off", got "functions"',
    ],
    [
      { dashboard: { name: 'hubfix dashboard' } },
      'dashboard.name: expected a dashboard name (1-255 letters, digits, "-" or "_"), got "hubfix dashboard"',
    ],
    [{ tags: { optOut: { key: '' } } }, 'tags.optOut.key: expected a non-empty string, got ""'],
    [
      { allowList: [{ accountIds: ['123'] }] },
      'allowList[0].accountIds[0]: expected a string of 12 digits (an AWS account id), got "123"',
    ],
    [
      { allowList: [{ tag: { environment: ['dev'] } }] },
      'allowList[0].tag: is not a known setting (known here: tags, resourceIds, accountIds)',
    ],
    [
      { functions: { logRetentionDays: 10 } },
      'functions.logRetentionDays: expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, got 10',
    ],
    [
      { functions: { reservedConcurrency: 0 } },
      'functions.reservedConcurrency: expected a whole number from 1 to 1000 or "none", got 0',
    ],
    [
      { functions: { logRemovalPolicy: 'delete' } },
      'functions.logRemovalPolicy: expected one of "retain", "destroy", got "delete"',
    ],
    [
      { functions: { tracing: 'on' } },
      'functions.tracing: expected one of "pass-through", "active", got "on"',
    ],
    [
      { dryrun: true },
      'dryrun: is not a known setting (known here: $schema, $comment, notifications, alarms, dashboard, tags, defaults, allowList, customActions, controls, functions, ledger, reconcile, organization)',
    ],
    [
      { reconcile: { schedule: 'every 6 hours' } },
      'reconcile.schedule: expected a schedule such as "rate(6 hours)" or "cron(0 */6 * * ? *)", got "every 6 hours"',
    ],
    [
      { reconcile: { schedule: 'rate(1 hours)' } },
      'reconcile.schedule: expected a schedule such as "rate(6 hours)" or "cron(0 */6 * * ? *)", got "rate(1 hours)"',
    ],
    [
      { reconcile: { graceHours: 0 } },
      'reconcile.graceHours: expected a whole number from 1 to 720, got 0',
    ],
    [
      { reconcile: { maxAttempts: 11 } },
      'reconcile.maxAttempts: expected a whole number from 0 to 10, got 11',
    ],
    [{ reconcile: { enabled: 'yes' } }, 'reconcile.enabled: expected true or false, got "yes"'],
    [[], '(root): expected an object, got a list'],
    // An allow-list entry, or a criterion, that names nothing is always a mistake.
    [{ allowList: [{}] }, 'allowList[0]: must name at least one of tags, resourceIds, accountIds'],
    [{ allowList: [{ tags: {} }] }, 'allowList[0].tags: must not be empty'],
    [{ allowList: [{ resourceIds: [] }] }, 'allowList[0].resourceIds: must not be empty'],
    [{ allowList: [{ accountIds: [] }] }, 'allowList[0].accountIds: must not be empty'],
    [
      { allowList: [{ accountIds: [123456789012] }] },
      'allowList[0].accountIds[0]: must be a string of 12 digits (an AWS account id), in quotes (got the number 123456789012)',
    ],
    // Lists are described in plain words.
    [
      { tags: { optOut: { key: 'k', values: 'false' } } },
      'tags.optOut.values: expected a list of strings, got "false"',
    ],
    [
      { notifications: { emails: 'ops@example.com' } },
      'notifications.emails: expected a list of email addresses, got "ops@example.com"',
    ],
    [
      { allowList: [{ accountIds: '111111111111' }] },
      'allowList[0].accountIds: expected a list of strings of 12 digits (AWS account ids), got "111111111111"',
    ],
    [{ allowList: {} }, 'allowList: expected a list of objects, got an object'],
    [
      { customActions: { overrideAllowList: 'yes' } },
      'customActions.overrideAllowList: expected true or false, got "yes"',
    ],
  ])('names the bad path and why: %j', (input, issue) => {
    expect(issuesOf(input)).toEqual([issue]);
  });

  it.each(['rate(1 minute)', 'rate(6 hours)', 'rate(2 days)', 'cron(0 */6 * * ? *)'])(
    'takes the schedule %s',
    (schedule) => {
      expect(parseConfig({ reconcile: { schedule } }, 't').reconcile.schedule).toBe(schedule);
    },
  );

  it('reports every problem at once', () => {
    expect(issuesOf({ defaults: { mode: 'x', dryRun: 'yes' }, allowList: 'all' })).toHaveLength(3);
  });

  it('refuses remediate mode for a control that has no automatic fix', () => {
    expect(issuesOf({ controls: { 'EC2.24': { mode: 'remediate' } } }, [notifyOnly])).toEqual([
      'controls["EC2.24"].mode: EC2.24 has no automatic fix; use "notify" or "off"',
    ]);
  });
});

describe('resolveSettings', () => {
  it("takes the control's own mode, then defaults.mode, then the registry default", () => {
    const own = parseConfig(
      { defaults: { mode: 'notify' }, controls: { 'EC2.2': { mode: 'off' } } },
      't',
    );
    const fromDefaults = parseConfig({ defaults: { mode: 'notify' } }, 't');
    const fromRegistry = parseConfig({}, 't');

    expect(resolveSettings(own, ec2_2).mode).toBe('off');
    expect(resolveSettings(fromDefaults, ec2_2).mode).toBe('notify');
    expect(resolveSettings(fromRegistry, ec2_2).mode).toBe(ec2_2.defaultMode);
  });

  it('never lets a notify-only control remediate, whatever the defaults say', () => {
    const config = parseConfig({ defaults: { mode: 'remediate' } }, 't', [notifyOnly]);

    expect(resolveSettings(config, notifyOnly)).toMatchObject({ mode: 'notify', notifyOnly: true });
  });

  it("carries tags, allow-list, dry run and the control's params with their defaults", () => {
    const config = parseConfig(
      { defaults: { dryRun: true }, allowList: [{ tags: { environment: ['dev'] } }] },
      't',
    );

    expect(resolveSettings(config, ec2_2)).toEqual({
      controlId: 'EC2.2',
      mode: 'remediate',
      dryRun: true,
      notifyOnly: false,
      tags: config.tags,
      allowList: [{ tags: { environment: ['dev'] } }],
      overrideAllowList: false,
      maxDriftFixes: 1,
      params: { strategy: 'empty-if-unused', migrate: { maxInterfaces: 25 } },
    });
  });

  it('re-fixes drift as often as reconcile.maxAttempts says', () => {
    const config = parseConfig({ reconcile: { maxAttempts: 0 } }, 't');

    expect(resolveSettings(config, ec2_2).maxDriftFixes).toBe(0);
  });

  it('lets a "Remediate" custom action override the allow-list only when the config says so', () => {
    const byDefault = parseConfig({}, 't');
    const overriding = parseConfig({ customActions: { overrideAllowList: true } }, 't');

    expect(resolveSettings(byDefault, ec2_2).overrideAllowList).toBe(false);
    expect(resolveSettings(overriding, ec2_2).overrideAllowList).toBe(true);
  });
});

describe('functions', () => {
  it('reserves no concurrency with "none", for accounts whose quota cannot spare it', () => {
    const config = parseConfig({ functions: { reservedConcurrency: 'none' } }, 't');

    expect(config.functions.reservedConcurrency).toBe('none');
  });

  it('keeps log groups on stack deletion unless told to destroy them', () => {
    expect(parseConfig({}, 't').functions.logRemovalPolicy).toBe('retain');
    expect(
      parseConfig({ functions: { logRemovalPolicy: 'destroy' } }, 't').functions.logRemovalPolicy,
    ).toBe('destroy');
  });

  it('traces only what a traced caller sends unless told to let Lambda sample', () => {
    expect(parseConfig({}, 't').functions.tracing).toBe('pass-through');
    expect(parseConfig({ functions: { tracing: 'active' } }, 't').functions.tracing).toBe('active');
  });
});

describe('encodeSettings', () => {
  it('refuses settings too large for a Lambda environment variable', () => {
    const resourceIds = Array.from({ length: 200 }, (_, i) => `sg-${String(i).padStart(17, '0')}`);
    const config = parseConfig({ allowList: [{ resourceIds }] }, 't');

    expect(() => encodeSettings(resolveSettings(config, ec2_2))).toThrow(
      new RegExp(
        `allowList: the settings for EC2.2 are \\d+ bytes; Lambda environment variables allow about ${SETTINGS_ENV_LIMIT}`,
      ),
    );
  });
});

describe('configPathFromContext', () => {
  it('uses the default file when -c config is not given', () => {
    expect(configPathFromContext(undefined)).toBe(DEFAULT_CONFIG_PATH);
  });

  it('takes the path -c config names', () => {
    expect(configPathFromContext('configs/prod.json')).toBe('configs/prod.json');
  });

  it.each([[''], ['  '], [42]])('says a path is required when -c config=%j', (value) => {
    expect(() => configPathFromContext(value)).toThrow(
      '-c config= names no file:\n  - (option): a path is required, e.g. -c config=remediation.config.json',
    );
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hubfix-config-'));

  function fileWith(name: string, text: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it('says "not found" with the full path when the file is missing', () => {
    const file = path.join(dir, 'missing.json');

    expect(() => loadConfig(file)).toThrow(
      `${file} cannot be read:\n  - (file): not found: ${file} (choose another file with -c config=path/to/file.json)`,
    );
  });

  it('says when the path is a folder', () => {
    expect(() => loadConfig(dir)).toThrow(`(file): ${dir} is a folder, not a file`);
  });

  it.each([
    ['a file cut short', '{ "defaults": ', 'line 1, column 15: expected a value'],
    [
      'a missing comma',
      '{\n  "defaults": {}\n  "allowList": []\n}',
      "line 3, column 3: expected ',' or '}' after a property value, found '\"'",
    ],
    [
      'a trailing comma',
      '{\n  "allowList": [],\n}\n',
      'line 3, column 1: JSON allows no comma after the last property',
    ],
    [
      'a comment',
      '{\n  // notify first\n  "defaults": { "mode": "notify" }\n}',
      'line 2, column 3: JSON allows no comments (use "$comment": "...")',
    ],
    [
      'a bare word',
      '{ "defaults": { "dryRun": yes } }',
      "line 1, column 27: expected a value (a string in double quotes, a number, true, false, null, {...} or [...]), found 'y'",
    ],
    [
      'single quotes, with Windows line ends',
      "{\r\n  'defaults': {}\r\n}",
      'line 2, column 3: expected a property name in double quotes, found',
    ],
  ])('names the line and column of %s', (_name, text, issue) => {
    const file = fileWith('broken.json', text);

    expect(() => loadConfig(file)).toThrow(`${file} is not valid JSON:\n  - ${issue}`);
  });

  it('reads a file that starts with a byte order mark', () => {
    const file = fileWith('bom.json', '\uFEFF{ "defaults": { "dryRun": true } }');

    expect(loadConfig(file).defaults.dryRun).toBe(true);
  });

  it('fails the synth with the path that is wrong and why', async () => {
    // Prepare
    const file = fileWith('bad.json', JSON.stringify({ controls: { 'EC2.2': { mode: 'fix' } } }));

    // Act
    const run = synth({ config: file });

    // Assess
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        `hubfix: ${file} is invalid:\n  - controls["EC2.2"].mode: expected one of "off", "notify", "remediate", got "fix"`,
      ),
    });
  });

  it('fails the synth saying a path is required for an empty -c config=', async () => {
    await expect(synth({ config: '' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('hubfix: -c config= names no file'),
    });
  });
});

/** Runs bin/app.ts as `cdk synth -c ...` does: the CLI hands the context over in CDK_CONTEXT_JSON. */
function synth(context: Record<string, string>) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context) },
  });
}
