/**
 * An LRU result cache for repeated identical requests, keyed by a fast hash of the input's bytes (plus dtype and
 * shape), verified byte for byte on a hit.
 * @module
 */
import { markAsUntransferable } from 'node:worker_threads';
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkTensor, Tensor } from '../tensor.js';
import { registerCache, CacheStats } from '../monitor/sources.js';

/** Options of {@link memoize}. */
export interface MemoizeOptions {
  /** Most cached results (default 1024). */
  maxEntries?: number;
  /** Most bytes held: copies of the inputs plus the results (default 64 MiB). */
  maxBytes?: number;
  /** Name in statistics (default: the function's name, or `memoize-<n>`). */
  name?: string;
}

/** A memoized function: call it like the original; it also reports and clears its cache. */
export interface Memoized<R> {
  (input: Tensor): R;
  /** Hits, misses, evictions, entries and bytes. */
  stats(): CacheStats;
  /** Drops every cached result. */
  clear(): void;
  /** Zeroes the hit, miss and eviction counters. */
  resetStats(): void;
}

const DTYPE_CODE: Record<string, number> = { float32: 1, float16: 2, bfloat16: 3, int8: 4, uint8: 5, int32: 6 };

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A MurmurHash3-style hash of the bytes of `t`, seeded with its dtype and shape: four independent lanes over
 * 32-bit words (so the multiplies overlap), folded together with a murmur finaliser. About 0.5 ns per byte on the
 * test machine (a 1 KB request row: ~0.5 µs; measured figures in docs/serving.md). Collisions are harmless: hits
 * are verified against a copy of the input.
 * @internal
 */
export function hashTensor(t: Tensor): number {
  let h = DTYPE_CODE[t.dtype] | 0;
  for (let i = 0; i < t.shape.length; i++) h = mix(h, t.shape[i]);
  const d = t.data;
  let bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if ((d.byteOffset & 3) !== 0) bytes = bytes.slice(); // an odd int8/uint8 view: hash an aligned copy
  const nbytes = bytes.byteLength;
  const words = nbytes >>> 2;
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, words);
  let l0 = 0x9e3779b1 | 0;
  let l1 = 0x85ebca6b | 0;
  let l2 = 0xc2b2ae35 | 0;
  let l3 = 0x27d4eb2f | 0;
  let i = 0;
  for (const n4 = words & ~3; i < n4; i += 4) {
    l0 = mix(l0, w[i]);
    l1 = mix(l1, w[i + 1]);
    l2 = mix(l2, w[i + 2]);
    l3 = mix(l3, w[i + 3]);
  }
  h = mix(mix(mix(mix(h, l0), l1), l2), l3);
  for (; i < words; i++) h = mix(h, w[i]);
  let k = 0;
  for (let j = words << 2, s = 0; j < nbytes; j++, s += 8) k |= bytes[j] << s;
  if (nbytes & 3) h = mix(h, k);
  h ^= nbytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface Entry {
  dtype: string;
  shape: readonly number[];
  input: Buffer; // a copy of the input bytes, compared on every hit
  value: unknown;
  bytes: number;
}

function bytesView(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A result that is a view into a larger buffer (e.g. one request's rows of a batch) is copied so the cache does not
 * pin the whole buffer. The kept result is shared by every later hit, so its buffer is marked untransferable: a
 * caller posting it in a transfer list copies it (or gets a DataCloneError) instead of detaching the cached copy.
 */
function compact(v: unknown): { value: unknown; bytes: number } {
  if (!(v instanceof Tensor)) return { value: v, bytes: 0 };
  const t = v.data.byteLength === v.data.buffer.byteLength ? v : v.clone();
  if (t.data.buffer instanceof ArrayBuffer) markAsUntransferable(t.data.buffer);
  return { value: t, bytes: t.data.byteLength };
}

let memoCount = 0;

/**
 * Wraps `fn` (one Tensor in, a Tensor or a Promise of one out) with an LRU cache of its results, keyed by a hash
 * of the input's bytes, dtype and shape and verified against a copy of the input, so a repeated identical request
 * returns the cached result without calling `fn`. While an async result is pending, identical calls share its
 * promise; a rejected promise or a thrown error is never cached.
 *
 * Cached results are shared between callers: treat them as read-only. A result that is a view into a larger
 * buffer is stored as a compact copy (returned from later hits). Throws a TypeError synchronously for an input
 * that is not a Tensor.
 */
export function memoize<R>(fn: (input: Tensor) => R, opts: MemoizeOptions | null = {}): Memoized<R> {
  opts = options('memoize', opts);
  const name0 = 'memoize';
  if (typeof fn !== 'function') throw typeError(name0, `fn must be a function (input: Tensor) => Tensor | Promise<Tensor>, got ${describe(fn)}`);
  if (opts === null || typeof opts !== 'object') throw typeError(name0, `opts must be an object, got ${describe(opts)}`);
  const maxEntries = opts.maxEntries ?? 1024;
  const maxBytes = opts.maxBytes ?? 64 * 2 ** 20;
  if (typeof maxEntries !== 'number' || !(maxEntries >= 1) || (maxEntries !== Infinity && !Number.isInteger(maxEntries)))
    throw rangeError(name0, `opts.maxEntries must be an integer >= 1 (or Infinity), got ${describe(maxEntries)}`);
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) throw rangeError(name0, `opts.maxBytes must be a number >= 0, got ${describe(maxBytes)}`);
  if (opts.name !== undefined && typeof opts.name !== 'string') throw typeError(name0, `opts.name must be a string, got ${describe(opts.name)}`);
  const name = opts.name ?? (fn.name ? `memoize(${fn.name})` : `memoize-${++memoCount}`);
  const entries = new Map<number, Entry>(); // insertion order = recency (oldest first)
  const c = { hits: 0, misses: 0, evictions: 0, bytes: 0 };

  const drop = (key: number, e: Entry) => {
    entries.delete(key);
    c.bytes -= e.bytes;
  };
  const trim = () => {
    while (entries.size > maxEntries || c.bytes > maxBytes) {
      const [key, e] = entries.entries().next().value as [number, Entry];
      drop(key, e);
      c.evictions++;
    }
  };

  const memo = ((input: Tensor): R => {
    checkTensor(name, 'input', input);
    const key = hashTensor(input);
    const e = entries.get(key);
    if (e !== undefined && e.dtype === input.dtype && sameShape(e.shape, input.shape) && e.input.equals(bytesView(input))) {
      c.hits++;
      entries.delete(key); // move to the most recent end
      entries.set(key, e);
      return e.value as R;
    }
    c.misses++;
    const result = fn(input);
    const inBytes = input.data.byteLength;
    if (inBytes > maxBytes) return result;
    const entry: Entry = { dtype: input.dtype, shape: input.shape.slice(), input: Buffer.from(bytesView(input)), value: result, bytes: inBytes };
    const old = entries.get(key);
    if (old !== undefined) drop(key, old); // a hash collision, or a result that replaces a stale one
    if (result instanceof Promise) {
      const shared = result.then(
        (v) => {
          const k = compact(v);
          if (entries.get(key) === entry) {
            entry.value = Promise.resolve(k.value);
            entry.bytes += k.bytes;
            c.bytes += k.bytes;
            trim();
          }
          return v;
        },
        (err) => {
          if (entries.get(key) === entry) drop(key, entry);
          throw err;
        },
      );
      entry.value = shared;
      entries.set(key, entry);
      c.bytes += inBytes;
      trim();
      return shared as R;
    }
    const k = compact(result);
    entry.value = k.value;
    entry.bytes += k.bytes;
    entries.set(key, entry);
    c.bytes += entry.bytes;
    trim();
    return result;
  }) as Memoized<R>;

  memo.stats = () => ({ name, kind: 'memoize', hits: c.hits, misses: c.misses, evictions: c.evictions, entries: entries.size, bytes: c.bytes });
  memo.resetStats = () => {
    c.hits = c.misses = c.evictions = 0;
  };
  memo.clear = () => {
    entries.clear();
    c.bytes = 0;
  };
  registerCache(memo); // held weakly: a memoized function nobody references drops out of stats()
  return memo;
}
