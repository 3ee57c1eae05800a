import { describe, expect, it } from 'vitest';
import { loadOnnx, tensor } from '../src/index.js';
import { af, G, maxDiff, ortRun, randArr, T } from './onnx-build.js';

const REL = 1e-4;

async function compare(bytes: Uint8Array, feeds: Record<string, { type: string; data: ArrayBufferView; dims: number[] }>, opts: { optimize?: boolean } = {}) {
  const model = loadOnnx(bytes, opts);
  const ours: Record<string, { data: ArrayBufferView; dims: number[] }> = {};
  for (const [k, v] of Object.entries(feeds)) ours[k] = { data: v.data, dims: v.dims };
  const got = model.run(ours);
  const ref = await ortRun(bytes, feeds);
  for (const [name, r] of Object.entries(ref)) {
    expect(got[name].shape, name).toEqual(r.dims);
    const d = maxDiff(Array.from(got[name].data as ArrayLike<number | bigint>, Number), r.data);
    expect(d.abs, `${name}: max abs error ${d.abs} vs max |ref| ${d.ref}`).toBeLessThanOrEqual(REL * Math.max(d.ref, 1e-30));
  }
  return { model, got };
}

describe('MLPs (Gemm/Flatten/Relu/Sigmoid/Tanh, Identity, Constant, Dropout) match onnxruntime-node', () => {
  it('Flatten → Gemm(transB)+Relu → Dropout → Gemm+Tanh → MatMul+Add → Sigmoid', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 4, 8]);
    const f = g.node('Flatten', ['x'], { axis: 1 });
    const w1 = g.f32('w1', [48, 32], randArr(48 * 32, 1, 0.3));
    const h1 = g.node('Relu', [g.node('Gemm', [f, w1, g.f32('b1', [48], randArr(48, 2, 0.1))], { transB: 1 })]);
    const d = g.node('Dropout', [h1]);
    const h2 = g.node('Tanh', [g.node('Gemm', [d, g.f32('w2', [48, 24], randArr(48 * 24, 3, 0.3)), g.f32('b2', [1, 24], randArr(24, 4, 0.1))])]);
    const c = g.node('Constant', [], { value_float: af(0.5) });
    const h3 = g.node('Add', [g.node('MatMul', [h2, g.f32('w3', [24, 5], randArr(120, 5, 0.3))]), g.f32('b3', [5], randArr(5, 6, 0.1))]);
    g.node('Sigmoid', [g.node('Mul', [h3, c])], {}, ['y']);
    g.node('Identity', [h1], {}, ['hidden']);
    g.output('y', T.FLOAT, ['n', 5]);
    g.output('hidden', T.FLOAT, ['n', 48]);
    const x = randArr(7 * 32, 9);
    const { model, got } = await compare(g.bytes(), { x: { type: 'float32', data: x, dims: [7, 4, 8] } });
    expect(model.nodeCounts.Linear).toBe(3);
    expect(model.nodeCounts.Relu ?? 0).toBe(0); // Gemm's only reader is the Relu: it runs in the GEMM epilogue
    // Feeds also take our own tensors; outputs are fresh each run.
    const again = model.run({ x: tensor(x, [7, 4, 8]) });
    expect(Array.from(again.y.data as Float32Array)).toEqual(Array.from(got.y.data as Float32Array));
    expect(again.hidden.data).not.toBe(got.hidden.data);
  });

  it('Gemm with alpha/beta, transA and a full C matrix (the unfused path)', async () => {
    const g = new G(11);
    g.input('a', T.FLOAT, [6, 5]);
    g.node('Gemm', ['a', g.f32('b', [6, 3], randArr(18, 1)), g.f32('c', [5, 3], randArr(15, 2))], { transA: 1, alpha: af(0.7), beta: af(1.3) }, ['y']);
    g.output('y');
    const { model } = await compare(g.bytes(), { a: { type: 'float32', data: randArr(30, 3), dims: [6, 5] } });
    expect(model.nodeCounts.Gemm).toBe(1);
  });
});

describe('opset-dependent operators match onnxruntime-node', () => {
  function shapeGraph(opset: number): Uint8Array {
    const g = new G(opset);
    g.input('x', T.FLOAT, [2, 6, 8]);
    const i64 = (n: string, v: number[]) => g.i64(n, v);
    const sl = opset < 10
      ? g.node('Slice', ['x'], { starts: [1, 0], ends: [5, 100], axes: [1, 2] })
      : g.node('Slice', ['x', i64('st', [1, -1]), i64('en', [5, -9]), i64('ax', [1, 2]), i64('sp', [1, -2])]);
    const us = opset < 13 ? g.node('Unsqueeze', [sl], { axes: [0] }) : g.node('Unsqueeze', [sl, i64('ua', [0])]);
    const sq = opset < 13 ? g.node('Squeeze', [us], { axes: [0] }) : g.node('Squeeze', [us, i64('sa', [0])]);
    const cl = opset < 11 ? g.node('Clip', [sq], { min: af(-0.5), max: af(0.6) }) : g.node('Clip', [sq, g.scalar('lo', -0.5), g.scalar('hi', 0.6)]);
    const parts = opset < 13
      ? [g.node('Split', [cl], { axis: 1, split: [1, 3] }, ['s0', 's1'])]
      : opset < 18 ? [g.node('Split', [cl, i64('sz', [1, 3])], { axis: 1 }, ['s0', 's1'])] : [g.node('Split', [cl], { axis: 1, num_outputs: 2 }, ['s0', 's1'])];
    void parts;
    const rm = opset < 18 ? g.node('ReduceMean', ['s1'], { axes: [1], keepdims: 1 }) : g.node('ReduceMean', ['s1', i64('ra', [1])], { keepdims: 1 });
    const rs = opset < 13 ? g.node('ReduceSum', ['s0'], { axes: [2], keepdims: 0 }) : g.node('ReduceSum', ['s0', i64('rsa', [2])], { keepdims: 0 });
    g.node('Softmax', [g.node('Concat', [rm, 's0'], { axis: 1 })], { axis: 1 }, ['y']);
    g.node('Transpose', [g.node('HardSigmoid', [rm], { alpha: af(0.3), beta: af(0.4) })], { perm: [2, 0, 1] }, ['z']);
    g.node('Expand', [g.node('Unsqueeze', opset < 13 ? [rs] : [rs, i64('ea', [2])], opset < 13 ? { axes: [2] } : {}), i64('es', [2, 1, 3])], {}, ['e']);
    g.node('Where', [g.node('Greater', ['x', g.scalar('zero', 0)]), 'x', g.node('Neg', ['x'])], {}, ['w']);
    g.output('y');
    g.output('z');
    g.output('e');
    g.output('w');
    return g.bytes();
  }
  for (const opset of [9, 11, 13, 18]) {
    it(`Slice/Squeeze/Unsqueeze/Clip/Split/ReduceMean/ReduceSum/Softmax/Expand/Where at opset ${opset}`, async () => {
      const x = randArr(96, opset);
      for (const optimize of [true, false]) await compare(shapeGraph(opset), { x: { type: 'float32', data: x, dims: [2, 6, 8] } }, { optimize });
    });
  }

  it('Gather/Cast/Equal/ConstantOfShape/Pow/Sqrt/Erf/Transpose/Range on int64 shape arithmetic', async () => {
    const g = new G(17);
    g.input('x', T.FLOAT, ['b', 3, 5]);
    g.input('idx', T.INT64, [4]);
    const shp = g.node('Shape', ['x']);
    const cos = g.node('ConstantOfShape', [shp], { value: { __t: { dataType: T.FLOAT, dims: [1], floatData: [0.25] } } });
    const eq = g.node('Cast', [g.node('Equal', [g.node('Gather', [shp, g.init('one', T.INT64, [], BigInt64Array.of(1n))], { axis: 0 }), g.init('three', T.INT64, [], BigInt64Array.of(3n))])], { to: T.FLOAT });
    const p = g.node('Sqrt', [g.node('Pow', [g.node('Abs', ['x']), g.scalar('e', 1.5)])]);
    g.node('Add', [g.node('Mul', [p, cos]), eq], {}, ['y']);
    g.node('Gather', [g.node('Transpose', [g.node('Erf', ['x'])], { perm: [2, 0, 1] }), 'idx'], { axis: 0 }, ['gz']);
    g.node('Range', [g.init('r0', T.INT64, [], BigInt64Array.of(2n)), g.node('Squeeze', [g.node('Shape', ['x'], { start: -1 }), g.i64('sq0', [0])]), g.init('r1', T.INT64, [], BigInt64Array.of(1n))], {}, ['r']);
    g.output('y');
    g.output('gz');
    g.output('r', T.INT64);
    const { got } = await compare(g.bytes(), { x: { type: 'float32', data: randArr(30, 4, 2), dims: [2, 3, 5] }, idx: { type: 'int64', data: BigInt64Array.of(0n, 4n, -1n, 2n), dims: [4] } });
    expect(got.r.dtype as string).toBe('int64');
    expect(got.r.data).toBeInstanceOf(BigInt64Array);
  });

  it('Gather: int32 and int64 indices on inner axes, negative ones, planned reruns, and out-of-range errors naming the node', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, [2, 3, 5]);
    g.input('i64', T.INT64, [2, 2]);
    g.input('i32', T.INT32, [3]);
    g.node('Gather', ['x', 'i64'], { axis: 2 }, ['a']);
    g.node('Gather', [g.node('Relu', ['x']), 'i32'], { axis: 1 }, ['b']);
    const [ga, gb] = (g.nodes as { opType: string; name: string }[]).filter((n) => n.opType === 'Gather').map((n) => n.name);
    g.output('a');
    g.output('b');
    const bytes = g.bytes();
    const x = randArr(30, 7, 2);
    const feeds = (a: bigint[], b: number[]) => ({
      x: { type: 'float32', data: x, dims: [2, 3, 5] },
      i64: { type: 'int64', data: BigInt64Array.from(a), dims: [2, 2] },
      i32: { type: 'int32', data: Int32Array.from(b), dims: [3] },
    });
    const { model } = await compare(bytes, feeds([0n, -1n, 4n, -5n], [2, -3, 1]));
    // Later runs take the planned path (the kept call with the feeds' new storage each time).
    for (const [a, b] of [[[3n, 3n, -2n, 1n], [0, 0, -1]], [[1n, 2n, 3n, 4n], [-2, 2, 1]]] as const) {
      const f = feeds([...a], [...b]);
      const ref = await ortRun(bytes, f);
      const got = model.run({ x: { data: f.x.data, dims: f.x.dims }, i64: { data: f.i64.data, dims: f.i64.dims }, i32: { data: f.i32.data, dims: f.i32.dims } });
      expect(Array.from(got.a.data as Float32Array)).toEqual(Array.from(ref.a.data as ArrayLike<number>));
      expect(Array.from(got.b.data as Float32Array)).toEqual(Array.from(ref.b.data as ArrayLike<number>));
    }
    const run = (a: bigint[], b: number[]) => () => model.run({ x: { data: x, dims: [2, 3, 5] }, i64: { data: BigInt64Array.from(a), dims: [2, 2] }, i32: { data: Int32Array.from(b), dims: [3] } });
    expect(run([0n, 5n, 1n, 1n], [0, 0, 0])).toThrow(`Gather: node '${ga}': index 5 is out of range [-5, 4]`);
    expect(run([0n, 1n, 1n, -6n], [0, 0, 0])).toThrow(`node '${ga}': index -6 is out of range`);
    expect(run([0n, 1n, 1n, 1n], [0, 3, 0])).toThrow(`Gather: node '${gb}': index 3 is out of range [-3, 2]`);
    expect(run([0n, 1n, 1n, 1n], [-4, 0, 0])).toThrow(`node '${gb}': index -4 is out of range`);
  });
});

describe('fusion patterns, one pass at a time', () => {
  it('GELU as (x·0.5)·(1 + erf(x·(1/√2))) and LayerNorm with d·d instead of Pow(d, 2) fuse, and match ORT', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 32]);
    const x = 'x';
    const half = g.node('Mul', [x, g.scalar('half', 0.5)]);
    const e = g.node('Erf', [g.node('Mul', [x, g.scalar('rs2', Math.SQRT1_2)])]);
    const gl = g.node('Mul', [half, g.node('Add', [g.scalar('one', 1), e])]);
    const m = g.node('ReduceMean', [gl], { axes: [-1] });
    const d = g.node('Sub', [gl, m]);
    const v = g.node('ReduceMean', [g.node('Mul', [d, d])], { axes: [-1] });
    const n = g.node('Div', [d, g.node('Sqrt', [g.node('Add', [v, g.scalar('eps', 1e-5)])])]);
    g.node('Mul', [n, g.f32('gamma', [32], randArr(32, 1))], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    const { model } = await compare(bytes, { x: { type: 'float32', data: randArr(5 * 32, 2, 3), dims: [5, 32] } });
    expect(model.nodeCounts).toEqual({ Gelu: 1, LayerNorm: 1 });
    const noLn = loadOnnx(bytes, { disable: ['layernorm-fusion'] });
    expect(noLn.nodeCounts.LayerNorm).toBeUndefined();
    expect(noLn.nodeCounts.Gelu).toBe(1);
    const noGelu = loadOnnx(bytes, { disable: ['gelu-fusion'] });
    expect(noGelu.nodeCounts.Erf).toBe(1);
  });

  it('a pattern whose intermediate is read elsewhere is left alone', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, [4, 16]);
    const e = g.node('Erf', [g.node('Div', ['x', g.scalar('s2', Math.SQRT2)])], {}, ['erf_out']);
    g.node('Mul', [g.node('Mul', ['x', g.node('Add', [e, g.scalar('one', 1)])]), g.scalar('half', 0.5)], {}, ['y']);
    g.output('y');
    g.output('erf_out');
    const { model } = await compare(g.bytes(), { x: { type: 'float32', data: randArr(64, 3, 2), dims: [4, 16] } });
    expect(model.nodeCounts.Erf).toBe(1);
    expect(model.optimizations.find((o) => o.name === 'gelu-fusion')!.rewrites).toBe(0);
  });
});
