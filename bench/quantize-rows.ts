/**
 * Dynamic quantization per row (per pixel of an NHWC conv input, per token of a linear) against one range for the
 * whole tensor, on PaddleOCR rec's pointwise-conv input shapes: process CPU µs per call (medians of `--rounds`
 * rounds in which the two alternate), GB/s of float32 read, and the per-row / per-tensor ratio (same run).
 * Run: `npm run build:ts && node dist/bench/quantize-rows.js [--rounds 9] [--shapes 3840x16,960x240,…]`.
 * @module
 */
import { loadavg } from 'node:os';
import { native } from '../src/native.js';
import { cpuInfo, setNumThreads } from '../src/index.js';
import { flag, median, numFlag } from './measure.js';

const ROUNDS = numFlag('--rounds', 9);
const SHAPES = flag('--shapes', '3840x16,3840x32,3840x64,1920x64,1920x128,960x240,480x480,40x480')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);

function cpuUs(f: () => void, calls: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}

function main() {
  setNumThreads(1);
  console.log(`quantize kernel: ${cpuInfo().kernels.quantize ?? '?'}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${ROUNDS} rounds`);
  console.log('rows x K | per row µs | GB/s | per tensor µs | GB/s | per row / per tensor');
  for (const [m, k] of SHAPES) {
    const x = new Float32Array(m * k);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * (1 + (i % 7)) - 0.3;
    const q = new Uint8Array(m * k), s = new Float32Array(m), z = new Int32Array(m), s1 = new Float32Array(1), z1 = new Int32Array(1);
    const calls = Math.max(20, Math.round(2e6 / (m * k)));
    const rows = () => native.quantizeRows(x, m, k, q, s, z), whole = () => native.quantizeRows(x, 1, m * k, q, s1, z1);
    rows();
    whole();
    const a: number[] = [], b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(cpuUs(rows, calls));
      b.push(cpuUs(whole, calls));
    }
    const ra = median(a), rb = median(b), gb = (us: number) => ((m * k * 4) / us / 1e3).toFixed(1);
    console.log(`${m}x${k} | ${ra.toFixed(1)} | ${gb(ra)} | ${rb.toFixed(1)} | ${gb(rb)} | ${(ra / rb).toFixed(2)}×`);
  }
}

main();
