/**
 * The int8 family: QuantizedTensor (./tensor.ts), calibration (./calibrate.ts), quantize/dequantize
 * (./quantize.ts), packed int8 weights and the int8 GEMM, sync and async (./gemm.ts), and compareOutputs
 * (./compare.ts). Importing it registers the int8 GEMM with the op registry.
 * @module
 */
export { QuantizedTensor } from './tensor.js';
export type { QuantDType, QuantScheme, CalibrationMethod } from './tensor.js';
export { Calibrator } from './calibrate.js';
export type { CalibratorOptions } from './calibrate.js';
export { quantize, dequantize, quantizeDynamic } from './quantize.js';
export type { QuantizeOptions } from './quantize.js';
export { PackedInt8Weights, packInt8Weights, probeVnniPeak, probeAmxInt8Peak } from './gemm.js';
export type { Int8PackOptions, Int8GemmOptions } from './gemm.js';
export { compareOutputs } from './compare.js';
export type { OutputComparison } from './compare.js';
