import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { allocArray } from '../src/alloc.js';
import { bufferPoolStats, linear, packWeights, POOL_MIN_BYTES, rand, setBufferPoolLimit, trimBufferPool } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tick = () => new Promise<void>((r) => setImmediate(r));

/** Collects garbage and lets the finalizers (queued by Node after a GC) run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await tick();
    await tick();
  }
}

describe('output buffer pool', () => {
  const initialLimit = bufferPoolStats().limitBytes;
  afterAll(() => setBufferPoolLimit(initialLimit));

  it('hands out zero-filled buffers of the exact size, and takes them back once collected', async () => {
    setBufferPoolLimit(64 << 20);
    trimBufferPool();
    const n = POOL_MIN_BYTES / 4 + 123;
    const before = bufferPoolStats();
    let a: Float32Array | null = allocArray('float32', n) as Float32Array;
    expect(a.length).toBe(n);
    expect(a.buffer.byteLength).toBe(n * 4);
    expect(a.every((v) => v === 0)).toBe(true);
    expect(bufferPoolStats().misses).toBe(before.misses + 1);
    a.fill(7); // dirty it: a reused block must come back zeroed
    a = null;
    await collect();
    expect(bufferPoolStats().cachedBlocks).toBeGreaterThanOrEqual(1);
    const b = allocArray('float32', n) as Float32Array;
    expect(bufferPoolStats().hits).toBe(before.hits + 1);
    expect(b.every((v) => v === 0)).toBe(true);
  });

  it('large GEMM outputs come from the pool and are right when their memory is reused', async () => {
    setBufferPoolLimit(64 << 20);
    const x = rand([256, 300], { seed: 1 });
    const w = packWeights(rand([512, 300], { seed: 2 }));
    const want = Float32Array.from(linear(x, w).data); // 512 KiB output: pooled
    for (let i = 0; i < 4; i++) linear(x, w);
    await collect();
    const hits = bufferPoolStats().hits;
    for (let i = 0; i < 3; i++) {
      const y = linear(x, w);
      expect(y.data).toEqual(want);
    }
    expect(bufferPoolStats().hits).toBeGreaterThan(hits);
  });

  it('with the limit at 0, large outputs are plain ArrayBuffers and nothing is kept', async () => {
    setBufferPoolLimit(0);
    const s0 = bufferPoolStats();
    expect(s0.cachedBytes).toBe(0);
    let a: Float32Array | null = allocArray('float32', POOL_MIN_BYTES) as Float32Array;
    expect(a.every((v) => v === 0)).toBe(true);
    a = null;
    await collect();
    const s1 = bufferPoolStats();
    expect(s1.cachedBytes).toBe(0);
    expect(s1.hits + s1.misses).toBe(s0.hits + s0.misses);
  });

  it('setBufferPoolLimit checks its argument', () => {
    expect(() => setBufferPoolLimit(-1)).toThrow(RangeError);
    expect(() => setBufferPoolLimit(1.5)).toThrow(/non-negative integer, got 1.5/);
    expect(() => setBufferPoolLimit('1' as unknown as number)).toThrow(TypeError);
  });
});
