// Caching: the packed-weights cache (identity-keyed, released with the weight) and memoize (LRU by input bytes).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  getPacked,
  linear,
  linearAsync,
  matmul,
  memoize,
  packedCacheStats,
  PackedWeights,
  rand,
  releasePacked,
  setAutoPack,
  stats,
  Tensor,
  tensor,
} from '../src/index.js';
import { hashTensor } from '../src/cache/memoize.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Tolerance of f32 GEMM results that should be computed identically (same kernel, same packing). */
const EXACT = 0;

afterEach(() => {
  setAutoPack(false);
});

describe('getPacked', () => {
  // First, so no weight from an earlier test can be collected during it and blur the count.
  it('releases the packed weights when the weight is garbage collected', async () => {
    const base = packedCacheStats();
    (() => {
      for (let i = 0; i < 4; i++) getPacked(rand([256, 256], { seed: i }));
    })();
    const held = packedCacheStats();
    expect(held.entries - base.entries).toBe(4);
    expect(held.bytes - base.bytes).toBeGreaterThanOrEqual(4 * 256 * 256 * 4);
    for (let i = 0; i < 100 && packedCacheStats().entries > base.entries; i++) {
      gc();
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(packedCacheStats().entries).toBe(base.entries);
    expect(packedCacheStats().bytes).toBe(base.bytes);
  });

  it('packs once per weight and options, and counts hits and misses', () => {
    const w = rand([48, 40], { seed: 1 });
    const before = packedCacheStats();
    const p1 = getPacked(w) as PackedWeights;
    const p2 = getPacked(w);
    const p3 = getPacked(w, { layout: 'linear' });
    const pk = getPacked(w, { layout: 'kn' }) as PackedWeights;
    expect(p1).toBeInstanceOf(PackedWeights);
    expect(p2).toBe(p1);
    expect(p3).toBe(p1); // the default layout is 'linear'
    expect(pk).not.toBe(p1);
    expect([p1.k, p1.n]).toEqual([40, 48]);
    expect([pk.k, pk.n]).toEqual([48, 40]);
    const after = packedCacheStats();
    expect(after.hits - before.hits).toBe(2);
    expect(after.misses - before.misses).toBe(2);
    expect(after.entries - before.entries).toBe(2);
    expect(after.bytes - before.bytes).toBe(p1.bytes + pk.bytes);

    const x = rand([5, 40], { seed: 2 });
    const want = linear(x, w);
    const got = linear(x, getPacked(w));
    expect(Math.max(...want.data.map((v, i) => Math.abs(v - got.data[i])))).toBeLessThanOrEqual(1e-4);
  });

  it('releasePacked drops the entries so the next call packs again', () => {
    const w = rand([16, 8], { seed: 3 });
    const p1 = getPacked(w);
    const before = packedCacheStats();
    expect(releasePacked(w)).toBe(true);
    expect(releasePacked(w)).toBe(false);
    expect(packedCacheStats().entries).toBe(before.entries - 1);
    const p2 = getPacked(w);
    expect(p2).not.toBe(p1);
    expect(packedCacheStats().misses).toBe(before.misses + 1);
  });

  it('rejects what it cannot pack, caching nothing', () => {
    const before = packedCacheStats();
    expect(() => getPacked(tensor(new Int32Array(4), [2, 2]))).toThrow(/packWeights: w.dtype must be float32/);
    expect(() => getPacked(42 as unknown as object)).toThrow(/getPacked: w must be a weight .*got 42/);
    expect(() => getPacked(rand([2, 2]), { layout: 'linear', extra: { a: 1 } })).toThrow(/getPacked: opts.extra is Object/);
    expect(packedCacheStats().misses).toBe(before.misses);
  });

  it('setAutoPack makes linear() with a plain weight reuse its packing', () => {
    const w = rand([64, 32], { seed: 4 });
    const b = rand([64], { seed: 5 });
    const x = rand([3, 32], { seed: 6 });
    const plain = linear(x, w, b, { activation: 'relu' });
    const s0 = packedCacheStats();
    expect(setAutoPack(true)).toBe(false);
    const a1 = linear(x, w, b, { activation: 'relu' });
    const a2 = linear(x, w, b, { activation: 'relu' });
    const s1 = packedCacheStats();
    expect(s1.misses - s0.misses).toBe(1);
    expect(s1.hits - s0.hits).toBe(1);
    expect(Array.from(a2.data)).toEqual(Array.from(a1.data));
    for (let i = 0; i < plain.size; i++) expect(Math.abs(a1.data[i] - plain.data[i])).toBeLessThanOrEqual(1e-4);
    expect(a1.shape).toEqual([3, 64]);
    // Shape errors still name the arguments.
    expect(() => linear(rand([3, 31]), w)).toThrow(/31/);
    setAutoPack(false);
    const s2 = packedCacheStats();
    linear(x, w, b);
    expect(packedCacheStats().hits).toBe(s2.hits);
    expect(packedCacheStats().misses).toBe(s2.misses);
    expect(() => setAutoPack(1 as unknown as boolean)).toThrow(/setAutoPack: on must be a boolean, got 1/);
  });

  it('setAutoPack also covers linearAsync', async () => {
    const w = rand([40, 24], { seed: 7 });
    const x = rand([3, 24], { seed: 8 });
    const want = linear(x, w);
    setAutoPack(true);
    const s0 = packedCacheStats();
    const y1 = await linearAsync(x, w);
    const y2 = await linearAsync(x, w);
    const s1 = packedCacheStats();
    expect(s1.misses - s0.misses).toBe(1);
    expect(s1.hits - s0.hits).toBe(1);
    expect(Array.from(y2.data)).toEqual(Array.from(y1.data));
    for (let i = 0; i < want.size; i++) expect(Math.abs(y1.data[i] - want.data[i])).toBeLessThanOrEqual(1e-4);
  });

  it('appears in stats()', () => {
    const c = stats().caches.find((x) => x.name === 'packed');
    expect(c?.kind).toBe('packed');
    expect(c?.misses).toBeGreaterThan(0);
  });
});

describe('memoize', () => {
  const double = (x: Tensor) => tensor(Float32Array.from(x.data as Float32Array, (v) => v * 2), x.shape);

  it('returns the cached result for identical bytes, dtype and shape', () => {
    const fn = vi.fn(double);
    const m = memoize(fn, { name: 'double' });
    const a = m(tensor([1, 2, 3, 4], [2, 2]));
    const b = m(tensor([1, 2, 3, 4], [2, 2])); // another tensor, same bytes
    expect(b).toBe(a);
    expect(fn).toHaveBeenCalledTimes(1);
    m(tensor([1, 2, 3, 4], [4, 1])); // same bytes, other shape
    m(tensor(new Int32Array(new Float32Array([1, 2, 3, 4]).buffer), [2, 2])); // same bytes, other dtype
    m(tensor([1, 2, 3, 5], [2, 2]));
    expect(fn).toHaveBeenCalledTimes(4);
    expect(m.stats()).toMatchObject({ name: 'double', kind: 'memoize', hits: 1, misses: 4, entries: 4 });
    expect(stats().caches.some((c) => c.name === 'double')).toBe(true);
  });

  it('verifies bytes on a hit: an input changed in place is a miss', () => {
    const fn = vi.fn(double);
    const m = memoize(fn);
    const x = tensor([1, 2, 3], [1, 3]);
    const y1 = m(x);
    (x.data as Float32Array)[1] = 7;
    const y2 = m(x);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(Array.from(y2.data)).toEqual([2, 14, 6]);
    expect(Array.from(y1.data)).toEqual([2, 4, 6]);
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const fn = vi.fn(double);
    const m = memoize(fn, { maxEntries: 2 });
    const t = (v: number) => tensor([v], [1, 1]);
    m(t(1));
    m(t(2));
    m(t(1)); // 1 is now the most recent
    m(t(3)); // evicts 2
    expect(fn).toHaveBeenCalledTimes(3);
    m(t(1));
    expect(fn).toHaveBeenCalledTimes(3);
    m(t(2));
    expect(fn).toHaveBeenCalledTimes(4);
    expect(m.stats()).toMatchObject({ evictions: 2, entries: 2, hits: 2, misses: 4 });
  });

  it('stays within maxBytes (input copies plus results)', () => {
    const m = memoize(double, { maxBytes: 100 });
    for (let i = 0; i < 10; i++) m(tensor(new Float32Array(4).fill(i), [1, 4])); // 16 + 16 bytes each
    const s = m.stats();
    expect(s.bytes).toBeLessThanOrEqual(100);
    expect(s.entries).toBe(3);
    expect(s.bytes).toBe(96);
    const big = memoize(double, { maxBytes: 10 });
    big(tensor(new Float32Array(4), [1, 4]));
    expect(big.stats().entries).toBe(0);
    m.clear();
    expect(m.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('shares a pending promise and never caches a rejection', async () => {
    let calls = 0;
    let fail = true;
    const m = memoize(async (x: Tensor) => {
      calls++;
      await new Promise((res) => setTimeout(res, 5));
      if (fail) throw new Error('flaky');
      return double(x);
    });
    const x = tensor([1, 2], [1, 2]);
    const p1 = m(x);
    const p2 = m(tensor([1, 2], [1, 2]));
    expect(p2).toBe(p1);
    await expect(p1).rejects.toThrow('flaky');
    expect(calls).toBe(1);
    fail = false;
    const y = await m(x);
    expect(calls).toBe(2);
    expect(Array.from(y.data)).toEqual([2, 4]);
    const y2 = await m(x);
    expect(calls).toBe(2);
    expect(Array.from(y2.data)).toEqual([2, 4]);
    expect(m.stats()).toMatchObject({ hits: 2, misses: 2, entries: 1, bytes: 16 });
  });

  it('stores a view result compactly instead of pinning its buffer', () => {
    const big = tensor(new Float32Array(1000), [250, 4]);
    const m = memoize((x: Tensor) => big.rows(x.data[0], x.data[0] + 1));
    const first = m(tensor([3], [1, 1]));
    expect(first.data.buffer).toBe(big.data.buffer);
    const again = m(tensor([3], [1, 1]));
    expect(again.data.buffer).not.toBe(big.data.buffer);
    expect(again.data.buffer.byteLength).toBe(16);
    expect(m.stats().bytes).toBe(4 + 16);
  });

  it('a caller transferring a cached result does not detach it for later hits', () => {
    const m = memoize(double);
    const a = m(tensor([1, 2, 3, 4], [2, 2]));
    try {
      structuredClone(a.data.buffer, { transfer: [a.data.buffer as ArrayBuffer] });
    } catch (e) {
      expect((e as Error).name).toBe('DataCloneError'); // runtimes that refuse untransferable buffers
    }
    const b = m(tensor([1, 2, 3, 4], [2, 2]));
    expect(Array.from(b.data)).toEqual([2, 4, 6, 8]);
  });

  it('hashes bytes the same at any alignment', () => {
    const buf = new Int8Array(16);
    for (let i = 0; i < 16; i++) buf[i] = i * 7 - 50;
    const unaligned = tensor(buf.subarray(1, 12), [11]);
    const aligned = tensor(Int8Array.from(buf.subarray(1, 12)), [11]);
    expect(hashTensor(unaligned)).toBe(hashTensor(aligned));
    expect(hashTensor(unaligned)).not.toBe(hashTensor(tensor(buf.subarray(2, 13), [11])));
    const fn = vi.fn((x: Tensor) => x.clone());
    const m = memoize(fn);
    m(unaligned);
    m(aligned);
    expect(fn).toHaveBeenCalledTimes(1);
    // Few collisions over many small inputs.
    const seen = new Set<number>();
    for (let i = 0; i < 20000; i++) seen.add(hashTensor(tensor([i, i % 7], [2])));
    expect(seen.size).toBeGreaterThan(19990);
  });

  it('rejects bad arguments', () => {
    expect(() => memoize(42 as unknown as () => Tensor)).toThrow(/memoize: fn must be a function/);
    expect(() => memoize(double, { maxEntries: 0 })).toThrow(/opts.maxEntries must be an integer >= 1 \(or Infinity\), got 0/);
    expect(() => memoize(double, { maxBytes: -1 })).toThrow(/opts.maxBytes/);
    const m = memoize(double, { name: 'named' });
    expect(() => m([1, 2] as unknown as Tensor)).toThrow(/named: input must be a Tensor, got \[1, 2\]/);
  });

  it('matches the result of the function it wraps on a real kernel', () => {
    const w = rand([16, 8], { seed: 9 });
    const f = memoize((x: Tensor) => matmul(x, w, { transB: true }));
    const x = rand([2, 8], { seed: 10 });
    const y = f(x);
    const y2 = f(x.clone());
    expect(f.stats()).toMatchObject({ hits: 1, misses: 1 });
    expect(Array.from(y2.data)).toEqual(Array.from(y.data)); // a compact copy: small kernel outputs are slab views
    expect(f(x)).toBe(y2);
    const ref = matmul(x, w, { transB: true });
    for (let i = 0; i < ref.size; i++) expect(Math.abs(y.data[i] - ref.data[i])).toBeLessThanOrEqual(EXACT);
  });
});
