// Argument generators of the exports added after the first fuzzer (conv family, ONNX loading/export/transforms,
// serving, nn helpers): mostly-valid arguments so calls reach the kernels and the deep validation paths, with an
// f32 oracle for conv2d / pooling / layout changes. Merged into API_GENS by targets-api.mjs.
import * as api from '../../dist/src/index.js';
import { compare, WrongResult } from './targets-native.mjs';
import { anyValue, DTYPES, FuzzProbeError, isDetached, label, randomOptions, signal, tens } from './values.mjs';

const IMG = [1, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17];
const CH = [1, 1, 2, 3, 4, 8, 16, 17];

/** True when every tensor is an ordinary one (no exotic buffer, no huge values): its result can be checked. */
function plain(...ts) {
  return ts.every((t) => !t || !(t instanceof api.Tensor) || (!(t.data.buffer instanceof SharedArrayBuffer) && !t.data.buffer.resizable && !isDetached(t.data.buffer) && t.data.length === t.size && t.dtype === 'float32' && !t.data.some((v) => !Number.isFinite(v) || Math.abs(v) > 1e6)));
}

/** Replaces NaN, ±Infinity and huge values of a float32 tensor in place (a readable, attached buffer only). */
function finite(t) {
  if (!(t instanceof api.Tensor) || t.dtype !== 'float32' || isDetached(t.data.buffer)) return;
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]) || Math.abs(d[i]) > 1e6) d[i] = 0.5;
}

/** An image tensor [n, c, h, w] ('nchw') or [n, h, w, c] ('nhwc'), with its dims. */
function image(R, nhwc, exotic = 0.05) {
  const n = R.pick([1, 1, 2]);
  const c = R.pick(CH);
  const h = R.pick(IMG);
  const w = R.pick(IMG);
  const shape = nhwc ? [n, h, w, c] : [n, c, h, w];
  return { x: tens(R, R.chance(0.97) ? shape : R.pick([[n, c, h], [n, c, h, w, 1], [0, c, h, w]]), 'float32', exotic), n, c, h, w };
}

const layoutOpt = (R) => R.weighted([[5, undefined], [3, 'nhwc'], [2, 'nchw'], [0.3, R.pick(['NCHW', 'chw', 5])]]);
const pair = (R, vals) => (R.chance(0.5) ? R.pick(vals) : [R.pick(vals), R.pick(vals)]);
const outOf = (R, shape) => (R.chance(0.15) ? tens(R, R.chance(0.9) ? shape : shape.map((d) => d + 1), 'float32', 0) : undefined);

/** Output size of a window along one axis (explicit pads), or -1 when it is empty. */
function outLen(len, k, s, d, p0, p1) {
  const ek = d * (k - 1) + 1;
  const o = Math.floor((len + p0 + p1 - ek) / s) + 1;
  return o >= 1 ? o : -1;
}

/** Reference f32 conv2d, NCHW input, OIHW weights, explicit pads [t, l, b, r], groups, bias, relu/none. */
function refConv(x, xs, w, ws, groups, st, dil, pads, bias, relu) {
  const [n, c, h, wd] = xs;
  const [m, cg, kh, kw] = ws;
  const oh = outLen(h, kh, st[0], dil[0], pads[0], pads[2]);
  const ow = outLen(wd, kw, st[1], dil[1], pads[1], pads[3]);
  const out = new Float64Array(n * m * oh * ow);
  const mag = new Float64Array(out.length);
  const mg = m / groups;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / mg);
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          let s = bias ? bias[o] : 0;
          let a = bias ? Math.abs(bias[o]) : 0;
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * st[0] - pads[0] + ky * dil[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = z * st[1] - pads[1] + kx * dil[1];
                if (ix < 0 || ix >= wd) continue;
                const p = x[((b * c + g * cg + ci) * h + iy) * wd + ix] * w[((o * cg + ci) * kh + ky) * kw + kx];
                s += p;
                a += Math.abs(p);
              }
            }
          const i = ((b * m + o) * oh + y) * ow + z;
          out[i] = relu ? Math.max(0, s) : s;
          mag[i] = a;
        }
    }
  return { out, mag, shape: [n, m, oh, ow] };
}

/** conv2d / conv2dAsync: groups (1, C, or a divisor), strides, dilations, pads, bias, fused activations, packing. */
function convCall(R, isAsync) {
  const nhwc = R.chance(0.3);
  const { x, n, c, h, w } = image(R, nhwc);
  const groups = R.weighted([[6, 1], [2, c], [1, c % 2 === 0 ? 2 : 1], [0.3, R.pick([0, -1, 3, 1.5])]]);
  const g = Number.isInteger(groups) && groups > 0 ? groups : 1;
  const m = g * R.pick([1, 1, 2, 3, 8]);
  const kh = R.pick([1, 1, 2, 3, 3, 5]);
  const kw = R.chance(0.7) ? kh : R.pick([1, 2, 3]);
  const cg = Math.max(1, Math.floor(c / g));
  const wShape = nhwc ? [kh, kw, cg, m] : [m, cg, kh, kw];
  let wt = tens(R, R.chance(0.95) ? wShape : [m + 1, cg, kh, kw], 'float32', 0.05);
  if (R.chance(0.6)) {
    // Finite operands most of the time, so the oracle below applies (specials still come through the rest).
    finite(x);
    finite(wt);
  }
  const st = R.chance(0.7) ? [1, 1] : [R.pick([1, 2, 3]), R.pick([1, 2])];
  const dil = R.chance(0.85) ? [1, 1] : [R.pick([1, 2]), R.pick([1, 2])];
  const padsKind = R.pick(['none', 'valid', 'same', 'explicit', 'explicit', 'bad']);
  const pads = padsKind === 'explicit' ? [R.int(3), R.int(3), R.int(3), R.int(3)] : padsKind === 'same' ? R.pick(['same', 'same_upper', 'same_lower']) : padsKind === 'bad' ? R.pick([-1, [1, 2, 3], 'full', NaN, [0, 0, 0, 2 ** 31]]) : padsKind === 'valid' ? 'valid' : undefined;
  const opts = {};
  if (nhwc) opts.layout = 'nhwc';
  else if (R.chance(0.05)) opts.layout = layoutOpt(R);
  if (groups !== 1) opts.groups = groups;
  if (st[0] !== 1 || st[1] !== 1) opts.strides = st;
  if (dil[0] !== 1 || dil[1] !== 1) opts.dilations = dil;
  if (pads !== undefined) opts.pads = pads;
  const bias = R.chance(0.4) ? tens(R, [R.chance(0.95) ? m : m + 1], 'float32', 0) : undefined;
  if (bias) opts.bias = bias;
  const act = R.weighted([[5, undefined], [2, 'relu'], [1, R.pick(['relu6', 'sigmoid', 'hardSwish', 'gelu', 'leakyRelu', 'hardSigmoid', { clip: { min: -1, max: 1 } }, { leakyRelu: { alpha: 0.2 } }])], [0.3, R.pick(['tanh', 5, { clip: { min: 1, max: -1 } }, { clip: {} }, null])]]);
  if (act !== undefined) opts.activation = act;
  if (isAsync && R.chance(0.3)) opts.signal = signal(R);
  // A known output shape for `out` / `residual` (explicit or no pads only).
  let outShape = null;
  const knownPads = padsKind === 'none' || padsKind === 'valid' || padsKind === 'explicit';
  if (knownPads) {
    const p = padsKind === 'explicit' ? pads : [0, 0, 0, 0];
    const oh = outLen(h, kh, st[0], dil[0], p[0], p[2]);
    const ow = outLen(w, kw, st[1], dil[1], p[1], p[3]);
    if (oh > 0 && ow > 0) outShape = nhwc ? [n, oh, ow, m] : [n, m, oh, ow];
  }
  if (outShape && R.chance(0.15)) opts.residual = tens(R, outShape, 'float32', 0.02);
  if (outShape) {
    const out = outOf(R, outShape);
    if (out) opts.out = out;
    else if (R.chance(0.05)) opts.out = x; // aliasing x (refused, or a same-shape overwrite)
  }
  let check;
  const ref = wt;
  const plainCall = !nhwc && groups === g && plain(x, ref, bias, opts.out) && opts.residual === undefined && (act === undefined || act === 'relu') && wt.shape[0] === m && x.ndim === 4 && x.shape[0] > 0 && !(opts.out === x) && knownPads && n * m * h * w * cg * kh * kw <= 1 << 18;
  if (plainCall && c === cg * g) {
    const p = padsKind === 'explicit' ? pads : [0, 0, 0, 0];
    if (outLen(h, kh, st[0], dil[0], p[0], p[2]) > 0 && outLen(w, kw, st[1], dil[1], p[1], p[3]) > 0) {
      const r = refConv(x.data.slice(), x.shape, ref.data.slice(), ref.shape, g, st, dil, p, bias ? bias.data.slice() : null, act === 'relu');
      check = (res) => {
        if (!(res instanceof api.Tensor) || res.shape.join() !== r.shape.join()) throw new WrongResult(`shape [${res?.shape}], want [${r.shape}]`);
        compare(r.out, res.data, r.mag);
      };
    }
  }
  // Packed weights (same layout options), or int8 operands, some of the time.
  const v = R.int(10);
  if (v === 0 && wt.shape.length === 4) {
    try {
      wt = label(api.packConvWeights(wt, { weightLayout: nhwc ? 'hwio' : undefined, groups: opts.groups, layout: opts.layout }), `PackedConvWeights([${wt.shape}])`);
      delete opts.groups;
    } catch {
      /* refused: the raw weights stay */
    }
  } else if (v === 1) {
    try {
      const xq = api.quantize(x, { dtype: R.pick(['uint8', 'int8']) });
      const wq = api.quantize(wt, { axis: R.pick([0, null, nhwc ? 3 : 0]), scheme: 'symmetric' });
      const o2 = { ...opts, output: R.pick([undefined, 'float32', 'int32', { dtype: 'uint8', scale: 0.05, zeroPoint: 128 }, { dtype: 'int8', scale: 0.1 }, 'bogus', { dtype: 'int8', scale: 0 }]) };
      delete o2.out;
      delete o2.signal;
      const wArg = R.chance(0.3) ? api.packConvWeights(wq, { weightLayout: nhwc ? 'hwio' : undefined, groups: opts.groups }) : wq;
      return { args: [xq, wArg, o2], async: isAsync };
    } catch {
      /* quantize refused (e.g. an empty tensor): the f32 call */
    }
  }
  return { args: [x, wt, opts], check: v <= 1 ? undefined : check, async: isAsync };
}

/** convTranspose2d: 'iohw' [C, M/g, kH, kW] weights, strides, outputPadding, pads. */
function convTCall(R, isAsync) {
  const nhwc = R.chance(0.25);
  const { x, c } = image(R, nhwc);
  const g = R.chance(0.8) ? 1 : c;
  const mg = R.pick([1, 2, 3]);
  const kh = R.pick([1, 2, 3, 4]);
  const kw = R.chance(0.7) ? kh : R.pick([1, 3]);
  const w = tens(R, nhwc ? [kh, kw, mg, c] : [c, mg, kh, kw], 'float32', 0.05);
  const s = R.pick([1, 2, 3]);
  const opts = {};
  if (nhwc) opts.layout = 'nhwc';
  if (g !== 1) opts.groups = g;
  if (s !== 1) opts.strides = [s, s];
  if (R.chance(0.3)) opts.outputPadding = R.chance(0.9) ? [R.int(s), R.int(s)] : [s, s];
  if (R.chance(0.3)) opts.pads = R.chance(0.9) ? [R.int(2), R.int(2), R.int(2), R.int(2)] : R.pick(['same', -1, [9, 9, 9, 9]]);
  if (R.chance(0.3)) opts.bias = tens(R, [mg * g], 'float32', 0);
  if (R.chance(0.3)) opts.activation = R.pick(['relu', 'sigmoid', 'bogus']);
  if (R.chance(0.1)) opts.out = x;
  if (isAsync && R.chance(0.3)) opts.signal = signal(R);
  let wArg = w;
  if (R.chance(0.15)) {
    try {
      wArg = api.packConvWeights(w, { transposed: true, groups: g, weightLayout: nhwc ? 'hwoi' : undefined });
    } catch {
      /* refused */
    }
  }
  return { args: [x, wArg, opts], async: isAsync };
}

/** depthwiseConv2d: w [C·mult, 1, kH, kW] ('nchw') or [kH, kW, C, mult] ('nhwc'). */
function dwCall(R, isAsync) {
  const nhwc = R.chance(0.3);
  const { x, c } = image(R, nhwc);
  const k = R.pick([1, 3, 3, 5]);
  const mult = R.chance(0.85) ? 1 : 2;
  const w = tens(R, nhwc ? [k, k, c, mult] : [c * mult, 1, k, k], 'float32', 0.05);
  const opts = randomPick(R, {
    layout: nhwc ? 'nhwc' : undefined,
    strides: R.chance(0.3) ? pair(R, [1, 2, 3, 0]) : undefined,
    dilations: R.chance(0.2) ? pair(R, [1, 2]) : undefined,
    pads: R.chance(0.5) ? R.pick(['same', 'valid', [1, 1, 1, 1], 1, [0, 2], -1]) : undefined,
    bias: R.chance(0.3) ? tens(R, [c * mult], 'float32', 0) : undefined,
    activation: R.chance(0.3) ? R.pick(['relu', 'relu6', 'hardSwish', { clip: { min: 0, max: 6 } }, 'bogus']) : undefined,
    signal: isAsync && R.chance(0.3) ? signal(R) : undefined,
  });
  return { args: [x, w, opts], async: isAsync };
}

/** An options object without the keys whose value is undefined (sometimes null / undefined for "no options"). */
function randomPick(R, o) {
  const r = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  if (!Object.keys(r).length && R.chance(0.3)) return R.pick([null, undefined]);
  return r;
}

/** Reference max/avg pooling on NCHW with explicit pads (avg excludes pads unless countIncludePad). */
function refPool(x, [n, c, h, w], k, s, p, max, cip) {
  const oh = outLen(h, k[0], s[0], 1, p[0], p[2]);
  const ow = outLen(w, k[1], s[1], 1, p[1], p[3]);
  const out = new Float64Array(n * c * oh * ow);
  for (let b = 0; b < n * c; b++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++) {
        let acc = max ? -Infinity : 0;
        let cnt = 0;
        let nan = false;
        for (let ky = 0; ky < k[0]; ky++)
          for (let kx = 0; kx < k[1]; kx++) {
            const iy = y * s[0] - p[0] + ky;
            const ix = z * s[1] - p[1] + kx;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
            if (!inside) {
              if (cip && iy < h + p[2] && ix < w + p[3]) cnt++;
              continue;
            }
            const v = x[(b * h + iy) * w + ix];
            if (Number.isNaN(v)) nan = true;
            if (max) acc = Math.max(acc, v);
            else acc += v;
            cnt++;
          }
        out[(b * oh + y) * ow + z] = nan ? NaN : max ? acc : acc / cnt;
      }
  return { out, shape: [n, c, oh, ow] };
}

function poolCall(R, max, isAsync) {
  const nhwc = R.chance(0.25);
  const { x, h, w } = image(R, nhwc);
  const k = R.chance(0.95) ? [1 + R.int(Math.min(4, h)), 1 + R.int(Math.min(4, w))] : R.pick([[0, 1], [-1, 2], [2 ** 31, 1], 3.5]);
  const s = R.chance(0.6) ? [1, 1] : [R.pick([1, 2, 3]), R.pick([1, 2])];
  const pads = R.chance(0.6) ? [0, 0, 0, 0] : [R.int(Math.min(2, k[0] ?? 1)), R.int(Math.min(2, k[1] ?? 1)), R.int(Math.min(2, k[0] ?? 1)), R.int(Math.min(2, k[1] ?? 1))];
  const opts = { kernelSize: k, strides: s, pads };
  if (nhwc) opts.layout = 'nhwc';
  if (!max && R.chance(0.3)) opts.countIncludePad = R.chance(0.9) ? true : 'yes';
  if (R.chance(0.15)) opts.ceilMode = R.chance(0.9) ? true : 1;
  if (R.chance(0.1)) opts.dilations = [2, 1];
  if (R.chance(0.05)) delete opts.kernelSize;
  if (isAsync && R.chance(0.3)) opts.signal = signal(R);
  let check;
  if (!nhwc && Array.isArray(k) && k[0] >= 1 && k[1] >= 1 && !opts.ceilMode && !opts.dilations && opts.kernelSize && (opts.countIncludePad === undefined || opts.countIncludePad === true) && plain(x) && x.ndim === 4 && x.size <= 1 << 14) {
    const oh = outLen(h, k[0], s[0], 1, pads[0], pads[2]);
    const ow = outLen(w, k[1], s[1], 1, pads[1], pads[3]);
    if (oh > 0 && ow > 0) {
      const r = refPool(x.data.slice(), x.shape, k, s, pads, max, opts.countIncludePad === true);
      if (r.out.every((v) => Number.isFinite(v) || Number.isNaN(v)))
        check = (res) => {
          if (!(res instanceof api.Tensor) || res.shape.join() !== r.shape.join()) throw new WrongResult(`shape [${res?.shape}], want [${r.shape}]`);
          compare(r.out, res.data);
        };
    }
  }
  return { args: [x, opts], check, async: isAsync };
}

function globalPoolCall(R, isAsync) {
  const nhwc = R.chance(0.3);
  const { x } = image(R, nhwc);
  const o = R.weighted([[3, undefined], [2, null], [2, {}], [2, { layout: nhwc ? 'nhwc' : 'nchw' }], [1, { out: tens(R, [1, 1, 1, 1]) }], [0.5, { layout: 'bogus' }]]);
  if (isAsync && o && R.chance(0.3)) o.signal = signal(R);
  return { args: o === undefined && R.chance(0.5) ? [x] : [x, o], async: isAsync };
}

/** nchwToNhwc / nhwcToNchw: the oracle is an index permutation. */
function layoutCall(R, toNhwc, isAsync) {
  const { x } = image(R, !toNhwc);
  const o = R.weighted([[4, undefined], [2, null], [1, {}], [1, { out: outOf(R, x.ndim === 4 ? (toNhwc ? [x.shape[0], x.shape[2], x.shape[3], x.shape[1]] : [x.shape[0], x.shape[3], x.shape[1], x.shape[2]]) : [1]) }], [0.3, { out: x }]]);
  if (isAsync && o && R.chance(0.3)) o.signal = signal(R);
  let check;
  if (plain(x) && x.ndim === 4 && (!o || !o.out || (o.out !== x && plain(o.out)))) {
    const [a, b, c, d] = x.shape;
    const xd = x.data.slice();
    const want = new Float64Array(x.size);
    // toNhwc: x [n, c, h, w] → [n, h, w, c]; else x [n, h, w, c] → [n, c, h, w].
    for (let i0 = 0; i0 < a; i0++)
      for (let i1 = 0; i1 < b; i1++)
        for (let i2 = 0; i2 < c; i2++)
          for (let i3 = 0; i3 < d; i3++) {
            const src = ((i0 * b + i1) * c + i2) * d + i3;
            const dst = toNhwc ? ((i0 * c + i2) * d + i3) * b + i1 : ((i0 * d + i3) * b + i1) * c + i2;
            want[dst] = xd[src];
          }
    check = (res) => compare(want, res?.data);
  }
  return { args: o === undefined ? [x] : [x, o], check, async: isAsync };
}

function resizeCall(R, isAsync) {
  const nhwc = R.chance(0.25);
  const { x, n, c } = image(R, nhwc);
  const opts = {};
  if (nhwc) opts.layout = 'nhwc';
  if (R.chance(0.5)) opts.scales = R.chance(0.9) ? [R.pick([0.5, 1, 2, 3, 1.5]), R.pick([0.5, 1, 2, 0.25])] : R.pick([[0, 1], [-1, 2], [NaN, 1], [1e9, 1e9]]);
  else opts.sizes = R.chance(0.9) ? [1 + R.int(20), 1 + R.int(20)] : R.pick([[0, 1], [-2, 3], [2 ** 31, 1], [n, c, 4, 4]]);
  if (R.chance(0.05)) opts.scales = [2, 2];
  opts.mode = R.pick([undefined, 'nearest', 'linear', 'cubic', 'bogus']);
  if (R.chance(0.4)) opts.coordinateTransformationMode = R.pick(['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_crop_and_resize', 'bogus']);
  if (R.chance(0.3)) opts.nearestMode = R.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil', 'bogus']);
  if (isAsync && R.chance(0.3)) opts.signal = signal(R);
  return { args: [x, opts], async: isAsync };
}

// --- ONNX ---------------------------------------------------------------------------------------------------------

const modelCache = new Map();
/** A small OnnxModel (an MLP exported through sequentialToOnnxModel), cached per process by its sizes. */
function onnxModel(R) {
  const f = R.pick([1, 3, 4, 8]);
  const hdn = R.pick([2, 5]);
  const o = R.pick([2, 3]);
  const key = `${f},${hdn},${o}`;
  let m = modelCache.get(key);
  if (!m) {
    m = api.sequentialToOnnxModel(api.mlp([f, hdn, o], { seed: 1 }));
    modelCache.set(key, m);
  }
  return { m: label(m, `OnnxModel(mlp ${f}→${hdn}→${o})`), f, o };
}

function onnxBytes(R) {
  const { m } = onnxModel(R);
  let b = api.toOnnxBytes(m);
  if (R.chance(0.5)) {
    b = b.slice(0, R.chance(0.3) ? R.int(b.length) : b.length);
    for (let i = 0, c = 1 + R.int(8); i < c && b.length; i++) b[R.int(b.length)] = R.int(256);
  }
  return b;
}

/** Feeds for an OnnxModel with f input features: mostly right, sometimes wrong name, dtype or shape. */
function feeds(R, f) {
  const rows = R.pick([1, 2, 3, 0]);
  const x = R.weighted([
    [8, () => tens(R, [rows, f], 'float32', 0.05)],
    [1, () => tens(R, [rows, f + 1])],
    [1, () => tens(R, [rows, f], R.pick(DTYPES))],
    [0.5, () => anyValue(R)],
  ])();
  return R.chance(0.95) ? { input: x } : R.pick([{ wrong: x }, {}, null, { input: x, extra: x }]);
}

const ONNX_OPTS = (R) => (R.chance(0.8) ? R.pick([undefined, null, {}, { optimize: R.pick([true, false, 'bogus']) }, { disable: R.pick([['fuseLinear'], ['bogus'], 'fuseLinear']) }, { baseDir: R.pick(['/tmp', 5]) }]) : randomOptions(R, ['optimize', 'disable', 'baseDir']));

function calibration(R, m, f) {
  try {
    return api.calibrate(m, [feeds(R, f)].filter((x) => x && x.input instanceof api.Tensor && x.input.dtype === 'float32' && x.input.shape[1] === f && x.input.shape[0] > 0));
  } catch {
    return undefined;
  }
}

// --- serving ------------------------------------------------------------------------------------------------------

function hostTensor(R, f) {
  const rows = R.pick([1, 2, 3]);
  return R.weighted([
    [8, () => ({ dtype: 'float32', shape: [rows, f], data: tens(R, [rows * f], 'float32', 0).data })],
    [1, () => ({ dtype: 'float32', shape: [rows, f + 1], data: new Float32Array(rows * f) })],
    [1, () => ({ dtype: R.pick(['int8', 'float64', 'bogus']), shape: [rows, f], data: new Int8Array(rows * f) })],
    [0.5, () => anyValue(R)],
  ])();
}

function batcherOpts(R) {
  return R.chance(0.8) ? randomPick(R, { maxBatchSize: R.pick([undefined, 1, 4, 0]), maxDelayMs: R.pick([undefined, 0, 1, -1]), cache: R.pick([undefined, 0, 4, -1]), maxSignatures: R.pick([undefined, 1, 2, 0]), name: R.pick([undefined, 'fz', '', 5]) }) : randomOptions(R, ['maxBatchSize', 'maxDelayMs', 'cache', 'maxSignatures', 'name', 'onBatch']);
}

/** Runs `infer` calls on a batcher, then closes it (drained), so no timer outlives the call. */
function batcherInvoke(R, make, f) {
  const reqs = Array.from({ length: 1 + R.int(4) }, () => [R.chance(0.9) ? { input: hostTensor(R, f) } : R.pick([{}, null, { bogus: hostTensor(R, f) }]), R.chance(0.8) ? {} : { signal: signal(R), timeoutMs: R.pick([1, 0, -1]) }]);
  return (args) => {
    const b = make(args);
    const ps = reqs.map(([x, o]) => b.infer(x, o));
    ps.push(b.close({ drain: R.chance(0.8) }));
    return Promise.allSettled(ps);
  };
}

const mlpOf = (R, f = R.pick([2, 3, 4])) => label(api.mlp([f, R.pick([2, 3]), R.pick([2, 3])], { seed: R.int(5) }), `mlp(${f}→…)`);

export const MORE_GENS = {
  conv2d: (R) => convCall(R, false),
  conv2dAsync: (R) => convCall(R, true),
  convTranspose2d: (R) => convTCall(R, false),
  convTranspose2dAsync: (R) => convTCall(R, true),
  depthwiseConv2d: (R) => dwCall(R, false),
  depthwiseConv2dAsync: (R) => dwCall(R, true),
  maxPool2d: (R) => poolCall(R, true, false),
  avgPool2d: (R) => poolCall(R, false, false),
  maxPool2dAsync: (R) => poolCall(R, true, true),
  avgPool2dAsync: (R) => poolCall(R, false, true),
  globalAvgPool: (R) => globalPoolCall(R, false),
  globalMaxPool: (R) => globalPoolCall(R, false),
  globalAvgPoolAsync: (R) => globalPoolCall(R, true),
  globalMaxPoolAsync: (R) => globalPoolCall(R, true),
  nchwToNhwc: (R) => layoutCall(R, true, false),
  nhwcToNchw: (R) => layoutCall(R, false, false),
  nchwToNhwcAsync: (R) => layoutCall(R, true, true),
  nhwcToNchwAsync: (R) => layoutCall(R, false, true),
  resize: (R) => resizeCall(R, false),
  resizeAsync: (R) => resizeCall(R, true),
  packConvWeights: (R) => {
    const transposed = R.chance(0.2);
    const w = R.chance(0.8) ? tens(R, [R.pick(CH), R.pick([1, 2, 3]), R.pick([1, 3]), R.pick([1, 3])], 'float32', 0.05) : api.quantize(tens(R, [R.pick(CH), 2, 3, 3]), { axis: R.pick([0, null]) });
    const m = w.shape?.[0] ?? w.data?.shape?.[0] ?? 1;
    return { args: [w, R.chance(0.8) ? randomPick(R, { transposed: transposed || undefined, groups: R.pick([undefined, 1, 2, 0]), weightLayout: R.pick([undefined, 'oihw', 'hwio', 'iohw', 'bogus']), bias: R.chance(0.3) ? tens(R, [m]) : undefined, batchNorm: R.chance(0.2) ? { gamma: tens(R, [m]), beta: tens(R, [m]), mean: tens(R, [m]), variance: api.add(api.relu(tens(R, [R.chance(0.9) ? m : m + 1], 'float32', 0)), 0.5), epsilon: R.pick([undefined, 1e-5, -1]) } : undefined, layout: R.pick([undefined, 'nhwc']) }) : randomOptions(R, ['transposed', 'groups', 'weightLayout', 'bias', 'batchNorm', 'layout'])] };
  },
  foldBatchNorm: (R) => {
    const m = R.pick(CH);
    const w = tens(R, [m, 2, 3, 3], 'float32', 0.05);
    const bn = R.chance(0.9) ? { gamma: tens(R, [m]), beta: tens(R, [m]), mean: tens(R, [m]), variance: api.add(api.relu(tens(R, [m], 'float32', 0)), 0.5), epsilon: R.pick([undefined, 1e-5, 0, -1, NaN]) } : anyValue(R);
    return { args: [w, R.pick([undefined, null, tens(R, [m]), tens(R, [m + 1])]), bn, R.pick([undefined, null, {}, { weightLayout: 'hwio' }, { groups: 2 }, { weightLayout: 'bogus' }])] };
  },
  loadOnnx: (R, ctx) => ({ args: [R.weighted([[6, () => onnxBytes(R)], [1, () => onnxBytes(R).buffer], [1, () => R.pick([`${ctx.tmpdir}/missing.onnx`, ctx.tmpdir, '', '/dev/null'])], [1, () => anyValue(R)]])(), ONNX_OPTS(R)] }),
  toOnnxBytes: (R) => ({ args: [R.chance(0.85) ? onnxModel(R).m : anyValue(R)] }),
  saveOnnx: (R, ctx) => ({ args: [R.chance(0.85) ? onnxModel(R).m : anyValue(R), R.pick([`${ctx.tmpdir}/m${R.int(3)}.onnx`, ctx.tmpdir, '', `${ctx.tmpdir}/no/such/dir/m.onnx`, 5, null])] }),
  quantizeModel: (R) => {
    if (R.chance(0.3)) return { args: [mlpOf(R), randomOptions(R, ['activations', 'calibration', 'perChannel'])] };
    const { m, f } = onnxModel(R);
    const mode = R.pick(['dynamic', 'dynamic', 'static', undefined, 'bogus']);
    const opts = R.chance(0.85) ? randomPick(R, { mode, weightType: R.pick([undefined, 'int8', 'uint8', 'int4']), perChannel: R.pick([undefined, true, false, 1]), skipOps: R.pick([undefined, ['MatMul'], ['Gemm'], 'Gemm']), keepFirst: R.pick([undefined, true]), keepLast: R.pick([undefined, true]), calibration: mode === 'static' && R.chance(0.8) ? calibration(R, m, f) : undefined }) : randomOptions(R, ['mode', 'weightType', 'perChannel', 'calibration', 'skipNodes', 'convForm']);
    return { args: [m, opts] };
  },
  calibrate: (R) => {
    const { m, f } = onnxModel(R);
    return { args: [m, R.chance(0.85) ? Array.from({ length: 1 + R.int(3) }, () => feeds(R, f)) : R.pick([[], null, 'x', [null]]), R.pick([undefined, null, {}, { method: R.pick(['minmax', 'percentile', 'mse', 'bogus']) }, { percentile: R.pick([99.9, 0, 101, NaN]) }])] };
  },
  pruneModel: (R) => ({ args: [R.chance(0.9) ? onnxModel(R).m : mlpOf(R), R.chance(0.85) ? randomPick(R, { sparsity: R.pick([0.5, 0, 0.9, 1, -1, NaN, undefined]), pattern: R.pick([undefined, 'unstructured', '2:4', '4x1', 'bogus']), scope: R.pick([undefined, 'layer', 'global', 'bogus']), skipOps: R.pick([undefined, ['Gemm'], 5]) }) : randomOptions(R, ['sparsity', 'pattern', 'scope', 'skipNodes', 'skipOps'])] }),
  convertModel: (R) => ({ args: [R.chance(0.9) ? onnxModel(R).m : mlpOf(R), R.chance(0.85) ? randomPick(R, { dtype: R.pick(['float16', 'bfloat16', 'float16', 'int8', undefined]), minElements: R.pick([undefined, 0, 1, 1e9, -1, NaN]) }) : randomOptions(R, ['dtype', 'minElements'])] }),
  onnxToSequential: (R) => ({ args: [R.chance(0.9) ? onnxModel(R).m : anyValue(R), R.pick([undefined, null, {}, { finalSoftmax: R.pick(['error', 'drop', 'bogus']) }])] }),
  sequentialToOnnx: (R) => ({ args: [R.chance(0.9) ? mlpOf(R) : anyValue(R), R.chance(0.8) ? randomPick(R, { inputName: R.pick([undefined, 'x', '', 5]), outputName: R.pick([undefined, 'y', 'x']), inputDims: R.pick([undefined, ['n', 3], [1, 3], [-1], [0, 3]]), finalSoftmax: R.pick([undefined, true, 'yes']) }) : randomOptions(R, ['inputName', 'outputName', 'inputDims', 'finalSoftmax', 'load'])] }),
  sequentialToOnnxModel: (R) => MORE_GENS.sequentialToOnnx(R),
  teacherLogits: (R) => {
    const { m, f } = onnxModel(R);
    return { args: [m, R.chance(0.9) ? tens(R, [R.pick([0, 1, 3, 5]), R.chance(0.9) ? f : f + 1], 'float32', 0.05) : anyValue(R), R.pick([undefined, null, { batchSize: R.pick([1, 2, 0, -1]) }, { outputKind: R.pick(['auto', 'logits', 'probabilities', 'bogus']) }, { output: R.pick(['output', 'bogus']) }])] };
  },
  topOneAgreement: (R) => {
    const r = R.pick([1, 2, 4]);
    const c = R.pick([2, 3]);
    return { args: [tens(R, [r, c]), tens(R, R.chance(0.9) ? [r, c] : [r + 1, c])] };
  },
  distillOnnx: (R) => {
    const { m, f, o } = onnxModel(R);
    const n = R.pick([2, 4, 6]);
    const student = R.chance(0.5) ? api.mlp([f, 3, o], { seed: 1 }) : R.chance(0.8) ? { hidden: R.pick([[3], [], [0], [2, 2]]) } : anyValue(R);
    return { args: [m, student, R.chance(0.9) ? { x: tens(R, [n, f], 'float32', 0), ...(R.chance(0.5) ? { y: Int32Array.from({ length: n }, () => R.int(o)) } : {}) } : anyValue(R), randomPick(R, { epochs: R.pick([1, 0, -1, undefined]), batchSize: R.pick([undefined, 2, 0]), temperature: R.pick([undefined, 2, 0, -1]), alpha: R.pick([undefined, 0.5, 2]), seed: 1 })] };
  },
  registerOnnxOp: (R) => {
    // Always the fuzzer's own op name: a junk registration is flagged, a good one cannot shadow a real operator.
    const def = R.pick([null, 5, {}, { run: 5 }, { run: () => [] }, { run: () => [], opsets: [3, 1] }, { run: () => [], shapeInputs: 'x' }]);
    const good = def && typeof def === 'object' && typeof def.run === 'function' && def.opsets === undefined && def.shapeInputs === undefined;
    return { args: [R.pick(['FuzzOp', 'FuzzOp', '', 5]), def, R.pick([undefined, 'fuzz.domain', 5])], check: good ? undefined : () => { throw new WrongResult('registerOnnxOp accepted a definition without a run function'); } };
  },
  getOnnxOp: (R) => ({ args: [R.pick(['Gemm', 'Conv', 'Nope', 5, null]), R.pick(['', 'ai.onnx', 'com.microsoft', undefined, 5])] }),
  // --- serving ---
  onnxBatchable: (R) => ({ args: [R.chance(0.9) ? onnxModel(R).m : anyValue(R), R.pick([undefined, 'fz', '', 5])] }),
  sequentialBatchable: (R) => ({ args: [R.chance(0.9) ? mlpOf(R) : anyValue(R), R.pick([undefined, 'fz', '', 5])] }),
  batchOnnx: (R) => {
    const { m, f } = onnxModel(R);
    return { args: [R.chance(0.95) ? m : anyValue(R), batcherOpts(R)], async: true, invoke: batcherInvoke(R, (a) => api.batchOnnx(...a), f) };
  },
  DynamicBatcher: (R) => {
    const { m, f } = onnxModel(R);
    const model = R.weighted([
      [6, () => api.onnxBatchable(m)],
      [2, () => api.sequentialBatchable(api.mlp([f, 2, 2], { seed: 1 }))],
      [1, () => ({ inputs: [{ name: 'input', dtype: 'float32', shape: [-1, f] }], outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }], batchable: true, run: R.pick([() => { throw new FuzzProbeError('run'); }, () => ({}), async () => ({ y: { dtype: 'float32', shape: [1, 2], data: new Float32Array(2) } }), () => null]) })],
      [1, () => anyValue(R)],
    ])();
    return { args: [model, batcherOpts(R)], async: true, invoke: batcherInvoke(R, (a) => new api.DynamicBatcher(...a), f) };
  },
  createServer: (R) => {
    const model = R.weighted([[5, () => onnxModel(R).m], [2, () => mlpOf(R)], [1, () => anyValue(R)]])();
    const opts = R.chance(0.8) ? randomPick(R, { name: R.pick([undefined, 'fz', 'bad name', '']), version: R.pick([undefined, '2', '']), maxBatch: R.pick([undefined, 1, 8, 0]), maxDelayMs: R.pick([undefined, 0, -1, Infinity]), cache: R.pick([undefined, 4, -1]), maxBody: R.pick([undefined, 1024, 0]), timeoutMs: R.pick([undefined, 10, 0]), metricsPrefix: R.pick([undefined, 'fz', '1bad']) }) : randomOptions(R, ['name', 'version', 'maxBatch', 'maxQueue', 'cache', 'metricsPrefix', 'libraryMetrics']);
    // Never listens (no sockets in the fuzzer): builds, renders metrics, closes.
    return { args: [model, opts], async: true, invoke: async (a) => { const s = api.createServer(...a); s.metricsText(); await s.close(); return s.ready; } };
  },
  loadServable: (R, ctx) => ({ args: [R.pick([`${ctx.tmpdir}/missing.onnx`, `${ctx.tmpdir}/m0.onnx`, `${ctx.tmpdir}/m0.json`, ctx.tmpdir, '', 5]), R.pick([undefined, 'fz', '', 5])] }),
  // --- nn helpers ---
  distillationLoss: (R) => {
    const r = R.pick([1, 2, 4]);
    const c = R.pick([2, 3]);
    return { args: [tens(R, [r, c]), api.softmax(tens(R, [r, R.chance(0.9) ? c : c + 1], 'float32', 0)), Int32Array.from({ length: R.chance(0.9) ? r : r + 1 }, () => R.int(c)), R.pick([undefined, null, { temperature: R.pick([1, 2, 0, -1]), alpha: R.pick([0.5, 2, NaN]) }])] };
  },
  sparsifyModel: (R) => ({ args: [R.chance(0.9) ? api.mlp([R.pick([4, 8]), 8, 2], { seed: 1 }) : anyValue(R), R.pick([undefined, null, {}, { format: R.pick(['csr', 'bsr', 'auto', 'bogus']) }, { dtype: 'int8' }])] }),
  modelSparsity: (R) => ({ args: [R.chance(0.9) ? mlpOf(R) : anyValue(R)] }),
  weightBytes: (R) => ({ args: [R.chance(0.9) ? mlpOf(R) : anyValue(R)] }),
  weightFormat: (R) => ({ args: [R.chance(0.9) ? mlpOf(R) : anyValue(R)] }),
  gatherRows: (R) => {
    const r = R.pick([0, 1, 3, 5]);
    const f = R.pick([0, 1, 2, 4]);
    const idx = R.chance(0.9) ? Int32Array.from({ length: R.int(4) }, () => (R.chance(0.9) ? R.int(Math.max(1, r)) : R.pick([-1, r, 2 ** 31 - 1]))) : anyValue(R);
    return { args: [tens(R, [r * f]).data, R.chance(0.9) ? f : R.pick([-1, NaN, 2 ** 31, 1.5]), idx, tens(R, [R.chance(0.9) ? 4 * f : R.int(3)]).data] };
  },
  subset: (R) => {
    const r = R.pick([0, 1, 3, 5]);
    return { args: [{ x: tens(R, [r, 2]), y: new Int32Array(r) }, R.chance(0.9) ? Int32Array.from({ length: R.int(4) }, () => R.int(Math.max(1, r + (R.chance(0.1) ? 3 : 0)))) : anyValue(R)] };
  },
  permutation: (R) => ({ args: [R.pick([0, 1, 5, 100, -1, 2 ** 31, NaN, 1.5]), R.pick([1, 7, 2 ** 53, 1.5, 'seed', undefined])] }),
  stratifiedSplit: (R) => ({ args: [R.chance(0.9) ? Int32Array.from({ length: R.pick([0, 2, 5, 9]) }, () => R.int(3)) : anyValue(R), R.pick([0.2, 0.5, 0, 1, -1, NaN]), R.pick([undefined, 0, 3, -1, 2 ** 41])] }),
  featureStats: (R) => ({ args: [tens(R, R.pick([[R.pick([0, 1, 4]), R.pick([1, 3])], [3], [2, 2, 2]]))] }),
};

/** Extra instances for the 'method' target (their methods get random, mostly relevant arguments). */
export const MORE_INSTANCES = [(R) => label(api.sequentialToOnnxModel(mlpOf(R)), 'OnnxModel(mlp)'), (R) => api.packConvWeights(tens(R, [R.pick(CH), 2, 3, 3], 'float32', 0))];
