import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, DynamicBatcher, mlp, sequentialBatchable, tensor, type BatchableModel, type HostTensor } from '../src/index.js';
import { InferCodec, INLINE_MACS } from '../src/serve/index.js';
import { encodeInferResponse, type InferRequest } from '../src/serve/protocol.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
afterAll(() => agent.destroy());

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function request(port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const f32 = (shape: number[], data: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(data) });
const req = (over: Partial<InferRequest> = {}): InferRequest => ({ id: undefined, feeds: {}, outputs: null, binaryAll: false, timeoutUs: undefined, ...over });

/** Two outputs of different dtypes: y float32 [-1, 2], k int64 [-1, 1]. */
const specs = [
  { name: 'y', dtype: 'float32' as const, shape: [-1, 2] },
  { name: 'k', dtype: 'int64' as const, shape: [-1, 1] },
];

/** Splits a binary response body into its JSON header and the bytes after it. */
function splitBinary(body: Buffer, jsonLength: number): { head: any; bin: Buffer } {
  return { head: JSON.parse(body.subarray(0, jsonLength).toString()), bin: body.subarray(jsonLength) };
}

describe('InferCodec', () => {
  it('encodes byte for byte what encodeInferResponse gives, for every output selection and id', () => {
    const one = [{ name: 'y', dtype: 'float32' as const, shape: [-1, 2] }];
    const codec1 = new InferCodec('m', '3', one);
    const codec2 = new InferCodec('m', '3', specs);
    const outs1 = (rows: number) => ({ y: f32([rows, 2], Array.from({ length: rows * 2 }, (_, i) => i / 3 - 1)) });
    const outs2 = { y: f32([1, 2], [0.5, NaN]), k: { dtype: 'int64' as const, shape: [1, 1], data: BigInt64Array.from([-(2n ** 60n)]) } };
    const cases: [InferCodec, InferRequest, Record<string, HostTensor>, readonly (typeof specs)[number][]][] = [
      [codec1, req(), outs1(1), one],
      [codec1, req({ binaryAll: true }), outs1(1), one],
      [codec1, req({ binaryAll: true }), outs1(3), one], // another shape: another cached header
      [codec1, req({ binaryAll: true }), outs1(1), one], // the first again, from the cache
      [codec1, req({ binaryAll: true, id: 'r-é"1' }), outs1(2), one],
      [codec1, req({ outputs: [{ name: 'y', binary: true }] }), outs1(2), one],
      [codec1, req({ outputs: [{ name: 'y', binary: false }], binaryAll: true }), outs1(2), one],
      [codec2, req(), outs2, specs],
      [codec2, req({ binaryAll: true }), outs2, specs],
      [codec2, req({ outputs: [{ name: 'k', binary: true }] }), outs2, specs],
      [codec2, req({ outputs: [{ name: 'k', binary: false }, { name: 'y', binary: true }], id: 'x' }), outs2, specs],
    ];
    for (const [codec, r, outs, order] of cases) {
      const got = codec.encode(r, outs);
      const want = encodeInferResponse('m', '3', r, outs, order);
      expect(got.jsonLength).toBe(want.jsonLength);
      expect(Buffer.from(got.body as never)).toEqual(Buffer.from(want.body as never));
    }
  });

  it('a binary answer round-trips: its header parses and its bytes are the output', () => {
    const codec = new InferCodec('m', '1', [{ name: 'y', dtype: 'float32', shape: [-1, 2] }]);
    const y = f32([2, 2], [1.5, -2, 3.25, 1e-8]);
    const enc = codec.encode(req({ binaryAll: true }), { y });
    const { head, bin } = splitBinary(enc.body as Buffer, enc.jsonLength!);
    expect(head).toEqual({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }] });
    expect(new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length))).toEqual(y.data);
    // The body is its own memory: encoding the next answer does not change this one.
    const again = Buffer.from(enc.body as Buffer);
    codec.encode(req({ binaryAll: true }), { y: f32([2, 2], [9, 9, 9, 9]) });
    expect(enc.body).toEqual(again);
  });
});

describe('the server with the codec', () => {
  /** A stub whose output row is the first two input values times 2 (rows as sent). */
  const model: BatchableModel = {
    name: 'm',
    batchable: true,
    inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
    run: (f) => ({ y: { dtype: 'float32', shape: f.x.shape.slice(), data: (f.x.data as Float32Array).map((v) => v * 2) } }),
  };
  const bin = (rows: number, extra: object = {}) => {
    const x = Float32Array.from({ length: rows * 2 }, (_, i) => i + 1);
    const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [rows, 2], datatype: 'FP32', parameters: { binary_data_size: rows * 8 } }], ...extra }));
    return { body: Buffer.concat([h, Buffer.from(x.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(h.length) } };
  };

  it('reused response headers do not leak between requests: lengths and types are each answer’s own', async () => {
    const srv = createServer(model, { maxDelayMs: 0, libraryMetrics: false });
    const { port } = await srv.listen(0);
    try {
      // Binary and JSON answers of different sizes, concurrently and one after another.
      const sends = [1, 3, 2].map((rows) => {
        const b = bin(rows, { parameters: { binary_data_output: true } });
        return request(port, 'POST', '/v2/models/m/infer', b.body, b.headers);
      });
      sends.push(request(port, 'POST', '/v2/models/m/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }), { 'content-type': 'application/json' }));
      const replies = await Promise.all(sends);
      for (const [k, rows] of [1, 3, 2].entries()) {
        const r = replies[k];
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toBe('application/octet-stream');
        expect(Number(r.headers['content-length'])).toBe(r.body.length);
        const jl = Number(r.headers['inference-header-content-length']);
        const { head, bin: bytes } = splitBinary(r.body, jl);
        expect(head.outputs[0].shape).toEqual([rows, 2]);
        expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)))).toEqual(Array.from({ length: rows * 2 }, (_, i) => (i + 1) * 2));
      }
      const j = replies[3];
      expect(j.status).toBe(200);
      expect(j.headers['content-type']).toBe('application/json');
      expect(j.headers['inference-header-content-length']).toBeUndefined();
      expect(Number(j.headers['content-length'])).toBe(j.body.length);
      expect(JSON.parse(j.body.toString()).outputs[0].data).toEqual([2, 4]);
      // An error answer after them carries none of the 200's headers.
      const e = await request(port, 'POST', '/v2/models/m/infer', '{"inputs":[]}', { 'content-type': 'application/json' });
      expect(e.status).toBe(400);
      expect(e.headers['inference-header-content-length']).toBeUndefined();
      expect(Number(e.headers['content-length'])).toBe(e.body.length);
    } finally {
      await srv.close();
    }
  });

  it('the fast-matched infer path, its versioned form and a query string answer alike; other versions 404', async () => {
    const srv = createServer(model, { version: '7', maxDelayMs: 0, libraryMetrics: false });
    const { port } = await srv.listen(0);
    try {
      const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [3, 4] }] });
      const h = { 'content-type': 'application/json' };
      const a = await request(port, 'POST', '/v2/models/m/infer', body, h);
      const b = await request(port, 'POST', '/v2/models/m/versions/7/infer', body, h);
      const c = await request(port, 'POST', '/v2/models/m/infer?trace=1', body, h);
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      expect(b.body).toEqual(a.body);
      expect(c.body).toEqual(a.body);
      expect((await request(port, 'POST', '/v2/models/m/versions/8/infer', body, h)).status).toBe(404);
      expect((await request(port, 'GET', '/v2/models/m/infer')).status).toBe(405);
      expect(srv.metrics.count('infer', 200)).toBe(3);
    } finally {
      await srv.close();
    }
  });
});

describe('DynamicBatcher.inferTo', () => {
  const model: BatchableModel = {
    batchable: true,
    inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
    run: (f) => ({ y: { dtype: 'float32', shape: f.x.shape.slice(), data: (f.x.data as Float32Array).map((v) => v + 1) } }),
  };

  it('calls done once with the outputs, or fail once with the error (bad feeds, a throwing done)', async () => {
    const b = new DynamicBatcher(model, { maxDelayMs: 0 });
    const calls: string[] = [];
    await new Promise<void>((res) =>
      b.inferTo(
        { x: f32([1, 2], [1, 2]) },
        {},
        (o, cached) => {
          calls.push(`done ${Array.from(o.y.data as Float32Array)} ${cached}`);
          res();
        },
        (e) => calls.push(`fail ${e}`),
      ),
    );
    await new Promise<void>((res) =>
      b.inferTo(
        { x: f32([1, 3], [1, 2, 3]) },
        {},
        () => calls.push('done?'),
        (e) => {
          calls.push(`fail ${(e as Error).name}`);
          res();
        },
      ),
    );
    await new Promise<void>((res) =>
      b.inferTo(
        { x: f32([1, 2], [5, 6]) },
        {},
        () => {
          calls.push('done then throw');
          throw new Error('boom');
        },
        (e) => {
          calls.push(`fail ${(e as Error).message}`);
          res();
        },
      ),
    );
    expect(calls).toEqual(['done 2,3 false', 'fail RangeError', 'done then throw', 'fail boom']);
    await b.close();
  });

  it('with a cache: the second identical request is answered from it', async () => {
    const b = new DynamicBatcher(model, { maxDelayMs: 0, cache: 4 });
    const one = () => new Promise<boolean>((res, rej) => b.inferTo({ x: f32([1, 2], [1, 2]) }, {}, (_o, cached) => res(cached), rej));
    expect(await one()).toBe(false);
    expect(await one()).toBe(true);
    await b.close();
  });
});

describe('small Sequential models run inline', () => {
  it('a model under INLINE_MACS answers synchronously and equals forward; a larger one runs async', async () => {
    const small = mlp([8, 16, 3], { seed: 1 });
    const m = sequentialBatchable(small);
    const x = Float32Array.from({ length: 2 * 8 }, (_, i) => Math.sin(i));
    const r = m.run({ input: { dtype: 'float32', shape: [2, 8], data: x } });
    expect(typeof (r as Promise<unknown>).then).toBe('undefined');
    const want = small.forward(tensor(Array.from(x), [2, 8])).toArray() as number[][];
    const got = (r as Record<string, HostTensor>).output;
    expect(got.shape).toEqual([2, 3]);
    const flat = want.flat();
    for (let i = 0; i < flat.length; i++) expect(got.data[i]).toBeCloseTo(flat[i], 4);
    const big = sequentialBatchable(mlp([512, 1024], { seed: 1 })); // 512 × 1024 = 2^19 > INLINE_MACS
    expect(512 * 1024).toBeGreaterThan(INLINE_MACS);
    const p = big.run({ input: { dtype: 'float32', shape: [1, 512], data: new Float32Array(512) } });
    expect(typeof (p as Promise<unknown>).then).toBe('function');
    expect((await p).output.shape).toEqual([1, 1024]);
  });
});
