/**
 * Model-level compression on the int8 and sparse families: post-training int8 quantization of every Linear
 * (per-output-channel symmetric weights; activations either quantized per row on the fly or statically, with
 * ranges calibrated on held-out data), and the model-file codec for int8 weights.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkOpts } from './check.js';
import { packWeights } from '../ops/matmul.js';
import { Calibrator, CalibrationMethod, PackedInt8Weights, quantize, QuantizedTensor } from '../int8/index.js';
import { Tensor } from '../tensor.js';
import { f32 } from './kernels.js';
import { InputQuant, Linear, Sequential } from './layers.js';
import { registerWeightCodec } from './serialize.js';
import { OnnxModel } from '../onnx/model.js';
import { quantizeOnnx, type OnnxQuantizeOptions } from '../onnx/transform/quantize.js';

/** Options of {@link quantizeModel}. */
export interface QuantizeModelOptions {
  /**
   * Held-out inputs [rows, features] (never trained on) whose activations set each Linear's static input range.
   * Without it, activations are quantized dynamically (per row, per call).
   */
  calibration?: Tensor;
  /** 'static' (default with calibration data) or 'dynamic'. */
  activations?: 'static' | 'dynamic';
  /** How calibration turns observed activations into a range (default 'percentile', 99.99 %). */
  method?: CalibrationMethod;
  /** Percentile for `method: 'percentile'`. */
  percentile?: number;
  /** How each weight row's range is chosen (default 'minmax': weights have no outliers to clip here). */
  weights?: CalibrationMethod;
}

/** Static input quantization with fixed per-tensor parameters (asymmetric uint8 or symmetric int8). */
export function inputQuant(p: { dtype: 'int8' | 'uint8'; scale: number; zeroPoint: number }): InputQuant {
  const fn = 'inputQuant';
  if (typeof p !== 'object' || p === null) throw typeError(fn, `p must be { dtype, scale, zeroPoint }, got ${describe(p)}`);
  if (p.dtype !== 'int8' && p.dtype !== 'uint8') throw typeError(fn, `p.dtype must be 'int8' or 'uint8', got ${describe(p.dtype)}`);
  if (typeof p.scale !== 'number' || !(p.scale > 0) || !Number.isFinite(p.scale)) throw rangeError(fn, `p.scale must be a finite number > 0, got ${describe(p.scale)}`);
  const [zlo, zhi] = p.dtype === 'int8' ? [-128, 127] : [0, 255];
  if (!Number.isInteger(p.zeroPoint) || p.zeroPoint < zlo || p.zeroPoint > zhi)
    throw rangeError(fn, `p.zeroPoint must be an integer in [${zlo}, ${zhi}] for ${p.dtype}, got ${describe(p.zeroPoint)}`);
  p = { dtype: p.dtype, scale: p.scale, zeroPoint: p.zeroPoint };
  const scheme = p.dtype === 'uint8' ? 'asymmetric' : 'symmetric';
  return {
    dtype: p.dtype,
    scale: p.scale,
    zeroPoint: p.zeroPoint,
    quantize(x: unknown): unknown {
      if (x instanceof QuantizedTensor) {
        if (x.dtype === p.dtype && x.scale.length === 1 && x.scale[0] === Math.fround(p.scale) && x.zeroPoint[0] === p.zeroPoint) return x;
        throw rangeError('Linear.forward', `a quantized input must carry this layer's calibrated parameters (${p.dtype}, scale ${p.scale}, zero point ${p.zeroPoint})`);
      }
      return quantize(x as Tensor, { dtype: p.dtype, scheme, scale: p.scale, zeroPoint: p.zeroPoint });
    },
  };
}

/**
 * Quantizes every Linear of `model` to int8 in place (the float32 masters stay for further training) and returns
 * it: weights per output row, symmetric, packed once for the int8 GEMM; activations statically quantized with
 * ranges calibrated on `calibration` (asymmetric uint8, per tensor), or dynamically per row.
 */
export function quantizeModel(model: Sequential, opts?: QuantizeModelOptions | null): Sequential;
/** For an OnnxModel (docs/onnx-optimize.md): a NEW model in onnxruntime's int8 form; the original stays intact. */
export function quantizeModel(model: OnnxModel, opts: OnnxQuantizeOptions): OnnxModel;
export function quantizeModel(model: Sequential | OnnxModel, opts: QuantizeModelOptions | OnnxQuantizeOptions | null = {}): Sequential | OnnxModel {
  if (model instanceof OnnxModel) return quantizeOnnx(model, opts as OnnxQuantizeOptions);
  opts = options('quantizeModel', opts) as QuantizeModelOptions;
  const fn = 'quantizeModel';
  if (!(model instanceof Sequential)) throw typeError(fn, `model must be a Sequential, got ${describe(model)}`);
  opts = checkOpts<QuantizeModelOptions>(fn, opts);
  const mode = opts.activations ?? (opts.calibration ? 'static' : 'dynamic');
  if (mode !== 'static' && mode !== 'dynamic') throw typeError(fn, `activations must be 'static' or 'dynamic', got ${describe(mode)}`);
  if (mode === 'static' && !opts.calibration) throw rangeError(fn, "static activations need calibration data (opts.calibration)");
  const linears = model.linears();
  for (const l of linears) if (!l.weight) throw rangeError(fn, `a Linear layer has no float32 weight (it is ${l.format})`);

  // Calibration: run the float32 model over the held-out rows and record each Linear's input.
  const calibrators = new Map<Linear, Calibrator>();
  if (mode === 'static') {
    const X = f32(fn, 'calibration', opts.calibration);
    if (X.ndim !== 2 || X.shape[0] < 1) throw rangeError(fn, `calibration must be [rows >= 1, features], got [${X.shape.join(', ')}]`);
    for (const l of linears) {
      l.setKernelWeight(null);
      calibrators.set(l, new Calibrator({ method: opts.method ?? 'percentile', percentile: opts.percentile }));
    }
    const was = model.training;
    model.train(false);
    try {
      for (let s = 0; s < X.shape[0]; s += 256) {
        let h: Tensor = X.rows(s, Math.min(X.shape[0], s + 256));
        for (const layer of model.layers) {
          if (layer instanceof Linear) calibrators.get(layer)!.observe(h);
          h = layer.forward(h);
        }
      }
    } finally {
      model.train(was);
    }
  }
  for (const l of linears) {
    const q = quantize(l.weight!.value, { dtype: 'int8', scheme: 'symmetric', axis: 0, calibration: opts.weights ?? 'minmax' });
    l.setKernelWeight(packWeights(q), q);
    const c = calibrators.get(l);
    if (c) {
      const { scale, zeroPoint } = c.params({ dtype: 'uint8', scheme: 'asymmetric' });
      l.inputQuant = inputQuant({ dtype: 'uint8', scale: scale[0], zeroPoint: zeroPoint[0] });
    }
  }
  return model;
}

registerWeightCodec({
  format: 'int8',
  match: (w) => w instanceof QuantizedTensor && w.dtype === 'int8',
  encode: (w) => {
    const q = w as QuantizedTensor;
    const scale = new Tensor(q.scale, [q.scale.length], 'float32', q.scale.length);
    const zero = new Tensor(q.zeroPoint, [q.zeroPoint.length], 'int32', q.zeroPoint.length);
    return { tensors: { '': q.data, scale, zero }, meta: { axis: q.axis, scheme: q.scheme } };
  },
  decode: (t, meta, shape) => {
    const d = t[''];
    if (!d || d.dtype !== 'int8' || d.shape[0] !== shape[0] || d.shape[1] !== shape[1]) throw rangeError('loadModel', `an int8 weight must be int8 [${shape.join(', ')}]`);
    const axis = meta.axis === null ? null : 0;
    const n = axis === null ? 1 : shape[0];
    const scale = t.scale;
    const zero = t.zero;
    if (!scale || scale.dtype !== 'float32' || scale.size !== n) throw rangeError('loadModel', `the int8 weight needs ${n} float32 scales`);
    if (!zero || zero.dtype !== 'int32' || zero.size !== n) throw rangeError('loadModel', `the int8 weight needs ${n} int32 zero points`);
    for (const k of Object.keys(t)) if (k !== '' && k !== 'scale' && k !== 'zero') throw rangeError('loadModel', `unexpected int8 weight part '${k}'`);
    // The constructor validates scales (positive, finite) and zero points (in range).
    return new QuantizedTensor(d, scale.data as Float32Array, zero.data as Int32Array, axis, meta.scheme === 'asymmetric' ? 'asymmetric' : 'symmetric');
  },
  pack: (w) => packWeights(w as QuantizedTensor),
  inputQuant,
});
