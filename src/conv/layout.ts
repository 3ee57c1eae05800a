/**
 * Layout change of 4-D images between NCHW and NHWC (in-register tiled transposes, the same kernel the NCHW conv,
 * depthwise and pooling paths use), e.g. for a layout pass that runs a model NHWC end to end.
 * @module
 */
import { describe, typeError } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkSignal } from '../ops/registry.js';
import type { AsyncOptions } from '../ops/registry.js';
import { f32Tensor, imageDims, imageOut, imageShape, timedRun, timedRunAsync } from './window.js';

/** Options of {@link nchwToNhwc} and {@link nhwcToNchw}. */
export interface LayoutOptions {
  /** Preallocated output (float32, exact shape; must not overlap x). */
  out?: Tensor;
}

function plan(fn: string, toNhwc: boolean, x: unknown, options: LayoutOptions | null | undefined) {
  const opts = options ?? {};  // null / undefined options mean no options (the API contract)
  if (typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
  const X = f32Tensor(fn, 'x', x);
  const d = imageDims(fn, 'x', X, !toNhwc);
  const out = imageOut(fn, opts.out, imageShape(toNhwc, d.n, d.c, d.h, d.w), X);
  const hw = d.h * d.w;
  // NCHW → NHWC transposes each image's [C, H·W] matrix; NHWC → NCHW its [H·W, C] matrix.
  return { x: X, out, params: toNhwc ? Int32Array.of(d.n, d.c, hw) : Int32Array.of(d.n, hw, d.c) };
}

function run(fn: string, toNhwc: boolean, x: Tensor, opts: LayoutOptions | null): Tensor {
  const p = plan(fn, toNhwc, x, opts);
  return timedRun(fn, fn, () => native.transposeBatched(p.x.data, p.out.data, p.params), p.out);
}

async function runAsync(fn: string, op: string, toNhwc: boolean, x: Tensor, opts: (LayoutOptions & AsyncOptions) | null): Promise<Tensor> {
  const p = plan(fn, toNhwc, x, opts);
  const signal = checkSignal(fn, opts?.signal);
  return timedRunAsync(fn, op, signal, (id) => native.transposeBatchedAsync(p.x.data, p.out.data, p.params, id), p.out);
}

/** [N, C, H, W] → [N, H, W, C] (float32; a new tensor, or `opts.out`). */
export function nchwToNhwc(x: Tensor, opts: LayoutOptions | null = {}): Tensor {
  return run('nchwToNhwc', true, x, opts);
}
/** [N, H, W, C] → [N, C, H, W] (float32; a new tensor, or `opts.out`). */
export function nhwcToNchw(x: Tensor, opts: LayoutOptions | null = {}): Tensor {
  return run('nhwcToNchw', false, x, opts);
}
/** The async form of {@link nchwToNhwc} (on simdtensor's threads; `out` is handed back only when done). */
export function nchwToNhwcAsync(x: Tensor, opts: (LayoutOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  return runAsync('nchwToNhwcAsync', 'nchwToNhwc', true, x, opts);
}
/** The async form of {@link nhwcToNchw}. */
export function nhwcToNchwAsync(x: Tensor, opts: (LayoutOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  return runAsync('nhwcToNchwAsync', 'nhwcToNchw', false, x, opts);
}
