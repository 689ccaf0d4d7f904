#!/usr/bin/env node
// Runs the compiled CLI when present (fast start); falls back to the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { loadBundle } from './load-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'nubes.cjs');
if (existsSync(compiled) && !process.env.NUBES_FROM_SOURCE) {
  // A long-running server is worth caching compiled code for; one-shot commands are not.
  const { main } = loadBundle(compiled, { keepCodeCache: process.argv[2] === 'start' });
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(pathToFileURL(join(root, 'src', 'cmd', 'nubes.ts')).href);
  await main(process.argv);
}
