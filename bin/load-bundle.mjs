// Loads dist/nubes.cjs through vm.Script with a V8 code cache next to it, so a restart skips
// parsing and compiling the 3 MB bundle and the functions startup runs (Node 20 offers no
// compile cache for ES modules or for require()).
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

/**
 * Returns the bundle's exports. With keepCodeCache, a missing or rejected cache is (re)written
 * once the process has warmed up (or at exit, whichever comes first), so it also holds the
 * code compiled lazily while serving; never written for one-shot commands.
 */
export function loadBundle(file, { keepCodeCache = false } = {}) {
  const bytes = readFileSync(file);
  // Pure ASCII decoded as latin1 is the same string, made in half the time (a few comments
  // esbuild keeps may not be ASCII; then utf8).
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const { size, mtimeMs } = statSync(file);
  // Keyed by the bundle's identity and Node's version: V8 itself only checks the source length.
  const cacheFile = `${file}.${process.version}.${size}.${Math.round(mtimeMs)}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));

  if (keepCodeCache && (cachedData === undefined || script.cachedDataRejected)) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      try {
        const temp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, cacheFile);
      } catch {
        // A read-only install only loses the speed-up.
      }
    };
    setTimeout(write, 5000).unref();
    process.once('exit', write);
  }
  return module.exports;
}
