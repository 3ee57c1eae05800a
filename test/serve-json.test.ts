// The request fast path (src/serve/json.ts) against JSON.parse, the disconnect signal, and the forward arenas.
import { describe, expect, it } from 'vitest';
import { BAIL, parseRequestJson } from '../src/serve/json.js';
import { HeaderCache, parseInferRequest, ProtocolError } from '../src/serve/protocol.js';
import type { TensorSpec } from '../src/serve/batcher.js';
import { sequentialBatchable } from '../src/serve/models.js';
import { ArenaPool, denseChainAsync, ForwardArena, linear, mlp, packWeights, rand, tensor } from '../src/index.js';
import { mulberry32 } from '../src/random.js';
import { expectSameArray } from './helpers.js';

const enc = (s: string) => Buffer.from(s, 'utf8');

/** parseRequestJson's value with Float64Arrays turned back into arrays (what JSON.parse gives). */
function plain(v: unknown): unknown {
  if (v instanceof Float64Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Same value, -0 told apart from 0 and every number compared bit for bit (Object.is). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && typeof a === 'object') {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as never)[k], (b as never)[k]));
  }
  return a === b;
}

function randomNumberText(r: () => number): string {
  const kind = Math.floor(r() * 8);
  const sign = r() < 0.4 ? '-' : '';
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const int = r() < 0.3 ? '0' : String(1 + Math.floor(r() * 9)) + digits(Math.floor(r() * 8));
  switch (kind) {
    case 0:
      return sign + int;
    case 1:
      return `${sign}${int}.${digits(1 + Math.floor(r() * 8))}`;
    case 2:
      return `${sign}${int}.${digits(10 + Math.floor(r() * 12))}`; // more than 15 digits: the Number() path
    case 3:
      return `${sign}${int}${r() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(r() * 3)]}${Math.floor(r() * 40)}`;
    case 4:
      return `${sign}0.${digits(Math.floor(1 + r() * 20))}`;
    case 5:
      return `${sign}${digits(16 + Math.floor(r() * 6)).replace(/^0+/, '') || '7'}`; // a long integer
    case 6:
      return `${sign}${int}.${digits(2)}e${Math.floor(r() * 300) - 150}`;
    default:
      return String(Math.fround((r() - 0.5) * 2 ** (Math.floor(r() * 60) - 30)));
  }
}

describe('parseRequestJson: the same values as JSON.parse', () => {
  it('a typical request: data as a Float64Array of exactly the numbers JSON.parse reads', () => {
    const r = mulberry32(5);
    const data = Array.from({ length: 300 }, () => randomNumberText(r));
    const text = `{"inputs":[{"name":"input","shape":[1,300],"datatype":"FP32","data":[${data.join(', ')}]}],"id":"abc","parameters":{"timeout":5}}`;
    const v = parseRequestJson(enc(text)) as { inputs: { data: unknown }[] };
    expect(v).not.toBe(BAIL);
    expect(v.inputs[0].data).toBeInstanceOf(Float64Array);
    const want = JSON.parse(text);
    const got = v.inputs[0].data as Float64Array;
    for (let i = 0; i < 300; i++) expect(Object.is(got[i], want.inputs[0].data[i]), `${data[i]}: ${got[i]} vs ${want.inputs[0].data[i]}`).toBe(true);
    expect(same(plain(v), want)).toBe(true);
  });

  it('a data array larger than the scratch (grown, then given back) and a small one after it', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => (i % 977) / 8 - 50);
    const v = parseRequestJson(enc(JSON.stringify({ data: big }))) as { data: Float64Array };
    expect(v.data).toBeInstanceOf(Float64Array);
    expect(v.data.length).toBe(100_000);
    expectSameArray(v.data, big);
    const w = parseRequestJson(enc('{"data":[1.5,-2]}')) as { data: Float64Array };
    expect(Array.from(w.data)).toEqual([1.5, -2]);
    expect(Array.from(v.data.subarray(0, 2))).toEqual(big.slice(0, 2)); // the first result is its own copy
  });

  it('random documents: equal to JSON.parse whenever it does not bail', () => {
    const r = mulberry32(11);
    let checked = 0;
    const gen = (depth: number): string => {
      const k = Math.floor(r() * (depth > 4 ? 4 : 7));
      if (k === 0) return randomNumberText(r);
      if (k === 1) return ['true', 'false', 'null'][Math.floor(r() * 3)];
      if (k === 2) return JSON.stringify(['input', 'FP32', 'a b', '', 'x'.repeat(40), 'é', 'tab\there', 'q"uote'][Math.floor(r() * 8)]);
      if (k === 3) return `[${Array.from({ length: Math.floor(r() * 5) }, () => randomNumberText(r)).join(r() < 0.5 ? ',' : ' , ')}]`;
      if (k === 4 || k === 5) {
        const keys = ['data', 'name', 'shape', 'inputs', 'x', 'data', 'parameters'];
        return `{${Array.from({ length: Math.floor(r() * 4) }, () => `${JSON.stringify(keys[Math.floor(r() * keys.length)])} : ${gen(depth + 1)}`).join(',')}}`;
      }
      return `[${Array.from({ length: Math.floor(r() * 4) }, () => gen(depth + 1)).join(',')}]`;
    };
    for (let n = 0; n < 2000; n++) {
      const text = (r() < 0.2 ? ' \n' : '') + gen(0) + (r() < 0.2 ? '\t ' : '');
      const v = parseRequestJson(enc(text));
      if (v === BAIL) continue;
      checked++;
      expect(same(plain(v), JSON.parse(text)), text).toBe(true);
    }
    expect(checked).toBeGreaterThan(1500);
  });

  it('bails (so JSON.parse decides) on invalid JSON, escapes, non-ASCII, __proto__, deep nesting', () => {
    for (const t of ['', ' ', '{', '{"a":1,}', '[1,]', '[01]', '[1.]', '[.5]', '[-]', '[1e]', '{"a" 1}', '{a:1}', '[1] x', 'tru', 'nul', '"\\n"', '"é"', '{"__proto__":{"x":1}}', '[' .repeat(100) + ']'.repeat(100), '{"data":[1,2,}', '{"data":[1 2]}', 'NaN', '[Infinity]', '"a\u0001"'])
      expect(parseRequestJson(enc(t)), t).toBe(BAIL);
  });

  it('a "data" array that is not all numbers is parsed as an ordinary array; exponents and long numbers stay numeric', () => {
    for (const t of ['{"data":[1,"2",3]}', '{"data":[[1,2],[3,4]]}', '{"data":[1,true]}', '{"data":[]}', '{"data":[1e3, 2]}', '{"data":[12345678901234567890, 1]}', '{"data":[1, {}]}']) {
      const v = parseRequestJson(enc(t));
      expect(v, t).not.toBe(BAIL);
      expect(same(plain(v), JSON.parse(t)), t).toBe(true);
    }
    expect((parseRequestJson(enc('{"data":[1e3, 2]}')) as { data: unknown }).data).toEqual(new Float64Array([1000, 2]));
    expect((parseRequestJson(enc('{"data":[1, "2"]}')) as { data: unknown }).data).toEqual([1, '2']);
    expect((parseRequestJson(enc('{"data":[-0, 0.5]}')) as { data: Float64Array }).data).toBeInstanceOf(Float64Array);
    expect(Object.is((parseRequestJson(enc('{"data":[-0, 0.5]}')) as { data: Float64Array }).data[0], -0)).toBe(true);
  });

  it('strings and keys: the same whether cached or not (many distinct names)', () => {
    for (let i = 0; i < 600; i++) {
      const t = `{"k${i}":"v${i % 37}","name":"input_${i % 300}"}`;
      expect(parseRequestJson(enc(t))).toEqual(JSON.parse(t));
    }
  });

  it('parseInferRequest reads fast-path data for every datatype with the same checks and messages', () => {
    const spec = (dtype: 'float32' | 'float64' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool') => [{ name: 'x', dtype, shape: [-1, 3] }];
    const body = (dt: string, data: string) => enc(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"${dt}","data":${data}}]}`);
    const f32 = parseInferRequest(body('FP32', '[0.1, -2.5, 3]'), undefined, spec('float32'), []).feeds.x.data;
    expect(f32).toEqual(new Float32Array([0.1, -2.5, 3]));
    expect(parseInferRequest(body('FP64', '[0.1, -2.5, 3]'), undefined, spec('float64'), []).feeds.x.data).toEqual(new Float64Array([0.1, -2.5, 3]));
    expect(parseInferRequest(body('INT32', '[1, -2, 3]'), undefined, spec('int32'), []).feeds.x.data).toEqual(new Int32Array([1, -2, 3]));
    expect(parseInferRequest(body('INT64', '[1, -2, 3]'), undefined, spec('int64'), []).feeds.x.data).toEqual(new BigInt64Array([1n, -2n, 3n]));
    expect(() => parseInferRequest(body('INT8', '[1, 200, 3]'), undefined, spec('int8'), [])).toThrow("input 'x': data[1] is 200, not an integer in [-128, 127] (INT8)");
    expect(() => parseInferRequest(body('INT32', '[1, 2.5, 3]'), undefined, spec('int32'), [])).toThrow('data[1] is 2.5, not an integer');
    expect(() => parseInferRequest(body('BOOL', '[1, 0, 1]'), undefined, spec('bool'), [])).toThrow("input 'x': data[0] is 1, not true or false");
    expect(() => parseInferRequest(body('FP32', '[1, 2]'), undefined, spec('float32'), [])).toThrow("input 'x': shape [1, 3] needs 3 elements, data has 2");
    expect(() => parseInferRequest(enc('{"inputs":[{"name":"x"'), undefined, spec('float32'), [])).toThrow(/not valid JSON/);
  });
});

describe('HeaderCache: a binary request whose JSON header was seen before', () => {
  const ins: TensorSpec[] = [
    { name: 'x', dtype: 'float32', shape: [-1, 3] },
    { name: 'm', dtype: 'bool', shape: [-1, 2] },
  ];
  const outs: TensorSpec[] = [{ name: 'y', dtype: 'float32', shape: [-1, 1] }];
  /** A binary body: the header, then x (rows x 3 float32) and m (rows x 2 bool); `pad` bytes before it (alignment). */
  const body = (rows: number, seed: number, header?: string, pad = 0, mask = 1) => {
    const h = Buffer.from(
      header ??
        JSON.stringify({
          inputs: [
            { name: 'x', shape: [rows, 3], datatype: 'FP32', parameters: { binary_data_size: rows * 12 } },
            { name: 'm', shape: [rows, 2], datatype: 'BOOL', parameters: { binary_data_size: rows * 2 } },
          ],
          outputs: [{ name: 'y', parameters: { binary_data: true } }],
          parameters: { timeout: 5000 },
        }),
    );
    const x = Float32Array.from({ length: rows * 3 }, (_, i) => seed + i / 4);
    const m = Uint8Array.from({ length: rows * 2 }, (_, i) => (i + seed) & mask);
    const all = Buffer.alloc(pad + h.length + x.byteLength + m.length);
    h.copy(all, pad);
    Buffer.from(x.buffer).copy(all, pad + h.length);
    Buffer.from(m).copy(all, pad + h.length + x.byteLength);
    return { b: all.subarray(pad), jl: h.length };
  };
  const view = (r: ReturnType<typeof parseInferRequest>) => ({ ...r, feeds: Object.fromEntries(Object.entries(r.feeds).map(([k, f]) => [k, { dtype: f.dtype, shape: [...f.shape], data: Array.from(f.data as Uint8Array) }])) });

  it('gives what the full parse gives, for aligned and unaligned bodies, and parses each distinct header once', () => {
    const cache = new HeaderCache(ins, outs);
    for (let k = 0; k < 12; k++) {
      const rows = 1 + (k % 3);
      const { b, jl } = body(rows, k, undefined, k % 4);
      const cached = parseInferRequest(b, jl, ins, outs, cache);
      expect(view(cached)).toEqual(view(parseInferRequest(b, jl, ins, outs)));
      expect(cached.feeds.x.data).toBeInstanceOf(Float32Array);
      expect(cached.timeoutUs).toBe(5000);
    }
    expect(cache.misses).toBe(3); // three row counts, three headers
    expect(cache.hits).toBe(9);
    // The shared shapes and output lists are frozen: a reader that wrote into them would throw, not leak.
    const { b, jl } = body(2, 0);
    const r = parseInferRequest(b, jl, ins, outs, cache);
    expect(Object.isFrozen(r.feeds.x.shape) && Object.isFrozen(r.outputs)).toBe(true);
  });

  it('still checks what depends on the body: its length after the header and BOOL bytes', () => {
    const cache = new HeaderCache(ins, outs);
    const { b, jl } = body(2, 1);
    parseInferRequest(b, jl, ins, outs, cache);
    expect(() => parseInferRequest(b.subarray(0, b.length - 1), jl, ins, outs, cache)).toThrow(/binary data runs past the end of the body/);
    expect(() => parseInferRequest(Buffer.concat([b, Buffer.from([0])]), jl, ins, outs, cache)).toThrow(/1 bytes after the JSON header that no input's binary_data_size accounts for/);
    const bad = body(2, 1, undefined, 0, 3); // BOOL bytes of 2 and 3
    expect(cache.get(bad.b.subarray(0, bad.jl))).not.toBeNull();
    expect(() => parseInferRequest(bad.b, bad.jl, ins, outs, cache)).toThrow(ProtocolError);
    expect(() => parseInferRequest(bad.b, bad.jl, ins, outs, cache)).toThrow(/input 'm': BOOL byte \d is [23], must be 0 or 1/);
  });

  it('keeps only headers that parsed, and whose every input is binary', () => {
    const cache = new HeaderCache(ins, outs);
    const wrong = body(1, 0, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', parameters: { binary_data_size: 12 } }] }));
    for (let i = 0; i < 2; i++) expect(() => parseInferRequest(wrong.b, wrong.jl, ins, outs, cache)).toThrow(/datatype FP64 does not match the model's FP32/);
    const mixed = JSON.stringify({
      inputs: [
        { name: 'x', shape: [1, 3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
        { name: 'm', shape: [1, 2], datatype: 'BOOL', data: [true, false] },
      ],
    });
    const h = Buffer.from(mixed);
    const b = Buffer.concat([h, Buffer.from(new Float32Array([1, 2, 3]).buffer)]);
    for (let i = 0; i < 2; i++) expect(Array.from(parseInferRequest(b, h.length, ins, outs, cache).feeds.m.data)).toEqual([1, 0]);
    expect(cache.get(h)).toBeNull();
    expect(cache.get(wrong.b.subarray(0, wrong.jl))).toBeNull();
    expect(cache.hits).toBe(0);
    // At most 8 headers are kept (round robin).
    for (let rows = 1; rows <= 10; rows++) {
      const x = body(rows, 0);
      parseInferRequest(x.b, x.jl, ins, outs, cache);
    }
    const first = body(1, 0);
    expect(cache.get(first.b.subarray(0, first.jl))).toBeNull();
    const last = body(10, 0);
    expect(cache.get(last.b.subarray(0, last.jl))).not.toBeNull();
  });
});

describe('forward arenas', () => {
  it('denseChainAsync equals the layer-by-layer forward; only the output is fresh; the arena is reused', async () => {
    const sizes = [13, 40, 33, 5];
    const ws = sizes.slice(1).map((n, i) => rand([n, sizes[i]], { seed: 7 + i, low: -0.3, high: 0.3 }));
    const bs = sizes.slice(1).map((n, i) => rand([n], { seed: 17 + i }));
    const steps = ws.map((w, i) => ({ weight: packWeights(w), bias: bs[i], outFeatures: sizes[i + 1], activation: (i < 2 ? 'relu' : 'none') as 'relu' | 'none' }));
    const ref = (x: ReturnType<typeof rand>) => {
      let h = x;
      for (let i = 0; i < ws.length; i++) h = linear(h, ws[i], bs[i], { activation: i < 2 ? 'relu' : 'none' });
      return h;
    };
    const arena = new ForwardArena();
    const x1 = rand([7, 13], { seed: 1 });
    const x2 = rand([3, 13], { seed: 2 });
    const y1 = await denseChainAsync(x1, steps, arena);
    const y1copy = Float32Array.from(y1.data);
    const bytes = arena.bytes;
    expect(bytes).toBeGreaterThan(0);
    expect(arena.holds(y1.data)).toBe(false);
    const y2 = await denseChainAsync(x2, steps, arena);
    expect(arena.bytes).toBe(bytes); // smaller batch: no growth
    expect(Array.from(y1.data)).toEqual(Array.from(y1copy)); // the second pass did not touch the first output
    for (const [x, y] of [[x1, y1], [x2, y2]] as const) {
      const r = ref(x);
      expect(y.shape).toEqual(r.shape);
      for (let i = 0; i < r.size; i++) expect(y.data[i]).toBeCloseTo(r.data[i], 4);
    }
    const pool = new ArenaPool(2);
    const [a, b] = await Promise.all([denseChainAsync(x1, steps, pool), denseChainAsync(x1, steps, pool)]); // two passes at once: two arenas
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    await expect(denseChainAsync(x1, [], pool)).rejects.toThrow(TypeError);
    await expect(denseChainAsync(tensor([1, 2]), steps, pool)).rejects.toThrow(/2-D/);
    await expect(denseChainAsync(x1, steps, {} as never)).rejects.toThrow(/ArenaPool/);
  });

  it('ForwardArena.out alternates buffers and never hands out the buffer holding the input', () => {
    const a = new ForwardArena();
    const o1 = a.out(4, 8, new Float32Array(1));
    const o2 = a.out(4, 8, o1.data);
    const o3 = a.out(2, 8, o2.data);
    expect(o1.data.buffer).not.toBe(o2.data.buffer);
    expect(o3.data.buffer).toBe(o1.data.buffer);
    expect(o3.shape).toEqual([2, 8]);
    expect(() => a.out(-1, 8, o1.data)).toThrow(RangeError);
  });

  it('sequentialBatchable outputs stay intact across batches (the arena never leaks into an output)', async () => {
    const model = mlp([6, 20, 20, 3], { seed: 9 });
    const b = sequentialBatchable(model);
    const x = (rows: number, seed: number) => ({ input: { dtype: 'float32' as const, shape: [rows, 6], data: rand([rows, 6], { seed }).data as Float32Array } });
    const o1 = (await b.run(x(4, 1))).output;
    const keep = Float32Array.from(o1.data as Float32Array);
    const o2 = (await b.run(x(5, 2))).output;
    expect(Array.from(o1.data as Float32Array)).toEqual(Array.from(keep));
    const want = model.forward(rand([5, 6], { seed: 2 }));
    for (let i = 0; i < want.size; i++) expect((o2.data as Float32Array)[i]).toBeCloseTo(want.data[i], 4);
  });
});
