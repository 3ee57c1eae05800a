/**
 * Writing a model back to ONNX: `toOnnxBytes(model)` / `saveOnnx(model, path)` encode the model's graph as the
 * file had it (standard operators, not the runtime's fused nodes) with the changes the transforms made — int8
 * weights and their quantize/dequantize operators, pruned or half-precision initializers. Constant nodes are
 * written as initializers and external data is inlined, so the result is one self-contained file.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { describe, typeError, rangeError } from '../errors.js';
import { loadOnnx, OnnxModel, type LoadOnnxOptions } from './model.js';
import { EditModel } from './transform/proto.js';

/** The model's source as an editable protobuf (a fresh decode: edits never reach the model itself). */
export function editOf(fn: string, model: unknown): EditModel {
  if (!(model instanceof OnnxModel)) throw typeError(fn, `model must be an OnnxModel (from loadOnnx), got ${describe(model)}`);
  if (!model.source) throw rangeError(fn, 'this OnnxModel keeps no source graph (it was not created by loadOnnx)');
  return new EditModel(model.source, fn);
}

/** Loads an edited model (its encoded bytes become the new model's source). */
export function modelOf(m: EditModel, opts: LoadOnnxOptions = {}): OnnxModel {
  return loadOnnx(m.bytes(), opts);
}

/** The model as ONNX file bytes (a ModelProto; Constant nodes written as initializers, external data inlined). */
export function toOnnxBytes(model: OnnxModel): Uint8Array {
  return editOf('toOnnxBytes', model).bytes();
}

/** Writes the model as an ONNX file; returns the number of bytes written. */
export function saveOnnx(model: OnnxModel, path: string): number {
  if (typeof path !== 'string' || path === '') throw typeError('saveOnnx', `path must be a non-empty string, got ${describe(path)}`);
  const bytes = editOf('saveOnnx', model).bytes();
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw rangeError('saveOnnx', `cannot write '${path}' (${(e as Error).message})`);
  }
  return bytes.length;
}
