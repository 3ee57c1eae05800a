/**
 * The `optimize` pipeline: train a teacher MLP → distill a smaller student → prune it gradually with fine-tuning →
 * quantize it to int8 with calibration on a held-out slice, and report for each stage the test accuracy, the
 * parameters and bytes, and batch-1 / batch-64 latency and throughput measured on the package's kernels. Runs on
 * the embedded UCI digits by default, or on a CSV of features plus a label column.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuInfo } from '../cpu.js';
import { getNumThreads, setNumThreads } from '../executor/index.js';
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkOpts } from './check.js';
import { Tensor } from '../tensor.js';
import { featureStats, LabeledData, loadCsv, CsvOptions, loadDigits, stratifiedSplit, subset } from './data.js';
import { distill } from './distill.js';
import { Latency, measureLatencies } from './latency.js';
import { Linear, mlp, Sequential } from './layers.js';
import { GradualPruner, modelSparsity, sparsifyModel } from './prune.js';
import { quantizeModel } from './quantize.js';
import { loadModel, saveModel, serializeModel, deserializeModel } from './serialize.js';
import { Dataset, EpochInfo, evaluate, fit, predict } from './train.js';
import { compareOutputs } from '../int8/index.js';
import { schedules } from './optim.js';

/** The pipeline's stages, in order. */
export type Stage = 'teacher' | 'student' | 'baseline' | 'prune' | 'quantize';
const ALL_STAGES: Stage[] = ['teacher', 'student', 'baseline', 'prune', 'quantize'];

/** Options of {@link optimize}. Every field has a default tuned for the digits task. */
export interface OptimizeOptions {
  /** A CSV path (features + a label column) or a data set; default: the embedded UCI digits. */
  data?: string | LabeledData;
  /** How to read the CSV. */
  csv?: CsvOptions;
  /** Put a Normalize layer (training-set mean and 1/std) first (default: true for user data, false for digits). */
  normalize?: boolean;
  /** Fraction of each class held out for testing (default 0.25). */
  testFraction?: number;
  /** Fraction of each class of the rest held out for calibration and validation, never trained on (default 0.1). */
  holdoutFraction?: number;
  /** Seed of the fixed split (default 0). */
  splitSeed?: number;
  /** Training seeds; the first one's models are measured and saved, all are averaged (default [0, 1, 2]). */
  seeds?: number[];
  /** Stages to run (default all). A skipped stage passes its input model on unchanged. */
  stages?: Stage[];
  /** Hidden layer sizes of the teacher (default [512, 256]). */
  teacher?: number[];
  /** A trained teacher to start from (a model file) instead of training one. */
  teacherModel?: string;
  /** Hidden layer sizes of the student (default [128, 64]). */
  student?: number[];
  /** Epochs per training stage (defaults 40, 60, 60). */
  epochs?: { teacher?: number; student?: number; prune?: number };
  /** Peak learning rates of AdamW per stage (defaults 2e-3, 5e-3, 3e-3). */
  lr?: { teacher?: number; student?: number; prune?: number };
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Distillation temperature (default 4). */
  temperature?: number;
  /** Weight of the distillation term (default 0.9). */
  alpha?: number;
  /** Final sparsity of the pruned student's Linear weights (default 0.85). */
  sparsity?: number;
  /**
   * Latency measurement: timed blocks, minimum milliseconds per block, batch sizes and kernel threads (defaults
   * 200, 0.5, [1, 64] and 1). Many short blocks, interleaved across the models, and their median: on a shared
   * machine a short block is rarely cut by a preemption, so the median stays near the uncontended time; one
   * thread keeps the comparison steady (the models are tiny).
   */
  latency?: { blocks?: number; blockMs?: number; batches?: number[]; threads?: number };
  /** Folder for models/, report.md and report.json (default 'simdtensor-optimize'); null writes nothing. */
  outDir?: string | null;
  /** Progress events (stage starts and ends, epochs). */
  onProgress?: (event: ProgressEvent) => void;
}

/** A progress event from {@link optimize}. */
export type ProgressEvent =
  | { type: 'stage'; stage: string; seed: number; epochs: number }
  | { type: 'epoch'; stage: string; seed: number; info: EpochInfo }
  | { type: 'done'; stage: string; seed: number; accuracy: number; seconds: number }
  | { type: 'measure'; what: string };

/** One stage of the report (measured on the first seed's models). */
export interface StageReport {
  /** Stage name: teacher, student, baseline, pruned, int8. */
  stage: string;
  /** What the model is. */
  description: string;
  /** Test accuracy of the first seed's model. */
  accuracy: number;
  /** Mean test accuracy over the seeds. */
  meanAccuracy: number;
  /** Accuracy on the held-out slice. */
  holdoutAccuracy: number;
  /** Parameter count (dense). */
  params: number;
  /** Nonzero weights and biases. */
  nonzero: number;
  /** Bytes of the weights as inference stores them. */
  bytes: number;
  /** Weight storage format of the Linear layers. */
  format: string;
  /** Latency per batch size. */
  latency: Latency[];
  /** Seconds spent training this stage (first seed). */
  trainSeconds: number;
  /** Saved model file (relative to outDir) and its size. */
  file?: string;
  fileBytes?: number;
}

/** Per-seed accuracies. */
export interface SeedReport {
  seed: number;
  teacher?: number;
  student?: number;
  baseline?: number;
  pruned?: number;
  int8?: number;
  int8Sparse?: number;
  /** The activation quantization chosen on the held-out slice. */
  int8Mode?: string;
}

/** The int8 candidates compared on the held-out slice, and the one kept. */
export interface QuantChoice {
  chosen: string;
  candidates: { mode: string; top1Agreement: number; rmse: number }[];
}

/**
 * int8 versions of `model` — static activations calibrated on `calibration` (percentile and MSE ranges) and
 * dynamic per-row activations — scored by agreement with the float32 logits on `calibration`; returns the best.
 */
export function quantizeWithCalibration(model: Sequential, calibration: Tensor): [Sequential, QuantChoice] {
  const ref = predict(model, calibration);
  const cands = [
    { mode: 'static (percentile-calibrated)', m: quantizeModel(cloneModel(model), { calibration, method: 'percentile' }) },
    { mode: 'static (MSE-calibrated)', m: quantizeModel(cloneModel(model), { calibration, method: 'mse' }) },
    { mode: 'dynamic per-row', m: quantizeModel(cloneModel(model), { activations: 'dynamic' }) },
  ].map((c) => {
    const cmp = compareOutputs(ref, predict(c.m, calibration));
    return { ...c, top1Agreement: cmp.top1Agreement ?? 0, rmse: cmp.rmse };
  });
  const best = cands.reduce((a, b) => (b.top1Agreement > a.top1Agreement || (b.top1Agreement === a.top1Agreement && b.rmse < a.rmse) ? b : a));
  return [best.m, { chosen: best.mode, candidates: cands.map(({ mode, top1Agreement, rmse }) => ({ mode, top1Agreement, rmse })) }];
}

/** A target of the issue, checked against the measurements. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

/** Everything {@link optimize} measured. */
export interface OptimizeReport {
  data: { name: string; rows: number; features: number; classes: number; train: number; holdout: number; test: number };
  config: Record<string, unknown>;
  machine: { cpu: string; isa: string; gemm: string; gemmInt8: string; threads: string; node: string; loadAverage: string };
  stages: StageReport[];
  seeds: SeedReport[];
  /** How the first seed's int8 model was calibrated and chosen. */
  quantization?: QuantChoice;
  targets: TargetCheck[];
  /** True when data, sizes, epochs and seeds are the defaults: the setting the targets are defined for. */
  defaultSetting: boolean;
  seconds: number;
  /** Where report.md, report.json and the models went (absent when outDir is null). */
  outDir?: string;
}

function nonzeroParams(m: Sequential): number {
  let nz = 0;
  for (const p of m.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) nz++;
  }
  return nz;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** A deep copy of a model through its file format (weights, masks dropped, packing redone). */
function cloneModel(m: Sequential): Sequential {
  return deserializeModel(serializeModel(m, { includeMaster: true }), 'copy').model;
}

/** Runs the pipeline (see {@link OptimizeOptions}) and returns its report; also writes it unless `outDir` is null. */
export function optimize(opts: OptimizeOptions | null = {}): OptimizeReport {
  opts = options('optimize', opts);
  const fn = 'optimize';
  opts = checkOpts<OptimizeOptions>(fn, opts);
  const t0 = performance.now();
  const emit = opts.onProgress ?? (() => {});
  const stages = new Set(opts.stages ?? ALL_STAGES);
  for (const s of stages) if (!ALL_STAGES.includes(s)) throw rangeError(fn, `stages lists ${describe(s)}; known: ${ALL_STAGES.join(', ')}`);
  const seeds = opts.seeds ?? [0, 1, 2];
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0))
    throw rangeError(fn, `seeds must be a non-empty array of non-negative integers, got ${describe(seeds)}`);
  const sizes = (arg: string, v: unknown, def: number[]): number[] => {
    const a = v ?? def;
    if (!Array.isArray(a) || !a.every((d) => Number.isInteger(d) && d > 0)) throw rangeError(fn, `${arg} must list positive layer sizes, got ${describe(v)}`);
    return a as number[];
  };
  const teacherHidden = sizes('teacher', opts.teacher, [512, 256]);
  const studentHidden = sizes('student', opts.student, [128, 64]);
  const ep = { teacher: opts.epochs?.teacher ?? 40, student: opts.epochs?.student ?? 60, prune: opts.epochs?.prune ?? 60 };
  const lr = { teacher: opts.lr?.teacher ?? 2e-3, student: opts.lr?.student ?? 5e-3, prune: opts.lr?.prune ?? 3e-3 };
  const bs = opts.batchSize ?? 32;
  const T = opts.temperature ?? 4;
  const alpha = opts.alpha ?? 0.9;
  const sparsity = opts.sparsity ?? 0.85;
  if (!(sparsity >= 0 && sparsity < 1)) throw rangeError(fn, `sparsity must be in [0, 1), got ${describe(sparsity)}`);
  const batches = opts.latency?.batches ?? [1, 64];

  // Data and the fixed split: test, then a held-out slice of the rest for calibration and validation.
  let data: LabeledData;
  let name: string;
  if (opts.data === undefined) {
    data = loadDigits();
    name = 'UCI handwritten digits (data/digits.csv.gz)';
  } else if (typeof opts.data === 'string') {
    data = loadCsv(opts.data, opts.csv);
    name = opts.data;
  } else if (opts.data && typeof opts.data === 'object' && opts.data.x instanceof Tensor) {
    data = opts.data;
    name = 'user data set';
  } else {
    throw typeError(fn, `data must be a CSV path or { x, y, classes }, got ${describe(opts.data)}`);
  }
  const testFraction = opts.testFraction ?? 0.25;
  const holdoutFraction = opts.holdoutFraction ?? 0.1;
  const splitSeed = opts.splitSeed ?? 0;
  const [restIdx, testIdx] = stratifiedSplit(data.y, testFraction, splitSeed);
  const rest = subset(data, restIdx);
  const test = subset(data, testIdx);
  const [trainIdx, holdIdx] = stratifiedSplit(rest.y, holdoutFraction, splitSeed + 1);
  const train = subset(rest, trainIdx);
  const holdout = subset(rest, holdIdx);
  const F = data.x.shape[1];
  const C = data.classes.length;
  const normalize = opts.normalize ?? opts.data !== undefined;
  const stats = normalize ? featureStats(train.x) : undefined;

  const adamw = (rate: number) => ({ type: 'adamw' as const, lr: rate, weightDecay: 1e-4 });
  const progress = (stage: string, seed: number) => (info: EpochInfo) => emit({ type: 'epoch', stage, seed, info });
  const acc = (m: Sequential, d: Dataset) => evaluate(m, d).accuracy;

  interface SeedModels {
    teacher: Sequential;
    student?: Sequential;
    baseline?: Sequential;
    pruned?: Sequential;
    int8?: Sequential;
    int8Sparse?: Sequential;
    quant?: QuantChoice;
    seconds: Record<string, number>;
  }
  const perSeed: SeedReport[] = [];
  let first: SeedModels | null = null;
  for (const seed of seeds) {
    const seconds: Record<string, number> = {};
    const rep: SeedReport = { seed };
    const timed = <R>(stage: string, epochs: number, f: () => R): R => {
      emit({ type: 'stage', stage, seed, epochs });
      const s0 = performance.now();
      const r = f();
      seconds[stage] = (performance.now() - s0) / 1000;
      return r;
    };
    const done = (stage: string, a: number) => emit({ type: 'done', stage, seed, accuracy: a, seconds: seconds[stage] ?? 0 });

    // 1. Teacher.
    let teacher: Sequential;
    if (opts.teacherModel) {
      teacher = loadModel(opts.teacherModel).model;
      const inW = teacher.linears()[0]?.inFeatures;
      if (inW !== F) throw rangeError(fn, `teacherModel takes ${inW} features, the data has ${F}`);
    } else if (stages.has('teacher')) {
      teacher = timed('teacher', ep.teacher, () => {
        const m = mlp([F, ...teacherHidden, C], { seed, normalize: stats });
        fit(m, train, { epochs: ep.teacher, batchSize: bs, optimizer: adamw(lr.teacher), schedule: schedules.cosine({ warmup: 0.05 }), seed, onEpoch: progress('teacher', seed) });
        return m;
      });
    } else {
      throw rangeError(fn, "the pipeline needs a teacher: keep the 'teacher' stage or pass teacherModel");
    }
    rep.teacher = acc(teacher, test);
    done('teacher', rep.teacher);

    // 2. Student, distilled; and 3. the same student on hard labels only (the comparison distillation must win).
    const studentOpts = { epochs: ep.student, batchSize: bs, optimizer: adamw(lr.student), schedule: schedules.cosine({ warmup: 0.05 }), seed: seed + 100 };
    let student: Sequential | undefined;
    if (stages.has('student')) {
      student = timed('student', ep.student, () => {
        const m = mlp([F, ...studentHidden, C], { seed: seed + 50, normalize: stats });
        distill(teacher, m, train, { ...studentOpts, temperature: T, alpha, onEpoch: progress('student', seed) });
        return m;
      });
      rep.student = acc(student, test);
      done('student', rep.student);
    }
    let baseline: Sequential | undefined;
    if (stages.has('baseline')) {
      baseline = timed('baseline', ep.student, () => {
        const m = mlp([F, ...studentHidden, C], { seed: seed + 50, normalize: stats });
        fit(m, train, { ...studentOpts, onEpoch: progress('baseline', seed) });
        return m;
      });
      rep.baseline = acc(baseline, test);
      done('baseline', rep.baseline);
    }

    // 4. Gradual magnitude pruning while fine-tuning with the teacher (cubic schedule over the first 60 % of the
    // steps, masks updated once per epoch, then fine-tuning with the masks fixed).
    let pruned: Sequential | undefined;
    const base = student ?? teacher;
    if (stages.has('prune')) {
      pruned = timed('prune', ep.prune, () => {
        const m = cloneModel(base);
        const perEpoch = Math.ceil(train.y.length / bs);
        const total = ep.prune * perEpoch;
        const pruner = new GradualPruner(m, { sparsity, begin: 0, end: Math.max(1, Math.round(total * 0.6)), frequency: perEpoch });
        distill(teacher, m, train, {
          epochs: ep.prune, batchSize: bs, optimizer: { type: 'adamw', lr: lr.prune, weightDecay: 0 }, schedule: schedules.cosine(),
          seed: seed + 200, temperature: T, alpha, onStep: (s) => pruner.step(s), onEpoch: progress('prune', seed),
        });
        if (ep.prune === 0) pruner.applyNow(sparsity);
        return sparsifyModel(m);
      });
      rep.pruned = acc(pruned, test);
      done('prune', rep.pruned);
    }

    // 5. Post-training int8 quantization. Static activation ranges are calibrated on the held-out slice; the
    // candidates (two calibration methods, and per-row dynamic activations) are compared with the float32 model's
    // logits on that same slice, and the closest is kept. The test set plays no part in the choice.
    let int8: Sequential | undefined;
    let int8Sparse: Sequential | undefined;
    let quant: QuantChoice | undefined;
    if (stages.has('quantize')) {
      [int8, quant] = timed('quantize', 0, () => quantizeWithCalibration(pruned ?? base, holdout.x));
      rep.int8 = acc(int8, test);
      rep.int8Mode = quant.chosen;
      done('quantize', rep.int8);
      // The pruned int8 weights also in sparse storage (int8 CSR with per-row scales, int8 sparse kernels).
      if (pruned) {
        int8Sparse = sparsifyModel(cloneModel(pruned), { dtype: 'int8' });
        rep.int8Sparse = acc(int8Sparse, test);
      }
    }
    perSeed.push(rep);
    if (!first) first = { teacher, student, baseline, pruned, int8, int8Sparse, quant, seconds };
  }

  // Measure the first seed's models (latency interleaved across stages, so machine noise hits them alike).
  const f = first!;
  const rows: { stage: string; description: string; model: Sequential; key: keyof SeedReport; trainKey: string }[] = [];
  rows.push({ stage: 'teacher', description: `MLP ${[F, ...teacherHidden, C].join('-')}, f32 (packed)`, model: f.teacher, key: 'teacher', trainKey: 'teacher' });
  if (f.student) rows.push({ stage: 'student', description: `MLP ${[F, ...studentHidden, C].join('-')}, distilled (T=${T}, α=${alpha}), f32 (packed)`, model: f.student, key: 'student', trainKey: 'student' });
  if (f.baseline) rows.push({ stage: 'baseline', description: 'same student, hard labels only, f32 (packed)', model: f.baseline, key: 'baseline', trainKey: 'baseline' });
  if (f.pruned) rows.push({ stage: 'pruned', description: `${f.student ? 'student' : 'teacher'} pruned to ${Math.round(modelSparsity(f.pruned) * 1000) / 10} % sparse (gradual magnitude pruning, cubic schedule, distillation fine-tuning), float32 CSR`, model: f.pruned, key: 'pruned', trainKey: 'prune' });
  if (f.int8) rows.push({ stage: 'int8', description: `${f.pruned ? 'pruned ' : ''}${f.student ? 'student' : 'teacher'}, int8 per-channel weights, ${f.quant!.chosen} activations`, model: f.int8, key: 'int8', trainKey: 'quantize' });
  if (f.int8Sparse) rows.push({ stage: 'int8-sparse', description: 'the same pruned weights as int8 CSR (per-row scales, dynamic per-row activations)', model: f.int8Sparse, key: 'int8Sparse', trainKey: 'quantize' });
  for (const r of rows) if (r.stage === 'teacher' || r.stage === 'student' || r.stage === 'baseline') r.model.pack();
  const lat: Latency[][] = rows.map(() => []);
  const loadAtMeasure = loadavg()[0].toFixed(2);
  const threadsBefore = getNumThreads();
  const threads = setNumThreads(opts.latency?.threads ?? 1);
  try {
    for (const b of batches) {
      emit({ type: 'measure', what: `latency, batch ${b} (${threads} thread${threads > 1 ? 's' : ''})` });
      const n = test.x.shape[0];
      const x = b <= n ? test.x.rows(0, b) : test.x;
      const res = measureLatencies(rows.map((r) => r.model), x, { blocks: opts.latency?.blocks ?? 200, blockMs: opts.latency?.blockMs ?? 0.5 });
      res.forEach((l, i) => lat[i].push(l));
    }
  } finally {
    setNumThreads(threadsBefore);
  }
  const stageReports: StageReport[] = rows.map((r, i) => ({
    stage: r.stage,
    description: r.description,
    accuracy: perSeed[0][r.key] as number,
    meanAccuracy: mean(perSeed.map((s) => s[r.key] as number)),
    holdoutAccuracy: acc(r.model, holdout),
    params: r.model.paramCount(),
    nonzero: nonzeroParams(r.model),
    bytes: r.model.bytes(),
    format: [...new Set(r.model.linears().map((l: Linear) => l.format))].join('+'),
    latency: lat[i],
    trainSeconds: f.seconds[r.trainKey] ?? 0,
  }));

  const report: OptimizeReport = {
    data: { name, rows: data.y.length, features: F, classes: C, train: train.y.length, holdout: holdout.y.length, test: test.y.length },
    config: {
      stages: [...stages], seeds, teacher: [F, ...teacherHidden, C], student: [F, ...studentHidden, C], epochs: ep, lr, batchSize: bs,
      temperature: T, alpha, sparsity, normalize, testFraction, holdoutFraction, splitSeed, optimizer: 'AdamW (weight decay 1e-4), cosine schedule',
    },
    machine: { ...machineInfo(), threads: String(threads), loadAverage: loadAtMeasure },
    stages: stageReports,
    seeds: perSeed,
    quantization: f.quant,
    targets: [],
    defaultSetting:
      opts.data === undefined && !opts.teacherModel && opts.teacher === undefined && opts.student === undefined && opts.epochs === undefined &&
      opts.lr === undefined && opts.seeds === undefined && opts.stages === undefined && opts.sparsity === undefined && opts.temperature === undefined &&
      opts.alpha === undefined && opts.batchSize === undefined && opts.testFraction === undefined && opts.holdoutFraction === undefined && opts.splitSeed === undefined,
    seconds: 0,
  };
  report.targets = checkTargets(report);

  if (opts.outDir !== null) {
    const dir = resolve(opts.outDir ?? 'simdtensor-optimize');
    mkdirSync(join(dir, 'models'), { recursive: true });
    rows.forEach((r, i) => {
      const file = join('models', `${r.stage}.safetensors`);
      stageReports[i].file = file;
      stageReports[i].fileBytes = saveModel(r.model, join(dir, file), {
        metadata: { stage: r.stage, description: r.description, testAccuracy: String(stageReports[i].accuracy), data: name },
      });
    });
    report.outDir = dir;
    report.seconds = (performance.now() - t0) / 1000;
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(dir, 'report.md'), formatMarkdown(report));
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

function machineInfo(): OptimizeReport['machine'] {
  const info = cpuInfo();
  return {
    cpu: `${info.brand.trim()} (${info.logicalCpus} logical CPUs)`,
    isa: info.maxIsa,
    gemm: info.kernels['matmul.f32'] ?? 'unknown',
    gemmInt8: info.kernels['matmul.s8'] ?? 'unknown',
    threads: String(getNumThreads()),
    node: process.version,
    // Other processes compete for the cores: the 1-minute load average when measuring says how much.
    loadAverage: loadavg()[0].toFixed(2),
  };
}

/**
 * Checks that `r` has the shape of an {@link OptimizeReport} in the parts the renderers read (so a wrong argument
 * is a TypeError naming the field, not an internal error deep inside a table).
 */
function checkReport(fn: string, r: unknown): asserts r is OptimizeReport {
  const obj = (v: unknown, arg: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeError(fn, `${arg} must be an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  };
  const arr = (v: unknown, arg: string): unknown[] => {
    if (!Array.isArray(v)) throw typeError(fn, `${arg} must be an array, got ${describe(v)}`);
    return v;
  };
  const num = (o: Record<string, unknown>, k: string, arg: string, optional = false) => {
    if (optional && o[k] === undefined) return;
    if (typeof o[k] !== 'number') throw typeError(fn, `${arg}.${k} must be a number, got ${describe(o[k])}`);
  };
  const str = (o: Record<string, unknown>, k: string, arg: string, optional = false) => {
    if (optional && o[k] === undefined) return;
    if (typeof o[k] !== 'string') throw typeError(fn, `${arg}.${k} must be a string, got ${describe(o[k])}`);
  };
  const rep = obj(r, 'report');
  const data = obj(rep.data, 'report.data');
  for (const k of ['rows', 'features', 'classes', 'train', 'holdout', 'test']) num(data, k, 'report.data');
  str(data, 'name', 'report.data');
  const machine = obj(rep.machine, 'report.machine');
  for (const k of ['cpu', 'isa', 'gemm', 'gemmInt8', 'threads', 'node', 'loadAverage']) str(machine, k, 'report.machine');
  obj(rep.config, 'report.config');
  num(rep, 'seconds', 'report');
  arr(rep.stages, 'report.stages').forEach((sv, i) => {
    const a = `report.stages[${i}]`;
    const st = obj(sv, a);
    for (const k of ['stage', 'description', 'format']) str(st, k, a);
    for (const k of ['accuracy', 'meanAccuracy', 'holdoutAccuracy', 'params', 'nonzero', 'bytes', 'trainSeconds']) num(st, k, a);
    str(st, 'file', a, true);
    num(st, 'fileBytes', a, true);
    arr(st.latency, `${a}.latency`).forEach((lv, j) => {
      const l = obj(lv, `${a}.latency[${j}]`);
      for (const k of ['batch', 'medianMs', 'throughput', 'blocks']) num(l, k, `${a}.latency[${j}]`);
    });
  });
  arr(rep.seeds, 'report.seeds').forEach((sv, i) => {
    const sd = obj(sv, `report.seeds[${i}]`);
    num(sd, 'seed', `report.seeds[${i}]`);
    for (const k of ['teacher', 'student', 'baseline', 'pruned', 'int8', 'int8Sparse']) num(sd, k, `report.seeds[${i}]`, true);
  });
  arr(rep.targets, 'report.targets').forEach((tv, i) => {
    const t = obj(tv, `report.targets[${i}]`);
    str(t, 'target', `report.targets[${i}]`);
    str(t, 'measured', `report.targets[${i}]`);
  });
  if (rep.quantization !== undefined) {
    const q = obj(rep.quantization, 'report.quantization');
    str(q, 'chosen', 'report.quantization');
    arr(q.candidates, 'report.quantization.candidates').forEach((cv, i) => {
      const c = obj(cv, `report.quantization.candidates[${i}]`);
      str(c, 'mode', `report.quantization.candidates[${i}]`);
      num(c, 'top1Agreement', `report.quantization.candidates[${i}]`);
      num(c, 'rmse', `report.quantization.candidates[${i}]`);
    });
  }
}

/** Checks the issue's targets (meaningful for the digits defaults; reported for any run). */
export function checkTargets(r: OptimizeReport): TargetCheck[] {
  checkReport('checkTargets', r);
  const out: TargetCheck[] = [];
  const st = (name: string) => r.stages.find((s) => s.stage === name);
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const seedsOf = (k: keyof SeedReport) => r.seeds.map((s) => s[k]).filter((v): v is number => typeof v === 'number');
  const teacher = st('teacher');
  const tMean = mean(seedsOf('teacher'));
  if (teacher) {
    const all = seedsOf('teacher');
    out.push({ target: 'teacher test accuracy ≥ 97 % (every seed)', measured: all.map(pct).join(', '), met: all.every((a) => a >= 0.97) });
  }
  const student = st('student');
  if (teacher && student) {
    const ratio = teacher.params / student.params;
    out.push({ target: 'student has ≥ 4× fewer parameters', measured: `${ratio.toFixed(2)}× (${teacher.params} → ${student.params})`, met: ratio >= 4 });
    const sMean = mean(seedsOf('student'));
    out.push({ target: `distilled student within 1 point of the teacher (mean of ${r.seeds.length} seeds)`, measured: `${pct(sMean)} vs ${pct(tMean)} (${((sMean - tMean) * 100).toFixed(2)} points)`, met: tMean - sMean <= 0.01 + 1e-9 });
    if (st('baseline')) {
      const bMean = mean(seedsOf('baseline'));
      out.push({ target: `distilled student better than the same student without distillation (mean of ${r.seeds.length} seeds)`, measured: `${pct(sMean)} vs ${pct(bMean)}`, met: sMean > bMean });
    }
  }
  const q = st('int8');
  const p = st('pruned');
  if (teacher && q) {
    const qMean = mean(seedsOf('int8'));
    const sparse = p ? 1 - (p.nonzero / p.params) : 0;
    out.push({ target: 'pruned ≥ 80 % and int8', measured: `${(sparse * 100).toFixed(1)} % of parameters zero, ${q.format} weights`, met: !!p && sparse >= 0.8 && /int8/.test(q.format) });
    out.push({ target: `pruned + int8 student within 1.5 points of the teacher (mean of ${r.seeds.length} seeds)`, measured: `${pct(qMean)} vs ${pct(tMean)} (${((qMean - tMean) * 100).toFixed(2)} points)`, met: tMean - qMean <= 0.015 + 1e-9 });
    const mem = teacher.bytes / q.bytes;
    out.push({ target: '≥ 10× less memory than the f32 teacher', measured: `${mem.toFixed(1)}× (${teacher.bytes} → ${q.bytes} bytes)`, met: mem >= 10 });
    const tb = teacher.latency.find((l) => l.batch === 64);
    const qb = q.latency.find((l) => l.batch === 64);
    if (tb && qb) {
      const sp = qb.throughput / tb.throughput;
      out.push({ target: '≥ 5× the teacher’s batch-64 throughput', measured: `${sp.toFixed(1)}× (${Math.round(tb.throughput)} → ${Math.round(qb.throughput)} rows/s, medians)`, met: sp >= 5 });
    }
  }
  return out;
}

function us(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

function kb(bytes: number): string {
  return bytes < 10240 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The stage table as rows of cells (header first), shared by the Markdown and terminal renderings. */
export function stageTable(r: OptimizeReport): string[][] {
  checkReport('stageTable', r);
  const batches = r.stages[0]?.latency.map((l) => l.batch) ?? [];
  const teacher = r.stages.find((s) => s.stage === 'teacher');
  const head = ['stage', 'test acc', `mean of ${r.seeds.length}`, 'params (nonzero)', 'weights', 'vs teacher'];
  for (const b of batches) head.push(`batch ${b} latency`, `batch ${b} rows/s`);
  const rows = [head];
  for (const s of r.stages) {
    const row = [s.stage, `${(s.accuracy * 100).toFixed(2)} %`, `${(s.meanAccuracy * 100).toFixed(2)} %`, `${s.params} (${s.nonzero})`, `${kb(s.bytes)} ${s.format}`, teacher && s.stage !== 'teacher' ? `${(teacher.bytes / s.bytes).toFixed(1)}× smaller` : '—'];
    s.latency.forEach((l, i) => {
      const tl = teacher?.latency[i];
      row.push(`${us(l.medianMs)}`, `${Math.round(l.throughput).toLocaleString('en-US')}${tl && s.stage !== 'teacher' ? ` (${(l.throughput / tl.throughput).toFixed(1)}×)` : ''}`);
    });
    rows.push(row);
  }
  return rows;
}

function mdTable(rows: string[][]): string {
  const [h, ...b] = rows;
  return [`| ${h.join(' | ')} |`, `|${h.map(() => '---').join('|')}|`, ...b.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The report as Markdown (what report.md holds). */
export function formatMarkdown(r: OptimizeReport): string {
  checkReport('formatMarkdown', r);
  const lines: string[] = [];
  lines.push('# simdtensor optimize report', '');
  lines.push(`Data: ${r.data.name} — ${r.data.rows} rows, ${r.data.features} features, ${r.data.classes} classes; fixed stratified split: ${r.data.train} train, ${r.data.holdout} held out (calibration/validation), ${r.data.test} test.`, '');
  lines.push(`Machine: ${r.machine.cpu}; ISA ${r.machine.isa}; f32 GEMM ${r.machine.gemm}; int8 GEMM ${r.machine.gemmInt8}; ${r.machine.threads} kernel thread(s) while timing; Node ${r.machine.node}; 1-minute load average ${r.machine.loadAverage} when timing started.`, '');
  lines.push(`Latency: median per call over ${r.stages[0]?.latency[0]?.blocks ?? 0} timed blocks per model, the models interleaved block by block; rows/s = batch / median.`, '');
  lines.push('## Stages (first seed)', '', mdTable(stageTable(r)), '');
  for (const s of r.stages) lines.push(`- **${s.stage}**: ${s.description}; held-out accuracy ${(s.holdoutAccuracy * 100).toFixed(2)} %; trained in ${s.trainSeconds.toFixed(1)} s${s.file ? `; saved as \`${s.file}\` (${s.fileBytes} bytes)` : ''}.`);
  if (r.quantization) {
    lines.push('', `int8 calibration (held-out slice, first seed): ${r.quantization.candidates.map((c) => `${c.mode}: top-1 agreement with float32 ${(c.top1Agreement * 100).toFixed(2)} %, logit RMSE ${c.rmse.toFixed(4)}`).join('; ')} → kept **${r.quantization.chosen}**.`);
  }
  lines.push('', '## Seeds', '');
  const keys: (keyof SeedReport)[] = ['teacher', 'student', 'baseline', 'pruned', 'int8', 'int8Sparse'];
  const present = keys.filter((k) => r.seeds.some((s) => s[k] !== undefined));
  const seedRows = [['seed', ...present.map(String)], ...r.seeds.map((s) => [String(s.seed), ...present.map((k) => (s[k] === undefined ? '' : `${((s[k] as number) * 100).toFixed(2)} %`))])];
  seedRows.push(['mean', ...present.map((k) => `${(mean(r.seeds.map((s) => s[k] as number)) * 100).toFixed(2)} %`)]);
  lines.push(mdTable(seedRows), '');
  if (r.targets.length) {
    lines.push('## Targets', '');
    if (!r.defaultSetting) lines.push('The targets are defined for the default digits run; this run changed the setting, so they are shown for reference only.', '');
    lines.push(mdTable([['target', 'measured', 'met'], ...r.targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**'])]), '');
  }
  lines.push(`Configuration: \`${JSON.stringify(r.config)}\``, '', `Total time: ${r.seconds.toFixed(1)} s.`, '');
  return lines.join('\n');
}
