// Compile-time checks of the public types (`tsc --noEmit --strict`, run by test/types.test.ts; never executed).
// Each `@ts-expect-error` line must fail to compile: if a wrong call ever type-checks, tsc reports the unused
// directive and the test fails.
import {
  add,
  convertModel,
  pruneModel,
  quantizeModel,
  toOnnxBytes,
  type OnnxModel,
  cast,
  gelu,
  layerNorm,
  linear,
  linearAsync,
  matmul,
  packWeights,
  PackedHalfWeights,
  PackedInt8Weights,
  PackedWeights,
  quantize,
  QuantizedTensor,
  rand,
  relu,
  softmax,
  SparseTensor,
  Tensor,
  toSparse,
  zeros,
} from '../../src/index.js';

const x = rand([2, 3]);
const w = rand([4, 3]);
const kn = rand([3, 4]);

// f32 ops return Tensor<'float32'>: .data is a Float32Array without a cast.
const y1: Float32Array = matmul(x, kn).data;
const y2: Float32Array = linear(x, w).data;
const y3: Float32Array = linear(x, w, rand([4]), { activation: 'relu' }).data;
const e: Float32Array[] = [add(x, 1).data, relu(x).data, gelu(x).data, softmax(x).data, layerNorm(x).data];

// packWeights returns the packed type of each weight kind.
const pf: PackedWeights = packWeights(w);
const pkn: PackedWeights = packWeights(kn, { layout: 'kn' });
const y4: Float32Array = linear(x, pf).data;
const y5: Float32Array = matmul(x, pkn).data;
const w16 = cast(w, 'float16') as Tensor<'float16'>;
const ph: PackedHalfWeights = packWeights(w16);
const ph2: PackedHalfWeights = packWeights(w, { dtype: 'bfloat16' });
const y6: Float32Array = linear(x, ph).data;
const y7: Uint16Array = linear(x, ph, null, { outDtype: 'float16' }).data;
const q: QuantizedTensor = quantize(w);
const p8: PackedInt8Weights = packWeights(q);
const y8: Float32Array = linear(x, p8).data;
const y9: QuantizedTensor = linear(x, q, null, { output: { dtype: 'int8', scale: 0.1 } });
const i8 = zeros([2, 3], 'int8');
const y10: Int32Array = matmul(i8, zeros([3, 4], 'int8')).data;
const sp: SparseTensor = packWeights(toSparse(w));
const y11: Float32Array = linear(x, sp, null, { sparseKernel: 'sparse' }).data;

// A tensor whose dtype is not known statically still works (the catch-all overloads).
const anyT: Tensor = x;
const y12: Tensor = matmul(anyT, anyT);
const p12: PackedWeights | PackedHalfWeights | PackedInt8Weights = packWeights(anyT);

// ---- wrong calls must not compile ----
// @ts-expect-error a number is not a weight
linear(x, 42);
// @ts-expect-error a string is not a weight
matmul(x, 'w');
// @ts-expect-error misspelt option (options are exact)
linear(x, w, null, { activaton: 'relu' });
// @ts-expect-error misspelt option
matmul(x, kn, { transb: true });
// @ts-expect-error unknown activation
linear(x, w, null, { activation: 'tanh' });
// @ts-expect-error misspelt pack option
packWeights(w, { layot: 'kn' });
// @ts-expect-error int8 pack options have no dtype
packWeights(q, { dtype: 'float16' });
// @ts-expect-error an output spec needs its dtype and scale
linear(x, q, null, { output: { zeroPoint: 3 } });
// @ts-expect-error an f32 linear returns float32 data, not Uint16Array
const bad1: Uint16Array = linear(x, w).data;
// @ts-expect-error eltwise ops return float32
const bad2: Int32Array = relu(x).data;
// @ts-expect-error packWeights of f32 weights is not an int8 pack
const bad3: PackedInt8Weights = packWeights(w);
// @ts-expect-error the async forms take the same weights
void linearAsync(x, 42);
// @ts-expect-error and the same exact options
void linearAsync(x, w, null, { activaton: 'relu' });
// @ts-expect-error sparseKernel is a sparse option only
matmul(x, kn, { sparseKernel: 'dense' });

// ONNX transforms: quantizeModel dispatches on the model kind and returns the same kind.
declare const om: OnnxModel;
const oq: OnnxModel = quantizeModel(om, { mode: 'dynamic', weightType: 'uint8', skipOps: ['Conv'] });
const op: OnnxModel = convertModel(pruneModel(oq, { pattern: '2:4' }), { dtype: 'float16' });
const obytes: Uint8Array = toOnnxBytes(op);
// @ts-expect-error an OnnxModel needs mode
quantizeModel(om, {});
// @ts-expect-error convertModel takes float16/bfloat16 only
convertModel(om, { dtype: 'int8' });

export const used = [y1, y2, y3, e, y4, y5, ph, ph2, y6, y7, y8, y9, y10, y11, y12, p12, bad1, bad2, bad3, oq, op, obytes];
