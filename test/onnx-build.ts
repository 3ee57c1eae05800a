// The ONNX graph builders and the onnxruntime-node runner live with the benchmarks (bench/onnx-models.ts).
export * from '../bench/onnx-models.js';
