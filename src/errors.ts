/**
 * One error maker for the whole package: every message starts with the function name, then names the argument,
 * what was expected and what came, e.g. `matmul: a.shape[1] (63) must equal b.shape[0] (64)`.
 * @module
 */

/** A `TypeError` whose message is `${fn}: ${message}`. */
export function typeError(fn: string, message: string): TypeError {
  return new TypeError(`${text(fn)}: ${text(message)}`);
}

/** A `RangeError` whose message is `${fn}: ${message}`. */
export function rangeError(fn: string, message: string): RangeError {
  return new RangeError(`${text(fn)}: ${text(message)}`);
}

/**
 * String(v) that never throws: a Symbol, a typed array on a detached buffer (its join throws), an object whose
 * toString throws or a Proxy all become a short description, so building an error never raises another one.
 */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return String(v);
  } catch {
    try {
      return describe(v);
    } catch {
      return typeof v;
    }
  }
}

/**
 * Guard of a constructor that only the library calls (its instances come from a factory): a direct call with
 * anything but the internal handle object is a TypeError pointing at the factory, not a property read on junk.
 */
export function checkHandle(cls: string, factory: string, handle: unknown, keys: readonly string[]): void {
  const ok = handle !== null && typeof handle === 'object' && keys.every((k) => typeof (handle as Record<string, unknown>)[k] === 'number');
  if (!ok) throw typeError(cls, `instances are made by ${factory}, not by calling the constructor (got ${describeSafe(handle)})`);
}

function describeSafe(v: unknown): string {
  try {
    return describe(v);
  } catch {
    return typeof v;
  }
}

/**
 * Whether `k` names one of `table`'s own keys: a lookup table's check for a user's string option. `k in table` also
 * accepts the prototype's names ('toString', 'constructor'), and converts a non-string key (which throws for a
 * Symbol or a typed array on a detached buffer).
 */
export function ownKey<T extends object>(table: T, k: unknown): k is keyof T {
  return typeof k === 'string' && Object.prototype.hasOwnProperty.call(table, k);
}

/** Short printable description of any value, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint') return `${v}n`; // a BigInt where a number was wanted: say so (String gives '3')
  return String(v);
}

/**
 * The options object of an op: `undefined` and `null` mean "no options" (an empty object); anything else that is
 * not an object is a TypeError naming `fn`.
 */
export function options<T extends object>(fn: string, opts: T | null | undefined, arg = 'opts'): T {
  if (opts === undefined || opts === null) return {} as T;
  if (typeof opts !== 'object') throw typeError(fn, `${arg} must be an object (or null/undefined), got ${describe(opts)}`);
  return opts;
}

/**
 * Checks that `v` is an object whose members have the kinds in `spec` (`'function?'`: absent or a function), for
 * the extension points (`register*`) so a bad registration fails at once instead of breaking every later op.
 */
export function checkMembers(fn: string, arg: string, v: unknown, spec: Record<string, 'string' | 'function' | 'function?'>): void {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) throw typeError(fn, `${arg} must be an object, got ${describe(v)}`);
  for (const [key, kind] of Object.entries(spec)) {
    const m = (v as Record<string, unknown>)[key];
    if (kind === 'function?' ? m !== undefined && typeof m !== 'function' : typeof m !== kind)
      throw typeError(fn, `${arg}.${key} must be a ${kind === 'function?' ? 'function or undefined' : kind}, got ${describe(m)}`);
  }
  if (spec.name === 'string' || spec.format === 'string') {
    const key = spec.name === 'string' ? 'name' : 'format';
    if ((v as Record<string, string>)[key] === '') throw typeError(fn, `${arg}.${key} must be a non-empty string`);
  }
}
