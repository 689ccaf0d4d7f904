import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError } from '../../../common/errors.js';
import { fetchLoopback, filterImportUri } from './sources.js';
import type { InProcessHttp } from '../stores/in-process-http.js';
import { mergeStores } from './image-state.js';

test('web-download URIs: Glance\'s default filter (http/https; ports 80/443 off this machine, any port on loopback)', () => {
  for (const uri of ['http://127.0.0.1/x', 'https://127.8.9.10:8443/a?b', 'http://[::1]:8000/img', 'http://localhost:5000/x', 'http://2130706433/x', 'http://0x7f.1/x', 'http://192.0.2.1/x', 'https://example.com:443/x', 'http://does-not.exist/no/way']) {
    assert.ok(filterImportUri(uri), uri);
  }
  for (const uri of ['http://10.0.0.1:8080/', 'https://example.com:8443/', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url', '', 42]) {
    assert.throws(() => filterImportUri(uri), (err: unknown) => err instanceof CloudError && err.status === 400 && /does not pass filtering/.test(err.message), String(uri));
  }
});

test('fetching refuses every host but loopback before connecting', async () => {
  const http = { request: () => Promise.reject(new Error('must not be called')) } as unknown as InProcessHttp;
  for (const uri of ['http://192.0.2.1/x', 'http://127.0.0.1.nip.io/', 'http://[::ffff:10.0.0.1]/', 'http://example.com/x']) {
    await assert.rejects(fetchLoopback(http, 'http://127.0.0.1:5000', new URL(uri)), /only fetches from loopback hosts/, uri);
  }
});

test('store lists are sorted, comma-joined sets, as Glance merges them', () => {
  const added = mergeStores({ a: 'x' }, 'k', ['slow', 'fast', 'slow']);
  assert.deepEqual(added, { a: 'x', k: 'fast,slow' });
  assert.deepEqual(mergeStores(added, 'k', ['fast', 'other'], true), { a: 'x', k: 'slow' });
  assert.deepEqual(mergeStores({}, 'k', ['fast'], true), { k: '' });
});
