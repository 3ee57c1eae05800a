/**
 * Heavy float32 operators on the library's kernels: MatMul (batched, broadcast batch dims), Gemm, the fused
 * Linear (prepacked weights + bias + activation epilogue), Softmax, LayerNormalization; and the reductions.
 * @module
 */
import { native, nativeOnly } from '../../native.js';
import { rangeError, typeError } from '../../errors.js';
import { runNativeAsync } from '../../executor/submit.js';
import type { PackedWeights } from '../../ops/matmul.js';
import { attrFloat, attrInt, attrInts, type Node } from '../graph.js';
import { bstrides, forRuns, ints, normAxis, numel, outOr, type Value } from '../value.js';
import { getOnnxOp, keepCall, registerOnnxOp, type OpContext, type Rebind } from './registry.js';

const f32 = (op: string, n: Node, v: Value, arg: string) => {
  if (v.dtype !== 'float32') throw typeError(op, `node '${n.name}': ${arg}.dtype must be float32, got ${v.dtype}`);
  return v.data as Float32Array;
};

interface MatmulPlan {
  out: Value;
  /** One native call per batch: [aOffset, bOffset, outOffset]. */
  calls: [number, number, number][];
  m: number;
  k: number;
  n: number;
}

function planMatmul(node: Node, a: Value, b: Value, outs: (Value | undefined)[]): MatmulPlan {
  const op = 'MatMul';
  if (a.shape.length === 0 || b.shape.length === 0) throw rangeError(op, `node '${node.name}': MatMul needs inputs of rank >= 1`);
  const as = a.shape.length === 1 ? [1, a.shape[0]] : (a.shape as number[]);
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : (b.shape as number[]);
  const m = as[as.length - 2], k = as[as.length - 1], kb = bs[bs.length - 2], n = bs[bs.length - 1];
  if (k !== kb) throw rangeError(op, `node '${node.name}': a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] disagree on K (${k} vs ${kb})`);
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = ab[ab.length - r + i] ?? 1, y = bb[bb.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw rangeError(op, `node '${node.name}': batch dims of [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    batch.push(x === 1 ? y : x);
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  const out = outOr(outs[0], 'float32', shape);
  const calls: [number, number, number][] = [];
  if (numel(bb) === 1) {
    // b is one matrix: fold a's batch into M.
    calls.push([0, 0, 0]);
    return { out, calls, m: numel(ab) * m, k, n };
  }
  const sa = bstrides(ab, batch).map((s) => s * m * k), sb = bstrides(bb, batch).map((s) => s * k * n);
  let c = 0;
  forRuns(batch, [sa, sb], (_o, offs, cnt) => {
    const ia = sa[batch.length - 1], ib = sb[batch.length - 1];
    for (let t = 0; t < cnt; t++, c++) calls.push([offs[0] + t * ia, offs[1] + t * ib, c * m * n]);
  });
  return { out, calls, m, k, n };
}

/** MatMul's f32 inputs and plan; with transB, b is [..., N, K] and planned as if its last two dims were swapped. */
function matmulCall(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], transB: boolean) {
  const a = ins[0]!, b = ins[1]!;
  const A = f32('MatMul', node, a, 'a'), B = f32('MatMul', node, b, 'b');
  const bt = transB ? ({ ...b, shape: [...b.shape.slice(0, -2), b.shape[b.shape.length - 1], b.shape[b.shape.length - 2]] } as unknown as Value) : b;
  const p = planMatmul(node, a, bt, outs);
  return { A, B, O: p.out.data as Float32Array, ...p };
}

function matmulRun(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], transB: boolean): Value[] {
  const { A, B, O, out, calls, m, k, n } = matmulCall(node, ins, outs, transB);
  let call: () => void;
  if (calls.length === 1) call = nativeOnly(() => native.matmul(A, m, k, B, n, transB, O, null, 0));
  else {
    // The per-batch views, made once and kept with the call on a planned run.
    const views = calls.map(([ao, bo, oo]) => [A.subarray(ao, ao + m * k), B.subarray(bo, bo + k * n), O.subarray(oo, oo + m * n)]);
    call = nativeOnly(() => {
      for (let i = 0; i < views.length; i++) native.matmul(views[i][0], m, k, views[i][1], n, transB, views[i][2], null, 0);
    });
  }
  call();
  keepCall(node, ins, outs, out, call);
  return [out];
}

registerOnnxOp('MatMul', {
  run: (node, ins, outs) => matmulRun(node, ins, outs, false),
  async runAsync(node, ins, outs, _ctx, signal) {
    const { A, B, O, out, calls, m, k, n } = matmulCall(node, ins, outs, false);
    for (const [ao, bo, oo] of calls) {
      const [a1, b1, o1] = calls.length === 1 ? [A, B, O] : [A.subarray(ao, ao + m * k), B.subarray(bo, bo + k * n), O.subarray(oo, oo + m * n)];
      await runNativeAsync('OnnxModel.runAsync', signal, (id) => native.matmulAsync(a1, m, k, b1, n, false, o1, null, 0, id), o1);
    }
    return [out];
  },
});

/** Transposed-B batched MatMul made by the optimizer from MatMul(a, Transpose(b, swap last two)). */
registerOnnxOp('MatMulTransB', {
  run: (node, ins, outs) => matmulRun(node, ins, outs, true),
}, 'simdtensor');

registerOnnxOp('Gemm', {
  run(node, ins, outs) {
    const a = ins[0]!, b = ins[1]!, c = ins[2];
    const A = f32('Gemm', node, a, 'A'), B = f32('Gemm', node, b, 'B');
    if (a.shape.length !== 2 || b.shape.length !== 2) throw rangeError('Gemm', `node '${node.name}': A and B must be 2-D, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    const tA = attrInt(node, 'transA', 0) === 1, tB = attrInt(node, 'transB', 0) === 1;
    const alpha = attrFloat(node, 'alpha', 1), beta = attrFloat(node, 'beta', 1);
    const m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1];
    const kb = tB ? b.shape[1] : b.shape[0], n = tB ? b.shape[0] : b.shape[1];
    if (k !== kb) throw rangeError('Gemm', `node '${node.name}': K of A (${k}) differs from K of B (${kb})`);
    const out = outOr(outs[0], 'float32', [m, n]);
    const O = out.data as Float32Array;
    let Aa = A;
    if (tA) {
      Aa = new Float32Array(m * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) Aa[j * k + i] = A[i * m + j];
    }
    const rowBias = c && beta === 1 && alpha === 1 && c.size === n && (c.shape.length === 1 || c.shape[0] === 1) ? (c.data as Float32Array) : null;
    native.matmul(Aa, m, k, B, n, tB, O, rowBias, 0);
    if (alpha !== 1) for (let i = 0; i < O.length; i++) O[i] *= alpha;
    if (c && !rowBias && beta !== 0) {
      const sc = bstrides(c.shape, [m, n]);
      const C = c.data;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) O[i * n + j] += beta * C[i * sc[0] + j * sc[1]];
    }
    return [out];
  },
});

/**
 * Fused Linear (domain 'simdtensor'): y = act(x·W + bias) with W prepacked at load. Inputs [x, bias?];
 * extra.packed is the PackedWeights, attrs.activation 0 none / 1 relu / 2 gelu.
 */
function linearPlan(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]) {
  const x = ins[0]!;
  const X = f32('Linear', node, x, 'x');
  const packed = node.extra!.packed as PackedWeights;
  const k = x.shape[x.shape.length - 1];
  if (k !== packed.k) throw rangeError('MatMul', `node '${node.name}': input [${x.shape.join(', ')}] has K ${k}, the weight has ${packed.k}`);
  const m = k === 0 ? 0 : x.size / k;
  const out = outOr(outs[0], 'float32', [...x.shape.slice(0, -1), packed.n]);
  const bias = ins[1] ? (ins[1].data as Float32Array) : null;
  return { X, m, packed, out, bias, act: attrInt(node, 'activation', 0) };
}
registerOnnxOp('Linear', {
  run(node, ins, outs) {
    const p = linearPlan(node, ins, outs);
    const O = p.out.data as Float32Array;
    const call = nativeOnly(() => native.matmulPacked(p.X, p.m, p.packed.handle, O, p.bias, p.act));
    call();
    // A planned run: the same arena views every time (checks once per plan); rebindable for a graph input or output.
    const { m, packed, act } = p, biased = !!p.bias;
    keepCall(node, ins, outs, p.out, call, (d, o) => native.matmulPacked(d[0] as Float32Array, m, packed.handle, o as Float32Array, biased ? (d[1] as Float32Array) : null, act));
    return [p.out];
  },
  async runAsync(node, ins, outs, _ctx, signal) {
    const p = linearPlan(node, ins, outs);
    const O = p.out.data as Float32Array;
    await runNativeAsync('OnnxModel.runAsync', signal, (id) => native.matmulPackedAsync(p.X, p.m, p.packed.handle, O, p.bias, p.act, id), O);
    return [p.out];
  },
}, 'simdtensor');

registerOnnxOp('Softmax', {
  run(node, ins, outs, ctx) {
    const x = ins[0]!;
    const X = f32('Softmax', node, x, 'x');
    const r = x.shape.length;
    const axis = normAxis('Softmax', attrInt(node, 'axis', ctx.opset < 13 ? 1 : -1), Math.max(r, 1));
    const out = outOr(outs[0], 'float32', x.shape);
    const O = out.data as Float32Array;
    if (ctx.opset < 13 || axis === r - 1) {
      // Before opset 13 the input is coerced to 2-D at `axis`; both cases are contiguous rows.
      const cols = numel(x.shape.slice(axis)), rows = cols ? x.size / cols : 0;
      const call = nativeOnly(() => native.softmax(false, X, O, rows, cols));
      call();
      keepCall(node, ins, outs, out, call, (d, o) => native.softmax(false, d[0] as Float32Array, o as Float32Array, rows, cols));
      return [out];
    }
    const d = x.shape[axis], inner = numel(x.shape.slice(axis + 1)), outer = numel(x.shape.slice(0, axis));
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * d * inner + i;
        let mx = -Infinity;
        for (let j = 0; j < d; j++) mx = Math.max(mx, X[base + j * inner]);
        let s = 0;
        for (let j = 0; j < d; j++) s += (O[base + j * inner] = Math.exp(X[base + j * inner] - mx));
        for (let j = 0; j < d; j++) O[base + j * inner] /= s;
      }
    return [out];
  },
});

/**
 * How many times residual shape r repeats along x's leading dims when it broadcasts to x without growing and holds
 * x's trailing elements in order: r with its leading 1s dropped is a suffix of x's shape, rank at most x's ([s, h]
 * or [1, s, h] against [1, s, h]: 1; the position rows [s, h] against a batch [b, s, h]: b). 0 when it does not.
 */
function repeatsOver(r: readonly number[], x: readonly number[]): number {
  if (r.length > x.length) return 0;
  const p = r.slice(Math.max(0, r.findIndex((d) => d !== 1)));
  const q = x.slice(x.length - p.length);
  if (r.every((d) => d === 1) || !p.every((d, i) => d === q[i])) return 0;
  return numel(x.slice(0, x.length - p.length));
}

function layerNormRun(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], axisDefault: number): Value[] {
  let x = ins[0]!;
  const res = ins[3];
  const r = x.shape.length;
  const axis = normAxis('LayerNormalization', attrInt(node, 'axis', axisDefault), r);
  const cols = numel(x.shape.slice(axis));
  let R: Float32Array | null = null, repeats = 1;
  if (res) {
    // The residual-layernorm pass's form: x + residual, summed in the norm's first pass when the residual covers
    // whole rows of x in order — once ([s, h] against [1, s, h]) or once per leading index (the position rows
    // against a batch: one native call per repeat); otherwise (a real broadcast) the Add it replaced runs first.
    const k = res.dtype === 'float32' && x.dtype === 'float32' && res.size > 0 ? repeatsOver(res.shape, x.shape) : 0;
    const rows = cols ? res.size / cols : 0;
    if (k === 1 || (k > 1 && Number.isInteger(rows) && rows >= 1 && (rows >= 4 || k <= 16))) {
      R = res.data as Float32Array;
      repeats = k;
    } else x = getOnnxOp('Add', '')!.run({ ...node, op: 'Add', domain: '', inputs: [node.inputs[0], node.inputs[3]] }, [x, res], [], { opset: 14 })[0];
  }
  const X = f32('LayerNormalization', node, x, 'x');
  const g = ins[1], b = ins[2];
  if (g && g.size !== cols) throw rangeError('LayerNormalization', `node '${node.name}': scale has ${g.size} elements, needs ${cols}`);
  if (b && b.size !== cols) throw rangeError('LayerNormalization', `node '${node.name}': bias has ${b.size} elements, needs ${cols}`);
  const out = outOr(outs[0], 'float32', x.shape);
  const G = g ? (g.data as Float32Array) : null, B = b ? (b.data as Float32Array) : null, eps = attrFloat(node, 'epsilon', 1e-5);
  const O = out.data as Float32Array;
  let call: () => void, rebind: Rebind | undefined;
  if (repeats === 1) {
    const rows = cols ? x.size / cols : 0;
    call = nativeOnly(() => native.layerNorm(X, G, B, eps, O, rows, cols, R));
    const r = !!R;
    rebind = (d, o) => native.layerNorm(d[0] as Float32Array, (d[1] ?? null) as Float32Array | null, (d[2] ?? null) as Float32Array | null, eps, o as Float32Array, rows, cols, r ? (d[3] as Float32Array) : null);
  } else {
    const step = R!.length, views: [Float32Array, Float32Array][] = [];
    for (let o = 0; o < X.length; o += step) views.push([X.subarray(o, o + step), O.subarray(o, o + step)]);
    call = nativeOnly(() => {
      for (let i = 0; i < views.length; i++) native.layerNorm(views[i][0], G, B, eps, views[i][1], step / cols, cols, R);
    });
  }
  call();
  // Kept for a planned run (the checks and attribute reads are most of a small norm's cost); not over the fresh sum
  // of the broadcast-residual form.
  if (x === ins[0]) keepCall(node, ins, outs, out, call, rebind);
  return [out];
}
registerOnnxOp('LayerNormalization', {
  opsets: [17, 21],
  check(n) {
    if (n.outputs[1] || n.outputs[2]) throw typeError('LayerNormalization', `node '${n.name}': the Mean and InvStdDev outputs (training) are not supported`);
  },
  run: (node, ins, outs) => layerNormRun(node, ins, outs, -1),
});
/**
 * The decomposed LayerNorm pattern fused by the optimizer (domain 'simdtensor'), inputs [x, gamma?, beta?, residual?]:
 * with a residual (the `residual-layernorm` pass) it normalizes x + residual.
 */
registerOnnxOp('LayerNorm', { run: (node, ins, outs) => layerNormRun(node, ins, outs, -1) }, 'simdtensor');

// ---------------------------------------------------------------------------------------------------------------
// Reductions: axes as an attribute before opset 18 (13 for ReduceSum), as an optional input after.

type Reducer = { init: number; step: (acc: number, v: number) => number; finish?: (acc: number, count: number) => number };

function reduceOp(op: string, red: Reducer, inputSince: number) {
  registerOnnxOp(op, {
    shapeInputs: [1],
    run(node: Node, ins, outs, ctx: OpContext) {
      const x = ins[0]!;
      const r = x.shape.length;
      let axes = ctx.opset >= inputSince ? (ins[1] ? ints(ins[1]) : null) : attrInts(node, 'axes');
      if (!axes || axes.length === 0) {
        if (ctx.opset >= inputSince && attrInt(node, 'noop_with_empty_axes', 0) === 1) {
          const out = outOr(outs[0], x.dtype, x.shape);
          (out.data as Float32Array).set(x.data as Float32Array);
          return [out];
        }
        axes = [...Array(r).keys()];
      }
      const set = new Set(axes.map((a) => normAxis(op, a, r)));
      const keep = x.shape.map((d, i) => (set.has(i) ? 1 : d));
      const shape = attrInt(node, 'keepdims', 1) === 1 ? keep : x.shape.filter((_d, i) => !set.has(i));
      const out = outOr(outs[0], x.dtype, shape);
      const O = out.data, X = x.data;
      const count = numel(x.shape.filter((_d, i) => set.has(i)));
      O.fill(red.init);
      if (r > 0 && set.size === 1 && set.has(r - 1)) {
        const cols = x.shape[r - 1];
        for (let i = 0, p = 0; i < out.size; i++) {
          let acc = red.init;
          for (let j = 0; j < cols; j++) acc = red.step(acc, X[p++]);
          O[i] = acc;
        }
      } else {
        const so = bstrides(keep, x.shape as number[]).map((s, i) => (set.has(i) ? 0 : s));
        const inc = r ? so[r - 1] : 0;
        forRuns(x.shape as number[], [so], (o, offs, cnt) => {
          for (let t = 0, p = offs[0]; t < cnt; t++, p += inc) O[p] = red.step(O[p], X[o + t]);
        });
      }
      if (red.finish) for (let i = 0; i < out.size; i++) O[i] = red.finish(O[i], count);
      return [out];
    },
  });
}
reduceOp('ReduceMean', { init: 0, step: (a, v) => a + v, finish: (a, c) => a / c }, 18);
reduceOp('ReduceSum', { init: 0, step: (a, v) => a + v }, 13);
reduceOp('ReduceMax', { init: -Infinity, step: (a, v) => (v > a || v !== v ? v : a) }, 18);
reduceOp('ReduceMin', { init: Infinity, step: (a, v) => (v < a || v !== v ? v : a) }, 18);
reduceOp('ReduceProd', { init: 1, step: (a, v) => a * v }, 18);
reduceOp('ReduceSumSquare', { init: 0, step: (a, v) => a + v * v }, 18);
reduceOp('ReduceL2', { init: 0, step: (a, v) => a + v * v, finish: (a) => Math.sqrt(a) }, 18);

function argOp(op: string, better: (v: number, best: number) => boolean) {
  registerOnnxOp(op, {
    run(node, ins, outs) {
      const x = ins[0]!;
      const r = x.shape.length;
      const axis = normAxis(op, attrInt(node, 'axis', 0), r);
      const last = attrInt(node, 'select_last_index', 0) === 1;
      const d = x.shape[axis], inner = numel(x.shape.slice(axis + 1)), outer = numel(x.shape.slice(0, axis));
      const keep = x.shape.map((v, i) => (i === axis ? 1 : v));
      const out = outOr(outs[0], 'int64', attrInt(node, 'keepdims', 1) === 1 ? keep : x.shape.filter((_v, i) => i !== axis));
      const X = x.data;
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let bi = 0, bv = X[o * d * inner + i];
          for (let j = 1; j < d; j++) {
            const v = X[(o * d + j) * inner + i];
            if (better(v, bv) || (last && v === bv)) { bv = v; bi = j; }
          }
          out.data[o * inner + i] = bi;
        }
      return [out];
    },
  });
}
argOp('ArgMax', (v, b) => v > b);
argOp('ArgMin', (v, b) => v < b);

