import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError } from '../../common/errors.js';
import { parseIsoTime, parseListQuery, splitQuotedList, type Query } from './list-params.js';

const limits = { limit_param_default: 25, api_limit_max: 1000 };
const parse = (query: Query) => parseListQuery(query, limits, { project: 'p', isAdmin: false });
const rejects = (query: Query, message: RegExp) =>
  assert.throws(() => parse(query), (err: unknown) => err instanceof CloudError && err.status === 400 && message.test(err.message));

describe('image list parameters', () => {
  test('ISO 8601 times as oslo reads them: zones, fractions, date only; impossible dates refused', () => {
    assert.deepEqual(parseIsoTime('2030-01-01T00:00:10Z'), { seconds: 1893456010, whole: true });
    assert.deepEqual(parseIsoTime('2030-01-01T01:00:10+01:00'), { seconds: 1893456010, whole: true });
    assert.deepEqual(parseIsoTime('2030-01-01T00:00:10.000'), { seconds: 1893456010, whole: true });
    assert.deepEqual(parseIsoTime('2030-01-01T00:00:10.25-0000'), { seconds: 1893456010, whole: false });
    assert.deepEqual(parseIsoTime('2030-01-01'), { seconds: 1893456000, whole: true });
    for (const bad of ['2030-02-30T00:00:00Z', '2030-13-01', '2030-01-01T24:00:00Z', 'yesterday', '', '2030-01-01T00:00:00+5']) assert.equal(parseIsoTime(bad), null, bad);
  });

  test('in: lists split on commas, quotes protect commas, misplaced quotes are 400', () => {
    assert.deepEqual(splitQuotedList('a,b'), ['a', 'b']);
    assert.deepEqual(splitQuotedList('"a,b",c'), ['a,b', 'c']);
    assert.deepEqual(splitQuotedList('a,,b'), ['a', '', 'b']);
    for (const bad of ['"a', 'x"a",b', '"a"x,b']) assert.throws(() => splitQuotedList(bad), CloudError, bad);
  });

  test('sorting: created_at desc and id desc by default; one sort_dir applies to every key and the tie-breakers', () => {
    assert.deepEqual(parse({}).sort, [{ key: 'created_at', dir: 'desc' }, { key: 'id', dir: 'desc' }]);
    assert.deepEqual(parse({ sort_key: ['name', 'size'], sort_dir: 'asc' }).sort, [
      { key: 'name', dir: 'asc' }, { key: 'size', dir: 'asc' }, { key: 'created_at', dir: 'asc' }, { key: 'id', dir: 'asc' },
    ]);
    assert.deepEqual(parse({ sort: 'name:asc,id' }).sort, [{ key: 'name', dir: 'asc' }, { key: 'id', dir: 'desc' }, { key: 'created_at', dir: 'desc' }]);
    rejects({ sort: 'name', sort_dir: 'asc' }, /cannot be combined/);
    rejects({ sort_key: 'owner' }, /Invalid sort key: owner/);
    rejects({ sort_key: ['name', 'size'], sort_dir: ['asc', 'desc', 'asc'] }, /does not match/);
  });

  test('filters become SQL conditions; properties are what is not a column', () => {
    const spec = parse({ name: 'in:a,b', status: 'active', size_min: '10', size_max: '99999999999999999999', protected: 'true', os_distro: 'debian', tag: [' x ', 'y'], limit: '5000' });
    assert.deepEqual(spec.conditions, [
      { column: 'name', op: 'in', values: ['a', 'b'] },
      { column: 'status', op: '=', value: 'active' },
      { column: 'size', op: '>=', value: 10 },
      { column: 'size', op: '<=', value: Number.MAX_SAFE_INTEGER },
      { column: 'protected', op: '=', value: 1 },
    ]);
    assert.deepEqual(spec.properties, [{ key: 'os_distro', value: 'debian' }]);
    assert.deepEqual(spec.tags, ['x', 'y']);
    assert.equal(spec.limit, 1000);
    assert.equal(spec.memberStatus, 'accepted');
    assert.equal(spec.osHidden, false);
  });

  test('time filters compare whole seconds', () => {
    assert.deepEqual(parse({ created_at: 'gt:2030-01-01T00:00:10Z' }).conditions, [{ column: 'created_at', op: '>=', value: '2030-01-01T00:00:11.000000Z' }]);
    assert.deepEqual(parse({ updated_at: 'lte:2030-01-01T00:00:10.5Z' }).conditions, [{ column: 'updated_at', op: '<', value: '2030-01-01T00:00:11.000000Z' }]);
    assert.deepEqual(parse({ created_at: 'neq:2030-01-01T00:00:10Z' }).conditions, [{ column: 'created_at', op: 'outside', from: '2030-01-01T00:00:10.000000Z', to: '2030-01-01T00:00:11.000000Z' }]);
    assert.deepEqual(parse({ created_at: 'eq:2030-01-01T00:00:10.5Z' }).conditions, [{ op: 'never' }]);
    assert.deepEqual(parse({ created_at: 'lt:9999-12-31T23:59:59Z' }).conditions, [{ column: 'created_at', op: '<', value: '9999-12-31T23:59:59.000000Z' }]);
    assert.deepEqual(parse({ created_at: 'gt:9999-12-31T23:59:59Z' }).conditions, [{ column: 'created_at', op: '>=', value: '9999-99' }]);
    rejects({ created_at: 'gt:soon' }, /Bad "created_at" query filter format/);
    rejects({ created_at: 'after:2030-01-01T00:00:10Z' }, /unknown operator/);
  });
});
