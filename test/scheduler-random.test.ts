// BatchScheduler under random load: thousands of requests with random sizes, gaps, priorities, timeouts and
// aborts, against a runBatch that is slow, sometimes throws and sometimes returns the wrong rows. Every promise
// must settle exactly once, with exactly its own rows or a reason; fake timers for volume, real ones for realism.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchScheduler, BatchSchedulerOptions, SchedulerError, Tensor, tensor } from '../src/index.js';
import { mulberry32 } from '../src/random.js';
import { itTiming, settleInto, type Settlement } from './helpers.js';

const COLS = 4;

/** Seeded generator so a failure replays. */
const rng = mulberry32;

interface Outcome extends Settlement<Tensor> {
  id: number;
  rows: number;
  hadTimeout: boolean;
  abortedByUs: boolean;
}

/** Row r of request id: [id, r, id + r, -id]. */
function input(id: number, rows: number): Tensor {
  const d = new Float32Array(rows * COLS);
  for (let r = 0; r < rows; r++) d.set([id, r, id + r, -id], r * COLS);
  return tensor(d, [rows, COLS]);
}

interface Sim {
  fake: boolean;
  requests: number;
  seed: number;
}

async function simulate({ fake, requests, seed }: Sim) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const maxBatchSize = pick([4, 8, 16, 32]);
  const opts: BatchSchedulerOptions = {
    maxBatchSize,
    maxDelayMs: pick([0, 1, 2, 5]),
    preferredBatchSizes: rand() < 0.5 ? [Math.max(1, maxBatchSize >> 1)] : [],
    maxQueue: pick([8, 32, 200]),
    onFull: rand() < 0.5 ? 'reject' : 'wait',
    maxConcurrentBatches: pick([1, 2, 3]),
  };
  const outcomes: Outcome[] = [];
  const abortedIds = new Set<number>(); // aborted by the test, recorded synchronously at abort time
  const inBatch = new Map<number, number>(); // request id → batches it appeared in
  const violations: string[] = [];
  let maxQueueSeen = 0;
  let batchCalls = 0;
  let sched!: BatchScheduler;

  const runBatch = async (x: Tensor): Promise<Tensor> => {
    batchCalls++;
    maxQueueSeen = Math.max(maxQueueSeen, sched.queueDepth);
    if (x.shape[0] > maxBatchSize) violations.push(`batch of ${x.shape[0]} rows > ${maxBatchSize}`);
    for (let r = 0; r < x.shape[0]; r++) {
      if (x.data[r * COLS + 1] !== 0) continue; // row 0 of each request names it
      const id = x.data[r * COLS];
      inBatch.set(id, (inBatch.get(id) ?? 0) + 1);
      if (abortedIds.has(id)) violations.push(`request ${id} was aborted before its batch formed but entered it`);
      if (outcomes[id].settled) violations.push(`request ${id} had settled before its batch formed but entered it`);
    }
    const wait = Math.floor(rand() * 4);
    if (wait) await new Promise((res) => setTimeout(res, wait));
    const u = rand();
    if (u < 0.03) throw new Error('random batch failure');
    if (u < 0.05) return tensor(new Float32Array((x.shape[0] + 1) * COLS), [x.shape[0] + 1, COLS]);
    const out = Float32Array.from(x.data as Float32Array, (v) => v * 2 + 1);
    return tensor(out, x.shape);
  };
  sched = new BatchScheduler(runBatch, opts);

  for (let id = 0; id < requests; id++) {
    const rows = 1 + Math.floor(rand() * Math.min(4, maxBatchSize));
    const o: Outcome = { id, rows, settled: 0, hadTimeout: false, abortedByUs: false };
    outcomes.push(o);
    const sub: { timeoutMs?: number; signal?: AbortSignal; priority?: number } = { priority: pick([-1, 0, 0, 1, 2]) };
    if (rand() < 0.15) {
      sub.timeoutMs = 1 + Math.floor(rand() * 10);
      o.hadTimeout = true;
    }
    const a = rand();
    if (a < 0.15) {
      const ac = new AbortController();
      sub.signal = ac.signal;
      const abort = () => {
        o.abortedByUs = true;
        abortedIds.add(id);
        ac.abort(new Error(`abort ${id}`));
      };
      if (a < 0.02) abort();
      else setTimeout(abort, Math.floor(rand() * 8));
    }
    settleInto(o, sched.submit(input(id, rows), sub));
    const gap = rand() < 0.7 ? 0 : Math.floor(rand() * 3);
    if (fake) await vi.advanceTimersByTimeAsync(gap);
    else if (gap) await new Promise((res) => setTimeout(res, gap));
    else if (rand() < 0.3) await new Promise((res) => setImmediate(res));
  }
  const closing = sched.close({ drain: true });
  if (fake) {
    for (let i = 0; i < 1000 && outcomes.some((o) => !o.settled); i++) await vi.advanceTimersByTimeAsync(5);
  }
  await closing;
  // Let the last settlement handlers run.
  if (fake) await vi.advanceTimersByTimeAsync(1);
  else await new Promise((res) => setImmediate(res));
  return { opts, outcomes, inBatch, violations, maxQueueSeen, batchCalls, stats: sched.stats() };
}

function check(r: Awaited<ReturnType<typeof simulate>>) {
  const { opts, outcomes, inBatch, violations, stats } = r;
  expect(violations).toEqual([]);
  const codes: Record<string, number> = {};
  for (const o of outcomes) {
    expect(o.settled, `request ${o.id} settled ${o.settled} times`).toBe(1);
    expect(inBatch.get(o.id) ?? 0).toBeLessThanOrEqual(1);
    if (o.value) {
      const want = Float32Array.from(input(o.id, o.rows).data as Float32Array, (v) => v * 2 + 1);
      expect(o.value.shape).toEqual([o.rows, COLS]);
      expect(Array.from(o.value.data)).toEqual(Array.from(want));
      expect(inBatch.get(o.id)).toBe(1);
    } else {
      const e = o.error as SchedulerError;
      expect(e).toBeInstanceOf(SchedulerError);
      codes[e.code] = (codes[e.code] ?? 0) + 1;
      if (e.code === 'aborted') expect(o.abortedByUs).toBe(true);
      if (e.code === 'timeout') expect(o.hadTimeout).toBe(true);
      if (e.code === 'queue_full') expect(opts.onFull).toBe('reject');
      if (e.code === 'batch_failed') expect(inBatch.get(o.id)).toBe(1);
      expect(e.code).not.toBe('closed'); // close drained
    }
  }
  expect(r.maxQueueSeen).toBeLessThanOrEqual(opts.maxQueue!);
  const rejectedTotal = Object.values(stats.rejected).reduce((a, b) => a + b, 0);
  expect(stats.completed + rejectedTotal).toBe(outcomes.length);
  expect(stats.completed).toBe(outcomes.filter((o) => o.value).length);
  expect(stats.queueDepth + stats.runningBatches + stats.waitingForRoom).toBe(0);
  return codes;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('randomized load', () => {
  it('fake timers: 4 configurations x 1500 requests, every promise settles once with its own rows', async () => {
    const seen: Record<string, number> = {};
    for (const seed of [1, 2, 3, 4]) {
      vi.useFakeTimers();
      const r = await simulate({ fake: true, requests: 1500, seed });
      vi.useRealTimers();
      const codes = check(r);
      for (const [k, v] of Object.entries(codes)) seen[k] = (seen[k] ?? 0) + v;
      expect(r.batchCalls).toBeGreaterThan(0);
    }
    // The load really exercised the failure paths.
    expect(seen.aborted).toBeGreaterThan(0);
    expect(seen.timeout).toBeGreaterThan(0);
    expect(seen.batch_failed).toBeGreaterThan(0);
    expect(seen.queue_full).toBeGreaterThan(0);
  });

  it('real timers: 600 requests, every promise settles once with its own rows', async () => {
    const r = await simulate({ fake: false, requests: 600, seed: 7 });
    check(r);
    expect(r.stats.batches).toBeGreaterThan(0);
  });
});

describe('real timers', () => {
  /** Ten lone requests, one after another: each waits about maxDelayMs, never much less. */
  async function loneWaits(opts: { maxDelayMs: number; spinWaitMs?: number }): Promise<void> {
    const s = new BatchScheduler(async (x) => x, opts);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await s.submit(input(i, 1));
      waits.push(performance.now() - t0);
    }
    waits.sort((a, b) => a - b);
    expect(waits[0]).toBeGreaterThanOrEqual(opts.maxDelayMs - 0.05);
    expect(waits[5]).toBeLessThan(opts.maxDelayMs + 25); // generous: a busy 2-core box may delay timers
  }

  itTiming('a lone request waits about maxDelayMs, never much less [real clock]', () => loneWaits({ maxDelayMs: 3 }));

  itTiming('spinWaitMs polls the end of the wait instead of relying on a millisecond timer [real clock]', () => loneWaits({ maxDelayMs: 2, spinWaitMs: 1 }));

  itTiming('a full batch runs without waiting out maxDelayMs [real clock]', async () => {
    const s = new BatchScheduler(async (x) => x, { maxBatchSize: 4, maxDelayMs: 10_000 });
    const t0 = performance.now();
    await Promise.all([0, 1, 2, 3].map((i) => s.submit(input(i, 1))));
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
