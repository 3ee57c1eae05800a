// The API contract of issue #12 over every op family, table-driven: for each export taking an options object,
// null and undefined mean "no options" (same result as leaving it out), and a non-object is a TypeError naming the
// function; exports whose options are required refuse null/undefined with a clear TypeError/RangeError. A guard
// test fails when a new export takes options but is missing from the table. Then the bad arguments of the ONNX
// export/transform and serving entry points: each is a TypeError/RangeError naming the function, never an
// internal error ("Cannot read properties of …") or a silent acceptance.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { Tensor } from '../src/index.js';

const {
  rand, mlp, quantize, sequentialToOnnxModel, toOnnxBytes, loadOnnx, onnxBatchable, softTargets,
} = api;

const dir = mkdtempSync(join(tmpdir(), 'simdtensor-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fuzzer's list of leaked JS errors (test/fuzz/plan.mjs), in short: a message like these is a library bug. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|Cannot convert|Cannot destructure|undefined is not|null is not|Cannot create property|Cannot use 'in'|Cannot access|Cannot perform/i;

/** Settles a sync-or-async call: its value, or the error it threw or rejected with. */
async function settle(f: () => unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Expects a clean contract error: TypeError/RangeError whose message starts with `fn:` and is not a leaked one. */
async function expectClean(fn: string, f: () => unknown, match?: RegExp): Promise<void> {
  const r = await settle(f);
  if (r.ok) throw new Error(`${fn}: expected a TypeError/RangeError, the call returned ${String(r.value)}`);
  const e = r.error as Error;
  expect(e instanceof TypeError || e instanceof RangeError, `${fn}: ${e?.name}: ${e?.message}`).toBe(true);
  expect(e.message.startsWith(`${fn}`), `message should name ${fn}: ${e.message}`).toBe(true);
  expect(e.message).not.toMatch(INTERNAL);
  if (match) expect(e.message).toMatch(match);
}

/** Closes what a call made (servers, batchers, trace handles), so no timer outlives the test. */
async function cleanup(v: unknown): Promise<void> {
  const o = v as { close?: (x?: unknown) => unknown; stop?: () => unknown } | null;
  if (o && typeof o === 'object') {
    if (typeof o.close === 'function') await o.close();
    else if (typeof o.stop === 'function') await o.stop();
  }
}

/** Plain comparable form of a result (tensors by values and shape; anything else by its shape of keys). */
function summary(v: unknown): unknown {
  if (v instanceof Tensor) return { shape: v.shape.slice(), data: Array.from(v.data as ArrayLike<number>) };
  if (v && typeof v === 'object' && 'data' in v && (v as { data: unknown }).data instanceof Tensor) return summary((v as { data: unknown }).data);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return typeof v;
}

const x4 = () => rand([1, 2, 5, 5], { seed: 1 });
const w4 = () => rand([3, 2, 3, 3], { seed: 2 });
const seq = () => mlp([4, 3, 2], { seed: 1 });
const onnx = () => sequentialToOnnxModel(seq());
const feeds = () => ({ input: rand([3, 4], { seed: 5 }) });
const data = () => ({ x: rand([6, 4], { seed: 3 }), y: Int32Array.from([0, 1, 0, 1, 0, 1]) });
const bn = () => ({ gamma: rand([3], { seed: 4 }), beta: rand([3], { seed: 5 }), mean: rand([3], { seed: 6 }), variance: rand([3], { seed: 7, low: 0.5, high: 1 }) });
type Call = (opts: unknown) => unknown;

/** Exports whose options are optional: f(undefined) and f(null) must equal f() (when deterministic). */
const OPTIONAL: Record<string, { call: Call; deterministic?: boolean }> = {
  // tensors, GEMM, elementwise, packing
  matmul: { call: (o) => api.matmul(rand([2, 3]), rand([3, 2]), o as never) },
  matmulAsync: { call: (o) => api.matmulAsync(rand([2, 3]), rand([3, 2]), o as never) },
  linear: { call: (o) => api.linear(rand([2, 3]), rand([2, 3]), null, o as never) },
  linearAsync: { call: (o) => api.linearAsync(rand([2, 3]), rand([2, 3]), null, o as never) },
  add: { call: (o) => api.add(rand([2, 3]), rand([2, 3], { seed: 9 }), o as never) },
  sub: { call: (o) => api.sub(rand([2, 3]), 1, o as never) },
  mul: { call: (o) => api.mul(rand([2, 3]), 2, o as never) },
  relu: { call: (o) => api.relu(rand([2, 3], { low: -1 }), o as never) },
  gelu: { call: (o) => api.gelu(rand([2, 3]), o as never) },
  softmax: { call: (o) => api.softmax(rand([2, 3]), o as never) },
  logSoftmax: { call: (o) => api.logSoftmax(rand([2, 3]), o as never) },
  layerNorm: { call: (o) => api.layerNorm(rand([2, 3]), null, null, o as never) },
  rand: { call: (o) => api.rand([3], o as never), deterministic: false },
  packWeights: { call: (o) => api.packWeights(rand([3, 4]), o as never), deterministic: false },
  packHalfWeights: { call: (o) => api.packHalfWeights(api.cast(rand([3, 4]), 'float16'), o as never), deterministic: false },
  packInt8Weights: { call: (o) => api.packInt8Weights(quantize(rand([3, 4]), { axis: 0 }), o as never), deterministic: false },
  getPacked: { call: (o) => api.getPacked(rand([3, 4]), o as never), deterministic: false },
  quantize: { call: (o) => api.quantize(rand([3, 4]), o as never) },
  dequantize: { call: (o) => api.dequantize(quantize(rand([3, 4])), o as never) },
  quantizeDynamic: { call: (o) => api.quantizeDynamic(rand([3, 4]), o as never) },
  toSparse: { call: (o) => api.toSparse(rand([3, 4]), o as never), deterministic: false },
  // conv family
  conv2d: { call: (o) => api.conv2d(x4(), w4(), o as never) },
  conv2dAsync: { call: (o) => api.conv2dAsync(x4(), w4(), o as never) },
  conv2dInt8: { call: (o) => api.conv2d(quantize(x4()), quantize(w4(), { axis: 0 }), o as never) },
  convTranspose2d: { call: (o) => api.convTranspose2d(x4(), rand([2, 3, 3, 3]), o as never) },
  convTranspose2dAsync: { call: (o) => api.convTranspose2dAsync(x4(), rand([2, 3, 3, 3]), o as never) },
  depthwiseConv2d: { call: (o) => api.depthwiseConv2d(x4(), rand([2, 1, 3, 3]), o as never) },
  depthwiseConv2dAsync: { call: (o) => api.depthwiseConv2dAsync(x4(), rand([2, 1, 3, 3]), o as never) },
  globalAvgPool: { call: (o) => api.globalAvgPool(x4(), o as never) },
  globalMaxPool: { call: (o) => api.globalMaxPool(x4(), o as never) },
  globalAvgPoolAsync: { call: (o) => api.globalAvgPoolAsync(x4(), o as never) },
  globalMaxPoolAsync: { call: (o) => api.globalMaxPoolAsync(x4(), o as never) },
  nchwToNhwc: { call: (o) => api.nchwToNhwc(x4(), o as never) },
  nhwcToNchw: { call: (o) => api.nhwcToNchw(x4(), o as never) },
  nchwToNhwcAsync: { call: (o) => api.nchwToNhwcAsync(x4(), o as never) },
  nhwcToNchwAsync: { call: (o) => api.nhwcToNchwAsync(x4(), o as never) },
  packConvWeights: { call: (o) => api.packConvWeights(w4(), o as never), deterministic: false },
  packConvWeightsInt8: { call: (o) => api.packConvWeights(quantize(w4(), { axis: 0 }), o as never), deterministic: false },
  foldBatchNorm: { call: (o) => api.foldBatchNorm(w4(), null, bn(), o as never).weight },
  // nn
  mlp: { call: (o) => api.mlp([3, 2], o as never), deterministic: false },
  Linear: { call: (o) => new api.Linear(3, 2, o as never), deterministic: false },
  LayerNorm: { call: (o) => new api.LayerNorm(3, o as never), deterministic: false },
  Dropout: { call: (o) => new api.Dropout(0.5, o as never), deterministic: false },
  SGD: { call: (o) => new api.SGD(seq().parameters(), o as never), deterministic: false },
  AdamW: { call: (o) => new api.AdamW(seq().parameters(), o as never), deterministic: false },
  crossEntropy: { call: (o) => api.crossEntropy(rand([2, 3]), Int32Array.of(0, 2), o as never).loss },
  distillationLoss: { call: (o) => api.distillationLoss(rand([2, 3]), softTargets(rand([2, 3], { seed: 3 }), 2), Int32Array.of(0, 2), o as never).loss },
  fit: { call: (o) => api.fit(seq(), data(), o as never), deterministic: false },
  evaluate: { call: (o) => api.evaluate(seq(), data(), o as never).accuracy },
  predict: { call: (o) => api.predict(seq(), rand([2, 4]), o as never) },
  distill: { call: (o) => api.distill(seq(), mlp([4, 2], { seed: 2 }), data(), o as never), deterministic: false },
  measureLatency: { call: (o) => api.measureLatency(seq(), rand([2, 4]), o as never), deterministic: false },
  measureLatencies: { call: (o) => api.measureLatencies([seq()], rand([2, 4]), o as never), deterministic: false },
  serializeModel: { call: (o) => api.serializeModel(seq(), o as never).length },
  saveModel: { call: (o) => api.saveModel(seq(), join(dir, 'm.json'), o as never) },
  parseCsv: { call: (o) => api.parseCsv('1,0\n2,1\n', o as never).x },
  loadCsv: { call: (o) => { writeFileSync(join(dir, 'd.csv'), '1,0\n2,1\n'); return api.loadCsv(join(dir, 'd.csv'), o as never).x; } },
  quantizeModel: { call: (o) => api.quantizeModel(seq(), o as never), deterministic: false },
  sparsifyModel: { call: (o) => api.sparsifyModel(seq(), o as never), deterministic: false },
  // runtime, caching, monitoring
  Calibrator: { call: (o) => new api.Calibrator(o as never), deterministic: false },
  Executor: { call: (o) => new api.Executor(o as never), deterministic: false },
  BatchScheduler: { call: (o) => new api.BatchScheduler((x) => x, o as never), deterministic: false },
  memoize: { call: (o) => api.memoize((x: Tensor) => x.size, o as never)(rand([3])) },
  prometheus: { call: (o) => typeof api.prometheus(o as never) },
  startTrace: { call: (o) => api.startTrace(o as never), deterministic: false },
  trace: { call: (o) => api.trace(() => 1, o as never), deterministic: false },
  // ONNX
  loadOnnx: { call: (o) => loadOnnx(toOnnxBytes(onnx()), o as never).run(feeds()).output },
  calibrate: { call: (o) => Object.keys(api.calibrate(onnx(), [feeds()], o as never)).length },
  onnxToSequential: { call: (o) => api.predict(api.onnxToSequential(onnx(), o as never), rand([2, 4])) },
  sequentialToOnnx: { call: (o) => api.sequentialToOnnx(seq(), o as never).length },
  sequentialToOnnxModel: { call: (o) => api.sequentialToOnnxModel(seq(), o as never).run(feeds()).output },
  teacherLogits: { call: (o) => api.teacherLogits(onnx(), rand([3, 4]), o as never) },
  distillOnnx: { call: (o) => api.distillOnnx(onnx(), { hidden: [3] }, { x: rand([6, 4]) }, o as never), deterministic: false },
  // serving
  DynamicBatcher: { call: (o) => new api.DynamicBatcher(onnxBatchable(onnx()), o as never), deterministic: false },
  batchOnnx: { call: (o) => api.batchOnnx(onnx(), o as never), deterministic: false },
  createServer: { call: (o) => api.createServer(onnx(), o as never), deterministic: false },
};

/** Exports whose options object is required: null/undefined are refused with a clear error. */
const REQUIRED: Record<string, Call> = {
  prune: (o) => api.prune(rand([4, 4]), o as never), // sparsity has no default
  maxPool2d: (o) => api.maxPool2d(x4(), o as never),
  avgPool2d: (o) => api.avgPool2d(x4(), o as never),
  maxPool2dAsync: (o) => api.maxPool2dAsync(x4(), o as never),
  avgPool2dAsync: (o) => api.avgPool2dAsync(x4(), o as never),
  resize: (o) => api.resize(x4(), o as never),
  resizeAsync: (o) => api.resizeAsync(x4(), o as never),
  pruneModel: (o) => api.pruneModel(onnx(), o as never),
  convertModel: (o) => api.convertModel(onnx(), o as never),
  gradualPruning: (o) => api.gradualPruning(o as never),
  cubicSparsity: (o) => api.cubicSparsity(1, o as never),
  GradualPruner: (o) => new api.GradualPruner(seq(), o as never),
  quantizeModel: (o) => api.quantizeModel(onnx(), o as never), // the OnnxModel form needs opts.mode
};

/** Exports with an options parameter that the table leaves out on purpose. */
const NOT_IN_TABLE: Record<string, string> = {
  optimize: 'a whole optimization pipeline (minutes); its options are tested in optimize.test.ts',
};

/** The export names of OPTIONAL/REQUIRED rows (a row name may carry a suffix, e.g. conv2dInt8). */
const covered = new Set([...Object.keys(OPTIONAL), ...Object.keys(REQUIRED), ...Object.keys(NOT_IN_TABLE)]);

describe('options of every op family (table-driven)', () => {
  it('every export with an options parameter is in the table', () => {
    const missing: string[] = [];
    for (const [name, v] of Object.entries(api)) {
      if (typeof v !== 'function') continue;
      const src = Function.prototype.toString.call(v);
      const m = /^class\b/.test(src) ? /constructor\s*\(([^)]*)\)/.exec(src) : /^(?:async\s+)?function\s*\*?\s*\w*\s*\(([^)]*)\)/.exec(src);
      if (m && /\bopts\b|\boptions\b/.test(m[1]) && !covered.has(name)) missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  for (const [name, { call, deterministic = true }] of Object.entries(OPTIONAL)) {
    const fn = name.replace(/Int8$/, '');
    it(`${name}: undefined and null mean no options; a non-object is a TypeError naming ${fn}`, async () => {
      const results: unknown[] = [];
      for (const o of [undefined, null, {}]) {
        const r = await settle(() => call(o));
        if (!r.ok) throw new Error(`${name}(${String(o)}) threw ${(r.error as Error)?.name}: ${(r.error as Error)?.message}`);
        results.push(summary(r.value));
        await cleanup(r.value);
      }
      if (deterministic) {
        expect(results[1]).toEqual(results[0]);
        expect(results[2]).toEqual(results[0]);
      }
      for (const bad of [Symbol('opts'), 5, 'fast']) await expectClean(fn, () => call(bad));
    }, 30_000);
  }

  for (const [name, call] of Object.entries(REQUIRED)) {
    it(`${name}: required options, null and undefined are a clear error naming ${name}`, async () => {
      await expectClean(name, () => call(undefined));
      await expectClean(name, () => call(null));
      await expectClean(name, () => call(Symbol('opts')));
    });
  }
});

describe('ONNX export and transform entry points: bad arguments', () => {
  const model = onnx();
  const bytes = toOnnxBytes(model);

  it('loadOnnx', async () => {
    await expectClean('loadOnnx', () => loadOnnx(5 as never));
    await expectClean('loadOnnx', () => loadOnnx(Symbol('p') as never));
    await expectClean('loadOnnx', () => loadOnnx(bytes.slice(0, 7)));
    await expectClean('loadOnnx', () => loadOnnx(join(dir, 'missing.onnx')));
    await expectClean('loadOnnx', () => loadOnnx(bytes, { optimize: 'yes' as never }), /optimize must be a boolean/);
    await expectClean('loadOnnx', () => loadOnnx(bytes, { disable: 'linear-fusion' as never }), /disable must be an array/);
    await expectClean('loadOnnx', () => loadOnnx(bytes, { disable: [Symbol('x')] as never }), /disable must be an array/);
    await expectClean('loadOnnx', () => loadOnnx(bytes, { disable: ['linear-fusoin'] }), /unknown pass 'linear-fusoin'/);
    await expectClean('loadOnnx', () => loadOnnx(bytes, { baseDir: 5 as never }));
  });

  it('toOnnxBytes and saveOnnx', async () => {
    for (const bad of [undefined, null, {}, seq(), Symbol('m')]) await expectClean('toOnnxBytes', () => toOnnxBytes(bad as never));
    for (const bad of [undefined, '', 5, Symbol('p')]) await expectClean('saveOnnx', () => api.saveOnnx(model, bad as never));
    await expectClean('saveOnnx', () => api.saveOnnx({} as never, join(dir, 'x.onnx')));
    await expectClean('saveOnnx', () => api.saveOnnx(model, join(dir, 'no', 'such', 'dir', 'x.onnx')));
  });

  it('quantizeModel, calibrate, pruneModel, convertModel', async () => {
    await expectClean('quantizeModel', () => api.quantizeModel(model, { mode: 'bogus' as never }));
    await expectClean('quantizeModel', () => api.quantizeModel(model, { mode: 'static' }), /calibrat/);
    await expectClean('quantizeModel', () => api.quantizeModel(model, { mode: 'dynamic', weightType: 'int4' as never }));
    await expectClean('quantizeModel', () => api.quantizeModel(model, { mode: 'dynamic', skipOps: 'Gemm' as never }));
    await expectClean('quantizeModel', () => api.quantizeModel({} as never, { mode: 'dynamic' }));
    await expectClean('calibrate', () => api.calibrate(model, []));
    await expectClean('calibrate', () => api.calibrate(model, [null as never]));
    await expectClean('calibrate', () => api.calibrate(model, 'x' as never));
    await expectClean('calibrate', () => api.calibrate(model, [feeds()], { method: 'bogus' as never }));
    await expectClean('calibrate', () => api.calibrate(model, [{ input: rand([2, 5]) }]));
    await expectClean('pruneModel', () => api.pruneModel(model, { sparsity: 2 }));
    await expectClean('pruneModel', () => api.pruneModel(model, { sparsity: NaN }));
    await expectClean('pruneModel', () => api.pruneModel(model, { sparsity: 0.5, pattern: 'bogus' }));
    await expectClean('pruneModel', () => api.pruneModel(seq() as never, { sparsity: 0.5 }));
    await expectClean('convertModel', () => api.convertModel(model, { dtype: 'int8' as never }));
    await expectClean('convertModel', () => api.convertModel(model, { dtype: 'float16', minElements: -1 }));
    await expectClean('convertModel', () => api.convertModel(null as never, { dtype: 'float16' }));
  });

  it('onnxToSequential, sequentialToOnnx, teacherLogits, distillOnnx', async () => {
    await expectClean('onnxToSequential', () => api.onnxToSequential({} as never));
    await expectClean('onnxToSequential', () => api.onnxToSequential(model, { finalSoftmax: 'bogus' as never }));
    await expectClean('sequentialToOnnx', () => api.sequentialToOnnx({} as never));
    await expectClean('sequentialToOnnx', () => api.sequentialToOnnx(seq(), { inputName: '' }));
    await expectClean('sequentialToOnnx', () => api.sequentialToOnnx(seq(), { inputDims: [-1] as never }));
    await expectClean('sequentialToOnnxModel', () => api.sequentialToOnnxModel(Symbol('m') as never));
    await expectClean('teacherLogits', () => api.teacherLogits(model, rand([3, 5])));
    await expectClean('teacherLogits', () => api.teacherLogits(model, rand([3, 4]), { batchSize: 0 }));
    await expectClean('teacherLogits', () => api.teacherLogits({} as never, rand([3, 4])));
    await expectClean('distillOnnx', () => api.distillOnnx(model, {} as never, { x: rand([6, 4]) }));
    await expectClean('distillOnnx', () => api.distillOnnx(model, { hidden: [3] }, { x: rand([6, 5]) }, { epochs: 1 }));
    await expectClean('distillOnnx', () => api.distillOnnx(model, { hidden: [3] }, null as never));
    await expectClean('distillOnnx', () => api.distillOnnx(model, { hidden: [3] }, { x: rand([6, 4]) }, { epochs: -1 }));
  });

  it('registerOnnxOp refuses a definition without run, and getOnnxOp stays clean', async () => {
    for (const def of [null, 5, {}, { run: 5 }]) await expectClean('registerOnnxOp', () => api.registerOnnxOp('ContractTestOp', def as never));
    await expectClean('registerOnnxOp', () => api.registerOnnxOp('', { run: () => [] }));
    await expectClean('registerOnnxOp', () => api.registerOnnxOp('ContractTestOp', { run: () => [], opsets: [5, 1] }));
    expect(api.getOnnxOp('ContractTestOp', '')).toBeUndefined();
    // A non-string op or domain (the fuzzer's seed 22 passed an array holding a Symbol: V8's conversion error leaked
    // from the key's template string) is a TypeError naming the argument.
    expect(() => api.getOnnxOp([Symbol()] as never, '')).toThrow(/getOnnxOp: op must be a string, got \[Symbol\(\)\]/);
    expect(() => api.getOnnxOp('Add', 5 as never)).toThrow(/getOnnxOp: domain must be a string, got 5/);
    await expectClean('getOnnxOp', () => api.getOnnxOp(Symbol() as never, ''));
    expect(api.getOnnxOp('Add', '')).toBeDefined();
  });

  it('factory-made classes refuse a direct construction with junk', async () => {
    await expectClean('OnnxModel', () => new (api.OnnxModel as unknown as new (...a: unknown[]) => unknown)(5, []));
    await expectClean('PackedWeights', () => new (api.PackedWeights as unknown as new (...a: unknown[]) => unknown)());
    await expectClean('PackedHalfWeights', () => new (api.PackedHalfWeights as unknown as new (...a: unknown[]) => unknown)(undefined));
    await expectClean('PackedInt8Weights', () => new (api.PackedInt8Weights as unknown as new (...a: unknown[]) => unknown)(null));
    await expectClean('SparseTensor', () => new (api.SparseTensor as unknown as new (...a: unknown[]) => unknown)('csr', undefined));
  });
});

describe('serving entry points: bad arguments', () => {
  it('createServer, DynamicBatcher, batchOnnx, onnxBatchable, sequentialBatchable, loadServable', async () => {
    const model = onnx();
    await expectClean('createServer', () => api.createServer({} as never));
    await expectClean('createServer', () => api.createServer(model, { maxBatch: 0 }));
    await expectClean('createServer', () => api.createServer(model, { name: 'bad name' }));
    await expectClean('createServer', () => api.createServer(model, { metricsPrefix: '1x' }));
    await expectClean('DynamicBatcher', () => new api.DynamicBatcher({} as never));
    await expectClean('DynamicBatcher', () => new api.DynamicBatcher(Symbol('m') as never));
    await expectClean('batchOnnx', () => api.batchOnnx(seq() as never));
    await expectClean('onnxBatchable', () => api.onnxBatchable({} as never));
    await expectClean('sequentialBatchable', () => api.sequentialBatchable(model as never));
    await expectClean('loadServable', () => api.loadServable(Symbol('p') as never));
    await expectClean('loadServable', () => api.loadServable(5 as never));
    await expectClean('loadServable', () => api.loadServable(join(dir, 'missing.onnx')));
  });

  it('DynamicBatcher.infer rejects (never throws) bad feeds with an error naming the input', async () => {
    const b = api.batchOnnx(onnx(), { name: 'contract' });
    try {
      for (const bad of [null, {}, { input: null }, { input: { dtype: 'float32', shape: [1, 5], data: new Float32Array(5) } }, { input: { dtype: 'int8', shape: [1, 4], data: new Int8Array(4) } }, { bogus: { dtype: 'float32', shape: [1, 4], data: new Float32Array(4) } }]) {
        let p: Promise<unknown> | undefined;
        expect(() => { p = b.infer(bad as never); }).not.toThrow();
        const r = await settle(() => p);
        expect(r.ok).toBe(false);
        const e = (r as { error: Error }).error;
        expect(e instanceof TypeError || e instanceof RangeError, `${e?.name}: ${e?.message}`).toBe(true);
        expect(e.message).not.toMatch(INTERNAL);
      }
      const ok = await b.infer({ input: { dtype: 'float32', shape: [2, 4], data: new Float32Array(8) } });
      expect(ok.output.shape).toEqual([2, 2]);
    } finally {
      await b.close();
    }
  });
});

describe('absurd sizes allowed by a validator cost nothing until used', () => {
  it('a BatchScheduler allowing 2^31-row batches keeps a sparse batch-size histogram (it allocated 17 GB)', async () => {
    const s = new api.BatchScheduler((x) => x, { maxBatchSize: 2 ** 31, maxDelayMs: 0 });
    const y = await s.submit(rand([1, 3], { seed: 1 }));
    expect(y.shape).toEqual([1, 3]);
    expect(s.stats().batchSizes).toEqual({ 1: 1 });
    await s.close();
  });
});
