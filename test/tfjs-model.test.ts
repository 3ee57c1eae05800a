// A real TF.js model on the 'simdtensor' backend: nsfwjs's bundled MobileNetV2 graph model gives the same top class
// and probabilities within 1e-3 of the 'cpu' backend on generated images (bench/tfjs-mobilenet.ts, in a child
// process: the CPU backend takes ~1.3 s an image on a quiet machine).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('nsfwjs MobileNetV2 on the simdtensor TF.js backend', () => {
  it('matches the CPU backend (top class, probabilities within 1e-3)', () => {
    const script = join(root, 'dist', 'bench', 'tfjs-mobilenet.js');
    const r = spawnSync(process.execPath, [script, '--images', '2', '--accuracy-only'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const m = /accuracy: same top class on (\d+)\/(\d+), worst \|Δp\| (\S+) \(limit 1e-3\): (PASS|FAIL)/.exec(out);
    expect(m, out.slice(-3000)).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(Number(m![3])).toBeLessThanOrEqual(1e-3);
    expect(m![4]).toBe('PASS');
    expect(r.status).toBe(0);
  }, 250_000);
});
