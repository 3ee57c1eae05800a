// The serving targets, checked in virtual time: a model whose batch takes a fixed time (fake timers), so the
// scheduler's own behaviour is measured without the noise of a shared machine (bench/serve.ts measures the real
// thing). Saturation throughput and p99, low-load latency, and 10x overload with onFull 'reject'.
import { describe, expect, it, vi } from 'vitest';
import { BatchScheduler, BatchSchedulerOptions, Tensor, tensor } from '../src/index.js';
import { rng } from '../src/random.js';
import { useFakeTimersPerTest } from './helpers.js';

/** Virtual time of one batch (ms): 1 + ceil(rows / 8), so 2 ms for one row, 5 ms for 32 (6.4x cheaper per row). */
const batchMs = (rows: number) => 1 + Math.ceil(rows / 8);
const MAX_BATCH = 32;
const SLOTS = 2;
const MAX_DELAY = 2;
/** The bound: maxDelayMs + 2 x the time of one full batch; +1 ms for the 1 ms steps of the arrival clock. */
const BOUND = MAX_DELAY + 2 * batchMs(MAX_BATCH) + 1;

const X = tensor(new Float32Array(4), [1, 4]);

function model() {
  let inFlight = 0;
  let maxInFlight = 0;
  const run = (x: Tensor) =>
    new Promise<Tensor>((res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res(x);
      }, batchMs(x.shape[0]));
    });
  return { run, maxInFlight: () => maxInFlight };
}

function server(mode: 'single' | 'batched', extra: BatchSchedulerOptions = {}) {
  const m = model();
  const opts: BatchSchedulerOptions =
    mode === 'single' ? { maxBatchSize: 1, maxDelayMs: 0, maxConcurrentBatches: SLOTS, ...extra } : { maxBatchSize: MAX_BATCH, maxDelayMs: MAX_DELAY, maxConcurrentBatches: SLOTS, ...extra };
  return { s: new BatchScheduler(m.run, opts), m };
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(p * xs.length) - 1)];

async function closedLoop(mode: 'single' | 'batched', clients: number, ms: number, extra: BatchSchedulerOptions = {}) {
  const { s } = server(mode, { maxQueue: Infinity, ...extra });
  const lat: number[] = [];
  let stop = false;
  let inWindow = 0;
  const t0 = performance.now();
  const client = async () => {
    while (!stop) {
      const t = performance.now();
      await s.submit(X);
      lat.push(performance.now() - t);
      if (performance.now() - t0 <= ms) inWindow++;
    }
  };
  const all = Promise.all(Array.from({ length: clients }, client));
  await vi.advanceTimersByTimeAsync(ms);
  stop = true;
  await vi.advanceTimersByTimeAsync(100);
  await all;
  return { rps: (inWindow / ms) * 1000, p50: q(lat, 0.5), p99: q(lat, 0.99), stats: s.stats() };
}

useFakeTimersPerTest();

describe('serving targets in virtual time', () => {
  it('at saturation, batched throughput >= 6x request-at-a-time, with p99 <= maxDelayMs + 2 full batches', async () => {
    const clients = MAX_BATCH * SLOTS;
    const single = await closedLoop('single', clients, 2000);
    const batched = await closedLoop('batched', clients, 2000);
    expect(Math.abs(single.rps / ((1000 * SLOTS) / batchMs(1)) - 1)).toBeLessThan(0.01); // 1000/s: two slots, 2 ms each
    expect(batched.rps / single.rps).toBeGreaterThanOrEqual(6);
    expect(batched.p99).toBeLessThanOrEqual(BOUND);
    expect(batched.stats.meanBatchSize).toBeGreaterThan(30);
  });

  it('at low load, a lone request waits maxDelayMs and no longer', async () => {
    const single = await closedLoop('single', 1, 500);
    const batched = await closedLoop('batched', 1, 500);
    expect(single.p50).toBe(batchMs(1));
    expect(batched.p50 - single.p50).toBeLessThanOrEqual(MAX_DELAY + 0.05);
    expect(batched.p50 - single.p50).toBeGreaterThanOrEqual(MAX_DELAY - 0.05);
  });

  it("under 10x overload with onFull 'reject': bounded queue, bounded accepted p99, nothing left pending", async () => {
    const { s, m } = server('batched', { maxQueue: MAX_BATCH, onFull: 'reject' });
    const capacity = (1000 * MAX_BATCH * SLOTS) / batchMs(MAX_BATCH); // 12 800 requests/s
    const rate = 10 * capacity;
    const u = rng(7);
    const horizon = 500;
    const lat: number[] = [];
    let rejected = 0;
    let settled = 0;
    let arrivals = 0;
    let maxQueue = 0;
    let t = -Math.log(1 - u()) * (1000 / rate);
    for (let now = 0; now < horizon; now++) {
      for (; t <= now; t += -Math.log(1 - u()) * (1000 / rate)) {
        const at = t;
        arrivals++;
        s.submit(X).then(
          () => {
            lat.push(performance.now() - at);
            settled++;
          },
          (e: { code?: string }) => {
            expect(e.code).toBe('queue_full');
            rejected++;
            settled++;
          },
        );
        maxQueue = Math.max(maxQueue, s.queueDepth);
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(arrivals).toBeGreaterThan(0.9 * rate * (horizon / 1000));
    expect(settled).toBe(arrivals);
    expect(maxQueue).toBeLessThanOrEqual(MAX_BATCH);
    expect(m.maxInFlight()).toBeLessThanOrEqual(SLOTS);
    expect(rejected / arrivals).toBeGreaterThan(0.85); // ~90 % of a 10x overload must be shed
    expect(lat.length / (horizon / 1000)).toBeGreaterThan(0.9 * capacity); // and the server stays at capacity
    expect(q(lat, 0.99)).toBeLessThanOrEqual(BOUND);
    const st = s.stats();
    expect(st.queueDepth + st.runningBatches).toBe(0);
    expect(st.rejected.queueFull).toBe(rejected);
  });
});

describe("batchDelay 'adaptive' in virtual time", () => {
  const adaptive: BatchSchedulerOptions = { batchDelay: 'adaptive', workConserving: true };
  /**
   * A 0 delay dispatches at the end of the event-loop turn (a setImmediate, microseconds in a real loop). The fake
   * clock runs an immediate set from a timer callback at its next 1 ms step, so in virtual time that turn costs 1 ms.
   */
  const TURN = 1;

  it('at saturation it batches as the fixed delay does: >= 6x request-at-a-time, p99 within the bound, full batches', async () => {
    const clients = MAX_BATCH * SLOTS;
    const single = await closedLoop('single', clients, 2000);
    const fixed = await closedLoop('batched', clients, 2000, { workConserving: true });
    const adapt = await closedLoop('batched', clients, 2000, adaptive);
    expect(adapt.rps / single.rps).toBeGreaterThanOrEqual(6);
    expect(adapt.rps).toBeGreaterThanOrEqual(0.98 * fixed.rps);
    expect(adapt.p99).toBeLessThanOrEqual(BOUND);
    expect(adapt.stats.meanBatchSize).toBeGreaterThan(30);
    expect(adapt.stats.batchDelayMs).toBe(MAX_DELAY); // batches fill: the delay is back at its bound
  });

  it('one sequential client: after the first batches a request no longer waits (p50 = one batch)', async () => {
    const single = await closedLoop('single', 1, 500);
    const adapt = await closedLoop('batched', 1, 500, adaptive);
    // The fixed delay adds MAX_DELAY (2 ms) to every request; the adaptive one only the end of the turn.
    expect(adapt.p50).toBe(single.p50 + TURN);
    expect(adapt.p99).toBe(single.p99 + TURN); // only the first request waited MAX_DELAY, of ~170
    expect(adapt.stats.batchDelayMs).toBe(0);
  });

  it('16 clients (batches never fill): no wait on top of the batches, throughput and p50 no worse than the fixed delay', async () => {
    const fixed = await closedLoop('batched', 16, 1000, { workConserving: true });
    const adapt = await closedLoop('batched', 16, 1000, adaptive);
    expect(fixed.stats.batchDelayMs).toBe(MAX_DELAY);
    expect(adapt.stats.batchDelayMs).toBe(0);
    expect(adapt.rps).toBeGreaterThanOrEqual(fixed.rps);
    expect(adapt.p50).toBeLessThan(fixed.p50);
    expect(adapt.p99).toBeLessThanOrEqual(BOUND);
  });
});
