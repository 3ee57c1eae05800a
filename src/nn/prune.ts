/**
 * Pruning in training, on the package's pruning and sparse modules: gradual magnitude pruning of a model's Linear
 * weights during fine-tuning (the cubic schedule of Zhu & Gupta, 2017, from `gradualPruning`; masks from the
 * native `prune`, kept on the parameters so the optimizers hold pruned weights at zero), conversion of the pruned
 * weights to sparse storage for inference, and the model-file codec for sparse weights.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { gradualPruning, GradualPruning, prune, PruneCriterion, PruneOptions } from '../sparse/index.js';
import { sparseBsr, sparseCsr, sparseNm, SparseTensor, toSparse, ToSparseOptions } from '../sparse/index.js';
import { Tensor } from '../tensor.js';
import { Linear, Sequential } from './layers.js';
import { registerWeightCodec } from './serialize.js';

/** Options of {@link GradualPruner}. */
export interface GradualPruneOptions {
  /** Final sparsity of each pruned layer's weight, in [0, 1]. */
  sparsity: number;
  /** Sparsity at the first pruning step (default 0). */
  initial?: number;
  /** First pruning step (default 0; steps count optimizer updates from 1). */
  begin?: number;
  /** Step at which `sparsity` is reached. */
  end: number;
  /** Steps between mask updates (default 1/10 of the pruning span, at least 1). */
  frequency?: number;
  /** Which Linear layers to prune: their indices among the model's Linears (default: all). */
  layers?: number[];
  /** Pruning pattern (default 'unstructured'); see `prune`. */
  pattern?: PruneOptions['pattern'];
  /** Ranking (default 'magnitude': over each whole weight matrix); see `prune`. */
  criterion?: PruneCriterion;
}

/**
 * Drives gradual magnitude pruning of a model's Linear weights: call {@link GradualPruner.step} after each
 * optimizer step (pass it as `onStep` to `fit` or `distill`). Each update recomputes the masks from the current
 * magnitudes; masked weights are held at zero by the optimizer, so pruned weights stay pruned and each update
 * prunes further among the survivors.
 */
export class GradualPruner {
  /** The layers being pruned. */
  readonly targets: Linear[];
  /** The schedule (sparsity per step, and which steps prune). */
  readonly schedule: GradualPruning;
  private readonly pattern: PruneOptions['pattern'];
  private readonly criterion: PruneCriterion | undefined;
  private last = -1;

  constructor(model: Sequential, opts: GradualPruneOptions) {
    const fn = 'GradualPruner';
    if (!(model instanceof Sequential)) throw typeError(fn, `model must be a Sequential, got ${describe(model)}`);
    if (!opts || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
    const lin = model.linears();
    const idx = opts.layers ?? lin.map((_, i) => i);
    this.targets = idx.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= lin.length) throw rangeError(fn, `layers lists ${describe(i)}, the model has ${lin.length} Linear layers`);
      if (!lin[i].weight) throw rangeError(fn, `Linear ${i} has no float32 weight to prune`);
      return lin[i];
    });
    const begin = opts.begin ?? 0;
    const frequency = opts.frequency ?? Math.max(1, Math.floor((opts.end - begin) / 10));
    this.schedule = gradualPruning({ initialSparsity: opts.initial ?? 0, finalSparsity: opts.sparsity, beginStep: begin, endStep: opts.end, frequency });
    this.pattern = opts.pattern;
    this.criterion = opts.criterion;
  }

  /** The schedule's sparsity at `step`. */
  target(step: number): number {
    return this.schedule.sparsityAt(step);
  }

  /** Updates the masks if `step` is a pruning step. */
  step(step: number): void {
    if (step === this.last || !this.schedule.isPruneStep(step)) return;
    this.last = step;
    this.applyNow(this.schedule.sparsityAt(step));
  }

  /** Masks every target to `sparsity` now. */
  applyNow(sparsity: number): void {
    for (const l of this.targets) {
      const r = prune(l.weight!.value, { sparsity, pattern: this.pattern, criterion: this.criterion });
      // The optimizer kernels take a float32 mask (one multiply per update); the conversion is O(weights) per
      // pruning step, a few times per run.
      l.weight!.setMask(r.mask.to('float32') as Tensor<'float32'>);
    }
  }
}

/** Fraction of exactly-zero weights in a model's float32 Linear weights. */
export function modelSparsity(model: Sequential): number {
  if (!(model instanceof Sequential)) throw typeError('modelSparsity', `model must be a Sequential, got ${describe(model)}`);
  let zeros = 0;
  let n = 0;
  for (const l of model.linears()) {
    if (!l.weight) continue;
    const d = l.weight.value.data;
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    n += d.length;
  }
  return n ? zeros / n : 0;
}

/**
 * Stores every Linear weight of `model` in a sparse format for inference (CSR by default; the float32 masters
 * stay for further training) and returns the model. `linear` then runs the sparse kernels, or the dense GEMM
 * where its crossover table says that is faster.
 */
export function sparsifyModel(model: Sequential, opts: ToSparseOptions | null = {}): Sequential {
  opts = options('sparsifyModel', opts);
  // opts.dtype 'int8' quantizes each row symmetrically (zeros stay zeros) for the int8 sparse kernels.
  if (!(model instanceof Sequential)) throw typeError('sparsifyModel', `model must be a Sequential, got ${describe(model)}`);
  for (const l of model.linears()) {
    if (!l.weight) throw rangeError('sparsifyModel', `a Linear layer has no float32 weight (it is ${l.format})`);
    l.setKernelWeight(toSparse(l.weight.value, opts));
  }
  return model;
}

const i32 = (a: Int32Array | Uint16Array): Tensor => {
  const v = a instanceof Int32Array ? a : Int32Array.from(a);
  return new Tensor(v, [v.length], 'int32', v.length);
};

registerWeightCodec({
  format: 'sparse',
  match: (w) => w instanceof SparseTensor,
  encode: (w): { tensors: Record<string, Tensor>; meta: Record<string, unknown> } => {
    const s = w as SparseTensor;
    const nv = s.values.length;
    // int8 sparse weights (pruned and quantized) carry their per-row scales.
    const vals: Record<string, Tensor> = s.values instanceof Int8Array ? { values: new Tensor(s.values, [nv], 'int8', nv), scales: new Tensor(s.scales!, [s.scales!.length], 'float32', s.scales!.length) } : { values: new Tensor(s.values, [nv], 'float32', nv) };
    if (s.format === 'nm') return { tensors: { ...vals, indices: new Tensor(s.indices!, [s.indices!.length], 'uint8', s.indices!.length) }, meta: { format: 'nm', nm: s.nm } };
    // Column indices are written as int32 (the file format has no uint16 integers); the loader narrows them again.
    return { tensors: { ...vals, rowPtr: i32(s.rowPtr!), colIdx: i32(s.colIdx!) }, meta: { format: s.format, block: s.blockShape } };
  },
  decode: (t, meta, shape) => {
    const need = (name: string, dtype: string): Tensor => {
      const x = t[name];
      if (!x || x.dtype !== dtype || x.ndim !== 1) throw rangeError('loadModel', `a sparse weight needs a 1-D ${dtype} '${name}'`);
      return x;
    };
    const v8 = t['values'];
    const values = v8 && v8.dtype === 'int8' && v8.ndim === 1 ? (v8.data as Int8Array) : (need('values', 'float32').data as Float32Array);
    const scales = values instanceof Int8Array ? (need('scales', 'float32').data as Float32Array) : undefined;
    for (const k of Object.keys(t))
      if (!['values', 'scales', 'indices', 'rowPtr', 'colIdx'].includes(k)) throw rangeError('loadModel', `unexpected sparse weight part '${k}'`);
    const narrow = (c: Int32Array, limit: number) => (limit <= 65536 ? Uint16Array.from(c) : c);
    // The factories validate every array (offsets, sorted in-range indices, sizes).
    if (meta.format === 'nm') {
      const nm = meta.nm as [number, number];
      return sparseNm({ shape, nm, values, scales, indices: need('indices', 'uint8').data as Uint8Array });
    }
    const rowPtr = need('rowPtr', 'int32').data as Int32Array;
    const colIdx = need('colIdx', 'int32').data as Int32Array;
    if (meta.format === 'bsr') {
      const block = meta.block as [number, number];
      if (!Array.isArray(block) || block.length !== 2) throw rangeError('loadModel', 'a BSR weight needs its block shape');
      return sparseBsr({ shape, blockShape: block, rowPtr, colIdx: narrow(colIdx, Math.ceil(shape[1] / block[1])), values, scales });
    }
    if (meta.format !== 'csr') throw rangeError('loadModel', `unknown sparse format ${describe(meta.format)}`);
    return sparseCsr({ shape, rowPtr, colIdx: narrow(colIdx, shape[1]), values, scales });
  },
});
