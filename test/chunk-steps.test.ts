// Recorded step sequences (native/binding/steps.cc): ops recorded per chunk and lane run later, chunk-concurrently,
// with the results of running them directly; bad handles, indices and arrays are clear errors.
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { getNumThreads, setNumThreads } from '../src/index.js';

const ADD = 0, CLIP = 0; // BinaryOp add, UnaryOp clip

describe('ChunkSteps / recordSteps / runSteps', () => {
  const threads = getNumThreads();
  afterEach(() => {
    native.recordSteps(null, 0, 0);
    setNumThreads(threads);
  });

  it('records sync ops instead of running them, then runs each chunk on its lane with its slice of the input', () => {
    for (const t of [1, 2, 3]) {
      setNumThreads(t);
      const chunks = 5, lanes = 2, n = 37; // odd sizes: slices share cache lines
      const stage = new Float32Array(chunks * n), out = new Float32Array(chunks * n);
      const scratch = [new Float32Array(n), new Float32Array(n)]; // one per lane
      const steps = new native.ChunkSteps(lanes, chunks, n);
      for (let c = 0; c < chunks; c++)
        for (let l = 0; l < lanes; l++) {
          native.recordSteps(steps, c, l);
          const xi = stage.subarray(c * n, (c + 1) * n), oi = out.subarray(c * n, (c + 1) * n);
          native.unary(CLIP, xi, scratch[l], n, 0, 6); // relu6 into the lane's scratch
          native.binary(ADD, scratch[l], xi, oi, n); // + x
        }
      native.recordSteps(null, 0, 0);
      expect(out.every((v) => v === 0)).toBe(true); // nothing ran while recording
      expect(steps.steps).toBe(2 * chunks * lanes);
      for (let round = 0; round < 2; round++) {
        const x = Float32Array.from({ length: chunks * n }, (_, i) => ((i * 37 + round * 11) % 29) - 9.5);
        native.runSteps(steps, x, stage);
        const want = x.map((v) => Math.min(6, Math.max(0, v)) + v);
        expect(Array.from(out)).toEqual(Array.from(want));
      }
    }
  });

  it('refuses bad arguments with errors naming them', () => {
    expect(() => new native.ChunkSteps(0, 4, 8)).toThrow(RangeError);
    expect(() => new native.ChunkSteps(2, 0, 8)).toThrow(/lanes, chunks and inFloats must be positive/);
    expect(() => new native.ChunkSteps(1, 1, -1)).toThrow(/inFloats/);
    const steps = new native.ChunkSteps(2, 3, 4);
    expect(() => native.recordSteps(steps, 3, 0)).toThrow(/recordSteps: chunk \(3\) must be below chunks \(3\)/);
    expect(() => native.recordSteps(steps, 0, 2)).toThrow(/recordSteps: lane \(2\) must be below lanes \(2\)/);
    expect(() => native.recordSteps({} as never, 0, 0)).toThrow(TypeError);
    expect(() => native.runSteps({} as never, new Float32Array(12), new Float32Array(12))).toThrow(/runSteps: steps must be a ChunkSteps handle/);
    expect(() => native.runSteps(steps, new Float32Array(11), new Float32Array(12))).toThrow(/runSteps: .*x/);
    expect(() => native.runSteps(steps, new Float32Array(12), new Float32Array(11))).toThrow(/runSteps: .*stage/);
    const buf = new Float32Array(16);
    expect(() => native.runSteps(steps, buf.subarray(0, 12), buf.subarray(4, 16))).toThrow(/stage must not overlap x/);
    native.recordSteps(steps, 0, 0);
    expect(() => native.runSteps(steps, new Float32Array(12), new Float32Array(12))).toThrow(/recordSteps is still on/);
    native.recordSteps(null, 0, 0);
    native.runSteps(steps, new Float32Array(12), new Float32Array(12)); // nothing recorded: copies the input only
  });
});
