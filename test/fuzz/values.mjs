// Value generators of the fuzzer: dims, numbers, typed arrays on exotic buffers, tensors, options and hostile
// objects, all drawn from one seeded generator so a call replays from (seed, index).
import { rng, Tensor, tensor } from '../../dist/src/index.js';

/** Thrown by the fuzzer's own hostile getters/proxies; a library that lets it through is behaving correctly. */
export class FuzzProbeError extends Error {
  constructor(what) {
    super(`fuzz probe: ${what}`);
    this.name = 'FuzzProbeError';
  }
}

/** Short labels of generated objects, for the printed call (a WeakMap so values stay untouched). */
const labels = new WeakMap();
export function label(obj, text) {
  if (obj !== null && (typeof obj === 'object' || typeof obj === 'function')) labels.set(obj, text);
  return obj;
}

/** Printable one-line description of a value (never calls user getters: hostile objects stay quiet). */
export function show(v, depth = 0) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  const t = typeof v;
  if (t === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (t === 'bigint') return `${v}n`;
  if (t === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v);
  if (t === 'boolean') return String(v);
  if (t === 'symbol') return 'Symbol()';
  if (labels.has(v)) return labels.get(v);
  if (t === 'function') return `fn ${v.name || 'anonymous'}`;
  if (depth > 2) return '…';
  if (Array.isArray(v)) return `[${v.slice(0, 8).map((x) => show(x, depth + 1)).join(', ')}${v.length > 8 ? ', …' : ''}]`;
  if (ArrayBuffer.isView(v)) {
    let len;
    try {
      len = v.length ?? v.byteLength;
    } catch {
      len = '?';
    }
    return `${v.constructor.name}(${len})`;
  }
  try {
    const keys = Object.keys(v);
    return `{${keys.slice(0, 8).map((k) => `${k}: ${show(Object.getOwnPropertyDescriptor(v, k)?.get ? '<getter>' : v[k], depth + 1)}`).join(', ')}}`;
  } catch {
    return '<object>';
  }
}

/** Seeded helpers around the package's mulberry32 `rng`. */
export class Rand {
  constructor(seed) {
    this.next = rng(seed);
  }
  /** Uniform in [0, 1). */
  f() {
    return this.next();
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }
  chance(p) {
    return this.next() < p;
  }
  pick(a) {
    return a[this.int(a.length)];
  }
  /** Picks by weight from [[weight, value], ...]. */
  weighted(pairs) {
    let total = 0;
    for (const [w] of pairs) total += w;
    let r = this.next() * total;
    for (const [w, v] of pairs) if ((r -= w) < 0) return v;
    return pairs[pairs.length - 1][1];
  }
}

/** Seed of call `index` under run seed `seed` (each call replays alone). */
export function callSeed(seed, index) {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export const SMALL_DIMS = [0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65];
export const HUGE = [2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53, 1e300, Infinity];
export const BAD_NUMBERS = [-1, -(2 ** 31), -Infinity, NaN, 1.5, 0.5, -0, 1e-300, Number.MAX_VALUE, ...HUGE];

/** A small valid dim (mostly), occasionally larger. */
export function dim(R) {
  return R.chance(0.9) ? R.pick(SMALL_DIMS) : R.pick([100, 127, 128, 129, 255, 257]);
}

/** A bad size: huge, negative, NaN, fractional, or not a number at all. */
export function badDim(R) {
  return R.weighted([
    [6, R.pick(HUGE)],
    [4, R.pick([-1, -2, -(2 ** 31), -Infinity])],
    [2, NaN],
    [2, R.pick([1.5, 0.5, 2.000001])],
    [2, R.pick(['3', null, undefined, true, {}, [2], 3n])],
  ]);
}

/** A random f32 value: mostly normal, sometimes special. */
export function f32Value(R) {
  if (R.chance(0.97)) return R.f() * 4 - 2;
  return R.pick([NaN, Infinity, -Infinity, -0, 1e-45, 3.4e38, -3.4e38, 1e30]);
}

export const CTORS = { f32: Float32Array, i8: Int8Array, u8: Uint8Array, i32: Int32Array, u16: Uint16Array, f64: Float64Array, u32: Uint32Array, i16: Int16Array };

function fill(R, a, kind) {
  const n = a.length;
  if (a instanceof Float32Array || a instanceof Float64Array) for (let i = 0; i < n; i++) a[i] = f32Value(R);
  else if (a instanceof Uint16Array) for (let i = 0; i < n; i++) a[i] = R.chance(0.98) ? (0x3c00 ^ R.int(0x0fff)) | (R.int(2) << 15) : R.pick([0x7c00, 0x7e00, 0xfc00, 0x7f80, 0x7fc0, 0xffff]);
  else for (let i = 0; i < n; i++) a[i] = R.int(512) - 256;
  void kind;
  return a;
}

/** Buffer kinds a typed array may sit on. */
export const BUFFER_KINDS = ['plain', 'plain', 'plain', 'plain', 'offset', 'misaligned', 'shared', 'resizable', 'resizableTracking', 'growableShared', 'detached', 'oversized'];

/**
 * A typed array of `ctor` with `n` elements on a buffer of kind `kind` (random when omitted). 'detached' gives a
 * view whose buffer was transferred (length 0); 'oversized' has more elements than asked.
 */
export function typed(R, ctor, n, kind = R.pick(BUFFER_KINDS)) {
  const bpe = ctor.BYTES_PER_ELEMENT;
  if (!Number.isSafeInteger(n) || n < 0 || n > 1 << 22) n = R.pick([0, 1, 3]);
  let a;
  switch (kind) {
    case 'offset': {
      const off = 1 + R.int(8);
      a = new ctor(new ArrayBuffer((n + off + R.int(3)) * bpe), off * bpe, n);
      break;
    }
    case 'misaligned': {
      // Odd byte offset where the element size allows it, else one element (never a multiple of 16 bytes).
      const off = bpe === 1 ? 1 + 2 * R.int(8) : bpe;
      a = new ctor(new ArrayBuffer(n * bpe + off), off, n);
      break;
    }
    case 'shared':
      a = new ctor(new SharedArrayBuffer(n * bpe));
      break;
    case 'resizable': {
      const rab = new ArrayBuffer(n * bpe, { maxByteLength: (2 * n + 16) * bpe });
      a = new ctor(rab, 0, n);
      break;
    }
    case 'resizableTracking': {
      const rab = new ArrayBuffer(n * bpe, { maxByteLength: (2 * n + 16) * bpe });
      a = new ctor(rab);
      break;
    }
    case 'growableShared': {
      const gsab = new SharedArrayBuffer(n * bpe, { maxByteLength: (2 * n + 16) * bpe });
      a = new ctor(gsab);
      break;
    }
    case 'detached': {
      a = new ctor(n);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      return label(a, `${ctor.name}(${n})@detached`);
    }
    case 'oversized':
      a = new ctor(n + 1 + R.int(5));
      break;
    default:
      a = new ctor(n);
  }
  fill(R, a, kind);
  return label(a, kind === 'plain' ? `${ctor.name}(${n})` : `${ctor.name}(${n})@${kind}`);
}

/** Mostly a plain typed array; sometimes an exotic buffer. */
export function arr(R, ctor, n, exotic = 0.15) {
  return typed(R, ctor, n, R.chance(exotic) ? R.pick(BUFFER_KINDS) : 'plain');
}

/** True when `buf` was detached (transferred); ArrayBuffer#detached is missing before Node 22. */
export function isDetached(buf) {
  if (!(buf instanceof ArrayBuffer) || buf.byteLength) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

/** Makes a typed array (or a tensor's data) unusable after the fact: detach, shrink, or grow. */
export function spoil(R, a) {
  const buf = a?.buffer ?? a?.data?.buffer;
  if (!buf) return 'none';
  try {
    if (buf instanceof ArrayBuffer && buf.resizable && R.chance(0.7)) {
      const to = R.chance(0.7) ? 0 : Math.min(buf.maxByteLength, R.int(buf.maxByteLength + 1));
      buf.resize(to);
      return `resize(${to})`;
    }
    if (buf instanceof SharedArrayBuffer && buf.growable) {
      buf.grow(buf.maxByteLength);
      return 'grow';
    }
    if (buf instanceof ArrayBuffer && !buf.detached) {
      structuredClone(buf, { transfer: [buf] });
      return 'detach';
    }
  } catch (e) {
    return `spoil failed: ${e.message}`;
  }
  return 'none';
}

export const DTYPES = ['float32', 'float16', 'bfloat16', 'int8', 'uint8', 'int32'];
const DTYPE_CTOR = { float32: Float32Array, float16: Uint16Array, bfloat16: Uint16Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array };

/** A valid tensor of `dtype` and `shape` (its data on a random buffer kind with probability `exotic`). */
export function tens(R, shape, dtype = 'float32', exotic = 0.1) {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = arr(R, DTYPE_CTOR[dtype], n, exotic);
  let t;
  try {
    t = tensor(data, shape, dtype);
  } catch {
    // An exotic buffer the library refuses to wrap (e.g. detached): build it behind its back, as a careless user might.
    t = new Tensor(data, shape.slice(), dtype, n);
  }
  return label(t, `T(${dtype},[${shape.join(',')}]${labels.get(data)?.includes('@') ? labels.get(data).slice(labels.get(data).indexOf('@')) : ''})`);
}

/** Corrupts a tensor the way a careless user could: mutated shape/size, detached data, swapped dtype, fake object. */
export function corruptTensor(R, t) {
  const how = R.pick(['shapePush', 'shapeSet', 'shapeHuge', 'size', 'dtype', 'detach', 'getterShape', 'fake', 'proto', 'dataSwap']);
  const base = labels.get(t) ?? 'T';
  try {
    switch (how) {
      case 'shapePush':
        t.shape.push(R.pick([2, 0, 3]));
        break;
      case 'shapeSet':
        if (t.shape.length) t.shape[R.int(t.shape.length)] = R.pick([0, 1, 99, -1, NaN, 2 ** 31]);
        else t.shape.push(5);
        break;
      case 'shapeHuge':
        t.shape.length = 0;
        t.shape.push(2 ** 20, 2 ** 20);
        break;
      case 'size':
        t.size = R.pick([0, t.size + 1, 2 ** 31, -1, NaN]);
        break;
      case 'dtype':
        t.dtype = R.pick(['float32', 'int8', 'float16', 'int32', 'bogus']);
        break;
      case 'detach':
        spoil(R, t);
        break;
      case 'getterShape':
        Object.defineProperty(t, 'shape', { get() { throw new FuzzProbeError('shape getter'); } });
        break;
      case 'fake': {
        const f = Object.create(Tensor.prototype);
        Object.assign(f, { dtype: t.dtype, shape: t.shape.slice(), size: t.size, data: R.chance(0.5) ? [1, 2, 3] : new Float32Array(1) });
        return label(f, `fake(${base})`);
      }
      case 'proto':
        return label(new Proxy(t, { get(o, k) { if (k === 'data' && R.chance(0.5)) throw new FuzzProbeError('data getter'); return Reflect.get(o, k); } }), `proxy(${base})`);
      case 'dataSwap':
        t.data = R.pick([new Float32Array(t.size + 7), new Int8Array(t.size), new Float32Array(0), null, [1, 2]]);
        break;
    }
  } catch {
    /* frozen or similar: leave it */
  }
  return label(t, `${base}!${how}`);
}

/** A throwing object: a Proxy whose every trap throws, or an object with a throwing getter. */
export function hostile(R) {
  return R.pick([
    () => label(new Proxy({}, { get() { throw new FuzzProbeError('proxy get'); }, has() { throw new FuzzProbeError('proxy has'); }, ownKeys() { throw new FuzzProbeError('proxy ownKeys'); }, getPrototypeOf() { throw new FuzzProbeError('proxy getPrototypeOf'); } }), 'Proxy<throws>'),
    () => label(Object.defineProperty({}, 'length', { get() { throw new FuzzProbeError('length getter'); } }), '{length: <throws>}'),
    () => label({ valueOf() { throw new FuzzProbeError('valueOf'); }, toString() { throw new FuzzProbeError('toString'); } }, '{valueOf: <throws>}'),
    () => label({ [Symbol.toPrimitive]() { throw new FuzzProbeError('toPrimitive'); } }, '{toPrimitive: <throws>}'),
    () => label({ [Symbol.iterator]() { throw new FuzzProbeError('iterator'); } }, '{iterator: <throws>}'),
  ])();
}

/** Any value at all (the generic pool for functions without a table entry and for wrong-type substitutions). */
export function anyValue(R, depth = 0) {
  return R.weighted([
    [3, () => dim(R)],
    [2, () => R.pick(BAD_NUMBERS)],
    [1, () => R.pick(['', 'float32', 'int8', 'relu', 'none', 'x'.repeat(1000), 'csr', '2:4', 'auto', 'linear', 'kn', 'toString', 'constructor', '__proto__'])],
    [1, () => R.pick([true, false])],
    [2, () => R.pick([null, undefined])],
    [1, () => R.pick([3n, Symbol('fz')])],
    [1, () => R.pick([() => 0, () => { throw new FuzzProbeError('callback'); }, async () => 1])],
    [4, () => tens(R, [dim(R), dim(R)], R.chance(0.8) ? 'float32' : R.pick(DTYPES), 0.3)],
    [1, () => tens(R, Array.from({ length: R.int(5) }, () => R.pick([0, 1, 2, 3, 5])), 'float32', 0.3)],
    [1, () => corruptTensor(R, tens(R, [dim(R), dim(R)], 'float32', 0.2))],
    [2, () => typed(R, R.pick(Object.values(CTORS)), dim(R))],
    [1, () => Array.from({ length: R.int(6) }, () => (depth < 1 ? anyValue(R, depth + 1) : R.f()))],
    [1, () => (depth < 1 ? randomOptions(R, ['out', 'bias', 'activation', 'transB', 'dtype', 'signal', 'seed', 'axis'], depth + 1) : {})],
    [1, () => hostile(R)],
    [1, () => new ArrayBuffer(R.int(64))],
    [1, () => new Date(0)],
  ])();
}

/** An options object over `keys` (random subset, random values), or a bad options value. */
export function randomOptions(R, keys, depth = 0) {
  if (R.chance(0.05)) return R.pick([null, 5, 'opts', [], true]);
  if (R.chance(0.04)) return hostile(R);
  const o = {};
  for (const k of keys) if (R.chance(0.3)) o[k] = anyValue(R, depth + 1);
  return o;
}

/** Replaces option `key`'s value by a getter that throws (or detaches `victim` when read: time-of-check games). */
export function trapOption(R, opts, key, victim) {
  if (opts === null || typeof opts !== 'object') return opts;
  const v = opts[key];
  if (victim && R.chance(0.6)) {
    Object.defineProperty(opts, key, { enumerable: true, configurable: true, get() { spoil(R, victim); return v; } });
    return label(opts, `{${Object.keys(opts).filter((k) => k !== key).join(', ')}${Object.keys(opts).length > 1 ? ', ' : ''}${key}: <getter spoils input>}`);
  }
  Object.defineProperty(opts, key, { enumerable: true, configurable: true, get() { throw new FuzzProbeError(`option ${key}`); } });
  return opts;
}

/** An AbortSignal: none, already aborted, aborted soon, or a bogus one. */
export function signal(R) {
  return R.weighted([
    [6, () => undefined],
    [2, () => AbortSignal.abort(R.chance(0.5) ? undefined : new FuzzProbeError('abort reason'))],
    [2, () => { const c = new AbortController(); setTimeout(() => c.abort(), R.int(3)); return label(c.signal, 'signal(abort soon)'); }],
    [1, () => { const c = new AbortController(); queueMicrotask(() => c.abort()); return label(c.signal, 'signal(abort microtask)'); }],
    [1, () => R.pick([{}, { aborted: true }, 'abort', 5])],
  ])();
}
