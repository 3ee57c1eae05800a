/**
 * int8 operators as onnxruntime's quantizer writes them: DynamicQuantizeLinear, QuantizeLinear,
 * DequantizeLinear, MatMulInteger, QLinearMatMul, and the fused dynamic-int8 Linear (domain 'simdtensor').
 * The GEMMs run on the library's int8 kernels (exact int32 accumulation with zero-point correction).
 * @module
 */
import { native, nativeOnly, type NativePackedS8 } from '../../native.js';
import { rangeError, typeError } from '../../errors.js';
import { runNativeAsync } from '../../executor/submit.js';
import { attrInt, type Node } from '../graph.js';
import { normAxis, numel, outOr, type ODType, type Value } from '../value.js';
import { keepCall, keepCallAll, registerOnnxOp } from './registry.js';

const fr = Math.fround;

/** Round half to even (as std::nearbyint in the default rounding mode). */
export function rne(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const QRANGE: Record<string, [number, number]> = { uint8: [0, 255], int8: [-128, 127], int32: [-2147483648, 2147483647] };

function qtype(op: string, n: Node, v: Value, arg: string): 'int8' | 'uint8' {
  if (v.dtype !== 'int8' && v.dtype !== 'uint8') throw typeError(op, `node '${n.name}': ${arg} must be int8 or uint8, got ${v.dtype}`);
  return v.dtype;
}

/** ONNX DynamicQuantizeLinear's parameters (scalar reference of the native kernel): uint8, range widened to include 0, scale (max−min)/255, zero point rounded. */
export function dynamicQuantParams(X: Float32Array): [number, number] {
  let mn = 0, mx = 0;
  const n = X.length;
  for (let i = 0; i < n; i++) {
    const v = X[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const scale = mx === mn ? 1 : fr(fr(mx - mn) / 255);
  const z0 = fr(0 - fr(mn / scale));
  return [scale, rne(Math.max(0, Math.min(255, z0)))];
}

/** QuantizeLinear: per tensor (`scales` omitted) or per channel (`ch` channels of `inner` elements each). */
function quantizeInto(X: Float32Array, O: Int8Array | Uint8Array, scale: number, zp: number, lo: number, hi: number, scales?: ArrayLike<number>, zps?: ArrayLike<number>, inner = 1, ch = 1): void {
  if (!scales) {
    for (let i = 0; i < X.length; i++) {
      const q = rne(fr(X[i] / scale)) + zp;
      O[i] = q < lo ? lo : q > hi ? hi : q;
    }
    return;
  }
  for (let i = 0; i < X.length; i++) {
    const c = Math.floor(i / inner) % ch;
    const q = rne(fr(X[i] / scales[c])) + (zps ? zps[c] : 0);
    O[i] = q < lo ? lo : q > hi ? hi : q;
  }
}

/**
 * uint8 quantization as ONNX/onnxruntime define it: q = clamp(rne(x / scale) + zp, 0, 255), the division in f32.
 * The scalar reference of the native DynamicQuantizeLinear (tests compare the two).
 */
export function quantizeU8(X: Float32Array, O: Uint8Array, scale: number, zp: number): void {
  const n = X.length;
  for (let i = 0; i < n; i++) {
    const v = fr(X[i] / scale);
    let r = Math.round(v);
    if (r - v === 0.5 && (r & 1) !== 0) r--;
    r += zp;
    O[i] = r < 0 ? 0 : r > 255 ? 255 : r;
  }
}

const params = new Float32Array(2);

/** The input and the three outputs (y, scale, zero point) of a dynamic quantization node. */
function dynamicQuantizeArgs(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]) {
  const x = ins[0]!;
  if (x.dtype !== 'float32') throw typeError('DynamicQuantizeLinear', `node '${n.name}': x must be float32, got ${x.dtype}`);
  return { x, y: outOr(outs[0], 'uint8', x.shape), s: outOr(outs[1], 'float32', []), z: outOr(outs[2], 'uint8', []) };
}

/** onnxruntime's DynamicQuantizeLinear (the exact kernel) into y, scale s and zero point z. */
function exactDynamicQuantize(X: Float32Array, y: Value, s: Value, z: Value): void {
  native.onnxDynamicQuantize(X, y.data as Uint8Array, params);
  s.data[0] = params[0];
  z.data[0] = params[1];
}

registerOnnxOp('DynamicQuantizeLinear', {
  run(n, ins, outs) {
    const { x, y, s, z } = dynamicQuantizeArgs(n, ins, outs);
    exactDynamicQuantize(x.data as Float32Array, y, s, z);
    return [y, s, z];
  },
});

/**
 * DynamicQuantizeLinear for readers that dequantize in float32 (domain 'simdtensor', from the
 * `fast-dynamic-quantize` pass): DynamicQuantizeLinear's uint8 range (widened to include 0), scale (max − min)/255
 * and rounded zero point, computed by the library's SIMD per-row quantizer over one row (x·(1/scale), round half
 * to even: a value at an exact tie of x/scale may land one step from the division's result). Inputs holding NaN/±Inf
 * take the exact kernel (onnxruntime's rules for them).
 */
registerOnnxOp('DynamicQuantize', {
  run(n, ins, outs) {
    const { x, y, s, z } = dynamicQuantizeArgs(n, ins, outs);
    // One native call (the exact kernel's fallback decided there), kept for a planned run and recordable, so the
    // dynamic-int8 encoder's quantize → Int8Linear chains replay natively (issue #16's int8 BERT).
    const X = x.data as Float32Array, Y = y.data as Uint8Array, S = s.data as Float32Array, Z = z.data as Uint8Array;
    const call = nativeOnly(() => native.onnxDynamicQuantizeFast(X, Y, S, Z));
    call();
    keepCallAll(n, ins, outs, [y, s, z], call);
    return [y, s, z];
  },
}, 'simdtensor');

/** Per-axis parameters: [count, inner] of `axis` in `shape` (count 1 when per tensor). */
function axisParams(op: string, n: Node, shape: readonly number[], scale: Value): [number, number] {
  if (scale.size === 1) return [1, 1];
  if (scale.shape.length !== 1) throw rangeError(op, `node '${n.name}': scale must be a scalar or 1-D, got [${scale.shape.join(', ')}] (blocked quantization is not supported)`);
  const axis = normAxis(op, attrInt(n, 'axis', 1), shape.length);
  if (shape[axis] !== scale.size) throw rangeError(op, `node '${n.name}': scale has ${scale.size} values, axis ${axis} of [${shape.join(', ')}] has ${shape[axis]}`);
  return [scale.size, numel(shape.slice(axis + 1))];
}

const OUT_TYPES: Record<number, ODType> = { 2: 'uint8', 3: 'int8' };
registerOnnxOp('QuantizeLinear', {
  check(n) {
    if (attrInt(n, 'block_size', 0) !== 0) throw typeError('QuantizeLinear', `node '${n.name}': blocked quantization is not supported`);
  },
  run(n, ins, outs) {
    const x = ins[0]!, s = ins[1]!, z = ins[2];
    if (x.dtype !== 'float32') throw typeError('QuantizeLinear', `node '${n.name}': x must be float32, got ${x.dtype}`);
    const dt: ODType = z ? z.dtype : (OUT_TYPES[attrInt(n, 'output_dtype', 2)] ?? 'uint8');
    if (!QRANGE[dt] || dt === 'int32') throw typeError('QuantizeLinear', `node '${n.name}': output type ${dt} is not supported (int8, uint8)`);
    const [lo, hi] = QRANGE[dt];
    const y = outOr(outs[0], dt, x.shape);
    const [ch, inner] = axisParams('QuantizeLinear', n, x.shape, s);
    const Y = y.data as Int8Array | Uint8Array;
    if (ch === 1) quantizeInto(x.data as Float32Array, Y, s.data[0], z ? z.data[0] : 0, lo, hi);
    else quantizeInto(x.data as Float32Array, Y, 0, 0, lo, hi, s.data, z?.data, inner, ch);
    return [y];
  },
});

registerOnnxOp('DequantizeLinear', {
  check(n) {
    if (attrInt(n, 'block_size', 0) !== 0) throw typeError('DequantizeLinear', `node '${n.name}': blocked quantization is not supported`);
  },
  run(n, ins, outs) {
    const x = ins[0]!, s = ins[1]!, z = ins[2];
    const y = outOr(outs[0], 'float32', x.shape);
    const [ch, inner] = axisParams('DequantizeLinear', n, x.shape, s);
    const X = x.data, Y = y.data, S = s.data, Z = z?.data;
    if (ch === 1) {
      const sc = S[0], zp = Z ? Z[0] : 0;
      for (let i = 0; i < x.size; i++) Y[i] = (X[i] - zp) * sc;
    } else for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / inner) % ch;
      Y[i] = (X[i] - (Z ? Z[c] : 0)) * S[c];
    }
    return [y];
  },
});

/** Packs B [K, N] (int8/uint8) with its zero point(s) and scale(s) (per tensor or per column). */
export function packS8(b: Value, zp: Value | undefined, scale: Value | undefined): NativePackedS8 {
  const [k, nn] = b.shape;
  const z = zp ? Int32Array.from(zp.data as ArrayLike<number>) : null;
  const s = scale ? Float32Array.from(scale.data as ArrayLike<number>) : null;
  if (z && z.length !== 1 && z.length !== nn) throw rangeError('MatMulInteger', `b's zero point has ${z.length} values, needs 1 or ${nn}`);
  return new native.PackedS8(b.data as Int8Array | Uint8Array, k, nn, false, z, s);
}

interface QGemm {
  A: Int8Array | Uint8Array;
  m: number;
  packed: NativePackedS8;
  aZero: Int32Array | null;
  shape: number[];
}

function qgemmPlan(op: string, n: Node, a: Value, b: Value, aZp: Value | undefined, bZp: Value | undefined, bScale: Value | undefined): QGemm {
  qtype(op, n, a, 'A');
  qtype(op, n, b, 'B');
  if (b.shape.length !== 2) throw rangeError(op, `node '${n.name}': B must be 2-D, got [${b.shape.join(', ')}] (batched B is not supported)`);
  if (a.shape.length < 1) throw rangeError(op, `node '${n.name}': A must have rank >= 1`);
  const k = a.shape[a.shape.length - 1];
  if (k !== b.shape[0]) throw rangeError(op, `node '${n.name}': A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] disagree on K`);
  const m = k === 0 ? 0 : a.size / k;
  const packed = (n.extra?.packed as NativePackedS8 | undefined) ?? packS8(b, bZp, bScale);
  let aZero: Int32Array | null = null;
  if (aZp) {
    if (aZp.size !== 1 && aZp.size !== m) throw rangeError(op, `node '${n.name}': A's zero point has ${aZp.size} values, needs 1 or ${m}`);
    aZero = Int32Array.from(aZp.data as ArrayLike<number>);
  }
  const shape = [...a.shape.slice(0, -1), b.shape[1]];
  return { A: a.data as Int8Array | Uint8Array, m, packed, aZero, shape };
}

registerOnnxOp('MatMulInteger', {
  run(n, ins, outs) {
    const p = qgemmPlan('MatMulInteger', n, ins[0]!, ins[1]!, ins[2], ins[3], undefined);
    const out = outOr(outs[0], 'int32', p.shape);
    native.s8Gemm(p.A, p.m, p.packed, p.aZero, null, out.data as Int32Array, null, 0, 1, 0);
    return [out];
  },
  async runAsync(n, ins, outs, _ctx, signal) {
    const p = qgemmPlan('MatMulInteger', n, ins[0]!, ins[1]!, ins[2], ins[3], undefined);
    const out = outOr(outs[0], 'int32', p.shape);
    const O = out.data as Int32Array;
    await runNativeAsync('OnnxModel.runAsync', signal, (id) => native.s8GemmAsync(p.A, p.m, p.packed, p.aZero, null, O, null, 0, 1, 0, id), O);
    return [out];
  },
});

function qlinearArgs(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]) {
  const [a, as, az, b, bs, bz, ys, yz] = ins;
  const p = qgemmPlan('QLinearMatMul', n, a!, b!, az, bz, bs);
  const dt = yz ? yz.dtype : 'uint8';
  if (dt !== 'int8' && dt !== 'uint8') throw typeError('QLinearMatMul', `node '${n.name}': y_zero_point must be int8 or uint8, got ${dt}`);
  const out = outOr(outs[0], dt, p.shape);
  if (as!.size !== 1 && as!.size !== p.m) throw rangeError('QLinearMatMul', `node '${n.name}': a_scale has ${as!.size} values, needs 1 or ${p.m}`);
  const aScale = Float32Array.from(as!.data as ArrayLike<number>);
  return { p, out, aScale, yScale: ys!.data[0], yZero: yz ? yz.data[0] : 0 };
}
registerOnnxOp('QLinearMatMul', {
  run(n, ins, outs) {
    const { p, out, aScale, yScale, yZero } = qlinearArgs(n, ins, outs);
    native.s8Gemm(p.A, p.m, p.packed, p.aZero, aScale, out.data as Int8Array | Uint8Array, null, 0, yScale, yZero);
    return [out];
  },
});

/**
 * Fused dynamic-int8 Linear (domain 'simdtensor'), from MatMulInteger → Cast → Mul(x_scale·w_scale) [→ Add bias]:
 * inputs [xq, x_scale, x_zero_point, bias?], extra.packed the int8 weights with their zero points and scales;
 * float32 output = x_scale·w_scale·Σ(xq − xz)(w − wz) + bias, activation in attrs.activation.
 */
function int8LinearArgs(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]) {
  const [xq, xs, xz, bias] = ins;
  const packed = n.extra!.packed as NativePackedS8;
  qtype('MatMulInteger', n, xq!, 'A');
  const k = xq!.shape[xq!.shape.length - 1];
  if (k !== packed.k) throw rangeError('MatMulInteger', `node '${n.name}': A [${xq!.shape.join(', ')}] has K ${k}, the weight has ${packed.k}`);
  const m = k === 0 ? 0 : xq!.size / k;
  const out = outOr(outs[0], 'float32', [...xq!.shape.slice(0, -1), packed.n]);
  return {
    A: xq!.data as Int8Array | Uint8Array, m, packed, out,
    aZero: Int32Array.from(xz ? (xz.data as ArrayLike<number>) : [0]),
    aScale: Float32Array.from(xs!.data as ArrayLike<number>),
    bias: bias ? (bias.data as Float32Array) : null,
    act: attrInt(n, 'activation', 0),
  };
}
registerOnnxOp('Int8Linear', {
  run(n, ins, outs) {
    const a = int8LinearArgs(n, ins, outs);
    // On a planned run the call is kept: x's scale and zero point (the DynamicQuantize before it writes new ones
    // every run into the same arena arrays) are read at call time — the float32 scale in place, the 8-bit zero point
    // widened natively into the kept int32 parameter — so the call is all native and replays in a segment.
    const xs = ins[1]!.data, xz = ins[2]?.data;
    const O = a.out.data as Float32Array;
    let call: () => void;
    if (xs instanceof Float32Array && (!xz || xz instanceof Uint8Array || xz instanceof Int8Array)) {
      const S = xs, Z = xz, aZero = a.aZero;
      call = nativeOnly(() => {
        if (Z) native.onnxWidenI32(Z, aZero);
        native.s8Gemm(a.A, a.m, a.packed, aZero, S, O, a.bias, a.act, 1, 0);
      });
    } else {
      call = () => {
        a.aScale.set(xs);
        if (xz) a.aZero.set(xz);
        native.s8Gemm(a.A, a.m, a.packed, a.aZero, a.aScale, O, a.bias, a.act, 1, 0);
      };
    }
    call();
    keepCall(n, ins, outs, a.out, call);
    return [a.out];
  },
  async runAsync(n, ins, outs, _ctx, signal) {
    const a = int8LinearArgs(n, ins, outs);
    const O = a.out.data as Float32Array;
    await runNativeAsync('OnnxModel.runAsync', signal, (id) => native.s8GemmAsync(a.A, a.m, a.packed, a.aZero, a.aScale, O, a.bias, a.act, 1, 0, id), O);
    return [a.out];
  },
}, 'simdtensor');

