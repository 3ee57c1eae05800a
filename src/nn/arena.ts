/**
 * Scratch arenas for forward passes: the hidden activations of a batch go into two ping-pong buffers reused batch
 * after batch (the executor's `{ out }`), so only the final output is fresh memory. A fresh 32 × 1024 f32
 * activation is a 128 KiB buffer: glibc maps it and the kernel's first writes fault it in page by page (~15 µs a
 * page on the test VM, issue #20), which costs about as much as the layer's GEMM.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { linearAsync } from '../executor/index.js';
import type { Weights } from '../ops/matmul.js';

/** Two scratch buffers for one forward pass at a time; a pass alternates between them layer by layer. */
export class ForwardArena {
  private bufs: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  /**
   * A [rows, n] float32 tensor in whichever scratch buffer does not hold `input` (the layer's input), grown if
   * needed. Its contents are only valid until the arena hands out the same buffer again (two layers later).
   */
  out(rows: number, n: number, input: ArrayBufferView): Tensor<'float32'> {
    const need = rows * n;
    if (!Number.isSafeInteger(need) || need < 0) throw rangeError('ForwardArena.out', `rows (${describe(rows)}) × n (${describe(n)}) must be a non-negative integer`);
    const k = this.bufs[0].length > 0 && this.bufs[0].buffer === input.buffer ? 1 : 0;
    if (this.bufs[k].length < need) this.bufs[k] = new Float32Array(Math.max(need, this.bufs[k].length * 2));
    return new Tensor(this.bufs[k].subarray(0, need), [rows, n], 'float32', need);
  }

  /** True when `t`'s memory is one of this arena's buffers (it must be copied before it outlives the pass). */
  holds(t: ArrayBufferView): boolean {
    return (this.bufs[0].length > 0 && t.buffer === this.bufs[0].buffer) || (this.bufs[1].length > 0 && t.buffer === this.bufs[1].buffer);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.bufs[0].byteLength + this.bufs[1].byteLength;
  }
}

/** Arenas for passes that may run concurrently (one per batch in flight); a pass takes one and gives it back. */
export class ArenaPool {
  private readonly free: ForwardArena[] = [];
  /** At most this many idle arenas are kept. */
  constructor(readonly keep = 4) {}
  acquire(): ForwardArena {
    return this.free.pop() ?? new ForwardArena();
  }
  release(a: ForwardArena): void {
    if (this.free.length < this.keep && !this.free.includes(a)) this.free.push(a);
  }
}

/** One dense layer of {@link denseChainAsync}: y = act(x·wᵀ + bias). */
export interface DenseStep {
  /** The weight (a packed handle, or an [out, in] tensor). */
  weight: Weights;
  bias: Tensor | null;
  /** Output width (the weight's out features). */
  outFeatures: number;
  activation?: 'none' | 'relu' | 'gelu';
}

/**
 * Runs dense layers one after another with `linearAsync` (on the native threads), the hidden activations in
 * `arena` (from `pool` when given one), so the only fresh buffer is the last layer's output. `x` is [rows, in].
 */
export async function denseChainAsync(x: Tensor, steps: readonly DenseStep[], pool: ArenaPool | ForwardArena): Promise<Tensor> {
  const fn = 'denseChainAsync';
  if (!(pool instanceof ArenaPool) && !(pool instanceof ForwardArena)) throw typeError(fn, `pool must be an ArenaPool or a ForwardArena, got ${describe(pool)}`);
  if (!Array.isArray(steps) || steps.length === 0) throw typeError(fn, `steps must be a non-empty array of { weight, bias, outFeatures, activation }, got ${describe(steps)}`);
  if (!(x instanceof Tensor) || x.ndim !== 2) throw typeError(fn, `x must be a 2-D tensor [rows, in], got ${describe(x)}`);
  const arena = pool instanceof ArenaPool ? pool.acquire() : pool;
  try {
    const rows = x.shape[0];
    let h: Tensor = x;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      const act = s.activation ?? 'none';
      if (i + 1 < steps.length) h = await linearAsync(h, s.weight, s.bias, { activation: act, out: arena.out(rows, s.outFeatures, h.data) });
      else h = await linearAsync(h, s.weight, s.bias, { activation: act });
    }
    return h;
  } finally {
    if (pool instanceof ArenaPool) pool.release(arena);
  }
}
