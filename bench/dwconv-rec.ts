/**
 * PaddleOCR rec's depthwise layers (PP-LCNetV3 at 1×3×48×320: 3×3 and 5×5, strides (1,1), (2,1), (1,2), 16–480
 * channels, NHWC, bias + hardSwish) and the 1×1 depthwise calls the ONNX runtime makes for elementwise activations
 * (Sigmoid/HardSwish as 16-channel pixels), one thread: process CPU µs per call, GFLOP/s and the share of the f32
 * FMA peak `probeF32Peak` measures. With `--base path/to/other.node` the same calls also run on a second build's addon
 * (e.g. a copy of main's), alternating A/B within each round; the outputs must agree bit for bit.
 *
 *   node dist/bench/dwconv-rec.js [--rounds 15] [--base /tmp/main.node] [--sweep 1] [--isa avx2]
 * @module
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { add, rand, setNumThreads, tensor, zeros, type Tensor } from '../src/index.js';
import { plan } from '../src/conv/depthwise.js';
import { native } from '../src/native.js';
import { cpuAlternating, flag, numFlag } from './measure.js';

/** One call, as data: NHWC input [1, h, w, c], k×k window, pad (k−1)/2, strides (sh, sw), activation. */
interface RecDwTrial {
  id: string;
  h: number;
  w: number;
  c: number;
  k: number;
  sh: number;
  sw: number;
  act: 'hardSwish' | 'sigmoid';
  bias: boolean;
}

const dw = (h: number, w: number, c: number, k: number, sh: number, sw: number): RecDwTrial => ({ id: `dw${k}x${k}/${h}x${w}x${c}/s${sh}x${sw}`, h, w, c, k, sh, sw, act: 'hardSwish', bias: true });
const ew = (px: number, act: 'hardSwish' | 'sigmoid'): RecDwTrial => ({ id: `1x1/${px}px×16/${act}`, h: 1, w: px, c: 16, k: 1, sh: 1, sw: 1, act, bias: false });

/** The 14 depthwise convs of rec (duplicates kept once), then elementwise activations of the SVTR neck's sizes. */
export const REC_DW_TRIALS: RecDwTrial[] = [
  dw(24, 160, 16, 3, 1, 1), dw(24, 160, 32, 3, 1, 1), dw(24, 160, 64, 3, 1, 1), dw(24, 160, 64, 3, 2, 1),
  dw(12, 160, 128, 3, 1, 1), dw(12, 160, 128, 3, 1, 2), dw(12, 80, 240, 5, 1, 1), dw(12, 80, 240, 5, 2, 1),
  dw(6, 80, 480, 5, 1, 1), dw(6, 80, 480, 5, 2, 1), dw(3, 80, 480, 5, 1, 1),
  ew(150, 'sigmoid'), ew(600, 'hardSwish'), ew(2400, 'sigmoid'),
];

/** `--sweep`: 3×3 strides (1,1) and (1,2) over 48–144 channels at two widths, to see how the channel count (the
 * pixel stride in bytes) alone moves the rate. */
export const SWEEP_TRIALS: RecDwTrial[] = [48, 64, 80, 96, 112, 128, 144].flatMap((c) => [
  dw(24, 160, c, 3, 1, 1), dw(24, 80, c, 3, 1, 1), dw(12, 160, c, 3, 1, 2), dw(12, 160, c, 3, 2, 1),
]);

type Addon = typeof native;

/** A zeroed float32 tensor of `shape` whose data starts `off` bytes into an allocator-aligned buffer. */
function outAt(shape: number[], off: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = add(zeros([n + off / 4]), 0).data as Float32Array;
  return tensor(new Float32Array(buf.buffer, buf.byteOffset + off, n), shape);
}

function main(): void {
  const rounds = numFlag('--rounds', 15);
  const basePath = flag('--base', '');
  const base = basePath ? (createRequire(import.meta.url)(basePath) as Addon) : null;
  // `--yoff B`: the output starts B bytes (a multiple of 64) past an allocator-aligned buffer, to see whether the
  // output's address relative to the input's (its offset modulo 4 KiB) moves the rate.
  const yOff = numFlag('--yoff', 0);
  // `--isa avx2`: cap both addons' kernels at that ISA.
  const isa = flag('--isa', '');
  if (isa) (native.setMaxIsa(isa), base?.setMaxIsa(isa));
  setNumThreads(1);
  base?.setNumThreads(1);
  // The probe times wall clock: on a shared machine the best of a few is the core's peak.
  const peak = Math.max(...Array.from({ length: 5 }, () => native.probeF32Peak(200)));
  console.log(`rec depthwise, one thread, CPU µs per call, medians of ${rounds} rounds${base ? ` (A/B alternating with ${basePath})` : ''}; f32 peak ${peak.toFixed(0)} GFLOP/s; load ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  console.log(`${'trial'.padEnd(28)} ${'µs'.padStart(8)} GFLOP/s  % peak${base ? '   base µs  base/this' : ''}`);
  for (const t of flag('--sweep', '') ? SWEEP_TRIALS : REC_DW_TRIALS) {
    const p = (t.k - 1) / 2;
    const oh = Math.floor((t.h + 2 * p - t.k) / t.sh) + 1, ow = Math.floor((t.w + 2 * p - t.k) / t.sw) + 1;
    // Buffers from simdtensor's allocator (64-byte aligned), as activations inside a model are.
    const x = add(rand([1, t.h, t.w, t.c], { seed: 1 }), -0.5);
    const w = t.k === 1 ? add(zeros([t.c, 1, 1, 1]), 1) : rand([t.c, 1, t.k, t.k], { seed: 2 });
    const b = t.bias ? rand([t.c], { seed: 3 }) : null;
    const call = (a: Addon, y: Tensor) => {
      const q = plan('dwconv-rec', x, w, { layout: 'nhwc', weightLayout: 'oihw', strides: [t.sh, t.sw], pads: p, bias: b, activation: t.act, out: y });
      return () => a.depthwiseConv2d(q.x.data, q.w.data, q.bias, q.out.data, q.params, q.actA, q.actB);
    };
    const yThis = outAt([1, oh, ow, t.c], yOff), yBase = outAt([1, oh, ow, t.c], yOff);
    const fThis = call(native, yThis), fBase = base ? call(base, yBase) : null;
    fThis();
    if (fBase) {
      fBase();
      const A = yThis.data as Float32Array, B = yBase.data as Float32Array;
      for (let i = 0; i < A.length; i++) if (!Object.is(A[i], B[i])) throw new Error(`${t.id}: outputs differ at ${i} (${A[i]} vs ${B[i]})`);
    }
    const flops = 2 * oh * ow * t.c * t.k * t.k;
    const inner = Math.max(10, Math.round(2e7 / flops));
    const r = cpuAlternating(fThis, fBase, inner, rounds);
    const us = r.us;
    const gf = flops / (us * 1e3);
    console.log(`${t.id.padEnd(28)} ${us.toFixed(1).padStart(8)} ${gf.toFixed(0).padStart(7)}  ${((100 * gf) / peak).toFixed(0).padStart(5)} %${fBase ? `  ${r.base.toFixed(1).padStart(8)}  ${r.ratio.toFixed(2).padStart(8)}×` : ''}`);
  }
}

main();
