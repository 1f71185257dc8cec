import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LedgerLocationError } from '../../../lambdas/core/errors';
import { loadControl } from '../../../lib/cli/aws';
import { COMMANDS } from '../../../lib/cli/commands/index';
import { explainError } from '../../../lib/cli/explain';
import { main } from '../../../lib/cli/main';
import { resolveRegion, sharedConfigRegion } from '../../../lib/cli/region';
import { serviceError } from '../../support/aws';
import { fakeCli } from '../../support/cli';

describe('help', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])(
    '%j prints every command and the region precedence, asking AWS nothing',
    async (argv) => {
      const t = fakeCli({ env: {} });

      expect(await main(argv, t.deps)).toBe(0);
      expect(t.out[0]).toBe('usage: npx hubfix <command> [options]');
      for (const command of COMMANDS) {
        expect(t.out.some((line) => line.startsWith(`  ${command.name} `))).toBe(true);
      }
      expect(t.out.join('\n')).toContain('AWS_DEFAULT_REGION, then your profile');
      expect(t.calls).toEqual([]);
    },
  );

  it.each(COMMANDS.map((c) => c.name))(
    '"%s" has its own help, however it is asked',
    async (name) => {
      for (const argv of [
        ['help', name],
        [name, '--help'],
        [name, '-h'],
        ['-h', name],
      ]) {
        const t = fakeCli({ env: {} });

        expect(await main(argv, t.deps)).toBe(0);
        expect(t.out[0]).toMatch(new RegExp(`^usage: npx hubfix ${name}\\b`));
        expect(t.out).toContain('options for every command:');
        expect(t.calls).toEqual([]);
      }
    },
  );

  it('answers help even on a line with a bad option', async () => {
    const t = fakeCli();

    expect(await main(['rollback', '--colour', '-h'], t.deps)).toBe(0);
    expect(t.out[0]).toBe(
      'usage: npx hubfix rollback <change-id> [--yes] [--force] [--role-name <name>]',
    );
  });

  it('says when help is asked about no such command', async () => {
    const t = fakeCli();

    expect(await main(['help', 'frob'], t.deps)).toBe(2);
    expect(t.err).toEqual(['hubfix: no command "frob"', 'see: npx hubfix --help']);
  });
});

describe('bad usage is caught before any region or AWS call', () => {
  it.each([
    [
      ['frobnicate'],
      'unknown command "frobnicate"; the commands are history, show, rollback, report',
    ],
    [['rollback'], 'rollback needs a change id'],
    [['show', 'a', 'b'], 'unexpected argument(s): b'],
    [['history', '--limit', 'lots'], '--limit must be a whole number'],
    [['history', '--colour'], "Unknown option '--colour'"],
    [['report', '--since', 'last tuesday'], '--since takes a duration like 30d'],
    [['report', '--format', 'pdf'], '--format must be html or md'],
  ])('%j', async (argv, message) => {
    const t = fakeCli({ env: {} });

    expect(await main(argv, t.deps)).toBe(2);
    expect(t.err[0]).toContain(message);
    expect(t.calls).toEqual([]);
  });

  it('shows the command usage under the error', async () => {
    const t = fakeCli();

    await main(['rollback'], t.deps);

    expect(t.err[1]).toBe(
      'usage: npx hubfix rollback <change-id> [--yes] [--force] [--role-name <name>]  (more: npx hubfix help rollback)',
    );
  });
});

describe('the region, as the AWS CLI chooses it', () => {
  it.each<
    [string, string | undefined, Record<string, string>, string | undefined, string | undefined]
  >([
    [
      '--region first',
      'eu-west-1',
      { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-2' },
      'ap-south-1',
      'eu-west-1',
    ],
    [
      'then AWS_REGION',
      undefined,
      { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-2' },
      'ap-south-1',
      'us-east-2',
    ],
    [
      'then AWS_DEFAULT_REGION',
      undefined,
      { AWS_DEFAULT_REGION: 'us-west-2' },
      'ap-south-1',
      'us-west-2',
    ],
    ["then the profile's region", undefined, {}, 'ap-south-1', 'ap-south-1'],
    ['else none', undefined, {}, undefined, undefined],
  ])('%s', async (_name, option, env, profile, expected) => {
    expect(await resolveRegion(option, env, async () => profile)).toBe(expected);
  });

  it("uses the profile's region when nothing else names one", async () => {
    const t = fakeCli({ env: {}, profileRegion: 'eu-central-1' });

    expect(await main(['history', '--table', 'ledger'], t.deps)).toBe(0);
    expect(t.calls).toContain('ledger ledger eu-central-1');
  });

  it('says how to give a region when there is none', async () => {
    const t = fakeCli({ env: {} });

    expect(await main(['history'], t.deps)).toBe(2);
    expect(t.err[0]).toMatch(/^hubfix: no region: pass --region <region>/);
    expect(t.err[0]).toContain('aws configure set region');
  });

  it("reads AWS_PROFILE's region from the shared config file, as the SDK does", async () => {
    // Prepare
    const folder = await mkdtemp(join(tmpdir(), 'hubfix-config-'));
    const config = join(folder, 'config');
    await writeFile(
      config,
      '[default]\nregion = us-west-1\n\n[profile ops]\nregion = eu-north-1\n',
    );
    const saved = { file: process.env.AWS_CONFIG_FILE };
    process.env.AWS_CONFIG_FILE = config;
    try {
      // Act & Assess
      expect(await sharedConfigRegion({ AWS_PROFILE: 'ops' })).toBe('eu-north-1');
      expect(await sharedConfigRegion({})).toBe('us-west-1');
      expect(await sharedConfigRegion({ AWS_PROFILE: 'nobody' })).toBeUndefined();
    } finally {
      if (saved.file === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = saved.file;
    }
  });
});

describe('the ledger is found from the stack, or named', () => {
  it('reads the table from the Hubfix stack by default', async () => {
    const t = fakeCli();

    await main(['history', '--limit', '5'], t.deps);

    expect(t.calls).toEqual([
      'stack Hubfix us-east-1',
      'ledger Hubfix-Ledger123 us-east-1',
      'recent 5',
    ]);
  });

  it('uses --stack, --table and --region when given', async () => {
    const named = fakeCli();
    const table = fakeCli();

    await main(['history', '--stack', 'Security-Hubfix'], named.deps);
    await main(['history', '--table', 'my-ledger', '--region', 'eu-west-1'], table.deps);

    expect(named.calls[0]).toBe('stack Security-Hubfix us-east-1');
    expect(table.calls[0]).toBe('ledger my-ledger eu-west-1');
  });

  it('says which stack is missing and how to name another', async () => {
    const t = fakeCli({
      fail: {
        stack: new LedgerLocationError(
          'no stack Hubfix in us-east-1: deploy hubfix there (npx cdk deploy), choose the region with --region, or name the stack with --stack <name> or the table with --table <name>',
        ),
      },
    });

    expect(await main(['history'], t.deps)).toBe(1);
    expect(t.err[0]).toContain('hubfix: no stack Hubfix in us-east-1');
    expect(t.err[0]).toContain('--stack <name>');
  });
});

describe('errors in words', () => {
  const credentials = Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });

  it.each<[string, Error, string | undefined, string]>([
    ['no credentials', credentials, undefined, 'no AWS credentials found: set AWS_PROFILE'],
    [
      'a missing permission',
      serviceError(
        'AccessDeniedException',
        'User: arn:aws:iam::111111111111:user/ops is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:111111111111:table/Hubfix-Ledger123/index/byTime because no identity-based policy allows the dynamodb:Query action',
      ),
      'Hubfix-Ledger123',
      'your credentials may not call dynamodb:Query on arn:aws:dynamodb:us-east-1:111111111111:table/Hubfix-Ledger123/index/byTime: ask for that permission',
    ],
    [
      'a missing table',
      serviceError('ResourceNotFoundException', 'Requested resource not found'),
      'Hubfix-Ledger123',
      'the ledger table Hubfix-Ledger123 does not exist in us-east-1: check the region (--region), or name the table with --table <name> or the stack with --stack <name>',
    ],
    [
      'an expired session',
      serviceError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
      ),
      undefined,
      'your AWS session has expired',
    ],
    [
      'no network',
      new Error('getaddrinfo ENOTFOUND dynamodb.us-east-1.amazonaws.com'),
      undefined,
      'could not reach AWS in us-east-1',
    ],
    ['anything else', serviceError('InternalServerError', 'try later'), undefined, 'try later'],
  ])('%s', (_name, error, table, expected) => {
    const message = explainError(error, { region: 'us-east-1', table });

    expect(message).toContain(expected);
    expect(message).not.toMatch(/[A-Z][a-z]+(Error|Exception)\b/);
  });

  it('never prints a class name for a failure while running', async () => {
    const t = fakeCli({ fail: { ledger: credentials } });

    expect(await main(['history', '--table', 't'], t.deps)).toBe(1);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(/^hubfix: no AWS credentials found/);
    expect(t.err[0]).not.toContain('CredentialsProviderError');
  });
});

describe('loadControl', () => {
  it('loads a registered control module by id', async () => {
    expect((await loadControl('EC2.2'))?.id).toBe('EC2.2');
  });

  it('knows nothing of unregistered ids', async () => {
    expect(await loadControl('EC9.99')).toBeUndefined();
  });
});
