// Issue #12, native half: no input, no timing and no worker can crash the process. Zero-size dimensions give empty
// results on every path (sync, async on the pool); buffers that can shrink or vanish are refused or pinned; worker
// termination mid-op never aborts; huge outputs and packings are RangeErrors, never aborts; raw addon functions
// check their counts against the real buffer lengths.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  add, dequantize, layerNorm, linear, linearAsync, matmul, matmulAsync, MAX_ELEMENTS, packWeights, quantize,
  quantizeDynamic, QuantizedTensor, rand, relu, softmax, Tensor, tensor, toSparse, transpose, zeros,
} from '../src/index.js';
import { native } from '../src/native.js';
import { expectSameArray } from './helpers.js';

// Every async op goes to the pool, even an empty one (by default tiny ops run inline on this thread): the zero-row
// paths must hold on a pool worker too. Read once, at this process's first async op (one process per test file).
process.env.SIMDTENSOR_ASYNC_INLINE_OPS = '0';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, 'fixtures', name);
const runChild = (args: string[], opts: { timeout?: number; shell?: string } = {}) => {
  const r = opts.shell
    ? spawnSync('sh', ['-c', opts.shell], { encoding: 'utf8', timeout: opts.timeout ?? 60_000 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', timeout: opts.timeout ?? 60_000 });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
};

describe('zero-size dimensions give empty results', () => {
  it('the issue reproducers: dynamic int8 with zero rows, sync and async', async () => {
    const q = quantizeDynamic(zeros([0, 4]));
    expect(q.shape).toEqual([0, 4]);
    expect(q.scale.length).toBe(0);
    const w = quantize(rand([4, 8]), { axis: 0 });
    const y = linear(zeros([0, 8]), w, null, { output: { dtype: 'uint8', scale: 0.1 } });
    expect(y).toBeInstanceOf(QuantizedTensor);
    expect((y as QuantizedTensor).shape).toEqual([0, 4]);
    const ya = await linearAsync(zeros([0, 8]), w, null, { output: { dtype: 'uint8', scale: 0.1 } } as never);
    expect((ya as unknown as QuantizedTensor).shape).toEqual([0, 4]);
    for (const x of [zeros([0, 8]), zeros([3, 0, 8])]) {
      expect(linear(x, w).size).toBe(0);
      expect((await linearAsync(x, w)).size).toBe(0);
      expect((await linearAsync(x, packWeights(w) as never)).size).toBe(0);
    }
  });

  it('every family with M, N or K = 0, sync and async on the pool', async () => {
    for (const [m, k, n] of [[0, 5, 3], [4, 0, 3], [4, 5, 0], [0, 0, 0], [0, 5, 0]]) {
      const a = rand([m, k]), b = rand([k, n]);
      const label = `${m}x${k}x${n}`;
      const want = new Float32Array(m * n); // K = 0: all zeros
      // Every family: the right shape and, over K = 0, zeros (an empty int8 row once came out NaN).
      const same = (t: { shape: number[]; data: ArrayLike<number> }) => {
        expect(t.shape, label).toEqual([m, n]);
        expect(Array.from(t.data), label).toEqual(Array.from(want));
      };
      expect(Array.from(matmul(a, b).data), label).toEqual(Array.from(want));
      expect(Array.from((await matmulAsync(a, b)).data), label).toEqual(Array.from(want));
      const pw = packWeights(b, { layout: 'kn' });
      same(matmul(a, pw) as never);
      same((await matmulAsync(a, pw)) as never);
      const wl = rand([n, k]);
      const q = quantize(wl, { axis: 0 });
      same(linear(a, q) as never);
      same((await linearAsync(a, q)) as never);
      const qa = quantize(a, { dtype: 'uint8' });
      same(matmul(qa.data, packWeights(q) as never) as never);
      same((await matmulAsync(qa.data, packWeights(q) as never)) as never);
      const h = packWeights(wl, { dtype: 'float16' });
      same(linear(a, h) as never);
      same((await linearAsync(a, h)) as never);
      const ah = a.to('bfloat16'), bh = b.to('bfloat16');
      same(matmul(ah, bh) as never);
      same((await matmulAsync(ah, bh)) as never);
      const s = toSparse(wl);
      same(linear(a, s) as never);
      same((await linearAsync(a, s)) as never);
      const s8 = toSparse(q);
      same(linear(a, s8) as never);
      same((await linearAsync(a, s8)) as never);
    }
  });

  it('elementwise, quantize and training kernels on [0, 5] and [5, 0]', () => {
    for (const shape of [[0, 5], [5, 0], [0, 0]]) {
      const x = zeros(shape);
      expect(add(x, x).shape).toEqual(shape);
      expect(relu(x).shape).toEqual(shape);
      expect(softmax(x).shape).toEqual(shape);
      expect(layerNorm(x).shape).toEqual(shape);
      expect(dequantize(quantize(x)).shape).toEqual(shape);
      expect(transpose(x).shape).toEqual([shape[1], shape[0]]);
    }
  });
});

describe('raw addon functions check counts against the real buffer lengths', () => {
  const f0 = new Float32Array(0), f1 = new Float32Array(1);
  it('a huge count with empty data never loops over it', () => {
    // rows / outer are not backed by memory when the other factor is 0: these returned at once only if no loop ran.
    native.binaryRow(0, f0, f0, f0, 2 ** 40, 0);
    expect(native.quantMinMax(f0, 2 ** 40, 1, 0, f1, f1)).toBe(false);
    native.transpose(f0, 2 ** 40, 0, f0);
    expect(native.pruneF32(f0, 2 ** 40, 0, 0, 0.5, false, 0, 0, f0, null)).toBe(0);
    native.matmul(f0, 0, 0, f0, 2 ** 40, false, f0, null, 0);
  });
  it('a count beyond the buffer is a RangeError naming the argument', () => {
    expect(() => native.binaryRow(0, f1, f1, f1, 2, 1)).toThrow(/binaryRow: a has 1 elements, needs 2/);
    expect(() => native.quantMinMax(f1, 1, 2, 1, f1, f1)).toThrow(/quantize: t has 1 elements, needs 2/);
    expect(() => native.binaryRow(0, f0, f0, f0, 2 ** 41, 1)).toThrow(RangeError);
  });
  it('a packed weight with a dimension beyond MAX_ELEMENTS is a RangeError', () => {
    expect(() => new native.PackedS8(new Int8Array(0), 0, 2 ** 40, false, null, null)).toThrow(/packWeights: n must be .* <= 2147483647/);
    expect(() => new native.PackedF32(f0, 2 ** 31, 0, false)).toThrow(RangeError);
  });
});

describe('buffers that can shrink or vanish', () => {
  const resizable = () => new Float32Array(new ArrayBuffer(64 * 64 * 4, { maxByteLength: 64 * 64 * 8 }));
  const growable = () => new Float32Array(new SharedArrayBuffer(64 * 64 * 4, { maxByteLength: 64 * 64 * 8 }));
  const detached = (t: Tensor) => structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });

  it('a resizable or growable buffer is a TypeError naming the argument, sync and async', async () => {
    expect(() => tensor(resizable(), [64, 64])).toThrow(/tensor: data is backed by a resizable ArrayBuffer/);
    expect(() => tensor(growable(), [64, 64])).toThrow(/tensor: data is backed by a growable SharedArrayBuffer/);
    const r = new Tensor(resizable(), [64, 64], 'float32', 64 * 64);
    const b = rand([64, 64]);
    expect(() => matmul(r, b)).toThrow(TypeError);
    expect(() => matmul(b, b, { out: r })).toThrow(/matmul: out is backed by a resizable ArrayBuffer/);
    await expect(matmulAsync(r, b)).rejects.toThrow(/matmulAsync: a is backed by a resizable ArrayBuffer/);
    await expect(matmulAsync(b, b, { out: r })).rejects.toThrow(TypeError);
  });

  it('the native async entry points re-check: resizable refused, detached refused', () => {
    const ok = new Float32Array(64 * 64);
    expect(() => native.matmulAsync(resizable(), 64, 64, ok, 64, false, new Float32Array(64 * 64), null, 0, 0)).toThrow(
      /matmulAsync: a is backed by a resizable ArrayBuffer/,
    );
    expect(() => native.matmulAsync(ok, 64, 64, ok, 64, false, growable(), null, 0, 0)).toThrow(/out is backed by a growable SharedArrayBuffer/);
    const gone = new Float32Array(64 * 64);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    expect(() => native.matmulAsync(gone, 64, 64, ok, 64, false, new Float32Array(64 * 64), null, 0, 0)).toThrow(
      /matmulAsync: a's buffer is detached/,
    );
    expect(() => native.matmul(gone, 64, 64, ok, 64, false, new Float32Array(64 * 64), null, 0)).toThrow(TypeError);
  });

  it('a detached input or out is a TypeError, sync and async, even when empty', async () => {
    const b = rand([8, 8]);
    const a = rand([8, 8]);
    detached(a);
    expect(() => matmul(a, b)).toThrow(TypeError);
    expect(() => matmul(a, b)).toThrow(/matmul: a's buffer is detached/);
    await expect(matmulAsync(a, b)).rejects.toThrow(/matmulAsync: a's buffer is detached/);
    const out = zeros([8, 8]);
    detached(out);
    expect(() => matmul(b, b, { out })).toThrow(/out's buffer is detached/);
    const e = tensor(new Float32Array(0), [0, 8]);
    detached(e);
    expect(() => matmul(e, b)).toThrow(TypeError);
  });

  it('transferring a buffer an async op uses cannot free it: the transfer copies, the op completes', async () => {
    const a = rand([256, 256], { seed: 3 }), b = rand([256, 256], { seed: 4 });
    const out = zeros([256, 256]);
    const want = matmul(a, b).data;
    const p = matmulAsync(a, b, { out });
    const copyA = structuredClone(a.data.buffer, { transfer: [a.data.buffer as ArrayBuffer] }) as ArrayBuffer;
    const copyOut = structuredClone(out.data.buffer, { transfer: [out.data.buffer as ArrayBuffer] }) as ArrayBuffer;
    expect(a.data.length).toBe(256 * 256); // not detached
    expect(copyA.byteLength).toBe(a.data.byteLength);
    expect(copyOut.byteLength).toBe(out.data.byteLength);
    await p;
    expectSameArray(out.data, want);
  });

  it('transfer and GC while ops are in flight, in a child process with --expose-gc', () => {
    const r = runChild(['--expose-gc', fixture('transfer-gc.mjs'), '12']);
    expect(r.out).toMatch(/rounds 12 ok/);
    expect(r.status).toBe(0);
  });
});

describe('worker termination', () => {
  it('50 rounds of worker.terminate() mid-op (sync loop, async in flight, pooled outputs): the process survives', () => {
    const r = runChild([fixture('terminate-rounds.mjs'), '50'], { timeout: 50_000 });
    expect(r.out).toMatch(/rounds 50/);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
  });
});

describe('size limits: RangeErrors, never aborts', () => {
  it('the issue reproducers', () => {
    expect(() => linear(zeros([4, 0]), packWeights(zeros([2 ** 31, 0])))).toThrow(RangeError);
    expect(() => packWeights(zeros([2 ** 31, 0]))).toThrow(/packWeights: .*MAX_ELEMENTS/);
    expect(() => packWeights(quantize(zeros([2 ** 40, 0])))).toThrow(/packWeights: .*MAX_ELEMENTS/);
    expect(() => matmul(rand([65536, 1]), rand([1, 65537]))).toThrow(
      `matmul: output [65536, 65537] would have 4295032832 elements, more than MAX_ELEMENTS (${MAX_ELEMENTS})`,
    );
  });
  it('every family checks its output size before allocating', async () => {
    const a = zeros([65536, 1]), b = zeros([1, 65537]);
    await expect(matmulAsync(a, b)).rejects.toThrow(/matmulAsync: output .* more than MAX_ELEMENTS/);
    expect(() => matmul(a.to('float16'), b.to('float16'))).toThrow(/matmul: output .* more than MAX_ELEMENTS/);
    expect(() => matmul(quantize(a).data, packWeights(quantize(b), { layout: 'kn' }) as never)).toThrow(/more than MAX_ELEMENTS/);
    expect(() => linear(a, toSparse(zeros([65537, 1])))).toThrow(/linear: output .* more than MAX_ELEMENTS/);
    expect(() => quantizeDynamic(zeros([2 ** 32, 0]))).toThrow(/quantizeDynamic: .*MAX_ELEMENTS/);
  });
  // AddressSanitizer reserves terabytes of shadow address space: under scripts/asan-run.sh a ulimit -v child
  // cannot start, so this one test is skipped (and reported as skipped) there.
  it.skipIf(/libasan/.test(process.env.LD_PRELOAD ?? ''))('allocation failures under a 3 GiB address-space limit are RangeErrors (child process, ulimit -v)', () => {
    const r = runChild([], { shell: `ulimit -v 3145728 && exec "${process.execPath}" "${fixture('oom.mjs')}"` });
    expect(r.out).toMatch(/oom ok/);
    expect(r.status).toBe(0);
  });
});
