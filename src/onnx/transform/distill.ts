/**
 * Distilling an ONNX teacher into a small nn student: the teacher runs on simdtensor's ONNX runtime (any graph
 * `loadOnnx` runs — it need not be trainable) to give logits once over the data; the student (a Sequential, or an
 * MLP built from `{ hidden }`) trains on them with the nn `distill` loss. Unlabeled data trains on the soft
 * targets alone. `sequentialToOnnx(result.student)` writes the student back as an ONNX file.
 * @module
 */
import { describe, options, rangeError, typeError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { checkOpts, positiveInt } from '../../nn/check.js';
import { distill, type DistillOptions } from '../../nn/distill.js';
import { argmax, f32 } from '../../nn/kernels.js';
import { mlp, Sequential, type MlpOptions } from '../../nn/layers.js';
import { predict, type History } from '../../nn/train.js';
import { OnnxModel } from '../model.js';
import { editOf } from '../export.js';

/** A student MLP to build: hidden sizes between the data's features and the teacher's classes. */
export interface StudentSpec extends Pick<MlpOptions, 'activation' | 'layerNorm' | 'seed' | 'dropout'> {
  hidden: number[];
}

/** Data to distill on: `y` (class indices) is optional — without it the student learns the teacher's outputs only. */
export interface DistillData {
  x: Tensor;
  y?: Int32Array;
}

/** Options of {@link teacherLogits}. */
export interface TeacherLogitsOptions {
  /** Rows per teacher run (default 256). */
  batchSize?: number;
  /** The teacher output to distill (default: its first). */
  output?: string;
  /**
   * What that output holds: 'logits', 'probabilities' (log taken), or 'auto' (default): probabilities when the
   * graph computes it with a final Softmax, else logits.
   */
  outputKind?: 'auto' | 'logits' | 'probabilities';
}

/** Options of {@link distillOnnx}: {@link teacherLogits}'s and nn `distill`'s (temperature, alpha, epochs, …). */
export interface DistillOnnxOptions extends TeacherLogitsOptions, Omit<DistillOptions, 'teacherLogits'> {}

/** What {@link distillOnnx} returns: the trained student, its training history and the teacher's logits. */
export interface DistillOnnxResult extends History {
  student: Sequential;
  /** The teacher's logits over `data.x` ([rows, classes]). */
  teacherLogits: Tensor<'float32'>;
  /** Fraction of `data.x` rows where the trained student's top-1 class is the teacher's. */
  agreement: number;
}

/**
 * The teacher's logits for the rows of `x` ([rows, features] float32), run in batches on simdtensor's ONNX
 * runtime. The rows are reshaped to the teacher's input dims when it takes e.g. [n, 1, 8, 8].
 */
export function teacherLogits(teacher: OnnxModel, x: Tensor, opts: TeacherLogitsOptions | null = {}): Tensor<'float32'> {
  return logitsOf('teacherLogits', teacher, x, opts);
}

/** teacherLogits' work, its errors naming `fn` (distillOnnx calls it too). */
function logitsOf(fn: string, teacher: OnnxModel, x: Tensor, opts: TeacherLogitsOptions | null): Tensor<'float32'> {
  if (!(teacher instanceof OnnxModel)) throw typeError(fn, `teacher must be an OnnxModel (from loadOnnx), got ${describe(teacher)}`);
  opts = checkOpts<TeacherLogitsOptions>(fn, options(fn, opts));
  const X = f32(fn, 'x', x);
  if (X.ndim !== 2) throw rangeError(fn, `x must be 2-D [rows, features], got [${X.shape.join(', ')}]`);
  const [rows, feats] = X.shape;
  let bs = positiveInt(fn, 'opts.batchSize', opts.batchSize, 256);
  if (teacher.inputs.length !== 1) throw rangeError(fn, `the teacher must have one input, it has ${teacher.inputs.length} (${teacher.inputs.map((i) => `'${i.name}'`).join(', ')})`);
  const io = teacher.inputs[0];
  if (io.dtype !== 'float32') throw rangeError(fn, `the teacher's input '${io.name}' is ${io.dtype}; distillation feeds float32 rows`);
  const outName = opts.output ?? teacher.outputs[0]?.name;
  if (!teacher.outputs.some((o) => o.name === outName)) throw rangeError(fn, `opts.output '${String(outName)}' is not a teacher output (${teacher.outputs.map((o) => `'${o.name}'`).join(', ')})`);
  const kind = opts.outputKind ?? 'auto';
  if (kind !== 'auto' && kind !== 'logits' && kind !== 'probabilities') throw typeError(fn, `opts.outputKind must be 'auto', 'logits' or 'probabilities', got ${describe(kind)}`);
  // Per-row dims: the declared ones when fully known and of `feats` elements, else [feats].
  const dims = io.dims ?? [null, feats];
  const tail = dims.slice(1);
  let rowDims: number[] = [feats];
  if (tail.length && tail.every((d) => typeof d === 'number')) {
    const n = (tail as number[]).reduce((a, b) => a * b, 1);
    if (n !== feats) throw rangeError(fn, `the teacher's input '${io.name}' is [${dims.map((d) => d ?? '?').join(', ')}] (${n} values a row), x has ${feats} features`);
    rowDims = tail as number[];
  }
  // A teacher with a fixed batch dim (e.g. [1, 64]) runs in batches of exactly that many rows.
  if (typeof dims[0] === 'number' && dims[0] > 0) {
    bs = dims[0];
    if (rows % bs) throw rangeError(fn, `the teacher's input '${io.name}' fixes the batch at ${bs} rows; x has ${rows} rows, not a multiple of it`);
  }
  let probs = kind === 'probabilities';
  if (kind === 'auto' && teacher.source) {
    const m = editOf(fn, teacher);
    const prod = (m.nodes as { opType: string; output: string[] }[]).find((n) => n.output.includes(outName));
    probs = prod?.opType === 'Softmax';
  }
  let out: Float32Array | null = null;
  let classes = 0;
  for (let s = 0; s < rows; s += bs) {
    const e = Math.min(rows, s + bs);
    const r = teacher.run({ [io.name]: { data: X.data.subarray(s * feats, e * feats), dims: [e - s, ...rowDims] } })[outName];
    if (r.dtype !== 'float32') throw rangeError(fn, `the teacher's output '${outName}' is ${r.dtype}, not float32 scores`);
    const c = r.size / (e - s);
    if (!Number.isInteger(c) || c < 1 || r.shape[0] !== e - s) throw rangeError(fn, `the teacher's output '${outName}' has shape [${r.shape.join(', ')}] for ${e - s} rows; it must be [rows, classes]`);
    if (!out) {
      classes = c;
      out = new Float32Array(rows * classes);
    } else if (c !== classes) throw rangeError(fn, `the teacher's output '${outName}' changed width between batches (${classes} then ${c})`);
    out.set(r.data as Float32Array, s * classes);
  }
  if (!out) throw rangeError(fn, 'x has no rows');
  if (probs) for (let i = 0; i < out.length; i++) out[i] = Math.log(Math.max(out[i], 1e-30));
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw rangeError(fn, `the teacher's output '${outName}' is not finite at row ${Math.floor(i / classes)} (${out[i]})`);
  return new Tensor(out, [rows, classes], 'float32', out.length);
}

/** Fraction of rows where the two score matrices have the same top-1 class. */
export function agreement(a: Tensor, b: Tensor): number {
  const fn = 'agreement';
  const A = argmax(f32(fn, 'a', a)), B = argmax(f32(fn, 'b', b));
  if (A.length !== B.length) throw rangeError(fn, `a has ${A.length} rows, b has ${B.length}`);
  let k = 0;
  for (let i = 0; i < A.length; i++) if (A[i] === B[i]) k++;
  return A.length ? k / A.length : 0;
}

/**
 * Trains a student to imitate an ONNX teacher on `data` (see the module description). With labels, the loss is
 * α·T²·KL + (1−α)·CE (α default 0.7); without, α defaults to 1 (KL only) and any hard term uses the teacher's
 * top-1 class as the label. Returns the trained student (in inference mode) and the run's history.
 */
export function distillOnnx(teacher: OnnxModel, student: Sequential | StudentSpec, data: DistillData, opts: DistillOnnxOptions | null = {}): DistillOnnxResult {
  const fn = 'distillOnnx';
  if (!(teacher instanceof OnnxModel)) throw typeError(fn, `teacher must be an OnnxModel (from loadOnnx), got ${describe(teacher)}`);
  opts = checkOpts<DistillOnnxOptions>(fn, options(fn, opts));
  if (!data || typeof data !== 'object') throw typeError(fn, `data must be { x: Tensor, y?: Int32Array }, got ${describe(data)}`);
  const X = f32(fn, 'data.x', data.x);
  if (X.ndim !== 2) throw rangeError(fn, `data.x must be 2-D [rows, features], got [${X.shape.join(', ')}]`);
  if (data.y !== undefined && !(data.y instanceof Int32Array)) throw typeError(fn, `data.y must be an Int32Array or absent, got ${describe(data.y)}`);
  const { batchSize: _b, output, outputKind, ...rest } = opts;
  const logits = logitsOf(fn, teacher, X, { output, outputKind });
  const classes = logits.shape[1];
  let net: Sequential;
  if (student instanceof Sequential) net = student;
  else if (student && typeof student === 'object' && Array.isArray((student as StudentSpec).hidden)) {
    const { hidden, ...mo } = student as StudentSpec;
    net = mlp([X.shape[1], ...hidden, classes], mo);
  } else throw typeError(fn, `student must be a Sequential or { hidden: number[] }, got ${describe(student)}`);
  const y = data.y ?? argmax(logits);
  const alpha = opts.alpha ?? (data.y ? undefined : 1);
  let history: ReturnType<typeof distill>;
  try {
    history = distill(net, net, { x: X, y }, { ...rest, ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}), ...(alpha !== undefined ? { alpha } : {}), teacherLogits: logits });
  } catch (e) {
    // The training options are checked by distill/fit: name the export the caller used (same error class).
    if ((e instanceof TypeError || e instanceof RangeError) && /^(distill|fit): /.test(e.message))
      throw new (e.constructor as typeof TypeError)(`${fn}: ${e.message.replace(/^(distill|fit): /, '')}`);
    throw e;
  }
  const { teacherSoft: _s, ...h } = history;
  return { ...h, student: net, teacherLogits: logits, agreement: agreement(predict(net, X), logits) };
}
