import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { decrypt, encrypt, InvalidTokenError, parseFernetKey } from './fernet.js';
import { FernetKeyRepository, KeyRepositoryError } from './key-repository.js';

const root = mkdtempSync(join(tmpdir(), 'nubes-fernet-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `repo-${++n}`, 'fernet-keys');

const names = (dir: string): string[] => readdirSync(dir).sort((a, b) => Number(a) - Number(b));
const read = (dir: string, name: string): string => readFileSync(join(dir, name), 'utf8');
const mode = (path: string): number => statSync(path).mode & 0o777;
const text = new TextEncoder().encode('payload');

test('setup creates a 0700 directory with keys 0 (staged) and 1 (primary), 0600 each', () => {
  const dir = freshDir();
  const old = process.umask(0o000); // the modes must not depend on the umask
  try {
    new FernetKeyRepository(dir).setup();
  } finally {
    process.umask(old);
  }
  assert.equal(mode(dir), 0o700);
  assert.deepEqual(names(dir), ['0', '1']);
  for (const name of ['0', '1']) {
    assert.equal(mode(join(dir, name)), 0o600);
    assert.match(read(dir, name), /^[A-Za-z0-9_-]{43}=$/);
  }
  assert.notEqual(read(dir, '0'), read(dir, '1'));
});

test('setup is idempotent', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  const before = names(dir).map((name) => read(dir, name));
  repo.setup();
  new FernetKeyRepository(dir).setup();
  assert.deepEqual(names(dir).map((name) => read(dir, name)), before);
});

test('setup repairs what an interrupted rotate leaves: no staged key', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  const primary = read(dir, '1');
  unlinkSync(join(dir, '0'));
  writeFileSync(join(dir, '.tmp-123-abc'), 'half a key');
  repo.setup();
  assert.deepEqual(names(dir), ['0', '1']);
  assert.equal(read(dir, '1'), primary);
});

test('load returns the primary (highest) first and the staged key last', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir, 4);
  repo.setup();
  repo.rotate();
  repo.rotate(); // {0,1,2,3}
  const expected = ['3', '2', '1', '0'].map((name) => parseFernetKey(read(dir, name)));
  assert.deepEqual(repo.load(), expected);
});

test('rotate promotes 0 to N+1, stages a new 0 and prunes to maxActiveKeys=3', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir, 3);
  repo.setup();
  const seen: string[][] = [names(dir)];
  for (let i = 0; i < 4; i++) {
    const staged = read(dir, '0');
    const primary = repo.rotate();
    assert.equal(read(dir, String(primary)), staged, 'the staged key becomes the primary');
    assert.notEqual(read(dir, '0'), staged);
    seen.push(names(dir));
  }
  assert.deepEqual(seen, [
    ['0', '1'],
    ['0', '1', '2'],
    ['0', '2', '3'],
    ['0', '3', '4'],
    ['0', '4', '5'],
  ]);
  for (const name of names(dir)) assert.equal(mode(join(dir, name)), 0o600);
});

test('a larger maxActiveKeys keeps more primaries', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir, 5);
  repo.setup();
  for (let i = 0; i < 6; i++) repo.rotate();
  assert.deepEqual(names(dir), ['0', '4', '5', '6', '7']);
});

test('tokens survive rotations until their key is pruned; staged-key tokens validate', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir, 3);
  repo.setup();
  const token = encrypt(repo.load(), text); // made with key 1
  repo.rotate(); // {0,1,2}: key 1 is no longer primary but still accepted
  assert.deepEqual(Buffer.from(decrypt(repo.load(), token).payload), Buffer.from(text));
  repo.rotate(); // {0,2,3}: key 1 pruned
  assert.throws(() => decrypt(repo.load(), token), InvalidTokenError);

  // Another node that already rotated issues with what is our staged key.
  const staged = parseFernetKey(read(dir, '0'));
  assert.ok(decrypt(repo.load(), encrypt([staged], text)));
});

test('loadIfChanged reuses the loaded keys until the files change', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  const first = repo.loadIfChanged();
  assert.equal(repo.loadIfChanged(), first);

  // A rotation by another process (another repository object) is noticed.
  new FernetKeyRepository(dir).rotate();
  const second = repo.loadIfChanged();
  assert.notEqual(second, first);
  assert.equal(second.length, 3);

  // Within maxAgeMs, the directory is not even looked at.
  new FernetKeyRepository(dir).rotate();
  assert.equal(repo.loadIfChanged(60_000), second);
  assert.notEqual(repo.loadIfChanged(), second);

  // Our own rotations are seen at once, whatever maxAgeMs.
  const before = repo.loadIfChanged(60_000);
  repo.rotate();
  assert.notEqual(repo.loadIfChanged(60_000), before);
});

test('temporary files and other names are not keys', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  writeFileSync(join(dir, '.tmp-1-deadbeef'), 'junk');
  writeFileSync(join(dir, 'README'), 'junk');
  writeFileSync(join(dir, '01'), 'junk');
  assert.equal(repo.load().length, 2);
  repo.rotate();
  assert.equal(existsSync(join(dir, '.tmp-1-deadbeef')), false, 'rotate cleans up crash leftovers');
});

test('a corrupt key file is an error, not a silently smaller key set', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  writeFileSync(join(dir, '1'), 'not-a-key');
  assert.throws(() => repo.load(), KeyRepositoryError);
});

test('a key file with a trailing newline (hand-made) still loads', () => {
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir);
  repo.setup();
  writeFileSync(join(dir, '1'), read(dir, '1') + '\n');
  assert.equal(repo.load().length, 2);
});

test('a repository that was never set up cannot load or rotate', () => {
  const repo = new FernetKeyRepository(freshDir());
  assert.throws(() => repo.load(), KeyRepositoryError);
  assert.throws(() => repo.rotate(), KeyRepositoryError);
});

test('maxActiveKeys must leave room for a primary and a staged key', () => {
  assert.throws(() => new FernetKeyRepository(freshDir(), 1), RangeError);
  assert.throws(() => new FernetKeyRepository(freshDir(), 2.5), RangeError);
  const dir = freshDir();
  const repo = new FernetKeyRepository(dir, 2);
  repo.setup();
  repo.rotate();
  repo.rotate();
  assert.deepEqual(names(dir), ['0', '3']);
});
