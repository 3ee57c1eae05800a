// Knowledge distillation on a tiny synthetic task: three overlapping Gaussian classes, so the teacher's soft labels
// carry information the hard labels lack. A distilled student must match the teacher's softened outputs on unseen
// points better than the same student trained on the labels alone.
import { describe, expect, it } from 'vitest';
import { rand, softmax, mul, tensor, Tensor } from '../src/index.js';
import { crossEntropy, distill, evaluate, fit, mlp, predict, schedules, softTargets } from '../src/nn/index.js';

/** n points per class around three centres on a circle, with enough noise that the classes overlap. */
function blobs(n: number, seed: number) {
  const x = new Float32Array(3 * n * 2);
  const y = new Int32Array(3 * n);
  const u = rand([3 * n * 2], { seed, low: 1e-6, high: 1 }).data;
  for (let i = 0; i < 3 * n; i++) {
    const c = i % 3;
    // Box–Muller from two uniforms.
    const r = Math.sqrt(-2 * Math.log(u[2 * i])) * 0.55;
    const a = 2 * Math.PI * u[2 * i + 1];
    x[2 * i] = Math.cos((2 * Math.PI * c) / 3) + r * Math.cos(a);
    x[2 * i + 1] = Math.sin((2 * Math.PI * c) / 3) + r * Math.sin(a);
    y[i] = c;
  }
  return { x: tensor(x, [3 * n, 2]) as Tensor<'float32'>, y };
}

/** Mean KL(softmax(t/T) ‖ softmax(s/T)) over rows. */
function kl(teacherLogits: Tensor, studentLogits: Tensor, T: number): number {
  const p = softmax(mul(teacherLogits, 1 / T)).data;
  const q = softmax(mul(studentLogits, 1 / T)).data;
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  return s / teacherLogits.shape[0];
}

describe('distill', () => {
  const train = blobs(60, 1);
  const unseen = blobs(200, 2);
  const T = 3;
  const teacher = mlp([2, 64, 64, 3], { seed: 1 });
  fit(teacher, train, { epochs: 60, batchSize: 32, optimizer: { type: 'adamw', lr: 5e-3 }, seed: 1 });

  it('a distilled student matches the teacher better than a student trained on hard labels', () => {
    const opts = { epochs: 80, batchSize: 32, optimizer: { type: 'adamw' as const, lr: 1e-2 }, schedule: schedules.cosine(), seed: 3 };
    const kd = mlp([2, 8, 3], { seed: 7 });
    const epochs: number[] = [];
    const res = distill(teacher, kd, train, { ...opts, temperature: T, alpha: 0.9, onEpoch: (e) => epochs.push(e.epoch) });
    const hard = mlp([2, 8, 3], { seed: 7 });
    fit(hard, train, opts);

    const tl = predict(teacher, unseen.x);
    const klKd = kl(tl, predict(kd, unseen.x), T);
    const klHard = kl(tl, predict(hard, unseen.x), T);
    expect(klKd).toBeLessThan(0.6 * klHard);
    // Both still classify sensibly (the classes overlap, so neither is perfect).
    expect(evaluate(kd, unseen).accuracy).toBeGreaterThan(0.8);
    // Progress per epoch, with the loss's parts.
    expect(epochs).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(res.epochs[79].parts.kl).toBeLessThan(res.epochs[0].parts.kl);
    expect(res.epochs[79].parts.ce).toBeGreaterThan(0);
    // The cached soft targets are the teacher's, row for row, on the training set.
    const want = softTargets(predict(teacher, train.x), T);
    expect(Array.from(res.teacherSoft.data)).toEqual(Array.from(want.data));
  });

  it('alpha = 0 is plain label training; precomputed teacher logits are used as given', () => {
    const a = mlp([2, 8, 3], { seed: 9 });
    const b = mlp([2, 8, 3], { seed: 9 });
    const opts = { epochs: 5, batchSize: 16, optimizer: { type: 'sgd' as const, lr: 0.05 }, seed: 4 };
    distill(teacher, a, train, { ...opts, alpha: 0 });
    fit(b, train, opts);
    const pa = predict(a, unseen.x).data;
    const pb = predict(b, unseen.x).data;
    for (let i = 0; i < pa.length; i++) expect(pa[i]).toBeCloseTo(pb[i], 4);
    // Logits that all agree with the labels' opposite pull the student away from the true classes.
    const wrong = tensor(new Float32Array(train.y.length * 3), [train.y.length, 3]) as Tensor<'float32'>;
    for (let i = 0; i < train.y.length; i++) wrong.data[i * 3 + ((train.y[i] + 1) % 3)] = 10;
    const c = mlp([2, 8, 3], { seed: 9 });
    distill(teacher, c, train, { ...opts, epochs: 30, alpha: 1, temperature: 1, teacherLogits: wrong });
    expect(evaluate(c, train).accuracy).toBeLessThan(0.2);
    expect(crossEntropy(predict(c, train.x), train.y, { grad: false }).loss).toBeGreaterThan(1);
  });

  it('rejects bad options', () => {
    const s = mlp([2, 4, 3]);
    expect(() => distill(teacher, s, train, { temperature: -1 })).toThrow(/distill: temperature must be a finite number > 0/);
    expect(() => distill(teacher, s, train, { alpha: 2 })).toThrow(/distill: alpha must be a number in \[0, 1\]/);
    expect(() => distill({} as never, s, train)).toThrow(/teacher must be a Layer/);
    expect(() => distill(teacher, s, { x: train.x, y: new Int32Array(3) })).toThrow(/data.y has 3 labels/);
  });
});
