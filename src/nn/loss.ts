/**
 * Losses over logits: softmax cross-entropy with hard labels, and the distillation loss of Hinton et al. (2015),
 * α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1−α)·CE(student, labels). Both run on the native
 * `softmaxXent` kernel, which returns the loss and writes the gradient with respect to the logits in one pass.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkOpts } from './check.js';
import { mul, softmax } from '../f32/eltwise.js';
import { Tensor } from '../tensor.js';
import { checkLabels, f32, rowsCols, train } from './kernels.js';

/** A loss value and, when asked for, its gradient with respect to the logits. */
export interface LossResult {
  /** Mean loss over the rows. */
  loss: number;
  /** d loss / d logits (same shape as the logits), or null when `grad: false`. */
  grad: Tensor<'float32'> | null;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Compute the gradient (default true). */
  grad?: boolean;
  /** Preallocated gradient tensor (same shape as the logits). */
  out?: Tensor;
}

function gradTensor(fn: string, like: Tensor, want: boolean, out: Tensor | undefined): Tensor<'float32'> | null {
  if (!want) return null;
  if (!out) return new Tensor(new Float32Array(like.size), like.shape, 'float32', like.size);
  const o = f32(fn, 'out', out);
  if (o.size !== like.size) throw rangeError(fn, `out has shape [${o.shape.join(', ')}], needs [${like.shape.join(', ')}]`);
  return o;
}

/** Mean softmax cross-entropy of `logits` [rows, classes] against integer `labels`, and its gradient. */
export function crossEntropy(logits: Tensor, labels: Int32Array, opts: CrossEntropyOptions | null = {}): LossResult {
  opts = options('crossEntropy', opts);
  const fn = 'crossEntropy';
  opts = checkOpts<CrossEntropyOptions>(fn, opts);
  const Z = f32(fn, 'logits', logits);
  const [rows, cols] = rowsCols(Z);
  checkLabels(fn, labels, rows, cols);
  const grad = gradTensor(fn, Z, opts.grad ?? true, opts.out);
  if (rows === 0) return { loss: 0, grad };
  const sum = train.softmaxXent(Z.data, rows, cols, 1, labels, null, 1 / rows, grad ? grad.data : null, false);
  return { loss: sum / rows, grad };
}

/** Options of {@link distillationLoss} and of `distill`. */
export interface DistillLossOptions {
  /** Softening temperature T > 0 (default 4). */
  temperature?: number;
  /** Weight α in [0, 1] of the soft (teacher) term; 1 − α weighs the hard-label term (default 0.7). */
  alpha?: number;
}

/** The parts of a distillation loss. */
export interface DistillLossResult extends LossResult {
  /** Mean KL(softmax(teacher/T) ‖ softmax(student/T)) (without the T² factor). */
  kl: number;
  /** Mean hard-label cross-entropy of the student at T = 1. */
  ce: number;
}

/** @internal Validates T and α. */
export function distillParams(fn: string, opts: DistillLossOptions): { T: number; alpha: number } {
  const T = opts.temperature ?? 4;
  const alpha = opts.alpha ?? 0.7;
  if (typeof T !== 'number' || !(T > 0) || !Number.isFinite(T)) throw rangeError(fn, `temperature must be a finite number > 0, got ${describe(T)}`);
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw rangeError(fn, `alpha must be a number in [0, 1], got ${describe(alpha)}`);
  return { T, alpha };
}

/** softmax(logits / T): the teacher's soft labels (computed once per data set by `distill`). */
export function softTargets(logits: Tensor, temperature: number): Tensor<'float32'> {
  const fn = 'softTargets';
  const Z = f32(fn, 'logits', logits);
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature))
    throw rangeError(fn, `temperature must be a finite number > 0, got ${describe(temperature)}`);
  const scaled = temperature === 1 ? Z : mul(Z, 1 / temperature);
  return softmax(scaled, temperature === 1 ? {} : { out: scaled }) as Tensor<'float32'>;
}

/**
 * Distillation loss for student logits against the teacher's soft targets (softmax(teacher/T), see
 * {@link softTargets}) and the true labels: α·T²·KL + (1−α)·CE. The T² keeps the soft term's gradient on the
 * scale of the hard term's as T changes (Hinton et al., 2015, §2).
 */
export function distillationLoss(
  studentLogits: Tensor, teacherSoft: Tensor, labels: Int32Array, opts: DistillLossOptions & CrossEntropyOptions = {},
): DistillLossResult {
  const fn = 'distillationLoss';
  opts = checkOpts<DistillLossOptions & CrossEntropyOptions>(fn, opts);
  const Z = f32(fn, 'studentLogits', studentLogits);
  const P = f32(fn, 'teacherSoft', teacherSoft);
  const [rows, cols] = rowsCols(Z);
  if (P.size !== Z.size) throw rangeError(fn, `teacherSoft has shape [${P.shape.join(', ')}], must match studentLogits [${Z.shape.join(', ')}]`);
  checkLabels(fn, labels, rows, cols);
  if (!(labels instanceof Int32Array)) throw typeError(fn, 'labels must be an Int32Array');
  const { T, alpha } = distillParams(fn, opts);
  const grad = gradTensor(fn, Z, opts.grad ?? true, opts.out);
  if (rows === 0) return { loss: 0, kl: 0, ce: 0, grad };
  const g = grad ? grad.data : null;
  // d(α·T²·KL)/dz = α·T·(softmax(z/T) − p_teacher); d((1−α)·CE)/dz = (1−α)·(softmax(z) − onehot).
  const klSum = train.softmaxXent(Z.data, rows, cols, 1 / T, null, P.data, (alpha * T) / rows, g, false);
  const ceSum = train.softmaxXent(Z.data, rows, cols, 1, labels, null, (1 - alpha) / rows, g, true);
  const kl = klSum / rows;
  const ce = ceSum / rows;
  return { loss: alpha * T * T * kl + (1 - alpha) * ce, kl, ce, grad };
}
