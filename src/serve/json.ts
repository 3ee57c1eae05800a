/**
 * A fast path for parsing v2 inference request bodies straight from their bytes: the same values as
 * `JSON.parse(bytes.toString('utf8'))`, except that a `"data"` member holding a flat array of numbers comes back
 * as a Float64Array of the same numbers (no JS array of boxed values, no intermediate string). Anything outside
 * the plain cases (escapes or non-ASCII bytes in strings, deep nesting, a `__proto__` key, invalid JSON) returns
 * {@link BAIL}, and the caller falls back to `JSON.parse`, which gives the usual error messages.
 * @module
 */

/** Returned when the fast path does not apply; parse with JSON.parse instead. */
export const BAIL: unique symbol = Symbol('bail');

/** Powers of ten exactly representable as doubles (Clinger's fast path: m / 10^k is correctly rounded). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_DEPTH = 64;
/** Scratch for numeric arrays (parsing is synchronous), grown as needed; each array is copied out at its length. */
let nums = new Float64Array(1024);
const SCRATCH_KEEP = 1 << 16;

/** Elements the last successful {@link scanNumbers} wrote to `nums`. */
let count = 0;

/**
 * The hot loop, on locals: `b[i]` is '['; reads a flat array of JSON numbers into `nums` (`count` of them) and
 * returns the index after ']', or -1 for anything else (another element type, a syntax error), which the generic
 * parser then handles. Short decimals (≤ 15 digits, no exponent) are m / 10^k, exact; the rest go through Number().
 */
function scanNumbers(b: Uint8Array, i: number): number {
  let n = 0;
  let c = b[++i];
  while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
  if (c === 93) {
    count = 0;
    return i + 1;
  }
  let out = nums;
  for (;;) {
    const start = i;
    let neg = false;
    if (c === 45) {
      neg = true;
      c = b[++i];
    }
    let m = 0;
    let digits = 0;
    if (c === 48) {
      c = b[++i];
      digits = 1;
    } else if (c >= 49 && c <= 57) {
      do {
        m = m * 10 + (c - 48);
        digits++;
        c = b[++i];
      } while (c >= 48 && c <= 57);
    } else return -1;
    let scale = 0;
    if (c === 46) {
      c = b[++i];
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        scale++;
        c = b[++i];
      }
      if (scale === 0) return -1;
    }
    let v: number;
    if (c === 101 || c === 69) {
      // An exponent: checked here, converted by Number() (which agrees with JSON.parse on JSON's number syntax).
      c = b[++i];
      if (c === 43 || c === 45) c = b[++i];
      if (!(c >= 48 && c <= 57)) return -1;
      do c = b[++i];
      while (c >= 48 && c <= 57);
      v = Number(ascii(b, start, i));
    } else if (digits + scale > 15) v = Number(ascii(b, start, i));
    else {
      v = scale ? m / POW10[scale] : m;
      if (neg) v = -v;
    }
    if (n === out.length) {
      const g = new Float64Array(n * 2);
      g.set(out);
      nums = out = g;
    }
    out[n++] = v;
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
    if (c === 44) {
      c = b[++i];
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
      continue;
    }
    if (c === 93) {
      count = n;
      return i + 1;
    }
    return -1;
  }
}

/**
 * Short strings (keys, names, datatypes) come from a small cache keyed by their bytes, so the same string object
 * (internalized once, the first time it is used as a key) is returned every time: a string freshly built from
 * bytes is a new, non-internalized string on every request, and property lookups with it cost several µs per
 * request. Direct-mapped, 256 slots, verified byte for byte; seeded with the protocol's words.
 */
const CACHE_SLOTS = 256;
const cacheBytes: (Uint8Array | null)[] = new Array(CACHE_SLOTS).fill(null);
const cacheStrings: string[] = new Array(CACHE_SLOTS).fill('');

/** The slot of a string: from its length and its first, middle and last bytes (the full compare follows). */
function slot(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return 0;
  let h = Math.imul(n, 0x9e3779b1) ^ Math.imul(b[start], 0x85ebca6b) ^ Math.imul(b[end - 1], 0xc2b2ae35) ^ Math.imul(b[start + (n >> 1)], 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) & (CACHE_SLOTS - 1);
}

/** ASCII bytes [start, end) as a fresh string (numbers: not worth caching). */
function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(b[k]);
  return s;
}

/** ASCII bytes [start, end) as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len > 32) return Buffer.from(b.buffer, b.byteOffset + start, len).toString('latin1');
  const i = slot(b, start, end);
  const cb = cacheBytes[i];
  if (cb !== null && cb.length === len) {
    let k = 0;
    while (k < len && cb[k] === b[start + k]) k++;
    if (k === len) return cacheStrings[i];
  }
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(b[k]);
  cacheBytes[i] = b.slice(start, end);
  cacheStrings[i] = s;
  return s;
}

for (const w of ['inputs', 'outputs', 'name', 'shape', 'datatype', 'data', 'parameters', 'binary_data_size', 'binary_data', 'binary_data_output', 'id', 'timeout', 'FP32', 'FP64', 'INT8', 'UINT8', 'INT32', 'INT64', 'BOOL']) {
  const b = Buffer.from(w, 'latin1');
  const i = slot(b, 0, b.length);
  cacheBytes[i] = b;
  cacheStrings[i] = w;
}

/** A failed parse: thrown inside, turned into BAIL at the top. */
class Bail {}
const bail = new Bail();

class Parser {
  i = 0;
  constructor(readonly b: Uint8Array) {}

  ws(): number {
    const b = this.b;
    let c = b[this.i];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++this.i];
    return c;
  }

  value(depth: number, isData: boolean): unknown {
    const c = this.ws();
    if (c === 123) return this.object(depth + 1);
    if (c === 91) {
      if (isData) {
        const start = this.i;
        const t = this.numArray();
        if (t) return t;
        this.i = start; // not a flat array of numbers: parse it as ordinary JSON
      }
      return this.array(depth + 1);
    }
    if (c === 34) return this.string();
    if (c === 45 || (c >= 48 && c <= 57)) {
      const v = this.number();
      if (v !== v) throw bail;
      return v;
    }
    if (c === 116) return this.word('true', true);
    if (c === 102) return this.word('false', false);
    if (c === 110) return this.word('null', null);
    throw bail;
  }

  word(w: string, v: unknown): unknown {
    const b = this.b;
    for (let k = 0; k < w.length; k++) if (b[this.i + k] !== w.charCodeAt(k)) throw bail;
    this.i += w.length;
    return v;
  }

  /** A string without escapes or non-ASCII bytes (others bail). */
  string(): string {
    const b = this.b;
    const start = ++this.i;
    let c = b[this.i];
    while (c !== 34) {
      if (c === undefined || c === 92 || c < 32 || c > 126) throw bail;
      c = b[++this.i];
    }
    const end = this.i++;
    return latin1(b, start, end);
  }

  /**
   * A JSON number at `i`; NaN when the bytes are not one. Short decimals (≤ 15 digits, no exponent) are converted
   * exactly as m / 10^k; the rest go through Number() on the validated text, which agrees with JSON.parse.
   */
  number(): number {
    const b = this.b;
    const start = this.i;
    let c = b[this.i];
    let neg = false;
    if (c === 45) {
      neg = true;
      c = b[++this.i];
    }
    let m = 0;
    let digits = 0;
    if (c === 48) {
      c = b[++this.i];
      digits = 1;
    } else if (c >= 49 && c <= 57) {
      do {
        m = m * 10 + (c - 48);
        digits++;
        c = b[++this.i];
      } while (c >= 48 && c <= 57);
    } else return NaN;
    let scale = 0;
    if (c === 46) {
      c = b[++this.i];
      const f0 = this.i;
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        c = b[++this.i];
      }
      scale = this.i - f0;
      if (scale === 0) return NaN;
      digits += scale;
    }
    if (c === 101 || c === 69) {
      c = b[++this.i];
      if (c === 43 || c === 45) c = b[++this.i];
      if (!(c >= 48 && c <= 57)) return NaN;
      do c = b[++this.i];
      while (c >= 48 && c <= 57);
      return Number(ascii(b, start, this.i));
    }
    if (digits > 15) return Number(ascii(b, start, this.i));
    const v = scale ? m / POW10[scale] : m;
    return neg ? -v : v;
  }

  /** `[n, n, ...]` of numbers only → a Float64Array; null for anything else (the caller re-parses). */
  numArray(): Float64Array | null {
    const end = scanNumbers(this.b, this.i);
    if (end < 0) return null;
    this.i = end;
    return nums.slice(0, count);
  }

  array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) throw bail;
    this.i++;
    const out: unknown[] = [];
    let c = this.ws();
    if (c === 93) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth, false));
      c = this.ws();
      if (c === 44) {
        this.i++;
        continue;
      }
      if (c === 93) {
        this.i++;
        return out;
      }
      throw bail;
    }
  }

  object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw bail;
    this.i++;
    const out: Record<string, unknown> = {};
    let c = this.ws();
    if (c === 125) {
      this.i++;
      return out;
    }
    for (;;) {
      if (c !== 34) throw bail;
      const k = this.string();
      // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
      if (k === '__proto__') throw bail;
      if (this.ws() !== 58) throw bail;
      this.i++;
      out[k] = this.value(depth, k === 'data');
      c = this.ws();
      if (c === 44) {
        this.i++;
        c = this.ws();
        continue;
      }
      if (c === 125) {
        this.i++;
        return out;
      }
      throw bail;
    }
  }
}

/**
 * Parses `bytes` (UTF-8 JSON) like JSON.parse, with `"data"` members that are flat number arrays returned as
 * Float64Arrays; {@link BAIL} when the fast path does not apply or the bytes are not valid JSON.
 */
export function parseRequestJson(bytes: Uint8Array): unknown {
  const p = new Parser(bytes);
  try {
    const v = p.value(0, false);
    if (p.ws() !== undefined) return BAIL; // trailing bytes
    return v;
  } catch (e) {
    if (e === bail) return BAIL;
    throw e;
  } finally {
    // A huge request grew the scratch: do not keep it (at most 512 KiB stays between requests).
    if (nums.length > SCRATCH_KEEP) nums = new Float64Array(1024);
  }
}
