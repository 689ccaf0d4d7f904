import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from '../db/index.js';
import { JobQueue } from './queue.js';
import { createTestDatabase, testEngines, type TestDatabase } from './testing.js';
import type { JobQueueOptions, JobRecord } from './types.js';

/** A clock the test moves by hand, so lease expiry and backoff need no sleeping. */
class ManualClock {
  constructor(private ms = Date.parse('2030-01-01T00:00:00.000Z')) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

for (const engine of testEngines()) {
  describe(`JobQueue on ${engine}`, () => {
    let tdb: TestDatabase;
    let db: Database;
    let clock: ManualClock;
    const makeQueue = (over: Partial<JobQueueOptions> = {}, on: Database = db): JobQueue =>
      new JobQueue(on, { leaseSeconds: 30, maxAttempts: 3, pollIntervalMs: 50, clock: clock.now, ...over });

    beforeEach(async () => {
      tdb = await createTestDatabase(engine);
      db = tdb.open();
      clock = new ManualClock();
      await makeQueue().migrate();
    });
    afterEach(async () => {
      await tdb.cleanup();
    });

    it('migrates idempotently', async () => {
      await makeQueue().migrate();
    });

    it('enqueues, claims and completes a job', async () => {
      const q = makeQueue({ workerId: 'w1' });
      const job = await q.enqueue('identity.cleanup', 'reap_tokens', { v: 1, batch: 100 });
      assert.equal(job.status, 'queued');
      assert.equal(job.attempts, 0);
      assert.equal(job.maxAttempts, 3);
      assert.deepEqual(job.payload, { v: 1, batch: 100 });
      assert.match(job.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(await q.get(job.id), job);

      const claimed = await q.claim(['identity.cleanup']);
      assert.ok(claimed);
      assert.equal(claimed.id, job.id);
      assert.equal(claimed.status, 'running');
      assert.equal(claimed.attempts, 1);
      assert.equal(claimed.leaseOwner, 'w1');
      assert.equal(claimed.leaseExpiresAt, '2030-01-01T00:00:30.000000Z');
      assert.equal(await q.claim(['identity.cleanup']), null, 'a running job with a live lease is not claimable');

      const done = await q.complete(job.id, { reaped: 7 });
      assert.ok(done);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.result, { reaped: 7 });
      assert.equal(done.finishedAt, '2030-01-01T00:00:00.000000Z');
      assert.equal(await q.complete(job.id, null), null, 'a finished job cannot be completed twice');
    });

    it('rejects payloads without a version', async () => {
      const q = makeQueue();
      await assert.rejects(q.enqueue('q', 'k', { v: 0 }), /version/);
      await assert.rejects(q.enqueue('q', 'k', { v: 1.5 }), /version/);
    });

    it('only claims from the requested queues, oldest first, and honours runAfter', async () => {
      const q = makeQueue();
      const later = await q.enqueue('a', 'k', { v: 1 }, { runAfter: new Date(clock.now().getTime() + 5000) });
      clock.advance(1);
      await q.enqueue('b', 'k', { v: 1 });
      clock.advance(1);
      const first = await q.enqueue('a', 'k', { v: 1, n: 1 });
      clock.advance(1);
      const second = await q.enqueue('a', 'k', { v: 1, n: 2 });
      assert.equal((await q.claim(['a']))?.id, first.id);
      assert.equal((await q.claim(['a']))?.id, second.id);
      assert.equal(await q.claim(['a']), null);
      clock.advance(5000);
      assert.equal((await q.claim(['a', 'zzz']))?.id, later.id);
      assert.equal(await q.claim([]), null);
    });

    it('retries with backoff, then fails after max_attempts', async () => {
      const q = makeQueue();
      const job = await q.enqueue('q', 'flaky', { v: 1 });
      for (let attempt = 1; attempt <= 2; attempt++) {
        const claimed = await q.claim(['q']);
        assert.equal(claimed?.attempts, attempt);
        const retried = await q.fail(job.id, `boom ${attempt}`, 1000 * attempt);
        assert.equal(retried?.status, 'queued');
        assert.equal(retried?.lastError, `boom ${attempt}`);
        assert.equal(retried?.leaseExpiresAt, null);
        assert.equal(await q.claim(['q']), null, 'not claimable before its backoff elapses');
        clock.advance(1000 * attempt);
      }
      assert.equal((await q.claim(['q']))?.attempts, 3);
      const failed = await q.fail(job.id, 'boom 3', 1000);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.lastError, 'boom 3');
      assert.ok(failed?.finishedAt);
      clock.advance(60_000);
      assert.equal(await q.claim(['q']), null);
    });

    it('fails at once when no retry is wanted', async () => {
      const q = makeQueue();
      const job = await q.enqueue('q', 'k', { v: 1 });
      await q.claim(['q']);
      const failed = await q.fail(job.id, 'bad payload', null);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.attempts, 1);
    });

    it('lets another worker reclaim a job whose lease expired (crashed worker)', async () => {
      const crashed = makeQueue({ workerId: 'crashed', leaseSeconds: 10 });
      const survivor = makeQueue({ workerId: 'survivor', leaseSeconds: 10 }, tdb.open());
      const job = await crashed.enqueue('q', 'k', { v: 1 });
      assert.equal((await crashed.claim(['q']))?.leaseOwner, 'crashed');

      clock.advance(9_999);
      assert.equal(await survivor.claim(['q']), null, 'lease still valid');
      clock.advance(1);
      const reclaimed = await survivor.claim(['q']);
      assert.equal(reclaimed?.id, job.id);
      assert.equal(reclaimed?.leaseOwner, 'survivor');
      assert.equal(reclaimed?.attempts, 2, 'the crashed run counts as an attempt');

      // The "crashed" worker wakes up late: its writes are refused.
      assert.equal(await crashed.heartbeat(job.id), false);
      assert.equal(await crashed.complete(job.id, 'late'), null);
      assert.equal(await crashed.fail(job.id, 'late', 0), null);
      assert.equal((await survivor.complete(job.id, 'ok'))?.status, 'succeeded');
    });

    it('keeps a lease alive with heartbeats', async () => {
      const a = makeQueue({ workerId: 'a', leaseSeconds: 10 });
      const b = makeQueue({ workerId: 'b', leaseSeconds: 10 });
      await a.enqueue('q', 'k', { v: 1 });
      const job = await a.claim(['q']);
      assert.ok(job);
      for (let i = 0; i < 5; i++) {
        clock.advance(6_000);
        assert.equal(await a.heartbeat(job.id), true);
        assert.equal(await b.claim(['q']), null);
      }
    });

    it('fails expired jobs with no attempts left on recover()', async () => {
      const q = makeQueue({ leaseSeconds: 5, maxAttempts: 1 });
      const job = await q.enqueue('q', 'k', { v: 1 });
      await q.claim(['q']);
      clock.advance(5_000);
      assert.equal(await q.claim(['q']), null, 'exhausted jobs are not reclaimed');
      assert.deepEqual(await q.recover(), { released: 0, failed: 1 });
      const failed = await q.get(job.id);
      assert.equal(failed?.status, 'failed');
      assert.match(failed?.lastError ?? '', /lease expired/);
    });

    it('resumes orphaned jobs at once on an exclusive recover()', async () => {
      const before = makeQueue({ workerId: 'before-crash', leaseSeconds: 600 });
      const job = await before.enqueue('q', 'k', { v: 1 });
      await before.claim(['q']);
      const after = makeQueue({ workerId: 'after-restart', leaseSeconds: 600 }, tdb.open());
      assert.equal(await after.claim(['q']), null);
      assert.deepEqual(await after.recover({ exclusive: true }), { released: 1, failed: 0 });
      const resumed = await after.claim(['q']);
      assert.equal(resumed?.id, job.id);
      assert.equal(resumed?.attempts, 2);
    });

    it('releases a job without spending an attempt', async () => {
      const q = makeQueue();
      const job = await q.enqueue('q', 'k', { v: 1 });
      await q.claim(['q']);
      const released = await q.release(job.id);
      assert.equal(released?.status, 'queued');
      assert.equal(released?.attempts, 0);
      assert.equal((await q.claim(['q']))?.attempts, 1);
    });

    it('cancels queued and running jobs, and leaves finished ones alone', async () => {
      const q = makeQueue();
      const queued = await q.enqueue('q', 'k', { v: 1 });
      const cancelled = await q.cancel(queued.id);
      assert.equal(cancelled?.status, 'cancelled');
      assert.ok(cancelled?.finishedAt);
      assert.equal(await q.claim(['q']), null);

      const running = await q.enqueue('q', 'k', { v: 1 });
      await q.claim(['q']);
      assert.equal((await q.cancel(running.id))?.status, 'cancelled');
      assert.equal(await q.heartbeat(running.id), false, 'the worker learns of the cancel at its next heartbeat');
      assert.equal(await q.complete(running.id, 'too late'), null);

      const finished = await q.enqueue('q', 'k', { v: 1 });
      await q.claim(['q']);
      await q.complete(finished.id, 1);
      assert.equal((await q.cancel(finished.id))?.status, 'succeeded');
      assert.equal(await q.cancel('00000000-0000-0000-0000-000000000000'), null);
    });

    it('deduplicates while a job with the same key is queued', async () => {
      const q = makeQueue();
      const a = await q.enqueue('q', 'reconcile', { v: 1, n: 1 }, { dedupeKey: 'server-1' });
      clock.advance(1);
      const b = await q.enqueue('q', 'reconcile', { v: 1, n: 2 }, { dedupeKey: 'server-1' });
      assert.equal(b.id, a.id);
      assert.deepEqual(b.payload, { v: 1, n: 1 }, 'the queued job is returned as stored');
      const otherKey = await q.enqueue('q', 'reconcile', { v: 1 }, { dedupeKey: 'server-2' });
      const otherKind = await q.enqueue('q', 'other', { v: 1 }, { dedupeKey: 'server-1' });
      assert.notEqual(otherKey.id, a.id);
      assert.notEqual(otherKind.id, a.id);
      assert.equal((await q.list({ queue: 'q', kind: 'reconcile' })).length, 2);

      // Once it runs, the same key may be queued again: new work arrived after it started.
      assert.equal((await q.claim(['q']))?.id, a.id);
      const c = await q.enqueue('q', 'reconcile', { v: 1, n: 3 }, { dedupeKey: 'server-1' });
      assert.notEqual(c.id, a.id);
      // a's retry cannot share the key with c; it is requeued without it rather than lost.
      const retried = await q.fail(a.id, 'transient', 0);
      assert.equal(retried?.status, 'queued');
      assert.equal(retried?.dedupeKey, null);
      assert.equal((await q.get(c.id))?.dedupeKey, 'server-1');
    });

    it('lists with filters', async () => {
      const q = makeQueue();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        clock.advance(1);
        ids.push((await q.enqueue(i < 3 ? 'x' : 'y', 'k', { v: 1, i })).id);
      }
      await q.claim(['x']);
      assert.deepEqual((await q.list({ queue: 'x' })).map((j) => j.id), ids.slice(0, 3));
      assert.deepEqual((await q.list({ status: 'running' })).map((j) => j.id), [ids[0]]);
      assert.deepEqual((await q.list({ status: ['queued'], limit: 2 })).map((j) => j.id), ids.slice(1, 3));
      assert.equal((await q.list()).length, 4);
    });

    it('never hands the same job to two concurrent claimers', async () => {
      const queues = [makeQueue({ workerId: 'a' }), makeQueue({ workerId: 'b' }, tdb.open()), makeQueue({ workerId: 'c' }, tdb.open())];
      const total = 30;
      for (let i = 0; i < total; i++) await queues[0]!.enqueue('race', 'k', { v: 1, i });
      const claimed: JobRecord[] = [];
      await Promise.all(
        queues.flatMap((q) =>
          [0, 1, 2].map(async () => {
            for (;;) {
              const job = await q.claim(['race']);
              if (!job) return;
              claimed.push(job);
            }
          }),
        ),
      );
      assert.equal(claimed.length, total);
      assert.equal(new Set(claimed.map((j) => j.id)).size, total);
      assert.ok(claimed.every((j) => j.attempts === 1));
    });
  });
}
