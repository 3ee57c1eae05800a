/**
 * Model adapters for the server: a {@link Sequential} (a model file saved by `simdtensor optimize` / `saveModel`) and
 * an {@link OnnxModel}, both as {@link BatchableModel}s; `loadServable(path)` picks by file type.
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { describe, typeError, rangeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { linearAsync } from '../executor/index.js';
import { linear } from '../ops/matmul.js';
import { getPacked } from '../cache/index.js';
import { GELU, Layer, Linear, Dropout, ReLU, Sequential, LayerNorm, Normalize } from '../nn/layers.js';
import { loadModel } from '../nn/serialize.js';
import { loadOnnx, OnnxModel } from '../onnx/model.js';
import { ArenaPool } from '../nn/arena.js';
import { onnxBatchable, type BatchableModel, type HostTensor } from './batcher.js';

type Step = { layer: Layer; act: 'none' | 'relu' | 'gelu'; async: boolean };

/** Input and output widths of a Sequential (its first and last layer with a width). */
function widths(model: Sequential): [number, number] {
  let first = -1;
  let last = -1;
  for (const l of model.layers) {
    const w = l instanceof Linear ? [l.inFeatures, l.outFeatures] : l instanceof LayerNorm || l instanceof Normalize ? [l.features, l.features] : null;
    if (!w) continue;
    if (first < 0) first = w[0];
    last = w[1];
  }
  if (first < 0) throw rangeError('sequentialBatchable', 'the model has no Linear, LayerNorm or Normalize layer, so its input width is unknown');
  return [first, last];
}

/**
 * A {@link Sequential} as a {@link BatchableModel} with one input `input` float32 [-1, in] and one output `output`
 * float32 [-1, out]. Linear layers whose weights have an async kernel run with `linearAsync` (on the native threads,
 * ReLU/GELU fused); the rest (statically quantized int8 layers, LayerNorm, Normalize, families without an async
 * kernel) run on the JS thread. A small model (≤ {@link INLINE_MACS} multiply-adds per row) runs wholly on the JS
 * thread, synchronously.
 */
export function sequentialBatchable(model: Sequential, name?: string): BatchableModel {
  const fn = 'sequentialBatchable';
  if (!(model instanceof Sequential)) throw typeError(fn, `model must be a Sequential (loadModel(path).model), got ${describe(model)}`);
  model.train(false);
  const [inW, outW] = widths(model);
  const steps: Step[] = [];
  const ls = model.layers;
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l instanceof Dropout) continue;
    if (l instanceof Linear) {
      const next = ls[i + 1];
      const act = next instanceof ReLU ? 'relu' : next instanceof GELU ? 'gelu' : 'none';
      if (act !== 'none') i++;
      steps.push({ layer: l, act, async: !l.inputQuant });
    } else steps.push({ layer: l, act: 'none', async: false });
  }
  // The hidden activations of a batch go into a scratch arena (one per batch in flight), so only the last
  // layer's output is fresh memory (see src/nn/arena.ts).
  const arenas = new ArenaPool();
  // A small model (≤ INLINE_MACS multiply-adds per row) runs on the JS thread: a batch of it takes microseconds,
  // less than the hop to a native thread and back (two wake-ups), so the answer leaves in the tick that ran it.
  let macs = 0;
  for (const s of steps) if (s.layer instanceof Linear) macs += s.layer.inFeatures * s.layer.outFeatures;
  const inline = macs <= INLINE_MACS;
  const syncForward = (x: HostTensor): Record<string, HostTensor> => {
    let h: Tensor = new Tensor(x.data as Float32Array, x.shape, 'float32', x.data.length);
    for (const s of steps) {
      const l = s.layer;
      const kw = l instanceof Linear && s.async ? l.kernelWeight : null;
      // A plain float32 weight runs packed (packed once and cached), as on the async path.
      if (kw instanceof Tensor && kw.dtype === 'float32') h = linear(h as Tensor<'float32'>, getPacked(kw) as never, (l as Linear).bias?.value ?? null, { activation: s.act });
      else h = l instanceof Linear ? (l.forward(h, s.act === 'none' ? {} : { activation: s.act }) as Tensor) : l.forward(h);
    }
    if (h.dtype !== 'float32') throw typeError(fn, `the model's last layer returned ${h.dtype}, not float32`);
    // The output leaves this pass: never a view of the request's input (a model that passes its input through).
    const data = h.data.buffer === x.data.buffer ? (h.data as Float32Array).slice() : (h.data as Float32Array);
    return { output: { dtype: 'float32', shape: h.shape.slice(), data } as HostTensor };
  };
  const asyncForward = async (x: HostTensor): Promise<Record<string, HostTensor>> => {
    let h: Tensor = new Tensor(x.data as Float32Array, x.shape, 'float32', x.data.length);
    const arena = arenas.acquire();
    try {
      for (let k = 0; k < steps.length; k++) {
        const s = steps[k];
        const l = s.layer;
        if (l instanceof Linear && s.async) {
          try {
            // A plain float32 weight (a model fresh from mlp() or saved unpacked) is packed once and cached.
            const kw = l.kernelWeight;
            const w = kw instanceof Tensor && kw.dtype === 'float32' ? getPacked(kw) : kw;
            const bias = l.bias ? l.bias.value : null;
            const out = k + 1 < steps.length && h.ndim === 2 ? arena.out(h.shape[0], l.outFeatures, h.data) : null;
            h = await linearAsync(h, w as never, bias, out ? { activation: s.act, out } : { activation: s.act });
            continue;
          } catch (e) {
            // A weight family without an async kernel: run this layer on the JS thread from now on.
            if (!(e instanceof TypeError && /no async kernel/.test(e.message))) throw e;
            s.async = false;
          }
        }
        h = l instanceof Linear ? (l.forward(h, s.act === 'none' ? {} : { activation: s.act }) as Tensor) : l.forward(h);
      }
      if (h.dtype !== 'float32') throw typeError(fn, `the model's last layer returned ${h.dtype}, not float32`);
      // The output leaves this pass: never a view of the arena (a last layer that passed its input through).
      const data = arena.holds(h.data) ? (h.data as Float32Array).slice() : (h.data as Float32Array);
      return { output: { dtype: 'float32', shape: h.shape.slice(), data } as HostTensor };
    } finally {
      arenas.release(arena);
    }
  };
  return {
    name,
    inputs: [{ name: 'input', dtype: 'float32', shape: [-1, inW] }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [-1, outW] }],
    batchable: true,
    run: inline ? (feeds) => syncForward(feeds.input) : (feeds) => asyncForward(feeds.input),
  };
}

/**
 * Models with at most this many multiply-adds per row (the sum over their Linear layers) run inline on the JS
 * thread (a 256 → 10 model: 2 560; 256 → 2048 → 2048 → 10: 4.7 M, which goes to the native threads).
 */
export const INLINE_MACS = 2 ** 18;

/** A loaded model for `simdtensor serve`: what it is and how to run it. */
export interface Servable {
  kind: 'onnx' | 'simdtensor';
  model: BatchableModel;
  /** The ONNX model or the Sequential, for callers that want them. */
  source: OnnxModel | Sequential;
}

/**
 * Loads MODEL for serving: an `.onnx` file (loadOnnx), or a simdtensor model file (`.safetensors`, as written by
 * `simdtensor optimize` and `saveModel`, its config in the header). Other extensions are told apart by content.
 */
export function loadServable(path: string, name?: string): Servable {
  const fn = 'loadServable';
  if (typeof path !== 'string' || path === '') throw typeError(fn, `path must be a file path, got ${describe(path)}`);
  name ??= defaultName(path); // after the check: a non-string path must not reach path helpers
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw rangeError(fn, `cannot read ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw rangeError(fn, `${path} is not a file`);
  const ext = extname(path).toLowerCase();
  let isOnnx = ext === '.onnx';
  if (ext !== '.onnx' && ext !== '.safetensors') {
    let head: Buffer;
    try {
      head = readFileSync(path).subarray(0, 16);
    } catch (e) {
      throw rangeError(fn, `cannot read ${path}: ${(e as Error).message}`);
    }
    // safetensors starts with a little-endian u64 header length followed by '{'.
    isOnnx = !(head.length >= 9 && head[8] === 0x7b);
  }
  if (isOnnx) {
    const m = loadOnnx(path);
    return { kind: 'onnx', model: onnxBatchable(m, name), source: m };
  }
  const { model } = loadModel(path);
  return { kind: 'simdtensor', model: sequentialBatchable(model, name), source: model };
}

/** Model name from its file: the base name without extension, reduced to [A-Za-z0-9_.-]. */
export function defaultName(path: string): string {
  const b = basename(String(path)).replace(/\.(onnx|safetensors)$/i, '');
  return b.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model';
}
