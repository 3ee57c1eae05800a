/**
 * Data sets for training: the embedded UCI digits, a CSV reader for a user's own data (numeric features plus a
 * label column), stratified seeded splits and per-feature standardisation statistics. Loading parses text once;
 * nothing here runs in a training or inference hot path.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, rangeError, typeError, options } from '../errors.js';
import { Tensor } from '../tensor.js';
import { checkDataset, Dataset, gatherRows, permutation } from './train.js';
import { checkOpts, filePath, finiteNumber, nonNegativeInt } from './check.js';
import { f32 } from './kernels.js';
import { findRoot } from '../native.js';

/** A data set with its class names (index = label). */
export interface LabeledData extends Dataset {
  x: Tensor<'float32'>;
  /** Class name of each label value. */
  classes: string[];
}

/** The package root (the folder of simdtensor's package.json), from src/ or dist/src/. */
export function packageRoot(): string {
  return findRoot(dirname(fileURLToPath(import.meta.url)));
}

/** Options of {@link parseCsv} and {@link loadCsv}. */
export interface CsvOptions {
  /** The label column: an index (negative counts from the end), a header name, or 'last' (default) / 'first'. */
  label?: number | string;
  /** Whether the first line is a header (default 'auto': yes when it has a non-numeric feature cell). */
  header?: boolean | 'auto';
  /** Field separator (default: ',' or, if the first line has none, ';' or a tab). */
  delimiter?: string;
  /** Multiply every feature by this (default 1). */
  scale?: number;
}

/**
 * Parses CSV text: numeric feature columns and one label column (numbers or names; names are numbered in sorted
 * order). Blank lines are skipped; a row with a different number of fields, or a non-numeric feature, is an error
 * naming the line.
 */
export function parseCsv(text: string, opts: CsvOptions = {}, where = 'csv'): LabeledData {
  const fn = 'parseCsv';
  if (typeof text !== 'string') throw typeError(fn, `text must be a string, got ${describe(text)}`);
  opts = checkOpts<CsvOptions>(fn, opts);
  if (typeof where !== 'string') throw typeError(fn, `where must be a string, got ${describe(where)}`);
  if (opts.delimiter !== undefined && (typeof opts.delimiter !== 'string' || opts.delimiter === ''))
    throw typeError(fn, `opts.delimiter must be a non-empty string, got ${describe(opts.delimiter)}`);
  if (opts.header !== undefined && opts.header !== true && opts.header !== false && opts.header !== 'auto')
    throw typeError(fn, `opts.header must be true, false or 'auto', got ${describe(opts.header)}`);
  finiteNumber(fn, 'opts.scale', opts.scale, -Number.MAX_VALUE, Number.MAX_VALUE, 1);
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const delim = opts.delimiter ?? (first.includes(',') ? ',' : first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',');
  const rows: { cells: string[]; line: number }[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') rows.push({ cells: l.split(delim).map((c) => c.trim()), line: i + 1 });
  });
  if (rows.length === 0) throw rangeError(fn, `${where}: no data rows`);
  const ncol = rows[0].cells.length;
  if (ncol < 2) throw rangeError(fn, `${where}: line ${rows[0].line} has ${ncol} field; need features and a label (delimiter '${delim}')`);
  const numeric = (c: string) => c !== '' && Number.isFinite(Number(c));
  const labelOpt = opts.label ?? 'last';
  let header: string[] | null = null;
  const hdr = opts.header ?? 'auto';
  if (hdr === true || (hdr === 'auto' && rows[0].cells.some((c, i) => !numeric(c) && i !== resolveLabel(labelOpt, ncol, null, where)))) {
    header = rows.shift()!.cells;
  }
  const labelCol = resolveLabel(labelOpt, ncol, header, where);
  if (labelCol < 0) throw rangeError(fn, `${where}: label column '${labelOpt}' is a name, but the file has no header`);
  const n = rows.length;
  if (n === 0) throw rangeError(fn, `${where}: a header but no data rows`);
  const f = ncol - 1;
  const scale = opts.scale ?? 1;
  const x = new Float32Array(n * f);
  const raw: string[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const { cells, line } = rows[r];
    if (cells.length !== ncol) throw rangeError(fn, `${where}: line ${line} has ${cells.length} fields, the first row has ${ncol}`);
    let k = 0;
    for (let c = 0; c < ncol; c++) {
      if (c === labelCol) continue;
      const v = Number(cells[c]);
      if (cells[c] === '' || !Number.isFinite(v))
        throw rangeError(fn, `${where}: line ${line}, column ${c + 1}${header ? ` (${header[c]})` : ''}: '${cells[c]}' is not a number`);
      x[r * f + k++] = v * scale;
    }
    raw[r] = cells[labelCol];
  }
  // Labels: integers 0..k−1 stay as they are; anything else is numbered in sorted order of the distinct values.
  const distinct = [...new Set(raw)];
  const ints = distinct.every((s) => /^\d+$/.test(s));
  let classes: string[];
  if (ints && distinct.map(Number).every((v) => v < 100000)) {
    const k = Math.max(...distinct.map(Number)) + 1;
    classes = Array.from({ length: k }, (_, i) => String(i));
  } else {
    classes = distinct.sort((a, b) => (numeric(a) && numeric(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(raw, (s) => index.get(ints ? String(Number(s)) : s)!);
  if (classes.length < 2) throw rangeError(fn, `${where}: the label column has ${classes.length} class; need at least 2`);
  return { x: new Tensor(x, [n, f], 'float32', n * f), y, classes };
}

function resolveLabel(label: number | string, ncol: number, header: string[] | null, where: string): number {
  if (label === 'last') return ncol - 1;
  if (label === 'first') return 0;
  if (typeof label === 'number') {
    const i = label < 0 ? ncol + label : label;
    if (!Number.isInteger(i) || i < 0 || i >= ncol) throw rangeError('parseCsv', `${where}: label column ${label} is outside the ${ncol} columns`);
    return i;
  }
  if (typeof label === 'string') {
    if (!header) return -1; // decided once the header is known
    const i = header.indexOf(label);
    if (i < 0) throw rangeError('parseCsv', `${where}: no column named '${label}' (header: ${header.join(', ')})`);
    return i;
  }
  throw typeError('parseCsv', `label must be a column index, a header name, 'first' or 'last', got ${describe(label)}`);
}

/** Reads a CSV file (optionally .gz) with {@link parseCsv}. */
export function loadCsv(path: string, opts: CsvOptions | null = {}): LabeledData {
  filePath('loadCsv', 'path', path);
  opts = options('loadCsv', opts);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw rangeError('loadCsv', `cannot read ${path}: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = path.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  } catch (e) {
    throw rangeError('loadCsv', `cannot decompress ${path}: ${(e as Error).message}`);
  }
  return parseCsv(text, opts, path);
}

/** The UCI handwritten digits shipped in data/ (1797 × 64 pixels scaled to [0, 1], labels 0..9). */
export function loadDigits(): LabeledData {
  const path = join(packageRoot(), 'data', 'digits.csv.gz');
  const d = loadCsv(path, { header: false, label: 'last', scale: 1 / 16 });
  if (d.x.shape[0] !== 1797 || d.x.shape[1] !== 64 || d.classes.length !== 10)
    throw rangeError('loadDigits', `${path} has shape [${d.x.shape.join(', ')}] and ${d.classes.length} classes, expected [1797, 64] and 10`);
  return d;
}

/** The rows `idx` of a data set, copied. */
export function subset<D extends Dataset>(data: D, idx: Int32Array): D {
  const { n, f } = checkDataset('subset', 'data', data);
  if (!(idx instanceof Int32Array)) throw typeError('subset', `idx must be an Int32Array of row indices, got ${describe(idx)}`);
  for (let i = 0; i < idx.length; i++)
    if (idx[i] < 0 || idx[i] >= n) throw rangeError('subset', `idx[${i}] (${idx[i]}) is outside the ${n} rows of data`);
  const x = new Float32Array(idx.length * f);
  gatherRows(data.x.data as Float32Array, f, idx, x);
  const y = Int32Array.from(idx, (i) => data.y[i]);
  return { ...data, x: new Tensor(x, [idx.length, f], 'float32', x.length), y };
}

/**
 * A stratified split: each class's rows are shuffled with `seed` and `fraction` of them (rounded) go to the second
 * part. Returns the row indices of both parts, each in ascending order.
 */
export function stratifiedSplit(labels: Int32Array, fraction: number, seed = 0): [Int32Array, Int32Array] {
  if (!(labels instanceof Int32Array)) throw typeError('stratifiedSplit', `labels must be an Int32Array, got ${describe(labels)}`);
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw rangeError('stratifiedSplit', `fraction must be in (0, 1), got ${describe(fraction)}`);
  nonNegativeInt('stratifiedSplit', 'seed', seed);
  if (seed > 2 ** 40) throw rangeError('stratifiedSplit', `seed must be at most 2^40, got ${seed}`);
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    const l = byClass.get(c) ?? [];
    l.push(i);
    byClass.set(c, l);
  });
  const a: number[] = [];
  const b: number[] = [];
  [...byClass.keys()].sort((u, v) => u - v).forEach((c) => {
    const rows = byClass.get(c)!;
    const p = permutation(rows.length, seed * 131 + c);
    const k = Math.round(rows.length * fraction);
    p.forEach((j, i) => (i < k ? b : a).push(rows[j]));
  });
  return [Int32Array.from(a.sort((u, v) => u - v)), Int32Array.from(b.sort((u, v) => u - v))];
}

/** Per-feature mean and 1/std of `x` (a constant feature gets 1/std = 1), for a {@link Normalize} layer. */
export function featureStats(x: Tensor): { mean: Tensor<'float32'>; invStd: Tensor<'float32'> } {
  if (!(x instanceof Tensor)) throw typeError('featureStats', `x must be a float32 Tensor [rows, features], got ${describe(x)}`);
  const X = f32('featureStats', 'x', x);
  if (X.ndim !== 2) throw rangeError('featureStats', `x must be 2-D [rows, features], got [${X.shape.join(', ')}]`);
  const [n, f] = X.shape;
  if (!(Number.isInteger(n) && Number.isInteger(f) && n >= 0 && f >= 0 && n * f === X.size))
    throw rangeError('featureStats', `x has shape [${X.shape.join(', ')}] but ${X.size} elements (was its shape changed?)`);
  if (n === 0) throw rangeError('featureStats', 'x has no rows');
  const d = x.data as Float32Array;
  const mean = new Float64Array(f);
  const sq = new Float64Array(f);
  for (let r = 0; r < n; r++) for (let c = 0; c < f; c++) mean[c] += d[r * f + c];
  for (let c = 0; c < f; c++) mean[c] /= n;
  for (let r = 0; r < n; r++) for (let c = 0; c < f; c++) sq[c] += (d[r * f + c] - mean[c]) ** 2;
  const inv = Float32Array.from(sq, (s) => (s / n > 1e-12 ? 1 / Math.sqrt(s / n) : 1));
  return { mean: new Tensor(Float32Array.from(mean), [f], 'float32', f), invStd: new Tensor(inv, [f], 'float32', f) };
}
