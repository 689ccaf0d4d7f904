import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextLink, readPage } from './pagination.js';
import { CloudError } from '../errors.js';

describe('pagination helpers', () => {
  it('reads limit and marker', () => {
    assert.deepEqual(readPage({}), {});
    assert.deepEqual(readPage({ limit: '25', marker: 'abc' }), { limit: 25, marker: 'abc' });
    assert.deepEqual(readPage({ marker: '' }), {});
  });

  it('rejects a bad limit with a 400 CloudError', () => {
    for (const limit of ['-1', 'ten', '1.5']) {
      assert.throws(() => readPage({ limit }), (err: unknown) => err instanceof CloudError && err.status === 400);
    }
  });

  it('builds the next link keeping other query parameters', () => {
    const link = new URL(nextLink('http://h:1/image/v2/images?name=x&limit=2&marker=old', 'last-id', 2));
    assert.equal(link.searchParams.get('marker'), 'last-id');
    assert.equal(link.searchParams.get('limit'), '2');
    assert.equal(link.searchParams.get('name'), 'x');
  });
});
