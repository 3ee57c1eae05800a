// BatchScheduler semantics under fake timers: batch cutting, delays, priorities, timeouts, aborts, full queues,
// failing batches, close, bad input.
import { describe, expect, it, vi } from 'vitest';
import { BatchScheduler, SchedulerError, Tensor, tensor, type BatchSchedulerOptions, type SubmitOptions } from '../src/index.js';
import { track, useFakeTimersPerTest } from './helpers.js';

const COLS = 3;

/** A request of `rows` rows whose elements are id*100 + row*10 + col (so every row is recognisable). */
function req(id: number, rows = 1): Tensor {
  const d = new Float32Array(rows * COLS);
  for (let r = 0; r < rows; r++) for (let c = 0; c < COLS; c++) d[r * COLS + c] = id * 100 + r * 10 + c;
  return tensor(d, [rows, COLS]);
}

/** runBatch's answer to a batch: every element + 0.5, in a fresh buffer. */
function answer(x: Tensor): Tensor {
  const d = Float32Array.from(x.data as Float32Array, (v) => v + 0.5);
  return tensor(d, x.shape);
}

/** Checks that `y` holds exactly the answer to request `id` with `rows` rows. */
function expectOwnRows(y: Tensor, id: number, rows = 1): void {
  expect(y.shape).toEqual([rows, COLS]);
  expect(Array.from(y.data)).toEqual(Array.from(answer(req(id, rows)).data));
}

/** The request ids in a batch (from the first element of each row; row 0 of each request). */
function idsIn(batch: Tensor): number[] {
  const ids: number[] = [];
  for (let r = 0; r < batch.shape[0]; r++) {
    const v = batch.data[r * COLS];
    if (Math.round(v) % 100 === 0) ids.push(Math.round(v) / 100);
  }
  return ids;
}

/** A runBatch that records its batches and answers them synchronously. */
function recorder() {
  const batches: Tensor[] = [];
  const run = vi.fn((x: Tensor) => {
    batches.push(x);
    return answer(x);
  });
  return { run, batches, sizes: () => batches.map((b) => b.shape[0]) };
}

/** A runBatch whose batches finish only when the test says so. */
function manual() {
  const pending: Array<{ batch: Tensor; resolve: (t: Tensor) => void; reject: (e: unknown) => void }> = [];
  const run = vi.fn(
    (x: Tensor) =>
      new Promise<Tensor>((resolve, reject) => {
        pending.push({ batch: x, resolve, reject });
      }),
  );
  const finish = (i = 0) => {
    const p = pending.splice(i, 1)[0];
    p.resolve(answer(p.batch));
  };
  return { run, pending, finish };
}

/** Lets microtasks and due timers run. */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

useFakeTimersPerTest();

/**
 * Requests 1 (with `aOpts`) and 2 share one manual batch; `interrupt` rejects request 1 with `code` while the batch
 * runs. Then the batch finishes: request 1 settled once, request 2 got its own rows, one batch completed.
 */
async function rejectMidBatch(opts: BatchSchedulerOptions, aOpts: SubmitOptions, interrupt: () => Promise<unknown>, code: string) {
  const m = manual();
  const s = new BatchScheduler(m.run, opts);
  const a = track(s.submit(req(1), aOpts));
  const b = track(s.submit(req(2)));
  await tick(1);
  expect(m.pending.length).toBe(1);
  await interrupt();
  expect((a.error as SchedulerError).code).toBe(code);
  expect(b.settled).toBe(0);
  m.finish();
  await tick();
  expect(a.settled).toBe(1);
  expectOwnRows(b.value!, 2);
  expect(s.stats().completed).toBe(1);
  return { a, s };
}

describe('batch cutting', () => {
  it('cuts full batches at once and the remainder after maxDelayMs', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 4, maxDelayMs: 5 });
    const ps = Array.from({ length: 10 }, (_, i) => track(s.submit(req(i))));
    await tick();
    expect(r.sizes()).toEqual([4, 4]);
    await tick(4);
    expect(r.sizes()).toEqual([4, 4]);
    await tick(1);
    expect(r.sizes()).toEqual([4, 4, 2]);
    ps.forEach((p, i) => {
      expect(p.settled).toBe(1);
      expectOwnRows(p.value!, i);
    });
    expect(r.batches.map(idsIn)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('measures maxDelayMs from the oldest waiting request', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 8, maxDelayMs: 5 });
    const a = track(s.submit(req(1)));
    await tick(3);
    const b = track(s.submit(req(2)));
    await tick(1);
    expect(r.run).not.toHaveBeenCalled();
    await tick(1); // 5 ms after the first request, 2 ms after the second
    expect(r.sizes()).toEqual([2]);
    expect(a.settled + b.settled).toBe(2);
  });

  it('dispatches a lone request after exactly maxDelayMs', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxDelayMs: 7 });
    const t0 = performance.now();
    let at = -1;
    const p = s.submit(req(1)).then((y) => {
      at = performance.now() - t0;
      return y;
    });
    await tick(6);
    expect(r.run).not.toHaveBeenCalled();
    await tick(1);
    expectOwnRows(await p, 1);
    expect(at).toBe(7);
  });

  it('maxDelayMs 0 dispatches at once, batching what arrives while the slot is busy', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 8, maxDelayMs: 0 });
    const first = track(s.submit(req(0)));
    await tick();
    expect(m.pending.length).toBe(1);
    const rest = [1, 2, 3].map((i) => track(s.submit(req(i))));
    await tick();
    expect(m.pending.length).toBe(1); // the slot is busy
    m.finish();
    await tick();
    expect(first.settled).toBe(1);
    expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[1, 2, 3]]);
    m.finish();
    await tick();
    rest.forEach((p, i) => expectOwnRows(p.value!, i + 1));
  });

  it('workConserving: requests queued while the slot was busy go when it frees up, not after maxDelayMs', async () => {
    for (const workConserving of [true, false]) {
      const m = manual();
      const s = new BatchScheduler(m.run, { maxBatchSize: 4, maxDelayMs: 5, workConserving });
      const first = [0, 1, 2, 3].map((i) => track(s.submit(req(i))));
      await tick();
      expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[0, 1, 2, 3]]); // full: at once
      const mid = [4, 5, 6, 7, 8, 9].map((i) => track(s.submit(req(i))));
      await tick();
      expect(m.pending.length).toBe(1); // the slot is busy
      await tick(1);
      m.finish();
      await tick();
      first.forEach((p, i) => expectOwnRows(p.value!, i));
      // 4..7 make a full batch either way; 8 and 9 stay queued behind it.
      expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[4, 5, 6, 7]]);
      const late = track(s.submit(req(10))); // arrives while the slot is busy again
      await tick(1);
      m.finish();
      await tick();
      // 8, 9 (and 10) waited for the slot: with workConserving they go now (2 ms after 8 was queued); without,
      // 5 ms (maxDelayMs) after 8 was queued.
      expect(m.pending.map((p) => idsIn(p.batch))).toEqual(workConserving ? [[8, 9, 10]] : []);
      if (!workConserving) {
        await tick(2);
        expect(m.pending.length).toBe(0);
        await tick(1);
        expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[8, 9, 10]]);
      }
      m.finish();
      await tick();
      mid.forEach((p, i) => expectOwnRows(p.value!, i + 4));
      expectOwnRows(late.value!, 10);
      // A request that arrives while the slot is free still waits maxDelayMs for company.
      const alone = track(s.submit(req(11)));
      await tick(4);
      expect(alone.settled).toBe(0);
      expect(m.pending.length).toBe(0);
      await tick(1);
      expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[11]]);
      m.finish();
      await tick();
      expectOwnRows(alone.value!, 11);
    }
    expect(() => new BatchScheduler(async (x) => x, { workConserving: 1 as unknown as boolean })).toThrow(/opts\.workConserving must be true or false, got 1/);
  });

  it("batchDelay 'adaptive': under-full batches shrink the wait to 0, filling ones grow it back to maxDelayMs", async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 8, maxDelayMs: 4, batchDelay: 'adaptive' });
    expect(s.batchDelayMs).toBe(4);
    // A lone request first waits the whole bound; its batch (1 of 8 rows) cuts the delay by its fill, 4 -> 0.5.
    void s.submit(req(0));
    await tick(3);
    expect(r.sizes()).toEqual([]);
    await tick(1);
    expect(r.sizes()).toEqual([1]);
    expect(s.batchDelayMs).toBe(0.5);
    // 0.5 ms (a 1 ms timer: Node's resolution), then 0.5 / 8 is below maxDelayMs / 16: 0.
    void s.submit(req(1));
    await tick();
    expect(r.sizes()).toEqual([1]);
    await tick(1);
    expect(r.sizes()).toEqual([1, 1]);
    expect(s.batchDelayMs).toBe(0);
    // Now a batch goes at the end of the event-loop turn (a setImmediate, no timer), with what arrived in that turn.
    void s.submit(req(2));
    await Promise.resolve();
    void s.submit(req(3));
    expect(vi.getTimerCount()).toBe(1); // the immediate
    await tick();
    expect(r.batches.slice(2).map(idsIn)).toEqual([[2, 3]]);
    expect(vi.getTimerCount()).toBe(0);
    void s.submit(req(4));
    await tick();
    expect(r.sizes()).toEqual([1, 1, 2, 1]);
    // Full batches: from 0 to maxDelayMs / 8, then doubling up to the bound.
    const grown: number[] = [];
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 8; i++) void s.submit(req(10 + i));
      await tick();
      grown.push(s.batchDelayMs);
    }
    expect(r.sizes().slice(4)).toEqual([8, 8, 8, 8, 8]);
    expect(grown).toEqual([0.5, 1, 2, 4, 4]);
    // A half-full batch waits the bound and halves it; requests left queued behind a batch count as full.
    for (let i = 0; i < 4; i++) void s.submit(req(20 + i));
    await tick(3);
    expect(r.sizes().length).toBe(9);
    await tick(1);
    expect(r.sizes()[9]).toBe(4);
    expect(s.batchDelayMs).toBe(2);
    void s.submit(req(30, 5));
    void s.submit(req(31, 4)); // does not fit beside the first: the first batch cannot grow, goes at once
    await tick();
    expect(r.sizes()[10]).toBe(5);
    expect(s.batchDelayMs).toBe(4);
    await tick(4);
    expect(r.sizes()[11]).toBe(4);
    expect(s.batchDelayMs).toBe(2);
    // The default stays the fixed delay.
    const f = new BatchScheduler(recorder().run, { maxBatchSize: 8, maxDelayMs: 4 });
    void f.submit(req(0));
    await tick(4);
    expect(f.batchDelayMs).toBe(4);
    expect(f.stats().batchDelayMs).toBe(4);
    expect(s.stats().batchDelayMs).toBe(2);
    expect(() => new BatchScheduler(async (x) => x, { batchDelay: 'auto' as 'fixed' })).toThrow(/opts\.batchDelay must be 'fixed' or 'adaptive', got 'auto'/);
  });

  it('dispatches a preferred batch size without waiting', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 16, maxDelayMs: 50, preferredBatchSizes: [4, 8] });
    for (let i = 0; i < 3; i++) void s.submit(req(i));
    await tick();
    expect(r.run).not.toHaveBeenCalled();
    void s.submit(req(3));
    await tick();
    expect(r.sizes()).toEqual([4]);
    for (let i = 4; i < 10; i++) void s.submit(req(i)); // 6 queued: the largest preferred prefix is 4
    await tick();
    expect(r.sizes()).toEqual([4, 4]);
    await tick(50);
    expect(r.sizes()).toEqual([4, 4, 2]);
  });

  it('keeps multi-row requests whole and in order', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 4, maxDelayMs: 5 });
    const a = track(s.submit(req(1, 3)));
    const b = track(s.submit(req(2, 2)));
    const c = track(s.submit(req(3, 1)));
    await tick();
    // [3 rows] cannot grow (the next request does not fit), so it goes at once; [2 + 1 rows] waits.
    expect(r.sizes()).toEqual([3]);
    await tick(4);
    expect(r.sizes()).toEqual([3]);
    await tick(1);
    expect(r.sizes()).toEqual([3, 3]);
    expect(r.batches.map(idsIn)).toEqual([[1], [2, 3]]);
    expectOwnRows(a.value!, 1, 3);
    expectOwnRows(b.value!, 2, 2);
    expectOwnRows(c.value!, 3, 1);
  });

  it('cuts a full batch inside a synchronous burst, but never calls runBatch inside submit', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 4, maxDelayMs: 5, maxQueue: 4 });
    const ps = Array.from({ length: 9 }, (_, i) => track(s.submit(req(i))));
    expect(m.run).not.toHaveBeenCalled();
    expect(s.runningBatches).toBe(1); // [0..3] was cut when it filled
    expect(s.queueDepth).toBe(4); // [4..7] wait for the slot
    await tick();
    expect((ps[8].error as SchedulerError).code).toBe('queue_full');
    expect(m.pending.map((p) => idsIn(p.batch))).toEqual([[0, 1, 2, 3]]);
    m.finish();
    await tick();
    m.finish();
    await tick();
    ps.slice(0, 8).forEach((p, i) => expectOwnRows(p.value!, i));
  });

  it('runs up to maxConcurrentBatches at once', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 2, maxDelayMs: 1, maxConcurrentBatches: 2 });
    const ps = Array.from({ length: 6 }, (_, i) => track(s.submit(req(i))));
    await tick();
    expect(m.pending.length).toBe(2);
    expect(s.runningBatches).toBe(2);
    expect(s.queueDepth).toBe(2);
    m.finish(1); // the second batch finishes first
    await tick();
    expect(ps[2].settled).toBe(1);
    expect(ps[0].settled).toBe(0);
    expect(m.pending.length).toBe(2);
    m.finish();
    m.finish();
    await tick();
    ps.forEach((p, i) => expectOwnRows(p.value!, i));
  });
});

describe('priorities', () => {
  it('runs higher priority first, FIFO within a level', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 2, maxDelayMs: 0 });
    void s.submit(req(0));
    await tick();
    const order = [
      [1, 0],
      [2, 5],
      [3, 0],
      [4, 5],
      [5, -1],
      [6, 9],
    ];
    for (const [id, priority] of order) void s.submit(req(id), { priority });
    await tick();
    const seen: number[][] = [];
    while (m.pending.length) {
      seen.push(idsIn(m.pending[0].batch));
      m.finish();
      await tick();
    }
    expect(seen).toEqual([[0], [6, 2], [4, 1], [3, 5]]);
  });
});

describe('many priority levels', () => {
  it('orders by any numeric priority and forgets emptied levels', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 8, maxDelayMs: 0 });
    void s.submit(req(0));
    await tick();
    const prios: number[] = [];
    for (let i = 1; i <= 40; i++) {
      const p = (i * 37) % 11; // repeats, so FIFO within a level matters too
      prios[i] = p;
      void s.submit(req(i), { priority: p });
    }
    await tick();
    const order: number[] = [];
    while (m.pending.length) {
      order.push(...idsIn(m.pending[0].batch));
      m.finish();
      await tick();
    }
    const want = Array.from({ length: 40 }, (_, i) => i + 1).sort((a, b) => prios[b] - prios[a] || a - b);
    expect(order).toEqual([0, ...want]);
    expect((s as unknown as { levels: unknown[] }).levels.length).toBe(0);
  });
});

describe('timeouts', () => {
  it('rejects a request that times out in the queue; it never enters a batch', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxDelayMs: 10 });
    const a = track(s.submit(req(1), { timeoutMs: 3 }));
    const b = track(s.submit(req(2)));
    await tick(3);
    expect(a.error).toBeInstanceOf(SchedulerError);
    expect((a.error as SchedulerError).code).toBe('timeout');
    expect((a.error as SchedulerError).name).toBe('TimeoutError');
    expect((a.error as Error).message).toMatch(/timed out after 3 ms in the queue/);
    await tick(7);
    expect(r.batches.map(idsIn)).toEqual([[2]]);
    expectOwnRows(b.value!, 2);
    expect(s.stats().rejected.timeout).toBe(1);
  });

  it('rejects on time while the batch runs and drops its rows from the result', async () => {
    const { a, s } = await rejectMidBatch({ maxDelayMs: 1, timeoutMs: 20 }, { timeoutMs: 5 }, () => tick(4), 'timeout');
    expect((a.error as Error).message).toMatch(/while its batch ran/);
    expect(s.stats().rejected.timeout).toBe(1);
  });

  it('applies the scheduler default timeout', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxDelayMs: 0, timeoutMs: 8 });
    const a = track(s.submit(req(1)));
    await tick(7);
    expect(a.settled).toBe(0);
    await tick(1);
    expect((a.error as SchedulerError).code).toBe('timeout');
  });
});

describe('aborts', () => {
  it('rejects at once when the signal is already aborted', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxDelayMs: 1 });
    const ac = new AbortController();
    ac.abort(new Error('user left'));
    const a = track(s.submit(req(1), { signal: ac.signal }));
    await tick(5);
    expect((a.error as SchedulerError).code).toBe('aborted');
    expect((a.error as SchedulerError).name).toBe('AbortError');
    expect(((a.error as Error).cause as Error).message).toBe('user left');
    expect(r.run).not.toHaveBeenCalled();
  });

  it('drops a request aborted in the queue before its batch forms', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxDelayMs: 5 });
    const ac = new AbortController();
    const a = track(s.submit(req(1), { signal: ac.signal }));
    const b = track(s.submit(req(2)));
    await tick(2);
    ac.abort();
    await tick();
    expect((a.error as SchedulerError).code).toBe('aborted');
    expect((a.error as Error).message).toMatch(/aborted in the queue/);
    expect(s.queueDepth).toBe(1);
    await tick(3);
    expect(r.batches.map(idsIn)).toEqual([[2]]);
    expectOwnRows(b.value!, 2);
  });

  it('rejects a request aborted while its batch runs; the others still get their rows', async () => {
    const ac = new AbortController();
    const { s } = await rejectMidBatch({ maxDelayMs: 1 }, { signal: ac.signal }, () => (ac.abort(), tick()), 'aborted');
    expect(s.stats().latency.count).toBe(1);
  });

  it('removes its abort listener once settled', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxDelayMs: 0 });
    const ac = new AbortController();
    const spy = vi.spyOn(ac.signal, 'removeEventListener');
    await s.submit(req(1), { signal: ac.signal });
    expect(spy).toHaveBeenCalledWith('abort', expect.any(Function));
    ac.abort(); // no effect on a settled request
    expect(s.stats().rejected.aborted).toBe(0);
  });
});

describe('full queue', () => {
  it("onFull 'reject' rejects new requests while the queue is full", async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 8, maxDelayMs: 5, maxQueue: 2 });
    const a = track(s.submit(req(1)));
    const b = track(s.submit(req(2)));
    const c = track(s.submit(req(3)));
    await tick();
    expect((c.error as SchedulerError).code).toBe('queue_full');
    expect((c.error as Error).message).toMatch(/queue is full \(2 requests, maxQueue 2\)/);
    await tick(5);
    expectOwnRows(a.value!, 1);
    expectOwnRows(b.value!, 2);
    const d = track(s.submit(req(4))); // room again
    await tick(5);
    expectOwnRows(d.value!, 4);
    expect(s.stats().rejected.queueFull).toBe(1);
  });

  it("onFull 'wait' holds new requests until there is room, FIFO", async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 2, maxDelayMs: 1, maxQueue: 2, onFull: 'wait' });
    const ps = Array.from({ length: 7 }, (_, i) => track(s.submit(req(i))));
    await tick();
    // One batch of 2 runs; 2 are queued; 3 wait for room.
    expect(m.pending.length).toBe(1);
    expect(s.queueDepth).toBe(2);
    expect(s.stats().waitingForRoom).toBe(3);
    const seen: number[][] = [];
    for (let guard = 0; guard < 10 && (m.pending.length || s.queueDepth); guard++) {
      await tick(1);
      if (m.pending.length) {
        seen.push(idsIn(m.pending[0].batch));
        m.finish();
      }
      await tick();
    }
    expect(seen).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    ps.forEach((p, i) => expectOwnRows(p.value!, i));
  });

  it('times out and aborts requests waiting for room', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 1, onFull: 'wait' });
    const a = track(s.submit(req(0)));
    const b = track(s.submit(req(1)));
    const ac = new AbortController();
    const c = track(s.submit(req(2), { timeoutMs: 4 }));
    const d = track(s.submit(req(3), { signal: ac.signal }));
    await tick();
    expect(s.stats().waitingForRoom).toBe(2);
    ac.abort();
    await tick(4);
    expect((c.error as Error).message).toMatch(/while waiting for room in the queue/);
    expect((d.error as SchedulerError).code).toBe('aborted');
    m.finish();
    await tick();
    m.finish();
    await tick();
    expectOwnRows(a.value!, 0);
    expectOwnRows(b.value!, 1);
    expect(m.run).toHaveBeenCalledTimes(2);
  });
});

describe('failing batches', () => {
  it('rejects every request of a batch whose runBatch throws, then keeps serving', async () => {
    let fail = true;
    const boom = new Error('model exploded');
    const s = new BatchScheduler(
      (x) => {
        if (fail) throw boom;
        return answer(x);
      },
      { maxDelayMs: 1 },
    );
    const a = track(s.submit(req(1)));
    const b = track(s.submit(req(2)));
    await tick(1);
    for (const t of [a, b]) {
      expect((t.error as SchedulerError).code).toBe('batch_failed');
      expect((t.error as Error).message).toMatch(/runBatch failed on a batch of 2 rows \(2 requests\): model exploded/);
      expect((t.error as Error).cause).toBe(boom);
    }
    fail = false;
    const c = track(s.submit(req(3)));
    await tick(1);
    expectOwnRows(c.value!, 3);
    expect(s.stats().rejected.batchFailed).toBe(2);
  });

  it('rejects when runBatch returns a rejected promise', async () => {
    const bad = new RangeError('bad');
    const s = new BatchScheduler(() => Promise.reject(bad), { maxDelayMs: 0 });
    const e = (await s.submit(req(1)).catch((x: unknown) => x)) as SchedulerError;
    expect(e.code).toBe('batch_failed');
    expect(e.cause).toBe(bad);
  });

  it('rejects when runBatch returns the wrong number of rows or not a tensor', async () => {
    const s1 = new BatchScheduler((x) => x.rows(0, x.shape[0] - 1), { maxDelayMs: 1 });
    const a = track(s1.submit(req(1)));
    const b = track(s1.submit(req(2, 2)));
    await tick(1);
    for (const t of [a, b]) {
      expect((t.error as SchedulerError).code).toBe('batch_failed');
      expect((t.error as Error).message).toMatch(/must return a Tensor with 3 rows .* got shape \[2, 3\]/);
      expect((t.error as Error).cause).toBeInstanceOf(RangeError);
    }
    const s2 = new BatchScheduler(() => new Float32Array(3) as unknown as Tensor, { maxDelayMs: 0 });
    await expect(s2.submit(req(1))).rejects.toMatchObject({ code: 'batch_failed', message: expect.stringMatching(/got Float32Array\(3\)/) });
    const s3 = new BatchScheduler(() => tensor([1, 2, 3]).reshape([3]).rows(0, 0), { maxDelayMs: 0 });
    await expect(s3.submit(req(1))).rejects.toMatchObject({ code: 'batch_failed' });
  });
});

describe('close', () => {
  it('with drain runs everything queued at once, then resolves; later submits are rejected', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 4, maxDelayMs: 1000 });
    const ps = Array.from({ length: 6 }, (_, i) => track(s.submit(req(i))));
    await tick();
    expect(r.sizes()).toEqual([4]);
    let closed = false;
    void s.close().then(() => (closed = true));
    await tick();
    expect(r.sizes()).toEqual([4, 2]);
    expect(closed).toBe(true);
    ps.forEach((p, i) => expectOwnRows(p.value!, i));
    const late = track(s.submit(req(9)));
    await tick();
    expect((late.error as SchedulerError).code).toBe('closed');
    expect(s.isClosed).toBe(true);
  });

  it('without drain rejects what has not started; the running batch completes', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 2, maxDelayMs: 0, onFull: 'wait', maxQueue: 2 });
    const ps = Array.from({ length: 5 }, (_, i) => track(s.submit(req(i))));
    await tick();
    expect(m.pending.length).toBe(1); // [0, 1] runs, 2 and 3 are queued, 4 waits for room
    expect(s.queueDepth).toBe(2);
    let closed = false;
    void s.close({ drain: false }).then(() => (closed = true));
    await tick();
    for (const i of [2, 3, 4]) expect((ps[i].error as SchedulerError).code).toBe('closed');
    expect(closed).toBe(false);
    m.finish();
    await tick();
    expect(closed).toBe(true);
    expectOwnRows(ps[0].value!, 0);
    expectOwnRows(ps[1].value!, 1);
    expect(m.run).toHaveBeenCalledTimes(1);
  });

  it('resolves at once when idle, and returns the same promise when called again', async () => {
    const s = new BatchScheduler(answer);
    const p1 = s.close();
    const p2 = s.close({ drain: false });
    expect(p2).toBe(p1);
    await expect(p1).resolves.toBeUndefined();
    await expect(s.close({ drain: 'yes' as unknown as boolean })).rejects.toThrow(/close: opts.drain must be a boolean, got 'yes'/);
  });
});

describe('memory layout', () => {
  it('passes a lone request through, views adjacent requests, copies the rest; results are views', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 8, maxDelayMs: 1 });
    const lone = req(1, 2);
    await Promise.all([s.submit(lone), tick(1)]);
    expect(r.batches[0]).toBe(lone);

    const big = tensor(new Float32Array(4 * COLS).map((_, i) => i), [4, COLS]);
    const parts = [big.rows(0, 1), big.rows(1, 3), big.rows(3, 4)];
    const outs = parts.map((p) => s.submit(p));
    await tick(1);
    const viewed = r.batches[1];
    expect(viewed.data.buffer).toBe(big.data.buffer);
    expect(Array.from(viewed.data)).toEqual(Array.from(big.data));
    const ys = await Promise.all(outs);
    expect(ys[0].data.buffer).toBe(ys[2].data.buffer); // rows of one result
    expect(ys.map((y) => y.shape[0])).toEqual([1, 2, 1]);
    expect(Array.from(ys[1].data)).toEqual([3.5, 4.5, 5.5, 6.5, 7.5, 8.5]);

    const far = [big.rows(0, 1), big.rows(2, 3)];
    const outs2 = far.map((p) => s.submit(p));
    await tick(1);
    expect(r.batches[2].data.buffer).not.toBe(big.data.buffer);
    expect(Array.from(r.batches[2].data)).toEqual([0, 1, 2, 6, 7, 8]);
    await Promise.all(outs2);
  });

  it('batches int8 and 3-D rows', async () => {
    const r = { batches: [] as Tensor[] };
    const s = new BatchScheduler(
      (x) => {
        r.batches.push(x);
        return x;
      },
      { maxDelayMs: 1 },
    );
    const a = tensor(new Int8Array([1, 2, 3, 4]), [1, 2, 2]);
    const b = tensor(new Int8Array([5, 6, 7, 8, 9, 10, 11, 12]), [2, 2, 2]);
    const [ya, yb] = await Promise.all([s.submit(a), s.submit(b), tick(1)]);
    expect(r.batches[0].shape).toEqual([3, 2, 2]);
    expect(r.batches[0].dtype).toBe('int8');
    expect(Array.from(ya.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(yb.data)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('bad input', () => {
  it('rejects malformed requests with a TypeError or RangeError naming the argument', async () => {
    const s = new BatchScheduler(answer, { maxBatchSize: 4, name: 'mlp' });
    await expect(s.submit([1, 2, 3] as unknown as Tensor)).rejects.toThrow(TypeError);
    await expect(s.submit([1, 2, 3] as unknown as Tensor)).rejects.toThrow(/BatchScheduler\(mlp\)\.submit: input must be a Tensor, got \[1, 2, 3\]/);
    await expect(s.submit(req(1, 5))).rejects.toThrow(/input has 5 rows \(\[5, 3\]\), must have 1 to maxBatchSize \(4\)/);
    await expect(s.submit(tensor(new Float32Array(0), [0, 3]))).rejects.toThrow(RangeError);
    await expect(s.submit(tensor([1]).reshape([]))).rejects.toThrow(/0-d tensor/);
    await expect(s.submit(req(1), { timeoutMs: -1 })).rejects.toThrow(/opts.timeoutMs must be a number of ms > 0/);
    await expect(s.submit(req(1), { priority: NaN })).rejects.toThrow(/opts.priority must be a finite number, got NaN/);
    await expect(s.submit(req(1), { signal: {} as AbortSignal })).rejects.toThrow(/opts.signal must be an AbortSignal/);
    // The first accepted request fixes the row shape and dtype.
    const ok = s.submit(req(1));
    await expect(s.submit(tensor(new Float32Array(4), [1, 4]))).rejects.toThrow(/input shape \[1, 4\] must be \[rows, 3\]/);
    await expect(s.submit(tensor(new Int8Array(3), [1, 3]))).rejects.toThrow(/input.dtype \(int8\) must be float32/);
    await tick(1);
    await ok;
    expect(s.stats().rejected.invalid).toBe(10);
  });

  it('honours a declared rowShape and dtype', async () => {
    const s = new BatchScheduler(answer, { rowShape: [3], dtype: 'float32' });
    await expect(s.submit(tensor(new Float32Array(2), [1, 2]))).rejects.toThrow(/must be \[rows, 3\]/);
  });

  it('throws for bad constructor options', () => {
    expect(() => new BatchScheduler(null as unknown as (x: Tensor) => Tensor)).toThrow(/runBatch must be a function/);
    expect(() => new BatchScheduler(answer, { maxBatchSize: 0 })).toThrow(/opts.maxBatchSize must be an integer >= 1, got 0/);
    expect(() => new BatchScheduler(answer, { maxBatchSize: 2.5 })).toThrow(RangeError);
    expect(() => new BatchScheduler(answer, { maxDelayMs: -1 })).toThrow(/opts.maxDelayMs must be a number of ms in \[0, /);
    expect(() => new BatchScheduler(answer, { maxQueue: 0 })).toThrow(/opts.maxQueue/);
    expect(() => new BatchScheduler(answer, { onFull: 'drop' as 'wait' })).toThrow(/opts.onFull must be 'reject' or 'wait', got 'drop'/);
    expect(() => new BatchScheduler(answer, { maxBatchSize: 8, preferredBatchSizes: [4, 16] })).toThrow(/preferredBatchSizes\[1\] must be an integer in \[1, maxBatchSize \(8\)\], got 16/);
    expect(() => new BatchScheduler(answer, { maxConcurrentBatches: Infinity })).toThrow(/maxConcurrentBatches/);
    expect(() => new BatchScheduler(answer, { timeoutMs: 0 })).toThrow(/opts.timeoutMs/);
    expect(() => new BatchScheduler(answer, { rowShape: [-1] })).toThrow(/opts.rowShape/);
    expect(() => new BatchScheduler(answer, { dtype: 'float64' as 'float32' })).toThrow(/opts.dtype/);
  });
});

describe('stats', () => {
  it('counts batches, sizes, waits and outcomes', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 4, maxDelayMs: 2, name: 'stats-test' });
    const ps = Array.from({ length: 7 }, (_, i) => track(s.submit(req(i))));
    await tick(2);
    const st = s.stats();
    expect(st.name).toBe('stats-test');
    expect(st.submitted).toBe(7);
    expect(st.completed).toBe(7);
    expect(st.batches).toBe(2);
    expect(st.batchSizes).toEqual({ 3: 1, 4: 1 });
    expect(st.meanBatchSize).toBe(3.5);
    expect(st.queueWait.count).toBe(7);
    expect(st.queueWait.maxMs).toBe(2); // the last three waited out the delay
    expect(st.runTime.count).toBe(2);
    expect(st.latency.count).toBe(7);
    expect(ps.every((p) => p.settled === 1)).toBe(true);
    s.resetStats();
    expect(s.stats().submitted).toBe(0);
    expect(s.stats().batchSizes).toEqual({});
  });
});

describe('reliability (issue #12)', () => {
  /** Detaches `t`'s buffer, as posting it to a worker in a transfer list does. */
  const detach = (t: Tensor) => structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });

  it('an input detached before its batch is cut rejects alone; the batch runs without it; nothing escapes a timer', async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 4, maxDelayMs: 5 });
    const a = track(s.submit(req(1)));
    const bIn = req(2);
    const b = track(s.submit(bIn));
    const c = track(s.submit(req(3)));
    detach(bIn);
    await tick(5); // the batch is cut by the delay timer: the old code threw a TypeError from concat here
    expect(r.sizes()).toEqual([2]);
    expect(r.batches.map(idsIn)).toEqual([[1, 3]]);
    expect([a.settled, b.settled, c.settled]).toEqual([1, 1, 1]);
    expectOwnRows(a.value!, 1);
    expectOwnRows(c.value!, 3);
    expect(b.error).toBeInstanceOf(RangeError);
    expect((b.error as Error).message).toMatch(/submit: input.*detached.*; the input changed between submit and its batch/);
    expect(s.stats().rejected.invalid).toBe(1);
    // A lone request whose input is detached (or whose shape array is edited) leaves no batch to run.
    const dIn = req(4);
    const d = track(s.submit(dIn));
    const eIn = req(5);
    const e = track(s.submit(eIn));
    detach(dIn);
    (eIn.shape as number[])[0] = 2;
    await tick(5);
    expect(r.sizes()).toEqual([2]);
    expect([d.settled, e.settled]).toEqual([1, 1]);
    expect((e.error as Error).message).toMatch(/does not match|changed between submit and its batch/);
    await s.close(); // and close() resolves
  });

  it("onFull 'wait' bounds its waiters with maxWaiting (queue_full past it)", async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 2, onFull: 'wait', maxWaiting: 3 });
    expect(s.maxWaiting).toBe(3);
    const ps = Array.from({ length: 8 }, (_, i) => track(s.submit(req(i))));
    await tick();
    // 1 running, 2 queued, 3 waiting, 2 refused at once.
    expect(s.stats().waitingForRoom).toBe(3);
    expect(ps.filter((p) => p.settled === 1).length).toBe(2);
    for (const p of ps.slice(6)) {
      expect((p.error as SchedulerError).code).toBe('queue_full');
      expect((p.error as Error).message).toMatch(/wait list \(3 requests waiting for room, maxWaiting 3\)/);
    }
    for (let i = 0; i < 6; i++) {
      m.finish();
      await tick();
    }
    ps.slice(0, 6).forEach((p, i) => expectOwnRows(p.value!, i));
    expect(ps.every((p) => p.settled === 1)).toBe(true);
    expect(new BatchScheduler(m.run).maxWaiting).toBe(1024);
    expect(() => new BatchScheduler(m.run, { maxWaiting: -1 })).toThrow(/maxWaiting must be an integer >= 0/);
  });

  it('close({ timeoutMs }) rejects what a never-settling runBatch holds and resolves', async () => {
    const s = new BatchScheduler(() => new Promise<Tensor>(() => {}), { maxBatchSize: 2, maxDelayMs: 1, maxQueue: 1, onFull: 'wait' });
    const ps = Array.from({ length: 4 }, (_, i) => track(s.submit(req(i))));
    await tick(1);
    expect(s.runningBatches).toBe(1);
    const closed = track(s.close({ timeoutMs: 100 }));
    await tick(99);
    expect(closed.settled).toBe(0);
    expect(ps.some((p) => p.settled)).toBe(false);
    await tick(1);
    expect(closed.settled).toBe(1);
    for (const p of ps) {
      expect(p.settled).toBe(1);
      expect((p.error as SchedulerError).code).toBe('closed');
      expect((p.error as Error).message).toMatch(/close: timed out after 100 ms/);
    }
    await expect(s.close({ timeoutMs: -1 })).rejects.toThrow(RangeError);
  });

  it('close({ signal }) gives up when the signal aborts; a batch that comes back late changes nothing', async () => {
    const m = manual();
    const s = new BatchScheduler(m.run, { maxBatchSize: 1, maxDelayMs: 0 });
    const a = track(s.submit(req(1)));
    const b = track(s.submit(req(2)));
    await tick();
    const ac = new AbortController();
    const closed = track(s.close({ signal: ac.signal }));
    await tick(1000);
    expect(closed.settled).toBe(0);
    ac.abort();
    await tick();
    expect(closed.settled).toBe(1);
    expect([a.settled, b.settled]).toEqual([1, 1]);
    expect((a.error as SchedulerError).code).toBe('closed');
    m.finish(); // the abandoned batch returns after all
    await tick();
    expect([a.settled, b.settled]).toEqual([1, 1]);
    expect(m.pending.length).toBe(0);
  });

  it("one caller transferring its rows of a batch's result does not detach the other callers' rows", async () => {
    const r = recorder();
    const s = new BatchScheduler(r.run, { maxBatchSize: 2, maxDelayMs: 1 });
    const [a, b] = await Promise.all([s.submit(req(1)), s.submit(req(2))]);
    expect(a.data.buffer).toBe(b.data.buffer);
    try {
      structuredClone(a.data.buffer, { transfer: [a.data.buffer as ArrayBuffer] });
    } catch (e) {
      expect((e as Error).name).toBe('DataCloneError');
    }
    expectOwnRows(a, 1);
    expectOwnRows(b, 2);
  });
});
