/**
 * Magnitude pruning of float32 weights: unstructured (global or per row), N:M along the input dimension, and
 * blocks; plus the cubic gradual-pruning schedule of Zhu & Gupta (2017) for training loops. The ranking and
 * masking run in native code (runtime/sparse/prune.cc).
 * @module
 */
import { describe, ownKey, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';

/** Pruning pattern. */
export type PrunePattern = 'unstructured' | 'n:m' | 'block';
/** Ranking: by |w| over the whole matrix, or within each row (each block row for 'block'). */
export type PruneCriterion = 'magnitude' | 'magnitude-global' | 'magnitude-row';

/** Options of {@link prune}. */
export interface PruneOptions {
  /** Fraction of entries (unstructured) or blocks (block) to zero, in [0, 1]. Implied by n/m for 'n:m'. */
  sparsity?: number;
  /**
   * 'unstructured' (default), 'n:m' (with `nm`, default [2, 4]) or 'block' (with `block`, default [1, 16]).
   * Shorthands: '2:4', '4:8', ... for n:m and '1x16', '4x4', ... for blocks.
   */
  pattern?: PrunePattern | `${number}:${number}` | `${number}x${number}`;
  /** [n, m]: keep the n largest of every m consecutive inputs (1 <= n <= m <= 16; in % m == 0). */
  nm?: readonly [number, number];
  /** [rows, cols] of each block (1..64 each); edge blocks may be partial. */
  block?: readonly [number, number];
  /** 'magnitude' / 'magnitude-global' (default): rank over the whole matrix; 'magnitude-row': within each row. */
  criterion?: PruneCriterion;
}

/** Result of {@link prune}. */
export interface PruneResult {
  /** The pruned weights (a new tensor; w is not modified). */
  weight: Tensor<'float32'>;
  /** 1 where the weight was kept, 0 where it was pruned (uint8, same shape). */
  mask: Tensor<'uint8'>;
  /** Exactly zeros / size of `weight` (pruned entries plus kept entries that were already 0). */
  sparsity: number;
  /** Number of zero entries in `weight`. */
  zeros: number;
  /** Number of pruned (mask = 0) entries. */
  pruned: number;
}

const PATTERN_CODE = { unstructured: 0, 'n:m': 1, block: 2 } as const;

function parsePattern(fn: string, opts: PruneOptions): { code: 0 | 1 | 2; a: number; b: number } {
  const p = opts.pattern ?? 'unstructured';
  if (typeof p !== 'string') throw typeError(fn, `pattern must be a string, got ${describe(p)}`);
  let nm = opts.nm;
  let block = opts.block;
  let code: 0 | 1 | 2;
  let mt: RegExpMatchArray | null;
  if ((mt = /^(\d+):(\d+)$/.exec(p))) {
    code = 1;
    nm = [Number(mt[1]), Number(mt[2])];
  } else if ((mt = /^(\d+)x(\d+)$/.exec(p))) {
    code = 2;
    block = [Number(mt[1]), Number(mt[2])];
  } else if (ownKey(PATTERN_CODE, p)) {
    code = PATTERN_CODE[p as PrunePattern];
  } else {
    throw typeError(fn, `pattern must be 'unstructured', 'n:m', 'block' or a shorthand like '2:4' or '1x16', got ${describe(p)}`);
  }
  const pair = (arg: string, v: unknown, def: [number, number], hi: number): [number, number] => {
    const x = v ?? def;
    if (!Array.isArray(x) || x.length !== 2 || !x.every((e) => Number.isInteger(e)))
      throw typeError(fn, `${arg} must be a pair of integers, got ${describe(x)}`);
    if (x[0] < 1 || x[1] < 1 || x[0] > hi || x[1] > hi) throw rangeError(fn, `${arg} [${x[0]}, ${x[1]}] must be within [1, ${hi}]`);
    return [x[0], x[1]];
  };
  if (code === 1) {
    const [a, b] = pair('nm', nm, [2, 4], 16);
    if (a > b) throw rangeError(fn, `nm [${a}, ${b}]: n must not exceed m`);
    return { code, a, b };
  }
  if (code === 2) {
    const [a, b] = pair('block', block, [1, 16], 64);
    return { code, a, b };
  }
  return { code, a: 0, b: 0 };
}

/**
 * Prunes the smallest-magnitude weights of a 2-D float32 tensor ([out, in]) to the requested pattern and returns
 * the pruned copy, its mask and the exactly achieved sparsity. Ties at the threshold are pruned in index order, so
 * the result is deterministic and the pruned count is exactly round(sparsity × count) entries (or blocks).
 * NaN weights rank as the largest and are never pruned.
 */
export function prune(w: Tensor, opts: PruneOptions | null = {}): PruneResult {
  opts = options('prune', opts);
  const fn = 'prune';
  checkTensor(fn, 'w', w);
  if (w.dtype !== 'float32') throw typeError(fn, `w.dtype must be float32, got ${w.dtype}`);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${w.shape.join(', ')}]`);
  if (typeof opts !== 'object' || opts === null) throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
  const { code, a, b } = parsePattern(fn, opts);
  const [n, k] = w.shape;
  let sparsity = opts.sparsity;
  if (code === 1) {
    if (k % b !== 0) throw rangeError(fn, `w.shape[1] (${k}) must be a multiple of m (${b}) for n:m pruning`);
    const implied = 1 - a / b;
    if (sparsity !== undefined && Math.abs(sparsity - implied) > 1e-9)
      throw rangeError(fn, `sparsity (${sparsity}) contradicts n:m ${a}:${b}, which prunes exactly ${implied}`);
    sparsity = implied;
  } else {
    if (sparsity === undefined) throw typeError(fn, `sparsity is required for pattern '${opts.pattern ?? 'unstructured'}'`);
    if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity <= 1)) throw rangeError(fn, `sparsity must be a number in [0, 1], got ${describe(sparsity)}`);
  }
  const crit = opts.criterion ?? 'magnitude';
  if (crit !== 'magnitude' && crit !== 'magnitude-global' && crit !== 'magnitude-row')
    throw typeError(fn, `criterion must be 'magnitude', 'magnitude-global' or 'magnitude-row', got ${describe(crit)}`);
  const out = new Float32Array(n * k);
  const mask = new Uint8Array(n * k);
  const zeros = native.pruneF32(w.data as Float32Array, n, k, code, sparsity, crit === 'magnitude-row', a, b, out, mask);
  let kept = 0;
  for (let i = 0; i < mask.length; i++) kept += mask[i];
  const size = n * k;
  return {
    weight: new Tensor(out, [n, k], 'float32', size),
    mask: new Tensor(mask, [n, k], 'uint8', size),
    sparsity: size === 0 ? 0 : zeros / size,
    zeros,
    pruned: size - kept,
  };
}

/** Options of {@link cubicSparsity} / {@link gradualPruning}. */
export interface GradualPruningOptions {
  /** Sparsity at `beginStep` (s_i), default 0. */
  initialSparsity?: number;
  /** Sparsity reached at `endStep` and kept after (s_f). */
  finalSparsity: number;
  /** First pruning step (t_0), default 0. */
  beginStep?: number;
  /** Last pruning step (t_0 + nΔt). */
  endStep: number;
  /** Prune every `frequency` steps (Δt), default 1. */
  frequency?: number;
}

function checkSchedule(fn: string, o: GradualPruningOptions): Required<GradualPruningOptions> {
  if (typeof o !== 'object' || o === null) throw typeError(fn, `opts must be an object, got ${describe(o)}`);
  const si = o.initialSparsity ?? 0;
  const sf = o.finalSparsity;
  const t0 = o.beginStep ?? 0;
  const t1 = o.endStep;
  const dt = o.frequency ?? 1;
  for (const [name, v] of [['initialSparsity', si], ['finalSparsity', sf]] as const)
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw rangeError(fn, `${name} must be a number in [0, 1], got ${describe(v)}`);
  for (const [name, v] of [['beginStep', t0], ['endStep', t1], ['frequency', dt]] as const)
    if (!Number.isInteger(v) || (v as number) < 0) throw rangeError(fn, `${name} must be a non-negative integer, got ${describe(v)}`);
  if (dt < 1) throw rangeError(fn, `frequency must be >= 1, got ${dt}`);
  if (t1 < t0) throw rangeError(fn, `endStep (${t1}) must be >= beginStep (${t0})`);
  return { initialSparsity: si, finalSparsity: sf, beginStep: t0, endStep: t1, frequency: dt };
}

function cubic(o: Required<GradualPruningOptions>, step: number): number {
  const { initialSparsity: si, finalSparsity: sf, beginStep: t0, endStep: t1, frequency: dt } = o;
  if (step < t0) return si;
  if (step >= t1 || t1 === t0) return sf;
  // Held constant between pruning steps: the last multiple of Δt at or before `step`.
  const t = t0 + Math.floor((step - t0) / dt) * dt;
  const frac = 1 - (t - t0) / (t1 - t0);
  return sf + (si - sf) * frac * frac * frac;
}

/**
 * The cubic schedule of Zhu & Gupta (2017), "To prune, or not to prune": s_t = s_f + (s_i − s_f)(1 − (t − t_0)/(nΔt))³
 * at pruning steps t = t_0, t_0 + Δt, …, t_0 + nΔt (held between them); s_i before t_0 and s_f after.
 */
export function cubicSparsity(step: number, opts: GradualPruningOptions): number {
  const fn = 'cubicSparsity';
  if (!Number.isInteger(step) || step < 0) throw rangeError(fn, `step must be a non-negative integer, got ${describe(step)}`);
  return cubic(checkSchedule(fn, opts), step);
}

/** A gradual pruning schedule for a training loop: when to prune and to what sparsity. */
export interface GradualPruning {
  /** Target sparsity at `step` (see {@link cubicSparsity}). */
  sparsityAt(step: number): number;
  /** True on the steps where the weights should be pruned again (t_0, t_0 + Δt, …, up to and including endStep). */
  isPruneStep(step: number): boolean;
}

/**
 * Makes a {@link GradualPruning} schedule. Typical use: after each optimizer step `t`, if `isPruneStep(t)` then
 * `prune(w, { sparsity: sparsityAt(t), ... })` and keep applying the mask until the next prune step.
 */
export function gradualPruning(opts: GradualPruningOptions): GradualPruning {
  const o = checkSchedule('gradualPruning', opts);
  return {
    sparsityAt: (step: number) => {
      if (!Number.isInteger(step) || step < 0) throw rangeError('sparsityAt', `step must be a non-negative integer, got ${describe(step)}`);
      return cubic(o, step);
    },
    isPruneStep: (step: number) => {
      // Checked as sparsityAt checks it: a Symbol or a BigInt would throw V8's own conversion error below.
      if (!Number.isInteger(step) || step < 0) throw rangeError('isPruneStep', `step must be a non-negative integer, got ${describe(step)}`);
      return step >= o.beginStep && step <= o.endStep && ((step - o.beginStep) % o.frequency === 0 || step === o.endStep);
    },
  };
}
