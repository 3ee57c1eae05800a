/**
 * The int8 GEMM alone (prepacked s8 weights, u8 activations, no quantization pass) against the VNNI peak measured in
 * the same rounds: where the rate drops with K. One thread, CPU time per call (the machine is shared), median of
 * `--rounds` interleaved rounds; `--out i32|f32` picks the epilogue (f32 = the dequantizing one `linear` uses).
 * A/B runs of the driver's K blocking: alternate processes with SIMDTENSOR_S8_KC=0 (off) and unset (default).
 *
 * `--a tensor` gives A one zero point and scale (the ONNX dynamic-int8 graphs) instead of one per row; `--bias` adds a
 * bias and `--act relu|gelu` an activation to the f32 epilogue (the encoder's Int8Linear nodes).
 *
 *   node dist/bench/int8-gemm-k.js [--rounds 7] [--out f32] [--a row|tensor] [--bias] [--act none|relu|gelu]
 *                                  [--shapes 64x1024x1024,64x4096x4096,...]   (M×K×N)
 * @module
 */
import { cpuMs, flag, median } from './measure.js';
import { rng } from '../src/random.js';

const arg = (name: string, def: string): string => flag(`--${name}`, def);

function bytes(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const { native } = await import('../src/native.js');
  st.setNumThreads(1);
  const rounds = Number(arg('rounds', '7'));
  const outKind = arg('out', 'f32');
  const perTensor = arg('a', 'row') === 'tensor';
  const act = ['none', 'relu', 'gelu'].indexOf(arg('act', 'none'));
  const withBias = process.argv.includes('--bias');
  const all = [64, 256].flatMap((m) => [1024, 4096].flatMap((k) => [1024, 4096].map((n) => `${m}x${k}x${n}`)));
  const shapes = arg('shapes', all.join(','))
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number, number]);
  const os = await import('node:os');
  console.log(
    `kernel ${st.cpuInfo().kernels['matmul.s8']}, out ${outKind}, A ${perTensor ? 'per tensor' : 'per row'}, bias ${withBias}, act ${act}, ` +
      `SIMDTENSOR_S8_COLTERM=${process.env.SIMDTENSOR_S8_COLTERM ?? '(default)'}, SIMDTENSOR_S8_KC=${process.env.SIMDTENSOR_S8_KC ?? '(default)'}, ` +
      `load ${os.loadavg()[0].toFixed(2)}`,
  );
  const cases = shapes.map(([m, k, n]) => {
    const w = st.packWeights(st.tensor(new Int8Array(bytes(n * k, 3 + k, -127, 127)), [n, k], 'int8'));
    const handle = (w as unknown as { handle: Parameters<typeof native.s8Gemm>[2] }).handle;
    const a = new Uint8Array(bytes(m * k, 5 + m, 0, 255));
    const sa = new Float32Array(perTensor ? 1 : m).fill(0.01);
    const za = new Int32Array(perTensor ? 1 : m).fill(128);
    const bias = withBias ? Float32Array.from({ length: n }, (_, j) => ((j % 17) - 8) / 16) : null;
    const out = outKind === 'i32' ? new Int32Array(m * n) : new Float32Array(m * n);
    const f = () =>
      outKind === 'i32'
        ? native.s8Gemm(a, m, handle, null, null, out, null, 0, 1, 0)
        : native.s8Gemm(a, m, handle, za, sa, out, bias, act, 1, 0);
    // Calls per timed batch: about 20 ms of work at 800 GOP/s.
    const calls = Math.max(3, Math.round(20e-3 / ((2 * m * n * k) / 800e9)));
    f();
    return { m, k, n, f, calls, t: [] as number[] };
  });
  const peak: number[] = [];
  for (let r = 0; r < rounds; r++) {
    peak.push(native.probeVnniPeak(20)?.gops ?? NaN);
    for (const c of cases) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < c.calls; i++) c.f();
      const u = process.cpuUsage(c0);
      c.t.push((cpuMs(u) * 1000) / c.calls); // µs
    }
  }
  const pk = median(peak);
  console.log(`VNNI peak ${pk.toFixed(0)} GOP/s (median of ${rounds}; range ${Math.min(...peak).toFixed(0)}–${Math.max(...peak).toFixed(0)})`);
  for (const c of cases) {
    const us = median(c.t);
    const gops = (2 * c.m * c.n * c.k) / us / 1e3;
    const best = (2 * c.m * c.n * c.k) / Math.min(...c.t) / 1e3;
    console.log(
      `${c.m}x${c.k}x${c.n}: ${us.toFixed(0)} µs CPU, ${gops.toFixed(0)} GOP/s = ${((100 * gops) / pk).toFixed(1)} % of the median peak; ` +
        `best round ${best.toFixed(0)} GOP/s = ${((100 * best) / Math.max(...peak)).toFixed(1)} % of the best peak`,
    );
  }
  console.log(`load at end ${os.loadavg()[0].toFixed(2)}`);
}

void main();
