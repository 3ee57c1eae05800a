/**
 * Half-precision family trials and probes for bench/run.ts. The built-in f16 and bf16 trials (half activations ×
 * packed half weights, f32 out, every foundation shape) already run through the public API; this module adds
 * weight-only half precision (f32 activations × f16/bf16 weights: half the weight bytes of f32), the bf16
 * convert-then-FMA path next to the vdpbf16ps one it lost to (see native/kernels/half-gemm/kernels.inc), and the
 * AMX-BF16 peak (the bf16 trials are bounded by it where the CPU has AMX).
 * @module
 */
import type { Trial, TrialInputs, TrialSpec } from './trials.js';
import { GEMM_SHAPES } from './trials.js';

const st = await import('../src/index.js');

const shape = (m: number, k: number, n: number) => `${m}x${k}x${n}`;

/** f32 activations × prepacked half weights (linear), f32 out. Bounded by the f32 FMA peak and the half bytes. */
function weightOnly(dtype: 'float16' | 'bfloat16', m: number, k: number, n: number): TrialSpec {
  const fam = dtype === 'float16' ? 'f16w' : 'bf16w';
  return {
    id: `${fam}/${shape(m, k, n)}`,
    name: `${fam} linear ${m}×${k}×${n} (f32 activations × ${dtype} weights)`,
    family: fam,
    dtype,
    m,
    k,
    n,
    peak: 'f32',
    quick: dtype === 'float16' && m === 1,
    // The shape comes from the trial the harness passes (--dry shrinks it).
    setup: (inp: TrialInputs, t: Trial) => {
      const x = st.tensor(inp.a, [t.m, t.k]);
      const w = st.packWeights(st.tensor(inp.wHalf!, [t.n, t.k], dtype));
      return () => st.linear(x, w);
    },
  };
}

/** bf16 × bf16 with the ISA capped below AVX512-BF16: the convert-then-FMA kernel, for the comparison. */
function bf16Convert(m: number, k: number, n: number): TrialSpec {
  return {
    id: `bf16-cvt/${shape(m, k, n)}`,
    name: `bf16 GEMM ${m}×${k}×${n} (convert+FMA path: cap avx512)`,
    family: 'bf16',
    dtype: 'bfloat16',
    m,
    k,
    n,
    peak: 'f32',
    threads: [1],
    setup: (inp: TrialInputs, t: Trial) => {
      const x = st.tensor(inp.aHalf!, [t.m, t.k], 'bfloat16');
      const w = st.packWeights(st.tensor(inp.wHalf!, [t.n, t.k], 'bfloat16'), { inputDtype: 'bfloat16' });
      return () => {
        const prev = st.getMaxIsa();
        st.setMaxIsa('avx512');
        try {
          return st.matmul(x, w);
        } finally {
          st.setMaxIsa(prev);
        }
      };
    },
  };
}

function build(): TrialSpec[] {
  const info = st.cpuInfo();
  const out: TrialSpec[] = [];
  for (const [m, k, n] of GEMM_SHAPES) out.push(weightOnly('float16', m, k, n));
  for (const [m, k, n] of GEMM_SHAPES) out.push(weightOnly('bfloat16', m, k, n));
  if (info.flags.avx512bf16 && info.supportedIsas.includes('avx512'))
    for (const [m, k, n] of GEMM_SHAPES) if (m >= 64) out.push(bf16Convert(m, k, n));
  // Where AMX runs, the built-in bf16 trials are bounded by the AMX-BF16 peak instead of vdpbf16ps.
  if (info.flags.amxPermitted && info.flags['amx-bf16'])
    for (const [m, k, n] of GEMM_SHAPES) out.push({ id: `bf16/${shape(m, k, n)}`, name: `bf16 GEMM ${m}×${k}×${n}`, family: 'bf16', dtype: 'bfloat16', m, k, n, peak: 'amxbf16' });
  return out;
}

/** The half family's extra trials (run next to the built-in f16/bf16 trials). */
export const trials: TrialSpec[] = build();

/** The AMX-BF16 peak (GFLOP/s, one core) or null without AMX; fp16 FMA and vdpbf16ps come from native.probeHalfPeak. */
export const probes = {
  amxbf16: (ms: number): number => st.probeHalfPeak('amxbf16', Math.max(ms, 1)) as number,
};
