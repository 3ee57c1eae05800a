// worker_threads and process exit: many workers load the addon at once, SharedArrayBuffer tensors shared without
// copies, busy-range checks across workers, terminate/exit with work in flight neither hang nor crash.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bufferPoolStats, executorStats, matmul, matmulAsync, rand, tensor } from '../src/index.js';
import { expectSameArray } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const workerFile = join(here, 'fixtures', 'parallel-worker.mjs');
const exitFile = join(here, 'fixtures', 'parallel-exit.mjs');

interface Msg {
  [key: string]: unknown;
}

function startWorker(workerData: Record<string, unknown>): { worker: Worker; first: Promise<Msg>; exit: Promise<number> } {
  const worker = new Worker(workerFile, { workerData });
  const first = new Promise<Msg>((res, rej) => {
    worker.once('message', res);
    worker.once('error', rej);
  });
  const exit = new Promise<number>((res) => worker.once('exit', res));
  return { worker, first, exit };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms))]);

describe('worker_threads', () => {
  it('eight workers load the addon at once and compute correct results (sync and async)', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) => {
      const m = 20 + i, k = 33 + 2 * i, n = 17 + i;
      const a = rand([m, k], { seed: 50 + i });
      const b = rand([k, n], { seed: 60 + i });
      return { m, k, n, a, b, w: startWorker({ mode: 'compute', m, k, n, a: a.data, b: b.data }) };
    });
    const msgs = await within(Promise.all(jobs.map((j) => j.w.first)), 60_000, 'workers');
    for (let i = 0; i < jobs.length; i++) {
      const want = matmul(jobs[i].a, jobs[i].b).data as Float32Array;
      expect(Array.from(msgs[i].sync as Float32Array)).toEqual(Array.from(want));
      expect(Array.from(msgs[i].async as Float32Array)).toEqual(Array.from(want));
    }
    await Promise.all(jobs.map((j) => j.w.exit));
  });

  it('workers compute row blocks of one product straight into a SharedArrayBuffer', async () => {
    const m = 256, k = 96, n = 80;
    const sab = new SharedArrayBuffer(4 * (m * k + k * n + m * n));
    const a = tensor(new Float32Array(sab, 0, m * k), [m, k]);
    const b = tensor(new Float32Array(sab, 4 * m * k, k * n), [k, n]);
    const out = tensor(new Float32Array(sab, 4 * (m * k + k * n), m * n), [m, n]);
    a.data.set(rand([m, k], { seed: 1 }).data as Float32Array);
    b.data.set(rand([k, n], { seed: 2 }).data as Float32Array);
    const blocks = 4;
    const ws = Array.from({ length: blocks }, (_, i) => startWorker({ mode: 'rows', sab, m, k, n, r0: (i * m) / blocks, r1: ((i + 1) * m) / blocks }));
    await within(Promise.all(ws.map((w) => w.first)), 60_000, 'row workers');
    expectSameArray(out.data, matmul(a, b).data);
    await Promise.all(ws.map((w) => w.exit));
  });

  it('refuses a worker\'s write to shared memory that an op of the main thread is still writing', async () => {
    const n = 1536;
    const sab = new SharedArrayBuffer(4 * n * n);
    const flag = new SharedArrayBuffer(4);
    const out = tensor(new Float32Array(sab), [n, n]);
    const a = rand([n, n], { seed: 3 });
    const w = startWorker({ mode: 'write-busy', sab, offset: 4 * 1000, length: 64, flag });
    expect((await within(w.first, 60_000, 'busy worker')).ready).toBe(true);
    const answer = new Promise<Msg>((res) => w.worker.once('message', res));
    let settled = false;
    const pending = matmulAsync(a, a, { out }).then(() => {
      settled = true;
    });
    Atomics.store(new Int32Array(flag), 0, 1);
    Atomics.notify(new Int32Array(flag), 0);
    const msg = await within(answer, 60_000, 'busy answer');
    // If our op had not settled when the answer came, it was in flight when the worker tried: refused.
    if (!settled) expect(msg.code).toBe('ERR_SIMDTENSOR_BUSY');
    else expect(['ERR_SIMDTENSOR_BUSY', 'none']).toContain(msg.code);
    expect(settled, 'the main op finished before the worker tried; the test proved nothing').toBe(false);
    await pending;
    await w.exit;
    expect(executorStats().busyRanges).toBe(0);
  });

  it('terminating a worker with ops queued and running neither hangs nor crashes; its queued ops are dropped', async () => {
    for (let round = 0; round < 3; round++) {
      const before = executorStats().tasksRun;
      const w = startWorker({ mode: 'flood', n: 1024, count: 24 });
      const msg = await within(w.first, 60_000, 'flood worker');
      expect(msg.started).toBe(24);
      await within(w.worker.terminate(), 30_000, 'terminate');
      // 24 GEMMs of 1024³ take far longer than a message hop: most were still queued and never ran.
      expect(executorStats().tasksRun - before).toBeLessThan(24);
      expect(executorStats().queued).toBe(0);
    }
    // The process and the pool are fine afterwards.
    const a = rand([64, 64]);
    expectSameArray((await matmulAsync(a, a)).data, matmul(a, a).data);
    expect(executorStats().busyRanges).toBe(0);
  });

  it('a worker calling process.exit() with ops in flight exits cleanly', async () => {
    const w = startWorker({ mode: 'flood', n: 384, count: 8, exit: true });
    await within(w.first, 60_000, 'exiting worker');
    expect(await within(w.exit, 30_000, 'worker exit')).toBe(3);
    expect(executorStats().busyRanges).toBe(0);
  });
});

describe('process exit with work in flight', () => {
  const run = (mode: string) =>
    spawnSync(process.execPath, [exitFile, mode], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
  /** The child ran to its end by itself (no spawn error, no timeout kill, no signal) with exit status `status`. */
  const expectExit = (r: ReturnType<typeof run>, status: number) => {
    expect(r.error).toBeUndefined();
    expect(r.signal).toBeNull();
    expect(r.status).toBe(status);
  };

  // [title, the child's mode, its exit status, a line it must print on stdout or stderr]
  const exits: [string, string, number, { stdout: string } | { stderr: string } | null][] = [
    ['pending ops keep the process alive until they settle, then it exits by itself', 'natural', 0, { stdout: 'done 8' }],
    ['process.exit() with ops queued and running exits at once with its code', 'exit-now', 0, null],
    ['an uncaught exception with ops in flight exits with status 1 (no crash, no hang)', 'throw', 1, { stderr: 'uncaught with work in flight' }],
    ['the main thread exiting while several workers flood the pool exits cleanly', 'workers-exit', 0, null],
  ];
  for (const [title, mode, status, printed] of exits)
    it(title, () => {
      const r = run(mode);
      expectExit(r, status);
      if (printed && 'stdout' in printed) expect(r.stdout).toContain(printed.stdout);
      if (printed && 'stderr' in printed) expect(r.stderr).toContain(printed.stderr);
    });

  it('workers churning pooled output buffers, terminated while they own some, leave a consistent pool', async () => {
    const before = bufferPoolStats();
    const ws = Array.from({ length: 4 }, (_, i) => startWorker({ mode: 'pool', bytes: (256 + 64 * i) << 10, count: 40 }));
    const msgs = await within(Promise.all(ws.map((w) => w.first)), 60_000, 'pool workers');
    for (const m of msgs) expect(m.kept).toBe(10);
    await Promise.all(ws.map(async (w) => {
      await w.worker.terminate();
      await w.exit;
    }));
    // Every block the workers held came back (finalizers run at worker teardown), or was never pooled.
    const after = bufferPoolStats();
    expect(after.outstandingBytes).toBeLessThanOrEqual(before.outstandingBytes); // (main-thread buffers may come back meanwhile)
    expect(after.hits + after.misses + after.declined).toBe(before.hits + before.misses + before.declined + 160);
    expect(after.cachedBytes).toBeLessThanOrEqual(after.limitBytes);
  });
});
