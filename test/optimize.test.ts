// The optimize pipeline in a reduced setting (small models, few epochs, one seed): every stage runs, the report
// holds consistent measurements, the saved models load back and reproduce the reported accuracies; the CLI parses
// its options and runs on a user's CSV.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rand } from '../src/index.js';
import { parseArgs, quickOptions, runCli, formatTable } from '../src/cli/optimize.js';
import { evaluate, loadDigits, loadModel, optimize, stratifiedSplit, subset } from '../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'simdtensor-opt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a stream's chunks into a string. */
function sink(isTTY = false) {
  const s = { text: '', isTTY, write(c: string) { s.text += c; return true; } };
  return s;
}

describe('optimize (reduced setting)', () => {
  const out = join(dir, 'digits');
  const events: string[] = [];
  const report = optimize({ ...quickOptions(), outDir: out, onProgress: (e) => events.push(e.type === 'measure' ? e.type : `${e.type}:${e.stage}`) });

  it('runs every stage and reports consistent numbers', () => {
    expect(report.stages.map((s) => s.stage)).toEqual(['teacher', 'student', 'baseline', 'pruned', 'int8', 'int8-sparse']);
    expect(report.data).toMatchObject({ rows: 1797, features: 64, classes: 10, test: 451 }); // 25 % of each class, rounded
    expect(report.data.train + report.data.holdout + report.data.test).toBe(1797);
    const [teacher, student, , pruned, int8, int8Sparse] = report.stages;
    expect(teacher.params).toBe(64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
    expect(student.params).toBe(64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
    expect(teacher.accuracy).toBeGreaterThan(0.9); // 8 epochs of a small MLP: well above chance, not the full target
    expect(pruned.nonzero / pruned.params).toBeLessThan(0.25); // 85 % of the weights pruned (biases stay)
    expect(int8.format).toBe('int8');
    expect(int8Sparse.format).toBe('sparse-int8');
    expect(pruned.format).toBe('sparse');
    // The int8 mode was chosen on the held-out slice among the calibrated static and the dynamic candidates.
    expect(report.quantization!.candidates.map((c) => c.mode)).toEqual(['static (percentile-calibrated)', 'static (MSE-calibrated)', 'dynamic per-row']);
    expect(report.quantization!.candidates.map((c) => c.mode)).toContain(report.quantization!.chosen);
    expect(report.machine.threads).toBe('1');
    expect(int8.bytes).toBeLessThan(student.bytes / 2);
    for (const s of report.stages) {
      expect(s.latency.map((l) => l.batch)).toEqual([1, 64]);
      for (const l of s.latency) {
        expect(l.medianMs).toBeGreaterThan(0);
        expect(l.p10Ms).toBeLessThanOrEqual(l.medianMs);
        expect(l.throughput).toBeCloseTo((l.batch * 1000) / l.medianMs, 6);
      }
    }
    expect(report.seeds).toHaveLength(1);
    expect(report.targets.map((t) => t.target)).toContain('≥ 10× less memory than the f32 teacher');
    expect(events).toContain('epoch:teacher');
    expect(events).toContain('done:quantize');
    expect(events.filter((e) => e === 'measure')).toHaveLength(2);
  });

  it('writes the report and models; the saved models reproduce the reported accuracies', () => {
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.stages.map((s: { stage: string }) => s.stage)).toEqual(report.stages.map((s) => s.stage));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| stage | test acc |');
    expect(md).toContain('## Targets');
    // The same fixed split the pipeline used.
    const d = loadDigits();
    const test = subset(d, stratifiedSplit(d.y, 0.25, 0)[1]);
    for (const s of report.stages) {
      const { model, metadata } = loadModel(join(out, s.file!));
      expect(metadata.stage).toBe(s.stage);
      expect(model.linears()[0].format).toBe(s.format);
      expect(evaluate(model, test).accuracy).toBeCloseTo(s.accuracy, 10);
    }
  });

  it('renders a table with the targets', () => {
    const t = formatTable(report);
    expect(t.split('\n')[0]).toMatch(/^stage\s+test acc/);
    expect(t).toMatch(/int8 .* int8/);
    expect(t).toMatch(/targets \(defined for the default digits run; this run changed the setting\):\n {2}[✓✗] teacher test accuracy/);
    expect(report.defaultSetting).toBe(false);
  });
});

describe('simdtensor CLI', () => {
  it('parses options', () => {
    const { opts } = parseArgs(['--data', 'x.csv', '--label', '-1', '--no-header', '--stages', 'teacher,student', '--epochs', '3,4,5', '--sparsity=0.9', '--seeds', '1,2', '--no-save']);
    expect(opts).toMatchObject({ data: 'x.csv', csv: { label: -1, header: false }, stages: ['teacher', 'student'], epochs: { teacher: 3, student: 4, prune: 5 }, sparsity: 0.9, seeds: [1, 2], outDir: null });
    expect(parseArgs(['--quick', '--seeds', '4']).opts.seeds).toEqual([4]);
    expect(() => parseArgs(['--epochs', 'a,b'])).toThrow(/not a comma-separated list of numbers/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option '--bogus'/);
    // --quick's reduced defaults never override an option given explicitly, before or after it.
    expect(parseArgs(['--seeds', '4', '--quick']).opts.seeds).toEqual([4]);
    expect(parseArgs(['--quick']).opts.seeds).toEqual([0]);
    expect(parseArgs(['--label', 'species', '--header']).opts.csv).toEqual({ label: 'species', header: true });
    expect(() => parseArgs(['--data'])).toThrow(/--data needs a value/);
    expect(() => parseArgs(['--json=yes'])).toThrow(/--json takes no value/);
    expect(() => parseArgs(['digits.csv'])).toThrow(/unexpected argument 'digits.csv'/);
    expect(() => parseArgs(['--sparsity', 'lots'])).toThrow(/--sparsity needs a number, got 'lots'/);
    expect(() => parseArgs(['--header', '--no-header'])).toThrow(/contradict/);
  });

  it('answers --version and --help, and prefixes errors once', async () => {
    const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
    const out = sink();
    expect(await runCli(['--version'], { out: out as never, err: sink() as never })).toBe(0);
    expect(out.text).toBe(`${version}\n`);
    const help = sink();
    expect(await runCli(['--help'], { out: help as never, err: sink() as never })).toBe(0);
    expect(help.text).toMatch(/Usage: simdtensor <command>/);
    const ohelp = sink();
    expect(await runCli(['optimize', '-h'], { out: ohelp as never, err: sink() as never })).toBe(0);
    expect(ohelp.text).toMatch(/--teacher-model FILE/);
    const none = sink();
    expect(await runCli([], { out: sink() as never, err: none as never })).toBe(2);
    expect(none.text).toMatch(/Usage: simdtensor <command>/);
    const bad = sink();
    expect(await runCli(['optimize', '--stages', 'nope', '--no-save'], { out: sink() as never, err: bad as never })).toBe(1);
    expect(bad.text).toMatch(/^\nsimdtensor optimize: stages lists 'nope'/);
    expect(bad.text).not.toMatch(/optimize: optimize:/);
    const arg = sink();
    expect(await runCli(['optimize', '--frob'], { out: sink() as never, err: arg as never })).toBe(2);
    expect(arg.text).toBe("simdtensor optimize: unknown option '--frob' (see --help)\n");
  });

  it('runs on a user CSV with stage selection, and reports bad input with an exit code', async () => {
    // Three classes separated along two of four features, with a header and a named label column.
    const n = 240;
    const r = rand([n * 4], { seed: 5 }).data;
    const lines = ['f1,f2,kind,f3,f4'];
    const names = ['alpha', 'beta', 'gamma'];
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      lines.push([(c * 10 + r[4 * i] * 3).toFixed(3), (r[4 * i + 1] * 5).toFixed(3), names[c], (100 - c * 20 + r[4 * i + 2]).toFixed(3), r[4 * i + 3].toFixed(3)].join(','));
    }
    const csv = join(dir, 'three.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const out = sink();
    const err = sink();
    const code = await runCli(['optimize', '--data', csv, '--label', 'kind', '--stages', 'teacher,student,quantize', '--quick', '--epochs', '15', '--out', join(dir, 'csv')], { out: out as never, err: err as never });
    expect(err.text).toContain('seed 0  teacher');
    expect(code).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'csv', 'report.json'), 'utf8'));
    expect(rep.data).toMatchObject({ features: 4, classes: 3, rows: n });
    expect(rep.stages.map((s: { stage: string }) => s.stage)).toEqual(['teacher', 'student', 'int8']);
    expect(rep.stages[0].accuracy).toBeGreaterThan(0.95);
    expect(out.text).toMatch(/^\nstage/);

    const bad = sink();
    expect(await runCli(['optimize', '--data', join(dir, 'missing.csv'), '--no-save'], { out: sink() as never, err: bad as never })).toBe(1);
    expect(bad.text).toMatch(/cannot read .*missing.csv/);
    expect(await runCli(['optimize', '--stages', 'teacher,nope'], { out: sink() as never, err: bad as never })).toBe(1);
    expect(bad.text).toMatch(/stages lists 'nope'/);
    expect(await runCli(['frobnicate'], { out: sink() as never, err: bad as never })).toBe(2);
  });
});
