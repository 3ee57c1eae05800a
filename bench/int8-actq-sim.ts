/**
 * Simulated activation quantization for PaddleOCR rec's int8 convs: the model is quantized with int8 weights
 * (GPTQ-rounded, `convForm: 'weight-only'`), and the input of every groups-1 conv is quantized and dequantized in
 * float32 with a chosen scheme (bits, per tensor / per pixel / per group of channels, range clipping) before the
 * float32 conv: the numerics an int8 kernel with that activation quantization would have, measured before writing
 * one. Counts CTC-identical lines and per-frame argmax agreement with float32 over `--lines` generated text lines.
 * Run: `npm run build:ts && node dist/bench/int8-actq-sim.js [--lines 200] [--samples 16] [--schemes a,b,…]`
 * (a scheme: `t8` per tensor 8-bit, `p8` per pixel, `g32x8` groups of 32 channels per pixel, `p8c99.9` per pixel
 * clipped to the 99.9th percentile of |x − mid| … ; `none` float32 activations).
 * @module
 */
import { editOf, modelOf } from '../src/onnx/export.js';
import { quantizeEdit, roundingMoments, type OnnxQuantizeOptions } from '../src/onnx/transform/quantize.js';
import { parseActScheme, setActScheme } from './actq-hook.js';
import { numFlag } from './measure.js';
import { recLines } from './text-lines.js';

const LINES = numFlag('--lines', 200);
const SAMPLES = numFlag('--samples', 16);
const arg = (f: string, d: string) => (process.argv.includes(f) ? process.argv[process.argv.indexOf(f) + 1] : d);
const SCHEMES = arg('--schemes', 'none,t8,p8,g64x8,g32x8,g16x8,p9,p10,p7');
const W = 320;

function main() {
  const { path: rec, f32, feed, score } = recLines(LINES, W);
  const base: OnnxQuantizeOptions = { mode: 'dynamic', convForm: 'weight-only' };
  const moments = SAMPLES > 0 ? roundingMoments(editOf('bench', f32), base, Array.from({ length: SAMPLES }, (_, i) => feed(5000 + i))) : null;
  const m = editOf('bench', f32);
  quantizeEdit(m, base, moments);
  const wo = modelOf(m);
  console.log(`PaddleOCR rec 1×3×48×${W}; ${LINES} lines, weights int8 (GPTQ ${SAMPLES} samples), conv inputs fake-quantized:`);
  for (const s of SCHEMES.split(',')) {
    setActScheme(parseActScheme(s));
    console.log(`${s}: ${score(wo)}`);
  }
  setActScheme(null);
}

main();
