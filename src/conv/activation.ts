/**
 * Fused activations of the convolution ops (depthwise, conv2d): names and parameters → the codes of
 * native/kernels/f32-conv-common/activation.h.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';

/**
 * A fused activation, applied after the bias:
 * - `'none'`, `'relu'`, `'relu6'` (clip to [0, 6]), `'sigmoid'`, `'hardSwish'` (x·clip(x/6 + 1/2, 0, 1), ONNX
 *   HardSwish), `'gelu'` (erf form);
 * - `'leakyRelu'` (alpha 0.01) or `{ leakyRelu: { alpha } }`;
 * - `'hardSigmoid'` (alpha 0.2, beta 0.5, ONNX defaults) or `{ hardSigmoid: { alpha, beta } }`: clip(alpha·x + beta, 0, 1);
 * - `{ clip: { min, max } }`;
 * - `{ hardSwish: { scale, shift } }`: scale·hardSwish(x) + shift (a learnable affine after the activation, as
 *   PP-LCNetV3 writes it; scale defaults to 1, shift to 0).
 */
export type ConvActivation =
  | 'none'
  | 'relu'
  | 'relu6'
  | 'sigmoid'
  | 'hardSwish'
  | 'gelu'
  | 'leakyRelu'
  | 'hardSigmoid'
  | { clip: { min: number; max: number } }
  | { leakyRelu: { alpha?: number } }
  | { hardSigmoid: { alpha?: number; beta?: number } }
  | { hardSwish: { scale?: number; shift?: number } };

/** @internal Native activation code and its two parameters. */
export interface ActParams {
  code: number;
  a: number;
  b: number;
}

/** @internal Codes shared with C++ (ConvActivation in activation.h). */
export const CONV_ACT = { none: 0, relu: 1, gelu: 2, clip: 3, leakyRelu: 4, sigmoid: 5, hardSigmoid: 6, hardSwish: 7, hardSwishAffine: 8 } as const;

function finite(fn: string, name: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(fn, `${name} must be a finite number, got ${describe(v)}`);
  return v;
}

/** @internal Validates an activation option and returns its native code and parameters. */
export function convActivation(fn: string, act: unknown): ActParams {
  if (act === undefined || act === null || act === 'none') return { code: CONV_ACT.none, a: 0, b: 0 };
  if (typeof act === 'string') {
    switch (act) {
      case 'relu': return { code: CONV_ACT.relu, a: 0, b: 0 };
      case 'relu6': return { code: CONV_ACT.clip, a: 0, b: 6 };
      case 'sigmoid': return { code: CONV_ACT.sigmoid, a: 0, b: 0 };
      case 'hardSwish': return { code: CONV_ACT.hardSwish, a: 0, b: 0 };
      case 'gelu': return { code: CONV_ACT.gelu, a: 0, b: 0 };
      case 'leakyRelu': return { code: CONV_ACT.leakyRelu, a: 0.01, b: 0 };
      case 'hardSigmoid': return { code: CONV_ACT.hardSigmoid, a: 0.2, b: 0.5 };
    }
  } else if (typeof act === 'object' && !Array.isArray(act)) {
    const keys = Object.keys(act);
    const o = act as Record<string, unknown>;
    if (keys.length === 1 && typeof o[keys[0]] === 'object' && o[keys[0]] !== null) {
      const p = o[keys[0]] as Record<string, unknown>;
      if (keys[0] === 'clip') {
        const min = finite(fn, 'activation.clip.min', p.min), max = finite(fn, 'activation.clip.max', p.max);
        if (!(min <= max)) throw rangeError(fn, `activation.clip.min (${min}) must be <= activation.clip.max (${max})`);
        return { code: CONV_ACT.clip, a: min, b: max };
      }
      if (keys[0] === 'leakyRelu') return { code: CONV_ACT.leakyRelu, a: finite(fn, 'activation.leakyRelu.alpha', p.alpha, 0.01), b: 0 };
      if (keys[0] === 'hardSigmoid')
        return { code: CONV_ACT.hardSigmoid, a: finite(fn, 'activation.hardSigmoid.alpha', p.alpha, 0.2), b: finite(fn, 'activation.hardSigmoid.beta', p.beta, 0.5) };
      if (keys[0] === 'hardSwish') {
        const scale = finite(fn, 'activation.hardSwish.scale', p.scale, 1), shift = finite(fn, 'activation.hardSwish.shift', p.shift, 0);
        return scale === 1 && shift === 0 ? { code: CONV_ACT.hardSwish, a: 0, b: 0 } : { code: CONV_ACT.hardSwishAffine, a: scale, b: shift };
      }
    }
  }
  throw typeError(
    fn,
    `activation must be 'none', 'relu', 'relu6', 'sigmoid', 'hardSwish', 'gelu', 'leakyRelu', 'hardSigmoid', { clip: { min, max } }, { leakyRelu: { alpha } }, { hardSigmoid: { alpha, beta } } or { hardSwish: { scale, shift } }, got ${describe(act)}`,
  );
}
