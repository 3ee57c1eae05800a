// ONNX ⇄ nn: importing MLP-shaped ONNX graphs as trainable Sequentials, distilling an ONNX teacher (one the nn
// layers cannot import) into a small student on the digits, and writing the student back to ONNX for onnxruntime.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx, softmax, tensor, Tensor } from '../src/index.js';
import { distillOnnx, onnxToSequential, sequentialToOnnx, sequentialToOnnxModel, teacherLogits, topOneAgreement } from '../src/onnx/index.js';
import { evaluate, featureStats, fit, loadDigits, mlp, predict, stratifiedSplit, subset, Linear, Sequential } from '../src/nn/index.js';
import { af, G, maxDiff, ortRun, randArr, T } from './onnx-build.js';

function close(got: ArrayLike<number>, want: ArrayLike<number | bigint>, rel: number) {
  const d = maxDiff(got, want);
  expect(d.abs, `max abs error ${d.abs} vs max |ref| ${d.ref}`).toBeLessThanOrEqual(rel * Math.max(d.ref, 1e-30));
}

describe('onnxToSequential', () => {
  function mixedGraph(): Uint8Array {
    const g = new G(20);
    g.input('x', T.FLOAT, ['n', 1, 4, 5]);
    const f = g.node('Flatten', ['x'], { axis: 1 });
    // Gemm with B as [in, out], alpha/beta and a [1, out] C.
    const h1 = g.node('Gemm', [f, g.f32('w1', [20, 24], randArr(480, 1, 0.4)), g.f32('c1', [1, 24], randArr(24, 2, 0.2))], { alpha: af(0.5), beta: af(2) });
    const ln = g.node('LayerNormalization', [h1, g.f32('g1', [24], randArr(24, 3, 1)), g.f32('be1', [24], randArr(24, 4, 0.3))], { axis: -1, epsilon: af(1e-4) });
    const d = g.node('Dropout', [g.node('Gelu', [ln])]);
    const h2 = g.node('Relu', [g.node('Add', [g.f32('b2', [16], randArr(16, 5, 0.2)), g.node('MatMul', [d, g.f32('w2', [24, 16], randArr(384, 6, 0.3))])])]);
    const h3 = g.node('Gemm', [g.node('Identity', [h2]), g.f32('w3', [7, 16], randArr(112, 7, 0.4)), g.f32('b3', [7], randArr(7, 8, 0.2))], { transB: 1 });
    g.node('Softmax', [h3], { axis: -1 }, ['y']);
    g.output('y', T.FLOAT, ['n', 7]);
    return g.bytes();
  }

  it('imports MatMul+Add / Gemm (transB, alpha, beta) / LayerNormalization / Gelu / Relu / Flatten / Dropout with outputs equal to the OnnxModel', () => {
    const model = loadOnnx(mixedGraph());
    expect(() => onnxToSequential(model)).toThrow(/\(Softmax\) is not trainable.*finalSoftmax: 'drop'/);
    const seq = onnxToSequential(model, { finalSoftmax: 'drop' });
    expect(seq.layers.map((l) => l.type)).toEqual(['linear', 'layernorm', 'gelu', 'linear', 'relu', 'linear']);
    const x = randArr(9 * 20, 11);
    const want = model.run({ x: { data: x, dims: [9, 1, 4, 5] } }).y;
    const got = softmax(predict(seq, tensor(x, [9, 20])));
    close(got.data as Float32Array, want.data as Float32Array, 1e-5);
    // The imported layers train: one step changes the weights and the output.
    const lin = seq.layers[0] as Linear;
    const before = Float32Array.from(lin.weight!.value.data);
    fit(seq, { x: tensor(x, [9, 20]), y: Int32Array.from({ length: 9 }, (_, i) => i % 7) }, { epochs: 1, batchSize: 9, optimizer: { type: 'sgd', lr: 0.1 } });
    expect(maxDiff(lin.weight!.value.data, before).abs).toBeGreaterThan(0);
  });

  it('names the first node that cannot be mapped', () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 1, 3, 3]);
    const c = g.node('Tanh', [g.node('Flatten', ['x'])]);
    g.node('Sigmoid', [g.node('Gemm', [c, g.f32('w', [9, 3], randArr(27, 2))])], {}, ['y']);
    g.output('y');
    expect(() => onnxToSequential(loadOnnx(g.bytes()))).toThrow(/^onnxToSequential: node 'Tanh_\d+' \(Tanh\) is not trainable by simdtensor's nn layers$/);

    const b = new G(13);
    b.input('x', T.FLOAT, ['n', 4]);
    const h = b.node('MatMul', ['x', b.f32('w', [4, 4], randArr(16, 3))]);
    b.node('Add', [h, b.node('Relu', [h])], {}, ['y']); // a residual: not a chain
    b.output('y');
    expect(() => onnxToSequential(loadOnnx(b.bytes()))).toThrow(/feeds 2 nodes/);

    const s = new G(13);
    s.input('x', T.FLOAT, ['n', 4]);
    s.node('Sigmoid', [s.node('MatMul', ['x', s.f32('w', [4, 3], randArr(12, 3))])], {}, ['y']);
    s.output('y');
    expect(() => onnxToSequential(loadOnnx(s.bytes()))).toThrow(TypeError);
    expect(() => onnxToSequential(loadOnnx(s.bytes()))).toThrow(/\(Sigmoid\) is not trainable/);
    expect(() => onnxToSequential({} as never)).toThrow(/OnnxModel/);
  });
});

describe('sequentialToOnnx', () => {
  it('writes Normalize / Linear / LayerNorm / GELU / ReLU / Dropout that onnxruntime-node runs with the same outputs', async () => {
    const xs = tensor(randArr(13 * 10, 21, 2), [13, 10]) as Tensor<'float32'>;
    const stats = featureStats(xs);
    const net = mlp([10, 12, 9, 4], { activation: 'gelu', layerNorm: true, dropout: 0.1, seed: 3, normalize: stats });
    const relu = mlp([10, 6, 4], { seed: 4 });
    for (const m of [net, relu]) {
      const bytes = sequentialToOnnx(m, { inputName: 'features', outputName: 'logits' });
      const want = predict(m, xs).data;
      const ref = await ortRun(bytes, { features: { type: 'float32', data: xs.data, dims: [13, 10] } });
      expect(ref.logits.dims).toEqual([13, 4]);
      close(ref.logits.data as Float32Array, want, 1e-5);
      const ours = sequentialToOnnxModel(m).run({ input: xs }).output;
      close(ours.data as Float32Array, want, 1e-5);
      // And back: the round trip imports the same network.
      close(predict(onnxToSequential(loadOnnx(bytes)), xs).data, want, 1e-5);
    }
    expect(() => sequentialToOnnx(relu, { inputName: 'a', outputName: 'a' })).toThrow(RangeError);
    expect(() => sequentialToOnnx({} as never)).toThrow(TypeError);
  });
});

describe('distillOnnx', () => {
  const d = loadDigits();
  const [trainIdx, testIdx] = stratifiedSplit(d.y, 0.25, 0);
  const train = subset(d, trainIdx), test = subset(d, testIdx);
  // The teacher: an nn MLP trained on the labels, written as an ONNX graph the nn layers cannot import
  // (ReLU as Max(x, 0), 4-D image input, probabilities out).
  const tnet = mlp([64, 96, 10], { seed: 1 });
  fit(tnet, train, { epochs: 25, batchSize: 32, optimizer: { type: 'adamw', lr: 3e-3 }, seed: 1 });
  const [l1, l2] = tnet.linears();
  const g = new G(13);
  g.input('image', T.FLOAT, ['n', 1, 8, 8]);
  const h = g.node('Max', [g.node('Gemm', [g.node('Flatten', ['image']), g.f32('w1', [96, 64], l1.weight!.value.data), g.f32('b1', [96], l1.bias!.value.data)], { transB: 1 }), g.scalar('zero', 0)]);
  g.node('Softmax', [g.node('Gemm', [h, g.f32('w2', [10, 96], l2.weight!.value.data), g.f32('b2', [10], l2.bias!.value.data)], { transB: 1 })], { axis: -1 }, ['probs']);
  g.output('probs', T.FLOAT, ['n', 10]);
  const teacher = loadOnnx(g.bytes());
  const tTest = teacherLogits(teacher, test.x);

  it('the teacher runs as ONNX (4-D input, Softmax output taken back to logits) and cannot be imported', () => {
    expect(() => onnxToSequential(teacher)).toThrow(/\(Max\) is not trainable/);
    // log(softmax(z)) = z − logsumexp(z): same top-1 and same softmax as the nn teacher's logits.
    close(softmax(tTest).data as Float32Array, softmax(predict(tnet, test.x)).data, 1e-4);
    expect(evaluate(tnet, test).accuracy).toBeGreaterThan(0.9);
  });

  it('distils a 64→16→10 student that agrees with the teacher on held-out rows, labeled and unlabeled, and exports it', async () => {
    const opts = { epochs: 30, batchSize: 32, optimizer: { type: 'adamw' as const, lr: 1e-2 }, seed: 2, temperature: 3 };
    const untrained = mlp([64, 16, 10], { seed: 5 });
    const chance = topOneAgreement(predict(untrained, test.x), tTest);
    expect(chance).toBeLessThan(0.4);

    const labeled = distillOnnx(teacher, { hidden: [16], seed: 5 }, train, opts);
    expect(labeled.student.layers.map((l) => l.type)).toEqual(['linear', 'relu', 'linear']);
    expect(labeled.epochs).toHaveLength(30);
    expect(labeled.epochs[29].parts.kl).toBeLessThan(labeled.epochs[0].parts.kl / 3);
    const agreeL = topOneAgreement(predict(labeled.student, test.x), tTest);
    expect(agreeL).toBeGreaterThanOrEqual(0.9);

    // Unlabeled: only the rows; the student learns the teacher's outputs (KL only).
    const unlabeled = distillOnnx(teacher, new Sequential([new Linear(64, 16, { seed: 6 }), ...mlp([16, 10], { seed: 6 }).layers]) as Sequential, { x: train.x }, opts);
    const agreeU = topOneAgreement(predict(unlabeled.student, test.x), tTest);
    expect(agreeU).toBeGreaterThanOrEqual(0.9);
    expect(unlabeled.agreement).toBeGreaterThan(0.95); // on its training rows

    // Back to ONNX: onnxruntime-node gives the student's outputs.
    const bytes = sequentialToOnnx(labeled.student);
    const ref = await ortRun(bytes, { input: { type: 'float32', data: test.x.data, dims: test.x.shape.slice() } });
    close(ref.output.data as Float32Array, predict(labeled.student, test.x).data, 1e-5);
  });

  it('`simdtensor optimize teacher.onnx --distill 16 --data rows.csv --int8 dynamic`: the student replaces the model, then is quantized', async () => {
    const { runCli } = await import('../src/cli/optimize.js');
    const dir = mkdtempSync(join(tmpdir(), 'st-distill-cli-'));
    writeFileSync(join(dir, 'teacher.onnx'), g.bytes());
    const rows = (data: { x: Tensor; y: Int32Array }, labeled: boolean) =>
      Array.from({ length: data.y.length }, (_, r) => [...Array.from(data.x.data.subarray(r * 64, r * 64 + 64) as Float32Array), ...(labeled ? [data.y[r]] : [])].join(',')).join('\n');
    writeFileSync(join(dir, 'labeled.csv'), rows(train, true));
    writeFileSync(join(dir, 'unlabeled.csv'), 'header' + ',p'.repeat(63) + '\n' + rows(train, false));
    const sink = () => {
      let t = '';
      return { stream: { write: (s: string) => ((t += s), true) } as unknown as NodeJS.WritableStream, text: () => t };
    };
    for (const [file, extra] of [['labeled.csv', ['--int8', 'dynamic']], ['unlabeled.csv', []]] as const) {
      const out = sink(), err = sink();
      const code = await runCli(['optimize', join(dir, 'teacher.onnx'), '--distill', '16', '--data', join(dir, file), ...extra, '--distill-epochs', '20', '--no-latency', '--out', join(dir, `out-${file}`)], { out: out.stream, err: err.stream });
      expect(err.text()).not.toMatch(/simdtensor optimize:/);
      expect(code).toBe(0);
      const rep = JSON.parse(readFileSync(join(dir, `out-${file}`, 'report.json'), 'utf8'));
      expect(rep.stages.map((s: { stage: string }) => s.stage)).toEqual(['original', 'distill 16', ...(extra.length ? ['int8 dynamic'] : [])]);
      const detail = rep.stages[1].detail as string;
      expect(detail).toMatch(new RegExp(`MLP 64→16→10 student \\(1210 params\\), 20 epochs on 1144 ${file.startsWith('un') ? 'unlabeled' : 'labeled'} rows`));
      const held = Number(/([\d.]+) % on 202 held-out rows/.exec(detail)![1]);
      expect(held).toBeGreaterThanOrEqual(90);
      expect(rep.stages[1].bytes).toBeLessThan(rep.stages[0].bytes / 4);
      // The written model takes the teacher's feeds and gives its output (probabilities), in onnxruntime too.
      const bytes = readFileSync(join(dir, `out-${file}`, 'teacher.optimized.onnx'));
      const x = test.x.data.subarray(0, 5 * 64) as Float32Array;
      const ours = loadOnnx(bytes).run({ image: { data: x, dims: [5, 1, 8, 8] } }).probs;
      const ref = await ortRun(bytes, { image: { type: 'float32', data: x, dims: [5, 1, 8, 8] } });
      close(ours.data as Float32Array, ref.probs.data as Float32Array, 1e-3);
      expect(topOneAgreement(ours, tTest.rows(0, 5))).toBeGreaterThanOrEqual(0.8);
    }
    const bad = sink();
    expect(await runCli(['optimize', join(dir, 'teacher.onnx'), '--distill', '16'], { out: sink().stream, err: bad.stream })).toBe(2);
    expect(bad.text()).toMatch(/--distill needs --data FILE/);
    const bad2 = sink();
    writeFileSync(join(dir, 'short.csv'), '1,2,3\n4,5,6\n');
    expect(await runCli(['optimize', join(dir, 'teacher.onnx'), '--distill', '16', '--data', join(dir, 'short.csv')], { out: sink().stream, err: bad2.stream })).toBe(1);
    expect(bad2.text()).toMatch(/has 3 columns; the model's input 'image' takes 64 values a row/);
  });

  it('checks its arguments', () => {
    expect(() => distillOnnx({} as never, { hidden: [4] }, train)).toThrow(/teacher must be an OnnxModel/);
    expect(() => distillOnnx(teacher, { hidden: 4 } as never, train)).toThrow(/student must be a Sequential or \{ hidden/);
    expect(() => distillOnnx(teacher, { hidden: [4] }, { x: train.x, y: [1] } as never)).toThrow(/data.y must be an Int32Array/);
    expect(() => teacherLogits(teacher, tensor(new Float32Array(10), [2, 5]))).toThrow(/64 values a row\), x has 5 features/);
    expect(() => teacherLogits(teacher, test.x, { output: 'nope' })).toThrow(/not a teacher output/);
    // A teacher that fixes its batch at 1 runs row by row; its plain output is taken as logits.
    const one = new G(13);
    one.input('x', T.FLOAT, [1, 64]);
    one.node('Gemm', ['x', one.f32('w', [10, 64], l2.weight!.value.data.subarray(0, 640)), one.f32('b', [10], l2.bias!.value.data)], { transB: 1 }, ['z']);
    one.output('z', T.FLOAT, [1, 10]);
    const fixed = loadOnnx(one.bytes());
    const rows = test.x.rows(0, 7);
    close(teacherLogits(fixed, rows).data, predict(onnxToSequential(fixed), rows).data, 1e-5);
  });
});
