// Smoke test of the benchmark harness: every trial family at tiny shapes, one round, in this process. It checks
// that contenders agree with the float64 reference and that the report, Markdown and SVG come out — no timings.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseArgs } from '../bench/run.js';
import { onnxModel, OnnxType } from '../bench/onnx.js';
import { stats, reference, checkAgreement } from '../bench/measure.js';
import { gemmTrial, makeInputs, toF16Bits, fromF16Bits, toBf16Bits, fromBf16Bits } from '../bench/trials.js';
import { roofline } from '../bench/probes.js';
import { kernelFor } from '../bench/drivers.js';
import * as st from '../src/index.js';

describe('bench harness (dry run)', () => {
  it('runs every family at tiny shapes and every contender that runs agrees with the reference', async () => {
    const out = mkdtempSync(join(tmpdir(), 'simdtensor-bench-'));
    const rep = await main(['--dry', '--quiet', '--out', out]);
    expect(rep.mode).toBe('dry');
    expect(rep.trials.length).toBeGreaterThan(10);
    for (const r of rep.trials) {
      expect(r.error, `${r.trial.id}@${r.threads}`).toBeUndefined();
      for (const [name, x] of Object.entries(r.results)) {
        // A contender may skip (with a reason) but never fail or disagree.
        expect(['ok', 'skipped'], `${name} on ${r.trial.id}@${r.threads}: ${x.status} ${x.reason ?? ''}`).toContain(x.status);
        if (x.status === 'ok') {
          // Checked against the reference, or a family's own setup that returns nothing (flagged as unchecked).
          if (x.agreement) expect(x.agreement.ok).toBe(true);
          else expect(x.note, `${name} on ${r.trial.id}`).toMatch(/agreement not checked/);
          expect(x.time?.runs).toBe(1);
        } else expect(x.reason).toBeTruthy();
      }
    }
    // simdtensor itself runs the f32 GEMM, overhead and f32 MLP trials, and so does onnxruntime-node.
    for (const id of ['f32/64x1024x1024', 'overhead/matmul-4x4', 'overhead/add-1', 'mlp-f32/b64']) {
      const r = rep.trials.find((x) => x.trial.id === id && x.threads === 1)!;
      expect(r.results.simdtensor.status, id).toBe('ok');
      expect(r.results['onnxruntime-node'].status, id).toBe('ok');
    }
    expect(rep.targets.length).toBeGreaterThan(5);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| Trial | Threads | simdtensor');
    expect(md).toContain('Reproduce: `npm run bench -- --dry');
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('onnxruntime-node');
  });

  it('filters by name and thread count', async () => {
    const rep = await main(['--dry', '--quiet', '--no-write', '--filter', 'overhead', '--threads', '1', '--contenders', 'simdtensor,ml-matrix']);
    expect(rep.trials.map((r) => r.trial.id).sort()).toEqual(['overhead/add-1', 'overhead/matmul-4x4']);
    expect(Object.keys(rep.contenders)).toEqual(['simdtensor', 'ml-matrix']);
  });

  it('rejects unknown options and contenders', () => {
    expect(() => parseArgs(['--nope'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--contenders', 'numpy'])).toThrow(/unknown contender 'numpy'/);
    expect(() => parseArgs(['--threads', '0'])).toThrow(/positive integers/);
    expect(parseArgs(['--quick']).threads).toEqual([1]);
    // Only a full run replaces the committed results; quick and subset runs write beside them.
    expect(parseArgs([]).out).toMatch(/bench[\\/]results$/);
    expect(parseArgs(['--quick']).out).toMatch(/bench[\\/]results[\\/]quick$/);
    expect(parseArgs(['--filter', 'int8', '--threads', '1']).out).toMatch(/bench[\\/]results[\\/]partial$/);
    expect(parseArgs(['--quick', '--out', '/tmp/x']).out).toBe('/tmp/x');
  });
});

describe('bench pieces', () => {
  it('stats gives median, quartiles and range', () => {
    const s = stats([5, 1, 3, 2, 4]);
    expect(s.median).toBe(3);
    expect(s.min).toBe(1);
    expect(s.max).toBe(5);
    expect(s.q1).toBe(2);
    expect(s.rangePct).toBeCloseTo((4 / 3) * 100);
  });

  it('half conversions round to nearest even and decode exactly', () => {
    expect(toF16Bits(1)).toBe(0x3c00);
    expect(toF16Bits(65504)).toBe(0x7bff);
    expect(toF16Bits(1e6)).toBe(0x7c00);
    expect(toF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromF16Bits(0x0001)).toBe(2 ** -24);
    expect(fromF16Bits(toF16Bits(-0.333251953125))).toBe(-0.333251953125);
    expect(toBf16Bits(1)).toBe(0x3f80);
    expect(fromBf16Bits(toBf16Bits(3.140625))).toBe(3.140625);
  });

  it('the reference catches a wrong result', () => {
    const t = gemmTrial('f32', 'float32', 3, 8, 5);
    const inp = makeInputs(t);
    const ref = reference(t, inp);
    const good = new Float32Array(15);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) for (let p = 0; p < 8; p++) good[i * 5 + j] += inp.a[i * 8 + p] * inp.w[j * 8 + p];
    expect(checkAgreement(ref, good, 15).ok).toBe(true);
    const bad = good.slice();
    bad[7] += 0.01;
    expect(checkAgreement(ref, bad, 15).ok).toBe(false);
    expect(checkAgreement(ref, good.subarray(1), 15).ok).toBe(false);
  });

  it('kernelFor labels a GEMM trial with the kernel the driver runs at its M (small-M kernel, AMX cap)', () => {
    const k = st.cpuInfo().kernels;
    for (const [dtype, op] of [['bfloat16', 'matmul.bf16'], ['float16', 'matmul.f16'], ['int8', 'matmul.s8'], ['int8-dynamic', 'linear.int8']] as const)
      for (const m of [1, 2, 4, 8, 9, 64]) expect(kernelFor(k, dtype, m, st), `${dtype} m=${m}`).toBe(st.kernelForM(op, m));
    expect(kernelFor(k, 'bfloat16', 1, st)).toBe(k['matmul.bf16.smallM']);
    expect(kernelFor(k, 'bfloat16', 64, st)).toBe(k['matmul.bf16']);
    expect(kernelFor(k, 'bfloat16')).toBe(k['matmul.bf16']); // no M: the GEMM row, as before
    expect(kernelFor(k, 'float32', 1, st)).toBe(k['matmul.f32']);
  });
  it('roofline picks the lower of compute and bandwidth bounds', () => {
    expect(roofline(200, 20, 2 * 4096 * 4096, 4 * 4096 * 4096, 1)).toMatchObject({ kind: 'bandwidth', value: 10 });
    expect(roofline(200, 20, 2 * 1024 ** 3, 4 * 1024 * 1024, 2)).toMatchObject({ kind: 'compute', value: 400 });
    expect(roofline(null, null, 1, 1, 1)).toBeNull();
  });

  it('builds a valid ONNX model (varints, nested messages)', () => {
    const bytes = onnxModel({
      nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }],
      inputs: [{ name: 'A', type: OnnxType.FLOAT, dims: [1, 300] }],
      outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [1, 2] }],
      initializers: [{ name: 'B', type: OnnxType.FLOAT, dims: [300, 2], data: new Float32Array(600) }],
    });
    expect(bytes[0]).toBe(0x08); // field 1 (ir_version), varint
    expect(bytes[1]).toBe(8);
    expect(bytes.length).toBeGreaterThan(2400);
  });
});
