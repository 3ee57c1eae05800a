/**
 * Optimizers (SGD with momentum, AdamW) whose updates run on the native training kernels, and learning-rate
 * schedules. Pruning masks held by parameters are applied inside the update, so pruned weights stay zero.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkOpts, finiteNumber, positiveInt } from './check.js';
import { Parameter } from './layers.js';
import { train } from './kernels.js';

function num(fn: string, arg: string, v: unknown, lo: number, hi: number, def: number, loOpen = false): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || (loOpen ? x <= lo : x < lo) || x > hi)
    throw rangeError(fn, `${arg} must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${describe(v)}`);
  return x;
}

function checkParams(fn: string, params: unknown): Parameter[] {
  if (!Array.isArray(params)) throw typeError(fn, `params must be an array of Parameters, got ${describe(params)}`);
  params.forEach((p, i) => {
    if (!(p instanceof Parameter)) throw typeError(fn, `params[${i}] must be a Parameter, got ${describe(p)}`);
  });
  return params;
}

/** Common interface of the optimizers. */
export abstract class Optimizer {
  /** The parameters updated by {@link Optimizer.step}. */
  readonly params: Parameter[];
  /** Base learning rate (a schedule multiplies it). */
  lr: number;
  /** Steps taken. */
  steps = 0;
  constructor(fn: string, params: Parameter[], lr: number) {
    this.params = checkParams(fn, params);
    this.lr = num(fn, 'lr', lr, 0, Infinity, 0);
  }
  /** Applies one update from the parameters' current gradients, at `lr` (default: the base rate). */
  abstract step(lr?: number): void;
}

/** Options of {@link SGD}. */
export interface SgdOptions {
  /** Learning rate (default 0.1). */
  lr?: number;
  /** Momentum in [0, 1) (default 0.9). */
  momentum?: number;
  /** L2 weight decay added to the gradient of parameters with `decay` (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/** Stochastic gradient descent with (optionally Nesterov) momentum and L2 weight decay. */
export class SGD extends Optimizer {
  /** Momentum factor. */
  readonly momentum: number;
  /** Weight decay. */
  readonly weightDecay: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  constructor(params: Parameter[], opts: SgdOptions | null = {}) {
    opts = options('SGD', opts);
    const fn = 'SGD';
    opts = checkOpts<SgdOptions>(fn, opts);
    super(fn, params, opts.lr ?? 0.1);
    this.momentum = num(fn, 'momentum', opts.momentum, 0, 0.999999, 0.9);
    this.weightDecay = num(fn, 'weightDecay', opts.weightDecay, 0, Infinity, 0);
    this.nesterov = !!opts.nesterov;
  }
  step(lr = this.lr): void {
    this.steps++;
    for (const p of this.params) {
      let v: Float32Array | null = null;
      if (this.momentum > 0) {
        v = p.state.get('sgd.v') ?? null;
        if (!v) p.state.set('sgd.v', (v = new Float32Array(p.value.size)));
      }
      const wd = p.decay ? this.weightDecay : 0;
      train.sgdStep(p.value.data, p.grad.data, v, p.value.size, lr, this.momentum, wd, this.nesterov, p.mask ? p.mask.data : null);
      p.version++;
    }
  }
}

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** β1, β2 (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to √v̂ (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay for parameters with `decay` (default 0.01). */
  weightDecay?: number;
}

/** Adam with decoupled weight decay (Loshchilov & Hutter, 2019). */
export class AdamW extends Optimizer {
  /** β1. */
  readonly beta1: number;
  /** β2. */
  readonly beta2: number;
  /** ε. */
  readonly eps: number;
  /** Decoupled weight decay. */
  readonly weightDecay: number;
  constructor(params: Parameter[], opts: AdamWOptions | null = {}) {
    opts = options('AdamW', opts);
    const fn = 'AdamW';
    opts = checkOpts<AdamWOptions>(fn, opts);
    super(fn, params, opts.lr ?? 1e-3);
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw typeError(fn, `betas must be [beta1, beta2], got ${describe(betas)}`);
    this.beta1 = num(fn, 'betas[0]', betas[0], 0, 0.999999, 0.9);
    this.beta2 = num(fn, 'betas[1]', betas[1], 0, 0.999999999, 0.999);
    this.eps = num(fn, 'eps', opts.eps, 0, 1, 1e-8, true);
    this.weightDecay = num(fn, 'weightDecay', opts.weightDecay, 0, Infinity, 0.01);
  }
  step(lr = this.lr): void {
    this.steps++;
    const bc1 = 1 - Math.pow(this.beta1, this.steps);
    const bc2 = 1 - Math.pow(this.beta2, this.steps);
    for (const p of this.params) {
      let m = p.state.get('adam.m');
      let v = p.state.get('adam.v');
      if (!m) p.state.set('adam.m', (m = new Float32Array(p.value.size)));
      if (!v) p.state.set('adam.v', (v = new Float32Array(p.value.size)));
      const wd = p.decay ? this.weightDecay : 0;
      train.adamwStep(p.value.data, p.grad.data, m, v, p.value.size, lr, this.beta1, this.beta2, this.eps, wd, bc1, bc2, p.mask ? p.mask.data : null);
      p.version++;
    }
  }
}

/** An optimizer given by name and options (as the training options and the CLI take it). */
export type OptimizerSpec = ({ type: 'sgd' } & SgdOptions) | ({ type: 'adamw' } & AdamWOptions);

/** Builds an optimizer from a spec. */
export function makeOptimizer(params: Parameter[], spec: OptimizerSpec): Optimizer {
  if (spec?.type === 'sgd') return new SGD(params, spec);
  if (spec?.type === 'adamw') return new AdamW(params, spec);
  throw typeError('makeOptimizer', `spec.type must be 'sgd' or 'adamw', got ${describe((spec as { type?: unknown })?.type)}`);
}

/** A learning-rate schedule: the factor applied to the base rate at `step` of `total` steps. */
export type Schedule = (step: number, total: number) => number;

/** Options of the schedules. */
export interface ScheduleOptions {
  /** Steps of linear warm-up from 0 (default 0); a number in (0, 1) is a fraction of the total. */
  warmup?: number;
  /** Final factor (cosine and linear; default 0). */
  min?: number;
}

function warmupSteps(warmup: number | undefined, total: number): number {
  const w = warmup ?? 0;
  if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) throw rangeError('schedule', `warmup must be a number >= 0, got ${describe(warmup)}`);
  return w > 0 && w < 1 ? Math.round(w * total) : Math.floor(w);
}

/** The schedules: constant, cosine decay, linear decay, step decay; all with optional linear warm-up. */
function scheduleOpts<T extends ScheduleOptions>(fn: string, opts: unknown): Partial<T> & { min: number } {
  const o = checkOpts<T>(fn, opts);
  warmupSteps(o.warmup, 1); // checked once here, not first at step 0 of a fit
  return { ...o, min: finiteNumber(fn, 'opts.min', o.min, 0, 1, 0) };
}

export const schedules = {
  /** Factor 1 (after warm-up). */
  constant(opts: ScheduleOptions | null = {}): Schedule {
    opts = scheduleOpts('schedules.constant', opts);
    return (step, total) => {
      const w = warmupSteps(opts.warmup, total);
      return w > 0 && step < w ? (step + 1) / w : 1;
    };
  },
  /** Cosine from 1 to `min` over the steps after warm-up (Loshchilov & Hutter, 2017, without restarts). */
  cosine(opts: ScheduleOptions | null = {}): Schedule {
    const o = scheduleOpts('schedules.cosine', opts);
    opts = o;
    const min = o.min;
    return (step, total) => {
      const w = warmupSteps(opts.warmup, total);
      if (w > 0 && step < w) return (step + 1) / w;
      const t = Math.min(1, (step - w) / Math.max(1, total - w));
      return min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * t));
    };
  },
  /** Linear from 1 to `min` after warm-up. */
  linear(opts: ScheduleOptions | null = {}): Schedule {
    const o = scheduleOpts('schedules.linear', opts);
    opts = o;
    const min = o.min;
    return (step, total) => {
      const w = warmupSteps(opts.warmup, total);
      if (w > 0 && step < w) return (step + 1) / w;
      return 1 - (1 - min) * Math.min(1, (step - w) / Math.max(1, total - w));
    };
  },
  /** Multiplies by `gamma` every `every` steps (after warm-up). */
  step(opts: ScheduleOptions & { every: number; gamma?: number }): Schedule {
    if (opts === undefined || opts === null) throw typeError('schedules.step', `opts must be { every: number, gamma?: number }, got ${describe(opts)}`);
    opts = { ...scheduleOpts<ScheduleOptions & { every: number; gamma?: number }>('schedules.step', opts), every: opts.every } as ScheduleOptions & { every: number; gamma?: number };
    const gamma = finiteNumber('schedules.step', 'opts.gamma', opts.gamma, 0, Number.MAX_VALUE, 0.1);
    positiveInt('schedules.step', 'opts.every', opts.every);
    return (step, total) => {
      const w = warmupSteps(opts.warmup, total);
      if (w > 0 && step < w) return (step + 1) / w;
      return Math.pow(gamma, Math.floor((step - w) / opts.every));
    };
  },
};
