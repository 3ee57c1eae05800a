/**
 * int8 mode of the TF.js backend (`setInt8Mode(true)`): Conv2D / FusedConv2D filters and the matmul right-hand
 * sides shared by every batch (Dense weights) are quantized once, per output channel to int8 (symmetric), and run
 * on the int8 conv / linear kernels with the activations quantized per call (uint8, asymmetric: one scale per
 * tensor for a conv, per row for a matmul). Inference only: training through it would see quantized weights.
 * Depthwise convolutions stay float32 (the int8 conv has groups = 1 only).
 * @module
 */
import { quantize, QuantizedTensor, packInt8Weights } from '../int8/index.js';
import type { PackedInt8Weights } from '../int8/index.js';
import { packConvWeights } from '../conv/conv2d.js';
import '../conv/conv2d-int8.js'; // registers the int8 conv with conv2d / packConvWeights
import type { PackedInt8ConvWeights } from '../conv/conv2d-int8.js';
import { Tensor } from '../tensor.js';
import { native } from '../native.js';
import { view } from './types.js';

const modes: { int8: boolean } = ((globalThis as unknown as Record<symbol, { int8: boolean }>)[Symbol.for('simdtensor.tfjs.modes')] ??= { int8: false });

/**
 * Turns int8 mode on or off for every 'simdtensor' backend in the process (default off). Weights are quantized on
 * first use after it is turned on and kept beside their float32 packing, so switching back and forth is cheap.
 * Expect small differences from float32 (docs/tfjs.md gives the measured top-1 agreement).
 */
export function setInt8Mode(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw new TypeError(`setInt8Mode: enabled must be a boolean, got ${typeof enabled}`);
  modes.int8 = enabled;
}

/** Whether int8 mode is on. */
export function getInt8Mode(): boolean {
  return modes.int8;
}

/** @internal Fast read for the kernels. */
export function int8On(): boolean {
  return modes.int8;
}

/** An HWIO filter quantized per output channel and packed for the int8 conv, or false (non-finite weights). */
export function int8ConvWeights(w: Float32Array, shape: readonly number[]): PackedInt8ConvWeights | false {
  try {
    return packConvWeights(quantize(view(w, shape), { axis: 3, dtype: 'int8' }), { weightLayout: 'hwio' });
  } catch {
    return false; // calibration refuses NaN / ±Infinity weights: the float32 kernel runs
  }
}

/** A matmul right-hand side ([k, n], or [n, k] with transB) quantized per output column, or false. */
export function int8MatmulWeights(b: Float32Array, k: number, n: number, transB: boolean): PackedInt8Weights | false {
  try {
    const q = quantize(view(b, transB ? [n, k] : [k, n]), { axis: transB ? 0 : 1, dtype: 'int8' });
    return packInt8Weights(q, { layout: transB ? 'linear' : 'kn' });
  } catch {
    return false;
  }
}

const mm = [new Float32Array(1), new Float32Array(1)];
const qp = new Float32Array(2);
let scratch = new Uint8Array(0);

/** Whether x holds no NaN and no ±Infinity (one native min/max scan). */
export function allFinite(x: Float32Array): boolean {
  return !native.quantMinMax(x, 1, 1, x.length, mm[0], mm[1]) && Number.isFinite(mm[0][0]) && Number.isFinite(mm[1][0]);
}

/**
 * x quantized to uint8 with one scale and zero point (ONNX DynamicQuantizeLinear arithmetic), or null when x holds
 * NaN or ±Infinity (the float32 kernel then gives TF.js's answer).
 */
export function quantizeActivations(x: Float32Array, shape: readonly number[]): QuantizedTensor | null {
  if (!allFinite(x)) return null;
  // One scratch buffer, grown as needed: the quantized input lives only during the (synchronous) conv call, and a
  // fresh buffer per call would pay a page fault per 4 KiB (6 MB per call for MobileNetV2's first layers at batch 16).
  if (scratch.length < x.length) scratch = new Uint8Array(Math.max(x.length, scratch.length * 2));
  const u8 = scratch.subarray(0, x.length);
  native.onnxDynamicQuantize(x, u8, qp);
  return new QuantizedTensor(new Tensor(u8, shape.slice(), 'uint8', x.length), qp[0], qp[1], null, 'asymmetric');
}
