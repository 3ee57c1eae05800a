/**
 * The training loop: seeded shuffling into contiguous epoch buffers, mini-batches as zero-copy row views,
 * a loss over logits (cross-entropy by default), an optimizer with a learning-rate schedule, and per-epoch
 * progress. Evaluation and prediction run the model in inference mode in batches.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { Tensor } from '../tensor.js';
import { rng } from '../random.js';
import { argmax, f32, rowsCols } from './kernels.js';
import { Layer } from './layers.js';
import { crossEntropy, LossResult } from './loss.js';
import { makeOptimizer, Optimizer, OptimizerSpec, Schedule } from './optim.js';
import { checkOpts, nonNegativeInt, positiveInt } from './check.js';
import { MAX_ELEMENTS } from '../tensor.js';

/** Features [n, f] (float32) with integer class labels [n]. */
export interface Dataset {
  x: Tensor;
  y: Int32Array;
}

/** @internal Validates a dataset; returns its row count and feature count. */
export function checkDataset(fn: string, arg: string, d: unknown): { n: number; f: number } {
  const ds = d as Dataset;
  if (!ds || typeof ds !== 'object') throw typeError(fn, `${arg} must be { x: Tensor, y: Int32Array }, got ${describe(d)}`);
  const x = f32(fn, `${arg}.x`, ds.x);
  if (x.ndim !== 2) throw rangeError(fn, `${arg}.x must be 2-D [rows, features], got [${x.shape.join(', ')}]`);
  if (!(ds.y instanceof Int32Array)) throw typeError(fn, `${arg}.y must be an Int32Array, got ${describe(ds.y)}`);
  if (ds.y.length !== x.shape[0]) throw rangeError(fn, `${arg}.y has ${ds.y.length} labels, ${arg}.x has ${x.shape[0]} rows`);
  return { n: x.shape[0], f: x.shape[1] };
}

export { rng };

/** A seeded permutation of 0..n−1 (Fisher–Yates; O(n) over indices once per epoch, not over elements). */
export function permutation(n: number, seed: number): Int32Array {
  nonNegativeInt('permutation', 'n', n);
  if (n > MAX_ELEMENTS) throw rangeError('permutation', `n (${n}) is more than ${MAX_ELEMENTS} (MAX_ELEMENTS)`);
  if (typeof seed !== 'number') throw typeError('permutation', `seed must be a number, got ${describe(seed)}`);
  if (!Number.isSafeInteger(seed)) throw rangeError('permutation', `seed must be a safe integer, got ${describe(seed)}`);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Rows of `src` [n, cols] in the order `idx`, into `dst` (one native block copy per row). */
export function gatherRows(src: Float32Array, cols: number, idx: Int32Array, dst: Float32Array): void {
  const fn = 'gatherRows';
  if (!(src instanceof Float32Array)) throw typeError(fn, `src must be a Float32Array, got ${describe(src)}`);
  if (!(dst instanceof Float32Array)) throw typeError(fn, `dst must be a Float32Array, got ${describe(dst)}`);
  if (!(idx instanceof Int32Array)) throw typeError(fn, `idx must be an Int32Array, got ${describe(idx)}`);
  nonNegativeInt(fn, 'cols', cols);
  if (dst.length < idx.length * cols) throw rangeError(fn, `dst has ${dst.length} elements, needs ${idx.length} rows × ${cols}`);
  const rows = cols ? Math.floor(src.length / cols) : 0;
  for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= rows) throw rangeError(fn, `idx[${i}] (${idx[i]}) is outside the ${rows} rows of src`);
  for (let i = 0; i < idx.length; i++) dst.set(src.subarray(idx[i] * cols, idx[i] * cols + cols), i * cols);
}

/** A batch handed to a custom loss: its rows' labels and any aligned per-row tensors (e.g. soft targets). */
export interface Batch {
  /** Row offset within the (shuffled) epoch. */
  start: number;
  /** The batch's features. */
  x: Tensor<'float32'>;
  /** The batch's labels. */
  y: Int32Array;
  /** Rows of each `aligned` tensor, shuffled with the data. */
  aligned: Tensor<'float32'>[];
}

/** What {@link fit} reports after each epoch. */
export interface EpochInfo {
  /** 1-based epoch. */
  epoch: number;
  /** Epochs in the run. */
  epochs: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  loss: number;
  /** Extra loss parts a custom loss reported (e.g. kl and ce), averaged like `loss`. */
  parts: Record<string, number>;
  /** Learning rate at the epoch's last step. */
  lr: number;
  /** Validation accuracy, when validation data was given. */
  valAccuracy?: number;
  /** Validation loss (cross-entropy), when validation data was given. */
  valLoss?: number;
  /** Seconds since the run began. */
  seconds: number;
}

/** What a custom loss returns: the loss, its gradient, and optional named parts to report per epoch. */
export type BatchLoss = LossResult & { parts?: Record<string, number> };

/** Options of {@link fit}. */
export interface FitOptions {
  /** Epochs (default 10). */
  epochs?: number;
  /** Rows per mini-batch (default 64; the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** An optimizer over the model's parameters, or a spec (default AdamW, lr 1e-3). */
  optimizer?: Optimizer | OptimizerSpec;
  /** Learning-rate factor per step (default constant). */
  schedule?: Schedule;
  /** Seed of the per-epoch shuffles (default 0). */
  seed?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Per-row tensors [n, k] shuffled along with the data and handed to `loss` (e.g. a teacher's soft targets). */
  aligned?: Tensor[];
  /** Loss over a batch's logits (default cross-entropy with the labels). Must return the gradient. */
  loss?: (logits: Tensor<'float32'>, batch: Batch, grad: Tensor<'float32'>) => BatchLoss;
  /** Data to evaluate after each epoch. */
  validation?: Dataset;
  /** Called after each epoch. */
  onEpoch?: (info: EpochInfo) => void;
  /** Called after each optimizer step with the global step (for pruning schedules and the like). */
  onStep?: (step: number, totalSteps: number) => void;
}

/** The per-epoch records of a run. */
export interface History {
  epochs: EpochInfo[];
}

/** Trains `model` on `data` (see {@link FitOptions}); leaves the model in inference mode. */
export function fit(model: Layer, data: Dataset, opts: FitOptions | null = {}): History {
  opts = options('fit', opts);
  const fn = 'fit';
  if (!(model instanceof Layer)) throw typeError(fn, `model must be a Layer, got ${describe(model)}`);
  const { n, f } = checkDataset(fn, 'data', data);
  opts = checkOpts<FitOptions>(fn, opts);
  const epochs = nonNegativeInt(fn, 'opts.epochs', opts.epochs, 10);
  const bs = positiveInt(fn, 'opts.batchSize', opts.batchSize, 64);
  const seed = nonNegativeInt(fn, 'opts.seed', opts.seed, 0);
  if (seed >= 2 ** 32) throw rangeError(fn, `opts.seed must be less than 2^32, got ${seed}`);
  if (opts.shuffle !== undefined && typeof opts.shuffle !== 'boolean') throw typeError(fn, `opts.shuffle must be a boolean, got ${describe(opts.shuffle)}`);
  for (const k of ['schedule', 'loss', 'onEpoch', 'onStep'] as const)
    if (opts[k] !== undefined && typeof opts[k] !== 'function') throw typeError(fn, `opts.${k} must be a function, got ${describe(opts[k])}`);
  if (opts.aligned !== undefined && !Array.isArray(opts.aligned)) throw typeError(fn, `opts.aligned must be an array of Tensors, got ${describe(opts.aligned)}`);
  if (n === 0) throw rangeError(fn, 'data has no rows');
  const aligned = (opts.aligned ?? []).map((t, i) => {
    const a = f32(fn, `aligned[${i}]`, t);
    if (a.shape[0] !== n) throw rangeError(fn, `aligned[${i}] has ${a.shape[0]} rows, data has ${n}`);
    return a;
  });
  const opt = opts.optimizer instanceof Optimizer ? opts.optimizer : makeOptimizer(model.parameters(), opts.optimizer ?? { type: 'adamw' });
  const schedule = opts.schedule ?? (() => 1);
  const shuffle = opts.shuffle ?? true;
  const lossFn = opts.loss ?? ((z: Tensor<'float32'>, b: Batch, g: Tensor<'float32'>): BatchLoss => crossEntropy(z, b.y, { out: g }));
  if (opts.validation) checkDataset(fn, 'validation', opts.validation);

  const X = data.x as Tensor<'float32'>;
  const ex = new Float32Array(n * f);
  const ey = new Int32Array(n);
  const ea = aligned.map((a) => new Float32Array(a.size));
  const acols = aligned.map((a) => rowsCols(a)[1]);
  const batchesPerEpoch = Math.ceil(n / bs);
  const total = epochs * batchesPerEpoch;
  const history: History = { epochs: [] };
  const t0 = performance.now();
  let step = 0;
  let grad: Tensor<'float32'> | null = null;
  for (let e = 0; e < epochs; e++) {
    if (shuffle) {
      const p = permutation(n, seed * 7919 + e);
      gatherRows(X.data, f, p, ex);
      for (let i = 0; i < n; i++) ey[i] = data.y[p[i]];
      aligned.forEach((a, k) => gatherRows(a.data, acols[k], p, ea[k]));
    } else if (e === 0) {
      ex.set(X.data);
      ey.set(data.y);
      aligned.forEach((a, k) => ea[k].set(a.data));
    }
    const xs = new Tensor(ex, [n, f], 'float32', n * f);
    const as = ea.map((buf, k) => new Tensor(buf, [n, acols[k]], 'float32', buf.length));
    model.train(true);
    let lossSum = 0;
    const partSums: Record<string, number> = {};
    let lr = opt.lr;
    for (let start = 0; start < n; start += bs) {
      const end = Math.min(n, start + bs);
      const batch: Batch = { start, x: xs.rows(start, end), y: ey.subarray(start, end), aligned: as.map((a) => a.rows(start, end)) };
      const logits = model.forward(batch.x) as Tensor<'float32'>;
      if (!grad || grad.size !== logits.size) grad = new Tensor(new Float32Array(logits.size), logits.shape, 'float32', logits.size);
      const res = lossFn(logits, batch, grad);
      if (typeof res !== 'object' || res === null || !res.grad) throw typeError(fn, `opts.loss must return { loss, grad }, got ${describe(res)}`);
      if (!Number.isFinite(res.loss)) throw rangeError(fn, `the loss is ${res.loss} at epoch ${e + 1}, step ${step + 1} (learning rate too high?)`);
      model.backward(res.grad, false);
      const factor = schedule(step, total);
      if (typeof factor !== 'number' || !Number.isFinite(factor)) throw typeError(fn, `opts.schedule must return a finite number, got ${describe(factor)} at step ${step}`);
      lr = opt.lr * factor;
      opt.step(lr);
      step++;
      opts.onStep?.(step, total);
      lossSum += res.loss * (end - start);
      for (const [k, v] of Object.entries(res.parts ?? {})) partSums[k] = (partSums[k] ?? 0) + v * (end - start);
    }
    model.train(false);
    const info: EpochInfo = { epoch: e + 1, epochs, loss: lossSum / n, parts: {}, lr, seconds: (performance.now() - t0) / 1000 };
    for (const [k, v] of Object.entries(partSums)) info.parts[k] = v / n;
    if (opts.validation) {
      const ev = evaluate(model, opts.validation);
      info.valAccuracy = ev.accuracy;
      info.valLoss = ev.loss;
    }
    history.epochs.push(info);
    opts.onEpoch?.(info);
  }
  model.train(false);
  return history;
}

/** Logits for every row of `x`, in inference mode, `batchSize` rows at a time (default 256). */
export function predict(model: Layer, x: Tensor, opts: { batchSize?: number } | null = {}): Tensor<'float32'> {
  opts = options('predict', opts);
  const fn = 'predict';
  if (!(model instanceof Layer)) throw typeError(fn, `model must be a Layer, got ${describe(model)}`);
  const X = f32(fn, 'x', x);
  if (X.ndim !== 2) throw rangeError(fn, `x must be 2-D [rows, features], got [${X.shape.join(', ')}]`);
  const bs = positiveInt(fn, 'opts.batchSize', checkOpts<{ batchSize?: number }>(fn, opts).batchSize, 256);
  const n = X.shape[0];
  const wasTraining = model.training;
  model.train(false);
  const parts: Tensor<'float32'>[] = [];
  try {
    for (let s = 0; s < n; s += bs) parts.push(model.forward(X.rows(s, Math.min(n, s + bs))) as Tensor<'float32'>);
  } finally {
    model.train(wasTraining);
  }
  if (parts.length === 1) return parts[0];
  const cols = parts.length ? rowsCols(parts[0])[1] : 0;
  const out = new Float32Array(n * cols);
  let off = 0;
  for (const p of parts) {
    out.set(p.data, off);
    off += p.size;
  }
  return new Tensor(out, [n, cols], 'float32', n * cols);
}

/** Accuracy and mean cross-entropy of `model` on `data`. */
export function evaluate(model: Layer, data: Dataset, opts: { batchSize?: number } = {}): { accuracy: number; loss: number } {
  const fn = 'evaluate';
  if (!(model instanceof Layer)) throw typeError(fn, `model must be a Layer, got ${describe(model)}`);
  checkDataset(fn, 'data', data);
  positiveInt(fn, 'opts.batchSize', checkOpts<{ batchSize?: number }>(fn, opts).batchSize, 256);
  const logits = predict(model, data.x, opts);
  return { accuracy: accuracy(logits, data.y), loss: crossEntropy(logits, data.y, { grad: false }).loss };
}

/** Fraction of rows whose largest logit is the label. */
export function accuracy(logits: Tensor, labels: Int32Array): number {
  if (!(labels instanceof Int32Array)) throw typeError('accuracy', `labels must be an Int32Array, got ${describe(labels)}`);
  const pred = argmax(logits);
  if (pred.length !== labels.length) throw rangeError('accuracy', `${pred.length} predictions for ${labels.length} labels`);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) hit++;
  return pred.length ? hit / pred.length : 0;
}
