/**
 * The one seeded random generator of the package (mulberry32), shared by `rand`, training, the benchmarks and the
 * tests, so the same seed gives the same numbers everywhere.
 * @module
 */
import { describe, rangeError, typeError } from './errors.js';

/**
 * mulberry32 over a raw 32-bit state: a small, fast generator of uniform numbers in [0, 1), good enough for test
 * data, initialisation and shuffling (not for cryptography). Use {@link rng} unless a caller needs this exact stream.
 */
export function mulberry32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of uniform numbers in [0, 1): mulberry32 with the seed spread by the golden ratio (as `rand`). */
export function rng(seed: number): () => number {
  if (typeof seed !== 'number') throw typeError('rng', `seed must be a number, got ${describe(seed)}`);
  if (!Number.isSafeInteger(seed)) throw rangeError('rng', `seed must be a safe integer, got ${describe(seed)}`);
  return mulberry32((seed * 0x9e3779b1) >>> 0);
}
