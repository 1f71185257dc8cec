/**
 * How every handler is bundled: one ESM file with the AWS SDK inside,
 * minified, for Node 24 on Lambda. Used by the stack at synth time and by the
 * benchmark, so what is measured is what is deployed.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

export const HANDLER_FILE = 'index.mjs';

/**
 * The SDK's schema modules describe every shape of a service in one file.
 * Their members carry traits as `{ [_xN]: _m }`, computed keys that are
 * module-level string constants. esbuild cannot prove an object with several
 * computed keys free of side effects, so it keeps every shape of the service
 * (550 KB for EC2). Writing those keys as the literal strings they stand for
 * changes nothing at run time and lets esbuild drop the shapes a handler
 * never uses.
 */
export const inlineSdkSchemaKeys: Plugin = {
  name: 'hubfix-inline-sdk-schema-keys',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const source = await readFile(args.path, 'utf8');
        const constants = new Map<string, string>();
        for (const match of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
          const [, name, literal] = match;
          if (name && literal) constants.set(name, literal);
        }
        const contents = source.replace(/\[(_\w+)\]:/g, (whole, name: string) => {
          const literal = constants.get(name);
          return literal === undefined ? whole : `${literal}:`;
        });
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * @middy/core imports node:stream/web and node:stream/promises for response
 * streaming, which hubfix never uses; loading them costs 2 to 4 ms of every
 * cold start. middy gets stand-ins that fetch the real built-ins the first
 * time they are used, so its behaviour is unchanged if streaming ever is.
 */
const LAZY_BUILTINS_FOR_MIDDY: Readonly<Record<string, string>> = {
  'node:stream/web':
    "export class ReadableStream { static [Symbol.hasInstance](value) { return value instanceof process.getBuiltinModule('node:stream/web').ReadableStream; } }",
  'node:stream/promises':
    "export const pipeline = (...args) => process.getBuiltinModule('node:stream/promises').pipeline(...args);",
};

export const lazyBuiltinsForMiddy: Plugin = {
  name: 'hubfix-lazy-builtins-for-middy',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:stream\/(web|promises)$/ }, (args) =>
      /[\\/]node_modules[\\/]@middy[\\/]core[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'hubfix-lazy-builtin' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'hubfix-lazy-builtin' }, (args) => ({
      contents: LAZY_BUILTINS_FOR_MIDDY[args.path],
      loader: 'js',
    }));
  },
};

export function handlerBuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile: path.join(outdir, HANDLER_FILE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: false,
    // Prefer each package's ES module build, which esbuild can tree-shake.
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'error',
    plugins: [inlineSdkSchemaKeys, lazyBuiltinsForMiddy],
  };
}

/** Bundles one handler into `outdir/index.mjs`. */
export async function bundleHandler(entry: string, outdir: string): Promise<Metafile> {
  const result = await build(handlerBuildOptions(entry, outdir));
  if (!result.metafile) throw new Error(`esbuild returned no metafile for ${entry}`);
  return result.metafile;
}
