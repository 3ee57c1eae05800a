/**
 * Elementwise operators with numpy broadcasting: float32 Add/Sub/Mul run on the native binary kernels in as few
 * calls as the broadcast pattern allows; other types and ops loop here over innermost runs.
 * @module
 */
import { native, nativeOnly } from '../../native.js';
import { rangeError, typeError } from '../../errors.js';
import { attrFloat, attrStr, type Node } from '../graph.js';
import { bstrides, broadcastShape, forRuns, mk, numel, outOr, sameShape, type ODType, type OData, type Value } from '../value.js';
import { keepCall, registerOnnxOp, type OpContext } from './registry.js';
import { channelAffineArgs, convActivationCall } from './conv.js';
import { nativeCall as dwNativeCall, plan as planDepthwise } from '../../conv/depthwise.js';
import { timedRun } from '../../conv/window.js';
import type { ConvActivation } from '../../conv/activation.js';
import type { Tensor } from '../../tensor.js';

const NATIVE: Record<string, number> = { Add: 0, Sub: 1, Mul: 2 };
/** Largest output for which a scalar left operand is spread into a buffer of its own (held by the kept call). */
const SCALAR_LEFT_MAX = 1 << 16;

/**
 * float32 a op b through the native kernels: the checked calls as one function (the caller runs it, and may keep it
 * while the same arrays come back), or null when the pattern needs too many calls. The views are cut here, once.
 */
function nativeBinary(code: number, a: Value, b: Value, out: Value, shape: number[]): (() => void) | null {
  const A = a.data as Float32Array, B = b.data as Float32Array, O = out.data as Float32Array;
  if (sameShape(a.shape, shape) && sameShape(b.shape, shape)) {
    const n = out.size;
    return nativeOnly(() => native.binary(code, A, B, O, n));
  }
  if (a.size === 1 && sameShape(b.shape, shape) && out.size <= SCALAR_LEFT_MAX) {
    // A scalar on the left of Sub (BERT's 1 − mask): a's value spread over a row of its own, refilled every run
    // (it may change between runs of a kept call), then one native call; the JS loop took ~10 µs for 128 elements.
    const S = new Float32Array(out.size), n = out.size;
    return () => {
      S.fill(A[0]);
      native.binary(code, S, B, O, n);
    };
  }
  if (!sameShape(a.shape, shape)) return null; // a broadcast: only b may be (callers swap commutative ops)
  const r = shape.length;
  const bp = new Array<number>(r - b.shape.length).fill(1).concat(b.shape as number[]);
  let j = r;
  while (j > 0 && bp[j - 1] === shape[j - 1]) j--;
  let k = j;
  while (k > 0 && bp[k - 1] === 1) k--;
  const inner = numel(shape.slice(j));
  const rows = numel(shape.slice(k, j));
  const outerShape = shape.slice(0, k);
  const outer = numel(outerShape);
  if (b.size === 1) {
    // One native pass reading b's value where it lies (it may change between runs of a kept call): binaryRow with
    // one column is the kernels' scalar loop, so the call is native only and replays (PaddleOCR rec's nine Muls by
    // 0-d constants cut its replay into segments while this refilled a row here).
    const n = out.size;
    return nativeOnly(() => native.binaryRow(code, A, B, O, n, 1));
  }
  if (inner < 8 || outer > out.size / 256) return null;
  const bs = bstrides(b.shape, shape).slice(0, k);
  const block = rows * inner;
  const calls: (() => void)[] = [];
  const add = (bo: number) => {
    const o = calls.length * block;
    const aRow = A.subarray(o, o + block), bRow = B.subarray(bo, bo + inner), oRow = O.subarray(o, o + block);
    calls.push(rows === 1 ? () => native.binary(code, aRow, bRow, oRow, inner) : () => native.binaryRow(code, aRow, bRow, oRow, rows, inner));
  };
  if (k === 0) add(0);
  else forRuns(outerShape, [bs], (_o, offs, n) => {
    const st = bs[k - 1];
    for (let t = 0; t < n; t++) add(offs[0] + t * st);
  });
  return nativeOnly(calls.length === 1 ? calls[0] : () => calls.forEach((f) => f()));
}

/**
 * float32 x op s where s broadcasts per channel over an NCHW-like x (s is [C, 1…] or [N or 1, C, 1…]): the
 * squeeze-excite scale and per-channel shifts, as a 1×1 depthwise convolution per image (native). Returns the
 * checked native calls as one function (the caller runs it and may keep it), or null where the pattern does not fit.
 */
function channelBinary(code: number, a: Value, b: Value, out: Value, shape: number[]): (() => void) | null {
  const r = shape.length;
  if (r < 3 || !sameShape(a.shape, shape) || out.size < 256) return null;
  const bp = new Array<number>(r - b.shape.length).fill(1).concat(b.shape as number[]);
  if (bp.slice(2).some((d) => d !== 1) || bp[1] !== shape[1] || (bp[0] !== 1 && bp[0] !== shape[0])) return null;
  const N = shape[0], C = shape[1];
  const img = out.size / N, B = b.data as Float32Array;
  const ones = code === 0 ? new Float32Array(C).fill(1) : null;
  const node = { name: 'Mul', op: 'Mul', domain: '', inputs: [], outputs: [], attrs: {} };
  const calls: (() => void)[] = [];
  for (let i = 0; i < N; i++) {
    const s = bp[0] === 1 ? B : B.subarray(i * C, (i + 1) * C);
    const xi = mk('float32', [1, ...shape.slice(1)], (a.data as Float32Array).subarray(i * img, (i + 1) * img)) as unknown as Tensor;
    const oi = mk('float32', xi.shape, (out.data as Float32Array).subarray(i * img, (i + 1) * img));
    const c = code === 2 ? channelAffineArgs('Mul', node, xi, s, null, oi) : channelAffineArgs('Add', node, xi, ones!, s, oi);
    calls.push(dwNativeCall(planDepthwise('depthwiseConv2d', c.x4, c.w, c.opts)));
  }
  const run = calls.length === 1 ? calls[0] : () => calls.forEach((f) => f());
  return nativeOnly(() => void timedRun('depthwiseConv2d', 'depthwiseConv2d', run, out)); // the monitor records it as before (a replayed call runs only with the monitor off)
}

/** Generic broadcasting loop over innermost runs. */
function loopBinary(a: Value, b: Value, out: Value, shape: number[], f: (x: number, y: number) => number): void {
  const A = a.data, B = b.data, O = out.data;
  const sa = bstrides(a.shape, shape), sb = bstrides(b.shape, shape);
  const r = shape.length;
  const ia = r ? sa[r - 1] : 0, ib = r ? sb[r - 1] : 0;
  forRuns(shape, [sa, sb], (o, offs, n) => {
    let pa = offs[0], pb = offs[1];
    for (let t = 0; t < n; t++, pa += ia, pb += ib) O[o + t] = f(A[pa], B[pb]);
  });
}

type BinF = (x: number, y: number) => number;

function binaryOp(op: string, f: BinF | ((dt: ODType) => BinF), outType?: ODType, commutative = false) {
  registerOnnxOp(op, {
    run(n: Node, ins, outs) {
      // Every path's checked call is kept for a planned run (keepCall): the planned runner passes the same arena views
      // every time, and the shape work and views cost more than a small multiply (PaddleOCR cls's nine squeeze-excite
      // Muls, [1,H,W,C] × [1,1,1,C] after nhwc-layout; BERT's Sub(1, mask) on the JS loop).
      let a = ins[0]!, b = ins[1]!;
      if (a.dtype !== b.dtype) throw typeError(op, `input dtypes differ: ${a.dtype} and ${b.dtype}`);
      const shape = broadcastShape(op, a.shape, b.shape);
      const out = outOr(outs[0], outType ?? a.dtype, shape);
      const code = NATIVE[op];
      if (code !== undefined && a.dtype === 'float32') {
        if (commutative && !sameShape(a.shape, shape) && sameShape(b.shape, shape)) [a, b] = [b, a];
        const call = nativeBinary(code, a, b, out, shape) ?? (code !== 1 ? channelBinary(code, a, b, out, shape) : null);
        if (call) {
          call();
          keepCall(n, ins, outs, out, call);
          return [out];
        }
      }
      const fn = f.length === 1 ? (f as (dt: ODType) => BinF)(a.dtype) : (f as BinF);
      const call = () => loopBinary(a, b, out, shape, fn);
      call();
      keepCall(n, ins, outs, out, call);
      return [out];
    },
  });
}

const isInt = (dt: ODType) => dt !== 'float32' && dt !== 'float64';
const f32 = Math.fround;

binaryOp('Add', (x, y) => x + y, undefined, true);
binaryOp('Sub', (x, y) => x - y);
binaryOp('Mul', (x, y) => x * y, undefined, true);
binaryOp('Div', (dt: ODType) => (isInt(dt) ? (x: number, y: number) => Math.trunc(x / y) : (x: number, y: number) => x / y));
binaryOp('Equal', (x, y) => (x === y ? 1 : 0), 'bool');
binaryOp('Less', (x, y) => (x < y ? 1 : 0), 'bool');
binaryOp('LessOrEqual', (x, y) => (x <= y ? 1 : 0), 'bool');
binaryOp('Greater', (x, y) => (x > y ? 1 : 0), 'bool');
binaryOp('GreaterOrEqual', (x, y) => (x >= y ? 1 : 0), 'bool');
binaryOp('And', (x, y) => (x && y ? 1 : 0));
binaryOp('Or', (x, y) => (x || y ? 1 : 0));
binaryOp('Mod', (dt: ODType) => (isInt(dt) ? (x: number, y: number) => x - Math.floor(x / y) * y : (x: number, y: number) => x % y));

// Pow allows a differently typed exponent; the result has the base's type.
registerOnnxOp('Pow', {
  run(_n, ins, outs) {
    const a = ins[0]!, b = ins[1]!;
    const shape = broadcastShape('Pow', a.shape, b.shape);
    const out = outOr(outs[0], a.dtype, shape);
    if (b.size === 1 && b.data[0] === 2) loopBinary(a, b, out, shape, (x) => x * x);
    else loopBinary(a, b, out, shape, isInt(a.dtype) ? (x, y) => Math.trunc(Math.pow(x, y)) : Math.pow);
    return [out];
  },
});

// Variadic Max/Min/Sum/Mean (numpy broadcasting across all inputs).
function variadic(op: string, f: BinF, finish?: (v: number, count: number) => number) {
  registerOnnxOp(op, {
    run(_n, ins, outs) {
      const xs = ins.filter((x): x is Value => !!x);
      if (xs.length === 0) throw rangeError(op, 'needs at least one input');
      let shape = xs[0].shape as number[];
      for (const x of xs.slice(1)) shape = broadcastShape(op, shape, x.shape);
      const out = outOr(outs[0], xs[0].dtype, shape);
      loopBinary(xs[0], out, out, shape, (x) => x); // broadcast-copy the first input
      for (const x of xs.slice(1)) loopBinary(out, x, out, shape, f);
      if (finish) for (let i = 0; i < out.size; i++) out.data[i] = finish(out.data[i], xs.length);
      return [out];
    },
  });
}
variadic('Max', (x, y) => (x !== x || y !== y ? NaN : x > y ? x : y));
variadic('Min', (x, y) => (x !== x || y !== y ? NaN : x < y ? x : y));
variadic('Sum', (x, y) => x + y);
variadic('Mean', (x, y) => x + y, (v, c) => v / c);

// Where(cond, x, y): three-way broadcast.
registerOnnxOp('Where', {
  run(_n, ins, outs) {
    const c = ins[0]!, x = ins[1]!, y = ins[2]!;
    if (x.dtype !== y.dtype) throw typeError('Where', `x and y dtypes differ: ${x.dtype} and ${y.dtype}`);
    const shape = broadcastShape('Where', broadcastShape('Where', c.shape, x.shape), y.shape);
    const out = outOr(outs[0], x.dtype, shape);
    const st = [bstrides(c.shape, shape), bstrides(x.shape, shape), bstrides(y.shape, shape)];
    const r = shape.length;
    const inc = st.map((s) => (r ? s[r - 1] : 0));
    const C = c.data, X = x.data, Y = y.data, O = out.data;
    forRuns(shape, st, (o, offs, n) => {
      for (let t = 0; t < n; t++) O[o + t] = C[offs[0] + t * inc[0]] ? X[offs[1] + t * inc[1]] : Y[offs[2] + t * inc[2]];
    });
    return [out];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Unary

/**
 * erf(x) for the standalone Erf op: the Maclaurin series below |x| = 0.5 (error < 1e-12), Abramowitz & Stegun
 * 7.1.26 above (absolute error < 1.5e-7, under float32 resolution of results >= 0.5).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    let term = x, sum = x;
    for (let k = 1; k < 12; k++) {
      term *= -t / k;
      sum += term / (2 * k + 1);
    }
    return sum * 1.1283791670955126; // 2/√π
  }
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const r = 1 - poly * Math.exp(-ax * ax);
  return x >= 0 ? r : -r;
}

/** Unary ops the conv family's fused activations compute natively (see convActivationCall). */
const CONV_ACT_OF: Record<string, (n: Node) => ConvActivation> = {
  Sigmoid: () => 'sigmoid',
  HardSwish: () => 'hardSwish',
  HardSigmoid: (n) => ({ hardSigmoid: { alpha: Math.fround(attrFloat(n, 'alpha', 0.2)), beta: Math.fround(attrFloat(n, 'beta', 0.5)) } }),
};

function unaryOp(op: string, f: (x: number, n: Node) => number, outType?: ODType, nativeAct?: number, prep?: (n: Node) => (x: number) => number) {
  registerOnnxOp(op, {
    run(n, ins, outs) {
      const x = ins[0]!;
      const out = outOr(outs[0], outType ?? x.dtype, x.shape);
      if (nativeAct !== undefined && x.dtype === 'float32') {
        native.activation(nativeAct, x.data as Float32Array, out.data as Float32Array, x.size);
        return [out];
      }
      if (x.dtype === 'float32' && CONV_ACT_OF[op]) {
        const call = convActivationCall(CONV_ACT_OF[op](n), x, out);
        if (call) {
          timedRun('depthwiseConv2d', 'depthwiseConv2d', call, out); // the monitor records it as the depthwise op
          keepCall(n, ins, outs, out, call);
          return [out];
        }
      }
      const X = x.data, O = out.data, len = x.size;
      if (prep) {
        const g = prep(n);
        for (let i = 0; i < len; i++) O[i] = g(X[i]);
      } else for (let i = 0; i < len; i++) O[i] = f(X[i], n);
      return [out];
    },
  });
}

unaryOp('Relu', (x) => (x < 0 ? 0 : x), undefined, 1);
unaryOp('Sqrt', Math.sqrt);
unaryOp('Exp', Math.exp);
unaryOp('Log', Math.log);
unaryOp('Tanh', Math.tanh);
unaryOp('Erf', erf);
unaryOp('Neg', (x) => -x);
unaryOp('Abs', Math.abs);
unaryOp('Floor', Math.floor);
unaryOp('Ceil', Math.ceil);
unaryOp('Round', (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r; });
unaryOp('Reciprocal', (x) => 1 / x);
unaryOp('Sin', Math.sin);
unaryOp('Cos', Math.cos);
unaryOp('Not', (x) => (x ? 0 : 1));
unaryOp('Sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : x));
unaryOp('Sigmoid', (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))));
unaryOp('Softplus', (x) => (x > 20 ? x : Math.log1p(Math.exp(x))));
unaryOp('IsNaN', (x) => (x !== x ? 1 : 0), 'bool');
unaryOp('HardSigmoid', () => 0, undefined, undefined, (n) => {
  const alpha = attrFloat(n, 'alpha', 0.2), beta = attrFloat(n, 'beta', 0.5);
  return (x) => Math.max(0, Math.min(1, f32(alpha * x + beta)));
});
unaryOp('HardSwish', (x) => x * Math.max(0, Math.min(1, f32(x / 6 + 0.5))));
unaryOp('LeakyRelu', () => 0, undefined, undefined, (n) => {
  const alpha = attrFloat(n, 'alpha', 0.01);
  return (x) => (x < 0 ? alpha * x : x);
});
unaryOp('Elu', () => 0, undefined, undefined, (n) => {
  const alpha = attrFloat(n, 'alpha', 1);
  return (x) => (x < 0 ? alpha * (Math.exp(x) - 1) : x);
});

/** Gelu: 'none' (erf form) on the native kernel; 'tanh' approximation here. */
function geluRun(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): Value[] {
  const x = ins[0]!;
  if (x.dtype !== 'float32') throw typeError('Gelu', `x.dtype must be float32, got ${x.dtype}`);
  const out = outOr(outs[0], 'float32', x.shape);
  if (attrStr(n, 'approximate', 'none') === 'tanh') {
    const X = x.data, O = out.data, c = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < x.size; i++) {
      const v = X[i];
      O[i] = 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
    }
  } else native.activation(2, x.data as Float32Array, out.data as Float32Array, x.size);
  return [out];
}
const geluCheck = (n: Node) => {
  const a = attrStr(n, 'approximate', 'none');
  if (a !== 'none' && a !== 'tanh') throw rangeError('Gelu', `node '${n.name}': approximate must be 'none' or 'tanh', got '${a}'`);
};
registerOnnxOp('Gelu', { run: geluRun, check: geluCheck, opsets: [20, 21] });
registerOnnxOp('Gelu', { run: geluRun }, 'com.microsoft');
registerOnnxOp('FastGelu', {
  run(_n, ins, outs) {
    const x = ins[0]!;
    const out = outOr(outs[0], 'float32', x.shape);
    const X = x.data, O = out.data, B = ins[1]?.data, bl = ins[1]?.size ?? 1, c = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < x.size; i++) {
      const v = X[i] + (B ? B[i % bl] : 0);
      O[i] = 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
    }
    return [out];
  },
}, 'com.microsoft');

// Clip: attributes min/max before opset 11, optional inputs from 11.
registerOnnxOp('Clip', {
  run(n, ins, outs, ctx: OpContext) {
    const x = ins[0]!;
    let lo = -Infinity, hi = Infinity;
    if (ctx.opset < 11) {
      lo = attrFloat(n, 'min', -3.4028234663852886e38);
      hi = attrFloat(n, 'max', 3.4028234663852886e38);
    } else {
      if (ins[1]) lo = ins[1].data[0];
      if (ins[2]) hi = ins[2].data[0];
    }
    const out = outOr(outs[0], x.dtype, x.shape);
    const X = x.data, O = out.data;
    if (x.dtype === 'float32' && lo === 0 && hi === Infinity) native.activation(1, X as Float32Array, O as Float32Array, x.size);
    else for (let i = 0; i < x.size; i++) { const v = X[i]; O[i] = v < lo ? lo : v > hi ? hi : v; }
    return [out];
  },
});

// Cast: float → int truncates toward zero (as onnxruntime's static_cast); to bool is x != 0.
const CAST_TO: Record<number, ODType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };
registerOnnxOp('Cast', {
  check(n) {
    const to = n.attrs.to;
    if (typeof to !== 'number' || !CAST_TO[to]) throw typeError('Cast', `node '${n.name}': cast to ONNX type ${String(to)} is not supported (float32, float64, int64, int32, int8, uint8, bool)`);
  },
  run(n, ins, outs) {
    const x = ins[0]!;
    const to = CAST_TO[n.attrs.to as number];
    const out = outOr(outs[0], to, x.shape);
    const X = x.data, O = out.data as OData;
    if (to === 'bool') for (let i = 0; i < x.size; i++) O[i] = X[i] ? 1 : 0;
    else if (isInt(to) && !isInt(x.dtype)) for (let i = 0; i < x.size; i++) { const v = X[i]; O[i] = v !== v ? 0 : Math.trunc(v); }
    else {
      // A typed-array copy converts (int64 is held as float64): kept, and rebindable over a graph input (BERT's mask).
      const call = () => (O as Float64Array).set(X as unknown as Float64Array);
      call();
      keepCall(n, ins, outs, out, call, (d, o) => (o as Float64Array).set(d[0] as unknown as Float64Array));
    }
    return [out];
  },
});
