import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { rejectNulBytes } from './nul-guard.js';

describe('rejectNulBytes', () => {
  it('refuses NUL in params, query and JSON bodies, and leaves streamed bodies alone', async () => {
    const app = Fastify();
    rejectNulBytes(app);
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    app.post('/x/:id', async (request) => ({ ok: true, streamed: request.body instanceof PassThrough || typeof request.body === 'object' }));
    const nulParam = await app.inject({ method: 'POST', url: '/x/a%00b', payload: {} });
    assert.equal(nulParam.statusCode, 400);
    const nulQuery = await app.inject({ method: 'POST', url: '/x/a?q=%00', payload: {} });
    assert.equal(nulQuery.statusCode, 400);
    const nulBody = await app.inject({ method: 'POST', url: '/x/a', payload: { nested: ['ok', 'bad\u0000'] } });
    assert.equal(nulBody.statusCode, 400);
    const clean = await app.inject({ method: 'POST', url: '/x/a', payload: { nested: ['ok'] } });
    assert.equal(clean.statusCode, 200);
    const started = Date.now();
    const streamed = await app.inject({ method: 'POST', url: '/x/a', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(1024) });
    assert.equal(streamed.statusCode, 200);
    assert.ok(Date.now() - started < 1000, 'a streamed body must not be walked');
    await app.close();
  });
});
