/**
 * Shape and data-movement operators: Shape, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (views of
 * their input), Transpose, Concat, Split, Slice, Gather, Expand, Tile, ConstantOfShape, Constant, Range.
 * Copies move contiguous runs with TypedArray.set where the layout allows.
 * @module
 */
import { rangeError, typeError } from '../../errors.js';
import { native, nativeOnly } from '../../native.js';
import { attrInt, attrInts, type Node } from '../graph.js';
import { bstrides, coalesce, forRuns, ints, mk, normAxis, numel, obytes, outOr, strides, view, type OData, type ODType, type Value } from '../value.js';
import { keepCall, registerOnnxOp } from './registry.js';

const int64 = (xs: number[]): Value => mk('int64', [xs.length], Float64Array.from(xs));

registerOnnxOp('Shape', {
  run(n, ins) {
    const s = ins[0]!.shape as number[];
    const r = s.length;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const start = clamp(attrInt(n, 'start', 0));
    const end = clamp(attrInt(n, 'end', r));
    return [int64(s.slice(start, Math.max(start, end)))];
  },
});
registerOnnxOp('Size', { run: (_n, ins) => [mk('int64', [], Float64Array.of(ins[0]!.size))] });

// Views: output 0 shares input 0's storage.
function reshapeTo(op: string, x: Value, shape: number[]): Value {
  const n = numel(shape);
  if (n !== x.size) throw rangeError(op, `cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${shape.join(', ')}]`);
  return view(x, shape);
}
registerOnnxOp('Reshape', {
  alias: true,
  shapeInputs: [1],
  run(n, ins, _outs, ctx) {
    const x = ins[0]!;
    const req = ctx.opset < 5 ? (attrInts(n, 'shape') ?? []) : ints(ins[1]!);
    const allowZero = attrInt(n, 'allowzero', 0) === 1;
    const shape = req.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
    const neg = shape.indexOf(-1);
    if (neg >= 0) {
      const rest = shape.reduce((p, d, i) => (i === neg ? p : p * d), 1);
      if (rest === 0 || x.size % rest !== 0) throw rangeError('Reshape', `node '${n.name}': cannot infer -1 in [${req.join(', ')}] for [${x.shape.join(', ')}]`);
      shape[neg] = x.size / rest;
    }
    return [reshapeTo('Reshape', x, shape)];
  },
});
registerOnnxOp('Flatten', {
  alias: true,
  run(n, ins) {
    const x = ins[0]!;
    const r = x.shape.length;
    let axis = attrInt(n, 'axis', 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) throw rangeError('Flatten', `node '${n.name}': axis ${attrInt(n, 'axis', 1)} out of range for rank ${r}`);
    const a = numel(x.shape.slice(0, axis));
    return [view(x, [a, a === 0 ? 0 : x.size / a])];
  },
});
function axesOf(n: Node, ins: (Value | undefined)[], idx: number, ctx: { opset: number }, since: number): number[] | null {
  if (ctx.opset >= since) return ins[idx] ? ints(ins[idx]!) : null;
  return attrInts(n, 'axes');
}
registerOnnxOp('Squeeze', {
  alias: true,
  shapeInputs: [1],
  run(n, ins, _o, ctx) {
    const x = ins[0]!;
    const r = x.shape.length;
    const axes = axesOf(n, ins, 1, ctx, 13);
    let shape: number[];
    if (!axes || axes.length === 0) shape = x.shape.filter((d) => d !== 1);
    else {
      const set = new Set(axes.map((a) => normAxis('Squeeze', a, r)));
      for (const a of set) if (x.shape[a] !== 1) throw rangeError('Squeeze', `node '${n.name}': dimension ${a} of [${x.shape.join(', ')}] is not 1`);
      shape = x.shape.filter((_d, i) => !set.has(i));
    }
    return [view(x, shape)];
  },
});
registerOnnxOp('Unsqueeze', {
  alias: true,
  shapeInputs: [1],
  run(n, ins, _o, ctx) {
    const x = ins[0]!;
    const axes = axesOf(n, ins, 1, ctx, 13) ?? [];
    const r = x.shape.length + axes.length;
    const set = new Set(axes.map((a) => normAxis('Unsqueeze', a, r)));
    if (set.size !== axes.length) throw rangeError('Unsqueeze', `node '${n.name}': repeated axes [${axes.join(', ')}]`);
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) shape.push(set.has(i) ? 1 : x.shape[j++]);
    return [view(x, shape)];
  },
});
registerOnnxOp('Identity', { alias: true, run: (_n, ins) => [view(ins[0]!, ins[0]!.shape)] });
registerOnnxOp('Dropout', {
  alias: true,
  check(n) {
    if (attrInt(n, 'is_test', 1) === 0 && n.inputs.length < 3) {
      // opset < 7 training flag: inference ignores it, like onnxruntime.
    }
  },
  run(n, ins) {
    const x = ins[0]!;
    const res = [view(x, x.shape)];
    if (n.outputs[1]) res.push(mk('bool', x.shape, new Uint8Array(x.size).fill(1)));
    return res;
  },
});

/** out[...] = x[perm...]: runs of the last axis move with set() when that axis stays last. */
export function transposeInto(x: Value, perm: number[], out: Value): void {
  transposeCall(x, perm, out)();
}

/** {@link transposeInto} prepared once: the returned call does only the copy (kept on the node by a planned run). */
function transposeCall(x: Value, perm: number[], out: Value): () => void {
  const r = perm.length;
  const oshape = perm.map((p) => x.shape[p]);
  const xs = strides(x.shape);
  const st = perm.map((p) => xs[p]);
  const X = x.data, O = out.data;
  if ((x.dtype === 'float32' || x.dtype === 'int32') && r > 0 && r <= 8) {
    const os = Int32Array.from(oshape), ss = Int32Array.from(st);
    return nativeOnly(() => native.onnxTranspose(X as Float32Array, O as Float32Array, os, ss));
  }
  if (r === 0 || out.size === 0) {
    return () => {
      if (out.size) O[0] = X[0];
    };
  }
  // Merge the trailing output axes that stay contiguous in x into one run.
  let j = r - 1, run = oshape[r - 1];
  if (st[r - 1] === 1) {
    while (j > 0 && st[j - 1] === run) run *= oshape[--j];
    if (run >= 8) {
      const outer = oshape.slice(0, j);
      const ost = [outer.length ? st.slice(0, j) : [0]];
      if (!outer.length) outer.push(1);
      const s = j > 0 ? st[j - 1] : 0;
      const copy = (o: number, offs: number[], cnt: number) => {
        for (let t = 0; t < cnt; t++) {
          const src = offs[0] + t * s;
          (O as Float32Array).set((X as Float32Array).subarray(src, src + run), (o + t) * run);
        }
      };
      return () => forRuns(outer, ost, copy);
    }
  }
  const inc = st[r - 1];
  const copy = (o: number, offs: number[], cnt: number) => {
    let p = offs[0];
    for (let t = 0; t < cnt; t++, p += inc) O[o + t] = X[p];
  };
  return () => forRuns(oshape, [st], copy);
}

registerOnnxOp('Transpose', {
  run(n, ins, outs) {
    const x = ins[0]!;
    const r = x.shape.length;
    const perm = attrInts(n, 'perm') ?? [...Array(r).keys()].reverse();
    if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => p < 0 || p >= r))
      throw rangeError('Transpose', `node '${n.name}': perm [${perm.join(', ')}] is not a permutation of ${r} axes`);
    const out = outOr(outs[0], x.dtype, perm.map((p) => x.shape[p]));
    const call = transposeCall(x, perm, out);
    call();
    keepCall(n, ins, outs, out, call);
    return [out];
  },
});

registerOnnxOp('Concat', {
  run(n, ins, outs) {
    const xs = ins.filter((x): x is Value => !!x);
    const base = xs.find((x) => x.size > 0 || x.shape.length > 1) ?? xs[0];
    const r = base.shape.length;
    const axis = normAxis('Concat', attrInt(n, 'axis', 0), r);
    const shape = base.shape.slice();
    shape[axis] = 0;
    for (const x of xs) {
      if (x.dtype !== base.dtype) throw typeError('Concat', `node '${n.name}': inputs mix ${base.dtype} and ${x.dtype}`);
      if (x.shape.length !== r || x.shape.some((d, i) => i !== axis && d !== base.shape[i]))
        throw rangeError('Concat', `node '${n.name}': input [${x.shape.join(', ')}] does not match [${base.shape.join(', ')}] outside axis ${axis}`);
      shape[axis] += x.shape[axis];
    }
    const out = outOr(outs[0], base.dtype, shape);
    const outer = numel(shape.slice(0, axis));
    const inner = numel(shape.slice(axis + 1));
    const orow = shape[axis] * inner;
    // The row views are made once; a planned run keeps them with the call on the node.
    const O = out.data as Float32Array;
    const views: { src: Float32Array; dst: number }[] = [];
    const short: { X: Float32Array; row: number; off: number }[] = [];
    let off = 0;
    for (const x of xs) {
      const row = x.shape[axis] * inner;
      const X = x.data as Float32Array;
      if (row >= 64 || outer < 64) for (let o = 0; o < outer; o++) views.push({ src: X.subarray(o * row, o * row + row), dst: o * orow + off });
      else short.push({ X, row, off }); // short rows (NHWC channel concat): a subarray per row costs more than the copy
      off += row;
    }
    const call = () => {
      for (let i = 0; i < views.length; i++) O.set(views[i].src, views[i].dst);
      for (const { X, row, off } of short) for (let o = 0; o < outer; o++) for (let i = 0, src = o * row, dst = o * orow + off; i < row; i++) O[dst + i] = X[src + i];
    };
    call();
    keepCall(n, ins, outs, out, call);
    return [out];
  },
});

registerOnnxOp('Split', {
  shapeInputs: [1],
  run(n, ins, outs, ctx) {
    const x = ins[0]!;
    const r = x.shape.length;
    const axis = normAxis('Split', attrInt(n, 'axis', 0), r);
    const dim = x.shape[axis];
    const count = n.outputs.length;
    let parts = ctx.opset >= 13 ? (ins[1] ? ints(ins[1]) : null) : attrInts(n, 'split');
    if (!parts || parts.length === 0) {
      const k = ctx.opset >= 18 ? attrInt(n, 'num_outputs', count) : count;
      const each = Math.ceil(dim / k);
      parts = Array.from({ length: k }, (_v, i) => Math.max(0, Math.min(each, dim - i * each)));
    }
    if (parts.reduce((a, b) => a + b, 0) !== dim)
      throw rangeError('Split', `node '${n.name}': split sizes [${parts.join(', ')}] do not add up to dimension ${axis} (${dim})`);
    const outer = numel(x.shape.slice(0, axis));
    const inner = numel(x.shape.slice(axis + 1));
    const X = x.data as Float32Array;
    let off = 0;
    return parts.map((p, i) => {
      const shape = x.shape.slice();
      shape[axis] = p;
      const out = outOr(outs[i], x.dtype, shape);
      const O = out.data as Float32Array, row = p * inner, xrow = dim * inner;
      for (let o = 0; o < outer; o++) O.set(X.subarray(o * xrow + off, o * xrow + off + row), o * row);
      off += row;
      return out;
    });
  },
});

registerOnnxOp('Slice', {
  shapeInputs: [1, 2, 3, 4],
  run(n, ins, outs, ctx) {
    const x = ins[0]!;
    const r = x.shape.length;
    let starts: number[], ends: number[], axes: number[] | null, steps: number[] | null;
    if (ctx.opset < 10) {
      starts = attrInts(n, 'starts') ?? [];
      ends = attrInts(n, 'ends') ?? [];
      axes = attrInts(n, 'axes');
      steps = null;
    } else {
      starts = ints(ins[1]!);
      ends = ints(ins[2]!);
      axes = ins[3] ? ints(ins[3]) : null;
      steps = ins[4] ? ints(ins[4]) : null;
    }
    if (starts.length !== ends.length) throw rangeError('Slice', `node '${n.name}': ${starts.length} starts but ${ends.length} ends`);
    const st = x.shape.map(() => 0), sp = x.shape.map(() => 1);
    const shape = x.shape.slice();
    for (let i = 0; i < starts.length; i++) {
      const a = normAxis('Slice', axes ? axes[i] : i, r);
      const step = steps ? steps[i] : 1;
      if (step === 0) throw rangeError('Slice', `node '${n.name}': step 0`);
      const d = x.shape[a];
      let s = starts[i], e = ends[i];
      if (s < 0) s += d;
      if (e < 0) e += d;
      if (step > 0) {
        s = Math.min(Math.max(s, 0), d);
        e = Math.min(Math.max(e, 0), d);
        shape[a] = Math.max(0, Math.ceil((e - s) / step));
      } else {
        s = Math.min(Math.max(s, -1), d - 1);
        e = Math.min(Math.max(e, -1), d - 1);
        shape[a] = Math.max(0, Math.ceil((s - e) / -step));
      }
      st[a] = s;
      sp[a] = step;
    }
    const out = outOr(outs[0], x.dtype, shape);
    if (out.size === 0) return [out];
    const xs = strides(x.shape);
    const base = st.reduce((acc, s, i) => acc + s * xs[i], 0);
    const runs = coalesce(shape, [xs.map((s, i) => s * sp[i])]);
    const X = x.data, O = out.data;
    const rs = runs.shape.length ? runs.shape : [1], rst = runs.shape.length ? runs.st[0] : [1];
    if ((x.dtype === 'float32' || x.dtype === 'int32') && rs.length <= 8 && rst.every((v) => v >= 0 && v <= 0x7fffffff)) {
      // Forward steps over 4-byte elements: one native strided copy from the first element (memcpy per contiguous
      // run), native only, so a planned run replays it with its neighbours (PaddleOCR rec's q/k/v slices).
      const os = Int32Array.from(rs), ss = Int32Array.from(rst), Xb = (X as Float32Array).subarray(base), O4 = O as Float32Array;
      const call = nativeOnly(() => native.onnxTranspose(Xb, O4, os, ss));
      call();
      keepCall(n, ins, outs, out, call);
      return [out];
    }
    const inc = runs.shape.length ? runs.st[0][runs.shape.length - 1] : 1;
    const copy = (o: number, offs: number[], cnt: number) => {
      const p0 = base + offs[0];
      if (inc === 1 && cnt >= 8) (O as Float32Array).set((X as Float32Array).subarray(p0, p0 + cnt), o);
      else for (let t = 0, p = p0; t < cnt; t++, p += inc) O[o + t] = X[p];
    };
    const call = () => forRuns(runs.shape, runs.st, copy);
    call();
    keepCall(n, ins, outs, out, call);
    return [out];
  },
});

const bytesOf = (d: OData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
registerOnnxOp('Gather', {
  run(n, ins, outs) {
    const x = ins[0]!, idx = ins[1]!;
    const r = x.shape.length;
    const axis = normAxis('Gather', attrInt(n, 'axis', 0), r);
    const dim = x.shape[axis];
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const out = outOr(outs[0], x.dtype, shape);
    const outer = numel(x.shape.slice(0, axis));
    const rowBytes = numel(x.shape.slice(axis + 1)) * obytes(x.dtype);
    // Row copies in native code (the indices checked once, before anything is written); int64 indices come as the
    // runtime's Float64Array, other integer types as an int32 copy.
    const I = idx.data instanceof Float64Array || idx.data instanceof Int32Array ? idx.data : Int32Array.from(idx.data);
    const X = bytesOf(x.data), O = bytesOf(out.data), k = I.length;
    const gather = (x8: Uint8Array, o8: Uint8Array, ix: Float64Array | Int32Array) => {
      const bad = native.onnxGather(x8, o8, ix, outer, dim, rowBytes);
      if (bad !== k) throw rangeError('Gather', `node '${n.name}': index ${ix[bad]} is out of range [${-dim}, ${dim - 1}]`);
    };
    const call = () => gather(X, O, I);
    call();
    // Kept for a planned run only over int64/int32 index storage (the copy above would go stale); rebindable, so a
    // graph input's indices (BERT's token ids, a new array every run) take it too.
    if (I === idx.data) keepCall(n, ins, outs, out, call, (d, o) => gather(bytesOf(d[0]!), bytesOf(o), d[1] as Float64Array | Int32Array));
    return [out];
  },
});

/** Broadcast-copies `x` into `out` (shape `shape`). */
function broadcastInto(x: Value, out: Value, shape: number[]): void {
  const sx = bstrides(x.shape, shape);
  const r = shape.length;
  const inc = r ? sx[r - 1] : 0;
  const X = x.data, O = out.data;
  forRuns(shape, [sx], (o, offs, cnt) => {
    if (inc === 1 && cnt >= 8) (O as Float32Array).set((X as Float32Array).subarray(offs[0], offs[0] + cnt), o);
    else if (inc === 0) O.fill(X[offs[0]], o, o + cnt);
    else for (let t = 0, p = offs[0]; t < cnt; t++, p += inc) O[o + t] = X[p];
  });
}

registerOnnxOp('Expand', {
  shapeInputs: [1],
  run(n, ins, outs) {
    const x = ins[0]!;
    const want = ints(ins[1]!);
    const r = Math.max(want.length, x.shape.length);
    const shape: number[] = [];
    for (let i = 0; i < r; i++) {
      const a = x.shape[x.shape.length - r + i] ?? 1, b = want[want.length - r + i] ?? 1;
      if (a !== b && a !== 1 && b !== 1) throw rangeError('Expand', `node '${n.name}': [${x.shape.join(', ')}] cannot expand to [${want.join(', ')}]`);
      shape.push(a === 1 ? b : a);
    }
    const out = outOr(outs[0], x.dtype, shape);
    broadcastInto(x, out, shape);
    return [out];
  },
});

registerOnnxOp('Tile', {
  shapeInputs: [1],
  run(n, ins, outs) {
    const x = ins[0]!;
    const reps = ints(ins[1]!);
    if (reps.length !== x.shape.length) throw rangeError('Tile', `node '${n.name}': repeats has ${reps.length} values for rank ${x.shape.length}`);
    const shape = x.shape.map((d, i) => d * reps[i]);
    const out = outOr(outs[0], x.dtype, shape);
    const xs = strides(x.shape);
    const O = out.data, X = x.data;
    const os = strides(shape);
    for (let o = 0; o < out.size; o++) {
      let rem = o, p = 0;
      for (let d = 0; d < shape.length; d++) {
        const c = Math.floor(rem / os[d]);
        rem -= c * os[d];
        p += (c % x.shape[d]) * xs[d];
      }
      O[o] = X[p];
    }
    return [out];
  },
});

registerOnnxOp('ConstantOfShape', {
  shapeInputs: [0],
  run(n, ins, outs) {
    const shape = ints(ins[0]!);
    const v = n.attrs.value as Value | undefined;
    const out = outOr(outs[0], v ? v.dtype : 'float32', shape);
    out.data.fill(v ? v.data[0] : 0);
    return [out];
  },
});

registerOnnxOp('Constant', {
  check(n) {
    const keys = Object.keys(n.attrs);
    if (keys.length !== 1 || !['value', 'value_float', 'value_floats', 'value_int', 'value_ints'].includes(keys[0]))
      throw typeError('Constant', `node '${n.name}': needs exactly one of value, value_float(s), value_int(s); got ${keys.join(', ') || 'none'}`);
  },
  run(n) {
    const a = n.attrs;
    if (a.value) return [a.value as Value];
    if (typeof a.value_float === 'number') return [mk('float32', [], Float32Array.of(a.value_float))];
    if (typeof a.value_int === 'number') return [mk('int64', [], Float64Array.of(a.value_int))];
    if (Array.isArray(a.value_floats)) return [mk('float32', [a.value_floats.length], Float32Array.from(a.value_floats as number[]))];
    const v = a.value_ints as number[];
    return [mk('int64', [v.length], Float64Array.from(v))];
  },
});

registerOnnxOp('Range', {
  shapeInputs: [0, 1, 2],
  run(_n, ins, outs) {
    const s = ins[0]!.data[0], l = ins[1]!.data[0], d = ins[2]!.data[0];
    const count = Math.max(0, Math.ceil((l - s) / d));
    const out = outOr(outs[0], ins[0]!.dtype as ODType, [count]);
    for (let i = 0; i < count; i++) out.data[i] = s + i * d;
    return [out];
  },
});

