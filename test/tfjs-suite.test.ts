// TF.js's own backend test suite (tfjs-core dist/tests.js) against the 'simdtensor' backend, in a child process
// (scripts/tfjs-suite.mjs bundles it with esbuild and runs it under jasmine 4.2; ~15 s on 2 cores).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('TF.js backend test suite', () => {
  it('passes every spec but the exclude list against the simdtensor backend', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'tfjs-suite.mjs')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const m = /(\d+) passed, (\d+) failed/.exec(out);
    expect(m, out.slice(-4000)).not.toBeNull();
    const [passed, failed] = [Number(m![1]), Number(m![2])];
    expect(failed, out.slice(-4000)).toBe(0);
    expect(passed).toBeGreaterThan(3000);
    expect(r.status).toBe(0);
  }, 320_000);
});
