/**
 * Sliding-window option parsing shared by depthwise conv and pooling: layout, strides, dilations, pads ('same',
 * 'valid', numbers), output sizes, and the f32 tensor checks. One place so every op refuses the same input the same way.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { checkTensor, Tensor } from '../tensor.js';
import { allocF32 } from '../alloc.js';
import { kernelName } from '../cpu.js';
import { monitorHook } from '../ops/registry.js';
import { runNativeAsync } from '../executor/submit.js';

/** @internal Runs a sync native image op and records it for the monitor under `op`'s kernel; returns `out`. */
export function timedRun<T>(fn: string, op: string, call: () => void, out: T): T {
  const t0 = monitorHook.on ? performance.now() : 0;
  call();
  if (monitorHook.on) monitorHook.record(fn, kernelName(op), t0);
  return out;
}

/** @internal The async form of {@link timedRun}: the op runs on simdtensor's threads and `out` comes back when done. */
export async function timedRunAsync<T>(fn: string, op: string, signal: AbortSignal | undefined, start: (id: number) => Promise<unknown>, out: T): Promise<T> {
  const t0 = monitorHook.on ? performance.now() : 0;
  const r = await runNativeAsync(fn, signal, start, out);
  if (monitorHook.on) monitorHook.record(fn, kernelName(op), t0);
  return r;
}

/** Memory layout of 4-D image tensors: 'nchw' [N, C, H, W] (ONNX, PyTorch) or 'nhwc' [N, H, W, C] (TF.js). */
export type ImageLayout = 'nchw' | 'nhwc';

/**
 * Padding: a number (all sides), [padH, padW] (both ends), [top, left, bottom, right] (ONNX `pads` order), 'valid'
 * (none), or 'same' / 'same_upper' / 'same_lower' (output = ceil(input / stride); an odd total puts the extra pad at the
 * end — TF.js and ONNX SAME_UPPER — or at the start for 'same_lower').
 */
export type Pads = number | readonly [number, number] | readonly [number, number, number, number] | 'valid' | 'same' | 'same_upper' | 'same_lower';

/** @internal */
export interface ImageDims {
  nhwc: boolean;
  n: number;
  c: number;
  h: number;
  w: number;
}

/** @internal A float32 tensor, or a TypeError naming the argument. */
export function f32Tensor(fn: string, arg: string, t: unknown): Tensor<'float32'> {
  checkTensor(fn, arg, t);
  if (t.dtype !== 'float32') throw typeError(fn, `${arg}.dtype must be float32, got ${t.dtype}`);
  return t as Tensor<'float32'>;
}

/** @internal Parses `layout` (default 'nchw'). */
export function parseLayout(fn: string, layout: unknown): boolean {
  if (layout === undefined || layout === null || layout === 'nchw') return false;
  if (layout === 'nhwc') return true;
  throw typeError(fn, `layout must be 'nchw' or 'nhwc', got ${describe(layout)}`);
}

/** @internal N, C, H, W of a 4-D image tensor in the given layout. */
export function imageDims(fn: string, arg: string, x: Tensor, nhwc: boolean): ImageDims {
  if (x.ndim !== 4) throw rangeError(fn, `${arg} must be 4-D ${nhwc ? '[N, H, W, C]' : '[N, C, H, W]'}, got shape [${x.shape.join(', ')}]`);
  const [n, a, b, d] = x.shape;
  return nhwc ? { nhwc, n, c: d, h: a, w: b } : { nhwc, n, c: a, h: b, w: d };
}

/** @internal A positive integer or [h, w] of positive integers. */
export function parsePair(fn: string, name: string, v: unknown, dflt?: number): [number, number] {
  if (v === undefined && dflt !== undefined) return [dflt, dflt];
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= 0x7fffffff;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw rangeError(fn, `${name} must be a positive integer or [h, w] of positive integers, got ${describe(v)}`);
}

/** @internal Resolved window geometry along both axes. */
export interface Window2d {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
  oh: number;
  ow: number;
}

/**
 * @internal Pads and output size for a kh×kw window (strides, dilations) over an h×w image. ceil: ceil-mode output
 * sizes (a last window starting in the end padding is dropped, as PyTorch and onnxruntime do).
 */
export function window2d(fn: string, h: number, w: number, kh: number, kw: number, strides: [number, number], dilations: [number, number], pads: unknown, ceil: boolean): Window2d {
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
  let pt: number, pl: number, pb: number, pr: number;
  const isInt = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 0x7fffffff;
  if (pads === undefined || pads === null || pads === 'valid') pt = pl = pb = pr = 0;
  else if (pads === 'same' || pads === 'same_upper' || pads === 'same_lower') {
    const total = (size: number, s: number, e: number) => Math.max((Math.ceil(size / s) - 1) * s + e - size, 0);
    const th = total(h, sh, eh), tw = total(w, sw, ew);
    const lower = pads === 'same_lower';
    pt = lower ? Math.ceil(th / 2) : Math.floor(th / 2);
    pl = lower ? Math.ceil(tw / 2) : Math.floor(tw / 2);
    pb = th - pt;
    pr = tw - pl;
  } else if (isInt(pads)) pt = pl = pb = pr = pads;
  else if (Array.isArray(pads) && pads.length === 2 && pads.every(isInt)) [pt, pl] = [pb, pr] = [pads[0], pads[1]];
  else if (Array.isArray(pads) && pads.length === 4 && pads.every(isInt)) [pt, pl, pb, pr] = pads;
  else
    throw typeError(fn, `pads must be a non-negative integer, [padH, padW], [top, left, bottom, right], 'valid', 'same', 'same_upper' or 'same_lower', got ${describe(pads)}`);
  const size = (i: number, p0: number, p1: number, s: number, e: number, axis: string) => {
    if (i + p0 + p1 < e)
      throw rangeError(fn, `the ${axis} window extent (${e}) is larger than the padded input (${i} + ${p0} + ${p1})`);
    let o = Math.floor((i + p0 + p1 - e + (ceil ? s - 1 : 0)) / s) + 1;
    if (ceil && (o - 1) * s >= i + p0) o--;
    return o;
  };
  const oh = size(h, pt, pb, sh, eh, 'height'), ow = size(w, pl, pr, sw, ew, 'width');
  return { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow };
}

/**
 * @internal Throws unless every window of `g` holds at least one input tap (pooling: an all-padding window has no
 * maximum or mean). Only the first and last windows along each axis can miss.
 */
export function checkWindowsHitInput(fn: string, g: Window2d, h: number, w: number): void {
  const hits = (start: number, k: number, d: number, size: number) => {
    for (let i = 0; i < k; i++) if (start + i * d >= 0 && start + i * d < size) return true;
    return false;
  };
  const axis = (o: number, s: number, p: number, k: number, d: number, size: number, name: string, pads: string) => {
    for (const j of [0, o - 1])
      if (!hits(j * s - p, k, d, size))
        throw rangeError(fn, `pads ${pads} leave ${name} window ${j} without any input element (pads must be smaller than the window)`);
  };
  axis(g.oh, g.sh, g.pt, g.kh, g.dh, h, 'row', `[${g.pt}, ${g.pl}, ${g.pb}, ${g.pr}]`);
  axis(g.ow, g.sw, g.pl, g.kw, g.dw, w, 'column', `[${g.pt}, ${g.pl}, ${g.pb}, ${g.pr}]`);
}

/** @internal The output tensor: opts.out checked (float32, exact shape, not overlapping x) or a fresh one. */
export function imageOut(fn: string, out: unknown, shape: number[], x: Tensor): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  if (out === undefined || out === null) return new Tensor(allocF32(size), shape, 'float32', size);
  const o = f32Tensor(fn, 'out', out);
  if (o.ndim !== shape.length || o.shape.some((d, i) => d !== shape[i]))
    throw rangeError(fn, `out has shape [${o.shape.join(', ')}], needs [${shape.join(', ')}]`);
  const a = x.data, b = o.data;
  if (a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength && a.length && b.length)
    throw rangeError(fn, 'out must not overlap x');
  return o;
}

/** @internal Output shape in the given layout. */
export function imageShape(nhwc: boolean, n: number, c: number, h: number, w: number): number[] {
  return nhwc ? [n, h, w, c] : [n, c, h, w];
}
