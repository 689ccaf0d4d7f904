import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/common/config/reference.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
process.stdout.write('wrote docs/config.md\n');
