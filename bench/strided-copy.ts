/**
 * The ONNX runtime's native strided copy (`onnxTranspose`, runtime/onnx/ops.cc `onnx_transpose_4b`) at the shapes
 * its Slice and ConvTranspose paths give it, against a contiguous copy of the same bytes (`Float32Array.set`, a
 * memcpy): the ratio says what the strided walk costs over moving the bytes. One thread, process CPU µs per call,
 * the two alternated in each round (`cpuAlternating`), medians of `--rounds`.
 *
 * - `convT-M1`: PaddleOCR det's last ConvTranspose (2×2, stride 2, one output channel) interleave, [H, W, kh, kw]
 *   → [H, kh, W, kw] at H = W = 320: runs of 2 floats.
 * - `convT-M24`: the first one (24 channels), H = W = 160: runs of 48 floats.
 * - `slice-rec`: PaddleOCR rec's q/k/v Slice of a [3, 1, 8, 40, 15] value (one third of it: 4800 contiguous floats).
 * - `slice-step2`: every other row of [64, 256, 64]: runs of 64 floats, 2 KiB apart.
 *
 * `--base other.node` times the same calls on another build of the addon too (its ratio: base/this CPU time).
 *
 *   npm run build:ts && node dist/bench/strided-copy.js [--rounds 15] [--base other.node]
 * @module
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { native } from '../src/native.js';
import { cpuAlternating, flag, numFlag } from './measure.js';

type Transpose = (x: Float32Array, out: Float32Array, shape: Int32Array, xstride: Int32Array) => void;

interface Case {
  name: string;
  /** Output dims and the input's element strides, as onnxTranspose takes them. */
  shape: number[];
  stride: number[];
  /** Input elements. */
  inLen: number;
}

const CASES: Case[] = [
  { name: 'convT-M1', shape: [320, 2, 320, 2], stride: [320 * 4, 2, 4, 1], inLen: 320 * 320 * 4 },
  { name: 'convT-M24', shape: [160, 2, 160, 48], stride: [160 * 96, 48, 96, 1], inLen: 160 * 160 * 96 },
  { name: 'slice-rec', shape: [4800], stride: [1], inLen: 3 * 4800 },
  { name: 'slice-step2', shape: [64, 128, 64], stride: [256 * 64, 128, 1], inLen: 64 * 256 * 64 },
];

function main(): void {
  const rounds = numFlag('--rounds', 15);
  const basePath = flag('--base', '');
  const base = basePath ? (createRequire(import.meta.url)(basePath) as { onnxTranspose: Transpose }).onnxTranspose : null;
  const mine: Transpose = native.onnxTranspose;
  console.log(`strided copy (onnxTranspose) vs a contiguous copy of the same bytes; one thread, CPU µs per call, medians of ${rounds} rounds; load ${loadavg()[0].toFixed(1)}`);
  for (const c of CASES) {
    const x = Float32Array.from({ length: c.inLen }, (_, i) => i);
    const n = c.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n), flat = new Float32Array(n), src = x.subarray(0, n);
    const shape = Int32Array.from(c.shape), st = Int32Array.from(c.stride);
    const inner = Math.max(1, Math.round(2e6 / (n * 4))); // ~2 MB moved per sample
    const vsSet = cpuAlternating(() => mine(x, out, shape, st), () => flat.set(src), inner, rounds);
    let line = `${c.name.padEnd(12)} ${String(n).padStart(8)} floats: ${vsSet.us.toFixed(1).padStart(7)} µs (${((n * 8) / vsSet.us / 1e3).toFixed(1)} GB/s read+write), set() ${vsSet.base.toFixed(1)} µs: ${(1 / vsSet.ratio).toFixed(2)}× its time`;
    if (base) {
      const vsBase = cpuAlternating(() => mine(x, out, shape, st), () => base(x, out, shape, st), inner, rounds);
      line += `; --base ${vsBase.base.toFixed(1)} µs: ${vsBase.ratio.toFixed(2)}× faster here`;
    }
    console.log(line);
  }
}

main();
