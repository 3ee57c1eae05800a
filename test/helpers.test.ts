// The shared array assert: passes on equal arrays, and on a mutated one fails with a short message naming the first
// differing index, both values and the number of differences.
import { describe, expect, it } from 'vitest';
import { arrayDiff, expectSameArray } from './helpers.js';

const big = () => Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i) * 100);

describe('expectSameArray', () => {
  it('passes on equal typed and plain arrays, NaN included', () => {
    const a = big();
    expectSameArray(a, a.slice());
    expectSameArray(a, Array.from(a));
    expectSameArray(Float32Array.of(1, NaN), [1, NaN]);
    expectSameArray(BigInt64Array.of(1n, -2n), [1n, -2n]);
    expectSameArray(Int32Array.of(3, 4), Float64Array.of(3, 4)); // values only, as toEqual over Array.from of both
  });

  it('fails on a mutated large array with the first index, both values and the count, not a diff', () => {
    const want = big();
    const got = want.slice();
    got[70_001] = 1.5;
    got[90_000] = 2.5;
    let msg = '';
    try {
      expectSameArray(got, want, { label: 'rec y' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe(`rec y: arrays differ: 2 of 100000 elements differ; first at [70001]: got 1.5, want ${want[70_001]}`);
    expect(() => expectSameArray(Array.from(got), want)).toThrow(/first at \[70001\]/);
  });

  it('is exact by default like toEqual: -0 is not +0, NaN only matches NaN', () => {
    expect(() => expectSameArray([0], [-0])).toThrow('first at [0]: got 0, want 0');
    expect(() => expectSameArray([NaN], [0])).toThrow('1 of 1 elements differ');
  });

  it('names differing lengths, and the type when sameType asks for it', () => {
    expect(() => expectSameArray([1, 2, 3], [1, 2])).toThrow('length 3 != 2; 0 of 2 elements differ; equal up to [2]');
    expect(() => expectSameArray([1, 9, 3], [1, 2])).toThrow('length 3 != 2; 1 of 2 elements differ; first at [1]: got 9, want 2');
    expect(() => expectSameArray(Float32Array.of(1), Float64Array.of(1), { sameType: true })).toThrow('got a Float32Array, want a Float64Array');
    expectSameArray(Float32Array.of(1), Float32Array.of(1), { sameType: true });
  });

  it('accepts differences within an absolute or relative tolerance and no more', () => {
    expectSameArray([1.05, 100.5], [1, 100], { tol: 0.5 });
    expect(() => expectSameArray([1.05, 100.6], [1, 100], { tol: 0.5 })).toThrow('first at [1]: got 100.6, want 100 (tol 0.5)');
    expectSameArray([1.001, 1000.9], [1, 1000], { tol: { rel: 1e-3 } });
    expect(() => expectSameArray([1.002], [1], { tol: { abs: 1e-4, rel: 1e-3 } })).toThrow(/first at \[0\]/);
    expect(() => expectSameArray([NaN, Infinity], [NaN, -Infinity], { tol: 1e9 })).toThrow('first at [1]: got Infinity, want -Infinity');
  });

  it('arrayDiff returns null on equal arrays and the difference otherwise', () => {
    expect(arrayDiff([1, 2], [1, 2])).toBeNull();
    expect(arrayDiff([1, 5, 6], [1, 2, 3])).toEqual({ index: 1, got: 5, want: 2, count: 2 });
    expect(arrayDiff([1], [1, 2])).toEqual({ index: 1, got: undefined, want: 2, count: 0, lengths: [1, 2] });
  });
});
