// Monitoring: histograms, the op recorder behind monitorHook, stats(), Prometheus text, trace windows.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BatchScheduler,
  cpuInfo,
  LatencyHistogram,
  matmul,
  matmulAsync,
  memoize,
  monitoringEnabled,
  prometheus,
  rand,
  relu,
  resetStats,
  setMonitoring,
  startTrace,
  stats,
  Tensor,
  trace,
} from '../src/index.js';
import { SizeHistogram } from '../src/monitor/histogram.js';
import { monitorHook } from '../src/ops/registry.js';
import { rng } from '../src/random.js';

/** Relative error the log-scale histogram promises for percentiles (buckets 2^(1/8) apart). */
const HIST_REL_ERR = 0.045;

afterEach(() => {
  setMonitoring(false);
});

describe('LatencyHistogram', () => {
  it('reports percentiles within its bucket error and the exact max', () => {
    const h = new LatencyHistogram();
    const xs: number[] = [];
    const r = rng(12345);
    for (let i = 0; i < 20000; i++) xs.push(0.001 + r() ** 3 * 50); // 1 µs to 50 ms, skewed low
    for (const x of xs) h.add(x);
    xs.sort((a, b) => a - b);
    const exact = (q: number) => xs[Math.ceil(q * xs.length) - 1];
    for (const q of [0.5, 0.9, 0.99]) {
      const got = h.quantile(q);
      expect(Math.abs(got - exact(q)) / exact(q)).toBeLessThanOrEqual(HIST_REL_ERR);
    }
    const sum = h.summary();
    expect(sum.maxMs).toBe(xs[xs.length - 1]);
    expect(sum.count).toBe(20000);
    expect(sum.totalMs).toBeCloseTo(xs.reduce((a, b) => a + b, 0), 6);
    expect(sum.p50Ms).toBeLessThanOrEqual(sum.p90Ms);
    expect(sum.p90Ms).toBeLessThanOrEqual(sum.p99Ms);
    expect(sum.p99Ms).toBeLessThanOrEqual(sum.maxMs);
  });

  it('handles empty, sub-microsecond, huge and bad samples', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, totalMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
    h.add(0.0001);
    expect(h.quantile(0.5)).toBe(0.0001); // clamped to the exact min/max
    h.add(1e9);
    h.add(NaN);
    h.add(-1);
    expect(h.count).toBe(4);
    expect(h.quantile(1)).toBe(1e9);
    // Not a number (the fuzzer's seed 15 passed 3n, which threw V8's 'Cannot mix BigInt'): a TypeError, nothing counted.
    expect(() => h.add(3n as never)).toThrow(/LatencyHistogram\.add: ms must be a number, got 3n/);
    expect(() => h.add('2' as never)).toThrow(TypeError);
    expect(h.count).toBe(4);
    h.reset();
    expect(h.count).toBe(0);
  });

  it('SizeHistogram counts exact sizes', () => {
    const h = new SizeHistogram(8);
    for (const s of [1, 8, 8, 3, 20]) h.add(s);
    expect(h.toObject()).toEqual({ 1: 1, 3: 1, 8: 3 });
    expect(h.mean()).toBe(8);
    expect(() => h.add(2n as never)).toThrow(/SizeHistogram\.add: size must be a number, got 2n/);
    expect(h.count).toBe(5);
  });
});

describe('op recorder', () => {
  it('is off by default and records per op and kernel when on', () => {
    expect(monitoringEnabled()).toBe(false);
    expect(monitorHook.on).toBe(false);
    resetStats();
    const a = rand([4, 4], { seed: 1 });
    for (let i = 0; i < 5; i++) matmul(a, a);
    expect(stats().ops).toEqual([]);
    expect(setMonitoring(true)).toBe(false);
    expect(monitorHook.on).toBe(true);
    for (let i = 0; i < 7; i++) matmul(a, a);
    relu(a);
    const ops = stats().ops;
    const kernel = cpuInfo().kernels['matmul.f32'];
    const mm = ops.find((o) => o.op === 'matmul');
    expect(mm?.kernel).toBe(kernel);
    expect(mm?.count).toBe(7);
    expect(mm!.totalMs).toBeGreaterThan(0);
    expect(mm!.meanMs).toBeCloseTo(mm!.totalMs / 7, 12);
    expect(mm!.p50Ms).toBeLessThanOrEqual(mm!.maxMs);
    expect(ops.find((o) => o.op === 'relu')?.count).toBe(1);
    setMonitoring(false);
    matmul(a, a);
    expect(stats().ops.find((o) => o.op === 'matmul')?.count).toBe(7);
    resetStats();
    expect(stats().ops).toEqual([]);
    expect(() => setMonitoring('yes' as unknown as boolean)).toThrow(/setMonitoring: on must be a boolean, got 'yes'/);
  });

  it('stats() is plain JSON with ops, schedulers and caches', async () => {
    setMonitoring(true);
    matmul(rand([2, 3]), rand([3, 2]));
    const s = new BatchScheduler(async (x) => x, { name: 'json-test', maxDelayMs: 0 });
    await s.submit(rand([1, 3]));
    const m = memoize((x: Tensor) => x, { name: 'json-memo' });
    m(rand([1]));
    const st = stats();
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
    expect(st.monitoring).toBe(true);
    const sch = st.schedulers.find((x) => x.name === 'json-test')!;
    expect(sch).toMatchObject({ submitted: 1, completed: 1, batches: 1, batchSizes: { 1: 1 }, queueDepth: 0 });
    expect(st.caches.find((c) => c.name === 'json-memo')).toMatchObject({ misses: 1, entries: 1 });
    resetStats();
    expect(stats().schedulers.find((x) => x.name === 'json-test')!.submitted).toBe(0);
  });
});

/** Parses Prometheus text: checks every line's syntax and that each family is declared once, before its samples. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      expect(typed.has(name), `${name} declared twice`).toBe(false);
      expect(['counter', 'gauge', 'summary', 'histogram']).toContain(type);
      typed.add(name);
      continue;
    }
    const m = sampleRe.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const base = m![1].replace(/_(sum|count|bucket)$/, '');
    expect(typed.has(m![1]) || typed.has(base), `sample before its TYPE: ${line}`).toBe(true);
    samples.set(m![1] + (m![2] ?? ''), Number(m![3]));
  }
  return samples;
}

describe('prometheus', () => {
  it('exports ops, schedulers and caches in the text format', async () => {
    resetStats();
    setMonitoring(true);
    const a = rand([8, 8]);
    for (let i = 0; i < 3; i++) matmul(a, a);
    const s = new BatchScheduler(async (x) => x, { name: 'prom "a"\\b\nc', maxBatchSize: 4, maxDelayMs: 1 });
    await Promise.all([1, 2, 3, 4, 5].map(() => s.submit(rand([1, 2]))));
    const text = prometheus();
    const p = parseProm(text);
    const kernel = cpuInfo().kernels['matmul.f32'];
    expect(p.get(`simdtensor_op_calls_total{op="matmul",kernel="${kernel}"}`)).toBe(3);
    expect(p.get(`simdtensor_op_duration_seconds_count{op="matmul",kernel="${kernel}"}`)).toBe(3);
    expect(p.has(`simdtensor_op_duration_seconds{op="matmul",kernel="${kernel}",quantile="0.99"}`)).toBe(true);
    const lab = 'scheduler="prom \\"a\\"\\\\b\\nc"';
    expect(p.get(`simdtensor_scheduler_submitted_total{${lab}}`)).toBe(5);
    expect(p.get(`simdtensor_scheduler_batches_total{${lab}}`)).toBe(2);
    expect(p.get(`simdtensor_scheduler_batch_size_bucket{${lab},le="1"}`)).toBe(1);
    expect(p.get(`simdtensor_scheduler_batch_size_bucket{${lab},le="4"}`)).toBe(2);
    expect(p.get(`simdtensor_scheduler_batch_size_bucket{${lab},le="+Inf"}`)).toBe(2);
    expect(p.get(`simdtensor_scheduler_batch_size_sum{${lab}}`)).toBe(5);
    expect(p.get(`simdtensor_scheduler_rejected_total{${lab},reason="timeout"}`)).toBe(0);
    expect(p.get(`simdtensor_scheduler_queue_depth{${lab}}`)).toBe(0);
    expect(p.has(`simdtensor_scheduler_latency_seconds_sum{${lab}}`)).toBe(true);
    expect(p.has('simdtensor_cache_hits_total{cache="packed",kind="packed"}')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(prometheus({ prefix: 'app' })).toMatch(/^app_op_calls_total\{/m);
    expect(() => prometheus({ prefix: '1bad' })).toThrow(/prometheus: opts.prefix must be a metric name/);
  });
});

describe('trace', () => {
  it('records the ops run inside a window as Chrome trace events', async () => {
    const a = rand([16, 16]);
    resetStats();
    const doc = await trace(() => {
      matmul(a, a);
      relu(a);
    });
    expect(monitorHook.on).toBe(false); // back off after the window
    const xs = doc.traceEvents.filter((e) => e.ph === 'X');
    expect(xs.map((e) => e.name)).toEqual(['matmul', 'relu']);
    expect(xs[0].cat).toBe(cpuInfo().kernels['matmul.f32']);
    expect(xs[0].dur).toBeGreaterThanOrEqual(0);
    expect(xs[1].ts).toBeGreaterThanOrEqual(xs[0].ts + xs[0].dur!);
    expect(doc.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name')).toBe(true);
    expect(doc.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === xs[0].tid)).toBe(true);
    expect(doc.displayTimeUnit).toBe('ms');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    matmul(a, a); // after the window: not recorded
    expect(stats().ops.find((o) => o.op === 'matmul')?.count).toBe(1); // ops in a window also count in stats()
  });

  it('records async ops as async begin/end pairs (they overlap)', async () => {
    const a = rand([32, 32]);
    const doc = await trace(() => Promise.all([matmulAsync(a, a), matmulAsync(a, a)]));
    const ev = doc.traceEvents.filter((e) => e.name === 'matmulAsync');
    expect(ev.map((e) => e.ph).sort()).toEqual(['b', 'b', 'e', 'e']);
    const ids = new Set(ev.map((e) => e.id));
    expect(ids.size).toBe(2);
    for (const id of ids) {
      const [b, e] = [ev.find((x) => x.id === id && x.ph === 'b')!, ev.find((x) => x.id === id && x.ph === 'e')!];
      expect(e.ts).toBeGreaterThanOrEqual(b.ts);
    }
  });

  it('shows scheduler batches on their own tracks and honours maxEvents', async () => {
    const s = new BatchScheduler(async (x) => x, { name: 'traced', maxBatchSize: 2, maxDelayMs: 0, maxConcurrentBatches: 2 });
    const h = startTrace({ maxEvents: 3 });
    const wide = startTrace();
    await Promise.all([0, 1, 2, 3, 4, 5].map(() => s.submit(rand([1, 2]))));
    const doc = h.stop();
    expect(h.stop()).toBe(doc);
    const all = wide.stop();
    expect(doc.otherData.droppedEvents).toBeGreaterThan(0);
    expect(doc.traceEvents.filter((e) => e.ph !== 'M').length).toBe(3);
    const batches = all.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'scheduler');
    expect(batches.map((e) => e.args?.rows).reduce((x, y) => (x as number) + (y as number), 0)).toBe(6);
    const names = all.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args?.name);
    expect(names).toContain('traced batch slot 0');
    expect(all.traceEvents.some((e) => e.ph === 'C' && e.name === 'traced queue')).toBe(true);
    await s.close();
  });

  it('records for a number of milliseconds (virtual time), and closes the window if the function throws', async () => {
    vi.useFakeTimers();
    try {
      const pending = trace(30);
      await vi.advanceTimersByTimeAsync(5);
      matmul(rand([2, 2]), rand([2, 2]));
      await vi.advanceTimersByTimeAsync(25);
      const doc = await pending;
      expect(doc.traceEvents.filter((e) => e.name === 'matmul').length).toBe(1);
      expect(doc.otherData.endMs - doc.otherData.startMs).toBe(30);
    } finally {
      vi.useRealTimers();
    }
    await expect(
      trace(() => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(monitorHook.on).toBe(false);
    await expect(trace('x' as unknown as number)).rejects.toThrow(/trace: window must be a number of ms or a function, got 'x'/);
    expect(() => startTrace({ maxEvents: 0 })).toThrow(/startTrace: opts.maxEvents must be an integer >= 1, got 0/);
  });
});
