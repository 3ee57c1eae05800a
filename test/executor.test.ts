// The parallel executor: thread knobs, results identical for 1..8 threads, async ops (correctness, pinning,
// busy-output rejection, abort, not on libuv's pool, event-loop lag), the inter-op Executor.
import { pbkdf2 } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import {
  add, cast, defaultNumThreads, Executor, executorStats, gelu, getNumThreads, layerNorm, linear, linearAsync, matmul, matmulAsync,
  mul, packWeights, PackedWeights, rand, relu, setNumThreads, softmax, Tensor, tensor, toSparse, zeros,
} from '../src/index.js';
import { expectClose, F32_GEMM_ABS_TOL, F32_GEMM_REL_TOL, itTiming, refMatmul, expectSameArray } from './helpers.js';
import { lagProbe } from '../bench/measure.js';

const initialThreads = getNumThreads();
afterAll(() => {
  setNumThreads(initialThreads);
});

const sameBits = (x: Tensor, y: Tensor): boolean => {
  const a = new Uint32Array((x.data as Float32Array).buffer, (x.data as Float32Array).byteOffset, x.size);
  const b = new Uint32Array((y.data as Float32Array).buffer, (y.data as Float32Array).byteOffset, y.size);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

describe('thread count', () => {
  it('defaults to the CPUs this process may use and validates setNumThreads', () => {
    const d = defaultNumThreads();
    expect(Number.isInteger(d) && d >= 1).toBe(true);
    expect(initialThreads).toBe(d);
    expect(setNumThreads(3)).toBe(3);
    expect(getNumThreads()).toBe(3);
    expect(() => setNumThreads(0)).toThrow(RangeError);
    expect(() => setNumThreads(1.5)).toThrow(/integer in \[1, 256\]/);
    expect(() => setNumThreads(257)).toThrow(RangeError);
    expect(() => setNumThreads('4' as unknown as number)).toThrow(TypeError);
    expect(getNumThreads()).toBe(3);
    setNumThreads(initialThreads);
  });
});

describe('results do not depend on the thread count', () => {
  // M×N large enough that the GEMM splits over M and N only: every element is computed in the same order.
  const shapes: [number, number, number][] = [[1, 300, 4096], [7, 513, 700], [64, 256, 256], [300, 200, 129], [257, 1023, 65]];
  it('f32 matmul (plain and packed, bias + activations) is bit-identical for 1..8 threads, sync and async', async () => {
    const cases = shapes.map(([m, k, n], i) => {
      const a = rand([m, k], { seed: 10 + i });
      const w = rand([n, k], { seed: 20 + i });
      const bias = rand([n], { seed: 30 + i });
      return { a, w, bias, packed: packWeights(w) as PackedWeights, act: (['none', 'relu', 'gelu'] as const)[i % 3] };
    });
    setNumThreads(1);
    const base = cases.map((c) => linear(c.a, c.w, c.bias, { activation: c.act }));
    // The single-thread result itself is right.
    cases.forEach((c, i) => {
      const [m, k] = c.a.shape;
      const n = c.w.shape[0];
      const ref = refMatmul(c.a.data as Float32Array, m, k, c.w.data as Float32Array, n, true, c.bias.data as Float32Array, c.act);
      expectClose(base[i], ref.c, ref.mag, F32_GEMM_REL_TOL, F32_GEMM_ABS_TOL + 2e-7, `linear ${m}x${k}x${n}`);
    });
    for (let t = 1; t <= 8; t++) {
      setNumThreads(t);
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        const what = `threads=${t} case ${i}`;
        expect(sameBits(linear(c.a, c.w, c.bias, { activation: c.act }), base[i]), `${what} sync`).toBe(true);
        expect(sameBits(linear(c.a, c.packed, c.bias, { activation: c.act }), base[i]), `${what} packed`).toBe(true);
        expect(sameBits(await linearAsync(c.a, c.w, c.bias, { activation: c.act }), base[i]), `${what} async`).toBe(true);
        expect(sameBits(await linearAsync(c.a, c.packed, c.bias, { activation: c.act }), base[i]), `${what} async packed`).toBe(true);
      }
    }
  });

  it('long-K, small-M×N products (split over K) stay within the f32 tolerance for 1..8 threads', () => {
    const a = rand([4, 30000], { seed: 1 });
    const b = rand([30000, 40], { seed: 2 });
    const bias = rand([40], { seed: 3 });
    const ref = refMatmul(a.data as Float32Array, 4, 30000, b.data as Float32Array, 40, false, bias.data as Float32Array, 'relu');
    for (let t = 1; t <= 8; t++) {
      setNumThreads(t);
      expectClose(matmul(a, b, { bias, activation: 'relu' }), ref.c, ref.mag, F32_GEMM_REL_TOL, F32_GEMM_ABS_TOL + 2e-7, `threads=${t}`);
    }
  });

  it('int8 (exact), half and sparse products give the same results for 1..8 threads', () => {
    // int8: u8 activations × packed s8 weights → int32, exact.
    const a8 = rand([200, 300], { seed: 1, dtype: 'uint8' });
    const w8 = packWeights(rand([150, 300], { seed: 2, dtype: 'int8' }));
    const a1 = rand([1, 4096], { seed: 3, dtype: 'uint8' });
    const w1 = packWeights(rand([512, 4096], { seed: 4, dtype: 'int8' }));
    // half: f32 activations × packed f16 / bf16 weights.
    const x = rand([130, 256], { seed: 5 });
    const w = rand([96, 256], { seed: 6 });
    const f16 = packWeights(cast(w, 'float16'));
    const bf16 = packWeights(cast(w, 'bfloat16'));
    // sparse: 90 % zeros, CSR, f32.
    const wd = rand([256, 512], { seed: 7 });
    (wd.data as Float32Array).forEach((v, i, d) => { if (i % 10 !== 0) d[i] = 0; });
    const sp = toSparse(wd);
    const xs = rand([64, 512], { seed: 8 });
    const run = () => [matmul(a8, w8), matmul(a1, w1), linear(x, f16), linear(x, bf16), linear(xs, sp), linear(xs.rows(0, 1), sp)];
    setNumThreads(1);
    const base = run();
    for (let t = 2; t <= 8; t++) {
      setNumThreads(t);
      const got = run();
      expectSameArray(got[0].data, base[0].data, { label: `int8 threads=${t}` });
      expect(Array.from(got[1].data), `int8 M=1 threads=${t}`).toEqual(Array.from(base[1].data));
      for (let i = 2; i < got.length; i++) {
        const g = got[i].data as Float32Array;
        const b = base[i].data as Float32Array;
        // Same kernels over another task split: equal up to f32 reassociation (half: K blocks of the native path).
        for (let j = 0; j < g.length; j++) expect(Math.abs(g[j] - b[j]), `op ${i} threads=${t} [${j}]`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(b[j])));
      }
    }
  });

  it('large elementwise and row-wise ops are bit-identical for 1..8 threads', () => {
    const x = rand([300, 777], { seed: 4, low: -4, high: 4 });
    const y = rand([300, 777], { seed: 5 });
    const row = rand([777], { seed: 6 });
    const run = () => [add(x, y), mul(x, row), relu(x), gelu(x), softmax(x), layerNorm(x, row, row)];
    setNumThreads(1);
    const base = run();
    for (let t = 2; t <= 8; t++) {
      setNumThreads(t);
      run().forEach((r, i) => expect(sameBits(r, base[i]), `threads=${t} op ${i}`).toBe(true));
    }
  });
});

describe('async ops', () => {
  it('match the sync result and resolve with the given out tensor', async () => {
    setNumThreads(initialThreads);
    const a = rand([33, 65], { seed: 7 });
    const b = rand([65, 17], { seed: 8 });
    const out = zeros([33, 17]);
    const got = await matmulAsync(a, b, { out, activation: 'gelu' });
    expect(got).toBe(out);
    expect(sameBits(got, matmul(a, b, { activation: 'gelu' }))).toBe(true);
    // 3-D input: leading dimensions are rows.
    const x = rand([2, 3, 65], { seed: 9 });
    const y = await matmulAsync(x, b);
    expect(y.shape).toEqual([2, 3, 17]);
    expect(sameBits(y, matmul(x, b))).toBe(true);
  });

  it('run tiny ops inline (already resolved, no thread hop) and larger ones on a pool thread', async () => {
    const inlineOps = executorStats().inlineOps;
    expect(inlineOps).toBeGreaterThan(0);
    const tiny = rand([4, 4], { seed: 1 });
    const before = executorStats().tasksRun;
    const y = await matmulAsync(tiny, tiny);
    expect(executorStats().tasksRun).toBe(before);
    expect(sameBits(y, matmul(tiny, tiny))).toBe(true);
    const big = rand([128, 128], { seed: 2 }); // 4.2 M ops, far above the threshold
    expect(2 * 128 ** 3).toBeGreaterThan(inlineOps);
    const z = await matmulAsync(big, big);
    expect(executorStats().tasksRun).toBe(before + 1);
    expect(sameBits(z, matmul(big, big))).toBe(true);
    // The busy check applies to inline ops too.
    const out = zeros([128, 128]);
    const pending = matmulAsync(big, big, { out });
    // A 4×128×2 product (2 K ops, inline) reading rows of the pending output is refused.
    await expect(matmulAsync(out.rows(0, 4), rand([128, 2]))).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    // Writing into it inline as well.
    await expect(matmulAsync(rand([4, 2]), rand([2, 128]), { out: out.rows(4, 8) })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    await pending;
  });

  it('reject bad input with the same TypeError/RangeError as the sync ops', async () => {
    const a = rand([4, 8]);
    await expect(matmulAsync(a, rand([9, 3]))).rejects.toThrow(RangeError);
    await expect(matmulAsync(a, rand([9, 3]))).rejects.toThrow('matmulAsync: a.shape[1] (8) must equal b.shape[0] (9)');
    await expect(matmulAsync(a, rand([8, 3]), { activation: 'tanh' as never })).rejects.toThrow(TypeError);
    await expect(matmulAsync('x' as never, rand([8, 3]))).rejects.toThrow(TypeError);
    await expect(matmulAsync(a, rand([8, 3]), { out: zeros([4, 4]) })).rejects.toThrow(RangeError);
    await expect(matmulAsync(a, rand([8, 3]), { signal: {} as never })).rejects.toThrow(/AbortSignal/);
    await expect(linearAsync(a, rand([3, 7]))).rejects.toThrow('linearAsync: x.shape[1] (8) must equal w.shape[1] (7) (in features)');
    expect(executorStats().busyRanges).toBe(0);
  });

  it('refuse a second in-flight op writing the same output, or reading it before it is complete', async () => {
    setNumThreads(initialThreads);
    const a = rand([512, 512], { seed: 1 });
    const b = rand([512, 512], { seed: 2 });
    const out = zeros([512, 512]);
    const first = matmulAsync(a, b, { out });
    await expect(matmulAsync(a, b, { out })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    // A view overlapping part of the output is refused too (byte ranges, not objects).
    await expect(matmulAsync(a.rows(0, 8), b, { out: out.rows(100, 108) })).rejects.toThrow(/out overlaps the output \(out\) of matmulAsync/);
    // Reading the pending output is refused: its content is not complete.
    await expect(matmulAsync(out, b)).rejects.toThrow(/a overlaps the output/);
    // A sync op writing there is refused as well.
    expect(() => matmul(a, b, { out })).toThrow(/overlaps/);
    // Reading the same inputs concurrently is fine.
    const other = await matmulAsync(a, b);
    await first;
    expect(sameBits(out, other)).toBe(true);
    // Once settled the memory is free again.
    await matmulAsync(a, b, { out });
    expect(executorStats().busyRanges).toBe(0);
  });

  it('keep inputs alive until the work is done (GC during the op)', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    let p: Promise<Tensor>;
    let want: Tensor;
    {
      const a = rand([256, 256], { seed: 3 });
      const b = rand([256, 256], { seed: 4 });
      want = matmul(a, b);
      p = matmulAsync(a, b);
    }
    gc?.();
    expect(sameBits(await p, want)).toBe(true);
  });

  it('hundreds of overlapping ops with random shapes equal their sync results', async () => {
    setNumThreads(initialThreads);
    let seed = 1000;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return 1 + (seed % n);
    };
    const jobs: { p: Promise<Tensor>; want: Tensor }[] = [];
    const shared = rand([96, 80], { seed: 5 });
    const packed = packWeights(rand([40, 80], { seed: 6 })) as PackedWeights;
    for (let i = 0; i < 300; i++) {
      const kind = i % 3;
      if (kind === 0) {
        const m = rnd(70), k = rnd(90), n = rnd(130);
        const a = rand([m, k], { seed: i });
        const b = rand([k, n], { seed: i + 1 });
        jobs.push({ p: matmulAsync(a, b, { activation: 'relu' }), want: matmul(a, b, { activation: 'relu' }) });
      } else if (kind === 1) {
        // Many ops reading one input at once.
        jobs.push({ p: linearAsync(shared, packed), want: linear(shared, packed) });
      } else {
        const m = rnd(300), k = rnd(200), n = rnd(64);
        const a = rand([m, k], { seed: i });
        const w = rand([n, k], { seed: i + 2 });
        const bias = rand([n], { seed: i + 3 });
        jobs.push({ p: linearAsync(a, w, bias), want: linear(a, w, bias) });
      }
    }
    const got = await Promise.all(jobs.map((j) => j.p));
    got.forEach((g, i) => expect(sameBits(g, jobs[i].want), `op ${i}`).toBe(true));
    const s = executorStats();
    expect(s.pending).toBe(0);
    expect(s.busyRanges).toBe(0);
  });

  itTiming('run on simdtensor threads, not libuv\'s pool: they finish while the libuv pool is saturated [real clock]', async () => {
    setNumThreads(initialThreads);
    const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    // Keep every libuv thread busy for a while (pbkdf2 runs on the libuv pool).
    let cryptoDone = 0;
    const hogs = Array.from({ length: size * 2 }, () => new Promise<void>((res) => pbkdf2('pw', 'salt', 250_000, 32, 'sha512', () => { cryptoDone++; res(); })));
    const a = rand([64, 64], { seed: 1 });
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await matmulAsync(a, a);
    const ms = performance.now() - t0;
    const doneBefore = cryptoDone;
    await Promise.all(hogs);
    // 20 small async ops would wait for the hogs if they queued behind them on libuv's pool.
    expect(doneBefore, `async ops took ${ms.toFixed(1)} ms; ${doneBefore} hogs had finished`).toBe(0);
  });

  it('an aborted signal rejects with an AbortError; a queued op is dropped at once', async () => {
    const a = rand([8, 8]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const pre = matmulAsync(a, a, { signal: ac.signal });
    await expect(pre).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    // One thread: a long op occupies the only worker, so the next one is still queued when aborted.
    setNumThreads(1);
    try {
      // ~7 GFLOP on one thread (tens of ms even on a fast core) keeps the worker busy well past the abort below.
      const long = rand([1500, 1500], { seed: 3 });
      const first = matmulAsync(long, long);
      const big = rand([700, 700], { seed: 1 });
      const out = zeros([700, 700]);
      const ac2 = new AbortController();
      const second = matmulAsync(big, big, { out, signal: ac2.signal });
      // The precondition this test is about: the second op is still waiting in the queue when aborted.
      expect(executorStats().queued).toBeGreaterThanOrEqual(1);
      ac2.abort();
      await expect(second).rejects.toMatchObject({ name: 'AbortError' });
      // Dropped before it ran: out untouched and free again right away.
      expect(out.data.every((v) => v === 0)).toBe(true);
      await matmulAsync(rand([700, 1]), rand([1, 700]), { out });
      await first;
      // Aborting a running op: it finishes, then rejects. Wait until the worker has taken it off the queue.
      const huge = rand([1200, 1200], { seed: 2 });
      const ac3 = new AbortController();
      const third = matmulAsync(huge, huge, { signal: ac3.signal });
      const until = performance.now() + 2000;
      while (executorStats().queued !== 0 && performance.now() < until);
      const wasRunning = executorStats().inPool === 1;
      ac3.abort();
      await expect(third).rejects.toMatchObject({ name: 'AbortError' });
      expect(wasRunning).toBe(true);
      expect(executorStats().busyRanges).toBe(0);
    } finally {
      setNumThreads(initialThreads);
    }
  });

  itTiming('keep the event loop ticking during a long async GEMM (setInterval lag) [real clock]', async () => {
    setNumThreads(initialThreads);
    // Size the GEMM to ~0.5 s of work on this machine.
    const probe = rand([256, 256]);
    const t0 = performance.now();
    matmul(probe, probe);
    const gflops = (2 * 256 ** 3) / ((performance.now() - t0) * 1e6);
    const n = Math.min(2048, Math.max(512, Math.round(Math.cbrt((0.5 * Math.min(gflops, 200) * 1e9) / 2) / 64) * 64));
    const a = rand([n, n], { seed: 1 });
    // A sync op would give no tick at all until it returns (one lag as long as the op). Other processes on a
    // small shared box also delay ticks, so retry, and hold p99 to a bound only when the box is not overloaded.
    const overloaded = loadavg()[0] > availableParallelism();
    let ok = false;
    let report = '';
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      const stopLag = lagProbe();
      const start = performance.now();
      await matmulAsync(a, a);
      const dur = performance.now() - start;
      const lags = stopLag();
      lags.sort((x, y) => x - y);
      const p99 = lags[Math.floor(lags.length * 0.99)] ?? Infinity;
      const max = lags[lags.length - 1] ?? Infinity;
      report = `n=${n} ${dur.toFixed(0)} ms, ${lags.length} ticks, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms, load ${loadavg()[0].toFixed(1)}`;
      ok = lags.length >= 10 && max < dur / 2 && (overloaded || p99 < 25);
    }
    expect(ok, report).toBe(true);
  });
});

describe('Executor', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('validates its options and jobs', async () => {
    expect(() => new Executor({ concurrency: 0 })).toThrow(RangeError);
    expect(() => new Executor({ concurrency: 1.5 })).toThrow(RangeError);
    expect(() => new Executor({ signal: 3 as never })).toThrow(TypeError);
    expect(new Executor().concurrency).toBe(getNumThreads());
    const ex = new Executor({ concurrency: 2 });
    await expect(ex.run(5 as never)).rejects.toThrow(TypeError);
    await expect(ex.run(() => 1, { signal: 'x' as never })).rejects.toThrow(TypeError);
  });

  it('runs jobs first come first served, never more than `concurrency` at once', async () => {
    const ex = new Executor({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ex.run(async () => {
          started.push(i);
          running++;
          peak = Math.max(peak, running);
          await sleep(2 + (i % 3));
          running--;
          return i * 2;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(ex.active).toBe(0);
    expect(ex.pending).toBe(0);
  });

  it('runs async ops concurrently and returns the results in order (map)', async () => {
    const ex = new Executor({ concurrency: 4 });
    const w = packWeights(rand([32, 48], { seed: 2 })) as PackedWeights;
    const xs = Array.from({ length: 24 }, (_, i) => rand([5 + i, 48], { seed: 100 + i }));
    const ys = await ex.map(xs, (x, _i, signal) => linearAsync(x, w, null, { signal }));
    ys.forEach((y, i) => expect(sameBits(y, linear(xs[i], w))).toBe(true));
  });

  it('a job error rejects only that job', async () => {
    const ex = new Executor({ concurrency: 1 });
    const bad = ex.run(() => {
      throw new Error('boom');
    });
    const good = ex.run(() => 7);
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe(7);
  });

  it('abort: queued jobs reject at once, running ones get the signal, later jobs still run', async () => {
    const ex = new Executor({ concurrency: 1 });
    let sawAbort = false;
    const running = ex.run(async (signal) => {
      await new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
      sawAbort = signal.aborted;
      return 'stopped';
    });
    const queued = ex.run(() => 'never');
    await sleep(1);
    ex.abort(new Error('shutdown'));
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    await expect(running).resolves.toBe('stopped');
    expect(sawAbort).toBe(true);
    await expect(ex.run(() => 'after')).resolves.toBe('after');
  });

  it('a per-job signal drops only that job; an executor-wide signal closes the executor', async () => {
    const ac = new AbortController();
    const ex = new Executor({ concurrency: 1, signal: ac.signal });
    const first = ex.run(() => sleep(5).then(() => 1));
    const jobAc = new AbortController();
    const second = ex.run(() => 2, { signal: jobAc.signal });
    const third = ex.run(() => 3);
    jobAc.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    await expect(first).resolves.toBe(1);
    await expect(third).resolves.toBe(3);
    const fourth = ex.run(() => sleep(50));
    const fifth = ex.run(() => 5);
    ac.abort();
    await expect(fifth).rejects.toMatchObject({ name: 'AbortError' });
    await fourth;
    await expect(ex.run(() => 6)).rejects.toMatchObject({ name: 'AbortError' });
    await ex.onIdle();
  });

  it('onIdle resolves when everything has finished', async () => {
    const ex = new Executor({ concurrency: 2 });
    let done = 0;
    for (let i = 0; i < 5; i++) void ex.run(() => sleep(3).then(() => done++));
    await ex.onIdle();
    expect(done).toBe(5);
  });
});

describe('SharedArrayBuffer-backed tensors', () => {
  it('work in sync and async ops without copies', async () => {
    const sab = new SharedArrayBuffer(4 * (64 * 32 + 32 * 16 + 64 * 16));
    const a = tensor(new Float32Array(sab, 0, 64 * 32), [64, 32]);
    const b = tensor(new Float32Array(sab, 4 * 64 * 32, 32 * 16), [32, 16]);
    const out = tensor(new Float32Array(sab, 4 * (64 * 32 + 32 * 16), 64 * 16), [64, 16]);
    a.data.set(rand([64, 32], { seed: 1 }).data as Float32Array);
    b.data.set(rand([32, 16], { seed: 2 }).data as Float32Array);
    const want = matmul(a, b);
    expect(await matmulAsync(a, b, { out })).toBe(out);
    expect(sameBits(out, want)).toBe(true);
    expect(out.data.buffer).toBe(sab);
  });
});

describe('one abort listener per signal (issue #19)', () => {
  it('Executor.map over 12 items and 12 async ops sharing a signal keep at most one listener on it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const ex = new Executor({ concurrency: 1 });
      let most = 0;
      const jobSignals = new Set<AbortSignal>();
      await ex.map(Array.from({ length: 12 }, (_, i) => i), (i, _n, signal) => {
        jobSignals.add(signal);
        most = Math.max(most, getEventListeners(signal, 'abort').length); // 11 jobs queued behind this one
        return i;
      });
      expect(jobSignals.size).toBe(1);
      expect(most).toBeLessThanOrEqual(1);
      // 12 async ops in flight on one signal.
      const ac = new AbortController();
      const a = rand([64, 64], { seed: 1 });
      const b = rand([64, 64], { seed: 2 });
      const ps = Array.from({ length: 12 }, () => matmulAsync(a, b, { signal: ac.signal }));
      expect(getEventListeners(ac.signal, 'abort').length).toBeLessThanOrEqual(1);
      await Promise.all(ps);
      expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
      // Aborting still reaches every queued job and op.
      const ex2 = new Executor({ concurrency: 1 });
      const ac2 = new AbortController();
      let release!: () => void;
      const first = ex2.run(() => new Promise<void>((r) => (release = r)));
      const queued = Array.from({ length: 12 }, () => ex2.run(() => 1, { signal: ac2.signal }).catch((e: Error) => e.name));
      ac2.abort();
      expect(await Promise.all(queued)).toEqual(Array(12).fill('AbortError'));
      release();
      await first;
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
