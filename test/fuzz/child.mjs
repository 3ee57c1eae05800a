// One fuzz batch in its own process: runs calls [from, to) of a seed and reports each start and outcome on fd 3
// (or stdout with --verbose), so the parent knows the last call started when this process dies or hangs.
// Usage: node test/fuzz/child.mjs --seed S --from A --to B [--verbose] [--call-timeout MS] [--only name,name]
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genCall, classify, errorKey } from './plan.mjs';
import { show } from './values.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const seed = Number(opt('seed', '1'));
const from = Number(opt('from', '0'));
const to = Number(opt('to', String(from + 1)));
const verbose = argv.includes('--verbose');
const callTimeout = Number(opt('call-timeout', '5000'));
const only = opt('only', '') ? opt('only', '').split(',') : null;
const exclude = opt('exclude', '') ? opt('exclude', '').split(',') : null;
const fd = verbose ? 1 : 3;
const injectCrash = process.env.FUZZ_INJECT_CRASH ? Number(process.env.FUZZ_INJECT_CRASH) : -1;
const injectHang = process.env.FUZZ_INJECT_HANG ? Number(process.env.FUZZ_INJECT_HANG) : -1;
const send = (line) => writeSync(fd, `${line}\n`);
const ctx = { tmpdir: mkdtempSync(join(tmpdir(), 'simdtensor-fuzz-')) };
let current = -1;
const profile = process.env.FUZZ_PROFILE ? new Map() : null;
let next = to;

// A throw from library code outside any call (a timer, a finalizer, an unhandled rejection of an internal
// promise) kills a user's process: report it as such, blaming the last call started.
const fatal = (kind) => (e) => {
  send(`U ${JSON.stringify({ i: current, kind, name: e?.name, message: String(e?.message ?? e).slice(0, 300), stack: String(e?.stack ?? '').split('\n').slice(0, 6).join('\n') })}`);
  try {
    rmSync(ctx.tmpdir, { recursive: true, force: true });
  } catch {
    /* ignore */
  }
  process.exit(70);
};
process.on('uncaughtException', fatal('uncaughtException'));
process.on('unhandledRejection', fatal('unhandledRejection'));

const pending = new Set();

const registry = await import('../../dist/src/ops/registry.js');
const saved = { matmul: registry.matmulImpls.slice(), linear: registry.linearImpls.slice(), pack: registry.packImpls.slice(), cast: registry.castHook.fn };
function restoreRegistries() {
  registry.matmulImpls.splice(0, Infinity, ...saved.matmul);
  registry.linearImpls.splice(0, Infinity, ...saved.linear);
  registry.packImpls.splice(0, Infinity, ...saved.pack);
  registry.castHook.fn = saved.cast;
}

async function settle(p) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hang: true }), callTimeout);
  });
  try {
    return await Promise.race([p.then((value) => ({ value }), (error) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

for (let i = from; i < to; i++) {
  current = i;
  // Argument construction may call the addon too: a crash there is still blamed on call i.
  send(`S ${i} (generating)`);
  // Self-test hooks of the harness (test/fuzz.test.ts): prove a crash and a hang are caught and attributed.
  if (injectCrash === i || injectHang === i) {
    send(`S ${i} injected`);
    if (injectCrash === i) process.kill(process.pid, 'SIGSEGV');
    for (;;);
  }
  current = i;
  const c = genCall(seed, i, ctx, only, exclude);
  if (!c) continue;
  send(`S ${i} ${c.name}`);
  if (verbose) send(`  call: ${c.name}(${c.args.map((a) => show(a)).join(', ')})${c.notes.length ? `  [${c.notes.join('; ')}]` : ''}`);
  const t0 = profile ? performance.now() : 0;
  let outcome;
  let value;
  let error;
  try {
    value = c.invoke();
    if (c.post) {
      c.check = undefined;
      // The harness's own after-call spoiling can trip over a hostile argument (a Proxy in `instanceof`): that is
      // not the call's outcome, and throwing here would drop the call's promise (a false unhandled rejection).
      try {
        c.post();
      } catch {
        /* harness step only */
      }
    }
    if (value && typeof value.then === 'function') {
      if (c.fireAndForget) {
        const p = Promise.resolve(value).catch(() => {});
        pending.add(p);
        p.finally(() => pending.delete(p));
        value = undefined;
        c.check = undefined;
      } else {
        const r = await settle(Promise.resolve(value));
        if (r.hang) outcome = 'hang';
        else if ('error' in r) error = r;
        else value = r.value;
      }
    }
  } catch (e) {
    error = { error: e };
  }
  if (!outcome) {
    if (error) outcome = classify(error.error);
    else if (c.check) {
      try {
        c.check(value);
        outcome = 'ok';
      } catch (e) {
        outcome = 'wrong';
        error = { error: e };
      }
    } else outcome = 'ok';
  }
  if (profile) profile.set(c.name.split('.')[0] === 'native' ? c.name : c.name.replace(/\..*/, '.*'), (profile.get(c.name) ?? 0) + performance.now() - t0);
  send(`O ${i} ${outcome}`);
  if (outcome === 'internal' || outcome === 'wrong' || outcome === 'hang' || verbose) {
    const e = error?.error;
    send(`D ${JSON.stringify({ i, name: c.name, outcome, key: outcome === 'hang' ? `${c.name}: promise not settled after ${callTimeout} ms` : e ? errorKey(c.name, e) : '', message: e ? String(e?.message ?? e).slice(0, 300) : '', stack: e?.stack ? String(e.stack).split('\n').slice(1, 4).join(' | ') : '', call: `${c.name}(${c.args.map((a) => show(a)).join(', ')})`.slice(0, 400), notes: c.notes.join('; ') })}`);
  }
  // A register* call that accepted junk has poisoned this process's registries: restore the ones we can reach,
  // else start a fresh process.
  if (/^register(Matmul|Linear|Pack|Cast)$/.test(c.name)) restoreRegistries();
  else if (outcome === 'wrong' && /^register/.test(c.name)) {
    next = i + 1;
    break;
  }
}
current = -2;
// Let deferred work of the last calls run (timers, completions), so their faults are still caught here.
await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 200))]);
await new Promise((r) => setTimeout(r, 20));
if (profile) process.stderr.write(`PROFILE ${JSON.stringify([...profile].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, Math.round(v)]))}\n`);
send(`E ${next}`);
rmSync(ctx.tmpdir, { recursive: true, force: true });
process.exit(0);
