/**
 * The `simdtensor` command line: `simdtensor optimize [options]` runs the optimize pipeline with a progress bar per
 * stage, prints the report as a table and writes it as Markdown and JSON with the trained models.
 * @module
 */
import { formatMarkdown, optimize, OptimizeOptions, OptimizeReport, ProgressEvent, Stage, stageTable } from '../nn/optimize.js';

const HELP = `Usage: simdtensor optimize [options]

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

/** Command-line arguments → pipeline options (throws on a bad argument). */
export function parseArgs(argv: string[]): { opts: OptimizeOptions; json: boolean; help: boolean } {
  const opts: OptimizeOptions = {};
  let json = false;
  let help = false;
  const list = (flag: string, v: string | undefined): number[] => {
    if (v === undefined) throw new RangeError(`${flag} needs a value`);
    const a = v.split(',').map((s) => Number(s.trim()));
    if (!a.length || a.some((x) => !Number.isFinite(x))) throw new RangeError(`${flag}: '${v}' is not a comma-separated list of numbers`);
    return a;
  };
  const num = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x)) throw new RangeError(`${flag} needs a number, got ${v === undefined ? 'nothing' : `'${v}'`}`);
    return x;
  };
  const str = (flag: string, v: string | undefined): string => {
    if (v === undefined || v.startsWith('--')) throw new RangeError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        help = true;
        break;
      case '--data':
        opts.data = str(flag, val());
        break;
      case '--label': {
        const v = str(flag, val());
        opts.csv = { ...opts.csv, label: /^-?\d+$/.test(v) ? Number(v) : v };
        break;
      }
      case '--header':
        opts.csv = { ...opts.csv, header: true };
        break;
      case '--no-header':
        opts.csv = { ...opts.csv, header: false };
        break;
      case '--stages':
        opts.stages = str(flag, val()).split(',').map((s) => s.trim()) as Stage[];
        break;
      case '--teacher':
        opts.teacher = list(flag, val());
        break;
      case '--teacher-model':
        opts.teacherModel = str(flag, val());
        break;
      case '--student':
        opts.student = list(flag, val());
        break;
      case '--epochs': {
        const [t, s, p] = list(flag, val());
        opts.epochs = { teacher: t, student: s ?? t, prune: p ?? s ?? t };
        break;
      }
      case '--sparsity':
        opts.sparsity = num(flag, val());
        break;
      case '--temperature':
        opts.temperature = num(flag, val());
        break;
      case '--alpha':
        opts.alpha = num(flag, val());
        break;
      case '--seeds':
        opts.seeds = list(flag, val());
        break;
      case '--batch-size':
        opts.batchSize = num(flag, val());
        break;
      case '--out':
        opts.outDir = str(flag, val());
        break;
      case '--no-save':
        opts.outDir = null;
        break;
      case '--quick':
        Object.assign(opts, quickOptions(), { ...opts });
        break;
      case '--json':
        json = true;
        break;
      default:
        throw new RangeError(`unknown option '${a}' (see --help)`);
    }
  }
  return { opts, json, help };
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
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    out.write(HELP);
    return cmd ? 0 : 1;
  }
  if (cmd !== 'optimize') {
    err.write(`simdtensor: unknown command '${cmd}'\n\n${HELP}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(rest);
  } catch (e) {
    err.write(`simdtensor optimize: ${(e as Error).message}\n`);
    return 2;
  }
  if (parsed.help) {
    out.write(HELP);
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
    err.write(`\nsimdtensor optimize: ${(e as Error).message}\n`);
    return 1;
  }
}

export { formatMarkdown };
