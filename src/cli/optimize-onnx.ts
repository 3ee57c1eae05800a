/**
 * `simdtensor optimize model.onnx [options]`: the ONNX form of the optimize command (the argument being a .onnx
 * file selects it; without one the MLP-on-CSV pipeline runs as before).
 * @module
 */
import { parseArgs as parseArgsUtil, type ParseArgsConfig } from 'node:util';
import { formatOnnxReport, onnxStageRows, optimizeOnnx, readInputs, type OnnxOptimizeOptions } from '../onnx/transform/pipeline.js';
import { EditModel } from '../onnx/transform/proto.js';
import { readFileSync } from 'node:fs';

export const ONNX_HELP = `Usage: simdtensor optimize MODEL.onnx [options]

Optimizes an ONNX model and writes it back as ONNX: pruning, int8 quantization (onnxruntime's standard operators),
half-precision weights, applied in that order. Reports per stage the file size, latency (batch 1 and 8, one
thread) in simdtensor and onnxruntime-node, and the output drift against the original (max/mean abs error,
cosine, top-1 agreement). Writes MODEL.optimized.onnx, report.md and report.json to the output folder.

Options:
  --int8 MODE           'dynamic' (weights int8 per channel, activations at run time) or 'static' (QDQ)
  --calib FILE          calibration inputs for --int8 static (.json array of feeds; default 8 random inputs)
  --calib-method M      minmax, percentile (default) or mse
  --weight-type T       int8 (default) or uint8
  --conv FORM           dynamic int8 Conv: integer (ConvInteger, default) or weight-only (int8 weights, f32 Conv)
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
  int8: { type: 'string' },
  calib: { type: 'string' },
  'calib-method': { type: 'string' },
  'weight-type': { type: 'string' },
  conv: { type: 'string' },
  prune: { type: 'string' },
  pattern: { type: 'string' },
  scope: { type: 'string' },
  fp16: { type: 'boolean' },
  bf16: { type: 'boolean' },
  input: { type: 'string' },
  dims: { type: 'string' },
  out: { type: 'string' },
  'no-save': { type: 'boolean' },
  'no-latency': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
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
  if (v.conv !== undefined) opts.convForm = oneOf('conv', v.conv as string, ['integer', 'weight-only']) as 'integer' | 'weight-only';
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
  if (v.input !== undefined) (opts as { inputFile?: string }).inputFile = v.input as string;
  return { opts, json: !!v.json, help: false };
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
  const opts = parsed.opts as OnnxOptimizeOptions & { calibFile?: string; inputFile?: string };
  try {
    if (opts.calibFile || opts.inputFile) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(opts.model);
      } catch (e) {
        throw new RangeError(`cannot read '${opts.model}' (${(e as Error).message})`);
      }
      const g = new EditModel({ bytes, baseDir: null }, 'optimize').graph;
      if (opts.calibFile) opts.calibration = readInputs(opts.calibFile, g);
      if (opts.inputFile) opts.inputs = readInputs(opts.inputFile, g)[0];
    }
    delete opts.calibFile;
    delete opts.inputFile;
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
