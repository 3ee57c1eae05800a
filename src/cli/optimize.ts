/**
 * The `simdtensor` command line: `simdtensor optimize [options]` runs the optimize pipeline with a progress bar per
 * stage, prints the report as a table and writes it as Markdown and JSON with the trained models.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseArgsUtil, type ParseArgsConfig } from 'node:util';
import { FLAG, HELP_FLAG, STR } from './options.js';
import { runOnnxCli } from './optimize-onnx.js';
import { formatMarkdown, optimize, OptimizeOptions, OptimizeReport, ProgressEvent, Stage, stageTable } from '../nn/optimize.js';

const HELP = `Usage: simdtensor <command> [options]

Commands:
  optimize              train, distill, prune and int8-quantize an MLP on the bundled digits (or your CSV) and
                        report accuracy, size and latency per stage; \`simdtensor optimize --help\` for its options
  optimize MODEL.onnx   prune / int8-quantize / half an ONNX model, write it back as ONNX with a report;
                        \`simdtensor optimize x.onnx --help\` for its options
  serve MODEL           serve an .onnx or saved model over HTTP (KServe v2 / Triton protocol, dynamic batching,
                        Prometheus metrics); \`simdtensor serve --help\` for its options

Options:
  -v, --version         print the version
  -h, --help            this text
`;

const OPTIMIZE_HELP = `Usage: simdtensor optimize [options]

Trains a teacher MLP, distills a smaller student, prunes it with fine-tuning, quantizes it to int8, and reports
test accuracy, size and batch-1/batch-64 latency per stage (default data: the UCI handwritten digits shipped in
the package). Writes report.md, report.json and models/*.safetensors to the output folder.

Options:
  --data FILE           CSV (or .csv.gz) with numeric features and a label column
  --label COL           label column: index (negative counts from the end), header name, first, last (default last)
  --header, --no-header whether the CSV's first line is a header (default: detected)
  --stages LIST         comma-separated subset of teacher,student,baseline,prune,quantize (default all)
  --teacher SIZES       teacher hidden sizes, e.g. 512,256 (default)
  --teacher-model FILE  start from a trained teacher model file instead of training one
  --student SIZES       student hidden sizes, e.g. 128,64 (default)
  --epochs T,S,P        epochs for teacher, student and pruning fine-tune (default 40,60,60)
  --sparsity X          final sparsity of the pruned student (default 0.85)
  --temperature T       distillation temperature (default 4)
  --alpha A             weight of the distillation term (default 0.9)
  --seeds LIST          training seeds, e.g. 0,1,2 (default); the first seed's models are measured and saved
  --batch-size N        mini-batch size (default 32)
  --out DIR             output folder (default simdtensor-optimize)
  --no-save             write nothing
  --quick               a reduced run (small models, few epochs, one seed) for smoke tests
  --json                print the JSON report instead of the table
  -h, --help            this text
`;

/** The options of `simdtensor optimize`, for node:util's parseArgs. */
const OPTIMIZE_OPTIONS = {
  data: STR, label: STR, header: FLAG, 'no-header': FLAG, stages: STR,
  teacher: STR, 'teacher-model': STR, student: STR, epochs: STR, sparsity: STR, temperature: STR, alpha: STR, seeds: STR, 'batch-size': STR,
  out: STR, 'no-save': FLAG, quick: FLAG, json: FLAG, help: HELP_FLAG,
} as const satisfies ParseArgsConfig['options'];

/** node:util's parseArgs errors, in this command's words. */
function argError(e: unknown): RangeError {
  const err = e as Error & { code?: string };
  const name = /'(-[^' ]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new RangeError(`unknown option '${name}' (see --help)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new RangeError(/does not take/.test(err.message) ? `${name} takes no value` : `${name} needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new RangeError(`unexpected argument ${/'[^']*'/.exec(err.message)?.[0] ?? ''} (options start with --; see --help)`);
    default:
      return new RangeError(err.message);
  }
}

/** Command-line arguments → pipeline options (throws a RangeError naming the bad argument). */
export function parseArgs(argv: string[]): { opts: OptimizeOptions; json: boolean; help: boolean } {
  // A negative number after an option is its value (`--label -1`), which node:util would call ambiguous.
  const args = argv.flatMap((a, i) => (i > 0 && /^-\d/.test(a) && /^--[a-z-]+$/.test(argv[i - 1]) ? [] : [/^--[a-z-]+$/.test(a) && /^-\d/.test(argv[i + 1] ?? '') ? `${a}=${argv[i + 1]}` : a]));
  let values: ReturnType<typeof parseArgsOf>;
  try {
    values = parseArgsOf(args);
  } catch (e) {
    throw argError(e);
  }
  const list = (flag: string, v: string): number[] => {
    const a = v.split(',').map((s) => Number(s.trim()));
    if (!a.length || a.some((x) => !Number.isFinite(x))) throw new RangeError(`--${flag}: '${v}' is not a comma-separated list of numbers`);
    return a;
  };
  const num = (flag: string, v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new RangeError(`--${flag} needs a number, got '${v}'`);
    return x;
  };
  const v = values;
  if (v.header && v['no-header']) throw new RangeError('--header and --no-header contradict each other');
  if (v['no-save'] && v.out !== undefined) throw new RangeError('--out and --no-save contradict each other');
  // --quick sets the reduced defaults; options given explicitly win over them, in any order.
  const opts: OptimizeOptions = v.quick ? quickOptions() : {};
  if (v.data !== undefined) opts.data = v.data;
  if (v.label !== undefined) opts.csv = { ...opts.csv, label: /^-?\d+$/.test(v.label) ? Number(v.label) : v.label };
  if (v.header) opts.csv = { ...opts.csv, header: true };
  if (v['no-header']) opts.csv = { ...opts.csv, header: false };
  if (v.stages !== undefined) opts.stages = v.stages.split(',').map((s) => s.trim()) as Stage[];
  if (v.teacher !== undefined) opts.teacher = list('teacher', v.teacher);
  if (v['teacher-model'] !== undefined) opts.teacherModel = v['teacher-model'];
  if (v.student !== undefined) opts.student = list('student', v.student);
  if (v.epochs !== undefined) {
    const [t, s, p] = list('epochs', v.epochs);
    opts.epochs = { teacher: t, student: s ?? t, prune: p ?? s ?? t };
  }
  if (v.sparsity !== undefined) opts.sparsity = num('sparsity', v.sparsity);
  if (v.temperature !== undefined) opts.temperature = num('temperature', v.temperature);
  if (v.alpha !== undefined) opts.alpha = num('alpha', v.alpha);
  if (v.seeds !== undefined) opts.seeds = list('seeds', v.seeds);
  if (v['batch-size'] !== undefined) opts.batchSize = num('batch-size', v['batch-size']);
  if (v.out !== undefined) opts.outDir = v.out;
  if (v['no-save']) opts.outDir = null;
  return { opts, json: !!v.json, help: !!v.help };
}

function parseArgsOf(args: string[]) {
  return parseArgsUtil({ args, options: OPTIMIZE_OPTIONS, strict: true, allowPositionals: false }).values;
}

/** The package's version, from the package.json above this file (src/cli/ or dist/src/cli/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pj.name === 'simdtensor' && pj.version) return pj.version;
    } catch {
      /* keep looking */
    }
  }
  return 'unknown';
}

/** The reduced setting of `--quick` (also what the CI test runs): small models, few epochs, one seed. */
export function quickOptions(): OptimizeOptions {
  return {
    teacher: [128, 64],
    student: [32, 16],
    epochs: { teacher: 8, student: 8, prune: 12 },
    seeds: [0],
    latency: { blocks: 5, blockMs: 1, batches: [1, 64] },
  };
}

/** Renders progress bars on a stream: redrawn in place on a terminal, one line per finished stage otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean }): (e: ProgressEvent) => void {
  const tty = !!stream.isTTY;
  let current: { stage: string; seed: number; epochs: number; start: number; line: string } | null = null;
  const bar = (done: number, total: number) => {
    const w = 24;
    const k = total > 0 ? Math.round((done / total) * w) : w;
    return `${'█'.repeat(k)}${'░'.repeat(w - k)}`;
  };
  const label = (stage: string, seed: number) => `seed ${seed}  ${stage.padEnd(9)}`;
  return (e) => {
    if (e.type === 'stage') {
      current = { stage: e.stage, seed: e.seed, epochs: e.epochs, start: performance.now(), line: '' };
      if (tty) stream.write(`${label(e.stage, e.seed)} ${bar(0, e.epochs)}`);
    } else if (e.type === 'epoch' && current) {
      const i = e.info;
      const parts = Object.entries(i.parts).map(([k, v]) => ` ${k} ${v.toFixed(4)}`).join('');
      current.line = `${label(current.stage, current.seed)} ${bar(i.epoch, i.epochs)} ${String(i.epoch).padStart(3)}/${i.epochs}  loss ${i.loss.toFixed(4)}${parts}  ${i.seconds.toFixed(1)} s`;
      if (tty) stream.write(`\r\x1b[2K${current.line}`);
    } else if (e.type === 'done') {
      const base = current && current.stage === e.stage ? current.line || `${label(e.stage, e.seed)} ${bar(1, 1)}` : `${label(e.stage, e.seed)} ${bar(1, 1)}`;
      const line = `${base}  → test ${(e.accuracy * 100).toFixed(2)} %`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      current = null;
    } else if (e.type === 'measure') {
      stream.write(`measuring ${e.what}\n`);
    }
  };
}

/** The stage table aligned for a terminal, then the targets. */
export function formatTable(r: OptimizeReport): string {
  const rows = stageTable(r);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? '')].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c] + (cell.length - [...cell].length)))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (r.targets.length) {
    out.push('', r.defaultSetting ? 'targets:' : 'targets (defined for the default digits run; this run changed the setting):');
    for (const t of r.targets) out.push(`  ${t.met ? '✓' : '✗'} ${t.target}: ${t.measured}`);
  }
  return out.join('\n');
}

/** Runs the command line; returns the process exit code. */
export async function runCli(argv: string[], io: { out?: NodeJS.WritableStream; err?: NodeJS.WriteStream } = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const [cmd, ...rest] = argv;
  if (cmd === '-v' || cmd === '--version' || cmd === 'version') {
    out.write(`${packageVersion()}\n`);
    return 0;
  }
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    (cmd ? out : err).write(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === 'serve') {
    const { runServe } = await import('./serve.js');
    return runServe(rest, { out, err });
  }
  if (cmd !== 'optimize') {
    err.write(`simdtensor: unknown command '${cmd}' (see simdtensor --help)\n`);
    return 2;
  }
  // `optimize MODEL.onnx …` optimizes a user's ONNX model; without a model file the MLP pipeline runs.
  if (rest.some((a) => /\.onnx$/i.test(a) && !a.startsWith('-'))) return runOnnxCli(rest, { out, err });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(rest);
  } catch (e) {
    err.write(`simdtensor optimize: ${message(e)}\n`);
    return 2;
  }
  if (parsed.help) {
    out.write(OPTIMIZE_HELP);
    return 0;
  }
  try {
    const report = optimize({ ...parsed.opts, onProgress: progressPrinter(err) });
    if (parsed.json) out.write(JSON.stringify(report, null, 2) + '\n');
    else {
      out.write(`\n${formatTable(report)}\n`);
      if (report.outDir) out.write(`\nreport: ${report.outDir}/report.md, report.json; models in ${report.outDir}/models/ (${report.seconds.toFixed(1)} s)\n`);
      else out.write(`\n(${report.seconds.toFixed(1)} s)\n`);
    }
    return 0;
  } catch (e) {
    err.write(`\nsimdtensor optimize: ${message(e)}\n`);
    return 1;
  }
}

/** An error's message without the pipeline's own `optimize:` prefix, which the command's prefix already says. */
function message(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/^optimize: /, '');
}

export { formatMarkdown };
