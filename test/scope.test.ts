// scope()/keep(): outputs made inside a scope go back to the output pool when it ends (src/scope.ts); memory stays
// bounded in loops that never yield; a released block is never reachable from a tensor that outlived its scope.
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferPoolStats, keep, linear, linearAsync, packWeights, quantize, rand, relu, scope, setBufferPoolLimit, tensor, trimBufferPool } from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { native } from '../src/native.js';

const M = 64, K = 64, N = 1024; // a 256 KiB f32 output: pool-sized (POOL_MIN_BYTES)
const x = rand([M, K], { seed: 1, low: -1, high: 1 });
const w = packWeights(rand([N, K], { seed: 2, low: -1, high: 1 }));
const w2 = packWeights(rand([N, N], { seed: 3, low: -1, high: 1 }));
const OUT_BYTES = M * N * 4;
const want = Float32Array.from(linear(x, w).data);
/** Byte equality (cheaper than toEqual on 64 K elements on a loaded machine). */
const same = (a: ArrayBufferView, b: ArrayBufferView) => a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tick = () => new Promise<void>((r) => setImmediate(r));

const initialLimit = bufferPoolStats().limitBytes;
/** Outputs made outside a scope under this size are plain buffers (glibc tuned), never pool blocks. */
const plainBelow = bufferPoolStats().plainBelowBytes;
beforeAll(() => setBufferPoolLimit(64 << 20));
afterAll(() => setBufferPoolLimit(initialLimit));

describe('scope', () => {
  it('hands every discarded output back at its end, so a loop that never yields reuses one block', () => {
    const before = bufferPoolStats();
    for (let i = 0; i < 200; i++) scope(() => void linear(x, w));
    const after = bufferPoolStats();
    expect(after.released - before.released).toBe(200);
    expect(after.declined).toBe(before.declined); // never past the limit
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(199); // the same block, over and over
    expect(after.outstandingBytes).toBe(before.outstandingBytes);
  });

  it('keeps what fn returns (and releases the intermediates)', () => {
    const ref = linear(relu(linear(x, w)), w2);
    const before = bufferPoolStats().released;
    const y = scope(() => linear(relu(linear(x, w)), w2));
    expect(bufferPoolStats().released - before).toBe(2); // the hidden layer and its relu
    expect(y.data.length).toBe(M * N);
    expect(same(y.data, ref.data)).toBe(true);
    const pair = scope(() => ({ a: [linear(x, w)], b: new Map([['k', linear(x, w)]]) }));
    expect(same(pair.a[0].data, want)).toBe(true);
    expect(same(pair.b.get('k')!.data, want)).toBe(true);
    const q = scope(() => quantize(linear(x, w)));
    expect(q.data.size).toBe(M * N); // a QuantizedTensor: its int8 data is reachable, kept
    expect(q.data.data.length).toBe(M * N);
  });

  it('never lets a released block be reached from a tensor kept past its scope', () => {
    let leaked: Tensor<'float32'> | null = null;
    scope(() => {
      leaked = linear(x, w); // kept by mistake, not returned
    });
    const old = leaked! as Tensor<'float32'>;
    expect(old.data.length).toBe(0); // detached: its buffer is empty
    expect(old.data.buffer.byteLength).toBe(0);
    const fresh = scope(() => linear(x, w)); // most likely the very same block
    expect(() => old.data.fill(9)).toThrow(TypeError); // V8 refuses writes through the stale view...
    (old.data as Float32Array)[0] = 5; // ...or drops them
    expect(old.data[0]).toBeUndefined();
    expect(same(fresh.data, want)).toBe(true);
    expect(() => linear(old, w)).toThrow(TypeError);
    expect(() => linear(old, w)).toThrow(/detached .*released when the scope\(\) that made it ended/);
    expect(() => relu(old)).toThrow(TypeError);
  });

  it('keep() exempts an output from every scope; later outputs never alias it', () => {
    let kept: Tensor<'float32'> | null = null;
    scope(() => {
      kept = keep(linear(x, w));
    });
    const k = kept! as Tensor<'float32'>;
    expect(same(k.data, want)).toBe(true);
    const outs: Float32Array[] = [];
    for (let i = 0; i < 5; i++) outs.push(scope(() => linear(x, w)).data);
    for (const o of outs) expect(o.buffer).not.toBe(k.data.buffer);
    k.data.fill(3);
    for (const o of outs) expect(same(o, want)).toBe(true);
    expect(keep(42)).toBe(42);
  });

  it('nests: an inner scope’s result belongs to the outer one, which releases it unless it escapes again', () => {
    const before = bufferPoolStats().released;
    let inner: Tensor<'float32'> | null = null;
    const outer = scope(() => {
      inner = scope(() => linear(x, w));
      expect(inner.data.length).toBe(M * N); // alive inside the outer scope
      return linear(inner, packWeights(rand([N, N], { seed: 4 })));
    });
    expect(outer.data.length).toBe(M * N);
    expect((inner! as Tensor).data.length).toBe(0); // released when the outer scope ended
    expect(bufferPoolStats().released - before).toBe(1);
  });

  it('releases everything when fn throws, and rethrows', () => {
    const before = bufferPoolStats().released;
    let made: Tensor<'float32'> | null = null;
    expect(() =>
      scope(() => {
        made = linear(x, w);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect((made! as Tensor).data.length).toBe(0);
    expect(bufferPoolStats().released - before).toBe(1);
  });

  it('refuses a non-function and an async fn (releasing nothing)', async () => {
    expect(() => scope(null as never)).toThrow(TypeError);
    expect(() => scope(42 as never)).toThrow(/scope: fn must be a function, got number/);
    let made: Tensor<'float32'> | null = null;
    const before = bufferPoolStats().released;
    expect(() =>
      scope(async () => {
        made = linear(x, w);
      }),
    ).toThrow(/scope: fn returned a Promise/);
    expect(same((made! as Tensor).data, want)).toBe(true);
    expect(bufferPoolStats().released).toBe(before);
  });

  it('leaves an output an async op in flight writes to the GC, and the op completes right', async () => {
    const before = bufferPoolStats().released;
    let p: Promise<Tensor<'float32'>> | null = null;
    scope(() => {
      p = linearAsync(x, w) as Promise<Tensor<'float32'>>;
    });
    const y = await p!;
    expect(same(y.data, want)).toBe(true);
    // Inline async ops (small work) may have finished before the scope ended: then the block was free to go, but
    // the promise's tensor is detached. Either way the result read above was never overwritten by another output.
    expect(bufferPoolStats().released - before).toBeLessThanOrEqual(1);
  });

  it('releases nothing when the result cannot be walked (a throwing Proxy), and keep() of one does not throw', () => {
    const before = bufferPoolStats().released;
    let made: Tensor<'float32'> | null = null;
    const trap = () => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });
    const r = scope(() => {
      made = linear(x, w);
      return hostile;
    });
    expect(r).toBe(hostile);
    expect(same((made! as Tensor).data, want)).toBe(true); // left to the GC: it might have been reachable
    expect(bufferPoolStats().released).toBe(before);
    expect(keep(hostile)).toBe(hostile);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(keep(proxy)).toBe(proxy);
  });

  it('a released block is returned once: its finalizer, later, does not put it back a second time', async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await tick();
    }
    const before = bufferPoolStats();
    let t: Tensor | null = null;
    scope(() => {
      t = linear(x, w);
    });
    t = null;
    for (let i = 0; i < 3; i++) {
      gc(); // the detached ArrayBuffer dies; Node runs its finalizer on the next turns
      await tick();
      await tick();
    }
    const after = bufferPoolStats();
    expect(after.released - before.released).toBe(1);
    expect(after.outstandingBytes).toBe(before.outstandingBytes); // a second put would have taken it below
    expect(after.cachedBlocks).toBeLessThanOrEqual(before.cachedBlocks + 1);
  });

  it('releaseBuffer refuses what is not a pooled block still out', () => {
    expect(native.releaseBuffer(new ArrayBuffer(OUT_BYTES))).toBe(false); // plain
    expect(native.releaseBuffer(linear(x, w).data.buffer as ArrayBuffer)).toBe(plainBelow === 0); // plain under the threshold
    native.setBufferPoolPlainBelow(0);
    let ab: ArrayBuffer;
    try {
      ab = linear(x, w).data.buffer as ArrayBuffer; // pooled outside a scope
    } finally {
      native.setBufferPoolPlainBelow(plainBelow);
    }
    expect(native.releaseBuffer(ab)).toBe(true);
    expect(native.releaseBuffer(ab)).toBe(false); // already back
    expect(() => native.releaseBuffer(tensor(new Float32Array(4), [4]) as never)).toThrow(TypeError);
  });
});

describe('memory in loops that never yield', () => {
  it('stays bounded with fresh outputs: the pool stops at its limit, the GC recycles the rest', () => {
    setBufferPoolLimit(16 << 20);
    trimBufferPool();
    const xl = rand([256, K], { seed: 5 });
    const rss0 = process.memoryUsage().rss;
    let maxOut = 0;
    for (let i = 0; i < 600; i++) {
      linear(xl, w); // 1 MiB each, 600 MiB in all
      maxOut = Math.max(maxOut, bufferPoolStats().outstandingBytes);
    }
    expect(maxOut).toBeLessThanOrEqual(16 << 20);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(320 << 20);
    setBufferPoolLimit(64 << 20);
  });

  it('past the limit, a fresh output leaves the block a scope gave back to that scope (no new block, no creep)', async () => {
    gc(); // earlier tests' outputs: collected, and their blocks back (finalizers run on the event loop)
    await tick();
    await tick();
    setBufferPoolLimit(4 << 20);
    trimBufferPool();
    native.setBufferPoolPlainBelow(0); // fresh outputs pooled (as at 32 MiB and more, or without glibc's tuning)
    const held: Tensor[] = [];
    for (let i = 0; i < 16; i++) held.push(linear(x, w)); // 4 MiB out in 256 KiB outputs: the limit is reached
    const s0 = bufferPoolStats();
    expect(s0.outstandingBytes).toBeGreaterThan((4 << 20) - OUT_BYTES); // no room for another output
    for (let round = 0; round < 20; round++) {
      scope(() => void linear(x, w)); // a scoped output (past the limit: up to twice it), handed back at once
      held.push(linear(x, w)); // a fresh one, kept: the cached block would stay out until the loop yields
    }
    const s1 = bufferPoolStats();
    expect(s1.misses - s0.misses).toBe(1); // the scope mapped one block, then reused it every round
    expect(s1.hits - s0.hits).toBe(19);
    expect(s1.declined - s0.declined).toBe(20); // every fresh output past the limit: plain memory
    expect(s1.outstandingBytes).toBe(s0.outstandingBytes);
    for (const t of held.slice(16)) expect(same(t.data, want)).toBe(true); // plain outputs are right
    setBufferPoolLimit(64 << 20);
    native.setBufferPoolPlainBelow(plainBelow);
  });

  it('stays flat inside a scope', () => {
    for (let i = 0; i < 20; i++) scope(() => void linear(x, w)); // warm
    const rss0 = process.memoryUsage().rss;
    const out0 = bufferPoolStats().outstandingBytes;
    for (let i = 0; i < 600; i++) scope(() => void linear(x, w));
    expect(bufferPoolStats().outstandingBytes).toBe(out0);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(32 << 20);
  });

  it('stays bounded when every scope returns its result and the loop drops it (escapes count, up to twice the limit)', () => {
    setBufferPoolLimit(8 << 20);
    const rss0 = process.memoryUsage().rss;
    let maxOut = 0;
    let sum = 0;
    for (let i = 0; i < 600; i++) {
      const y = scope(() => linear(relu(linear(x, w)), w2)); // the hidden layers go back; y escapes each time
      sum += y.data[0];
      maxOut = Math.max(maxOut, bufferPoolStats().outstandingBytes);
    }
    expect(Number.isFinite(sum)).toBe(true);
    expect(maxOut).toBeLessThanOrEqual(16 << 20);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 << 20);
    setBufferPoolLimit(64 << 20);
  });

  it('reports the allocator tuning it applied, and SIMDTENSOR_MALLOC=default leaves glibc alone', () => {
    const t = native.mallocTuning();
    expect(typeof t.applied).toBe('boolean');
    if (t.applied) expect(t.trimThreshold).toBe(256 << 20);
    const probe = (env: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', "const { native } = await import('./dist/src/native.js'); console.log(JSON.stringify(native.mallocTuning()))"], {
        env: { ...process.env, SIMDTENSOR_MALLOC: env },
        encoding: 'utf8',
      });
    const off = probe('default');
    if (off.status !== 0 || !t.applied) return; // no dist/ build, or not glibc: nothing more to compare
    expect(JSON.parse(off.stdout).applied).toBe(false);
    expect(JSON.parse(probe('64').stdout).trimThreshold).toBe(64 << 20);
  });
});
