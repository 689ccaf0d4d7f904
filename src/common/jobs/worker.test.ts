import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { JobQueue } from './queue.js';
import { createTestDatabase, testEngines, type TestDatabase } from './testing.js';
import { PermanentJobError, type JobHandler, type JobQueueOptions } from './types.js';
import { WorkerPool, type WorkerPoolOptions } from './worker.js';

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

for (const engine of testEngines()) {
  describe(`WorkerPool on ${engine}`, () => {
    let tdb: TestDatabase;
    const pools: WorkerPool[] = [];
    const errors: Array<{ err: unknown; context: string }> = [];

    const makeQueue = (over: Partial<JobQueueOptions> = {}): JobQueue =>
      new JobQueue(tdb.open(), { leaseSeconds: 30, maxAttempts: 3, pollIntervalMs: 20, ...over });
    const makePool = (q: JobQueue, handlers: JobHandler[], over: Partial<WorkerPoolOptions> = {}): WorkerPool => {
      const pool = new WorkerPool(q, handlers, {
        concurrency: 2,
        backoff: () => 10,
        graceMs: 2000,
        onError: (err, context) => errors.push({ err, context }),
        ...over,
      });
      pools.push(pool);
      return pool;
    };

    beforeEach(async () => {
      tdb = await createTestDatabase(engine);
      errors.length = 0;
      await makeQueue().migrate();
    });
    afterEach(async () => {
      await Promise.all(pools.splice(0).map((p) => p.stop()));
      await tdb.cleanup();
      assert.deepEqual(errors, [], 'no unexpected background errors');
    });

    it('processes every job exactly once across three pools on one database', async () => {
      const runs = new Map<number, number>();
      // Typed payloads: a JobHandler<P> fits where JobHandler[] is expected.
      const handler: JobHandler<{ v: 1; n: number }> = {
        queue: 'work',
        kind: 'count',
        async run(payload) {
          const n = payload.n;
          runs.set(n, (runs.get(n) ?? 0) + 1);
          await sleep(5 + (n % 4) * 5);
          return { n };
        },
      };
      const queues = [makeQueue({ workerId: 'p1' }), makeQueue({ workerId: 'p2' }), makeQueue({ workerId: 'p3' })];
      const started = queues.map((q) => makePool(q, [handler], { concurrency: 3 }));
      await Promise.all(started.map((p) => p.start()));
      for (let n = 0; n < 20; n++) await queues[n % 3]!.enqueue('work', 'count', { v: 1, n });

      await waitFor('20 succeeded jobs', async () => (await queues[0]!.list({ status: 'succeeded' })).length === 20);
      assert.equal(runs.size, 20);
      assert.ok([...runs.values()].every((count) => count === 1), 'each job ran once');
      const jobs = await queues[0]!.list({ queue: 'work' });
      assert.ok(jobs.every((j) => j.attempts === 1));
      const owners = new Set(jobs.map((j) => j.leaseOwner));
      assert.ok(owners.size >= 2, `work was spread over pools (${[...owners].join(', ')})`);
      const totals = started.map((p) => p.status());
      assert.equal(totals.reduce((s, t) => s + t.processed, 0), 20);
      assert.equal(totals.reduce((s, t) => s + t.succeeded, 0), 20);
      assert.equal(totals.reduce((s, t) => s + t.failed, 0), 0);
    });

    it('retries a throwing handler with backoff, then fails the job', async () => {
      const q = makeQueue({ maxAttempts: 3 });
      const delays: number[] = [];
      const pool = makePool(
        q,
        [
          {
            queue: 'q',
            kind: 'flaky',
            run: async () => {
              throw new Error('upstream unavailable');
            },
          },
        ],
        {
          backoff: (attempt) => {
            delays.push(attempt);
            return 15;
          },
        },
      );
      await pool.start();
      const job = await q.enqueue('q', 'flaky', { v: 1 });
      await waitFor('job failed', async () => (await q.get(job.id))?.status === 'failed');
      const failed = await q.get(job.id);
      assert.equal(failed?.attempts, 3);
      assert.equal(failed?.lastError, 'upstream unavailable');
      assert.deepEqual(delays, [1, 2, 3]);
      assert.deepEqual(pool.status(), { running: 0, processed: 3, succeeded: 0, failed: 3 });
    });

    it('fails at once on PermanentJobError and on an unknown kind', async () => {
      const q = makeQueue();
      const pool = makePool(q, [
        {
          queue: 'q',
          kind: 'strict',
          run: async (payload) => {
            throw new PermanentJobError(`payload version ${payload.v} not supported`);
          },
        },
      ]);
      await pool.start();
      const strict = await q.enqueue('q', 'strict', { v: 9 });
      const unknown = await q.enqueue('q', 'mystery', { v: 1 });
      await waitFor('both failed', async () => (await q.list({ status: 'failed' })).length === 2);
      const s = await q.get(strict.id);
      assert.equal(s?.attempts, 1);
      assert.equal(s?.lastError, 'PermanentJobError: payload version 9 not supported');
      const u = await q.get(unknown.id);
      assert.equal(u?.attempts, 1);
      assert.match(u?.lastError ?? '', /no handler for job kind 'mystery' on queue 'q'/);
    });

    it('claims at once on in-process enqueue instead of waiting for the poll', async () => {
      const q = makeQueue({ pollIntervalMs: 60_000 });
      const pool = makePool(q, [{ queue: 'q', kind: 'k', run: async () => 'done' }]);
      await pool.start();
      await sleep(50); // let the first (empty) claim finish so the pool is napping
      const t0 = Date.now();
      const job = await q.enqueue('q', 'k', { v: 1 });
      await waitFor('job succeeded', async () => (await q.get(job.id))?.status === 'succeeded', 3000);
      assert.ok(Date.now() - t0 < 3000);
      assert.deepEqual((await q.get(job.id))?.result, 'done');
    });

    it('runs no more than `concurrency` handlers at once', async () => {
      const q = makeQueue();
      let active = 0;
      let peak = 0;
      let openGate: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      const pool = makePool(
        q,
        [
          {
            queue: 'q',
            kind: 'k',
            run: async () => {
              peak = Math.max(peak, ++active);
              await gate;
              active--;
            },
          },
        ],
        { concurrency: 3 },
      );
      for (let i = 0; i < 12; i++) await q.enqueue('q', 'k', { v: 1 });
      await pool.start();
      await waitFor('pool full', () => pool.status().running === 3);
      await sleep(150); // several polls and wake-ups: none may start a fourth handler
      assert.equal(active, 3);
      assert.equal((await q.list({ status: 'running' })).length, 3);
      openGate();
      await waitFor('all done', () => pool.status().processed === 12);
      assert.equal(peak, 3);
    });

    it('stop() aborts the signal and waits for in-flight handlers', async () => {
      const q = makeQueue();
      let stubbornFinished = false;
      const pool = makePool(q, [
        {
          queue: 'q',
          kind: 'stubborn',
          run: async () => {
            await sleep(300); // ignores the signal: stop() must wait for it
            stubbornFinished = true;
            return 'finished';
          },
        },
        {
          queue: 'q',
          kind: 'polite',
          run: (_payload, { signal }) =>
            new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
            }),
        },
      ]);
      const stubborn = await q.enqueue('q', 'stubborn', { v: 1 });
      const polite = await q.enqueue('q', 'polite', { v: 1 });
      await pool.start();
      await waitFor('both running', () => pool.status().running === 2);
      await pool.stop();
      assert.equal(stubbornFinished, true);
      assert.equal(pool.status().running, 0);
      assert.equal((await q.get(stubborn.id))?.status, 'succeeded');
      const released = await q.get(polite.id);
      assert.equal(released?.status, 'queued', 'an interrupted job goes back to the queue');
      assert.equal(released?.attempts, 0, 'shutdown does not spend an attempt');
    });

    it('resumes a job whose worker crashed once its lease expires', async () => {
      const crashed = makeQueue({ workerId: 'crashed', leaseSeconds: 0.3 });
      const job = await crashed.enqueue('q', 'k', { v: 1 });
      assert.ok(await crashed.claim(['q'])); // ...and never completes: the process "died"
      // A long lease for the survivor, so a slow machine cannot make it lose the job too.
      const survivor = makeQueue({ workerId: 'survivor', leaseSeconds: 30 });
      const pool = makePool(survivor, [{ queue: 'q', kind: 'k', run: async () => 'resumed' }]);
      await pool.start();
      await waitFor('job resumed', async () => (await survivor.get(job.id))?.status === 'succeeded');
      const done = await survivor.get(job.id);
      assert.equal(done?.attempts, 2);
      assert.equal(done?.leaseOwner, 'survivor');
    });

    it('resumes orphaned jobs immediately when started exclusive', async () => {
      const before = makeQueue({ workerId: 'before', leaseSeconds: 600 });
      const job = await before.enqueue('q', 'k', { v: 1 });
      await before.claim(['q']);
      const after = makeQueue({ workerId: 'after', leaseSeconds: 600 });
      const pool = makePool(after, [{ queue: 'q', kind: 'k', run: async () => 'ok' }], { exclusive: true });
      await pool.start();
      await waitFor('job resumed', async () => (await after.get(job.id))?.status === 'succeeded', 3000);
    });

    it('keeps the lease alive for long handlers, and aborts on cancel', async () => {
      const q = makeQueue({ workerId: 'owner', leaseSeconds: 0.6 });
      const thief = makeQueue({ workerId: 'thief', leaseSeconds: 0.6 });
      let sawAbort = false;
      const pool = makePool(q, [
        {
          queue: 'q',
          kind: 'long',
          run: async (_payload, { signal }) => {
            const until = Date.now() + 5000;
            while (!signal.aborted && Date.now() < until) await sleep(10);
            sawAbort = signal.aborted;
          },
        },
      ]);
      const job = await q.enqueue('q', 'long', { v: 1 });
      await pool.start();
      await waitFor('running', () => pool.status().running === 1);
      for (let i = 0; i < 6; i++) {
        await sleep(300); // 1.8 s in total: three times the lease
        assert.equal(await thief.claim(['q']), null, 'heartbeats keep the lease');
      }
      await q.cancel(job.id);
      await waitFor('handler aborted', () => pool.status().running === 0, 3000);
      assert.equal(sawAbort, true);
      assert.equal((await q.get(job.id))?.status, 'cancelled');
    });

    it('runs periodic tasks without overlap and stops them on stop()', async () => {
      const q = makeQueue();
      const pool = makePool(q, []);
      let runs = 0;
      let overlapping = 0;
      let active = 0;
      pool.schedulePeriodic('test.tick', 10, async () => {
        overlapping = Math.max(overlapping, ++active);
        runs++;
        await sleep(25);
        active--;
      });
      const unschedule = pool.schedulePeriodic('test.gone', 10, () => {
        throw new Error('should have been unscheduled');
      });
      unschedule();
      let failures = 0;
      pool.schedulePeriodic('test.throws', 10, () => {
        failures++;
        throw new Error('reaper hiccup');
      });
      assert.throws(() => pool.schedulePeriodic('test.tick', 10, () => undefined), /already scheduled/);
      await pool.start();
      await waitFor('several ticks', () => runs >= 3 && failures >= 2);
      await pool.stop();
      const after = runs;
      await sleep(80);
      assert.equal(runs, after, 'no runs after stop()');
      assert.equal(overlapping, 1);
      const reported = errors.splice(0);
      assert.ok(reported.length >= 2);
      assert.ok(reported.every((e) => e.context === 'periodic task test.throws'));
    });
  });
}
