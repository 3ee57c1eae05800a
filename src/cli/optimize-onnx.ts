/**
 * `simdtensor optimize model.onnx [options]`: the ONNX form of the optimize command (the argument being a .onnx
 * file selects it; without one the MLP-on-CSV pipeline runs as before).
 * @module
 */
import { parseArgs as parseArgsUtil, type ParseArgsConfig } from 'node:util';
import { FLAG, HELP_FLAG, STR } from './options.js';
import { formatOnnxReport, onnxStageRows, optimizeOnnx, readInputs, readSamples, type OnnxOptimizeOptions } from '../onnx/transform/pipeline.js';
import { EditModel, type Msg } from '../onnx/transform/proto.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Tensor } from '../tensor.js';

export const ONNX_HELP = `Usage: simdtensor optimize MODEL.onnx [options]

Optimizes an ONNX model and writes it back as ONNX: pruning, int8 quantization (onnxruntime's standard operators),
half-precision weights, applied in that order. Reports per stage the file size, latency (batch 1 and 8, one
thread) in simdtensor and onnxruntime-node, and the output drift against the original (max/mean abs error,
cosine, top-1 agreement). Writes MODEL.optimized.onnx, report.md and report.json to the output folder.

Options:
  --distill HIDDEN      first distil the model into a smaller MLP student with these hidden sizes (e.g. 32 or
                        64,32), trained on --data; the later stages then apply to the student
  --data FILE           rows to distil on: .csv or .csv.gz of numbers (a non-numeric first line is a header);
                        as many columns as the model's input has values a row (unlabeled: the teacher's soft
                        targets only) or one more, the last being the class index (labeled)
  --distill-epochs N    distillation epochs (default 30)
  --int8 MODE           'dynamic' (weights int8 per channel, activations at run time) or 'static' (QDQ)
  --calib FILE|DIR      calibration inputs for --int8 static (.json array of feeds, .npy/.csv batch for a one-input
                        model, or a folder of such files; default 8 random inputs)
  --rounding-samples FILE|DIR
                        round the int8 weights against the activations of these inputs (GPTQ-style: same scales
                        and operators, smaller output error on inputs like them); same formats as --calib
  --calib-method M      minmax, percentile (default) or mse
  --weight-type T       int8 (default) or uint8
  --conv FORM           dynamic int8 Conv: integer (ConvInteger, default), weight-only (int8 weights, f32 Conv)
                        or auto (integer, but weight-only where simdtensor's f32 conv is faster: K < 32 or
                        <= 64 input pixels)
  --prune X             magnitude-prune MatMul/Gemm/Conv weights to sparsity X
  --pattern P           unstructured (default), 2:4 (or any N:M; no --prune needed), block or 4x4-style blocks
  --scope S             layer (default) or global
  --fp16, --bf16        store the remaining float32 weights as float16 / bfloat16 (compute stays float32)
  --input FILE          comparison inputs (.json { name: { data, dims } }, .npy or .csv for one input);
                        default: random inputs of the model's shapes
  --dims NAME=V,...     values for symbolic input dims of random inputs (default batch 1/8, else 32 or 64)
  --out DIR             output folder (default simdtensor-optimize)
  --no-save             write nothing
  --no-latency          skip the latency measurements
  --json                print the JSON report instead of the table
  -h, --help            this text
`;

const OPTIONS = {
  distill: STR, data: STR, 'distill-epochs': STR,
  int8: STR, calib: STR, 'calib-method': STR, 'rounding-samples': STR, 'weight-type': STR, conv: STR,
  prune: STR, pattern: STR, scope: STR, fp16: FLAG, bf16: FLAG,
  input: STR, dims: STR, out: STR, 'no-save': FLAG, 'no-latency': FLAG, json: FLAG, help: HELP_FLAG,
} as const satisfies ParseArgsConfig['options'];

/** Arguments → pipeline options (RangeError naming the bad argument). */
export function parseOnnxArgs(argv: string[]): { opts: OnnxOptimizeOptions; json: boolean; help: boolean } {
  let parsed: ReturnType<typeof parseArgsUtil>;
  try {
    parsed = parseArgsUtil({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    throw new RangeError((e as Error).message.replace(/\. To specify a positional.*$/s, '') + ' (see --help)');
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return { opts: { model: '' }, json: false, help: true };
  const pos = parsed.positionals;
  if (pos.length !== 1) throw new RangeError(`expected one model file, got ${pos.length ? pos.map((p) => `'${p}'`).join(', ') : 'none'}`);
  const opts: OnnxOptimizeOptions = { model: pos[0] };
  const oneOf = (flag: string, val: string, allowed: string[]) => {
    if (!allowed.includes(val)) throw new RangeError(`--${flag} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got '${val}'`);
    return val;
  };
  if (v.int8 !== undefined) opts.int8 = oneOf('int8', v.int8 as string, ['dynamic', 'static']) as 'dynamic' | 'static';
  if (v['weight-type'] !== undefined) opts.weightType = oneOf('weight-type', v['weight-type'] as string, ['int8', 'uint8']) as 'int8' | 'uint8';
  if (v['calib-method'] !== undefined) opts.calibrationMethod = oneOf('calib-method', v['calib-method'] as string, ['minmax', 'percentile', 'mse']) as 'minmax';
  if (v.conv !== undefined) opts.convForm = oneOf('conv', v.conv as string, ['integer', 'weight-only', 'auto']) as 'integer' | 'weight-only' | 'auto';
  if (v.scope !== undefined) opts.scope = oneOf('scope', v.scope as string, ['layer', 'global']) as 'layer' | 'global';
  if (v.prune !== undefined) {
    const x = Number(v.prune);
    if ((v.prune as string).trim() === '' || !(x >= 0 && x < 1)) throw new RangeError(`--prune needs a sparsity in [0, 1), got '${v.prune}'`);
    opts.prune = x;
  }
  if (v.pattern !== undefined) opts.pattern = v.pattern as string;
  if (v.fp16 && v.bf16) throw new RangeError('--fp16 and --bf16 contradict each other');
  if (v.fp16) opts.half = 'float16';
  if (v.bf16) opts.half = 'bfloat16';
  if (v.dims !== undefined) {
    opts.dims = {};
    for (const kv of (v.dims as string).split(',')) {
      const m = /^\s*([^=]+)=(\d+)\s*$/.exec(kv);
      if (!m) throw new RangeError(`--dims: '${kv}' is not NAME=VALUE`);
      opts.dims[m[1]] = Number(m[2]);
    }
  }
  if (v['no-save'] && v.out !== undefined) throw new RangeError('--out and --no-save contradict each other');
  if (v.out !== undefined) opts.outDir = v.out as string;
  if (v['no-save']) opts.outDir = null;
  if (v['no-latency']) opts.noLatency = true;
  if (v.calib !== undefined) (opts as { calibFile?: string }).calibFile = v.calib as string;
  if (v['rounding-samples'] !== undefined) {
    if (v.int8 === undefined) throw new RangeError('--rounding-samples is for --int8 dynamic|static');
    (opts as { roundingFile?: string }).roundingFile = v['rounding-samples'] as string;
  }
  if (v.input !== undefined) (opts as { inputFile?: string }).inputFile = v.input as string;
  if (v.distill !== undefined) {
    const hs = (v.distill as string).split(',').map((h) => h.trim());
    if (!hs.every((h) => /^\d+$/.test(h) && Number(h) > 0)) throw new RangeError(`--distill needs hidden sizes such as 32 or 64,32, got '${v.distill}'`);
    opts.distill = hs.map(Number);
    if (v.data === undefined) throw new RangeError('--distill needs --data FILE (rows to distil on)');
  }
  if (v.data !== undefined) {
    if (v.distill === undefined) throw new RangeError('--data is for --distill HIDDEN');
    (opts as { dataFile?: string }).dataFile = v.data as string;
  }
  if (v['distill-epochs'] !== undefined) {
    const e = Number(v['distill-epochs']);
    if (!/^\d+$/.test(v['distill-epochs'] as string) || !(e > 0)) throw new RangeError(`--distill-epochs needs a positive integer, got '${v['distill-epochs']}'`);
    if (v.distill === undefined) throw new RangeError('--distill-epochs is for --distill HIDDEN');
    opts.distillEpochs = e;
  }
  return { opts, json: !!v.json, help: false };
}

/**
 * The --data file: numeric CSV rows (optionally gzipped, optional header). Columns = the model's values per input
 * row → unlabeled; one more → the last column is the class index.
 */
export function readDistillData(file: string, graph: Msg): { x: Tensor; y?: Int32Array } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new RangeError(`cannot read --data '${file}' (${(e as Error).message})`);
  }
  if (!/\.csv(\.gz)?$/i.test(file)) throw new RangeError(`--data '${file}' must be a .csv or .csv.gz file`);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length && lines[0].split(',').some((c) => c.trim() === '' || !Number.isFinite(Number(c)))) lines.shift();
  if (!lines.length) throw new RangeError(`--data '${file}' has no rows`);
  const cols = lines[0].split(',').length;
  const inits = new Set(((graph.initializer as Msg[]) ?? []).map((t) => t.name));
  const input = ((graph.input as Msg[]) ?? []).find((i) => !inits.has(i.name));
  const dims = ((input?.type?.tensorType?.shape?.dim as Msg[]) ?? []).slice(1).map((d) => Number(d.dimValue ?? 0));
  const feats = dims.length && dims.every((d) => d > 0) ? dims.reduce((a, b) => a * b, 1) : null;
  const labeled = feats !== null && cols === feats + 1;
  if (feats !== null && cols !== feats && !labeled) throw new RangeError(`--data '${file}' has ${cols} columns; the model's input '${input.name}' takes ${feats} values a row (give ${feats}, or ${feats + 1} with the class last)`);
  const f = labeled ? cols - 1 : cols;
  const x = new Float32Array(lines.length * f);
  const y = labeled ? new Int32Array(lines.length) : undefined;
  lines.forEach((l, r) => {
    const cells = l.split(',').map(Number);
    if (cells.length !== cols || cells.some((c) => !Number.isFinite(c))) throw new RangeError(`--data '${file}' row ${r + 1}: expected ${cols} numbers, got '${l.slice(0, 80)}'`);
    x.set(cells.slice(0, f), r * f);
    if (y) {
      const c = cells[f];
      if (!Number.isInteger(c) || c < 0) throw new RangeError(`--data '${file}' row ${r + 1}: the class (last column) must be an integer >= 0, got ${c}`);
      y[r] = c;
    }
  });
  return { x: new Tensor(x, [lines.length, f], 'float32', x.length), ...(y ? { y } : {}) };
}

/** Runs `simdtensor optimize MODEL.onnx …`; returns the exit code. */
export async function runOnnxCli(argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  let parsed: ReturnType<typeof parseOnnxArgs>;
  try {
    parsed = parseOnnxArgs(argv);
  } catch (e) {
    io.err.write(`simdtensor optimize: ${(e as Error).message}\n`);
    return 2;
  }
  if (parsed.help) {
    io.out.write(ONNX_HELP);
    return 0;
  }
  const opts = parsed.opts as OnnxOptimizeOptions & { calibFile?: string; inputFile?: string; dataFile?: string; roundingFile?: string };
  try {
    if (opts.calibFile || opts.inputFile || opts.dataFile || opts.roundingFile) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(opts.model);
      } catch (e) {
        throw new RangeError(`cannot read '${opts.model}' (${(e as Error).message})`);
      }
      const g = new EditModel({ bytes, baseDir: null }, 'optimize').graph;
      if (opts.calibFile) opts.calibration = readSamples(opts.calibFile, g);
      if (opts.roundingFile) opts.roundingSamples = readSamples(opts.roundingFile, g);
      if (opts.inputFile) opts.inputs = readInputs(opts.inputFile, g)[0];
      if (opts.dataFile) opts.distillData = readDistillData(opts.dataFile, g);
    }
    delete opts.calibFile;
    delete opts.inputFile;
    delete opts.dataFile;
    delete opts.roundingFile;
    const report = await optimizeOnnx({ ...opts, onProgress: (l) => io.err.write(`${l}\n`) });
    if (parsed.json) io.out.write(JSON.stringify(report, (_, x) => (x === Infinity ? 'Infinity' : x), 2) + '\n');
    else {
      const rows = onnxStageRows(report);
      const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
      io.out.write(`\n${[line(rows[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')}\n`);
      const md = formatOnnxReport(report);
      const extra = md.split('## Stages')[1];
      if (extra) io.out.write(extra.replace(/^\n/, ''));
      io.out.write(report.output ? `\nwrote ${report.output}, report.md, report.json (${report.seconds.toFixed(1)} s)\n` : `\n(${report.seconds.toFixed(1)} s)\n`);
    }
    return 0;
  } catch (e) {
    io.err.write(`simdtensor optimize: ${String((e as Error)?.message ?? e).replace(/^optimize: /, '')}\n`);
    return 1;
  }
}
