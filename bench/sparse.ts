/**
 * Sparsity sweep: sparse linear versus our own dense kernel of the same dtype, in the same run, one thread.
 * For each M and K = N, every sparse configuration (format × sparsity) and the dense kernel are timed round-robin
 * (one batch of calls each per round), so drift and neighbours' load hit all of them alike; the figure is the
 * median over rounds. Writes a table (Markdown), the raw data (JSON) and an SVG of speedup versus sparsity with
 * the crossover (speedup 1) marked, to bench/results/sparse.{md,json,svg}.
 *
 * Standalone: `npm run build:ts && node dist/bench/sparse.js [--full] [--rounds 7] [--out dir] [--quick]`.
 * Default: K = N = 4096, M = 1, 8, 64, 256, f32 CSR / BSR 1×16 / BSR 4×4 / 2:4 and int8 CSR / BSR 1×16 at
 * 50–97 % (a few minutes on 2 cores). --full adds K = N = 1024, more sparsities and formats.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuMs, median } from './measure.js';

type St = typeof import('../src/index.js');

/** One sparse configuration of the sweep, as data. */
export interface SparseConfig {
  /** e.g. 'csr', 'bsr1x16', 'nm2:4', 'int8-csr'. */
  label: string;
  dtype: 'float32' | 'int8';
  format: 'csr' | 'bsr' | 'nm';
  block?: [number, number];
  nm?: [number, number];
  /** Sparsities to sweep (N:M has the one its pattern implies). */
  sparsities: number[];
}

/** One measured point. */
export interface SparsePoint {
  label: string;
  dtype: 'float32' | 'int8';
  m: number;
  k: number;
  n: number;
  /** Achieved sparsity of the pruned weight (zeros / size). */
  sparsity: number;
  /** Median ms per call on the chosen clock, sparse kernel and dense kernel of the same dtype (same rounds). */
  sparseMs: number;
  denseMs: number;
  speedup: number;
  /** The same on the other clock (wall when the table uses CPU time, and vice versa). */
  otherSparseMs: number;
  otherDenseMs: number;
  /** The kernel the sparse call ran (forced sparse) and what `linear` picks in auto mode. */
  kernel: string;
  autoKernel: string;
  denseKernel: string;
}

export interface SweepOptions {
  full: boolean;
  quick: boolean;
  rounds: number;
  out: string;
  /** Which clock the speedups use: 'cpu' (default; see roundRobin) or 'wall'. */
  clock: 'cpu' | 'wall';
}

const SWEEP = [0.5, 0.7, 0.9, 0.97];
const SWEEP_FULL = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97];

/** The configurations: default grid, or the whole one with `full`. */
export function sparseConfigs(full: boolean): SparseConfig[] {
  const s = full ? SWEEP_FULL : SWEEP;
  const out: SparseConfig[] = [
    { label: 'csr', dtype: 'float32', format: 'csr', sparsities: full ? s : [0.5, 0.6, 0.7, 0.9, 0.97] },
    { label: 'bsr1x16', dtype: 'float32', format: 'bsr', block: [1, 16], sparsities: s },
    { label: 'bsr4x4', dtype: 'float32', format: 'bsr', block: [4, 4], sparsities: s },
    { label: 'nm2:4', dtype: 'float32', format: 'nm', nm: [2, 4], sparsities: [0.5] },
    { label: 'int8-csr', dtype: 'int8', format: 'csr', sparsities: s },
    { label: 'int8-bsr1x16', dtype: 'int8', format: 'bsr', block: [1, 16], sparsities: s },
  ];
  if (full)
    out.push(
      { label: 'bsr1x8', dtype: 'float32', format: 'bsr', block: [1, 8], sparsities: s },
      { label: 'nm1:4', dtype: 'float32', format: 'nm', nm: [1, 4], sparsities: [0.75] },
      { label: 'nm1:8', dtype: 'float32', format: 'nm', nm: [1, 8], sparsities: [0.875] },
      { label: 'int8-bsr4x4', dtype: 'int8', format: 'bsr', block: [4, 4], sparsities: s },
    );
  return out;
}

function parseArgs(argv: string[]): SweepOptions {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bench → bench/results in the source tree; bench → bench/results when run from source.
  const root = here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..') : join(here, '..');
  const o: SweepOptions = { full: false, quick: false, rounds: 7, out: join(root, 'bench', 'results'), clock: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') o.full = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--rounds') o.rounds = Math.max(3, Number(argv[++i]) || 7);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--wall') o.clock = 'wall';
    else throw new Error(`bench/sparse: unknown argument ${a} (use --full, --quick, --rounds N, --out DIR, --wall)`);
  }
  return o;
}


/** Calls per timed batch so one batch lasts about `ms` (at least 1). */
function calibrate(fn: () => unknown, ms: number): number {
  fn();
  const t0 = performance.now();
  fn();
  const one = Math.max(performance.now() - t0, 1e-3);
  return Math.max(1, Math.round(ms / one));
}

interface Contender {
  key: string;
  run: () => unknown;
  reps: number;
  wall: number[];
  cpu: number[];
}

/**
 * Times every contender round-robin: `rounds` batches each. Returns per-call medians (ms) by key of both clocks:
 * wall, and the process's CPU time (user + system). With one compute thread the CPU time is that thread's time
 * while scheduled, which on a shared, oversubscribed machine is the meaningful figure (wall time then mostly
 * measures the scheduler); both are kept.
 */
function roundRobin(cs: Contender[], rounds: number): Map<string, { wall: number; cpu: number }> {
  for (const c of cs) c.reps = calibrate(c.run, 20);
  for (let r = 0; r < rounds; r++)
    for (const c of r % 2 ? [...cs].reverse() : cs) {
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < c.reps; i++) c.run();
      const t1 = performance.now();
      const u = process.cpuUsage(u0);
      c.wall.push((t1 - t0) / c.reps);
      c.cpu.push(cpuMs(u) / c.reps);
    }
  return new Map(cs.map((c) => [c.key, { wall: median(c.wall), cpu: median(c.cpu) }]));
}

/** Runs the sweep; `log` gets one progress line per block. */
export async function runSparseSweep(o: SweepOptions, log: (s: string) => void = console.log): Promise<SparsePoint[]> {
  const st: St = await import('../src/index.js');
  st.setNumThreads(1);
  const sizes = o.quick ? [1024] : o.full ? [4096, 1024] : [4096];
  const ms = o.quick ? [1, 64] : [1, 8, 64, 256];
  const configs = sparseConfigs(o.full);
  const points: SparsePoint[] = [];
  for (const kn of sizes) {
    const [n, k] = [kn, kn];
    const w = st.rand([n, k], { seed: 7 });
    // Weights once per (config, sparsity): pruned to the pattern, then converted.
    const weights: { cfg: SparseConfig; s: number; sp: InstanceType<St['SparseTensor']> }[] = [];
    for (const cfg of configs)
      for (const s of cfg.sparsities) {
        const pruned =
          cfg.format === 'nm'
            ? st.prune(w, { pattern: 'n:m', nm: cfg.nm })
            : cfg.format === 'bsr'
              ? st.prune(w, { pattern: 'block', block: cfg.block, sparsity: s })
              : st.prune(w, { sparsity: s });
        const sp = st.toSparse(pruned.weight, { format: cfg.format, block: cfg.block, nm: cfg.nm, dtype: cfg.dtype });
        st.packWeights(sp); // validate and copy now, not inside the timing
        weights.push({ cfg, s: pruned.sparsity, sp });
      }
    const denseF32 = st.packWeights(w);
    const denseS8 = st.packWeights(st.quantize(w, { dtype: 'int8', scheme: 'symmetric', axis: 0 }));
    for (const m of ms) {
      const x = st.rand([m, k], { seed: 11 + m });
      for (const dtype of ['float32', 'int8'] as const) {
        const mine = weights.filter((e) => e.cfg.dtype === dtype);
        if (!mine.length) continue;
        const dense = dtype === 'float32' ? denseF32 : denseS8;
        const cs: Contender[] = [{ key: 'dense', run: () => st.linear(x, dense), reps: 1, wall: [], cpu: [] }];
        mine.forEach((e, i) => cs.push({ key: String(i), run: () => st.linear(x, e.sp, null, { sparseKernel: 'sparse' }), reps: 1, wall: [], cpu: [] }));
        const t0 = performance.now();
        const med = roundRobin(cs, o.rounds);
        const denseKernel = dtype === 'float32' ? st.cpuInfo().kernels['matmul.f32'] : mine[0].sp.kernelFor(m, 'dense');
        mine.forEach((e, i) => {
          st.linear(x, e.sp, null, { sparseKernel: 'sparse' });
          const kernel = st.lastSparseKernel();
          const sp = med.get(String(i))!;
          const de = med.get('dense')!;
          const other = o.clock === 'cpu' ? 'wall' : 'cpu';
          const sparseMs = sp[o.clock];
          const denseMs = de[o.clock];
          points.push({ label: e.cfg.label, dtype, m, k, n, sparsity: e.s, sparseMs, denseMs, speedup: denseMs / sparseMs, otherSparseMs: sp[other], otherDenseMs: de[other], kernel, autoKernel: e.sp.kernelFor(m), denseKernel });
        });
        log(`sparse sweep: ${dtype} M=${m} K=N=${kn}: ${mine.length} configs, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
  }
  return points;
}

/** Lowest sparsity at which the sparse kernel is at least as fast as dense (linear interpolation), or null. */
export function crossover(pts: SparsePoint[]): number | null {
  const s = [...pts].sort((a, b) => a.sparsity - b.sparsity);
  if (!s.length) return null;
  if (s[0].speedup >= 1) return s[0].sparsity;
  for (let i = 1; i < s.length; i++)
    if (s[i].speedup >= 1) {
      const a = s[i - 1];
      const b = s[i];
      const t = (1 - a.speedup) / (b.speedup - a.speedup);
      return a.sparsity + t * (b.sparsity - a.sparsity);
    }
  return null;
}

const pct = (s: number) => `${+(s * 100).toFixed(1)}%`;

/** Markdown: one speedup table per K = N, rows config × sparsity, columns M; then the crossover table. */
export function sparseMarkdown(points: SparsePoint[], o: SweepOptions): string {
  const lines: string[] = [];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const clock = o.clock === 'cpu' ? 'CPU time per call (process user+system, one compute thread)' : 'wall clock';
  lines.push(`Sparse linear vs our dense kernel of the same dtype (one thread, median of ${o.rounds} round-robin rounds, ${clock}).`);
  lines.push(`CPU: ${cpu}; load average at the end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}. Speedup = dense ms / sparse ms.`);
  const sizes = [...new Set(points.map((p) => p.k))];
  const ms = [...new Set(points.map((p) => p.m))].sort((a, b) => a - b);
  for (const kn of sizes) {
    lines.push('', `### K = N = ${kn}`, '');
    lines.push(`| config | sparsity | ${ms.map((m) => `M=${m}`).join(' | ')} | kernel (M=${ms[ms.length - 1]}) |`);
    lines.push(`|---|---|${ms.map(() => '---:').join('|')}|---|`);
    const keys = [...new Set(points.filter((p) => p.k === kn).map((p) => `${p.label}@${p.sparsity}`))];
    for (const key of keys) {
      const row = points.filter((p) => p.k === kn && `${p.label}@${p.sparsity}` === key);
      const cells = ms.map((m) => {
        const p = row.find((q) => q.m === m);
        return p ? `${p.speedup.toFixed(2)}× (${p.sparseMs.toFixed(3)} ms)` : '';
      });
      lines.push(`| ${row[0].label} | ${pct(row[0].sparsity)} | ${cells.join(' | ')} | ${row[row.length - 1].kernel} |`);
    }
    lines.push('', `Dense per call (ms): ${ms
      .map((m) => {
        const f = points.find((p) => p.k === kn && p.m === m && p.dtype === 'float32');
        const i = points.find((p) => p.k === kn && p.m === m && p.dtype === 'int8');
        return `M=${m}: f32 ${f ? f.denseMs.toFixed(3) : '–'} (${f?.denseKernel ?? ''}), int8 ${i ? i.denseMs.toFixed(3) : '–'} (${i?.denseKernel ?? ''})`;
      })
      .join('; ')}.`);
    lines.push('', `Crossover (lowest sparsity where sparse ≥ dense, interpolated; '>' = not reached in the sweep):`, '');
    lines.push(`| config | ${ms.map((m) => `M=${m}`).join(' | ')} |`, `|---|${ms.map(() => '---:').join('|')}|`);
    for (const label of [...new Set(points.filter((p) => p.k === kn).map((p) => p.label))]) {
      const cells = ms.map((m) => {
        const pts = points.filter((p) => p.k === kn && p.m === m && p.label === label);
        if (!pts.length) return '';
        const c = crossover(pts);
        return c === null ? `>${pct(Math.max(...pts.map((p) => p.sparsity)))}` : pct(c);
      });
      lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

/** SVG: one panel per M (largest K = N), speedup (log scale) versus sparsity per config, the 1× line marked. */
export function sparseSvg(points: SparsePoint[]): string {
  const kn = Math.max(...points.map((p) => p.k));
  const pts = points.filter((p) => p.k === kn);
  const ms = [...new Set(pts.map((p) => p.m))].sort((a, b) => a - b);
  const labels = [...new Set(pts.map((p) => p.label))];
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const PW = 300;
  const PH = 240;
  const ML = 50;
  const MT = 40;
  const W = ML + ms.length * (PW + 30) + 150;
  const H = MT + PH + 60;
  const yMin = Math.min(0.25, ...pts.map((p) => p.speedup));
  const yMax = Math.max(4, ...pts.map((p) => p.speedup));
  const ly = (v: number) => MT + PH - ((Math.log(v) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * PH;
  const sx = (s: number, x0: number) => x0 + ((s - 0.45) / (1 - 0.45)) * PW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<text x="${ML}" y="16" font-size="13">Sparse linear speedup over our dense kernel (same dtype), K = N = ${kn}, one thread; dashed: 1× (crossover)</text>`);
  ms.forEach((m, pi) => {
    const x0 = ML + pi * (PW + 30);
    out.push(`<rect x="${x0}" y="${MT}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${x0 + PW / 2}" y="${MT - 6}" text-anchor="middle">M = ${m}</text>`);
    for (const t of [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64].filter((v) => v >= yMin && v <= yMax)) {
      out.push(`<line x1="${x0}" x2="${x0 + PW}" y1="${ly(t)}" y2="${ly(t)}" stroke="${t === 1 ? '#000' : '#eee'}" ${t === 1 ? 'stroke-dasharray="4 3"' : ''}/>`);
      if (pi === 0) out.push(`<text x="${x0 - 4}" y="${ly(t) + 4}" text-anchor="end">${t}×</text>`);
    }
    for (const s of [0.5, 0.6, 0.7, 0.8, 0.9, 1]) out.push(`<text x="${sx(s, x0)}" y="${MT + PH + 14}" text-anchor="middle">${Math.round(s * 100)}%</text>`);
    labels.forEach((label, li) => {
      const ser = pts.filter((p) => p.m === m && p.label === label).sort((a, b) => a.sparsity - b.sparsity);
      if (!ser.length) return;
      const c = colors[li % colors.length];
      const d = ser.map((p, i) => `${i ? 'L' : 'M'}${sx(p.sparsity, x0).toFixed(1)},${ly(p.speedup).toFixed(1)}`).join(' ');
      if (ser.length > 1) out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"${label.startsWith('int8') ? ' stroke-dasharray="5 2"' : ''}/>`);
      for (const p of ser) out.push(`<circle cx="${sx(p.sparsity, x0).toFixed(1)}" cy="${ly(p.speedup).toFixed(1)}" r="2.5" fill="${c}"><title>${label} ${pct(p.sparsity)} M=${m}: ${p.speedup.toFixed(2)}×</title></circle>`);
    });
  });
  out.push(`<text x="${ML + (ms.length * (PW + 30)) / 2}" y="${H - 12}" text-anchor="middle">sparsity (zeros / weights)</text>`);
  labels.forEach((label, li) => {
    const x = ML + ms.length * (PW + 30) + 10;
    const y = MT + 14 * li + 10;
    out.push(`<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${colors[li % colors.length]}" stroke-width="2"${label.startsWith('int8') ? ' stroke-dasharray="5 2"' : ''}/><text x="${x + 22}" y="${y}">${label}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const points = await runSparseSweep(o);
  mkdirSync(o.out, { recursive: true });
  const md = sparseMarkdown(points, o);
  writeFileSync(join(o.out, 'sparse.md'), md);
  writeFileSync(join(o.out, 'sparse.json'), JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, options: o, points }, null, 1));
  writeFileSync(join(o.out, 'sparse.svg'), sparseSvg(points));
  console.log(md);
  console.log(`wrote ${join(o.out, 'sparse.md')}, sparse.json, sparse.svg`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
