// A quick seeded slice of the fuzzer (test/fuzz/, scripts/fuzz.mjs): ~10,000 random, hostile and careless calls of
// every export and every addon function, in child processes. No call may crash the process or hang.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CALLS = Number(process.env.FUZZ_CALLS ?? 10000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('fuzz slice', () => {
  beforeAll(() => {
    // The children run plain node on dist/: rebuild it when src/ is newer (npm test has just built it).
    const index = join(root, 'dist', 'src', 'index.js');
    if (!existsSync(index) || newestMtime(join(root, 'src')) > statSync(index).mtimeMs) execFileSync(process.execPath, [join(root, 'scripts', 'build-ts.mjs')], { stdio: 'inherit' });
  }, 120_000);

  it('the harness catches a crash and a hang and names the call', async () => {
    const { runFuzz } = await import('./fuzz/driver.mjs');
    // Only harmless targets around the injected faults, so the library's own bugs cannot interfere.
    const only = ['cpuInfo', 'getMaxIsa', 'getNumThreads', 'monitoringEnabled', 'dtypeBytes', 'native.getNumThreads'];
    const crash = await runFuzz({ seed: 3, calls: 600, batch: 600, only, env: { FUZZ_INJECT_CRASH: '317' } });
    expect(crash.counts.crash).toBe(1);
    expect(crash.counts.clean + crash.counts.ok).toBeGreaterThan(0);
    const c = crash.classes.find((x: { kind: string }) => x.kind === 'crash');
    expect(c.index).toBe(317);
    expect(c.key).toMatch(/signal SIGSEGV/);
    expect(c.reproducesAlone).toBe(true);
    const hang = await runFuzz({ seed: 3, calls: 30, batch: 30, stallMs: 1500, only, env: { FUZZ_INJECT_HANG: '9' } });
    expect(hang.counts.hang).toBe(1);
    expect(hang.classes.find((x: { kind: string }) => x.kind === 'hang').index).toBe(9);
  }, 120_000);

  it(`${CALLS} seeded calls: no crash, no hang`, async () => {
    const { runFuzz, formatReport } = await import('./fuzz/driver.mjs');
    // Stop after a few failures: each hang costs a stall timeout, and one is enough to fail.
    const result = await runFuzz({ seed: SEED, calls: CALLS, batch: 1000, stallMs: 15000, callTimeoutMs: 5000, maxFailures: 4 });
    const { counts } = result;
    console.log(formatReport(result, { seed: SEED, maxClasses: 30 }));
    console.log(`fuzz outcome counts: calls ${counts.calls}, returned ${counts.ok}, clean errors ${counts.clean}, internal errors ${counts.internal}, silently wrong ${counts.wrong}, crashes ${counts.crash}, hangs ${counts.hang}`);
    // The campaign itself must have run (a broken harness that makes no calls would otherwise pass).
    if (!counts.stoppedEarly) expect(counts.calls).toBeGreaterThanOrEqual(CALLS * 0.95);
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.clean).toBeGreaterThan(0);
    const bad = result.classes.filter((c: { kind: string }) => c.kind === 'crash' || c.kind === 'hang').map((c: { key: string; seed: number; index: number }) => `${c.key}  (node scripts/fuzz.mjs --seed ${c.seed} --call ${c.index})`);
    expect(bad).toEqual([]);
    expect(counts.crash).toBe(0);
    expect(counts.hang).toBe(0);
  }, 600_000);
});
