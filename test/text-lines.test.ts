import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctcGreedy, ctcText, frameArgmax, TEXT_LINE_CHARS, textLine } from '../bench/text-lines.js';
import { loadOnnx } from '../src/index.js';

const ASSETS = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets');
const REC = join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');

describe('bench/text-lines', () => {
  it('is deterministic per seed, normalized to [-1, 1], three equal channels, text drawn from the font', () => {
    const a = textLine(7, 200), b = textLine(7, 200), c = textLine(8, 200);
    expect(a.text).toBe(b.text);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
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
  it('CTC greedy decoding collapses repeats and drops blanks', () => {
    expect(ctcGreedy(Int32Array.of(0, 3, 3, 0, 3, 5, 5, 0))).toEqual([3, 3, 5]);
    expect(ctcText([1, 2, 4], ['a', 'b', 'c'])).toBe('ab ');
    expect(Array.from(frameArgmax([0, 1, 5, 2, 9, 3], 2, 3))).toEqual([2, 1]);
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
});
