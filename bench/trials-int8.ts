/**
 * int8 family trials and probes for bench/run.ts. The built-in int8 trials (u8 activations × s8 weights → int32,
 * and float32 in → dynamic quantization → float32 out, at every foundation shape) already run through the public
 * API; this module adds the paths those don't cover and the AMX-INT8 peak probe.
 * @module
 */
import { GEMM_SHAPES, type Trial, type TrialInputs, type TrialSpec } from './trials.js';

type St = typeof import('../src/index.js');
let st: St | null = null;
async function lib(): Promise<St> {
  st ??= await import('../src/index.js');
  return st;
}

/** s8 activations: x86 kernels read u8, so these run the +128 shift with the column-sum correction. */
function s8s8(m: number, k: number, n: number): TrialSpec {
  return {
    id: `int8-s8s8/${m}x${k}x${n}`,
    name: `int8 GEMM ${m}×${k}×${n} (s8 × s8 → int32, +128 shift)`,
    family: 'int8',
    dtype: 'int8',
    m,
    k,
    n,
    // The shape comes from the trial the harness passes (--dry shrinks it).
    setup: async (inp: TrialInputs, t: Trial) => {
      const { tensor, matmul, packWeights } = await lib();
      const a = new Int8Array(inp.aU8!.buffer, inp.aU8!.byteOffset, inp.aU8!.length); // same bytes, read as s8
      const x = tensor(a, [t.m, t.k], 'int8');
      const w = packWeights(tensor(inp.wS8!, [t.n, t.k], 'int8'));
      // Returns nothing: the run's reference is the u8 product, so agreement is left to the int8 tests.
      return () => {
        matmul(x, w);
      };
    },
  };
}

/** Static (pre-quantized) u8 activations with per-channel weights, requantized to int8 with bias and ReLU fused. */
function requantized(m: number, k: number, n: number): TrialSpec {
  return {
    id: `int8-requant/${m}x${k}x${n}`,
    name: `int8 linear ${m}×${k}×${n} (u8 in, int8 out, bias+ReLU fused)`,
    family: 'int8',
    dtype: 'int8',
    m,
    k,
    n,
    setup: async (inp: TrialInputs, t: Trial) => {
      const { tensor, linear, packWeights, QuantizedTensor } = await lib();
      const x = new QuantizedTensor(tensor(inp.aU8!, [t.m, t.k], 'uint8'), 0.02, 128);
      const scales = new Float32Array(t.n).fill(0.01);
      const w = packWeights(new QuantizedTensor(tensor(inp.wS8!, [t.n, t.k], 'int8'), scales, new Int32Array(t.n), 0, 'symmetric'));
      const bias = tensor(inp.bias ?? new Float32Array(t.n), [t.n]);
      // Returns nothing: the output is requantized int8, not the run's int32 reference (tested in test/quantize.test.ts).
      return () => {
        linear(x as never, w, bias, { activation: 'relu', output: { dtype: 'int8', scale: 0.5, zeroPoint: 0 } } as never);
      };
    },
  };
}

/**
 * Extra int8 trials (run next to the built-in u8×s8 and dynamic-quantization trials). Where the AMX kernel is the
 * one selected, the built-in int8 trials are bounded by the AMX-INT8 peak instead of the VNNI one.
 */
export async function trials(): Promise<TrialSpec[]> {
  const out: TrialSpec[] = [s8s8(256, 1024, 1024), s8s8(1, 4096, 4096), requantized(64, 1024, 1024), requantized(256, 1024, 1024)];
  const { cpuInfo } = await lib();
  if (/amx/.test(cpuInfo().kernels['matmul.s8'] ?? ''))
    for (const [m, k, n] of GEMM_SHAPES) out.push({ id: `int8/${m}x${k}x${n}`, name: `int8 GEMM ${m}×${k}×${n}`, family: 'int8', dtype: 'int8', m, k, n, peak: 'amx' });
  return out;
}

/** The AMX-INT8 peak (GOP/s, one core), or null without AMX; the VNNI peak comes from native.probeVnniPeak. */
export const probes = {
  amx: (ms: number): number => {
    const r = st?.probeAmxInt8Peak(ms) ?? null;
    return (r ? r.gops : null) as number;
  },
};
