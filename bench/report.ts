/**
 * Presents a benchmark run: the console table, the Markdown report, the SVG chart, and the issue's targets checked
 * against the figures of the same run.
 * @module
 */
import type { Agreement, Stats, TimingOptions } from './measure.js';
import type { Bound, ProbeResult } from './probes.js';
import { builtinTrials, type Trial } from './trials.js';

/** How one contender did on one trial. */
export interface ContenderResult {
  status: 'ok' | 'skipped' | 'failed' | 'disagreed';
  reason?: string;
  /** Seconds per call. */
  time?: Stats;
  kernel?: string;
  note?: string;
  agreement?: Agreement;
}

/** One trial at one thread count. */
export interface TrialResult {
  trial: Omit<Trial, 'setup'>;
  threads: number;
  /** simdtensor's thread count as the library reports it (null when the build cannot say). */
  simdtensorThreads?: number | null;
  bound: Bound | null;
  bandwidth: ProbeResult | null;
  results: Record<string, ContenderResult>;
  wallSeconds: number;
  /** Where the wall time went (ms): input generation, each contender's preparation and agreement call, timing. */
  phaseMs?: Record<string, number>;
  error?: string;
}

/** A section contributed by an extra benchmark module (threads, serve, …). */
export interface ExtraSection {
  name: string;
  title: string;
  markdown: string;
  data?: unknown;
}

/** Everything a run produced (written to bench/results/latest.json). */
export interface BenchReport {
  schema: 1;
  date: string;
  command: string;
  mode: 'full' | 'quick' | 'dry';
  machine: {
    cpu: string;
    logicalCpus: number;
    memoryGiB: number;
    os: string;
    node: string;
    bestIsa: string;
    kernels: Record<string, string>;
    /** os.loadavg()[0] when the run started and ended (other work on the machine skews the figures). */
    loadAverage?: { start: number; end: number };
  };
  timing: TimingOptions;
  peaks: Record<string, ProbeResult | null>;
  contenders: Record<string, { label: string; version: string; settings: string }>;
  excluded: Record<string, string>;
  trials: TrialResult[];
  targets: TargetResult[];
  extras: ExtraSection[];
  notes: string[];
  wallSeconds: number;
}

/** The main library's contender key. */
export const OURS = 'simdtensor';

/** Display value of a result: GFLOP/s or GOP/s from the median time, or µs per call. */
export function rateOf(t: Pick<Trial, 'flops' | 'unit'>, s: Stats | undefined, which: 'median' | 'min' | 'max' = 'median'): number | null {
  if (!s) return null;
  const sec = s[which];
  if (t.unit === 'us/call') return sec * 1e6;
  return t.flops / sec / 1e9;
}

/** How many times faster simdtensor is than a contender on a trial (ratio of median times), or null. */
export function speedup(r: TrialResult, contender: string): number | null {
  const ours = r.results[OURS];
  const them = r.results[contender];
  if (ours?.status !== 'ok' || them?.status !== 'ok' || !ours.time || !them.time) return null;
  return them.time.median / ours.time.median;
}

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v >= 1000) return v.toFixed(0);
  if (v >= 100) return v.toFixed(Math.max(0, digits - 3));
  if (v >= 10) return v.toFixed(Math.max(0, digits - 2));
  if (v >= 1) return v.toFixed(digits - 1);
  return v.toPrecision(2);
}

function unitLabel(u: Trial['unit']): string {
  return u === 'us/call' ? 'µs/call' : u;
}

// ---------------------------------------------------------------------------------------------------------------
// Targets

/** A target of the issue: simdtensor at least `min`× a contender on the listed trials, one thread. */
export interface Target {
  text: string;
  vs: string;
  trialIds: string[];
  min: number;
  /** Strictly faster (MLP: "faster than"). */
  strict?: boolean;
}

/** The outcome of a target in this run. */
export interface TargetResult extends Target {
  status: 'met' | 'short' | 'not measured';
  /** Measured speedup for each trial id (null: not measured). */
  measured: Record<string, number | null>;
}

const COMPUTE = ['8x4096x4096', '64x1024x1024', '256x1024x1024', '1024x1024x1024', '255x1023x1023'];
const ALL = ['1x4096x4096', ...COMPUTE];

/** The issue's targets (figures are checked only against this run's medians). */
export const TARGETS: Target[] = [
  { text: 'f32 GEMM ≥ 1.2× onnxruntime-node where compute-bound (M ≥ 8)', vs: 'onnxruntime-node', trialIds: COMPUTE.map((s) => `f32/${s}`), min: 1.2 },
  { text: 'f32 GEMM ≥ 1.0× onnxruntime-node at M = 1', vs: 'onnxruntime-node', trialIds: ['f32/1x4096x4096'], min: 1.0 },
  { text: 'f32 GEMM ≥ 6× TF.js WASM', vs: 'tfjs-wasm', trialIds: ALL.map((s) => `f32/${s}`), min: 6 },
  { text: "int8 GEMM ≥ 2.5× onnxruntime-node's MatMulInteger at 64–1024×1024×1024", vs: 'onnxruntime-node', trialIds: ['64x1024x1024', '256x1024x1024', '1024x1024x1024'].map((s) => `int8/${s}`), min: 2.5 },
  { text: 'int8 GEMM ≥ 1.2× MatMulInteger at M = 8', vs: 'onnxruntime-node', trialIds: ['int8/8x4096x4096'], min: 1.2 },
  { text: 'int8 GEMM ≥ 1.0× MatMulInteger at M = 1', vs: 'onnxruntime-node', trialIds: ['int8/1x4096x4096'], min: 1.0 },
  { text: "f16 GEMM ≥ 2× onnxruntime-node's f16 MatMul at every shape", vs: 'onnxruntime-node', trialIds: ALL.map((s) => `f16/${s}`), min: 2 },
  { text: "4×4 matmul per-call overhead ≤ 1/15 of session.run's", vs: 'onnxruntime-node', trialIds: ['overhead/matmul-4x4'], min: 15 },
  { text: 'MLP f32 (batch 1, 64) faster than onnxruntime-node on the same weights', vs: 'onnxruntime-node', trialIds: ['mlp-f32/b1', 'mlp-f32/b64'], min: 1, strict: true },
  { text: 'MLP int8 (batch 1, 64) faster than onnxruntime-node on the same weights', vs: 'onnxruntime-node', trialIds: ['mlp-int8/b1', 'mlp-int8/b64'], min: 1, strict: true },
];

/** Checks each target against the one-thread results of this run. */
export function evaluateTargets(results: TrialResult[]): TargetResult[] {
  return TARGETS.map((t) => {
    const measured: Record<string, number | null> = {};
    for (const id of t.trialIds) {
      const r = results.find((x) => x.trial.id === id && x.threads === 1);
      measured[id] = r ? speedup(r, t.vs) : null;
    }
    const vals = Object.values(measured);
    const got = vals.filter((v): v is number => v !== null);
    let status: TargetResult['status'];
    if (got.length === 0) status = 'not measured';
    else if (got.every((v) => (t.strict ? v > t.min : v >= t.min)) && got.length === vals.length) status = 'met';
    else if (got.some((v) => (t.strict ? v <= t.min : v < t.min))) status = 'short';
    else status = 'not measured';
    return { ...t, status, measured };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Console

const SHORT: Record<string, string> = {
  'simdtensor-scalar': 'scalar',
  'onnxruntime-node': 'ORT',
  'tfjs-wasm': 'TF-wasm',
  'tfjs-cpu': 'TF-cpu',
  'ml-matrix': 'ml-matrix',
};

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  if (len >= n) return s;
  return right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

/** One line summarising a finished trial (shown as progress). */
export function progressLine(r: TrialResult, contenders: string[]): string {
  const parts: string[] = [];
  const u = unitLabel(r.trial.unit);
  for (const c of contenders) {
    const x = r.results[c];
    if (!x) continue;
    if (x.status === 'ok') {
      const v = fmt(rateOf(r.trial, x.time));
      const s = speedup(r, c);
      parts.push(`${SHORT[c] ?? c} ${v}${c !== OURS && s !== null ? ` (${fmt(s)}×)` : ''}`);
    } else if (x.status !== 'skipped') parts.push(`${SHORT[c] ?? c} ${x.status.toUpperCase()}`);
  }
  if (parts.length === 0) return `nothing ran (simdtensor: ${r.results[OURS]?.reason ?? 'not selected'})`;
  return `${parts.join(' · ')}  [${u}, ${r.wallSeconds.toFixed(1)} s]`;
}

/** The console table: one row per trial and thread count. */
export function consoleTable(rep: BenchReport): string {
  const others = Object.keys(rep.contenders).filter((c) => c !== OURS);
  const head = ['trial', 'thr', 'simdtensor', 'unit', 'IQR', '% bound', 'kernel', ...others.map((c) => `vs ${SHORT[c] ?? c}`)];
  const rows: string[][] = [];
  for (const r of rep.trials) {
    const ours = r.results[OURS];
    const v = ours?.status === 'ok' ? fmt(rateOf(r.trial, ours.time)) : ours?.status ?? '—';
    const range = ours?.status === 'ok' && ours.time ? `${ours.time.iqrPct.toFixed(0)}%` : '';
    const bound = ours?.status === 'ok' && r.bound && r.trial.unit !== 'us/call' ? `${((rateOf(r.trial, ours.time)! / r.bound.value) * 100).toFixed(0)}% ${r.bound.kind[0]}` : '';
    rows.push([
      r.trial.name,
      String(r.threads),
      v,
      unitLabel(r.trial.unit),
      range,
      bound,
      ours?.kernel ?? '',
      ...others.map((c) => {
        const s = speedup(r, c);
        if (s !== null) return `${fmt(s)}×`;
        const x = r.results[c];
        return !x || x.status === 'skipped' ? '' : x.status;
      }),
    ]);
  }
  const widths = head.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...r[i]].length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i], i >= 2 && i !== 3 && i !== 6)).join('  ');
  const out = [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  out.push('', 'IQR: spread of simdtensor\'s timed runs, (q3 − q1) / median. % bound: of the roofline bound measured in this run (c = compute peak × threads, b = one core\'s read bandwidth × op/byte).');
  out.push('vs X: how many times faster simdtensor is than X (ratio of median times; > 1 means simdtensor is faster).');
  return out.join('\n');
}

/** Target lines for the console. */
export function consoleTargets(rep: BenchReport): string {
  return rep.targets
    .map((t) => {
      const vals = Object.entries(t.measured)
        .map(([id, v]) => `${id.split('/')[1]} ${v === null ? '—' : fmt(v) + '×'}`)
        .join(', ');
      const mark = t.status === 'met' ? 'MET  ' : t.status === 'short' ? 'SHORT' : 'n/a  ';
      return `${mark} ${t.text}: ${vals}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

function familyTitle(f: string): string {
  const m: Record<string, string> = {
    f32: 'f32 GEMM (prepacked weights)',
    int8: 'int8 GEMM (u8 × s8 → int32, prepacked weights)',
    'int8-dyn': 'int8 GEMM with float32 in and out (dynamic activation quantization)',
    f16: 'f16 GEMM',
    bf16: 'bf16 GEMM',
    sparse: 'Sparse GEMM (pruned f32 weights)',
    overhead: 'Per-call overhead (lower is better)',
    mlp: 'MLP 256 → 1024 → 1024 → 10',
  };
  return m[f] ?? f;
}

/** The results table in Markdown (grouped by family), as embedded in the README and the report. */
export function markdownTable(rep: BenchReport): string {
  const others = Object.keys(rep.contenders).filter((c) => c !== OURS);
  const families = [...new Set(rep.trials.map((r) => r.trial.family))];
  const out: string[] = [];
  for (const fam of families) {
    const rs = rep.trials.filter((r) => r.trial.family === fam);
    const cols = others.filter((c) => rs.some((r) => r.results[c] && r.results[c].status !== 'skipped'));
    const unit = unitLabel(rs[0].trial.unit);
    out.push(`**${familyTitle(fam)}** — ${unit}${rs[0].trial.unit === 'us/call' ? '' : ' (median)'}; other columns: their figure (simdtensor's speedup)`, '');
    out.push(`| Trial | Threads | simdtensor | spread (IQR) | % of bound |${cols.map((c) => ` ${rep.contenders[c].label} |`).join('')}`);
    out.push(`|---|--:|--:|--:|--:|${cols.map(() => '--:|').join('')}`);
    for (const r of rs) {
      const ours = r.results[OURS];
      const v = ours?.status === 'ok' ? `**${fmt(rateOf(r.trial, ours.time))}**` : ours ? `${ours.status}` : '—';
      const range = ours?.status === 'ok' && ours.time ? `${ours.time.iqrPct.toFixed(0)}%` : '';
      const bound = ours?.status === 'ok' && r.bound && r.trial.unit !== 'us/call' ? `${((rateOf(r.trial, ours.time)! / r.bound.value) * 100).toFixed(0)}% (${r.bound.kind})` : '';
      const cells = cols.map((c) => {
        const x = r.results[c];
        if (!x) return '';
        if (x.status === 'ok') {
          const s = speedup(r, c);
          return `${fmt(rateOf(r.trial, x.time))}${s !== null ? ` (${fmt(s)}×)` : ''}`;
        }
        if (x.status === 'skipped') return '–';
        return x.status;
      });
      const label = r.trial.name.replace(/^(f32|int8|int8 dynamic|f16|bf16|sparse) GEMM /, '');
      out.push(`| ${label} | ${r.threads} | ${v} | ${range} | ${bound} |${cells.map((c) => ` ${c} |`).join('')}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** The targets as a Markdown table. */
export function markdownTargets(rep: BenchReport): string {
  const out = ['| Target (one thread) | Measured speedup | Status |', '|---|---|---|'];
  for (const t of rep.targets) {
    const vals = Object.entries(t.measured)
      .map(([id, v]) => `${id.split('/')[1]}: ${v === null ? '—' : fmt(v) + '×'}`)
      .join(', ');
    const st = t.status === 'met' ? '✅ met' : t.status === 'short' ? '❌ short' : '— not measured';
    out.push(`| ${t.text} | ${vals} | ${st} |`);
  }
  return out.join('\n');
}

/** One paragraph naming the machine, date, peaks and the command (under every table). */
export function markdownMachine(rep: BenchReport): string {
  const m = rep.machine;
  const peaks = Object.entries(rep.peaks)
    .filter(([, p]) => p && !p.source.startsWith('no '))
    .map(([k, p]) => `${k} ${fmt(p!.value.median)} G${k === 'f32' || k === 'bf16' || k === 'f16' ? 'FLOP' : 'OP'}/s`)
    .join(', ');
  const load = m.loadAverage ? ` Load average (1 min) at start ${m.loadAverage.start.toFixed(1)}, at end ${m.loadAverage.end.toFixed(1)}${Math.max(m.loadAverage.start, m.loadAverage.end) > m.logicalCpus * 0.5 ? ': other work shared the CPUs, so treat the figures as indicative' : ''}.` : '';
  return [
    `Measured ${rep.date.slice(0, 10)} on ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.memoryGiB} GiB, ${m.os}), Node ${m.node}, best ISA ${m.bestIsa}` +
      `${peaks ? `; one-core peaks measured in the same run: ${peaks}` : ''}. Mode: ${rep.mode}; medians of ${rep.timing.rounds} interleaved timed runs per trial.${load}`,
    '',
    `Reproduce: \`${rep.command}\``,
  ].join('\n');
}

/** The whole Markdown report (bench/results/report.md). */
export function markdownReport(rep: BenchReport): string {
  const out: string[] = [];
  out.push(`# simdtensor benchmark — ${rep.date.slice(0, 10)}`, '');
  out.push(markdownMachine(rep), '');
  out.push('![chart](chart.svg)', '');
  out.push('## Targets', '', markdownTargets(rep), '');
  out.push('## Results', '', markdownTable(rep));
  out.push('## Contenders', '', '| Contender | Version | Settings |', '|---|---|---|');
  for (const [, c] of Object.entries(rep.contenders)) out.push(`| ${c.label} | ${c.version} | ${c.settings} |`);
  for (const [name, why] of Object.entries(rep.excluded)) out.push(`| ${name} | — | excluded: ${why} |`);
  out.push('');
  // Reasons a contender did not run, and notes on how it ran, grouped (with the families they concern).
  const group = (pick: (x: ContenderResult) => string | undefined) => {
    const m = new Map<string, { fams: Set<string>; n: number; ours: boolean }>();
    for (const r of rep.trials)
      for (const [c, x] of Object.entries(r.results)) {
        const text = pick(x);
        if (!text) continue;
        const key = `${rep.contenders[c]?.label ?? c}${x.status === 'ok' ? '' : ` — ${x.status}`}: ${text}`;
        const e = m.get(key) ?? { fams: new Set<string>(), n: 0, ours: c === OURS };
        e.fams.add(r.trial.family);
        e.n++;
        m.set(key, e);
      }
    return [...m].sort((a, b) => Number(b[1].ours) - Number(a[1].ours));
  };
  const notes = group((x) => (x.status === 'ok' ? x.note : undefined));
  const skips = group((x) => (x.status !== 'ok' ? x.reason : undefined));
  if (notes.length || skips.length || rep.notes.length) {
    out.push('## Notes', '');
    for (const n of rep.notes) out.push(`- ${n}`);
    for (const [k, e] of [...notes, ...skips]) out.push(`- ${k} (${e.n} run${e.n > 1 ? 's' : ''}: ${[...e.fams].join(', ')})`);
    out.push('');
  }
  for (const x of rep.extras) out.push(`## ${x.title}`, '', x.markdown, '');
  out.push('## Machine limits (probes, one core)', '');
  out.push('| Probe | Median | Range | Source |', '|---|--:|--:|---|');
  for (const [k, p] of Object.entries(rep.peaks)) out.push(`| ${k} peak | ${p ? fmt(p.value.median) : '—'} | ${p ? `${fmt(p.value.min)}–${fmt(p.value.max)}` : ''} | ${p?.source ?? 'no probe in this build'} |`);
  const bws = new Map<number, ProbeResult>();
  for (const r of rep.trials) if (r.bandwidth) bws.set(r.trial.weightBytes, r.bandwidth);
  for (const [b, p] of [...bws].sort((x, y) => x[0] - y[0]))
    out.push(`| read bandwidth over ${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB (GB/s) | ${fmt(p.value.median)} | ${fmt(p.value.min)}–${fmt(p.value.max)} | ${p.source} |`);
  out.push('', `Total wall time: ${rep.wallSeconds.toFixed(0)} s.`, '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// SVG

/** One colour per contender. */
export const COLORS: Record<string, string> = {
  simdtensor: '#d62728',
  'simdtensor-scalar': '#f4a3a3',
  'onnxruntime-node': '#1f77b4',
  'tfjs-wasm': '#2ca02c',
  'tfjs-cpu': '#98df8a',
  'ml-matrix': '#9467bd',
};

/** A label that fits the chart's label column: the parenthetical goes first, then an ellipsis. */
function shortLabel(name: string, max: number): string {
  if ([...name].length <= max) return name;
  const bare = name.replace(/\s*\(.*\)\s*$/, '');
  if ([...bare].length <= max) return bare;
  return [...bare].slice(0, max - 1).join('') + '…';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Grouped horizontal bars, one group per trial and thread count, one colour per contender, log-scale axis. */
export function svgChart(rep: BenchReport): string {
  const W = 980;
  const labelW = 300;
  const plotW = W - labelW - 80;
  const barH = 7;
  const gap = 10;
  const contenders = Object.keys(rep.contenders);
  const colour = (c: string, i: number) => COLORS[c] ?? ['#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'][i % 5];
  const builtin = new Set(builtinTrials().map((t) => t.id));
  const panels: { unit: Trial['unit']; rows: TrialResult[] }[] = [];
  for (const unit of ['GFLOP/s', 'GOP/s', 'us/call'] as const) {
    // At a glance: the built-in trials at one thread that simdtensor ran (every row is in report.md).
    const rows = rep.trials.filter((r) => r.trial.unit === unit && r.threads === 1 && builtin.has(r.trial.id) && r.results[OURS]?.status === 'ok');
    if (rows.length) panels.push({ unit, rows });
  }
  const parts: string[] = [];
  let y = 56;
  const legendY = 40;
  contenders.forEach((c, i) => {
    const x = 20 + i * 155;
    parts.push(`<rect x="${x}" y="${legendY - 9}" width="12" height="10" fill="${colour(c, i)}"/><text x="${x + 16}" y="${legendY}" class="l">${esc(rep.contenders[c].label)}</text>`);
  });
  for (const p of panels) {
    const vals: number[] = [];
    for (const r of p.rows) for (const x of Object.values(r.results)) if (x.status === 'ok') vals.push(rateOf(r.trial, x.time)!);
    const lo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...vals))));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...vals) * 1.05));
    const sx = (v: number) => labelW + (Math.log10(Math.max(v, lo) / lo) / Math.log10(hi / lo)) * plotW;
    y += 18;
    const title = p.unit === 'us/call' ? 'Per-call overhead, µs per call (log scale, shorter is better)' : `${p.unit} (log scale, longer is better)`;
    parts.push(`<text x="20" y="${y}" class="h">${esc(title)}</text>`);
    y += 10;
    const top = y;
    for (const r of p.rows) {
      const ok = contenders.filter((c) => r.results[c]?.status === 'ok');
      const h = ok.length * barH;
      const full = `${r.trial.name}${r.threads > 1 ? ` · ${r.threads} thr` : ''}`;
      parts.push(`<text x="${labelW - 8}" y="${y + h / 2 + 4}" class="t" text-anchor="end"><title>${esc(full)}</title>${esc(shortLabel(r.trial.name, 44))}${r.threads > 1 ? ` · ${r.threads} thr` : ''}</text>`);
      ok.forEach((c, i) => {
        const v = rateOf(r.trial, r.results[c].time)!;
        const x1 = sx(v);
        parts.push(`<rect x="${labelW}" y="${y + i * barH}" width="${Math.max(1, x1 - labelW).toFixed(1)}" height="${barH - 1}" fill="${colour(c, contenders.indexOf(c))}"><title>${esc(`${rep.contenders[c].label}: ${fmt(v)} ${unitLabel(r.trial.unit)}`)}</title></rect>`);
        parts.push(`<text x="${(x1 + 3).toFixed(1)}" y="${y + i * barH + barH - 1}" class="v">${fmt(v)}</text>`);
      });
      y += h + gap;
    }
    for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) {
      const d = 10 ** e;
      const x = sx(d);
      const label = e < 0 ? d.toFixed(-e) : String(d);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${y - gap + 2}" class="g"/><text x="${x.toFixed(1)}" y="${y + 8}" class="a" text-anchor="middle">${label}</text>`);
    }
    y += 22;
  }
  const m = rep.machine;
  const H = y + 24;
  parts.push(`<text x="20" y="${H - 10}" class="a">${esc(`${m.cpu}, ${m.logicalCpus} logical CPUs, Node ${m.node}, ${rep.date.slice(0, 10)} · ${rep.command}`)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    '<style>.h{font-size:13px;font-weight:600}.t{font-size:10.5px}.l{font-size:11px}.v{font-size:8.5px;fill:#333}.a{font-size:9.5px;fill:#555}.g{stroke:#ddd;stroke-width:1}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="20" y="20" class="h">simdtensor vs onnxruntime-node, TF.js and ml-matrix: one thread, median of ${rep.timing.rounds} interleaved runs (all rows: report.md)</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Published blocks (README, docs/benchmarks.md)

/**
 * The README's at-a-glance tables (one thread): the GEMM families as a shape × family matrix, each cell simdtensor's
 * rate and, in parentheses, its speedup over onnxruntime-node; then per-call overhead and the MLP.
 */
export function markdownHeadline(rep: BenchReport): string {
  const one = rep.trials.filter((r) => r.threads === 1);
  const fams: [string, string][] = [
    ['f32', 'f32 GFLOP/s'],
    ['int8', 'int8 u8×s8 GOP/s'],
    ['int8-dyn', 'int8, f32 in/out GFLOP/s'],
    ['f16', 'f16 GFLOP/s'],
    ['bf16', 'bf16 GFLOP/s'],
    ['sparse', 'sparse 90 % GFLOP/s'],
  ];
  const cols = fams.filter(([f]) => one.some((r) => r.trial.id.startsWith(`${f}/`) && r.results[OURS]?.status === 'ok'));
  const shapes = [...new Set(one.filter((r) => r.trial.op === 'gemm' && cols.some(([f]) => r.trial.id.startsWith(`${f}/`))).map((r) => r.trial.id.split('/')[1]))];
  const out: string[] = [];
  if (cols.length) {
    out.push(`| M×K×N | ${cols.map(([, h]) => h).join(' | ')} |`, `|---|${cols.map(() => '--:|').join('')}`);
    for (const sh of shapes) {
      const cells = cols.map(([f]) => {
        const r = one.find((x) => x.trial.id === `${f}/${sh}`);
        const ours = r?.results[OURS];
        if (!r || ours?.status !== 'ok') return '–';
        const sp = speedup(r, 'onnxruntime-node');
        return `**${fmt(rateOf(r.trial, ours.time))}**${sp !== null ? ` (${fmt(sp)}×)` : ''}`;
      });
      out.push(`| ${sh.replace(/x/g, '×')} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const small = one.filter((r) => (r.trial.family === 'overhead' || r.trial.family === 'mlp') && r.results[OURS]?.status === 'ok');
  if (small.length) {
    const others = ['onnxruntime-node', 'tfjs-wasm'].filter((c) => rep.contenders[c]);
    out.push(`| Trial (1 thread) | simdtensor |${others.map((c) => ` ${rep.contenders[c].label} |`).join('')}`, `|---|--:|${others.map(() => '--:|').join('')}`);
    for (const r of small) {
      const u = unitLabel(r.trial.unit);
      const cells = others.map((c) => {
        const x = r.results[c];
        return x?.status === 'ok' ? `${fmt(rateOf(r.trial, x.time))} (${fmt(speedup(r, c))}×)` : '–';
      });
      out.push(`| ${r.trial.name} | **${fmt(rateOf(r.trial, r.results[OURS].time))}** ${u} |${cells.map((c) => ` ${c} |`).join('')}`);
    }
  }
  return out.join('\n');
}

/** The block written between the markers of README.md (`short`) or docs/benchmarks.md (full). */
export function publishedBlock(rep: BenchReport, short: boolean): string {
  const out: string[] = [];
  if (short) {
    out.push(markdownHeadline(rep), '');
    out.push('Medians; in parentheses, how many times faster simdtensor is than onnxruntime-node (or, in the last table, than each contender: > 1 means simdtensor is faster). Two-thread rows, spreads, every contender, the targets and the machine limits: [docs/benchmarks.md](docs/benchmarks.md) and [bench/results/report.md](bench/results/report.md).', '');
  } else {
    out.push('### Targets', '', markdownTargets(rep), '', '### All results', '', markdownTable(rep));
  }
  out.push(markdownMachine(rep));
  return out.join('\n');
}

/** Replaces the text between `<!-- bench:results:begin -->` and `<!-- bench:results:end -->`; null if no markers. */
export function replaceBlock(doc: string, block: string): string | null {
  const begin = '<!-- bench:results:begin -->';
  const end = '<!-- bench:results:end -->';
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) return null;
  return `${doc.slice(0, i + begin.length)}\n<!-- generated by \`npm run bench -- --publish\` from bench/results/latest.json; do not edit by hand -->\n${block}\n${doc.slice(j)}`;
}
