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
 * ESM output can still meet CommonJS dependencies (the X-Ray SDK behind the
 * tracer); they need a real `require`.
 */
const ESM_REQUIRE_SHIM =
  "import{createRequire as __hubfixCreateRequire}from'node:module';const require=__hubfixCreateRequire(import.meta.url);";

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
    banner: { js: ESM_REQUIRE_SHIM },
    metafile: true,
    logLevel: 'error',
    plugins: [inlineSdkSchemaKeys],
  };
}

/** Bundles one handler into `outdir/index.mjs`. */
export async function bundleHandler(entry: string, outdir: string): Promise<Metafile> {
  const result = await build(handlerBuildOptions(entry, outdir));
  if (!result.metafile) throw new Error(`esbuild returned no metafile for ${entry}`);
  return result.metafile;
}
