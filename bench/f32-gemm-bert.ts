/**
 * The f32 GEMM alone at the BERT encoder's Linear shapes (prepacked weights, bias, GELU on FFN up) and three reference
 * shapes, against the FMA peak measured in the same rounds (`native.probeF32Peak`). One thread, process CPU time per
 * call (the machine is shared), median of `--rounds` rounds; each round probes the peak and then runs every shape.
 * The peak is the best round's: the probe is wall-clock (best window), so preemption only lowers it, and on a loaded
 * machine the median round's would understate it while the GEMM's CPU time does not.
 * A/B of a native change: `--base /tmp/before.node` loads a second build's addon into the same process and times
 * the same calls on it right after each sample of ours (the order flips every round); the ratio column is the median
 * of the per-round base/this ratios (shared-host drift and neighbours hit both alike). Or alternate processes with
 * SIMDTENSOR_ADDON=/tmp/before.node and the current build.
 *
 *   node dist/bench/f32-gemm-bert.js [--rounds 7] [--ms 20] [--base other.node] [--shapes 1024x384x1152,...]
 *                                    (shapes M×K×N, optionally +gelu or +relu)
 *
 * Prints one line per shape: µs CPU, GFLOP/s, % of the peak; `--json` prints one JSON line instead.
 * @module
 */
import { createRequire } from 'node:module';
import { cpuMs, flag, median } from './measure.js';
import { rng } from '../src/random.js';
import type { NativeAddon } from '../src/native.js';

const arg = (name: string, def: string): string => flag(`--${name}`, def);

/** The encoder's Linears (hidden 384, FFN 1536, fused QKV) at b8 (M 1024) and b1 (M 128), then reference shapes. */
const DEFAULT_SHAPES = [
  ...[1024, 128].flatMap((m) => [`${m}x384x1152`, `${m}x384x384`, `${m}x384x1536+gelu`, `${m}x1536x384`]),
  '1024x1024x1024',
  '64x1024x1024',
  '255x1023x1023',
];

function floats(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const { native } = await import('../src/native.js');
  st.setNumThreads(1);
  const os = await import('node:os');
  const rounds = Number(arg('rounds', '7'));
  const ms = Number(arg('ms', '20'));
  const json = process.argv.includes('--json');
  const basePath = arg('base', '');
  const base = basePath ? (createRequire(import.meta.url)(basePath) as NativeAddon) : null;
  base?.setNumThreads(1);
  const cases = arg('shapes', DEFAULT_SHAPES.join(','))
    .split(',')
    .map((spec) => {
      const [dims, act] = spec.split('+');
      const [m, k, n] = dims.split('x').map(Number);
      const w = floats(k * n, 7 + n), a = floats(m * k, 3 + m), bias = floats(n, 11);
      const actCode = act === 'gelu' ? 2 : act === 'relu' ? 1 : 0;
      const bind = (addon: NativeAddon) => {
        const packed = new addon.PackedF32(w, k, n, false);
        const out = new Float32Array(m * n);
        return () => addon.matmulPacked(a, m, packed, out, bias, actCode);
      };
      const f = bind(native), fb = base ? bind(base) : null;
      // Calls per timed batch: about `ms` of work at 200 GFLOP/s.
      const calls = Math.max(3, Math.round((ms * 1e-3) / ((2 * m * n * k) / 200e9)));
      f();
      fb?.();
      return { spec, m, k, n, f, fb, calls, t: [] as number[], tb: [] as number[], ratio: [] as number[] };
    });
  const time = (f: () => void, calls: number) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) f();
    return (cpuMs(process.cpuUsage(c0)) * 1000) / calls; // µs
  };
  const load0 = os.loadavg()[0];
  const peak: number[] = [];
  for (let r = 0; r < rounds; r++) {
    peak.push(native.probeF32Peak(ms));
    for (const c of cases) {
      const tb0 = c.fb && r % 2 === 1 ? time(c.fb, c.calls) : 0;
      c.t.push(time(c.f, c.calls));
      if (c.fb) {
        c.tb.push(r % 2 === 1 ? tb0 : time(c.fb, c.calls));
        c.ratio.push(c.tb[r] / c.t[r]);
      }
    }
  }
  const pk = Math.max(...peak);
  const rows = cases.map((c) => {
    const us = median(c.t);
    const gflops = (2 * c.m * c.n * c.k) / us / 1e3;
    const baseUs = c.fb ? median(c.tb) : 0;
    return { shape: c.spec, us, gflops, pct: (100 * gflops) / pk, baseUs, ratio: c.fb ? median(c.ratio) : 0 };
  });
  const load1 = os.loadavg()[0];
  if (json) {
    console.log(JSON.stringify({ kernel: st.cpuInfo().kernels['matmul.f32'], peak: pk, load: [load0, load1], rows }));
    return;
  }
  console.log(`kernel ${st.cpuInfo().kernels['matmul.f32']}, addon ${process.env.SIMDTENSOR_ADDON ?? '(build)'}${base ? `, base ${basePath}` : ''}, load ${load0.toFixed(2)}`);
  console.log(`f32 FMA peak ${pk.toFixed(0)} GFLOP/s (best of ${rounds} rounds; median ${median(peak).toFixed(0)})`);
  for (const r of rows)
    console.log(
      `${r.shape}: ${r.us.toFixed(0)} µs CPU, ${r.gflops.toFixed(1)} GFLOP/s = ${r.pct.toFixed(1)} % of peak` +
        (base ? `; base ${r.baseUs.toFixed(0)} µs = ${((100 * (r.gflops * r.us)) / r.baseUs / pk).toFixed(1)} %, base/this ${r.ratio.toFixed(3)}` : ''),
    );
  console.log(`load at end ${load1.toFixed(2)}`);
}

void main();
