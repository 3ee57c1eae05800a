/**
 * CSR sparse weights at 4096², one thread: memory held (`sparse.bytes` before any call and after calls at every
 * M) and speed against our dense `linear`, into a preallocated `{out}`, rounds alternating the contenders in one
 * process, median process CPU time per call. For issue #20 (one copy of CSR weights for every M): A/B against
 * another build with SIMDTENSOR_ADDON, process by process.
 *
 *   node dist/bench/sparse-mem.js [--rounds 5] [--ms 1,8,64,256] [--sparsity 0.7,0.8] [--kn 4096]
 * @module
 */
import { cpuMs, flag, median } from './measure.js';

const ROUNDS = Number(flag('--rounds', '5'));
const KN = Number(flag('--kn', '4096'));
const MS = flag('--ms', '1,8,64,256').split(',').map(Number);
const SPARSITY = flag('--sparsity', '0.7,0.8').split(',').map(Number);

async function main(): Promise<void> {
  const [st, os] = await Promise.all([import('../src/index.js'), import('node:os')]);
  st.setNumThreads(1);
  const kn = KN;
  const w = st.rand([kn, kn], { seed: 7 });
  const configs = SPARSITY.map((s) => ({ name: `csr ${Math.round(s * 100)}%`, sp: st.toSparse(st.prune(w, { sparsity: s }).weight) }));
  const before = configs.map((c) => c.sp.bytes);
  const dense = st.packWeights(w);
  console.log(`load ${os.loadavg()[0].toFixed(2)}; dense ${st.cpuInfo().kernels['matmul.f32']}`);
  const ratios: Record<string, number> = {};
  for (const m of MS) {
    const x = st.rand([m, kn], { seed: 11 + m });
    const out = st.zeros([m, kn]);
    const cs = [{ key: 'dense', run: () => void st.linear(x, dense as never, null, { out }), t: [] as number[] }];
    for (const c of configs)
      cs.push({ key: c.name, run: () => void st.linear(x, c.sp, null, { out, sparseKernel: 'sparse' }), t: [] });
    const reps = Math.max(3, Math.round((2e8 / (2 * m * kn * kn)) * 4));
    for (const c of cs) c.run();
    for (let r = 0; r < ROUNDS; r++)
      for (const c of r % 2 ? [...cs].reverse() : cs) {
        const u0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) c.run();
        c.t.push(cpuMs(process.cpuUsage(u0)) / reps);
      }
    const d = median(cs[0].t);
    const row = configs.map((c, i) => {
      const t = median(cs[i + 1].t);
      ratios[`${c.name} M=${m}`] = d / t;
      return `${c.name} ${t.toFixed(3)} ms = ${(d / t).toFixed(2)}× [${c.sp.kernelFor(m, 'sparse')}]`;
    });
    console.log(`M=${m}: dense ${d.toFixed(3)} ms; ${row.join('; ')}`);
  }
  console.log(`bytes before → after the calls: ${configs.map((c, i) => `${c.name} ${(before[i] / 1e6).toFixed(2)} → ${(c.sp.bytes / 1e6).toFixed(2)} MB`).join('; ')}`);
  console.log(`load at end ${os.loadavg()[0].toFixed(2)}`);
  console.log(`JSON ${JSON.stringify(ratios)}`);
}

void main();
