/** `npm run docs`: rewrites the README's generated parts from the registry. */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { withPermissionsTable } from './permissions-table';

const README = path.resolve(import.meta.dirname, '..', '..', 'README.md');
writeFileSync(README, withPermissionsTable(readFileSync(README, 'utf8')));
