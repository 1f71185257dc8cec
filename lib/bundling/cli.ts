/**
 * `bundle <entry.ts> <outdir>`: run by the stack's local bundling, which must
 * be synchronous, while esbuild plugins need esbuild's asynchronous API.
 */
import { bundleHandler } from './esbuild';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  process.stderr.write('usage: bundle <entry.ts> <outdir>\n');
  process.exit(2);
}
await bundleHandler(entry, outdir);
