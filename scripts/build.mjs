// Bundles the CLI and everything it imports into dist/nubes.mjs: one file loads several
// times faster than hundreds of node_modules files, which is most of Nubes' cold start.
// Native addons stay external. Type checking is `npm run typecheck` (esbuild only strips types).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cmd/nubes.ts'],
  outfile: 'dist/nubes.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3', 'bcrypt', 'pg-native'],
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __nubesRequire } from 'node:module'; const require = __nubesRequire(import.meta.url);" },
  logLevel: 'warning',
});
