/**
 * tinybench suites for the public ops, run by `vitest bench` (which times every `bench()` through tinybench):
 *
 *   npm run bench:ops                                  # all suites, once
 *   npx vitest bench --run -t linear                   # only benches whose name matches
 *
 * Each `describe` is one group: vitest prints its cases side by side with how many times faster the fastest one is.
 * To add a case, build its inputs once at the top of a `describe` (never inside the timed function) and add
 * `bench('name', () => op(...), OPTS)`. Inputs are seeded so runs are comparable; `out:` reuses an output buffer
 * where the op takes one, so allocation is not timed.
 *
 * These suites are for trying the ops on your own shapes; the comparison against other libraries (with agreement
 * checks, a fresh process per trial and the machine's roofline) is `npm run bench` (bench/run.ts).
 * @module
 */
import { bench, describe } from 'vitest';
import {
  add,
  conv2d,
  depthwiseConv2d,
  linear,
  matmul,
  packConvWeights,
  packWeights,
  quantize,
  rand,
  relu,
  softmax,
  tensor,
  zeros,
  cast,
} from '../../src/index.js';

/**
 * tinybench options of every case: a short time budget and a minimum iteration count, so the whole file takes well
 * under a minute. Raise `time` (ms per case) for steadier figures; SIMDTENSOR_BENCH_MS sets it from the shell.
 */
const OPTS = { time: Number(process.env.SIMDTENSOR_BENCH_MS ?? 200), iterations: 10, warmupTime: 50, warmupIterations: 5 };

describe('linear f32 64×1024 → 1024', () => {
  const x = rand([64, 1024], { seed: 1 });
  const w = rand([1024, 1024], { seed: 2 });
  const b = rand([1024], { seed: 3 });
  const packed = packWeights(w);
  const out = zeros([64, 1024]);
  bench('linear, packed weights', () => void linear(x, packed, b, { out }), OPTS);
  bench('linear, unpacked weights', () => void linear(x, w, b, { out }), OPTS);
  bench('matmul (x · wᵀ via transB)', () => void matmul(x, w, { transB: true, out }), OPTS);
});

describe('linear batch 1 (1×4096 → 1024)', () => {
  const x = rand([1, 4096], { seed: 1 });
  const w = rand([1024, 4096], { seed: 2 });
  const packed = packWeights(w);
  const out = zeros([1, 1024]);
  bench('f32, packed', () => void linear(x, packed, undefined, { out }), OPTS);
  bench('f32, unpacked', () => void linear(x, w, undefined, { out }), OPTS);
});

describe('linear int8 / f16 64×1024 → 1024', () => {
  const x = rand([64, 1024], { seed: 1 });
  const w = rand([1024, 1024], { seed: 2 });
  const f32 = packWeights(w);
  const int8 = packWeights(quantize(w, { axis: 0 }));
  const xu8 = quantize(x, { dtype: 'uint8' });
  const xh = cast(x, 'float16');
  const wh = packWeights(cast(w, 'float16'));
  bench('f32 (packed)', () => void linear(x, f32), OPTS);
  bench('int8 weights, dynamic activations', () => void linear(x, int8), OPTS);
  bench('int8 weights, uint8 activations', () => void linear(xu8, int8), OPTS);
  bench('float16', () => void linear(xh, wh), OPTS);
});

describe('element-wise, 64×4096', () => {
  const a = rand([64, 4096], { seed: 1 });
  const c = rand([64, 4096], { seed: 2 });
  const out = zeros([64, 4096]);
  bench('add', () => void add(a, c, { out }), OPTS);
  bench('relu', () => void relu(a, { out }), OPTS);
  bench('softmax (rows)', () => void softmax(a, { out }), OPTS);
});

describe('conv2d 3×3, 56×56×64 → 64 (ResNet-like), relu', () => {
  const xH = add(rand([1, 56, 56, 64], { seed: 1 }), 0); // an op output: 64-byte aligned, as inside a model
  const xN = add(rand([1, 64, 56, 56], { seed: 1 }), 0);
  const b = rand([64], { seed: 3 });
  const pH = packConvWeights(rand([3, 3, 64, 64], { seed: 2 }), { weightLayout: 'hwio', bias: b });
  const pN = packConvWeights(rand([64, 64, 3, 3], { seed: 2 }), { bias: b });
  const opts = { pads: 1, activation: 'relu' as const };
  bench('nhwc', () => void conv2d(xH, pH, { ...opts, layout: 'nhwc' }), OPTS);
  bench('nchw', () => void conv2d(xN, pN, opts), OPTS);
});

describe('depthwiseConv2d 3×3, 112×112×96 stride 2 (MobileNetV2)', () => {
  const xH = add(rand([1, 112, 112, 96], { seed: 1 }), 0);
  const xN = add(rand([1, 96, 112, 112], { seed: 1 }), 0);
  const wH = rand([3, 3, 96, 1], { seed: 2 });
  const wN = rand([96, 1, 3, 3], { seed: 2 });
  const b = rand([96], { seed: 3 });
  bench('nhwc', () => void depthwiseConv2d(xH, wH, { layout: 'nhwc', strides: 2, pads: 1, bias: b }), OPTS);
  bench('nchw', () => void depthwiseConv2d(xN, wN, { strides: 2, pads: 1, bias: b }), OPTS);
});

// A tiny op, where the per-call cost (validation, N-API crossing) dominates.
describe('per-call overhead: matmul 4×4', () => {
  const a = tensor(new Float32Array(16).fill(1), [4, 4]);
  const out = zeros([4, 4]);
  bench('matmul 4×4', () => void matmul(a, a, { out }), OPTS);
});
