/**
 * Sparse vs our dense `linear` at 4096×4096, one thread, with fresh outputs (as bench/sparse.ts times them) and into a
 * preallocated `{out}`, round-robin in one process, median process CPU time per call. Separates the kernels' ratio
 * from the fresh-output page-fault cost both sides pay (which compresses the ratio).
 *
 *   node dist/bench/sparse-out.js [--rounds 7] [--ms 8,64] [--kn 4096] [--fresh 0]
 * (--fresh 0 times only the `{out}` calls; with SIMDTENSOR_ADDON set it A/Bs another build's kernels against the
 * same dense baseline.)
 * @module
 */
import { cpuMs, flag, median } from './measure.js';

const arg = (name: string, def: string): string => flag(`--${name}`, def);

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const os = await import('node:os');
  st.setNumThreads(1);
  const rounds = Number(arg('rounds', '7'));
  const kn = Number(arg('kn', '4096'));
  const ms = arg('ms', '8,64').split(',').map(Number);
  const w = st.rand([kn, kn], { seed: 7 });
  const configs: [string, unknown][] = [
    ['csr 90%', st.packWeights(st.toSparse(st.prune(w, { sparsity: 0.9 }).weight) as never)],
    ['csr 70%', st.packWeights(st.toSparse(st.prune(w, { sparsity: 0.7 }).weight) as never)],
    ['2:4', st.packWeights(st.toSparse(st.prune(w, { pattern: '2:4' }).weight, { format: 'nm', nm: [2, 4] }) as never)],
  ];
  const dense = st.packWeights(w);
  console.log(`load ${os.loadavg()[0].toFixed(2)}; dense ${st.cpuInfo().kernels['matmul.f32']}`);
  for (const m of ms) {
    const x = st.rand([m, kn], { seed: 11 + m });
    const out = st.zeros([m, kn]);
    type C = { key: string; run: () => void; t: number[] };
    const cs: C[] = [];
    const intos = arg('fresh', '1') === '0' ? [true] : [false, true];
    for (const into of intos) {
      const o = into ? { out, sparseKernel: 'sparse' } : { sparseKernel: 'sparse' };
      cs.push({ key: `dense${into ? ' {out}' : ''}`, run: () => void st.linear(x, dense as never, null, (into ? { out } : {}) as never), t: [] });
      for (const [name, sp] of configs) cs.push({ key: `${name}${into ? ' {out}' : ''}`, run: () => void st.linear(x, sp as never, null, o as never), t: [] });
    }
    const reps = Math.max(2, Math.round(2e8 / (2 * m * kn * kn) * 4));
    for (const c of cs) c.run();
    for (let r = 0; r < rounds; r++)
      for (const c of r % 2 ? [...cs].reverse() : cs) {
        const u0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) c.run();
        const u = process.cpuUsage(u0);
        c.t.push(cpuMs(u) / reps);
      }
    const med = new Map(cs.map((c) => [c.key, median(c.t)]));
    for (const into of intos.map((i) => (i ? ' {out}' : ''))) {
      const d = med.get(`dense${into}`)!;
      const row = configs.map(([name]) => `${name} ${med.get(name + into)!.toFixed(2)} ms = ${(d / med.get(name + into)!).toFixed(2)}×`).join('; ');
      console.log(`M=${m}${into || ' fresh'}: dense ${d.toFixed(2)} ms (${((2 * m * kn * kn) / d / 1e6).toFixed(0)} GFLOP/s); ${row}`);
    }
  }
  console.log(`load at end ${os.loadavg()[0].toFixed(2)}`);
}

void main();
