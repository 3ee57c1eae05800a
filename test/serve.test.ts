import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchOnnx, createServer, DynamicBatcher, loadOnnx, loadServable, mlp, onnxBatchable, quantizeModel, saveModel, setMonitoring, tensor, type BatchableModel, type HostTensor, type InferenceServer } from '../src/index.js';
import { runServe, parseServeArgs } from '../src/cli/serve.js';
import { G, onnxMlp, randArr, T } from './onnx-build.js';
import { fuzzBodies } from '../bench/serve-fuzz.js';
import { rowCouplingNode } from '../src/onnx/optimize-int8.js';

// ---------- helpers ----------

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: () => any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
afterAll(() => agent.destroy());

function request(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, opts: { agent?: http.Agent | false; onReq?: (r: http.ClientRequest) => void } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: opts.agent ?? agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: b, json: () => JSON.parse(b.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    opts.onReq?.(req);
    req.end(body);
  });
}
const post = (port: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(port, 'POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });

/** Waits (polling the event loop, no wall-clock assertion) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A model stub: output = input * 2 + row sum (per row), records batch sizes, runs only when `gate` is open. */
function stub(width = 4): BatchableModel & { batches: number[]; open(): void; close(): void } {
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const s = {
    name: 'stub',
    batchable: true,
    inputs: [{ name: 'x', dtype: 'float32' as const, shape: [-1, width] }],
    outputs: [{ name: 'y', dtype: 'float32' as const, shape: [-1, width] }],
    batches: [] as number[],
    close() {
      gate = new Promise((r) => (release = r));
    },
    open() {
      release?.();
      gate = null;
    },
    async run(feeds: Record<string, HostTensor>) {
      const x = feeds.x;
      s.batches.push(x.shape[0]);
      if (gate) await gate;
      const y = new Float32Array(x.data.length);
      for (let r = 0; r < x.shape[0]; r++) {
        let sum = 0;
        for (let c = 0; c < width; c++) sum += (x.data as Float32Array)[r * width + c];
        for (let c = 0; c < width; c++) y[r * width + c] = (x.data as Float32Array)[r * width + c] * 2 + sum;
      }
      return { y: { dtype: 'float32' as const, shape: x.shape.slice(), data: y } };
    },
  };
  return s;
}
const stubExpect = (row: number[]) => {
  const sum = row.reduce((a, b) => a + Math.fround(b), 0);
  return row.map((v) => Math.fround(Math.fround(v) * 2 + sum));
};
const inferBody = (rows: number[][], name = 'x', extra: object = {}) => ({ inputs: [{ name, shape: [rows.length, rows[0].length], datatype: 'FP32', data: rows.flat() }], ...extra });

async function start(model: Parameters<typeof createServer>[0], opts: Parameters<typeof createServer>[1] = {}): Promise<{ s: InferenceServer; port: number }> {
  const s = createServer(model, opts);
  const { port } = await s.listen(0, '127.0.0.1');
  return { s, port };
}


// ---------- the batcher on its own (issue #16 item 5) ----------

describe('DynamicBatcher / batchOnnx: an OnnxModel with a dynamic first dim through BatchScheduler', () => {
  it('concatenates requests along the batch dim, runs once, and splits every output back', async () => {
    const model = loadOnnx(onnxMlp());
    const sizes: number[] = [];
    const b = batchOnnx(model, { maxBatchSize: 64, maxDelayMs: 20, onBatch: (r) => sizes.push(r), name: 'onnx-mlp-test' });
    const reqs = Array.from({ length: 8 }, (_, i) => {
      const rows = 1 + (i % 3);
      return { dtype: 'float32' as const, shape: [rows, 6], data: randArr(rows * 6, 100 + i) };
    });
    const outs = await Promise.all(reqs.map((x) => b.infer({ x })));
    expect(sizes).toEqual([reqs.reduce((a, r) => a + r.shape[0], 0)]); // one batch of every row
    reqs.forEach((x, i) => {
      const ref = model.run({ x: { data: x.data, dims: x.shape } });
      expect(outs[i].y.shape).toEqual([x.shape[0], 3]);
      expect(outs[i].hidden.shape).toEqual([x.shape[0], 5]);
      expect(Array.from(outs[i].y.data as Float32Array)).toEqual(Array.from(ref.y.data as Float32Array));
      expect(Array.from(outs[i].hidden.data as Float32Array)).toEqual(Array.from(ref.hidden.data as Float32Array));
    });
    await b.close();
  });

  it('packs several inputs of different dtypes per row, and rejects feeds that do not match (names, dtypes, rows)', async () => {
    const g = new G(13);
    g.input('a', T.FLOAT, ['n', 3]);
    g.input('k', T.INT64, ['n', 2]);
    g.node('Mul', ['a', g.scalar('two', 2)], {}, ['y']);
    g.node('Add', ['k', g.i64('one', [1])], {}, ['k1']);
    g.output('y', T.FLOAT, ['n', 3]);
    g.output('k1', T.INT64, ['n', 2]);
    const b = batchOnnx(loadOnnx(g.bytes()), { maxDelayMs: 20 });
    const [r1, r2] = await Promise.all([
      b.infer({ a: { dtype: 'float32', shape: [1, 3], data: Float32Array.of(1, 2, 3) }, k: { dtype: 'int64', shape: [1, 2], data: BigInt64Array.of(5n, -7n) } }),
      b.infer({ a: { dtype: 'float32', shape: [2, 3], data: Float32Array.of(4, 5, 6, 7, 8, 9) }, k: { dtype: 'int64', shape: [2, 2], data: BigInt64Array.of(1n, 2n, 3n, 2n ** 40n) } }),
    ]);
    expect(Array.from(r1.y.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(r1.k1.data as BigInt64Array)).toEqual([6n, -6n]);
    expect(Array.from(r2.y.data as Float32Array)).toEqual([8, 10, 12, 14, 16, 18]);
    expect(Array.from(r2.k1.data as BigInt64Array)).toEqual([2n, 3n, 4n, 2n ** 40n + 1n]);
    await expect(b.infer({ a: { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) } } as never)).rejects.toThrow(/missing input 'k'/);
    await expect(b.infer({ a: { dtype: 'int32', shape: [1, 3], data: new Int32Array(3) }, k: { dtype: 'int64', shape: [1, 2], data: new BigInt64Array(2) } } as never)).rejects.toThrow(/'a' must be float32, got int32/);
    await expect(b.infer({ a: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) }, k: { dtype: 'int64', shape: [1, 2], data: new BigInt64Array(2) } })).rejects.toThrow(/'k' has 1 rows but 'a' has 2/);
    await expect(b.infer({ a: { dtype: 'float32', shape: [1, 4], data: new Float32Array(4) }, k: { dtype: 'int64', shape: [1, 2], data: new BigInt64Array(2) } })).rejects.toThrow(/dim 1 must be 3/);
    await expect(b.infer({ z: {} } as never)).rejects.toThrow(/unknown input 'z'/);
    await b.close();
  });

  it('a dynamically quantized model runs each request alone: one caller\'s rows never change another\'s result', async () => {
    // One activation scale over the whole batch (DynamicQuantize, as onnxruntime's DynamicQuantizeLinear): batched
    // with a row holding 1000 or Infinity, every other request quantized to zeros.
    const q = quantizeModel(loadOnnx(onnxMlp()), { mode: 'dynamic' });
    expect(onnxBatchable(q).batchable).toBe(false);
    expect(onnxBatchable(q).notBatchedBecause).toMatch(/DynamicQuantize.*one scale over the whole batch/);
    expect(onnxBatchable(loadOnnx(onnxMlp())).batchable).toBe(true);
    const sizes: number[] = [];
    const b = batchOnnx(q, { maxBatchSize: 8, maxDelayMs: 20, onBatch: (r) => sizes.push(r) });
    const rows = [randArr(6, 301), Float32Array.from(randArr(6, 302), (v, i) => (i === 2 ? 1000 : v)), Float32Array.from(randArr(12, 303), (v, i) => (i === 7 ? Infinity : v)), randArr(6, 304)];
    const reqs = rows.map((data) => ({ dtype: 'float32' as const, shape: [data.length / 6, 6], data }));
    const outs = await Promise.all(reqs.map((x) => b.infer({ x })));
    expect(sizes).toEqual([1, 1, 1, 1]);
    reqs.forEach((x, i) => {
      const alone = q.run({ x: { data: x.data, dims: x.shape } });
      expect(Array.from(outs[i].y.data as Float32Array), `request ${i}`).toEqual(Array.from(alone.y.data as Float32Array));
    });
    // The ordinary requests are not all zeros (what a batch with the 1000 row gave them).
    expect((outs[0].y.data as Float32Array).some((v) => v !== 0)).toBe(true);
    await b.close();
  });

  it('each dynamic activation quantization form marks a model not batchable (rowCouplingNode)', () => {
    // onnxruntime's DynamicQuantizeLinear, as a file holds it.
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 4]);
    g.node('DynamicQuantizeLinear', ['x'], {}, ['q', 's', 'z']);
    g.node('DequantizeLinear', ['q', 's', 'z'], {}, ['y']);
    g.output('y', T.FLOAT, ['n', 4]);
    const dql = loadOnnx(g.bytes());
    expect(rowCouplingNode(dql.runner.graph)?.op).toMatch(/^DynamicQuantize(Linear)?$/);
    expect(onnxBatchable(dql).batchable).toBe(false);
    // A conv quantized dynamically: after the load passes the input quantization lives inside the Int8Conv node.
    const c = new G(13);
    c.input('x', T.FLOAT, ['n', 4, 6, 6]);
    c.node('Conv', ['x', c.f32('w', [8, 4, 3, 3], randArr(8 * 4 * 9, 311)), c.f32('b', [8], randArr(8, 312))], { pads: [1, 1, 1, 1] }, ['y']);
    c.output('y', T.FLOAT, ['n', 8, 6, 6]);
    const f32 = loadOnnx(c.bytes());
    expect(rowCouplingNode(f32.runner.graph)).toBeNull();
    expect(onnxBatchable(f32).batchable).toBe(true);
    const q = quantizeModel(f32, { mode: 'dynamic' });
    const node = rowCouplingNode(q.runner.graph);
    expect(node).not.toBeNull();
    expect(onnxBatchable(q).batchable).toBe(false);
    expect(onnxBatchable(q).notBatchedBecause).toContain(`node '${node!.name}' (${node!.op})`);
    expect(node!.op).toBe('Int8Conv'); // no DynamicQuantize node is left: the conv quantizes its own input
    expect(q.runner.graph.nodes.some((n) => /^DynamicQuantize/.test(n.op))).toBe(false);
  });

  it('a model whose first dim is fixed runs each request alone', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, [2, 3]);
    g.node('Neg', ['x'], {}, ['y']);
    g.output('y', T.FLOAT, [2, 3]);
    const sizes: number[] = [];
    const b = batchOnnx(loadOnnx(g.bytes()), { maxDelayMs: 5, onBatch: (r) => sizes.push(r) });
    const outs = await Promise.all([1, 2, 3].map((v) => b.infer({ x: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(v) } })));
    expect(sizes).toEqual([1, 1, 1]);
    expect(outs.map((o) => o.y.shape)).toEqual([[2, 3], [2, 3], [2, 3]]);
    expect(outs.map((o) => o.y.data[0])).toEqual([-1, -2, -3]);
    await b.close();
  });

  it('bad options fail at construction', () => {
    expect(() => new DynamicBatcher(stub(), { maxBatchSize: 0 })).toThrow(RangeError);
    expect(() => new DynamicBatcher(stub(), { cache: -1 })).toThrow(/opts.cache/);
    expect(() => new DynamicBatcher({} as never)).toThrow(TypeError);
    // An Object.prototype name is not a dtype ('toString' in BYTES was true).
    const odd = stub();
    (odd.inputs[0] as { dtype: string }).dtype = 'toString';
    expect(() => new DynamicBatcher(odd)).toThrow(/every input and output needs \{ name, dtype/);
  });
});

// ---------- the server ----------

describe('createServer: KServe v2 protocol', () => {
  it('JSON infer on a Sequential matches model.forward; metadata, health, readiness, server metadata', async () => {
    const model = mlp([8, 16, 3], { seed: 3 });
    const { s, port } = await start(model, { name: 'mlp' });
    const rows = [Array.from(randArr(8, 1)), Array.from(randArr(8, 2))];
    const r = await post(port, '/v2/models/mlp/infer', inferBody(rows, 'input', { id: 'req-7' }));
    expect(r.status).toBe(200);
    const j = r.json();
    const ref = model.forward(tensor(rows.flat(), [2, 8]));
    expect(j).toEqual({ model_name: 'mlp', model_version: '1', id: 'req-7', outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 3], data: Array.from(ref.data as Float32Array) }] });
    // Versioned URL too.
    expect((await post(port, '/v2/models/mlp/versions/1/infer', inferBody(rows, 'input'))).status).toBe(200);
    const md = await request(port, 'GET', '/v2/models/mlp');
    expect(md.json()).toEqual({ name: 'mlp', versions: ['1'], platform: 'simdtensor_batched', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 8] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }] });
    expect((await request(port, 'GET', '/v2/health/live')).json()).toEqual({ live: true });
    expect((await request(port, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await request(port, 'GET', '/v2/models/mlp/ready')).json()).toEqual({ name: 'mlp', ready: true });
    const sm = (await request(port, 'GET', '/v2')).json();
    expect(sm.name).toBe('simdtensor');
    expect(sm.extensions).toContain('binary_tensor_data');
    expect((await request(port, 'GET', '/v2/models/other')).status).toBe(404);
    expect((await request(port, 'GET', '/v2/models/mlp/versions/9')).status).toBe(404);
    expect((await request(port, 'GET', '/v2/models/mlp/infer')).status).toBe(405);
    expect((await request(port, 'GET', '/nope')).json().error).toMatch(/no route GET \/nope/);
    await s.close();
  });

  it('binary tensors: Inference-Header-Content-Length in, binary outputs out (per output and binary_data_output)', async () => {
    const model = loadOnnx(onnxMlp());
    const { s, port } = await start(model, { name: 'onnx' });
    const x = randArr(2 * 6, 9);
    const ref = model.run({ x: { data: x, dims: [2, 6] } });
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [2, 6], datatype: 'FP32', parameters: { binary_data_size: 48 } }], outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'hidden' }] }));
    const r = await request(port, 'POST', '/v2/models/onnx/infer', Buffer.concat([header, Buffer.from(x.buffer)]), { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' });
    expect(r.status).toBe(200);
    const jl = Number(r.headers['inference-header-content-length']);
    const j = JSON.parse(r.body.subarray(0, jl).toString());
    expect(j.outputs[0]).toEqual({ name: 'y', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } });
    expect(j.outputs[1].data).toEqual(Array.from(ref.hidden.data as Float32Array));
    const y = new Float32Array(r.body.buffer.slice(r.body.byteOffset + jl, r.body.byteOffset + r.body.length));
    expect(Array.from(y)).toEqual(Array.from(ref.y.data as Float32Array));
    // binary_data_output: every output binary, in model order; a JSON request asking for binary output.
    const r2 = await post(port, '/v2/models/onnx/infer', { inputs: [{ name: 'x', shape: [2, 6], datatype: 'FP32', data: Array.from(x) }], parameters: { binary_data_output: true } });
    const jl2 = Number(r2.headers['inference-header-content-length']);
    const j2 = JSON.parse(r2.body.subarray(0, jl2).toString());
    expect(j2.outputs.map((o: any) => [o.name, o.parameters.binary_data_size])).toEqual([['y', 24], ['hidden', 40]]);
    expect(r2.body.length).toBe(jl2 + 64);
    // Only the requested outputs come back.
    const r3 = await post(port, '/v2/models/onnx/infer', { inputs: [{ name: 'x', shape: [2, 6], datatype: 'FP32', data: Array.from(x) }], outputs: [{ name: 'hidden' }] });
    expect(r3.json().outputs.map((o: any) => o.name)).toEqual(['hidden']);
    await s.close();
  });

  it('INT64 and BOOL over the wire: JSON numbers and decimal strings in, JSON and binary out', async () => {
    const g = new G(13);
    g.input('a', T.FLOAT, ['n', 3]);
    g.input('k', T.INT64, ['n', 2]);
    g.node('Add', ['k', g.i64('one', [1])], {}, ['k1']);
    g.node('Greater', ['a', g.scalar('zero', 0)], {}, ['pos']);
    g.output('k1', T.INT64, ['n', 2]);
    g.output('pos', T.BOOL, ['n', 3]);
    const { s, port } = await start(loadOnnx(g.bytes()), { name: 'mixed' });
    const md = (await request(port, 'GET', '/v2/models/mixed')).json();
    expect(md.inputs).toEqual([{ name: 'a', datatype: 'FP32', shape: [-1, 3] }, { name: 'k', datatype: 'INT64', shape: [-1, 2] }]);
    expect(md.outputs).toEqual([{ name: 'k1', datatype: 'INT64', shape: [-1, 2] }, { name: 'pos', datatype: 'BOOL', shape: [-1, 3] }]);
    const body = { inputs: [{ name: 'a', shape: [2, 3], datatype: 'FP32', data: [[1, -2, 0], [0.5, 3, -1]] }, { name: 'k', shape: [2, 2], datatype: 'INT64', data: [5, '-7', '-9007199254740991', 0] }] };
    const r = await post(port, '/v2/models/mixed/infer', body);
    expect(r.status).toBe(200);
    // INT64 outputs are written as exact integer literals (the ONNX runtime itself is exact to 2^53).
    expect(r.body.toString()).toContain('"data":[6,-6,-9007199254740990,1]');
    expect(r.json().outputs[1]).toEqual({ name: 'pos', datatype: 'BOOL', shape: [2, 3], data: [true, false, false, true, true, false] });
    const rb = await post(port, '/v2/models/mixed/infer', { ...body, outputs: [{ name: 'k1', parameters: { binary_data: true } }, { name: 'pos', parameters: { binary_data: true } }] });
    const jl = Number(rb.headers['inference-header-content-length']);
    const bin = rb.body.subarray(jl);
    expect(Array.from(new BigInt64Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + 32)))).toEqual([6n, -6n, -9007199254740990n, 1n]);
    expect(Array.from(bin.subarray(32))).toEqual([1, 0, 0, 1, 1, 0]);
    const bad = await post(port, '/v2/models/mixed/infer', { inputs: [body.inputs[0], { ...body.inputs[1], data: [1.5, 2, 3, 4] }] });
    expect(bad.json().error).toMatch(/input 'k': data\[0\] is 1.5, not an integer/);
    await s.close();
  });

  it('malformed requests get 4xx with a JSON error naming the problem, and the server keeps serving', async () => {
    const { s, port } = await start(stub(), { maxBody: 4096 });
    const p = '/v2/models/stub/infer';
    const cases: [unknown, number, RegExp, Record<string, string>?][] = [
      ['{"inputs": [', 400, /not valid JSON/],
      ['[]', 400, /must be a JSON object/],
      [{}, 400, /'inputs' must be a non-empty array/],
      [{ inputs: [{ name: 'q', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, 400, /unknown input 'q'; the model's inputs are 'x'/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT32', data: [1, 2, 3, 4] }] }, 400, /datatype INT32 does not match the model's FP32/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP8', data: [1, 2, 3, 4] }] }, 400, /not a v2 datatype/],
      [{ inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }, 400, /dim 1 must be 4, got 5/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3] }] }, 400, /needs 4 elements, data has 3/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, '3', 4] }] }, 400, /data\[2\] is "3", not a number/],
      [{ inputs: [{ name: 'x', shape: [1, -4], datatype: 'FP32', data: [] }] }, 400, /shape must be an array of non-negative integers/],
      [{ inputs: [{ name: 'x', shape: [0, 4], datatype: 'FP32', data: [] }] }, 400, /at least 1 is needed/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs: [{ name: 'zz' }] }, 400, /unknown output 'zz'/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], parameters: { timeout: -1 } }, 400, /parameters.timeout must be a positive number of microseconds/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] }, 400, /no Inference-Header-Content-Length/],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, 400, /Inference-Header-Content-Length is 9999/, { 'inference-header-content-length': '9999' }],
      [{ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, 400, /timeout header must be a positive number of microseconds/, { timeout: 'soon' }],
      ['x'.repeat(5000), 413, /more than the server's limit of 4096/],
    ];
    for (const [body, status, re, h] of cases) {
      const r = await post(port, p, body, h);
      expect([r.status, r.json().error], JSON.stringify(body).slice(0, 80)).toEqual([status, expect.stringMatching(re)]);
      expect(r.headers['content-type']).toBe('application/json');
    }
    // A chunked body (no Content-Length) past the limit: 413 too.
    const big = await request(port, 'POST', p, undefined, { 'transfer-encoding': 'chunked' }, { agent: false, onReq: (rq) => { for (let i = 0; i < 10; i++) rq.write('y'.repeat(1000)); } });
    expect(big.status).toBe(413);
    expect((await post(port, '/v2/models/nope/infer', inferBody([[1, 2, 3, 4]]))).json().error).toMatch(/unknown model 'nope'; this server serves 'stub'/);
    const ok = await post(port, p, inferBody([[1, 2, 3, 4]]));
    expect(ok.json().outputs[0].data).toEqual(stubExpect([1, 2, 3, 4]));
    expect(s.metrics.count('infer', 400)).toBe(16);
    expect(s.metrics.count('infer', 413)).toBe(2);
    await s.close();
  });

  it('a model that throws answers 500 with its message, and the server keeps serving', async () => {
    const m = stub();
    let fail = true;
    const flaky: BatchableModel = { ...m, run: (f) => (fail ? Promise.reject(new Error('weights on fire')) : m.run(f)) };
    const { s, port } = await start(flaky, { name: 'flaky' });
    const r = await post(port, '/v2/models/flaky/infer', inferBody([[1, 2, 3, 4]]));
    expect([r.status, r.json().error]).toEqual([500, expect.stringMatching(/the model failed: weights on fire/)]);
    fail = false;
    expect((await post(port, '/v2/models/flaky/infer', inferBody([[1, 2, 3, 4]]))).json().outputs[0].data).toEqual(stubExpect([1, 2, 3, 4]));
    await s.close();
  });

  it('batching actually batches: requests queued while a batch runs go as one batch', async () => {
    const m = stub();
    const { s, port } = await start(m, { maxBatch: 32, maxDelayMs: 0, maxConcurrentBatches: 1 });
    m.close();
    const first = post(port, '/v2/models/stub/infer', inferBody([[0, 0, 0, 1]]));
    await until(() => m.batches.length === 1, 'the first batch');
    const rows = Array.from({ length: 15 }, (_, i) => [i, i + 1, i + 2, i + 3]);
    const rest = rows.map((r) => post(port, '/v2/models/stub/infer', inferBody([r])));
    await until(() => s.batcher.queueDepth === 15, '15 queued requests');
    m.open();
    const got = await Promise.all(rest);
    expect((await first).status).toBe(200);
    expect(m.batches).toEqual([1, 15]);
    got.forEach((r, i) => expect(r.json().outputs[0].data).toEqual(stubExpect(rows[i])));
    const text = s.metricsText();
    expect(text).toMatch(/simdtensor_inference_batch_size_bucket\{model="stub",le="16"\} 2/);
    expect(text).toMatch(/simdtensor_inference_batch_size_count\{model="stub"\} 2/);
    await s.close();
  });

  it('a full queue answers 503 with Retry-After; a timeout answers 504; a disconnect aborts queued work', async () => {
    const m = stub();
    const { s, port } = await start(m, { maxBatch: 1, maxQueue: 2, maxDelayMs: 0, maxConcurrentBatches: 1, retryAfter: 2 });
    m.close();
    const p = '/v2/models/stub/infer';
    const running = post(port, p, inferBody([[1, 1, 1, 1]]));
    await until(() => m.batches.length === 1, 'the running batch');
    const q1 = post(port, p, inferBody([[2, 2, 2, 2]]));
    // A client that will go away while queued.
    let clientReq: http.ClientRequest | null = null;
    const gone = request(port, 'POST', p, JSON.stringify(inferBody([[9, 9, 9, 9]])), { 'content-type': 'application/json' }, { agent: false, onReq: (r) => (clientReq = r) }).catch((e) => e);
    await until(() => s.batcher.queueDepth === 2, 'two queued');
    const full = await post(port, p, inferBody([[4, 4, 4, 4]]));
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('2');
    expect(full.json().error).toMatch(/at capacity/);
    // The disconnect: its request is aborted and never reaches the model.
    clientReq!.destroy();
    await gone;
    await until(() => s.metrics.count('infer', 499) === 1, 'the abort');
    expect(s.batcher.queueDepth).toBe(1);
    // Times out in the queue (parameters.timeout is in microseconds, as in Triton).
    const t = await post(port, p, inferBody([[3, 3, 3, 3]], 'x', { parameters: { timeout: 30_000 } }));
    expect(t.status).toBe(504);
    expect(t.json().error).toMatch(/timed out/);
    m.open();
    expect((await running).status).toBe(200);
    expect((await q1).json().outputs[0].data).toEqual(stubExpect([2, 2, 2, 2]));
    expect(m.batches.length).toBe(2); // the running one and q1: neither the timed-out nor the aborted request ran
    // The timeout header (microseconds) works too.
    m.close();
    const blocker = post(port, p, inferBody([[1, 1, 1, 1]]));
    await until(() => m.batches.length === 3, 'the blocker');
    const th = await post(port, p, inferBody([[5, 5, 5, 5]]), { timeout: '20000' });
    expect(th.status).toBe(504);
    m.open();
    await blocker;
    await s.close();
  });

  it('response cache: the second identical request is a hit and does not run the model', async () => {
    const m = stub();
    const { s, port } = await start(m, { cache: 10, maxDelayMs: 0 });
    const a = await post(port, '/v2/models/stub/infer', inferBody([[1, 2, 3, 4]]));
    const b = await post(port, '/v2/models/stub/infer', inferBody([[1, 2, 3, 4]]));
    const c = await post(port, '/v2/models/stub/infer', inferBody([[1, 2, 3, 5]]));
    expect(b.json()).toEqual(a.json());
    expect(c.json().outputs[0].data).toEqual(stubExpect([1, 2, 3, 5]));
    expect(m.batches).toEqual([1, 1]);
    expect(s.batcher.cacheStats()).toMatchObject({ hits: 1, misses: 2, entries: 2 });
    expect(s.metricsText()).toMatch(/simdtensor_response_cache_hits_total\{model="stub"\} 1/);
    await s.close();
  });

  it('response cache: a request sharing a pending entry is not ended by the first caller\'s disconnect', async () => {
    const m = stub();
    const { s, port } = await start(m, { cache: 10, maxDelayMs: 0, maxConcurrentBatches: 1 });
    m.close();
    let reqA: http.ClientRequest | null = null;
    const a = request(port, 'POST', '/v2/models/stub/infer', JSON.stringify(inferBody([[1, 2, 3, 4]])), { 'content-type': 'application/json' }, { agent: false, onReq: (r) => (reqA = r) }).catch((e) => e);
    await until(() => m.batches.length === 1, 'the first batch');
    const b = post(port, '/v2/models/stub/infer', inferBody([[1, 2, 3, 4]]));
    await until(() => s.batcher.cacheStats().hits === 1, 'the second request to share the pending entry');
    reqA!.destroy();
    await a;
    await until(() => s.metrics.count('infer', 499) === 1, 'the first request to be aborted');
    m.open();
    const rb = await b;
    expect(rb.status).toBe(200);
    expect(rb.json().outputs[0].data).toEqual(stubExpect([1, 2, 3, 4]));
    expect(m.batches).toEqual([1, 1]); // the shared batch (its result dropped with the aborted request), then b alone
    await s.close();
  });

  it('/metrics: request counts by status, latency histogram, queue depth, per-op times from the monitor', async () => {
    setMonitoring(true);
    try {
      const { s, port } = await start(mlp([8, 4], { seed: 1 }), { name: 'tiny' });
      await post(port, '/v2/models/tiny/infer', inferBody([[1, 2, 3, 4, 5, 6, 7, 8]], 'input'));
      await post(port, '/v2/models/tiny/infer', '{');
      const r = await request(port, 'GET', '/metrics');
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
      const t = r.body.toString();
      expect(t).toMatch(/simdtensor_http_requests_total\{route="infer",code="200"\} 1/);
      expect(t).toMatch(/simdtensor_http_requests_total\{route="infer",code="400"\} 1/);
      expect(t).toMatch(/simdtensor_inference_request_duration_seconds_count\{model="tiny"\} 1/);
      expect(t).toMatch(/simdtensor_inference_queue_depth\{model="tiny"\} 0/);
      expect(t).toMatch(/# TYPE simdtensor_op_[a-z_]+ /); // per-op times (the library's prometheus())
      expect(t).toMatch(/linear/);
      await s.close();
    } finally {
      setMonitoring(false);
    }
  });

  it('slow clients: a request that does not arrive within requestTimeoutMs gets 408 with a JSON error', async () => {
    const { s, port } = await start(stub(), { requestTimeoutMs: 300 });
    const net = await import('node:net');
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write('POST /v2/models/stub/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs"'));
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).error).toMatch(/did not arrive within 300 ms/);
    expect((await post(port, '/v2/models/stub/infer', inferBody([[1, 2, 3, 4]]))).status).toBe(200);
    await s.close();
  });

  it('graceful close: readiness goes false, in-flight requests are answered, then it stops', async () => {
    const m = stub();
    const { s, port } = await start(m, { maxDelayMs: 0 });
    m.close();
    const inflight = post(port, '/v2/models/stub/infer', inferBody([[1, 0, 0, 0]]));
    await until(() => m.batches.length === 1, 'the in-flight batch');
    const closed = s.close();
    expect(s.ready).toBe(false);
    m.open();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    await closed;
    await expect(request(port, 'GET', '/v2/health/live', undefined, {}, { agent: false })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('seeded malformed-request fuzz slice: every reply is 2xx/4xx with a JSON error, no crash, healthy after', async () => {
    const model = loadOnnx(onnxMlp());
    const { s, port } = await start(model, { name: 'onnx', maxBody: 1 << 16 });
    const counts: Record<number, number> = {};
    for (const f of fuzzBodies(20251203, 400, 'onnx', { x: [6, 'FP32'] })) {
      let r: Reply;
      try {
        r = await request(port, f.method, f.path, f.body, f.headers, { agent: f.fresh ? false : agent });
      } catch (e) {
        // On its own connection: an oversized body (the server answers 413 and closes while the client still
        // writes), or an unframed GET/HEAD body that the server reads as a malformed next request (400, close).
        expect([f.fresh, String(e), f.method, f.path, f.body.subarray(0, 100).toString()]).toEqual([true, expect.stringMatching(/EPIPE|ECONNRESET|socket hang up/), f.method, f.path, f.body.subarray(0, 100).toString()]);
        continue;
      }
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      expect(r.status, `${f.path} ${f.body.subarray(0, 120).toString()}`).toBeLessThan(500);
      if (r.status >= 400 && f.method !== 'HEAD') expect(typeof r.json().error).toBe('string');
    }
    expect(Object.keys(counts).length).toBeGreaterThan(1);
    expect((await request(port, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await post(port, '/v2/models/onnx/infer', { inputs: [{ name: 'x', shape: [1, 6], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }] })).status).toBe(200);
    await s.close();
  });
});

describe('simdtensor serve (CLI)', () => {
  it('runCli dispatches serve (help, bad options)', async () => {
    const { runCli } = await import('../src/index.js');
    const out: string[] = [];
    const w = { write: (x: string) => out.push(x) } as unknown as NodeJS.WriteStream;
    expect(await runCli(['serve', '--help'], { out: w, err: w })).toBe(0);
    expect(out.join('')).toMatch(/Usage: simdtensor serve MODEL/);
    expect(await runCli(['serve', 'm.onnx', '--max-queue', 'lots'], { out: w, err: w })).toBe(2);
    expect(out.join('')).toMatch(/--max-queue needs an integer >= 1, got 'lots'/);
    expect(await runCli(['--help'], { out: w, err: w })).toBe(0);
    expect(out.join('')).toMatch(/serve MODEL/);
  });

  it('parses its options and names bad ones', () => {
    const a = parseServeArgs(['m.onnx', '--port', '0', '--max-batch', '8', '--cache', '100', '--max-body', '1000', '--name', 'x1', '--threads', '1']);
    expect(a).toMatchObject({ model: 'm.onnx', port: 0, threads: 1, opts: { maxBatch: 8, cache: 100, maxBody: 1000, name: 'x1', maxDelayMs: 2, maxQueue: 1024 } });
    expect(parseServeArgs(['dir/my model.safetensors']).opts.name).toBe('my_model');
    expect(() => parseServeArgs(['m', '--max-batch', '0'])).toThrow(/--max-batch needs an integer >= 1, got '0'/);
    expect(() => parseServeArgs(['m', '--port', '70000'])).toThrow(/at most 65535/);
    expect(() => parseServeArgs(['m', '--bogus'])).toThrow(/unknown option '--bogus'/);
    expect(() => parseServeArgs(['a', 'b'])).toThrow(/one MODEL file/);
    expect(a.opts.batchDelay).toBe('adaptive');
    expect(parseServeArgs(['m', '--batch-delay', 'fixed']).opts.batchDelay).toBe('fixed');
    expect(() => parseServeArgs(['m', '--batch-delay', 'slow'])).toThrow(/--batch-delay must be 'adaptive' or 'fixed', got 'slow'/);
  });

  it("batch delay: 'adaptive' (the default) stops waiting once lone requests come out as lone batches; 'fixed' keeps maxDelayMs", async () => {
    expect(() => createServer(stub(), { batchDelay: 'slow' as 'fixed' })).toThrow(/opts\.batchDelay must be 'adaptive' or 'fixed', got 'slow'/);
    for (const batchDelay of ['adaptive', 'fixed'] as const) {
      const m = stub();
      const { s, port } = await start(m, { maxDelayMs: 3, ...(batchDelay === 'fixed' ? { batchDelay } : {}) });
      for (let i = 0; i < 3; i++) expect((await post(port, '/v2/models/stub/infer', inferBody([[i, 1, 2, 3]]))).status).toBe(200);
      expect(m.batches).toEqual([1, 1, 1]);
      // The scheduler's current delay, as /metrics shows it (seconds): 0 once a lone batch cut it below 3/16 ms.
      expect(s.metricsText()).toMatch(new RegExp(`simdtensor_scheduler_batch_delay_seconds\\{scheduler="stub"\\} ${batchDelay === 'adaptive' ? '0' : '0\\.003'}\n`));
      await s.close();
    }
  });

  it('serves a model saved by saveModel (what simdtensor optimize writes) until stopped', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'serve-test-'));
    try {
      const model = mlp([5, 7, 2], { seed: 4 });
      const file = join(dir, 'student.safetensors');
      saveModel(model, file);
      expect(loadServable(file).kind).toBe('simdtensor');
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      let port = 0;
      const out: string[] = [];
      const w = { write: (x: string) => out.push(x) } as unknown as NodeJS.WritableStream;
      const code = runServe([file, '--port', '0', '--no-monitor'], { out: w, err: w, stop: stopped, onListening: (_s, p) => (port = p) });
      await until(() => port > 0, 'the server to listen');
      const x = [0.1, -0.2, 0.3, 0.4, -0.5];
      const r = await post(port, '/v2/models/student/infer', { inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', data: x }] });
      expect(r.json().outputs[0].data).toEqual(Array.from(model.forward(tensor(x, [1, 5])).data as Float32Array));
      stop();
      expect(await code).toBe(0);
      expect(out.join('')).toMatch(/serve: 'student' \(simdtensor, inputs input float32 \[-1, 5\], batching up to 32 rows\)/);
      const bad: string[] = [];
      const wb = { write: (x: string) => bad.push(x) } as unknown as NodeJS.WritableStream;
      expect(await runServe([join(dir, 'missing.onnx')], { out: wb, err: wb })).toBe(1);
      expect(await runServe([], { out: wb, err: wb })).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
