/**
 * Convolution family: depthwise conv, pooling, resize (and conv2d from its own module). One export line per file.
 * @module
 */
export * from './activation.js';
export * from './window.js';
export * from './depthwise.js';
export * from './pool.js';
export * from './resize.js';
