// Targets of a loaded model's run surface: OnnxModel.run / runAsync with options.outputs (caller storage) and signals,
// profile, overlapping calls on one model, and batchOnnx serving it — over five small models (an MLP, a multi-output
// model with an int64 and a view output, an f32 and an int8 conv model with an int64 ArgMax output, a dynamic-shape
// Reshape). Oracles: a second instance of the same bytes gives the expected outputs; storage must be left untouched
// when a call throws; after every call the model must still give the expected outputs. Merged into API_GENS.
import * as api from '../../dist/src/index.js';
import { G, onnxOutputsModel, T, randArr } from '../../dist/bench/onnx-models.js';
import { compare, WrongResult } from './targets-native.mjs';
import { anyValue, FuzzProbeError, hostile, isDetached, label, spoil } from './values.mjs';

// --- the models ---------------------------------------------------------------------------------------------------

/** x [n, 3, h, w] → Conv 3×3 (8 ch) + Relu → MaxPool 2×2 = feat → GlobalAveragePool → Gemm = y [n, 3], cls = ArgMax(y). */
function convBytes() {
  const g = new G(17);
  g.input('x', T.FLOAT, ['n', 3, 'h', 'w']);
  const c = g.node('Relu', [g.node('Conv', ['x', g.f32('cw', [8, 3, 3, 3], randArr(216, 5, 0.4)), g.f32('cb', [8], randArr(8, 6, 0.1))], { pads: [1, 1, 1, 1] })]);
  const p = g.node('MaxPool', [c], { kernel_shape: [2, 2], strides: [2, 2] }, ['feat']);
  const fl = g.node('Flatten', [g.node('GlobalAveragePool', [p])], { axis: 1 });
  g.node('Gemm', [fl, g.f32('gw', [8, 3], randArr(24, 7, 0.5)), g.f32('gb', [3], randArr(3, 8, 0.1))], {}, ['y']);
  g.node('ArgMax', ['y'], { axis: 1, keepdims: 0 }, ['cls']);
  g.output('y', T.FLOAT, ['n', 3]);
  g.output('cls', T.INT64, ['n']);
  g.output('feat', T.FLOAT, ['n', 8, 'ph', 'pw']);
  return g.bytes();
}

/** x [n, 32], s int64 [2] → y = Relu(Reshape(x·W, s)): the plan is 'dynamic' (a shape fed at run time). */
function dynamicBytes() {
  const g = new G(17);
  g.input('x', T.FLOAT, ['n', 32]);
  g.input('s', T.INT64, [2]);
  g.node('Relu', [g.node('Reshape', [g.node('MatMul', ['x', g.f32('w', [32, 64], randArr(32 * 64, 3, 0.3))]), 's'])], {}, ['y']);
  g.output('y', T.FLOAT, ['a', 'b']);
  return g.bytes();
}

/** Feed dims per model: [input name, dims] pairs for a batch of n (h, w for the conv models). */
const ZOO = {
  mlp: { bytes: () => api.toOnnxBytes(api.sequentialToOnnxModel(api.mlp([4, 5, 3], { seed: 1 }))), feeds: (R, n) => [['input', [n, 4]]] },
  multi: { bytes: onnxOutputsModel, feeds: (R, n) => [['x', [n, 32]]] },
  conv: { bytes: convBytes, feeds: (R, n) => [['x', [n, 3, R.pick([2, 5, 8, 17, 24]), R.pick([3, 8, 24])]]] },
  convInt8: { bytes: () => api.toOnnxBytes(api.quantizeModel(api.loadOnnx(convBytes()), { mode: 'dynamic' })), feeds: (R, n) => ZOO.conv.feeds(R, n) },
  dynamic: { bytes: dynamicBytes, feeds: (R, n) => [['x', [n, 32]], ['s', R.pick([[n * 2, 32], [n * 64, 1], [1, n * 64], [n, 64]])]] },
};

const zooCache = new Map();
/** The model under test (shared by the process's calls: plans, kept calls and storage state carry over) and a
 * reference instance of the same bytes that only the oracle runs. */
function zoo(kind) {
  let z = zooCache.get(kind);
  if (!z) {
    const bytes = ZOO[kind].bytes();
    z = { kind, bytes, m: label(api.loadOnnx(bytes), `OnnxModel(${kind})`), ref: api.loadOnnx(bytes) };
    zooCache.set(kind, z);
  }
  return z;
}

// --- feeds, storage, options ----------------------------------------------------------------------------------------

const SENTINEL = { float32: 7.25, int64: -7n };
const CTOR = { float32: Float32Array, int64: BigInt64Array };

/** Valid feeds for `dims` ([name, dims] pairs; an int64 input holds its dims list as values: the Reshape shape). */
function validFeeds(R, dims) {
  const f = {};
  for (const [name, d] of dims) {
    if (name === 's') {
      f.s = { data: BigInt64Array.from(d.map(BigInt)), dims: [2] };
      continue;
    }
    const n = d.reduce((a, b) => a * b, 1);
    const data = randArr(n, 1 + R.int(1000));
    if (R.chance(0.05) && n) data[R.int(n)] = R.pick([NaN, Infinity, -Infinity, 3e38]);
    f[name] = R.chance(0.5) ? label(api.tensor(data, d.slice()), `T(float32,[${d}])`) : { data, dims: d.slice() };
  }
  return f;
}

/** A deep copy of plain feeds (the oracle's and the after-call check's own, never the caller's arrays). */
function cloneFeeds(f) {
  const c = {};
  for (const [k, v] of Object.entries(f)) c[k] = { data: v.data.slice(), dims: (v.dims ?? v.shape).slice() };
  return c;
}

/** Outputs of a run as plain { shape, data copy } by name. */
function snapshot(res) {
  const o = {};
  for (const [k, t] of Object.entries(res)) o[k] = { shape: t.shape.slice(), data: t.data.slice() };
  return o;
}

/** Throws WrongResult unless `res` holds exactly the expected outputs. */
function expectOutputs(res, want, what) {
  if (!res || typeof res !== 'object') throw new WrongResult(`${what}: returned ${typeof res}`);
  for (const [k, w] of Object.entries(want)) {
    const t = res[k];
    if (!t || !ArrayBuffer.isView(t.data)) throw new WrongResult(`${what}: no output '${k}'`);
    if (t.shape.join() !== w.shape.join()) throw new WrongResult(`${what}: output '${k}' shape [${t.shape}], want [${w.shape}]`);
    if (w.data instanceof BigInt64Array) {
      if (!(t.data instanceof BigInt64Array) || t.data.length !== w.data.length || t.data.some((v, i) => v !== w.data[i])) throw new WrongResult(`${what}: int64 output '${k}' differs: [${Array.from(t.data.slice(0, 6))}], want [${Array.from(w.data.slice(0, 6))}]`);
    } else {
      try {
        compare(w.data, t.data);
      } catch (e) {
        throw new WrongResult(`${what}: output '${k}' ${e.message}`);
      }
      if (t.data.length !== w.data.length) throw new WrongResult(`${what}: output '${k}' has ${t.data.length} elements, want ${w.data.length}`);
    }
  }
}

/**
 * Storage for one output with `count` elements. Returns { value (what is passed), data (the array, for the
 * untouched check; null when it cannot be checked), ok (a valid storage), label }.
 */
function storage(R, dtype, count, feedData) {
  const C = CTOR[dtype];
  const filled = (a) => a.fill(SENTINEL[dtype]);
  const kind = R.weighted([[10, 'right'], [2, 'wrap'], [2, 'shared'], [1, 'adjacent'], [2, 'ctor'], [2, 'short'], [2, 'long'], [1, 'detached'], [1, 'resizable'], [1, 'growable'], [1, 'overlapFeed'], [1, 'junk']]);
  switch (kind) {
    case 'right':
      return { value: filled(new C(count)), ok: true, kind };
    case 'wrap': {
      const a = filled(new C(count));
      const asTensor = dtype === 'float32' && R.chance(0.5);
      return { value: asTensor ? api.tensor(a, [count]) : { data: a }, data: a, ok: true, kind: asTensor ? 'Tensor' : '{data}' };
    }
    case 'shared':
      return { value: filled(new C(new SharedArrayBuffer(count * C.BYTES_PER_ELEMENT))), ok: true, kind };
    case 'adjacent': {
      // In a feed's buffer right after the feed (or after other bytes): shares the buffer, not the bytes.
      const gap = R.int(3) * C.BYTES_PER_ELEMENT;
      if (feedData && !feedData.besideUsed && dtype === 'float32' && feedData.byteOffset + feedData.byteLength + gap + count * 4 <= feedData.buffer.byteLength)
        return { value: filled(new C(feedData.buffer, feedData.byteOffset + feedData.byteLength + gap, count)), ok: true, kind: 'beside the feed', used: (feedData.besideUsed = true) };
      return { value: filled(new C(new ArrayBuffer((count + 3) * C.BYTES_PER_ELEMENT), 3 * C.BYTES_PER_ELEMENT, count)), ok: true, kind };
    }
    case 'ctor': {
      const W = R.pick(dtype === 'int64' ? [Float64Array, Int32Array, BigUint64Array, Float32Array] : [Float64Array, Int32Array, Uint8ClampedArray, Uint16Array, BigInt64Array]);
      return { value: new W(count), data: null, ok: false, kind: `${W.name}` };
    }
    case 'short':
    case 'long': {
      const len = Math.max(0, count + (kind === 'short' ? -1 - R.int(2) : 1 + R.int(3)));
      return { value: filled(new C(len)), ok: len === count, kind };
    }
    case 'detached': {
      const a = new C(count);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      return { value: a, data: null, ok: false, kind };
    }
    case 'resizable':
      return { value: filled(new C(new ArrayBuffer(count * C.BYTES_PER_ELEMENT, { maxByteLength: (count + 8) * C.BYTES_PER_ELEMENT }))), ok: false, kind };
    case 'growable':
      return { value: filled(new C(new SharedArrayBuffer(count * C.BYTES_PER_ELEMENT, { maxByteLength: (count + 8) * C.BYTES_PER_ELEMENT }))), ok: false, kind };
    case 'overlapFeed': {
      // A view into a feed's own buffer (its bytes overlap the feed's, or the storage holds the feed itself).
      if (!feedData || dtype !== 'float32' || feedData.length === 0 || count === 0) return { value: filled(new C(count)), ok: true, kind: 'right' };
      const buf = feedData.buffer;
      const start = Math.min(feedData.byteOffset + 4 * R.int(feedData.length), buf.byteLength - 4);
      const n = Math.min(count, (buf.byteLength - start) / 4);
      return { value: new Float32Array(buf, start, n), data: null, ok: false, kind };
    }
    default:
      return { value: R.pick([null, 5, 'y', [1, 2], new DataView(new ArrayBuffer(8)), hostile(R), { data: 5 }]), data: null, ok: false, kind: 'junk' };
  }
}

/** Feeds laid in one bigger buffer (room after them), so storage can be made to overlap or sit beside them. */
function roomyFeeds(f) {
  for (const [k, v] of Object.entries(f)) {
    if (!(v.data instanceof Float32Array)) continue;
    const buf = new ArrayBuffer((v.data.length + 4096) * 4);
    const d = new Float32Array(buf, 0, v.data.length);
    d.set(v.data);
    f[k] = v instanceof api.Tensor ? api.tensor(d, v.shape.slice()) : { data: d, dims: v.dims.slice() };
  }
}

/** Feeds made wrong one way (the call must refuse them cleanly): returns a note. */
function spoilFeeds(R, f, dims) {
  const k = R.pick(dims)[0];
  const how = R.pick(['dims', 'dtype', 'missing', 'extra', 'short', 'detached', 'junk', 'notObject', 'f16', 'nanDims', 'resizable', 'growable']);
  const v = f[k];
  switch (how) {
    case 'dims':
      f[k] = { data: v.data, dims: [...(v.dims ?? v.shape).slice(0, -1), (v.dims ?? v.shape).at(-1) + 1] };
      break;
    case 'dtype':
      f[k] = { data: R.pick([new Float64Array(v.data.length), new Int32Array(v.data.length), new Uint8Array(v.data.length), new BigInt64Array(v.data.length), new Float32Array(v.data.length)]), dims: (v.dims ?? v.shape).slice() };
      break;
    case 'missing':
      delete f[k];
      break;
    case 'extra':
      f.bogus = { data: new Float32Array(1), dims: [1] };
      break;
    case 'short':
      f[k] = { data: v.data.subarray(0, Math.max(0, v.data.length - 1)), dims: (v.dims ?? v.shape).slice() };
      break;
    case 'detached': {
      const d = v.data.slice();
      structuredClone(d.buffer, { transfer: [d.buffer] });
      f[k] = { data: d, dims: (v.dims ?? v.shape).slice() };
      break;
    }
    case 'junk':
      f[k] = anyValue(R);
      break;
    case 'resizable':
    case 'growable': {
      // Accepted or refused (a TypeError), but never a wrong answer; the caller may shrink it while runAsync runs.
      if (!(v.data instanceof Float32Array)) break;
      const n = v.data.length;
      const buf = how === 'resizable' ? new ArrayBuffer(n * 4, { maxByteLength: n * 4 + 64 }) : new SharedArrayBuffer(n * 4, { maxByteLength: n * 4 + 64 });
      const d = R.chance(0.5) ? new Float32Array(buf) : new Float32Array(buf, 0, n);
      d.set(v.data);
      f[k] = { data: d, dims: (v.dims ?? v.shape).slice() };
      break;
    }
    case 'notObject':
      return { feeds: R.pick([null, undefined, 5, 'x', [], hostile(R)]), note: 'feeds not an object' };
    case 'f16':
      f[k] = api.tensor(new Uint16Array(v.data.length), (v.dims ?? v.shape).slice(), 'float16');
      break;
    case 'nanDims':
      f[k] = { data: v.data, dims: (v.dims ?? v.shape).map((d, i) => (i === 0 ? R.pick([NaN, -1, 1.5, 2 ** 53, '2']) : d)) };
      break;
  }
  return { feeds: f, note: `feeds: ${how} ${k}`, mayRefuse: how === 'resizable' || how === 'growable' };
}

/** An AbortSignal for runAsync: none, aborted, aborted after a tick / microtask, aborted twice, or not a signal. */
function runSignal(R) {
  return R.weighted([
    [8, () => ({ signal: undefined })],
    [2, () => ({ signal: AbortSignal.abort(R.chance(0.5) ? undefined : new FuzzProbeError('abort reason')), aborts: true })],
    [2, () => { const c = new AbortController(); setTimeout(() => c.abort(), R.int(3)); return { signal: label(c.signal, 'signal(abort after a tick)'), aborts: true }; }],
    [1, () => { const c = new AbortController(); queueMicrotask(() => c.abort()); return { signal: label(c.signal, 'signal(abort microtask)'), aborts: true }; }],
    [1, () => { const c = new AbortController(); setTimeout(() => { c.abort(); c.abort(new FuzzProbeError('second abort')); }, R.int(2)); return { signal: label(c.signal, 'signal(aborted twice)'), aborts: true }; }],
    [1, () => ({ signal: R.pick([{}, { aborted: true }, 'abort', 5, null, new EventTarget()]), bad: true })],
  ])();
}

/**
 * One call's arguments: the model, feeds and options, with what the oracle knows: `want` (expected outputs when the
 * feeds are valid), `valid` (nothing wrong was passed: the call must succeed unless aborted), the storage arrays.
 */
function runArgs(R, isAsync) {
  const kind = R.weighted([[2, 'mlp'], [3, 'multi'], [2, 'conv'], [2, 'convInt8'], [1, 'dynamic']]);
  const z = zoo(kind);
  const n = R.pick([1, 1, 2, 3, 17, 20, 0]);
  const dims = ZOO[kind].feeds(R, n);
  let feeds = validFeeds(R, dims);
  const roomy = R.chance(0.3);
  if (roomy) roomyFeeds(feeds);
  // Sometimes the previous call's feed arrays again (same objects, new values): a call kept over a feed's storage
  // (keepCall) must then read the new values.
  const prev = z.lastFeeds?.get(dims.map(([, d]) => d.join('x')).join('|'));
  if (prev && R.chance(0.25)) {
    for (const [k, v] of Object.entries(prev)) if (v.data instanceof Float32Array && feeds[k]?.data instanceof Float32Array && !isDetached(v.data.buffer) && v.data.length === feeds[k].data.length) {
      v.data.set(feeds[k].data);
      feeds[k] = { data: v.data, dims: (feeds[k].dims ?? feeds[k].shape).slice() }; // the array, not a Tensor a mutation may have bent
    }
  }
  (z.lastFeeds ??= new Map()).set(dims.map(([, d]) => d.join('x')).join('|'), { ...feeds });
  let want = null;
  try {
    want = snapshot(z.ref.run(cloneFeeds(feeds)));
  } catch {
    /* the model refuses these dims (a conv input smaller than its window): the call must refuse them too */
  }
  const notes = [`model ${kind}, n ${n}`];
  let valid = want !== null;
  let mayRefuse = false; // valid values the call may still refuse (a resizable feed): compared only when it returns
  if (R.chance(0.12)) {
    const s = spoilFeeds(R, feeds, dims);
    feeds = s.feeds;
    notes.push(s.note);
    if (s.mayRefuse) mayRefuse = true;
    else valid = false;
  }
  // options: none, empty, outputs (some or all of them), or junk.
  const stores = [];
  let opts;
  const form = R.weighted([[3, 'none'], [1, 'empty'], [10, 'outputs'], [1, 'junkOutputs'], [0.5, 'notObject']]);
  if (form === 'empty') opts = {};
  else if (form === 'notObject') {
    opts = R.pick([5, 'outputs', true, Symbol('o')]);
    valid = false;
  } else if (form === 'junkOutputs') {
    opts = { outputs: R.pick([5, 'y', null, [], hostile(R), new Float32Array(4)]) };
    if (!Array.isArray(opts.outputs)) valid = false; // [] names no output: no storage
  } else if (form === 'outputs') {
    const outs = {};
    const feedData = Object.values(feeds ?? {}).find((v) => v?.data instanceof Float32Array)?.data;
    for (const o of z.m.outputs) {
      if (!R.chance(0.6)) continue;
      const count = want?.[o.name]?.data.length ?? R.pick([0, 1, 64]);
      const s = storage(R, o.dtype, count, roomy ? feedData : null);
      outs[o.name] = s.value;
      stores.push({ name: o.name, ...s, data: s.data === undefined ? s.value : s.data });
      if (!s.ok) valid = false;
      notes.push(`${o.name}: ${s.kind}`);
    }
    const names = Object.keys(outs);
    if (names.length >= 2 && R.chance(0.15)) {
      // The same array for two outputs.
      outs[names[1]] = outs[names[0]];
      stores.splice(1, 1);
      notes.push(`${names[1]}: same array as ${names[0]}`);
      valid = false;
    }
    if (R.chance(0.05)) {
      outs.bogus = new Float32Array(1);
      valid = false;
      notes.push('unknown output name');
    }
    opts = { outputs: outs };
  }
  let aborts = false;
  if (isAsync) {
    const s = runSignal(R);
    if (s.signal !== undefined) {
      if (opts === undefined) opts = {};
      if (opts && typeof opts === 'object') opts.signal = s.signal;
    }
    if (s.bad && opts && typeof opts === 'object') valid = false;
    aborts = !!s.aborts;
  }
  const refFeeds = want ? cloneFeeds(validFeeds(new (R.constructor)(R.int(1e9)), dims)) : null;
  return { z, feeds, opts, want, valid, mayRefuse, stores, aborts, notes, refFeeds, dims };
}

/** Throws WrongResult when a storage array that must not have been written holds anything but the sentinel. */
function expectUntouched(stores, what) {
  for (const s of stores) {
    const a = s.data;
    if (!ArrayBuffer.isView(a) || isDetached(a.buffer) || a.length === 0) continue;
    const v = SENTINEL[a instanceof BigInt64Array ? 'int64' : 'float32'];
    if (!(a instanceof Float32Array || a instanceof BigInt64Array)) continue;
    for (let i = 0; i < a.length; i++) if (a[i] !== v) throw new WrongResult(`${what}: options.outputs['${s.name}'] (${s.kind}) was written (element ${i} = ${a[i]}) by a call that threw`);
  }
}

/** After a call: the model must give the expected outputs for fresh feeds (no stale storage, kept call or busy flag). */
function expectUsable(c) {
  if (!c.refFeeds) return;
  const want = snapshot(c.z.ref.run(cloneFeeds(c.refFeeds)));
  let got;
  try {
    got = c.z.m.run(cloneFeeds(c.refFeeds));
  } catch (e) {
    throw new WrongResult(`model unusable after the call: ${e?.name}: ${e?.message}`);
  }
  expectOutputs(got, want, 'the next run');
}

/** The checks after a settled call (armed: no generic mutation touched the arguments). */
function verdict(c, armed, spoiled, res, err) {
  if (err === undefined) {
    if (armed && !c.valid) {
      // Only storage of a valid kind may be accepted; anything else must have been refused.
      const bad = c.stores.find((s) => !s.ok);
      if (bad && !spoiled) throw new WrongResult(`accepted options.outputs['${bad.name}'] (${bad.kind})`);
    }
    if (armed && c.want && !spoiled && c.valid) {
      expectOutputs(res, c.want, 'result');
      for (const s of c.stores) if (s.ok && res[s.name]?.data !== (s.data ?? s.value)) throw new WrongResult(`output '${s.name}' is not the caller's storage (${s.kind})`);
    }
  } else {
    const aborted = err?.name === 'AbortError';
    if (armed && c.valid && !c.mayRefuse && !aborted && !spoiled) throw new WrongResult(`a valid call was refused: ${err?.name}: ${String(err?.message).slice(0, 160)}`);
    if (armed && !aborted && !spoiled) expectUntouched(c.stores, 'threw');
  }
  expectUsable(c);
}

/** A caller's interference while a runAsync is queued or in flight. */
const INTERFERE = ['none', 'none', 'none', 'detachFeed', 'detachStorage', 'runNow', 'runAfterTick', 'profileAfterTick', 'secondRunAsync', 'awaitTick'];

function runCall(R, isAsync) {
  const c = runArgs(R, isAsync);
  const what = isAsync ? R.pick(INTERFERE) : 'none';
  if (what !== 'none') c.notes.push(`then ${what}`);
  const g = {
    args: [c.feeds, c.opts],
    note: c.notes.join('; '),
    check: () => {}, // cleared by a generic mutation of the arguments: the oracle inside invoke then stands down
    invoke: async (a) => {
      const armed = g.check !== undefined;
      const m = c.z.m;
      const [feeds, opts] = a;
      let res, err, spoiled = false, sideErr;
      const side = [];
      try {
        if (!isAsync) res = m.run(feeds, opts);
        else {
          const p = m.runAsync(feeds, opts);
          p.catch(() => {}); // awaited below in every case; a side step's throw must not leave it unhandled
          const tick = () => new Promise((r) => setTimeout(r, 0));
          try {
            if (what === 'detachFeed' || what === 'detachStorage') {
              const victim = what === 'detachFeed' ? Object.values(feeds ?? {}).find((v) => v?.data) : c.stores.find((s) => s.data)?.data;
              if (victim && spoil(R, victim) !== 'none') spoiled = true;
            } else if ((what === 'runNow' || what === 'runAfterTick' || what === 'profileAfterTick') && c.refFeeds) {
              if (what !== 'runNow') await tick();
              // Refused (a runAsync is in flight) or run normally: the in-flight one must not be disturbed.
              try {
                const r = what === 'profileAfterTick' ? m.profile(cloneFeeds(c.refFeeds)) : m.run(cloneFeeds(c.refFeeds));
                if (what !== 'profileAfterTick') side.push(() => expectOutputs(r, snapshot(c.z.ref.run(cloneFeeds(c.refFeeds))), 'a run beside a runAsync'));
              } catch (e) {
                if (!(e instanceof RangeError) || !/in flight/.test(e.message)) throw new WrongResult(`a run beside a runAsync: ${e?.name}: ${String(e?.message).slice(0, 160)}`);
              }
            } else if (what === 'secondRunAsync' && c.refFeeds) {
              const q = m.runAsync(cloneFeeds(c.refFeeds));
              q.catch(() => {});
              side.push(async () => {
                let r;
                try {
                  r = await q;
                } catch (e) {
                  throw new WrongResult(`a queued second runAsync: ${e?.name}: ${String(e?.message).slice(0, 160)}`);
                }
                expectOutputs(r, snapshot(c.z.ref.run(cloneFeeds(c.refFeeds))), 'a queued second runAsync');
              });
            } else if (what === 'awaitTick') await tick();
          } catch (e) {
            sideErr = e;
          }
          res = await p;
        }
      } catch (e) {
        err = e;
      }
      for (const s of side) await s();
      if (sideErr) throw sideErr;
      verdict(c, armed, spoiled, res, err);
      if (err !== undefined) throw err;
      return res;
    },
  };
  return g;
}

/** profile(feeds) with mostly valid, sometimes bad feeds: a clean error or a profile of every node. */
function profileCall(R) {
  const c = runArgs(R, false);
  const g = {
    args: [c.feeds],
    note: c.notes[0] + (c.notes.some((x) => x.startsWith('feeds:')) ? `; ${c.notes.find((x) => x.startsWith('feeds:'))}` : ''),
    check: () => {},
    invoke: async (a) => {
      const armed = g.check !== undefined;
      let res, err;
      try {
        res = c.z.m.profile(a[0]);
      } catch (e) {
        err = e;
      }
      if (armed && err === undefined && (!res || !Array.isArray(res.nodes) || !res.nodes.length || !(res.totalMs >= 0))) throw new WrongResult('profile returned no nodes');
      expectUsable(c);
      if (err !== undefined) throw err;
      return res;
    },
  };
  return g;
}

/** batchOnnx serving the model while the caller also runs it: every request answered, each with its own rows. */
function serveCall(R) {
  const kind = R.pick(['mlp', 'conv', 'convInt8', 'multi']);
  const z = zoo(kind);
  const reqs = Array.from({ length: 1 + R.int(5) }, () => {
    const n = R.pick([1, 1, 2, 3]);
    const dims = ZOO[kind].feeds(R, n);
    // The conv models' batches must share h and w; one request in ten has other dims (a signature of its own).
    if (kind.startsWith('conv') && R.chance(0.9)) dims[0][1].splice(2, 2, 8, 8);
    const f = validFeeds(R, dims);
    const host = {};
    for (const [k, v] of Object.entries(f)) host[k] = { dtype: 'float32', shape: (v.dims ?? v.shape).slice(), data: v.data };
    let want = null;
    try {
      want = snapshot(z.ref.run(cloneFeeds(f)));
    } catch {
      /* refused dims */
    }
    const ok = R.chance(0.9);
    return { n, host: ok ? host : R.pick([{}, null, { bogus: host.x ?? host.input }]), valid: ok, want, opts: R.chance(0.85) ? {} : { signal: AbortSignal.abort(), timeoutMs: R.pick([0, 1, -1]) } };
  });
  const opts = { maxBatchSize: R.pick([1, 4, 16]), maxDelayMs: R.pick([0, 1, 2]) };
  for (const q of reqs) if (q.n > opts.maxBatchSize) q.valid = false; // more rows than a batch holds: refused
  const beside = R.pick(['none', 'run', 'runAsync']);
  const refFeeds = validFeeds(R, ZOO[kind].feeds(R, 2));
  const g = {
    args: [label(z.m, `OnnxModel(${kind})`), opts],
    note: `model ${kind}, ${reqs.length} requests, caller ${beside} beside`,
    check: () => {},
    invoke: async (a) => {
      const armed = g.check !== undefined;
      const b = api.batchOnnx(...a);
      const m = z.m;
      const ps = reqs.map((r) => b.infer(r.host, r.opts));
      let side;
      if (beside === 'run') {
        try {
          m.run(cloneFeeds(refFeeds));
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
        }
      } else if (beside === 'runAsync') side = m.runAsync(cloneFeeds(refFeeds));
      const rs = await Promise.allSettled(ps);
      await b.close({ drain: true });
      if (side) await side;
      if (armed)
        rs.forEach((r, i) => {
          const q = reqs[i];
          // The int8 model quantizes its activations with one dynamic scale over the whole tensor, so batchOnnx runs
          // each of its requests alone (onnxBatchable's notBatchedBecause): its responses are checked in full too.
          if (r.status === 'fulfilled' && q.want && !q.opts.signal) expectOutputs(r.value, q.want, `request ${i}`);
          if (r.status === 'rejected' && q.want && !q.opts.signal && q.valid && kind !== 'multi') throw new WrongResult(`request ${i} refused: ${r.reason?.name}: ${String(r.reason?.message).slice(0, 160)}`);
        });
      expectUsable({ z, refFeeds: cloneFeeds(refFeeds) });
      return rs.map((r) => r.status);
    },
  };
  return g;
}

/** Pseudo-targets (not exports: drawn by their names here), merged into API_GENS by targets-api.mjs. */
export const ONNX_GENS = {
  'OnnxModel.run': (R) => runCall(R, false),
  'OnnxModel.runAsync': (R) => runCall(R, true),
  'OnnxModel.profile': (R) => profileCall(R),
  'OnnxModel.serve': (R) => serveCall(R),
};

/** Their draw weights in a whole-fuzzer campaign (an export with a generator weighs 4; ~1 % of calls in all). */
export const ONNX_WEIGHTS = { 'OnnxModel.run': 4, 'OnnxModel.runAsync': 4, 'OnnxModel.profile': 1, 'OnnxModel.serve': 1 };
