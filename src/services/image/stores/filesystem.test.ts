import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { FilesystemImageStore } from './filesystem.js';
import { runStoreContract } from './contract.test-suite.js';

runStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-imgstore-'));
  return { store: new FilesystemImageStore(join(dir, 'images')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

test('filesystem: cleanupPartial removes temporary files of crashed puts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-imgstore-'));
  try {
    const store = new FilesystemImageStore(dir);
    mkdirSync(join(dir, '.tmp'));
    writeFileSync(join(dir, '.tmp', 'abc.123'), 'half');
    assert.equal(await store.cleanupPartial(), 1);
    assert.deepEqual(await readdir(join(dir, '.tmp')), []);
    assert.deepEqual(await store.list(), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('filesystem: keys cannot escape the root', async () => {
  const store = new FilesystemImageStore('/nonexistent');
  await assert.rejects(store.delete('../etc'), /invalid store key/);
});
