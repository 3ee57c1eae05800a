// OnnxModel.run / runAsync with caller output storage (`options.outputs`): the same results as fresh outputs, written
// into the caller's arrays on the recording run, on planned runs and on dynamic-shape runs; every bad argument a
// clear TypeError / RangeError before anything is written.
import { describe, expect, it, vi } from 'vitest';
import { loadOnnx, Tensor } from '../src/index.js';
import { bertFeeds, bertModel, G, onnxOutputsModel, randArr, T } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

/** The model of these tests (bench/onnx-models.ts): outputs y [n, 64] (written in place when planned), s [n, 1], shp
 * (int64), r (a view of the input). */
const model = onnxOutputsModel;

// Every runner-made output buffer, by element count: a planned run given storage must make none for that output.
const made = vi.hoisted(() => [] as number[]);
vi.mock('../src/alloc.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/alloc.js')>();
  return { ...m, allocOutput: (d: Parameters<typeof m.allocOutput>[0], n: number) => (made.push(n), m.allocOutput(d, n)) };
});

const feed = (n: number, seed: number) => ({ x: { data: randArr(n * 32, seed), dims: [n, 32] } });

describe('OnnxModel.run with options.outputs', () => {
  it('writes every output into the caller arrays: recording, planned and new-shape runs, equal to fresh outputs', () => {
    const bytes = model();
    const m = loadOnnx(bytes), ref = loadOnnx(bytes);
    for (const [i, n] of [40, 40, 40, 7, 40].entries()) {
      const f = feed(n, 10 + i);
      const into = { y: new Float32Array(n * 64).fill(NaN), s: new Float32Array(n).fill(NaN), shp: new BigInt64Array(2), r: new Float32Array(n * 32) };
      const got = m.run(f, { outputs: into });
      const want = ref.run(f);
      for (const k of ['y', 's', 'r'] as const) {
        expect(got[k].data, `${k} is the caller's array (run ${i})`).toBe(into[k]);
        expect(got[k].shape).toEqual(want[k].shape);
        expectSameArray(into[k], want[k].data as Float32Array, { label: `${k} run ${i}` });
      }
      expect(got.shp.data).toBe(into.shp);
      expect(Array.from(into.shp)).toEqual([BigInt(n), 64n]);
    }
  });

  it('the same arrays every run: a planned run reuses them and the results follow the new inputs', () => {
    const m = loadOnnx(model());
    const y = new Float32Array(40 * 64);
    m.run(feed(40, 1)); // records and plans
    const a = Float32Array.from(m.run(feed(40, 2), { outputs: { y } }).y.data as Float32Array);
    const b = m.run(feed(40, 3), { outputs: { y } });
    expect(b.y.data).toBe(y);
    expect(Array.from(y)).not.toEqual(Array.from(a));
    expectSameArray(y, loadOnnx(model()).run(feed(40, 3)).y.data as Float32Array, { label: 'second planned run' });
    // In place: the planned run made no buffer for y (without storage it makes one per run).
    made.length = 0;
    m.run(feed(40, 4), { outputs: { y } });
    expect(made.filter((n) => n === 40 * 64)).toEqual([]);
    m.run(feed(40, 4));
    expect(made.filter((n) => n === 40 * 64)).toEqual([40 * 64]);
    // Outputs not named are still fresh.
    expect(b.s.data).not.toBe(m.run(feed(40, 3), { outputs: { y } }).s.data);
  });

  it('runAsync writes into them too (planned and first runs)', async () => {
    const m = loadOnnx(model());
    for (const n of [16, 16, 16]) {
      const y = new Float32Array(n * 64);
      const got = await m.runAsync(feed(n, 5), { outputs: { y } });
      expect(got.y.data).toBe(y);
      expectSameArray(y, loadOnnx(model()).run(feed(n, 5)).y.data as Float32Array, { label: `async n=${n}` });
    }
  });

  it('a BERT encoder at batch 2 into a Tensor: same bits as a fresh run', () => {
    const bytes = bertModel({ layers: 1, hidden: 64, heads: 4, ffn: 128, vocab: 50, form: 'decomposed', opset: 14 });
    const m = loadOnnx(bytes);
    const f = bertFeeds(2, 16, 50, [3, 5]).ours;
    const want = m.run(f).last_hidden_state.data as Float32Array;
    const t = new Tensor(new Float32Array(2 * 16 * 64), [2, 16, 64]);
    for (let i = 0; i < 3; i++) {
      const got = m.run(f, { outputs: { last_hidden_state: t } });
      expect(got.last_hidden_state.data).toBe(t.data);
      expectSameArray(t.data as Float32Array, want, { label: `bert run ${i}` });
    }
  });

  it('bad storage: TypeError / RangeError naming the output, before any node writes', () => {
    const m = loadOnnx(model());
    const f = feed(8, 1);
    m.run(f); // planned from here on
    const sentinel = () => new Float32Array(8 * 64).fill(7);
    const untouched = (a: Float32Array) => expect(a.every((v) => v === 7)).toBe(true);
    expect(() => m.run(f, { outputs: { z: new Float32Array(1) } })).toThrow(RangeError);
    expect(() => m.run(f, { outputs: { z: new Float32Array(1) } })).toThrow(/unknown output 'z'.*'y', 's', 'shp', 'r'/);
    expect(() => m.run(f, { outputs: { y: new Float64Array(8 * 64) } })).toThrow(TypeError);
    expect(() => m.run(f, { outputs: { y: new Float64Array(8 * 64) } })).toThrow(/outputs\['y'\] must be a Float32Array \(output 'y' is float32\)/);
    expect(() => m.run(f, { outputs: { shp: new Float64Array(2) } })).toThrow(/must be a BigInt64Array/);
    expect(() => m.run(f, { outputs: { y: [1, 2] as never } })).toThrow(TypeError);
    expect(() => m.run(f, { outputs: { y: new DataView(new ArrayBuffer(2048)) as never } })).toThrow(TypeError);
    expect(() => m.run(f, 5 as never)).toThrow(TypeError);
    expect(() => m.run(f, { outputs: 5 as never })).toThrow(TypeError);
    // Wrong count: a planned run checks before any step, so the other output's storage stays untouched.
    const y = sentinel();
    expect(() => m.run(f, { outputs: { y, s: new Float32Array(9) } })).toThrow(RangeError);
    expect(() => m.run(f, { outputs: { y, s: new Float32Array(9) } })).toThrow(/outputs\['s'\] has 9 elements, but this run's output has shape \[8, 1\] \(8 elements\)/);
    untouched(y);
    expect(() => m.run(f, { outputs: { y: new Float32Array(8 * 64 + 1) } })).toThrow(/has 513 elements.*\[8, 64\]/);
    expect(() => m.run(f, { outputs: { shp: new BigInt64Array(3) } })).toThrow(/outputs\['shp'\] has 3 elements/);
    // Overlap with a feed or with another output.
    const big = new Float32Array(8 * 32 + 8 * 64);
    const x = big.subarray(0, 8 * 32);
    x.set(f.x.data);
    expect(() => m.run({ x: { data: x, dims: [8, 32] } }, { outputs: { y: big.subarray(8 * 32 - 1, 8 * 32 - 1 + 512) } })).toThrow(/overlaps input 'x'/);
    expect(() => m.run(f, { outputs: { y: big.subarray(0, 512), r: big.subarray(500, 756) } })).toThrow(/outputs\['r'\] overlaps options.outputs\['y'\]/);
    // Detached and resizable buffers.
    const d = new Float32Array(8 * 64);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    expect(() => m.run(f, { outputs: { y: d } })).toThrow(/detached/);
    const R = ArrayBuffer as unknown as { new (n: number, o: { maxByteLength: number }): ArrayBuffer };
    let rs: Float32Array | undefined;
    try {
      rs = new Float32Array(new R(2048, { maxByteLength: 4096 }));
    } catch {
      rs = undefined; // no resizable ArrayBuffer in this Node
    }
    if (rs && (rs.buffer as ArrayBuffer & { resizable?: boolean }).resizable) expect(() => m.run(f, { outputs: { y: rs! } })).toThrow(/resizable/);
    // The model still runs normally afterwards.
    expectSameArray(m.run(f).y.data as Float32Array, loadOnnx(model()).run(f).y.data as Float32Array, { label: 'after errors' });
  });

  it('a recording run with the wrong count throws after computing and leaves the caller storage untouched', () => {
    const m = loadOnnx(model());
    const y = new Float32Array(5 * 64).fill(7);
    expect(() => m.run(feed(4, 1), { outputs: { y } })).toThrow(/has 320 elements, but this run's output has shape \[4, 64\]/);
    expect(y.every((v) => v === 7)).toBe(true);
    expect(m.run(feed(4, 1)).y.shape).toEqual([4, 64]);
  });

  it('a dynamic-shape model (Reshape to a shape fed at run time): run and runAsync copy into the storage', async () => {
    const g = new G(17);
    g.input('x', T.FLOAT, ['n', 32]);
    g.input('s', T.INT64, [2]);
    g.node('Relu', [g.node('Reshape', [g.node('MatMul', ['x', g.f32('w', [32, 64], randArr(32 * 64, 3, 0.3))]), 's'])], {}, ['y']);
    g.output('y', T.FLOAT, ['a', 'b']);
    const bytes = g.bytes();
    const m = loadOnnx(bytes);
    for (const [i, dims] of [[16, 128], [16, 128], [64, 32], [16, 128]].entries()) {
      const f = { x: { data: randArr(32 * 32, 20 + i), dims: [32, 32] }, s: { data: BigInt64Array.from(dims.map(BigInt)), dims: [2] } };
      const y = new Float32Array(2048).fill(NaN);
      const got = i % 2 ? await m.runAsync(f, { outputs: { y } }) : m.run(f, { outputs: { y } });
      expect(got.y.data).toBe(y);
      expect(got.y.shape).toEqual(dims);
      expectSameArray(y, loadOnnx(bytes).run(f).y.data as Float32Array, { label: `dynamic run ${i}` });
    }
    expect(() => m.run({ x: { data: randArr(32 * 32, 1), dims: [32, 32] }, s: { data: BigInt64Array.of(16n, 128n), dims: [2] } }, { outputs: { y: new Float32Array(2047) } })).toThrow(/has 2047 elements, but this run's output has shape \[16, 128\]/);
  });

  it('runAsync rejects bad storage (no throw)', async () => {
    const m = loadOnnx(model());
    await expect(m.runAsync(feed(4, 1), { outputs: { y: new Int32Array(256) } })).rejects.toThrow(TypeError);
    // A count checked inside the runner names the call it serves (the first run records; the second is planned).
    for (let i = 0; i < 2; i++) await expect(m.runAsync(feed(4, 1), { outputs: { y: new Float32Array(255) } })).rejects.toThrow(/OnnxModel\.runAsync.*has 255 elements/);
  });
});

// Classes the fuzzer's OnnxModel targets found (test/fuzz/targets-onnx.mjs); each failed before its fix.
describe('OnnxModel.run / runAsync: storage and feeds the caller spoils', () => {
  /** y = x + c over [4, 8]: Add is a TypeScript loop, so a detached feed read NaN from it instead of failing. */
  function addBytes(): Uint8Array {
    const g = new G(17);
    g.input('x', T.FLOAT, ['n', 8]);
    g.node('Add', ['x', g.f32('c', [8], randArr(8, 3))], {}, ['y']);
    g.output('y', T.FLOAT, ['n', 8]);
    return g.bytes();
  }
  const addFeed = (seed: number) => ({ x: { data: randArr(32, seed), dims: [4, 8] } });

  it('a wrong count of a later output leaves the earlier outputs\' storage untouched (recording and planned runs, int64 too)', async () => {
    const m = loadOnnx(model());
    const f = feed(8, 1);
    const y = new Float32Array(8 * 64).fill(7);
    // Recording run: the outputs were copied in one by one, so y was written before s's count failed.
    expect(() => m.run(f, { outputs: { y, s: new Float32Array(9) } })).toThrow(/outputs\['s'\] has 9 elements/);
    expect(y.every((v) => v === 7)).toBe(true);
    // int64 storage was checked only after the runner had written the others (recording and planned runs).
    const m2 = loadOnnx(model());
    expect(() => m2.run(f, { outputs: { y, shp: new BigInt64Array(3) } })).toThrow(/OnnxModel\.run: options\.outputs\['shp'\] has 3 elements/);
    expect(y.every((v) => v === 7)).toBe(true);
    expect(() => m2.run(f, { outputs: { y, shp: new BigInt64Array(1) } })).toThrow(/outputs\['shp'\] has 1 elements/);
    expect(y.every((v) => v === 7)).toBe(true);
    await expect(m2.runAsync(f, { outputs: { y, shp: new BigInt64Array(3) } })).rejects.toThrow(/OnnxModel\.runAsync: options\.outputs\['shp'\] has 3/);
    expect(y.every((v) => v === 7)).toBe(true);
    // And the refused storage is not kept: the next plain runs give fresh, right outputs.
    const want = loadOnnx(model()).run(f);
    for (let i = 0; i < 2; i++) {
      const got = i ? await m2.runAsync(f) : m2.run(f);
      expect(got.y.data).not.toBe(y);
      expectSameArray(got.y.data as Float32Array, want.y.data as Float32Array, { label: `after the refusal ${i}` });
    }
  });

  it('a feed detached while runAsync is queued: a TypeError naming the call and the input, not NaN outputs', async () => {
    const bytes = addBytes();
    const want = loadOnnx(bytes).run(addFeed(2)).y.data as Float32Array;
    for (const planned of [false, true]) {
      const m = loadOnnx(bytes);
      if (planned) m.run(addFeed(1));
      const f = addFeed(2);
      const p = m.runAsync(f);
      structuredClone(f.x.data.buffer, { transfer: [f.x.data.buffer] });
      await expect(p).rejects.toThrow(TypeError);
      const f2 = addFeed(2);
      const q = m.runAsync(f2);
      structuredClone(f2.x.data.buffer, { transfer: [f2.x.data.buffer] });
      await expect(q).rejects.toThrow(/OnnxModel\.runAsync: input 'x' was detached or resized while the run was queued or in flight/);
      // The model is still usable.
      expectSameArray((await m.runAsync(addFeed(2))).y.data as Float32Array, want, { label: `after the detach, planned ${planned}` });
    }
  });

  it('a getter of the options that detaches a feed already checked: a TypeError, not a run on a detached buffer', async () => {
    const m = loadOnnx(addBytes());
    m.run(addFeed(1));
    for (const call of ['run', 'runAsync'] as const) {
      const f = addFeed(2);
      const opts = {
        get outputs() {
          structuredClone(f.x.data.buffer, { transfer: [f.x.data.buffer] });
          return undefined;
        },
      };
      const name = call === 'run' ? 'OnnxModel\\.run' : 'OnnxModel\\.runAsync';
      if (call === 'run') expect(() => m.run(f, opts)).toThrow(new RegExp(`${name}: input 'x' was detached or resized while the call read its arguments`));
      else await expect(m.runAsync(f, opts)).rejects.toThrow(new RegExp(`${name}: input 'x' was detached`));
    }
  });

  it('runAsync refuses a feed on a resizable buffer on every run, naming the call and the input; run accepts it', async () => {
    const m = loadOnnx(model());
    const n = 256; // large enough for the MatMul to leave the JS thread (its native refusal named only 'matmulAsync: a')
    const x = new Float32Array(new ArrayBuffer(n * 32 * 4, { maxByteLength: n * 32 * 4 + 64 } as never), 0, n * 32);
    x.set(randArr(n * 32, 4));
    for (let i = 0; i < 3; i++) await expect(m.runAsync({ x: { data: x, dims: [n, 32] } })).rejects.toThrow(/OnnxModel\.runAsync: input 'x' is backed by a resizable ArrayBuffer/);
    expectSameArray(m.run({ x: { data: x, dims: [n, 32] } }).y.data as Float32Array, loadOnnx(model()).run({ x: { data: x.slice(), dims: [n, 32] } }).y.data as Float32Array, { label: 'run' });
  });

  it('a detached feed with zero elements (dims [0, 32]): a TypeError naming the input', async () => {
    const m = loadOnnx(model());
    const x = new Float32Array(0);
    structuredClone(x.buffer, { transfer: [x.buffer] });
    expect(() => m.run({ x: { data: x, dims: [0, 32] } })).toThrow(/OnnxModel\.run: input 'x''s buffer is detached/);
    await expect(m.runAsync({ x: { data: x, dims: [0, 32] } })).rejects.toThrow(/OnnxModel\.runAsync: input 'x''s buffer is detached/);
    expect(() => m.profile({ x: { data: x, dims: [0, 32] } })).toThrow(/OnnxModel\.profile: input 'x''s buffer is detached/);
  });
});
