/**
 * `npm run bench`: times every trial against every contender (each trial in a fresh process), measures the machine's
 * limits in the same run, prints a table and writes bench/results/{latest.json, report.md, chart.svg}.
 *
 *   npm run bench                       full run (~10 min on 2 cores); writes bench/results/
 *   npm run bench -- --quick            a subset in under a minute; writes bench/results/quick/
 *   (a --filter, --threads, --contenders or --rounds subset writes bench/results/partial/; --out DIR chooses)
 *   npm run bench -- --filter int8 --threads 1
 *   npm run bench -- --contenders simdtensor,onnxruntime-node
 *   npm run bench -- --dry              tiny shapes, one round, in-process: a smoke test of the harness
 *   npm run bench -- --publish          also rewrite the results blocks of README.md and docs/benchmarks.md
 *   npm run bench -- --publish-from bench/results/latest.json   only rewrite them from a saved run
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { drivers, excluded, setSimdtensorThreads, simdtensor, Skip, type Runner } from './drivers.js';
import { checkAgreement, outputLength, reference, timeInterleaved, type Reference, type TimingOptions } from './measure.js';
import { extraProbes, measureBandwidth, measurePeak, PEAK_FALLBACK, roofline, type PeakProbe, type ProbeResult } from './probes.js';
import {
  consoleTable,
  consoleTargets,
  evaluateTargets,
  markdownReport,
  progressLine,
  publishedBlock,
  replaceBlock,
  svgChart,
  type BenchReport,
  type ContenderResult,
  type ExtraSection,
  type TrialResult,
  OURS,
} from './report.js';
import { builtinTrials, makeInputs, normalizeTrial, type Trial, type TrialInputs, type TrialSpec } from './trials.js';

/** Family trial modules, one line each (bench/<name>.ts exporting `trials` and optionally `probes`). */
const FAMILY_MODULES = ['trials-int8', 'trials-half', 'trials-sparse'];
/**
 * Extra benchmark scripts, one line each: bench/<name>.ts run as its own process (they run on import) with these
 * arguments; their printed table goes into the report, with links to the files they write next to ours.
 */
const EXTRA_MODULES: { name: string; title: string; args: (o: Options, out: string) => string[]; files?: string[] }[] = [
  { name: 'threads', title: 'Thread scaling (bench/threads.ts)', args: (o, out) => ['--threads', o.threads.join(','), '--json', join(out, 'threads.json')], files: ['threads.json'] },
  { name: 'serve', title: 'Serving: request-at-a-time vs dynamic batching (bench/serve.ts)', args: (_o, out) => ['--out', out], files: ['serve.json', 'serve.svg'] },
  // The quick sweep writes under sparse-quick/, so it never overwrites the full sweep's bench/results/sparse.*.
  { name: 'trials-conv', title: 'Convolution: MobileNetV2 conv layers vs onnxruntime-node, one thread (bench/trials-conv.ts)', args: (o, out) => [...(o.quick ? ['--quick'] : []), '--json', join(out, 'conv.json')], files: ['conv.json'] },
  { name: 'trials-conv-dw', title: 'Depthwise 3×3, MobileNetV2 layers (bench/trials-conv-dw.ts)', args: (o, out) => ['--threads', o.threads.join(','), '--json', join(out, 'conv-dw.json')], files: ['conv-dw.json'] },
  // nsfwjs MobileNetV2 through TF.js: 'simdtensor' (as loaded, and after optimizeLayersModel) vs TF.js WASM (and CPU at batch 1).
  { name: 'tfjs-mobilenet', title: 'TF.js backend: nsfwjs MobileNetV2, simdtensor vs TF.js WASM / CPU, one thread (bench/tfjs-mobilenet.ts)', args: (o, out) => ['--images', '2', '--reps', o.quick ? '3' : '7', '--batch', o.quick ? '1' : '1,16', '--json', join(out, 'tfjs-mobilenet.json')], files: ['tfjs-mobilenet.json'] },
  { name: 'tfjs-onnx', title: 'TF.js backend: nsfwjs MobileNetV2 folded vs the same network on onnxruntime-node and loadOnnx, one thread (bench/tfjs-onnx.ts)', args: (o, out) => ['--reps', o.quick ? '3' : '7', '--batch', o.quick ? '1' : '1,16', '--json', join(out, 'tfjs-onnx.json')], files: ['tfjs-onnx.json'] },
  { name: 'tfjs-roundtrip', title: 'TF.js backend: tf.matMul 4×4 round trip, simdtensor vs cpu (bench/tfjs-roundtrip.ts)', args: (o) => ['--rounds', o.quick ? '5' : '9', '--iters', '20000'] },
  { name: 'sparse', title: 'Sparsity sweep, quick (bench/sparse.ts; the full sweep: node dist/bench/sparse.js)', args: (_o, out) => ['--quick', '--out', join(out, 'sparse-quick')], files: ['sparse-quick/sparse.md', 'sparse-quick/sparse.json', 'sparse-quick/sparse.svg'] },
];

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Command-line options. */
export interface Options {
  quick: boolean;
  dry: boolean;
  filter: RegExp | null;
  threads: number[];
  contenders: string[];
  out: string | null;
  inproc: boolean;
  extras: boolean;
  rounds: number | null;
  quiet: boolean;
  /** Also rewrite the results blocks of README.md and docs/benchmarks.md from this run. */
  publish: boolean;
  args: string[];
}

/** Parses `npm run bench -- …` arguments. */
export function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, dry: false, filter: null, threads: [1, 2], contenders: Object.keys(drivers), out: null, inproc: false, extras: true, rounds: null, quiet: false, publish: false, args: argv };
  let outSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`bench: ${a} needs a value`);
      return argv[++i];
    };
    const name = a.split('=')[0];
    switch (name) {
      case '--quick':
        o.quick = true;
        break;
      case '--dry':
        o.dry = true;
        break;
      case '--filter':
        o.filter = new RegExp(val(), 'i');
        break;
      case '--threads':
        o.threads = val().split(',').map((s) => {
          const n = Number(s);
          if (!Number.isInteger(n) || n < 1) throw new Error(`bench: --threads takes positive integers, got '${s}'`);
          return n;
        });
        break;
      case '--contenders': {
        const want = val().split(',');
        for (const c of want) if (!drivers[c]) throw new Error(`bench: unknown contender '${c}' (known: ${Object.keys(drivers).join(', ')})`);
        o.contenders = Object.keys(drivers).filter((c) => want.includes(c));
        break;
      }
      case '--out':
        o.out = val();
        outSet = true;
        break;
      case '--no-write':
        o.out = null;
        outSet = true;
        break;
      case '--inproc':
        o.inproc = true;
        break;
      case '--no-extras':
        o.extras = false;
        break;
      case '--extras':
        o.extras = true;
        break;
      case '--rounds':
        o.rounds = Number(val());
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--publish':
        o.publish = true;
        break;
      case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 11).join('\n').replace(/^ \* ?/gm, ''));
        console.log('\nOptions: --quick --dry --filter RE --threads 1,2 --contenders a,b --rounds N --out DIR --no-write --inproc --no-extras --extras --publish --publish-from FILE --quiet');
        process.exit(0);
        break;
      default:
        throw new Error(`bench: unknown option '${a}' (see --help)`);
    }
  }
  if (o.dry) {
    o.inproc = true;
    if (!argv.includes('--extras')) o.extras = false;
  } else if (o.quick && !argv.includes('--extras')) o.extras = false;
  if (o.quick && !argv.some((a) => a.startsWith('--threads'))) o.threads = [1];
  if (!outSet) o.out = o.dry ? null : defaultOut(o);
  return o;
}

/**
 * Where a run writes when --out is not given: only a full run (every trial, contender and thread count) replaces the
 * committed bench/results/; a --quick run writes under results/quick/ and any other subset under results/partial/.
 */
function defaultOut(o: Options): string {
  const results = join(repoRoot(), 'bench', 'results');
  if (o.quick) return join(results, 'quick');
  const subset = o.filter !== null || o.contenders.length !== Object.keys(drivers).length || o.threads.join() !== '1,2' || o.rounds !== null;
  return subset ? join(results, 'partial') : results;
}

function repoRoot(): string {
  let dir = here;
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'simdtensor') return dir;
    } catch {
      /* keep looking */
    }
  }
  return resolve(here, '..');
}

/** Timing settings for a mode. */
export function timingFor(o: Options): TimingOptions {
  if (o.dry) return { rounds: o.rounds ?? 1, sampleMs: 1, warmupMs: 0 };
  if (o.quick) return { rounds: o.rounds ?? 5, sampleMs: 20, warmupMs: 40 };
  return { rounds: o.rounds ?? 7, sampleMs: 50, warmupMs: 120 };
}

function log(o: Pick<Options, 'quiet'>, s: string): void {
  if (!o.quiet) process.stderr.write(s + '\n');
}

/** Imports bench/<name> if it exists; null (with a printed note) if it does not or fails to load. */
async function optionalModule(name: string, notes: string[], o: Pick<Options, 'quiet'>): Promise<Record<string, unknown> | null> {
  const file = join(here, name + ext);
  if (!existsSync(file)) {
    const msg = `bench/${name}.ts not present: skipped`;
    notes.push(msg);
    log(o, `note: ${msg}`);
    return null;
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = `bench/${name}.ts failed to load (${String((e as Error).message).split('\n')[0]}): skipped`;
    notes.push(msg);
    log(o, `note: ${msg}`);
    return null;
  }
}

/** The built-in trials plus every family module's; a family trial with a built-in id replaces it. */
export async function loadTrials(notes: string[], o: Pick<Options, 'quiet'>): Promise<Trial[]> {
  const trials = builtinTrials();
  for (const name of FAMILY_MODULES) {
    const mod = await optionalModule(name, notes, o);
    if (!mod) continue;
    const raw = typeof mod.trials === 'function' ? await (mod.trials as () => unknown)() : (mod.trials ?? mod.default);
    if (!Array.isArray(raw)) {
      notes.push(`bench/${name}.ts exports no trials array: skipped`);
      continue;
    }
    const seen = new Set<string>();
    for (const spec of raw as TrialSpec[]) {
      const t = normalizeTrial(spec);
      // A family's own extra trials run at one thread unless they say otherwise (keeps the full run near 10 min).
      if (!spec.threads && !trials.some((x) => x.id === t.id)) t.threads = [1];
      // Two trials of one module at the same shape keep apart by name.
      if (seen.has(t.id)) t.id = `${t.id}/${t.name.replace(/\s+/g, '-')}`;
      seen.add(t.id);
      const i = trials.findIndex((x) => x.id === t.id);
      if (i >= 0) trials[i] = { ...trials[i], ...t };
      else trials.push(t);
    }
    const probes = mod.probes as Record<string, PeakProbe> | undefined;
    if (probes) Object.assign(extraProbes, probes);
  }
  return trials;
}

/** Shrinks a trial for `--dry` (same code paths, tiny shapes). */
function dryShape(t: Trial): Trial {
  if (t.op === 'mlp') return { ...t, m: Math.min(t.m, 3), layers: [16, 24, 20, 10], k: 16, n: 10, flops: 2 * Math.min(t.m, 3) * (16 * 24 + 24 * 20 + 20 * 10), weightBytes: 1000 };
  if (t.op === 'add') return t;
  const m = Math.min(t.m, 5);
  const k = Math.min(t.k, 48); // a multiple of 16: N:M and block patterns need whole groups along K
  const n = Math.min(t.n, 29);
  return { ...t, m, k, n, flops: 2 * m * k * n, weightBytes: (t.weightBytes / (t.k * t.n)) * k * n };
}

/** A unit of work: one trial at one thread count. */
interface Job {
  trialId: string;
  /** Thread counts, run one after the other in the same process (the inputs are made once). */
  threads: number[];
  contenders: string[];
  timing: TimingOptions;
  dry: boolean;
  /** Plain-JS contenders whose first call takes longer than this (ms) are skipped. */
  slowCallMs: number;
  bandwidth: ProbeResult | null;
  peak: ProbeResult | null;
}

/** Runs one job in this process: prepare, check agreement, time interleaved. */
/** The inputs and reference of the trial being run (kept while its thread counts run; one trial at a time). */
let inputCache: { id: string; inputs: TrialInputs; ref: Reference } | null = null;

/** Runs a job in this process: each thread count in turn. */
export async function runJob(t: Trial, job: Job): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  for (const th of job.threads) out.push(await runJobAt(t, job, th));
  inputCache = null;
  return out;
}

/** One trial at one thread count: prepare, check agreement, time interleaved. */
async function runJobAt(t: Trial, job: Job, threads: number): Promise<TrialResult> {
  const t0 = performance.now();
  const stThreads = job.contenders.includes('simdtensor') || job.contenders.includes('simdtensor-scalar') ? await setSimdtensorThreads(threads) : null;
  await simdtensor();
  const results: Record<string, ContenderResult> = {};
  // Who can run this trial at all (decided before generating inputs, which can take seconds at 4096×4096).
  const runnable: string[] = [];
  for (const name of job.contenders) {
    const d = drivers[name];
    const sup = threads > d.maxThreads ? d.maxThreadsReason ?? `runs at most ${d.maxThreads} thread(s)` : d.supports(t);
    if (sup !== true) results[name] = { status: 'skipped', reason: sup };
    else if (!job.dry && ((d.maxFlops !== undefined && t.flops > d.maxFlops) || (d.maxWeights !== undefined && t.k * t.n > d.maxWeights)))
      results[name] = { status: 'skipped', reason: `too slow to time at this size (plain JavaScript; left out above ${d.maxFlops! / 1e6} MFLOP per call${d.maxWeights ? ` or ${d.maxWeights / 2 ** 20}M weights` : ''})` };
    else runnable.push(name);
  }
  const prepareMs: Record<string, number> = {};
  const runners = new Map<string, Runner>();
  // Without simdtensor there is nothing to compare: the others are not timed either.
  if (!runnable.includes(OURS) && job.contenders.includes(OURS))
    for (const name of runnable.splice(0)) results[name] = { status: 'skipped', reason: 'simdtensor cannot run this trial in this build, so there is nothing to compare with' };
  const i0 = performance.now();
  if (runnable.length && inputCache?.id !== t.id) {
    inputCache = null; // let the previous trial's arrays go before making the next ones
    const inp = makeInputs(t);
    inputCache = { id: t.id, inputs: inp, ref: reference(t, inp) };
  }
  const inputs = runnable.length ? inputCache!.inputs : null;
  const ref = runnable.length ? inputCache!.ref : null;
  prepareMs.inputs = performance.now() - i0;
  const expect = outputLength(t);
  for (const name of runnable) {
    const d = drivers[name];
    if (!inputs || !ref) break;
    const p0 = performance.now();
    try {
      await d.init?.(threads);
      const r = await d.prepare(t, inputs, threads);
      prepareMs[name] = performance.now() - p0;
      // Agreement before any timing: one call, compared with the float64 reference.
      r.enter?.();
      let out: unknown;
      const c0 = performance.now();
      try {
        out = r.run();
        if (r.async) out = await out;
      } finally {
        r.exit?.();
      }
      const callMs = performance.now() - c0;
      if (out === undefined && t.setup && name.startsWith(OURS)) {
        // A family's own setup that returns nothing cannot be compared: time it, and say so.
        results[name] = { status: 'ok', kernel: r.kernel, note: "family setup returns no output: agreement not checked" };
        runners.set(name, r);
        continue;
      }
      const agreement = checkAgreement(ref, await r.read(out), expect);
      if (!agreement.ok) {
        results[name] = { status: 'disagreed', reason: `max error ${agreement.maxErr.toExponential(2)} > ${agreement.tol} (${agreement.metric})`, agreement, kernel: r.kernel };
        await r.dispose?.();
        continue;
      }
      if (d.slow && callMs > job.slowCallMs) {
        // ≥ 5 timed runs of a call this slow would dominate the run: say so instead of timing it.
        results[name] = { status: 'skipped', reason: `too slow to time here: one call took ${callMs >= 1000 ? (callMs / 1000).toFixed(1) + ' s' : callMs.toFixed(0) + ' ms'} (budget ${job.slowCallMs} ms per call)`, agreement, kernel: r.kernel };
        await r.dispose?.();
        continue;
      }
      results[name] = { status: 'ok', agreement, kernel: r.kernel, note: r.note };
      runners.set(name, r);
    } catch (e) {
      results[name] = e instanceof Skip ? { status: 'skipped', reason: e.message } : { status: 'failed', reason: String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ') };
    }
  }
  const tm0 = performance.now();
  if (runners.size) {
    const times = await timeInterleaved(runners, job.timing);
    for (const [name, s] of times) results[name].time = s;
  }
  for (const r of runners.values()) await r.dispose?.();
  // Sparse rates are dense-equivalent (2·M·K·N per call): the compute bound scales by 1 / density to match.
  const peak = job.peak ? job.peak.value.median / (t.sparsity ? 1 - t.sparsity : 1) : null;
  const bw = job.bandwidth?.value.median ?? null;
  const bound = t.unit === 'us/call' ? null : roofline(peak, bw, t.flops, t.weightBytes, threads);
  const { setup: _setup, ...plain } = t;
  prepareMs.timing = performance.now() - tm0;
  return { trial: plain, threads, simdtensorThreads: stThreads, bound, bandwidth: job.bandwidth, results, wallSeconds: (performance.now() - t0) / 1000, phaseMs: prepareMs };
}

/** Runs a job in a fresh Node process (this file with --child), or in this process with --inproc. */
/** The trial or extra process running now (ended with the parent on SIGINT/SIGTERM). */
let current: ChildProcess | null = null;
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      current?.kill('SIGKILL');
      process.exit(130);
    });
}

function runJobInChild(job: Job, timeoutMs: number): Promise<TrialResult[]> {
  return new Promise((resolveP, reject) => {
    const child = (current = fork(fileURLToPath(import.meta.url), ['--child'], {
      // The pool is sized for the largest count; setNumThreads picks each count in turn.
      env: { ...process.env, SIMDTENSOR_NUM_THREADS: String(Math.max(...job.threads)), BENCH_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }));
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    let result: TrialResult[] | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', (m) => (result = m as TrialResult[]));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (result) resolveP(result);
      else reject(new Error(`child exited with ${code ?? sig}: ${out.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

async function childMain(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB!) as Job;
  const notes: string[] = [];
  const trials = await loadTrials(notes, { quiet: true });
  let t = trials.find((x) => x.id === job.trialId);
  if (!t) throw new Error(`unknown trial ${job.trialId}`);
  if (job.dry) t = dryShape(t);
  const rs = await runJob(t, job);
  await new Promise<void>((res) => process.send!(rs, () => res()));
  process.exit(0);
}

async function machineInfo(): Promise<BenchReport['machine']> {
  const st = await simdtensor();
  const info = st.cpuInfo();
  return {
    cpu: info.brand.trim() || os.cpus()[0]?.model || 'unknown',
    logicalCpus: info.logicalCpus,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    bestIsa: info.bestIsa,
    kernels: info.kernels,
  };
}

/** Runs an extra benchmark script in its own process; its output becomes a report section. */
function runExtra(x: (typeof EXTRA_MODULES)[number], o: Options, notes: string[]): Promise<ExtraSection | null> {
  const file = join(here, x.name + '.js');
  if (!existsSync(file)) {
    notes.push(`bench/${x.name}.ts is not built (${file} missing): skipped`);
    return Promise.resolve(null);
  }
  return new Promise((resolveP) => {
    const out = o.out ?? mkdtempSync(join(os.tmpdir(), 'simdtensor-bench-'));
    mkdirSync(out, { recursive: true });
    const child = (current = fork(file, x.args(o, out), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.stderr!.on('data', (d) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      text = text.trim().split('\n').slice(-80).join('\n');
      if (code !== 0) {
        notes.push(`bench/${x.name}.ts exited with ${code}: ${text.split('\n').slice(-2).join(' | ')}`);
        return resolveP(null);
      }
      const links = (x.files ?? []).filter((f) => o.out && existsSync(join(o.out, f))).map((f) => `[${f}](${f})`);
      const md = ['```text', text, '```', links.length ? `\nFiles: ${links.join(', ')}.` : ''].join('\n');
      resolveP({ name: x.name, title: x.title, markdown: md });
    });
  });
}

/**
 * Pins the addon for the whole run: a copy of build/Release/simdtensor.node in a temporary file, named by
 * SIMDTENSOR_ADDON for this process and the trial processes, so a rebuild during the run (node-gyp deletes and
 * relinks it) cannot mix two builds in one report. A SIMDTENSOR_ADDON set by the user is used as it is.
 */
function pinAddon(notes: string[]): () => void {
  if (process.env.SIMDTENSOR_ADDON) return () => {};
  const src = join(repoRoot(), 'build', 'Release', 'simdtensor.node');
  if (!existsSync(src)) return () => {};
  const dst = join(os.tmpdir(), `simdtensor-bench-${process.pid}.node`);
  copyFileSync(src, dst);
  process.env.SIMDTENSOR_ADDON = dst;
  notes.push(`The addon was ${src.replace(repoRoot() + '/', '')} as of ${statSync(src).mtime.toISOString()}, copied for the run.`);
  return () => {
    delete process.env.SIMDTENSOR_ADDON;
    rmSync(dst, { force: true });
  };
}

/** The whole run; returns the report (also printed and written unless --no-write / --dry). */
export async function main(argv: string[]): Promise<BenchReport> {
  const o = parseArgs(argv);
  const notes: string[] = [];
  if (!o.inproc || o.extras) hookSignals();
  const unpin = pinAddon(notes);
  try {
    return await mainPinned(o, notes);
  } finally {
    unpin();
  }
}

async function mainPinned(o: Options, notes: string[]): Promise<BenchReport> {
  const tStart = performance.now();
  const loadStart = os.loadavg()[0];
  const timing = timingFor(o);
  let trials = await loadTrials(notes, o);
  // --quick: the built-in quick trials only (families' own trials run in the full run), to stay under a minute.
  if (o.quick) {
    const builtin = new Set(builtinTrials().map((t) => t.id));
    trials = trials.filter((t) => t.quick && builtin.has(t.id));
  }
  if (o.filter) trials = trials.filter((t) => o.filter!.test(t.id) || o.filter!.test(t.name) || o.filter!.test(t.family));
  if (o.dry) {
    // A family setup that takes its shape from its own closure (it ignores the trial argument) cannot be shrunk.
    const fixed = trials.filter((t) => t.setup && t.setup.length < 2);
    if (fixed.length) notes.push(`--dry leaves out ${fixed.length} family trials whose setup ignores its trial argument (shape fixed): ${fixed.map((t) => t.id).join(', ')}`);
    trials = trials.filter((t) => !fixed.includes(t)).map(dryShape);
  }
  const jobs: { t: Trial; threads: number[] }[] = [];
  for (const t of trials) {
    const th = o.threads.filter((n) => !t.threads || t.threads.includes(n));
    if (th.length) jobs.push({ t, threads: th });
  }
  if (jobs.length === 0) throw new Error('bench: no trial matches the filter and thread counts');
  const machine = await machineInfo();
  log(o, `simdtensor bench — ${machine.cpu}, ${machine.logicalCpus} CPUs, Node ${machine.node}, best ISA ${machine.bestIsa}`);
  log(o, `${jobs.length} trials (${jobs.reduce((s, j) => s + j.threads.length, 0)} runs with thread counts) × up to ${o.contenders.length} contenders; ${timing.rounds} interleaved rounds; ${o.inproc ? 'in this process' : 'each trial in a fresh process'}`);

  // Machine limits, measured here in the same invocation (the parent is idle while children run).
  const probeReps = o.dry ? 1 : 7;
  const probeMs = o.dry ? 2 : 40;
  const peaks: Record<string, ProbeResult | null> = {};
  for (const name of [...new Set(jobs.map((j) => j.t.peak))]) {
    peaks[name] = await measurePeak(name, probeReps, probeMs);
    const fb = PEAK_FALLBACK[name];
    if (!peaks[name] && fb) {
      // No such unit here (e.g. no fp16 FMA): the kernels convert and use the fallback unit, which then bounds them.
      const p = peaks[fb] ?? (await measurePeak(fb, probeReps, probeMs));
      if (p) peaks[name] = { ...p, source: `no ${name} unit on this CPU: ${fb} peak (${p.source})` };
    }
    log(o, `probe: ${name} peak ${peaks[name] ? `${peaks[name]!.value.median.toFixed(1)} G/s per core (±${peaks[name]!.value.rangePct.toFixed(0)}%)` : 'n/a (no probe in this build)'}`);
  }
  const bandwidth = new Map<number, ProbeResult | null>();
  for (const b of [...new Set(jobs.filter((j) => j.t.unit !== 'us/call').map((j) => j.t.weightBytes))].sort((x, y) => x - y)) {
    bandwidth.set(b, await measureBandwidth(b, probeReps, probeMs));
    const p = bandwidth.get(b);
    log(o, `probe: read bandwidth over ${(b / 2 ** 20).toFixed(2)} MiB ${p ? `${p.value.median.toFixed(1)} GB/s (±${p.value.rangePct.toFixed(0)}%)` : 'n/a'}`);
  }

  const results: TrialResult[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const { t, threads } = jobs[i];
    const job: Job = { trialId: t.id, threads, contenders: o.contenders, timing, dry: o.dry, slowCallMs: o.dry ? 1e9 : o.quick ? 60 : 600, bandwidth: bandwidth.get(t.weightBytes) ?? null, peak: peaks[t.peak] ?? null };
    const tag = `[${String(i + 1).padStart(String(jobs.length).length)}/${jobs.length}]`;
    log(o, `${tag} ${t.name} · ${threads.join(', ')} thread${threads.length > 1 || threads[0] > 1 ? 's' : ''} (${jobs.length - i - 1} left)`);
    let rs: TrialResult[];
    try {
      rs = o.inproc ? await runJob(t, job) : await runJobInChild(job, 300_000);
    } catch (e) {
      const { setup: _s, ...plain } = t;
      rs = threads.map((th) => ({ trial: plain, threads: th, bound: null, bandwidth: null, results: {}, wallSeconds: 0, error: String((e as Error).message) }));
      log(o, `      failed: ${rs[0].error}`);
    }
    for (const r of rs) {
      results.push(r);
      if (!r.error) log(o, `      ${threads.length > 1 ? `${r.threads} thr: ` : ''}${progressLine(r, o.contenders)}`);
    }
  }

  const extras: ExtraSection[] = [];
  if (o.extras) {
    for (const x of EXTRA_MODULES) {
      if (!existsSync(join(here, x.name + ext))) {
        log(o, `note: bench/${x.name}.ts not present: skipped`);
        notes.push(`bench/${x.name}.ts not present: skipped`);
        continue;
      }
      log(o, `extra: bench/${x.name} …`);
      const r = await runExtra(x, o, notes);
      if (r) {
        extras.push(r);
        if (!o.quiet) console.log(`\n${r.title}\n${r.markdown.replace(/^```text\n|\n```[\s\S]*$/g, '')}`);
      }
    }
  }

  const contenders: BenchReport['contenders'] = {};
  for (const c of o.contenders) contenders[c] = { label: drivers[c].label, version: drivers[c].version(), settings: drivers[c].settings };
  if (results.some((r) => r.threads > 1)) notes.push('Compute bounds at 2+ threads assume the one-core peak scales linearly; bandwidth bounds use one core\'s measured read bandwidth.');
  const noThreads = results.find((r) => r.simdtensorThreads === null && r.threads > 1);
  if (noThreads) notes.push('This simdtensor build has no setNumThreads(); its thread count came from SIMDTENSOR_NUM_THREADS only (a serial build ignores it).');
  const report: BenchReport = {
    schema: 1,
    date: new Date().toISOString(),
    command: cleanCommand(`npm run bench${o.args.length ? ' -- ' + o.args.join(' ') : ''}`),
    mode: o.dry ? 'dry' : o.quick ? 'quick' : 'full',
    machine: { ...machine, loadAverage: { start: loadStart, end: os.loadavg()[0] } },
    timing,
    peaks,
    contenders,
    excluded,
    trials: results,
    targets: evaluateTargets(results),
    extras,
    notes,
    wallSeconds: (performance.now() - tStart) / 1000,
  };

  if (!o.quiet) {
    console.log('\n' + consoleTable(report));
    console.log('\nTargets (one thread, this run):\n' + consoleTargets(report));
  }
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, 'latest.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileSync(join(o.out, 'report.md'), markdownReport(report));
    writeFileSync(join(o.out, 'chart.svg'), svgChart(report));
    log(o, `\nwrote ${join(o.out, 'latest.json')}, report.md, chart.svg (${report.wallSeconds.toFixed(0)} s)`);
  }
  if (o.publish) publish(report, o);
  return report;
}

/** The command that reproduces a run: without the flags that only choose where results go. */
function cleanCommand(c: string): string {
  return c.replace(/ --publish\b/g, '').replace(/ --out[= ]\S+/g, '').replace(/ --$/, '');
}

/** Rewrites the marked results blocks of README.md (headline table) and docs/benchmarks.md (full tables). */
export function publish(report: BenchReport, o: Pick<Options, 'quiet'>): void {
  const root = repoRoot();
  // The published command is what reproduces the run, without the publishing and output flags.
  const rep = { ...report, command: cleanCommand(report.command) };
  for (const [file, short] of [['README.md', true], [join('docs', 'benchmarks.md'), false]] as const) {
    const path = join(root, file);
    if (!existsSync(path)) {
      log(o, `publish: ${file} not found, skipped`);
      continue;
    }
    const next = replaceBlock(readFileSync(path, 'utf8'), publishedBlock(rep, short));
    if (next === null) log(o, `publish: ${file} has no <!-- bench:results:begin/end --> markers, skipped`);
    else {
      writeFileSync(path, next);
      log(o, `publish: updated ${file}`);
    }
  }
}

/** `--publish-from FILE`: rewrites the README and docs blocks from a saved latest.json, without running anything. */
function publishFrom(file: string): Promise<void> {
  const rep = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  rep.command = cleanCommand(rep.command);
  // Re-render the report and chart beside it (same measurements, current presentation), then the blocks.
  const dir = dirname(resolve(file));
  writeFileSync(join(dir, 'report.md'), markdownReport(rep));
  writeFileSync(join(dir, 'chart.svg'), svgChart(rep));
  console.error(`re-rendered ${join(dir, 'report.md')} and chart.svg`);
  publish(rep, { quiet: false });
  return Promise.resolve();
}

/**
 * `npm run bench -- --serve [--quick] [--point-s S] [--soak-s S] [--json FILE]`: only the HTTP serving load test
 * (bench/serve-http.ts: `simdtensor serve` over loopback), in its own process.
 */
function serveSuite(args: string[]): Promise<void> {
  return new Promise((resolveP, reject) => {
    const child = fork(join(here, 'serve-http' + ext), args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolveP() : reject(new Error(`bench/serve-http exited with ${code}`))));
  });
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const pf = process.argv.indexOf('--publish-from');
  const p = process.argv.includes('--serve')
    ? serveSuite(process.argv.slice(2).filter((a) => a !== '--serve'))
    : process.argv.includes('--child')
      ? childMain()
      : pf > 0
        ? publishFrom(process.argv[pf + 1])
        : main(process.argv.slice(2));
  p.catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
