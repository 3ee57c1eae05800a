// Which function call number i of a seed makes, and how an outcome is classified.
import { API_GENS, apiTargets, genApiCall } from './targets-api.mjs';
import { genNativeCall, NATIVE_SPECS } from './targets-native.mjs';
import { ONNX_WEIGHTS } from './targets-onnx.mjs';
import { native } from '../../dist/src/native.js';
import { callSeed, Rand } from './values.mjs';

/** Addon functions without a spec (a new binding function): called with generic arguments until one is added. */
const nativeNames = Object.keys(native).filter((k) => typeof native[k] === 'function');
const unspecced = nativeNames.filter((k) => !NATIVE_SPECS[k]);
for (const k of unspecced) NATIVE_SPECS[k] = { args: ['f32:n', 'size:n', 'f32:n', 'size:n'], dims: 'n' };

/** Targets that cost tens of milliseconds a call (timed probes, file reads, training): drawn rarely. */
const SLOW = { loadDigits: 0.2, probeHalfPeak: 0.3, probeVnniPeak: 0.3, probeAmxInt8Peak: 0.3, probeF32Peak: 0.3, probeReadBandwidth: 0.3, fit: 1, distill: 1, measureLatency: 1, measureLatencies: 0.5, trace: 1 };

/** Every target with its weight: kernel-reaching exports and addon functions are drawn more often. */
export function targets() {
  const list = [];
  for (const k of apiTargets()) list.push([SLOW[k] ?? (/^register(Async|Weight)/.test(k) ? 0.1 : /^register/.test(k) ? 0.3 : API_GENS[k] ? 4 : 1), `api:${k}`]);
  // A loaded model's run surface (test/fuzz/targets-onnx.mjs): not exports, so listed by name.
  for (const [k, w] of Object.entries(ONNX_WEIGHTS)) list.push([w, `api:${k}`]);
  list.push([30, 'api:#method']);
  list.push([0.2, 'api:#worker']);
  for (const k of Object.keys(NATIVE_SPECS)) if (typeof native[k] === 'function') list.push([SLOW[k] ?? 4, `native:${k}`]);
  return list;
}

const TARGETS = targets();

/** The call number `i` of run `seed` (null when `only` excludes it). Every call replays alone from (seed, i). */
export function genCall(seed, i, ctx, only, exclude = null) {
  const R = new Rand(callSeed(seed, i));
  const t = R.weighted(TARGETS);
  const [kind, name] = t.split(/:(.*)/s);
  const shown = kind === 'native' ? `native.${name}` : name;
  const matches = (o) => shown === o || (o.endsWith('*') && shown.startsWith(o.slice(0, -1)));
  if (only && !only.some(matches)) return null;
  if (exclude && exclude.some(matches)) return null;
  try {
    return kind === 'native' ? genNativeCall(R, name) : genApiCall(R, name, ctx);
  } catch (e) {
    // Argument construction went through the library (packWeights, quantize…) and that threw: the call is the fault.
    return { name: `${kind === 'native' ? 'native.' : ''}${name}(setup)`, args: [], invoke: () => { throw e; }, notes: ['setup threw'] };
  }
}

const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not a constructor|Cannot perform|is not iterable|Cannot convert|Invalid typed array length|Invalid array length|Maximum call stack|Array buffer allocation failed|Cannot destructure|undefined is not|null is not|Cannot create property|Cannot access|before initialization|Cannot mix BigInt|Invalid time value|offset is out of bounds|Start offset|Invalid DataView|out of memory/i;

/** 'clean' for an error a caller can act on (named argument, expected class), 'internal' for a leaked one. */
export function classify(e) {
  if (!(e instanceof Error)) return typeof e === 'object' && e?.name === 'FuzzProbeError' ? 'clean' : 'internal';
  if (e.name === 'FuzzProbeError') return 'clean';
  if (e.name === 'WrongResult') return 'wrong';
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.name === 'SchedulerError') return 'clean';
  if (!(e instanceof TypeError || e instanceof RangeError)) return 'internal';
  return INTERNAL.test(e.message) ? 'internal' : 'clean';
}

/** A class key for an error: its type and message with numbers, quoted text and lists folded (the functions that
 * raised it are listed beside the class by the driver). */
export function errorKey(name, e) {
  const msg = String(e?.message ?? e)
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N')
    .replace(/\[[^\]]*\]/g, '[…]')
    .slice(0, 140);
  void name;
  return `${e?.name ?? typeof e}: ${msg}`;
}

export { unspecced };
