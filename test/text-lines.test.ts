import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctcGreedy, ctcText, editDistance, fontFlag, frameArgmax, lineAgreement, lineCounts, readsAs, recDict, TEXT_LINE_CHARS, textLine, type TextLineFont } from '../bench/text-lines.js';
import { loadOnnx, type OnnxModel } from '../src/index.js';
import { expectSameArray } from './helpers.js';

const ASSETS = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets');
const REC = join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');

describe('bench/text-lines', () => {
  it('is deterministic per seed, normalized to [-1, 1], three equal channels, text drawn from the font', () => {
    const a = textLine(7, 200), b = textLine(7, 200), c = textLine(8, 200);
    expect(a.text).toBe(b.text);
    expectSameArray(a.data, b.data);
    expect(a.text).not.toBe(c.text);
    expect(a.data.length).toBe(3 * 48 * 200);
    const plane = 48 * 200;
    for (let i = 0; i < plane; i++) {
      expect(a.data[i]).toBeGreaterThanOrEqual(-1);
      expect(a.data[i]).toBeLessThanOrEqual(1);
      expect(a.data[plane + i]).toBe(a.data[i]);
      expect(a.data[2 * plane + i]).toBe(a.data[i]);
    }
    for (const ch of a.text + c.text) expect(ch === ' ' || TEXT_LINE_CHARS.includes(ch)).toBe(true);
    expect(a.text.length).toBeGreaterThan(3);
    expect(() => textLine(1, 8)).toThrow(RangeError);
  });
  it('draws real-font lines: deterministic, in [-1, 1], from the alphabet, ink where the words are, padding after', () => {
    const W = 320, plane = 48 * W;
    const a = textLine(7, W, { font: 'dejavu' }), b = textLine(7, W, { font: 'dejavu' }), c = textLine(8, W, { font: 'dejavu' });
    expect(a.text).toBe(b.text);
    expectSameArray(a.data, b.data);
    expect(a.text).not.toBe(c.text);
    expect(a.text).not.toBe(textLine(7, W).text);
    expect(a.data.length).toBe(3 * plane);
    let lo = Infinity, hi = -Infinity;
    for (const v of a.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi - lo).toBeGreaterThan(0.5);
    let longest = 0;
    for (let s = 0; s < 30; s++) {
      const t = textLine(s, W, { font: 'dejavu' });
      expect(t.text.length).toBeGreaterThan(0);
      expect(t.text).toBe(t.text.trim());
      for (const ch of t.text) expect(ch === ' ' || TEXT_LINE_CHARS.includes(ch)).toBe(true);
      // Column contrast: the glyphs' columns vary (ink on background); the padding after the crop is exactly 0.
      const col = (x: number) => Array.from({ length: 48 }, (_, y) => t.data[y * W + x]);
      const spread = (x: number) => Math.max(...col(x)) - Math.min(...col(x));
      let inked = 0, last = -1;
      for (let x = 0; x < W; x++) if (spread(x) > 0.4) (inked++, (last = x));
      expect(inked).toBeGreaterThan(20);
      if (last < W - 20) expect(col(W - 1).every((v) => v === 0)).toBe(true);
      longest = Math.max(longest, t.text.length);
    }
    expect(longest).toBeGreaterThan(12);
  });
  it('rejects a bad width or font naming the argument', () => {
    expect(() => textLine(1, 8, { font: 'dejavu' })).toThrow(/width/);
    expect(() => textLine(1, 320, { font: 'arial' as TextLineFont })).toThrow(RangeError);
    expect(() => textLine(1, 320, { font: 'arial' as TextLineFont })).toThrow(/options\.font/);
    expect(fontFlag('--no-such-flag')).toBe('bitmap');
    expect(fontFlag('--no-such-flag', 'dejavu')).toBe('dejavu');
  });
  it('CTC greedy decoding collapses repeats and drops blanks', () => {
    expect(ctcGreedy(Int32Array.of(0, 3, 3, 0, 3, 5, 5, 0))).toEqual([3, 3, 5]);
    expect(ctcText([1, 2, 4], ['a', 'b', 'c'])).toBe('ab ');
    expect(Array.from(frameArgmax([0, 1, 5, 2, 9, 3], 2, 3))).toEqual([2, 1]);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(readsAs(' Market 12 ', 'Market 12')).toBe(true);
    expect(readsAs('Market12', 'Market 12')).toBe(false);
  });
  it('counts lines equal strictly, without leading/trailing spaces, without any space, and agreeing frames', () => {
    // Classes: 0 blank, 1 'a', 2 'b', 3 space (the last class); four frames per line; the feed's one value picks the line.
    const model = (rows: number[][]) =>
      ({
        run: (f: Record<string, { data: Float32Array }>) => {
          const ids = rows[f.x.data[0]], y = new Float32Array(ids.length * 4);
          ids.forEach((k, t) => (y[t * 4 + k] = 1));
          return { y: { data: y, shape: [1, ids.length, 4] } };
        },
      }) as unknown as OnnxModel;
    const ref = model([[1, 0, 2, 0], [3, 1, 0, 2], [1, 0, 3, 2], [1, 1, 2, 2], [1, 0, 2, 0]]);
    // Same; a leading space lost; an inner space lost; one frame moved inside a repeat; a character changed.
    const m = model([[1, 0, 2, 0], [0, 1, 0, 2], [1, 0, 0, 2], [1, 2, 2, 2], [1, 0, 1, 0]]);
    const lines = [0, 1, 2, 3, 4].map((i) => ({ x: { data: Float32Array.of(i), dims: [1] } }));
    expect(lineCounts(ref, lines)(m)).toEqual({ strict: 2, trimmed: 3, noSpace: 4, frames: 16 / 20, lines: 5 });
    expect(lineCounts(ref, lines)(ref)).toEqual({ strict: 5, trimmed: 5, noSpace: 5, frames: 1, lines: 5 });
    expect(lineAgreement(ref, lines)(m)).toBe('2/5 CTC-identical lines (3 without leading/trailing spaces), 80.00 % of frames');
  });
  // The lines are real text: PaddleOCR's float32 rec model reads a good share of them exactly.
  it.skipIf(!existsSync(REC))('PP-OCRv4 rec (float32) reads the rendered text', () => {
    const dict = readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8').split(/\r?\n/);
    if (dict[dict.length - 1] === '') dict.pop();
    for (const ch of TEXT_LINE_CHARS) expect(dict.includes(ch)).toBe(true);
    const m = loadOnnx(REC);
    let exact = 0, chars = 0, same = 0;
    const N = 12;
    for (let i = 0; i < N; i++) {
      const tl = textLine(100 + i, 320);
      const y = Object.values(m.run({ x: { data: tl.data, dims: [1, 3, 48, 320] } }))[0];
      const got = ctcText(ctcGreedy(frameArgmax(y.data as Float32Array, y.shape[1], y.shape[2])), dict);
      if (got === tl.text) exact++;
      const want = tl.text.replace(/ /g, ''), g = got.replace(/ /g, '');
      chars += want.length;
      for (let k = 0; k < Math.min(want.length, g.length); k++) if (want[k] === g[k]) same++;
    }
    expect(exact).toBeGreaterThanOrEqual(3);
    expect(same / chars).toBeGreaterThan(0.75);
  });
  // Real-font lines are close to what the model was trained on: the float32 model reads most of them exactly.
  it.skipIf(!existsSync(REC))('PP-OCRv4 rec (float32) reads most real-font lines exactly', () => {
    const dict = recDict(REC);
    const m = loadOnnx(REC);
    let exact = 0, errs = 0, chars = 0;
    const N = 12, W = 320;
    for (let i = 0; i < N; i++) {
      const tl = textLine(100 + i, W, { font: 'dejavu' });
      const y = Object.values(m.run({ x: { data: tl.data, dims: [1, 3, 48, W] } }))[0];
      const got = ctcText(ctcGreedy(frameArgmax(y.data as Float32Array, y.shape[1], y.shape[2])), dict);
      if (readsAs(got, tl.text)) exact++;
      errs += editDistance(got.trim(), tl.text);
      chars += tl.text.length;
    }
    expect(exact).toBeGreaterThanOrEqual(9);
    expect(1 - errs / chars).toBeGreaterThan(0.95);
  });
});
