// Bundles the CLI and everything it imports into dist/nubes.cjs: one file loads several
// times faster than hundreds of node_modules files, which is most of Nubes' cold start.
// CommonJS rather than ESM so bin/nubes.mjs can compile it through vm.Script with a V8 code
// cache (Node 20 has no code cache for ES modules). Native addons stay external.
// Type checking is `npm run typecheck` (esbuild only strips types).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cmd/nubes.ts'],
  outfile: 'dist/nubes.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3', 'bcrypt', 'pg-native'],
  logLevel: 'warning',
});
