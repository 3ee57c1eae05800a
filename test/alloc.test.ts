import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocArray } from '../src/alloc.js';
import { MessageChannel } from 'node:worker_threads';
import { add, bufferPoolStats, linear, packWeights, POOL_MIN_BYTES, rand, relu, scope, setBufferPoolLimit, trimBufferPool } from '../src/index.js';
import { native } from '../src/native.js';
import { expectSameArray } from './helpers.js';

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

const initialPlainBelow = bufferPoolStats().plainBelowBytes;

describe('output buffer pool', () => {
  // These exercise the pool's own path for outputs made outside a scope: outputs of 32 MiB and more where the addon
  // tuned glibc, every pool-sized one where it did not (another libc), so the tuned threshold is lifted here.
  const initialLimit = bufferPoolStats().limitBytes;
  beforeAll(() => native.setBufferPoolPlainBelow(0));
  afterAll(() => {
    setBufferPoolLimit(initialLimit);
    native.setBufferPoolPlainBelow(initialPlainBelow);
  });

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
      expectSameArray(y.data, want, { sameType: true });
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

/**
 * Transfers `t`'s buffer as a transfer list would (structuredClone with `transfer`, the same serializer as
 * postMessage). Returns the copy that arrived, or the DataCloneError a runtime that refuses the transfer throws
 * (Node >= 21 for untransferable buffers); either way nothing else may be harmed.
 */
function transfer(t: { data: ArrayBufferView }): ArrayBuffer | Error {
  const buf = t.data.buffer as ArrayBuffer;
  try {
    return structuredClone(buf, { transfer: [buf] });
  } catch (e) {
    expect((e as Error).name).toBe('DataCloneError');
    return e as Error;
  }
}

describe('transferring an output', () => {
  it("a small output's transfer leaves the other outputs of its slab and every later op intact (issue #12)", () => {
    const x = rand([4, 4], { seed: 1 });
    const y = relu(x);
    const z = relu(x);
    const w = add(x, x);
    const want = { y: Array.from(y.data), z: Array.from(z.data), w: Array.from(w.data) };
    expect(y.data.buffer).toBe(z.data.buffer); // same slab: the case that used to detach z and w
    const got = transfer(y);
    if (got instanceof ArrayBuffer) expect(new Float32Array(got, y.data.byteOffset, 16)).toEqual(new Float32Array(want.y));
    for (const [name, t] of [['y', y], ['z', z], ['w', w]] as const) expect(Array.from(t.data), name).toEqual(want[name]);
    // Later small ops (which carve the same slab) still work.
    for (let i = 0; i < 100; i++) expect(Array.from(relu(x).data)).toEqual(want.y);
    expect(Array.from(add(x, x).data)).toEqual(want.w);
  });

  it('a small output posted to a worker port arrives whole, with the sender intact', async () => {
    const y = relu(rand([8], { seed: 2, low: 0 }));
    const want = Array.from(y.data);
    const { port1, port2 } = new MessageChannel();
    const arrived = new Promise<Float32Array>((res) => port2.once('message', res));
    try {
      port1.postMessage(y.data, [y.data.buffer]);
      expect(Array.from(await arrived)).toEqual(want);
    } catch (e) {
      expect((e as Error).name).toBe('DataCloneError'); // a runtime refusing untransferable buffers
    } finally {
      port1.close();
    }
    expect(Array.from(y.data)).toEqual(want);
    expect(Array.from(relu(y).data)).toEqual(want);
  });

  it('a large pooled output is copied, not detached, and the pool keeps working', async () => {
    setBufferPoolLimit(64 << 20);
    native.setBufferPoolPlainBelow(0); // pooled outside a scope, as outputs of 32 MiB and more are
    try {
    const x = rand([256, 300], { seed: 3 });
    const w = packWeights(rand([512, 300], { seed: 4 }));
    const y = linear(x, w) as { data: Float32Array };
    const want = Float32Array.from(y.data);
    const got = transfer(y);
    if (got instanceof ArrayBuffer) expectSameArray(new Float32Array(got), want, { sameType: true });
    expect(y.data.length).toBe(256 * 512);
    expectSameArray(y.data, want, { sameType: true });
    await collect();
    expectSameArray(linear(x, w).data, want, { sameType: true });
    } finally {
      native.setBufferPoolPlainBelow(initialPlainBelow);
    }
  });

  it('a large plain output (outside a scope, under the tuned threshold) transfers like any ArrayBuffer; ops then refuse it', () => {
    const x = rand([256, 300], { seed: 3 });
    const w = packWeights(rand([512, 300], { seed: 4 }));
    const y = linear(x, w) as { data: Float32Array };
    const want = Float32Array.from(y.data);
    const got = transfer(y);
    if (!(got instanceof ArrayBuffer)) return; // a runtime that refuses the transfer: nothing moved
    expectSameArray(new Float32Array(got), want, { sameType: true });
    if (initialPlainBelow > 256 * 512 * 4) {
      expect(y.data.length).toBe(0); // moved: the tensor reads as empty
      expect(() => relu(y as never)).toThrow(TypeError);
    }
    expectSameArray(linear(x, w).data, want, { sameType: true }); // later outputs are unaffected
  });
});

describe('outputs outside a scope under the tuned threshold (plainBelowBytes)', () => {
  it('is glibc\'s tuned mmap threshold where the addon tuned glibc, else 0', () => {
    const t = native.mallocTuning();
    expect(initialPlainBelow).toBe(t.applied ? t.mmapThreshold : 0);
  });

  it('are plain buffers that never enter the pool; inside a scope they are pool blocks', () => {
    if (initialPlainBelow <= POOL_MIN_BYTES) return; // not glibc: every pool-sized output is pooled (above)
    setBufferPoolLimit(64 << 20);
    const n = (1 << 20) / 4;
    const s0 = bufferPoolStats();
    for (let i = 0; i < 50; i++) {
      const a = allocArray('float32', n) as Float32Array; // 1 MiB, outside any scope
      expect(a.length).toBe(n);
      expect(a[0] + a[n - 1]).toBe(0);
      a[0] = 1;
    }
    const s1 = bufferPoolStats();
    expect(s1.declined - s0.declined).toBe(50);
    expect(s1.hits + s1.misses).toBe(s0.hits + s0.misses); // no block mapped or taken
    expect(s1.outstandingBytes).toBe(s0.outstandingBytes);
    scope(() => void allocArray('float32', n));
    const s2 = bufferPoolStats();
    expect(s2.hits + s2.misses).toBe(s1.hits + s1.misses + 1); // a scope's output is a pool block
    expect(s2.released).toBe(s1.released + 1);
  });
});
