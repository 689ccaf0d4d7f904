import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalPath, isLoopbackHost, parseRealms, pyRepr, RealmsConfigError, selfSyncEndpoint, swiftQuote, syncSignature, validateSyncTo } from './sync-realms.js';

describe('container sync realms', () => {
  const realms = parseRealms('realm1: key=rk key2=rk2 cluster_name1=self cluster_Other=http://localhost:9000/v1/ ; r2: key=k', 'http://127.0.0.1:8000/object-store/v1/');

  test('inline realms: upper-cased names, self endpoint, loopback-only endpoints', () => {
    assert.deepEqual([...realms.keys()], ['REALM1', 'R2']);
    const r = realms.get('REALM1')!;
    assert.equal(r.key, 'rk');
    assert.equal(r.key2, 'rk2');
    assert.deepEqual([...r.clusters], [['NAME1', 'http://127.0.0.1:8000/object-store/v1/'], ['OTHER', 'http://localhost:9000/v1/']]);
    assert.throws(() => parseRealms('x: key=k cluster_a=http://10.0.0.1:8080/v1/', ''), RealmsConfigError);
    assert.throws(() => parseRealms('x: cluster_a=self', 'http://127.0.0.1:1/'), /key is required/);
    assert.throws(() => parseRealms('x: key=k colour=red', ''), /unknown option/);
    assert.throws(() => parseRealms('no colon here', ''), RealmsConfigError);
    assert.equal(parseRealms('', '').size, 0);
  });

  test('self endpoint is always a loopback address at the bind port', () => {
    assert.equal(selfSyncEndpoint('127.0.0.1:8000'), 'http://127.0.0.1:8000/object-store/v1/');
    assert.equal(selfSyncEndpoint('0.0.0.0:9000'), 'http://127.0.0.1:9000/object-store/v1/');
    assert.equal(selfSyncEndpoint('10.1.2.3:9000'), 'http://127.0.0.1:9000/object-store/v1/');
    assert.equal(selfSyncEndpoint('[::]:8000'), 'http://[::1]:8000/object-store/v1/');
  });

  test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['10.0.0.1', '128.0.0.1', '127.0.0.256', 'example.com', '0.0.0.0', '::', '127.0.0.1.nip.io']) assert.ok(!isLoopbackHost(h), h);
  });

  test('validate_sync_to: realm values and full URLs, with Swift messages', () => {
    const ok = validateSyncTo('//Realm1/NAME1/AUTH_a/c', realms);
    assert.deepEqual(ok, { target: { url: 'http://127.0.0.1:8000/object-store/v1/AUTH_a/c', realm: 'REALM1', realmKey: 'rk' } });
    const err = (v: string) => {
      const r = validateSyncTo(v, realms);
      return 'error' in r ? r.error : null;
    };
    assert.equal(err('//realm1/name1/AUTH_a'), "Invalid X-Container-Sync-To format '//realm1/name1/AUTH_a'");
    assert.equal(err('//nope/name1/a/c'), "No realm key for 'nope'");
    assert.equal(err('//realm1/nope/a/c'), "No cluster endpoint for 'realm1' 'nope'");
    assert.equal(err('ftp://127.0.0.1/v1/a/c'), 'Invalid scheme \'ftp\' in X-Container-Sync-To, must be "//", "http", or "https".');
    assert.equal(err('127.0.0.1/v1/a/c'), 'Invalid scheme \'\' in X-Container-Sync-To, must be "//", "http", or "https".');
    assert.equal(err('http://127.0.0.1'), 'Path required in X-Container-Sync-To');
    assert.equal(err('http://127.0.0.1/v1/a/c?x=1'), 'Params, queries, and fragments not allowed in X-Container-Sync-To');
    assert.equal(err('http://127.0.0.1/v1/a/c#f'), 'Params, queries, and fragments not allowed in X-Container-Sync-To');
    assert.equal(err('http://10.1.2.3:8080/v1/AUTH_a/c'), "Invalid host '10.1.2.3' in X-Container-Sync-To");
    assert.equal(err('https://user@Example.COM/v1/a/c'), "Invalid host 'example.com' in X-Container-Sync-To");
    assert.equal(err('http://[::1]:8080/v1/a/c'), null);
    assert.equal(err('http://localhost:8080/v1/a/c'), null);
  });

  test('signature and quoting agree with Python (urllib quote, hmac sha1)', () => {
    const path = '/object-store/v1/AUTH_abc/cont/' + swiftQuote('dir/ü x+y!(1).txt');
    assert.equal(path, '/object-store/v1/AUTH_abc/cont/dir/%C3%BC%20x%2By%21%281%29.txt');
    assert.equal(canonicalPath('/object-store/v1/AUTH_abc/cont/dir/%c3%bc%20x+y!(1).txt'), path);
    // python3: hmac.new(b'realmkey', b'PUT\n<path>\n1700000000.12345\nabcdef\nsync_key', sha1).hexdigest()
    assert.equal(syncSignature('PUT', path, '1700000000.12345', 'abcdef', 'realmkey', 'sync_key'), '343b5c3dc187e4275f0c3ada2b60d974961cc304');
    assert.equal(pyRepr("it's"), '"it\'s"');
    assert.equal(pyRepr('a\\b'), "'a\\\\b'");
  });
});
