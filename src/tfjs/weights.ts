/**
 * Packed-weight cache of the TF.js backend: a model's conv / matmul weights are the same TF.js tensor (data id) on
 * every call, so they are packed once, on first use, and dropped when the backend frees that data.
 * @module
 */

/** Packed forms of tensors, keyed by the TF.js data id and a form name (e.g. 'conv:hwio'). */
export class WeightCache {
  private readonly map = new Map<object, Map<string, unknown>>();
  private packs = 0;

  /** The packed form `key` of the data `dataId`, made by `make` on first use. */
  get<T>(dataId: object, key: string, make: () => T): T {
    let forms = this.map.get(dataId);
    if (!forms) this.map.set(dataId, (forms = new Map()));
    let v = forms.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.packs++;
      forms.set(key, v);
    }
    return v;
  }

  /** Forgets every packed form of `dataId` (its data was freed). */
  drop(dataId: object): void {
    this.map.delete(dataId);
  }

  /** Forgets everything. */
  clear(): void {
    this.map.clear();
  }

  /** Data ids with packed forms held, and packs made so far. */
  stats(): { tensors: number; packs: number } {
    return { tensors: this.map.size, packs: this.packs };
  }
}

/** Per-backend-instance state our kernels read (the packed-weight cache). */
export interface BackendState {
  weights: WeightCache;
}

/** @internal Key of the state on a backend instance. */
export const STATE = Symbol('simdtensor.state');

/** The backend instance's state (created with the backend). */
export function stateOf(backend: object): BackendState {
  const s = (backend as { [STATE]?: BackendState })[STATE];
  if (!s) throw new Error('simdtensor tfjs: kernel called with a backend that is not a simdtensor backend');
  return s;
}
