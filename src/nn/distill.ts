/**
 * Knowledge distillation (Hinton, Vinyals & Dean, 2015): a student learns from a teacher's softened outputs as
 * well as the labels, with loss α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1−α)·CE(student, labels).
 * The teacher runs once over the whole training set (its soft targets are cached and shuffled with the data).
 * @module
 */
import { describe, typeError, options } from '../errors.js';
import { checkOpts } from './check.js';
import { Tensor } from '../tensor.js';
import { Layer } from './layers.js';
import { distillationLoss, distillParams, DistillLossOptions, softTargets } from './loss.js';
import { checkDataset, Dataset, EpochInfo, fit, FitOptions, History, predict } from './train.js';

/** Options of {@link distill}: the loss's temperature and α, and the training options of {@link fit}. */
export interface DistillOptions extends DistillLossOptions, Omit<FitOptions, 'loss' | 'aligned'> {
  /** Precomputed teacher logits for `data` (skips running the teacher). */
  teacherLogits?: Tensor;
}

/** The run's history (each epoch reports `parts.kl` and `parts.ce`) and the cached teacher soft targets. */
export interface DistillResult extends History {
  /** softmax(teacher logits / T) over the training set. */
  teacherSoft: Tensor<'float32'>;
}

/** Trains `student` on `data` to match `teacher` (see the module description); leaves both in inference mode. */
export function distill(teacher: Layer, student: Layer, data: Dataset, opts: DistillOptions | null = {}): DistillResult {
  opts = options('distill', opts);
  const fn = 'distill';
  if (!(teacher instanceof Layer)) throw typeError(fn, `teacher must be a Layer, got ${describe(teacher)}`);
  if (!(student instanceof Layer)) throw typeError(fn, `student must be a Layer, got ${describe(student)}`);
  checkDataset(fn, 'data', data);
  opts = checkOpts<DistillOptions>(fn, opts);
  const { T, alpha } = distillParams(fn, opts);
  const logits = opts.teacherLogits ?? predict(teacher, data.x);
  const soft = softTargets(logits, T);
  const { teacherLogits: _unused, temperature: _t, alpha: _a, ...fitOpts } = opts;
  const history = fit(student, data, {
    ...fitOpts,
    aligned: [soft],
    loss: (z, batch, grad) => {
      const r = distillationLoss(z, batch.aligned[0], batch.y, { temperature: T, alpha, out: grad });
      return { loss: r.loss, grad: r.grad, parts: { kl: r.kl, ce: r.ce } };
    },
    onEpoch: (info: EpochInfo) => opts.onEpoch?.(info),
  });
  return { ...history, teacherSoft: soft };
}
