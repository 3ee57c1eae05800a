// The `simdtensor/tfjs` subpath: registration through the user's tfjs-core (ESM and CJS), priority, fallback.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

describe('simdtensor/tfjs', () => {
  it('registers the backend above cpu and wasm, and tf.ready() picks it', async () => {
    const mod = await import('simdtensor/tfjs');
    await tf.ready();
    expect(tf.getBackend()).toBe('simdtensor');
    expect(mod.registration.name).toBe('simdtensor');
    expect(mod.registration.fallbackKernels.length + mod.registration.nativeKernels.length).toBe(tf.getKernelsForBackend('cpu').length);
  });

  it('is the same registration from CommonJS', async () => {
    const esm = await import('simdtensor/tfjs');
    const cjs = createRequire(import.meta.url)('simdtensor/tfjs');
    expect(cjs.registration).toBe(esm.registration);
  });

  it('runs a kernel it has no native form of through the CPU backend', async () => {
    await import('simdtensor/tfjs');
    await tf.setBackend('simdtensor');
    const y = tf.cumsum(tf.tensor1d([1, 2, 3, 4]));
    expect(Array.from(y.dataSync())).toEqual([1, 3, 6, 10]);
  });
});
