// Issue #12, the classes the fuzzer found outside the core ops: runNativeAsync's argument checks (no unhandled
// rejection), the nn module's option/size/path checks (no hang, no huge allocation), the register* extension
// points, rng/permutation, the raw addon's handle check, and empty inputs to the native runtime.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTargets, evaluate, featureStats, fit, formatMarkdown, Layer, LayerNorm, Linear, loadCsv, loadModel, MAX_ELEMENTS, matmul,
  measureLatencies, measureLatency, mlp, modelSparsity, packWeights, parseCsv, permutation, predict, prune, registerAsyncLinear,
  registerAsyncMatmul, registerCast, registerLinear, registerMatmul, registerPack, registerWeightCodec, rng, runNativeAsync,
  saveModel, Sequential, stageTable, subset, tensor, Tensor, toSparse, zeros, Dropout, sparseCsr, cast, matmulAsync,
  accuracy, AdamW, Parameter, linear, rand, foldBatchNorm, probeHalfPeak, conv2d, crossEntropy, distill, distillationLoss, gatherRows, inputQuant, quantizeModel, schedules, SGD, stratifiedSplit,
} from '../src/index.js';
import { native } from '../src/native.js';

const tmp = mkdtempSync(join(tmpdir(), 'st-rel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const smallModel = () => mlp([3, 4, 2]);
const data = () => ({ x: tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3]), y: Int32Array.from([0, 1, 0]) });

describe('runNativeAsync', () => {
  it('rejects a signal that is not an AbortSignal with a TypeError, without calling start', async () => {
    let started = 0;
    const start = () => {
      started++;
      return Promise.reject(new Error('must not run'));
    };
    for (const bad of [5, 'x', {}, { aborted: false }, Symbol('s'), 1n]) {
      await expect(runNativeAsync('fz', bad as unknown as AbortSignal, start, 1)).rejects.toThrow(TypeError);
    }
    await expect(runNativeAsync('fz', {} as AbortSignal, start, 1)).rejects.toThrow(/fz: options\.signal must be an AbortSignal, got Object/);
    expect(started).toBe(0);
  });

  it('turns a throwing start, a non-function start and a non-Promise return into rejections', async () => {
    const boom = new RangeError('boom');
    const throwing = () => {
      throw boom;
    };
    for (const signal of [undefined, null, new AbortController().signal]) {
      const s = signal as AbortSignal | undefined;
      await expect(runNativeAsync('fz', s, throwing, 1)).rejects.toBe(boom);
      await expect(runNativeAsync('fz', s, 5 as unknown as () => Promise<unknown>, 1)).rejects.toThrow(/fz: start must be a function, got 5/);
      await expect(runNativeAsync('fz', s, (() => 5) as unknown as () => Promise<unknown>, 1)).rejects.toThrow(/fz: start\(id\) must return a Promise, got 5/);
      await expect(runNativeAsync('fz', s, () => Promise.reject(boom), 1)).rejects.toBe(boom);
      await expect(runNativeAsync('fz', s, () => Promise.resolve(0), 7)).resolves.toBe(7);
    }
    await expect(runNativeAsync(5 as unknown as string, undefined, () => Promise.resolve(0), 1)).rejects.toThrow(/runNativeAsync: fn must be a string/);
  });

  it('leaves no unhandled rejection when the native op fails after a bad call', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The fuzzer's reproducer: a real native op started with a junk signal.
      const start = (id: number) => matmulAsync(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 2, 3, 4, 5, 6], [3, 2])).then(() => id);
      await expect(runNativeAsync('fz', 5 as unknown as AbortSignal, start, 1)).rejects.toThrow(TypeError);
      await expect(runNativeAsync('fz', undefined, () => Promise.reject(new Error('late')), 1)).rejects.toThrow('late');
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe('nn batch sizes and counts', () => {
  it('predict, evaluate and fit share one batchSize check (no endless loop on 0)', () => {
    const m = smallModel();
    const d = data();
    for (const bs of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
      expect(() => predict(m, d.x, { batchSize: bs })).toThrow(/predict: opts\.batchSize must be a positive integer/);
      expect(() => evaluate(m, d, { batchSize: bs })).toThrow(/evaluate: opts\.batchSize must be a positive integer/);
      expect(() => fit(m, d, { batchSize: bs, epochs: 1 })).toThrow(/fit: opts\.batchSize must be a positive integer/);
    }
    expect(() => predict(m, d.x, { batchSize: '2' as unknown as number })).toThrow(TypeError);
    expect(() => predict(m, d.x, 5 as unknown as object)).toThrow(/predict: opts must be an object.*got 5/);
    expect(() => predict({} as Layer, d.x)).toThrow(/predict: model must be a Layer/);
    expect(() => evaluate(null as unknown as Layer, d)).toThrow(/evaluate: model must be a Layer/);
    expect(() => fit(m, d, { epochs: 1, seed: -1 })).toThrow(/fit: opts\.seed must be an integer >= 0/);
    expect(() => fit(m, d, { epochs: 1, onEpoch: 5 as unknown as () => void })).toThrow(/fit: opts\.onEpoch must be a function/);
    // Valid calls still work: batchSize 1 and the defaults agree.
    expect(Array.from(predict(m, d.x, { batchSize: 1 }).data)).toEqual(Array.from(predict(m, d.x).data));
    expect(evaluate(m, d, { batchSize: 2 }).accuracy).toBeGreaterThanOrEqual(0);
  });

  it('layer constructors check sizes against MAX_ELEMENTS instead of allocating', () => {
    expect(() => new LayerNorm(2 ** 31)).toThrow(RangeError);
    expect(() => new LayerNorm(2 ** 31)).toThrow(/LayerNorm: features \(2147483648\) is more than 2147483647/);
    expect(() => new Linear(2 ** 31, 1)).toThrow(/Linear: inFeatures/);
    expect(() => new Linear(65536, 65536)).toThrow(/Linear: the weight \[65536, 65536\] has 4294967296 elements, more than 2147483647/);
    expect(() => mlp([2 ** 20, 2 ** 12])).toThrow(RangeError);
    expect(() => new LayerNorm('4' as unknown as number)).toThrow(/LayerNorm: features must be a positive integer, got '4'/);
    expect(() => new Linear(2, 2, null as unknown as object)).not.toThrow();
    expect(() => new Linear(2, 2, { bias: 'yes' as unknown as boolean })).toThrow(/Linear: opts\.bias must be a boolean/);
    expect(() => new Dropout(0.5, { seed: 1n as unknown as number })).toThrow(/Dropout: opts\.seed must be an integer >= 0/);
    expect(MAX_ELEMENTS).toBe(2 ** 31 - 1);
  });

  it('measureLatency(ies) validate blocks, blockMs and warmup (no hang on NaN)', () => {
    const m = smallModel();
    const x = tensor([1, 2, 3], [1, 3]);
    for (const blockMs of [NaN, Infinity, -1, 1e9]) {
      expect(() => measureLatency(m, x, { blockMs })).toThrow(/measureLatency: opts\.blockMs must be a finite number in \[0, 60000\]/);
      expect(() => measureLatencies([m], x, { blockMs })).toThrow(/measureLatencies: opts\.blockMs/);
    }
    expect(() => measureLatency(m, x, { warmup: NaN })).toThrow(/opts\.warmup must be an integer >= 0/);
    expect(() => measureLatencies([m], x, { blocks: 0 })).toThrow(/opts\.blocks must be a positive integer/);
    expect(() => measureLatency(m, x, { blockMs: '1' as unknown as number })).toThrow(TypeError);
    const r = measureLatency(m, x, { blocks: 1, blockMs: 0, warmup: 0 });
    expect(r.blocks).toBe(1);
  });
});

describe('nn paths, data and reports', () => {
  it('loadCsv, saveModel and loadModel want a string path (a number is not a file descriptor)', () => {
    expect(() => loadCsv(2 as unknown as string)).toThrow(/loadCsv: path must be a file path \(string\), got 2/);
    expect(() => loadCsv(2 as unknown as string)).toThrow(TypeError);
    expect(() => saveModel(smallModel(), 1 as unknown as string)).toThrow(/saveModel: path must be a file path \(string\), got 1/);
    expect(() => loadModel(0 as unknown as string)).toThrow(TypeError);
    expect(() => loadCsv('')).toThrow(RangeError);
    expect(() => saveModel(smallModel(), join(tmp, 'no-such-dir', 'm.safetensors'))).toThrow(/saveModel: cannot write/);
    expect(() => saveModel(smallModel(), join(tmp, 'm.safetensors'), { metadata: { a: 1 as unknown as string } })).toThrow(/opts\.metadata\.a must be a string/);
    const p = join(tmp, 'ok.safetensors');
    expect(saveModel(smallModel(), p)).toBeGreaterThan(0);
    expect(loadModel(p).model).toBeInstanceOf(Sequential);
  });

  it('parseCsv, subset and featureStats validate their arguments', () => {
    const csv = 'a,b,label\n1,2,0\n3,4,1\n';
    expect(parseCsv(csv).x.shape).toEqual([2, 2]);
    expect(parseCsv(csv, null as unknown as object).x.shape).toEqual([2, 2]);
    expect(() => parseCsv(csv, 5 as unknown as object)).toThrow(/parseCsv: opts must be an object/);
    expect(() => parseCsv(csv, { delimiter: 5 as unknown as string })).toThrow(/parseCsv: opts\.delimiter must be a non-empty string/);
    expect(() => parseCsv(csv, { header: 'yes' as unknown as boolean })).toThrow(/parseCsv: opts\.header must be true, false or 'auto'/);
    expect(() => parseCsv(csv, { scale: NaN })).toThrow(/parseCsv: opts\.scale must be a finite number/);
    expect(() => parseCsv(csv, {}, 5 as unknown as string)).toThrow(/parseCsv: where must be a string/);
    const d = data();
    expect(() => subset(d, [0, 1] as unknown as Int32Array)).toThrow(/subset: idx must be an Int32Array/);
    expect(() => subset(d, Int32Array.from([0, 3]))).toThrow(/subset: idx\[1\] \(3\) is outside the 3 rows/);
    expect(subset(d, Int32Array.from([2])).y).toEqual(Int32Array.from([0]));
    expect(() => featureStats(5 as unknown as Tensor)).toThrow(/featureStats: x must be a float32 Tensor/);
    expect(() => featureStats(zeros([0, 3]))).toThrow(/featureStats: x has no rows/);
    expect(() => featureStats(zeros([3]))).toThrow(RangeError);
  });

  it('checkTargets, stageTable, formatMarkdown and modelSparsity reject what is not a report / model', () => {
    for (const f of [checkTargets, stageTable, formatMarkdown] as ((r: unknown) => unknown)[]) {
      expect(() => f(null)).toThrow(/: report must be an object, got null/);
      expect(() => f({})).toThrow(TypeError);
      expect(() => f({ stages: 5 })).toThrow(TypeError);
    }
    const report = {
      data: { name: 'd', rows: 1, features: 1, classes: 2, train: 1, holdout: 0, test: 0 },
      config: {},
      machine: { cpu: 'c', isa: 'i', gemm: 'g', gemmInt8: 'g', threads: '1', node: 'v', loadAverage: '0' },
      stages: [{ stage: 'teacher', description: 't', format: 'float32', accuracy: 1, meanAccuracy: 1, holdoutAccuracy: 1, params: 1, nonzero: 1, bytes: 4, trainSeconds: 0, latency: [{ batch: 1, medianMs: 1, throughput: 1, blocks: 1 }] }],
      seeds: [{ seed: 0, teacher: 1 }],
      targets: [],
      defaultSetting: false,
      seconds: 1,
    };
    expect(stageTable(report as never).length).toBe(2);
    expect(formatMarkdown(report as never)).toContain('# simdtensor optimize report');
    expect(checkTargets(report as never)[0].met).toBe(true);
    expect(() => stageTable({ ...report, stages: [{ ...report.stages[0], latency: [null] }] } as never)).toThrow(/stageTable: report\.stages\[0\]\.latency\[0\] must be an object/);
    expect(() => modelSparsity({} as Sequential)).toThrow(/modelSparsity: model must be a Sequential/);
    expect(modelSparsity(smallModel())).toBe(0);
  });
});

describe('nn options objects and helpers', () => {
  it('null / non-object options are handled, bad values named (no internal errors)', () => {
    const logits = tensor([1, 2, 3, 4], [2, 2]);
    const labels = Int32Array.from([0, 1]);
    expect(crossEntropy(logits, labels, null as unknown as object).loss).toBeGreaterThan(0);
    expect(() => crossEntropy(logits, labels, 5 as unknown as object)).toThrow(/crossEntropy: opts must be an object/);
    expect(() => distillationLoss(logits, logits, labels, 'x' as unknown as object)).toThrow(/distillationLoss: opts must be an object/);
    expect(() => new SGD(smallModel().parameters(), 5 as unknown as object)).toThrow(/SGD: opts must be an object/);
    expect(new AdamW(smallModel().parameters(), null as unknown as object).lr).toBe(1e-3);
    expect(() => schedules.cosine({ min: NaN })).toThrow(/schedules\.cosine: opts\.min must be a finite number in \[0, 1\]/);
    expect(() => schedules.constant({ warmup: -1 })).toThrow(RangeError);
    expect(() => schedules.step(undefined as never)).toThrow(/schedules\.step: opts must be \{ every/);
    expect(() => schedules.step({ every: 2, gamma: NaN })).toThrow(/opts\.gamma/);
    expect(schedules.step({ every: 2, gamma: 0.5 })(2, 10)).toBe(0.5);
    expect(() => quantizeModel(smallModel(), 5 as unknown as object)).toThrow(/quantizeModel: opts must be an object/);
    expect(() => distill(smallModel(), smallModel(), data(), 5 as unknown as object)).toThrow(/distill: opts must be an object/);
    expect(() => inputQuant(undefined as never)).toThrow(/inputQuant: p must be \{ dtype, scale, zeroPoint \}/);
    expect(() => inputQuant({ dtype: 'uint8', scale: 0, zeroPoint: 0 })).toThrow(/inputQuant: p\.scale/);
    expect(() => inputQuant({ dtype: 'int8', scale: 1, zeroPoint: 200 })).toThrow(/inputQuant: p\.zeroPoint/);
    expect(inputQuant({ dtype: 'uint8', scale: 0.5, zeroPoint: 3 }).zeroPoint).toBe(3);
    expect(() => accuracy(logits, null as unknown as Int32Array)).toThrow(/accuracy: labels must be an Int32Array/);
    expect(() => stratifiedSplit(Int32Array.from([0, 1, 0, 1]), 0.5, 1n as unknown as number)).toThrow(/stratifiedSplit: seed must be an integer >= 0/);
    expect(() => gatherRows(new Float32Array(4), 2, null as unknown as Int32Array, new Float32Array(4))).toThrow(/gatherRows: idx must be an Int32Array/);
    expect(() => gatherRows(new Float32Array(4), 2, Int32Array.from([2]), new Float32Array(4))).toThrow(/gatherRows: idx\[0\] \(2\) is outside the 2 rows/);
    expect(() => new Parameter('w', null as unknown as Tensor<'float32'>, true)).toThrow(/Parameter: value must be a float32 Tensor|Parameter: value must be/);
    expect(() => new Parameter(5 as unknown as string, zeros([2]) as Tensor<'float32'>, true)).toThrow(/Parameter: name must be a string/);
    expect(() => smallModel().forward(5 as unknown as Tensor)).toThrow(/Sequential\.forward: x must be a Tensor, got 5/);
    expect(() => fit(smallModel(), data(), { epochs: 1, loss: () => null as never })).toThrow(/fit: opts\.loss must return \{ loss, grad \}/);
    expect(() => fit(smallModel(), data(), { epochs: 1, schedule: () => NaN })).toThrow(/fit: opts\.schedule must return a finite number/);
  });
});

describe('register* extension points', () => {
  it('reject junk with a TypeError and leave the registries working', () => {
    const junk: unknown[] = [null, undefined, 5, 'x', {}, { name: 'j', match: 5, run: () => 0 }, { name: 5, match: () => false, run: () => 0 }];
    for (const j of junk) {
      expect(() => registerMatmul(j as never)).toThrow(TypeError);
      expect(() => registerLinear(j as never)).toThrow(TypeError);
      expect(() => registerPack(j as never)).toThrow(TypeError);
      expect(() => registerAsyncMatmul(j as never)).toThrow(TypeError);
      expect(() => registerAsyncLinear(j as never)).toThrow(TypeError);
      expect(() => registerWeightCodec(j as never)).toThrow(TypeError);
    }
    expect(() => registerMatmul(null as never)).toThrow(/registerMatmul: impl must be an object, got null/);
    expect(() => registerPack({ name: 'p', match: () => false } as never)).toThrow(/registerPack: impl\.pack must be a function, got undefined/);
    expect(() => registerWeightCodec({ format: 'f', match: () => false, encode: () => ({}), decode: () => 0, pack: 5 } as never)).toThrow(/registerWeightCodec: codec\.pack must be a function or undefined/);
    expect(() => registerLinear({ name: '', match: () => false, run: () => 0 } as never)).toThrow(/impl\.name must be a non-empty string/);
    for (const j of [null, 5, {}]) expect(() => registerCast(j as never)).toThrow(/registerCast: fn must be a function/);
    // Every op still works after the rejected registrations.
    const a = tensor([1, 2, 3, 4], [2, 2]);
    expect(Array.from(matmul(a, a).data)).toEqual([7, 10, 15, 22]);
    expect(Array.from(matmul(a, packWeights(a)).data)).toEqual([5, 11, 11, 25]); // packed weights are Linear-style [out, in]
    expect(Array.from(cast(a, 'int32').data)).toEqual([1, 2, 3, 4]);
  });
});

describe('rng and permutation', () => {
  it('reject BigInt, Symbol, non-integers and huge values', () => {
    expect(() => rng(1n as unknown as number)).toThrow(/rng: seed must be a number, got 1/);
    expect(() => rng(Symbol('s') as unknown as number)).toThrow(TypeError);
    expect(() => rng(NaN)).toThrow(/rng: seed must be a safe integer/);
    expect(() => rng(2 ** 60)).toThrow(RangeError);
    expect(() => permutation(3, 0.5)).toThrow(RangeError);
    expect(() => permutation(1n as unknown as number, 0)).toThrow(/permutation: n must be an integer >= 0/);
    expect(() => permutation(-1, 0)).toThrow(RangeError);
    expect(() => permutation(2 ** 40, 0)).toThrow(/permutation: n \(1099511627776\) is more than 2147483647/);
    expect(Array.from(permutation(5, 3)).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(rng(-7)()).toBeGreaterThanOrEqual(0);
  });
});

describe('raw addon handle checks and empty inputs', () => {
  it('matmulPacked with a fake PackedF32 (its prototype, no native object) is a TypeError naming the weights', () => {
    const fake = Object.create((native as unknown as { PackedF32: { prototype: object } }).PackedF32.prototype);
    const call = () => (native as unknown as { matmulPacked: (...a: unknown[]) => unknown }).matmulPacked(new Float32Array(4), 1, fake, new Float32Array(4), null, 0);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(/matmul: weights must be a PackedF32 handle/);
  });

  it('probeReadBandwidth refuses a buffer over 1 GiB with a RangeError naming bytes (the fuzzer held 2 GiB)', () => {
    const probe = (native as unknown as { probeReadBandwidth: (b: number, ms: number) => number }).probeReadBandwidth;
    expect(() => probe(2 ** 31, 1)).toThrow(RangeError);
    expect(() => probe(2 ** 30 + 1, 1)).toThrow(/probeReadBandwidth: bytes must be a non-negative integer <= 1073741824/);
    expect(probe(1 << 16, 1)).toBeGreaterThan(0);
  });

  it("a string option naming an Object.prototype member ('toString', 'constructor') is refused, not looked up", () => {
    // `name in TABLE` accepted these (toSparse returned a SparseTensor for format 'toString', prune ran with pattern
    // 'constructor'), and converted a non-string key (fuzzer seed 31: a typed array on a detached buffer leaked
    // V8's join error from toSparse).
    for (const k of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(() => toSparse(rand([4, 16]), { format: k as never })).toThrow(/toSparse: format must be 'csr', 'bsr' or 'nm'/);
      expect(() => prune(rand([4, 16]), { sparsity: 0.5, pattern: k as never })).toThrow(/prune: pattern must be/);
      expect(() => probeHalfPeak(k as never, 1)).toThrow(/probeHalfPeak: unit must be/);
      expect(() => foldBatchNorm(rand([4, 3, 1, 1]), null, { gamma: rand([4]), beta: rand([4]), mean: rand([4]), variance: rand([4]) }, { weightLayout: k as never })).toThrow(/foldBatchNorm: weightLayout must be/);
    }
    expect(() => conv2d(rand([1, 3, 8, 8]), rand([4, 3, 3, 3]), { activation: 'toString' as never })).toThrow(/conv2d: activation must be one of/);
    expect(() => linear(rand([2, 16]), toSparse(rand([4, 16])), null, { sparseKernel: 'constructor' as never })).toThrow(/linear: sparseKernel must be/);
    const detached = new Int32Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => toSparse(rand([4, 16]), { format: detached as never })).toThrow(TypeError);
    expect(toSparse(rand([4, 16]), { format: 'csr' }).shape).toEqual([4, 16]);
  });

  it('sparse, prune and half-precision kernels accept empty inputs (UBSan: no null pointer to memset)', async () => {
    const empty = zeros([0, 4]);
    expect(toSparse(empty).shape).toEqual([0, 4]);
    expect(sparseCsr({ shape: [2, 3], rowPtr: new Int32Array(3), colIdx: new Int32Array(0), values: new Float32Array(0) }).nnz).toBe(0);
    for (const format of ['csr', 'bsr'] as const)
      for (const dtype of ['float32', 'int8'] as const) {
        // toDense of an empty matrix: f32_sparse_to_dense / S8SparseWeights::to_dense with a null buffer.
        expect(toSparse(zeros([0, 16]), { format, dtype }).toDense().shape).toEqual([0, 16]);
        expect(toSparse(zeros([3, 0]), { format, dtype }).toDense().shape).toEqual([3, 0]);
      }
    expect(prune(zeros([0, 4]), { sparsity: 0.5 }).weight.size).toBe(0);
    // int8 sparse linear with 0 input features: no groups, so the quantized-input padding is empty (s8_sparse.cc).
    expect(linear(rand([3, 0]), toSparse(zeros([2, 0]), { dtype: 'int8' })).shape).toEqual([3, 2]);
    const a = cast(zeros([2, 0]), 'float16');
    const b = cast(zeros([0, 3]), 'float16');
    const out = await matmulAsync(a, b);
    expect(out.shape).toEqual([2, 3]);
    expect(Array.from(cast(out, 'float32').data)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

it('Linear still constructs and runs after the checks', () => {
  const l = new Linear(3, 2, { seed: 1 });
  expect(l.forward(tensor([1, 2, 3], [1, 3])).shape).toEqual([1, 2]);
});
