/**
 * Gradual magnitude pruning during training (Zhu & Gupta, 2017, "To prune, or not to prune"): every `frequency`
 * steps between `begin` and `end` the smallest-magnitude weights of each Linear are masked so that sparsity follows
 * the cubic schedule s(t) = s_f + (s_i − s_f)·(1 − (t − t₀)/(t₁ − t₀))³; the masks stay on the parameters, and the
 * optimizers keep masked weights at zero for the rest of fine-tuning.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { f32 } from './kernels.js';
import { Linear, Sequential } from './layers.js';

/** Options of {@link cubicSparsity}. */
export interface CubicScheduleOptions {
  /** Sparsity at `begin` (default 0). */
  initial?: number;
  /** Sparsity reached at `end`, in [0, 1). */
  final: number;
  /** First pruning step (default 0). */
  begin?: number;
  /** Step at which the final sparsity is reached. */
  end: number;
}

/** Target sparsity at `step` under the cubic schedule (constant before `begin` and after `end`). */
export function cubicSparsity(step: number, opts: CubicScheduleOptions): number {
  const fn = 'cubicSparsity';
  const si = opts.initial ?? 0;
  const sf = opts.final;
  const t0 = opts.begin ?? 0;
  const t1 = opts.end;
  if (typeof sf !== 'number' || !(sf >= 0 && sf < 1)) throw rangeError(fn, `final must be in [0, 1), got ${describe(sf)}`);
  if (!(si >= 0 && si <= sf)) throw rangeError(fn, `initial must be in [0, final], got ${describe(si)}`);
  if (!(Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0)) throw rangeError(fn, `need begin < end, got begin=${describe(t0)} end=${describe(t1)}`);
  if (step <= t0) return si;
  if (step >= t1) return sf;
  const r = 1 - (step - t0) / (t1 - t0);
  return sf + (si - sf) * r * r * r;
}

/**
 * A mask keeping the largest-magnitude (1 − sparsity) fraction of `w` (ties at the threshold are broken by
 * position, so exactly round(sparsity·n) entries are pruned). The sort runs natively (TypedArray sort); the O(n)
 * passes around it run a few times per training run, not per step.
 */
export function magnitudeMask(w: Tensor, sparsity: number): Tensor<'float32'> {
  const fn = 'magnitudeMask';
  const W = f32(fn, 'w', w);
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity < 1)) throw rangeError(fn, `sparsity must be in [0, 1), got ${describe(sparsity)}`);
  const n = W.size;
  const k = Math.round(sparsity * n);
  const mask = new Float32Array(n).fill(1);
  if (k > 0) {
    const mags = new Float32Array(n);
    for (let i = 0; i < n; i++) mags[i] = Math.abs(W.data[i]);
    const sorted = mags.slice().sort();
    const thr = sorted[k - 1];
    // Below the threshold: pruned. At it: pruned until k entries are gone.
    let below = 0;
    for (let i = 0; i < n; i++) if (mags[i] < thr) below++;
    let atLeft = k - below;
    for (let i = 0; i < n; i++) {
      if (mags[i] < thr) mask[i] = 0;
      else if (mags[i] === thr && atLeft > 0) {
        mask[i] = 0;
        atLeft--;
      }
    }
  }
  return new Tensor(mask, W.shape, 'float32', n);
}

/** Options of {@link GradualPruner}. */
export interface GradualPruneOptions {
  /** Final sparsity of each pruned layer's weight, in [0, 1). */
  sparsity: number;
  /** Sparsity at the first pruning step (default 0). */
  initial?: number;
  /** First pruning step (default 0). */
  begin?: number;
  /** Step at which `sparsity` is reached. */
  end: number;
  /** Steps between mask updates (default 1/10 of the pruning span, at least 1). */
  frequency?: number;
  /** Which Linear layers to prune: their indices among the model's Linears (default: all). */
  layers?: number[];
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
  private readonly opts: Required<Omit<GradualPruneOptions, 'layers'>>;
  private last = -1;

  constructor(model: Sequential, opts: GradualPruneOptions) {
    const fn = 'GradualPruner';
    if (!(model instanceof Sequential)) throw typeError(fn, `model must be a Sequential, got ${describe(model)}`);
    const lin = model.linears();
    const idx = opts.layers ?? lin.map((_, i) => i);
    this.targets = idx.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= lin.length) throw rangeError(fn, `layers lists ${describe(i)}, the model has ${lin.length} Linear layers`);
      if (!lin[i].weight) throw rangeError(fn, `Linear ${i} has no float32 weight to prune`);
      return lin[i];
    });
    const begin = opts.begin ?? 0;
    const span = opts.end - begin;
    const frequency = opts.frequency ?? Math.max(1, Math.floor(span / 10));
    if (!Number.isInteger(frequency) || frequency < 1) throw rangeError(fn, `frequency must be a positive integer, got ${describe(frequency)}`);
    this.opts = { sparsity: opts.sparsity, initial: opts.initial ?? 0, begin, end: opts.end, frequency };
    cubicSparsity(begin, { initial: this.opts.initial, final: this.opts.sparsity, begin, end: opts.end }); // validates
  }

  /** The schedule's sparsity at `step`. */
  target(step: number): number {
    const o = this.opts;
    return cubicSparsity(step, { initial: o.initial, final: o.sparsity, begin: o.begin, end: o.end });
  }

  /** Updates the masks if `step` is a pruning step (begin, begin + frequency, ..., and end). */
  step(step: number): void {
    const o = this.opts;
    if (step < o.begin || step > o.end || step === this.last) return;
    if ((step - o.begin) % o.frequency !== 0 && step !== o.end) return;
    this.last = step;
    this.applyNow(this.target(step));
  }

  /** Masks every target to `sparsity` now (magnitude-based). */
  applyNow(sparsity: number): void {
    for (const l of this.targets) l.weight!.setMask(magnitudeMask(l.weight!.value, sparsity));
  }

  /** Fraction of zero weights over the targets. */
  sparsity(): number {
    let zeros = 0;
    let n = 0;
    for (const l of this.targets) {
      const d = l.weight!.value.data;
      for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
      n += d.length;
    }
    return n ? zeros / n : 0;
  }
}

/** Fraction of exactly-zero weights in a model's float32 Linear weights. */
export function modelSparsity(model: Sequential): number {
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
