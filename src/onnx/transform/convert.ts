/**
 * Half-precision weights for an ONNX model: every float32 initializer of at least `minElements` values is stored
 * as float16 (or bfloat16) and read through a Cast back to float32, so the file halves while the graph computes in
 * float32 as before (loadOnnx widens the initializer at load and folds the Cast; onnxruntime folds it at session
 * creation). bfloat16 needs Cast from opset 13, so older models are upgraded. The original is never modified.
 * @module
 */
import { describe, rangeError, typeError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { editOf, modelOf } from '../export.js';
import type { OnnxModel } from '../model.js';
import { DT, nodeProto, rawTensorProto, upgradeOpset, type EditModel, type Msg } from './proto.js';

/** Options of `convertModel`. */
export interface OnnxConvertOptions {
  /** Storage type of the weights. */
  dtype: 'float16' | 'bfloat16';
  /** Initializers with fewer values stay float32 (scalars such as epsilons, default 16). */
  minElements?: number;
}

const FN = 'convertModel';

/** Converts an edited model's float32 initializers in place; returns how many were converted. */
export function convertEdit(m: EditModel, opts: OnnxConvertOptions): number {
  if (opts === null || typeof opts !== 'object') throw typeError(FN, `opts must be an object, got ${describe(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'dtype' && k !== 'minElements') throw rangeError(FN, `unknown option '${k}' (known: dtype, minElements)`);
  if (opts.dtype !== 'float16' && opts.dtype !== 'bfloat16') throw typeError(FN, `opts.dtype must be 'float16' or 'bfloat16', got ${describe(opts.dtype)}`);
  const min = opts.minElements ?? 16;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 1) throw rangeError(FN, `opts.minElements must be an integer >= 1, got ${describe(min)}`);
  if (opts.dtype === 'bfloat16') upgradeOpset(m, 13, FN);
  const code = opts.dtype === 'float16' ? DT.FLOAT16 : DT.BFLOAT16;
  const casts: Msg[] = [];
  for (const t of (m.graph.initializer as Msg[]).slice()) {
    if (Number(t.dataType) !== DT.FLOAT) continue;
    const v = m.constValue(t.name)!;
    if (v.size < min) continue;
    const half = new Tensor(v.data as Float32Array, v.shape.slice(), 'float32', v.size).to(opts.dtype);
    const hname = m.fresh(`${t.name}_${opts.dtype === 'float16' ? 'fp16' : 'bf16'}`);
    m.setInitProto(rawTensorProto(hname, code, v.shape, half.data as Uint16Array));
    m.graph.initializer = (m.graph.initializer as Msg[]).filter((x) => x.name !== t.name);
    casts.push(nodeProto('Cast', [hname], [t.name], m.fresh(`${t.name}_cast`), { to: ['int', DT.FLOAT] }));
  }
  m.graph.node = [...casts, ...m.nodes];
  return casts.length;
}

/** Stores the model's float32 weights as float16/bfloat16 (compute stays float32); returns a NEW model. */
export function convertOnnx(model: OnnxModel, opts: OnnxConvertOptions): OnnxModel {
  const m = editOf(FN, model);
  if (convertEdit(m, opts) === 0) throw rangeError(FN, `the model has no float32 initializer of at least ${opts.minElements ?? 16} values to convert`);
  return modelOf(m);
}
