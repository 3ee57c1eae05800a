import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnx, registerOnnxOp, resetStats, setMonitoring, stats, tensor } from '../src/index.js';
import { G, randArr, T } from './onnx-build.js';

function addModel(): Uint8Array {
  const g = new G(17);
  g.input('a', T.FLOAT, ['n', 4]);
  g.input('b', T.FLOAT, ['n', 4]);
  g.node('Add', ['a', 'b'], {}, ['y']);
  g.output('y', T.FLOAT, ['n', 4]);
  return g.bytes();
}

describe('loadOnnx: load-time errors', () => {
  it('names every unsupported operator with its domain, opset and first node', () => {
    const g = new G(13, { 'com.example': 1 });
    g.input('x', T.FLOAT, [1, 3, 8, 8]);
    // (Conv was the example until the convolution family landed; LpPool is still not implemented.)
    const c = g.node('LpPool', ['x'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['pool_out']);
    g.node('Relu', [c], {}, ['r']);
    g.node('LpPool', ['r'], { kernel_shape: [1, 1] }, ['c2']);
    g.node('NonZero', ['c2'], {}, ['nz']);
    g.node('Frobnicate', ['c2'], {}, ['y'], 'com.example');
    g.output('y');
    g.output('nz', T.INT64);
    let err: Error | null = null;
    try {
      loadOnnx(g.bytes());
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err!.message).toContain('3 unsupported operators');
    expect(err!.message).toMatch(/LpPool \(domain ai\.onnx, opset 13, first node 'LpPool_\d+'\)/);
    expect(err!.message).toMatch(/NonZero \(domain ai\.onnx, opset 13/);
    expect(err!.message).toMatch(/Frobnicate \(domain com\.example, opset 1/);
    // Gelu is an ai.onnx op only from opset 20.
    const h = new G(17);
    h.input('x', T.FLOAT, [2]);
    h.node('Gelu', ['x'], {}, ['y']);
    h.output('y');
    expect(() => loadOnnx(h.bytes())).toThrow(/Gelu \(domain ai\.onnx, opset 17/);
  });

  it('malformed files and bad arguments give clear errors, never a crash', () => {
    expect(() => loadOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]))).toThrow(RangeError);
    const good = addModel();
    expect(() => loadOnnx(good.subarray(0, good.length - 9))).toThrow(/loadOnnx: /);
    expect(() => loadOnnx(new Uint8Array(0))).toThrow(/no graph/);
    expect(() => loadOnnx(42 as never)).toThrow(/pathOrBytes must be a file path/);
    expect(() => loadOnnx('/nonexistent/model.onnx')).toThrow(/cannot read '\/nonexistent\/model\.onnx'/);
    // An initializer with the wrong amount of raw data, and one of a type the runtime cannot hold.
    const g = new G(13);
    g.input('x', T.FLOAT, [2]);
    g.inits.push({ name: 'w', dataType: T.FLOAT, dims: [3], rawData: new Uint8Array(8) });
    g.node('Add', ['x', 'w'], {}, ['y']);
    g.output('y');
    expect(() => loadOnnx(g.bytes())).toThrow(/tensor 'w' \(float32 \[3\]\) needs 12 bytes of raw data, has 8/);
    const h = new G(13);
    h.input('x', T.FLOAT, [2]);
    h.init('w', T.FLOAT16, [2], new Uint16Array(2));
    h.node('Add', ['x', 'w'], {}, ['y']);
    h.output('y');
    expect(() => loadOnnx(h.bytes())).toThrow(/element type float16/);
    // Dangling references: a node reading an undefined value, an output nobody produces.
    const d = new G(13);
    d.input('x', T.FLOAT, [2]);
    d.node('Add', ['x', 'nowhere'], {}, ['y']);
    d.output('y');
    expect(() => loadOnnx(d.bytes())).toThrow(/node 'Add_\d+' \(Add\) reads 'nowhere', which no graph input, initializer or earlier node defines/);
    const e = new G(13);
    e.input('x', T.FLOAT, [2]);
    e.node('Relu', ['x'], {}, ['y']);
    e.output('z');
    expect(() => loadOnnx(e.bytes())).toThrow(/graph output 'z' is not produced/);
    // Attributes the runtime does not implement fail at load.
    const k = new G(13);
    k.input('x', T.FLOAT, [2]);
    k.node('Cast', ['x'], { to: T.FLOAT16 }, ['y']);
    k.output('y', T.FLOAT16);
    expect(() => loadOnnx(k.bytes())).toThrow(/cast to ONNX type 10 is not supported/);
  });

  it('reads external-data initializers next to the model file, and refuses paths outside its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ext-'));
    const w = randArr(6, 3);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(16), Buffer.from(w.buffer)]));
    const build = (location: string) => {
      const g = new G(13);
      g.input('x', T.FLOAT, [2, 3]);
      g.inits.push({ name: 'w', dataType: T.FLOAT, dims: [2, 3], dataLocation: 1, externalData: [{ key: 'location', value: location }, { key: 'offset', value: '16' }, { key: 'length', value: '24' }] });
      g.node('Mul', ['x', 'w'], {}, ['y']);
      g.output('y');
      return g.bytes();
    };
    writeFileSync(join(dir, 'm.onnx'), build('weights.bin'));
    const y = loadOnnx(join(dir, 'm.onnx')).run({ x: tensor(new Float32Array(6).fill(2), [2, 3]) }).y;
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(w, (v) => Math.fround(v * 2)));
    expect(() => loadOnnx(build('weights.bin'))).toThrow(/load the model from a path \(or pass opts.baseDir\)/);
    expect(loadOnnx(build('weights.bin'), { baseDir: dir }).inputs[0].name).toBe('x');
    writeFileSync(join(dir, 'bad.onnx'), build('../etc/passwd'));
    expect(() => loadOnnx(join(dir, 'bad.onnx'))).toThrow(/must be a relative path inside the model's directory/);
  });
});

describe('OnnxModel.run: feed errors', () => {
  const model = loadOnnx(addModel());
  const ok = { data: new Float32Array(8), dims: [2, 4] };
  it('wrong, missing and extra feed names', () => {
    expect(() => model.run({ a: ok })).toThrow(/missing input 'b' \(float32 \[n, 4\]\)/);
    expect(() => model.run({ a: ok, b: ok, c: ok })).toThrow(/unknown input 'c'; the model's inputs are 'a', 'b'/);
    expect(() => model.run(null as never)).toThrow(TypeError);
  });
  it('wrong dtypes, ranks, dims and element counts', () => {
    expect(() => model.run({ a: ok, b: { data: new Int32Array(8), dims: [2, 4] } })).toThrow(/input 'b' must be float32, got Int32Array\(8\) \(int32\)/);
    expect(() => model.run({ a: ok, b: { data: new Float32Array(8), dims: [8] } })).toThrow(/input 'b' must have rank 2/);
    expect(() => model.run({ a: ok, b: { data: new Float32Array(6), dims: [2, 3] } })).toThrow(/input 'b' dim 1 must be 4, got 3/);
    expect(() => model.run({ a: ok, b: { data: new Float32Array(12), dims: [3, 4] } })).toThrow(/dim 0 \('n'\) is 3, but another input set 'n' to 2/);
    expect(() => model.run({ a: ok, b: { data: new Float32Array(7), dims: [2, 4] } })).toThrow(/need 8 elements, data has 7/);
    expect(() => model.run({ a: ok, b: { data: [1, 2] as never, dims: [2, 4] } })).toThrow(/must be a Tensor or \{ data: TypedArray, dims \}/);
    expect(() => model.run({ a: ok, b: tensor(new Float32Array(8), [2, 4]).to('float16') })).toThrow(/is float16/);
  });
  it('runAsync rejects (never throws) on bad feeds', async () => {
    await expect(model.runAsync({ a: ok })).rejects.toThrow(/missing input 'b'/);
    await expect(model.runAsync({ a: ok, b: ok }, { signal: 5 as never })).rejects.toThrow(/AbortSignal/);
  });
  it('the memory plan: intermediates live in one arena; outputs are new buffers every run', () => {
    const g = new G(17);
    g.input('x', T.FLOAT, ['n', 64]);
    let h = 'x';
    for (let i = 0; i < 6; i++) h = g.node('Tanh', [g.node('Add', [h, g.scalar(`c${i}`, 0.1 * i)])]);
    g.node('Identity', [h], {}, ['y']);
    g.output('y');
    const m = loadOnnx(g.bytes());
    const x = { data: randArr(4 * 64, 1), dims: [4, 64] };
    const y1 = m.run({ x }).y;
    const y2 = m.run({ x }).y;
    expect(y2.data.buffer).not.toBe(y1.data.buffer);
    expect(Array.from(y2.data as Float32Array)).toEqual(Array.from(y1.data as Float32Array));
    // 11 intermediates of 1 KiB, but at most two are alive at once (input and output of one op).
    expect(m.arenaBytes).toBe(2 * 4 * 64 * 4);
  });
});

describe('monitoring', () => {
  it('with monitoring on, every executed node is recorded as onnx.<OpType>', () => {
    const model = loadOnnx(addModel());
    const ok = { data: new Float32Array(8), dims: [2, 4] };
    setMonitoring(true);
    try {
      resetStats();
      model.run({ a: ok, b: ok });
      model.run({ a: ok, b: ok });
      const add = stats().ops.find((o) => o.op === 'onnx.Add');
      expect(add).toBeDefined();
      expect(add!.count).toBe(2);
      expect(add!.kernel).toBe('ai.onnx');
    } finally {
      setMonitoring(false);
      resetStats();
    }
  });
});

describe('the operator registry', () => {
  it('one registerOnnxOp call adds an operator (how the convolution family plugs in)', () => {
    const g = new G(13, { 'com.example': 1 });
    g.input('x', T.FLOAT, [3]);
    g.node('Twice', ['x'], {}, ['y'], 'com.example');
    g.output('y');
    expect(() => loadOnnx(g.bytes())).toThrow(/Twice \(domain com.example/);
    registerOnnxOp('Twice', {
      run(_n, ins, outs) {
        const x = ins[0]!;
        const out = outs[0] ?? { ...x, data: new Float32Array(x.size) };
        for (let i = 0; i < x.size; i++) out.data[i] = 2 * x.data[i];
        return [out];
      },
    }, 'com.example');
    const y = loadOnnx(g.bytes()).run({ x: tensor([1, 2, 3]) }).y;
    expect(Array.from(y.data as Float32Array)).toEqual([2, 4, 6]);
  });

  it('an operator that returns no output: the error names the call it served (run, runAsync, profile)', async () => {
    const g = new G(13, { 'com.example': 1 });
    g.input('x', T.FLOAT, [3]);
    g.node('Nothing', ['x'], {}, ['h'], 'com.example');
    g.node('Relu', ['h'], {}, ['y']);
    g.output('y');
    registerOnnxOp('Nothing', { run: () => [] }, 'com.example');
    const m = loadOnnx(g.bytes());
    const x = () => ({ x: tensor([1, 2, 3]) });
    expect(() => m.run(x())).toThrow(/^OnnxModel\.run: node '.*' \(Relu\) reads 'h', which no node or input provides/);
    await expect(m.runAsync(x())).rejects.toThrow(/^OnnxModel\.runAsync: node '.*' \(Relu\) reads 'h'/);
    expect(() => m.profile(x())).toThrow(/^OnnxModel\.profile: node '.*' \(Relu\) reads 'h'/);
  });
});

