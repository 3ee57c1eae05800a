/**
 * Caching for serving: packed weights made once per weight, and an LRU cache of results for repeated requests.
 * @module
 */
export { getPacked, releasePacked, setAutoPack, packedCacheStats } from './packed.js';
export { memoize } from './memoize.js';
export type { MemoizeOptions, Memoized } from './memoize.js';
