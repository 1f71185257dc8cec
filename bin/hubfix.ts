/** `npx hubfix`: see lib/cli/main.ts for the commands. */
import { realDeps } from '../lib/cli/aws';
import { main } from '../lib/cli/main';

process.exitCode = await main(process.argv.slice(2), realDeps());
