// Data loading: the embedded digits, CSV parsing with headers and named labels, stratified splits.
import { describe, expect, it } from 'vitest';
import { featureStats, loadDigits, parseCsv, stratifiedSplit, subset } from '../src/nn/index.js';
import { tensor } from '../src/index.js';

describe('data', () => {
  it('loads the digits shipped in data/', () => {
    const d = loadDigits();
    expect(d.x.shape).toEqual([1797, 64]);
    expect(d.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const counts = new Array(10).fill(0);
    d.y.forEach((c) => counts[c]++);
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    let max = 0;
    for (const v of d.x.data) max = Math.max(max, v);
    expect(max).toBe(1); // 16/16
  });

  it('parses CSV with a header, a named label column and string classes', () => {
    const d = parseCsv('a,species,b\n1,setosa,2\n3,virginica,4\n5,setosa,6\n', { label: 'species' });
    expect(d.x.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(d.classes).toEqual(['setosa', 'virginica']);
    expect(Array.from(d.y)).toEqual([0, 1, 0]);
    const f = parseCsv('0.5;1;2\n1.5;0;1\n', { label: 'first' });
    expect(Array.from(f.y)).toEqual([0, 1]);
    expect(f.x.toArray()).toEqual([[1, 2], [0, 1]]);
  });

  it('names the line and column of bad input', () => {
    expect(() => parseCsv('1,2,0\n3,x,1\n', { header: false })).toThrow(/line 2, column 2: 'x' is not a number/);
    expect(() => parseCsv('1,2,0\n3,1\n')).toThrow(/line 2 has 2 fields, the first row has 3/);
    expect(() => parseCsv('a,b\n1,0\n', { label: 'c' })).toThrow(/no column named 'c'/);
    expect(() => parseCsv('1,0\n2,0\n')).toThrow(/has 1 class; need at least 2/);
    expect(() => parseCsv('')).toThrow(/no data rows/);
  });

  it('splits each class in the given fraction, seeded and disjoint', () => {
    const d = loadDigits();
    const [a, b] = stratifiedSplit(d.y, 0.25, 0);
    expect(a.length + b.length).toBe(1797);
    expect(new Set([...a, ...b]).size).toBe(1797);
    const test = subset(d, b);
    const counts = new Array(10).fill(0);
    test.y.forEach((c) => counts[c]++);
    counts.forEach((c, k) => expect(c).toBe(Math.round([178, 182, 177, 183, 181, 182, 181, 179, 174, 180][k] * 0.25)));
    expect(Array.from(stratifiedSplit(d.y, 0.25, 0)[1])).toEqual(Array.from(b));
    expect(Array.from(stratifiedSplit(d.y, 0.25, 1)[1])).not.toEqual(Array.from(b));
    expect(() => stratifiedSplit(d.y, 1)).toThrow(/fraction must be in \(0, 1\)/);
  });

  it('feature statistics', () => {
    const { mean, invStd } = featureStats(tensor([1, 5, 3, 5], [2, 2]));
    expect(Array.from(mean.data)).toEqual([2, 5]);
    expect(Array.from(invStd.data)).toEqual([1, 1]); // std 1, and a constant column gets 1
  });
});
