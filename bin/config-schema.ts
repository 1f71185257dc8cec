/**
 * `npm run schema`: writes remediation.config.schema.json from the config
 * loader's schema. Run it after changing a config key or a control's settings.
 */
import { writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA_PATH, renderConfigSchema } from '../lib/config-schema';

writeFileSync(CONFIG_SCHEMA_PATH, renderConfigSchema());
process.stdout.write(`wrote ${CONFIG_SCHEMA_PATH}\n`);
