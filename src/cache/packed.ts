/**
 * Packed weights made once per weight and reused: a cache keyed by the weight's identity (a WeakMap), so the
 * packed panels live exactly as long as the weight object does.
 * @module
 */
import { describe, typeError, options } from '../errors.js';
import { linear, packWeights, PackedWeights, PackOptions, type Weights } from '../ops/matmul.js';
import { registerLinear } from '../ops/registry.js';
import { linearAsync, registerAsyncLinear } from '../executor/index.js';
import { Tensor } from '../tensor.js';
import { registerCache, CacheStats } from '../monitor/sources.js';

/** Per weight: packing options key → packed handle; and what it holds, for the statistics. */
interface Slot {
  packs: Map<string, unknown>;
  held: { entries: number; bytes: number };
}

const cache = new WeakMap<object, Slot>();
const counters = { hits: 0, misses: 0, entries: 0, bytes: 0 };
// When a weight is garbage collected its WeakMap slot goes too; this keeps the entry and byte gauges honest.
const finalizer = new FinalizationRegistry<{ entries: number; bytes: number }>((held) => {
  counters.entries -= held.entries;
  counters.bytes -= held.bytes;
});

function optsKey(opts: PackOptions): string {
  let key = opts.layout === undefined ? 'layout=linear;' : ''; // packWeights' default, so {} and { layout: 'linear' } share
  const entries: Record<string, unknown> = { ...opts };
  for (const k of Object.keys(entries).sort()) {
    const v = entries[k];
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object')
      throw typeError('getPacked', `opts.${k} is ${describe(v)}; only primitive options can key the cache (call packWeights directly)`);
    key += `${k}=${String(v)};`;
  }
  return key;
}

function packedBytes(p: unknown): number {
  const b = (p as { bytes?: unknown } | null)?.bytes;
  return typeof b === 'number' && Number.isFinite(b) ? b : 0;
}

/**
 * `packWeights(w, opts)`, made once per weight object and options and then reused. Keyed by identity: the
 * packed handle is released when `w` is garbage collected, or by {@link releasePacked}. Works for every weight
 * type `packWeights` accepts (f32 tensors here; int8, half precision and sparse weights through their modules).
 *
 * The cache assumes the weight is not modified in place after packing; if it is (e.g. by training), call
 * {@link releasePacked} so the next call packs the new values.
 */
export function getPacked(w: object, opts: PackOptions | null = {}): PackedWeights | unknown {
  opts = options('getPacked', opts);
  if (w === null || (typeof w !== 'object' && typeof w !== 'function'))
    throw typeError('getPacked', `w must be a weight (a Tensor or a family's weight object), got ${describe(w)}`);
  if (opts === null || typeof opts !== 'object') throw typeError('getPacked', `opts must be an object, got ${describe(opts)}`);
  const key = optsKey(opts);
  let slot = cache.get(w);
  const hit = slot?.packs.get(key);
  if (hit !== undefined) {
    counters.hits++;
    return hit;
  }
  const packed = packWeights(w as Tensor, opts); // throws for a weight it cannot pack; nothing is cached then
  counters.misses++;
  if (!slot) {
    slot = { packs: new Map(), held: { entries: 0, bytes: 0 } };
    cache.set(w, slot);
    finalizer.register(w, slot.held, slot);
  }
  slot.packs.set(key, packed);
  const bytes = packedBytes(packed);
  slot.held.entries++;
  slot.held.bytes += bytes;
  counters.entries++;
  counters.bytes += bytes;
  return packed;
}

/**
 * Drops the packed handles cached for `w` (all option variants); they are freed once nothing else references
 * them. Returns true if anything was cached. Call it after changing a weight in place.
 */
export function releasePacked(w: object): boolean {
  if (w === null || (typeof w !== 'object' && typeof w !== 'function')) return false;
  const slot = cache.get(w);
  if (!slot) return false;
  cache.delete(w);
  finalizer.unregister(slot);
  counters.entries -= slot.held.entries;
  counters.bytes -= slot.held.bytes;
  return true;
}

let autoPack = false;

/**
 * Opts `linear(x, w, bias)` and `linearAsync(x, w, bias)` with a plain float32 weight tensor `w` into the
 * packed-weights cache: the first call packs `w`, later calls reuse the panels (the f32 path otherwise packs B on every call). Off by default, because
 * a weight changed in place would keep its stale packing until {@link releasePacked}. Returns the previous
 * setting.
 */
export function setAutoPack(on: boolean): boolean {
  if (typeof on !== 'boolean') throw typeError('setAutoPack', `on must be a boolean, got ${describe(on)}`);
  const prev = autoPack;
  autoPack = on;
  return prev;
}

const autoPackMatch = (w: unknown, x: unknown) =>
  autoPack && w instanceof Tensor && w.dtype === 'float32' && w.ndim === 2 && x instanceof Tensor && x.dtype === 'float32';
registerLinear({ name: 'packed-cache', match: autoPackMatch, run: (x, w, bias, opts) => linear(x, getPacked(w as Tensor) as Weights, bias, opts) as Tensor });
registerAsyncLinear({ name: 'packed-cache', match: autoPackMatch, run: (x, w, bias, opts) => linearAsync(x, getPacked(w as Tensor) as Weights, bias, opts) });

/** The packed-weights cache as a statistics source. */
const source = {
  stats(): CacheStats {
    return { name: 'packed', kind: 'packed', hits: counters.hits, misses: counters.misses, evictions: 0, entries: counters.entries, bytes: counters.bytes };
  },
  resetStats(): void {
    counters.hits = counters.misses = 0;
  },
};
registerCache(source);

/** Hits, misses, live entries and bytes of the packed-weights cache (entries drop as weights are collected). */
export function packedCacheStats(): CacheStats {
  return source.stats();
}
