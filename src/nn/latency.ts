/**
 * Inference latency of a model on the package's kernels: warm-up calls, then timed blocks of calls, reported as
 * the median per-call time (with the 10th and 90th percentiles) and the throughput it implies.
 * @module
 */
import { rangeError, typeError, options } from '../errors.js';
import { checkOpts, finiteNumber, nonNegativeInt, positiveInt } from './check.js';
import { Tensor } from '../tensor.js';
import { f32 } from './kernels.js';
import { Layer } from './layers.js';

/** One latency measurement. */
export interface Latency {
  /** Rows per call. */
  batch: number;
  /** Median milliseconds per call over the timed blocks. */
  medianMs: number;
  /** 10th percentile of the per-block milliseconds per call. */
  p10Ms: number;
  /** 90th percentile. */
  p90Ms: number;
  /** Rows per second at the median: batch / median. */
  throughput: number;
  /** Timed blocks (each one's per-call time is a sample). */
  blocks: number;
  /** Calls per block. */
  callsPerBlock: number;
}

/** Options of {@link measureLatency}. */
export interface LatencyOptions {
  /** Timed blocks (default 30). */
  blocks?: number;
  /** Minimum milliseconds per block; calls per block are chosen to reach it (default 2). */
  blockMs?: number;
  /** Warm-up calls before timing (default 20). */
  warmup?: number;
}

/** Validated {@link LatencyOptions} with their defaults (a NaN or infinite blockMs would never end a probe). */
function latencyOptions(fn: string, opts: unknown): Required<LatencyOptions> {
  const o = checkOpts<LatencyOptions>(fn, opts);
  const blocks = positiveInt(fn, 'opts.blocks', o.blocks, 30);
  if (blocks > 1e6) throw rangeError(fn, `opts.blocks must be at most 1000000, got ${blocks}`);
  const warmup = nonNegativeInt(fn, 'opts.warmup', o.warmup, 20);
  if (warmup > 1e6) throw rangeError(fn, `opts.warmup must be at most 1000000, got ${warmup}`);
  return { blocks, warmup, blockMs: finiteNumber(fn, 'opts.blockMs', o.blockMs, 0, 60000, 2) };
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * Times `model.forward(x)` in inference mode, where `x` is [batch, features]. Medians, not bests: on a shared
 * machine the median of many blocks is the number that repeats.
 */
export function measureLatency(model: Layer, x: Tensor, opts: LatencyOptions | null = {}): Latency {
  opts = options('measureLatency', opts);
  const fn = 'measureLatency';
  if (!(model instanceof Layer)) throw typeError(fn, 'model must be a Layer');
  return timeModels(fn, [model], x, opts)[0];
}

/**
 * Latencies of several models on the same input, measured in interleaved rounds (one block of each model per
 * round) so that load from other processes falls on all of them alike. Same options as {@link measureLatency}.
 */
export function measureLatencies(models: Layer[], x: Tensor, opts: LatencyOptions | null = {}): Latency[] {
  opts = options('measureLatencies', opts);
  const fn = 'measureLatencies';
  if (!Array.isArray(models) || !models.every((m) => m instanceof Layer)) throw typeError(fn, 'models must be an array of Layers');
  return timeModels(fn, models, x, opts);
}

/** The timing shared by {@link measureLatency} and {@link measureLatencies}: interleaved blocks per model. */
function timeModels(fn: string, models: Layer[], x: Tensor, opts: LatencyOptions): Latency[] {
  const X = f32(fn, 'x', x);
  if (X.ndim !== 2 || X.shape[0] < 1) throw rangeError(fn, `x must be [batch >= 1, features], got [${X.shape.join(', ')}]`);
  const { blocks, blockMs, warmup } = latencyOptions(fn, opts);
  const modes = models.map((m) => m.training);
  models.forEach((m) => m.train(false));
  try {
    const calls = models.map((m) => {
      for (let i = 0; i < warmup; i++) m.forward(X);
      let c = 1;
      for (;;) {
        const t0 = performance.now();
        for (let i = 0; i < c; i++) m.forward(X);
        const dt = performance.now() - t0;
        if (dt >= blockMs / 4 || c >= 1 << 20) return Math.max(1, Math.ceil((c * blockMs) / Math.max(dt, 1e-3)));
        c *= 4;
      }
    });
    const samples: number[][] = models.map(() => []);
    for (let b = 0; b < blocks; b++) {
      models.forEach((m, k) => {
        const t0 = performance.now();
        for (let i = 0; i < calls[k]; i++) m.forward(X);
        samples[k].push((performance.now() - t0) / calls[k]);
      });
    }
    const batch = X.shape[0];
    return samples.map((s, k) => {
      s.sort((a, b) => a - b);
      const med = quantile(s, 0.5);
      return { batch, medianMs: med, p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9), throughput: (batch * 1000) / med, blocks, callsPerBlock: calls[k] };
    });
  } finally {
    models.forEach((m, k) => m.train(modes[k]));
  }
}
