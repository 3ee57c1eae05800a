/**
 * Sparse family trials for bench/run.ts: the target shapes (64×4096×4096 and 1×4096×4096) for unstructured
 * CSR at 70 % and 90 %, block 1×16 and 4×4 at 90 %, 2:4, and int8 CSR at 90 %. The crossover sweep against our own
 * dense kernels is bench/sparse.ts.
 * @module
 */
import type { Trial, TrialInputs, TrialSpec } from './trials.js';

type St = typeof import('../src/index.js');
let st: St | null = null;
async function lib(): Promise<St> {
  st ??= await import('../src/index.js');
  return st;
}

type Pattern = { tag: string; format: 'csr' | 'bsr' | 'nm'; block?: [number, number]; nm?: [number, number]; sparsity: number; dtype?: 'int8' };

/**
 * CSR trials use the run's own pruned inputs (`w` with random zeros at the trial's sparsity), so their output is
 * checked against the float64 reference. Block, N:M and int8 trials prune/quantize the weights to their pattern
 * first, so they compute something else than the reference: they return nothing and say so (agreement for them
 * is in test/sparse.test.ts).
 */
function trial(p: Pattern, m: number, k: number, n: number): TrialSpec {
  const checked = p.format === 'csr' && !p.dtype;
  return {
    id: `sparse-${p.tag}/${m}x${k}x${n}`,
    name: `sparse ${p.tag} ${m}×${k}×${n} (${Math.round(p.sparsity * 100)}% zeros${p.dtype ? ', int8' : ''})`,
    family: 'sparse',
    dtype: 'sparse',
    sparsity: p.sparsity,
    m,
    k,
    n,
    flops: 2 * m * k * n,
    quick: m === 64 && p.tag === 'csr90',
    setup: async (inp: TrialInputs, t: Trial) => {
      const { tensor, prune, toSparse, linear, packWeights } = await lib();
      const w = tensor(inp.w, [t.n, t.k]);
      const x = tensor(inp.a, [t.m, t.k]);
      const pruned =
        p.format === 'nm' ? prune(w, { pattern: 'n:m', nm: p.nm }).weight : p.format === 'bsr' ? prune(w, { pattern: 'block', block: p.block, sparsity: p.sparsity }).weight : w;
      const sp = packWeights(toSparse(pruned, { format: p.format, block: p.block, nm: p.nm, dtype: p.dtype ?? 'float32' }));
      if (checked) return () => linear(x, sp as never);
      return () => {
        linear(x, sp as never);
      };
    },
  };
}

const PATTERNS: Pattern[] = [
  { tag: 'csr70', format: 'csr', sparsity: 0.7 },
  { tag: 'csr90', format: 'csr', sparsity: 0.9 },
  { tag: 'bsr1x16-90', format: 'bsr', block: [1, 16], sparsity: 0.9 },
  { tag: 'bsr4x4-90', format: 'bsr', block: [4, 4], sparsity: 0.9 },
  { tag: 'nm2:4', format: 'nm', nm: [2, 4], sparsity: 0.5 },
  { tag: 'int8-csr90', format: 'csr', sparsity: 0.9, dtype: 'int8' },
];

/** The sparse trials: every pattern at the two target shapes. */
export const trials: TrialSpec[] = PATTERNS.flatMap((p) => [trial(p, 64, 4096, 4096), trial(p, 1, 4096, 4096)]);
