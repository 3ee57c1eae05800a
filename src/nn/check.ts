/**
 * Argument checks shared by the nn module (options objects, sizes, counts, numbers, file paths), all through the
 * one error maker so a wrong type is a TypeError and a wrong value a RangeError naming the argument.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { MAX_ELEMENTS } from '../tensor.js';

/** An options argument: undefined/null mean none (returns {}); anything but a plain object is a TypeError. */
export function checkOpts<T extends object>(fn: string, opts: unknown, arg = 'opts'): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw typeError(fn, `${arg} must be an object, got ${describe(opts)}`);
  return opts as Partial<T>;
}

/** A count such as a batch size or a number of rounds: a positive safe integer (`def` when undefined). */
export function positiveInt(fn: string, arg: string, v: unknown, def?: number): number {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number') throw typeError(fn, `${arg} must be a positive integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v < 1) throw rangeError(fn, `${arg} must be a positive integer, got ${describe(v)}`);
  return v;
}

/** A non-negative safe integer such as a seed or an epoch count (`def` when undefined). */
export function nonNegativeInt(fn: string, arg: string, v: unknown, def?: number): number {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number') throw typeError(fn, `${arg} must be an integer >= 0, got ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v < 0) throw rangeError(fn, `${arg} must be an integer >= 0, got ${describe(v)}`);
  return v;
}

/** A finite number in [min, max] (`def` when undefined). */
export function finiteNumber(fn: string, arg: string, v: unknown, min: number, max: number, def?: number): number {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number') throw typeError(fn, `${arg} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < min || v > max) throw rangeError(fn, `${arg} must be a finite number in [${min}, ${max}], got ${describe(v)}`);
  return v;
}

/** A layer size: a positive integer, and `count` such sizes multiplied (a weight matrix) within MAX_ELEMENTS. */
export function layerSize(fn: string, arg: string, v: unknown): number {
  const n = positiveInt(fn, arg, v);
  if (n > MAX_ELEMENTS) throw rangeError(fn, `${arg} (${n}) is more than ${MAX_ELEMENTS} (MAX_ELEMENTS)`);
  return n;
}

/** A file path: a non-empty string (a number would be taken by node:fs as a file descriptor). */
export function filePath(fn: string, arg: string, v: unknown): string {
  if (typeof v !== 'string') throw typeError(fn, `${arg} must be a file path (string), got ${describe(v)}`);
  if (v === '' || v.includes('\0')) throw rangeError(fn, `${arg} must be a non-empty path without NUL characters, got ${describe(v)}`);
  return v;
}
