// The public types: test/types/api.ts must compile under `tsc --noEmit --strict`, and each of its
// `@ts-expect-error` lines (wrong weights, misspelt options, wrong result types) must be a compile error.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('public types', () => {
  it('test/types/api.ts type-checks under --strict, and every wrong call there is a compile error', () => {
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 300_000); // tsc over the whole package: tens of seconds on a loaded machine
});
