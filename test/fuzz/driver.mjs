// Runs a seeded fuzz campaign as batches of child processes and sorts what happened: returned, clean error,
// internal error, silently wrong, crash (signal/abort/non-zero exit, uncaught throw), hang (killed after a
// stall). Crashes and hangs are replayed alone to give a one-line reproducer.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CHILD = join(here, 'child.mjs');

/** Runs calls [from, to) of `seed` in one child; resolves with what the child said and how it ended. */
/** The stall limit before a child's first line: start-up is not a call. */
const STARTUP_MS = 15000;

export function runChild({ seed, from, to, stallMs = 20000, callTimeoutMs = 5000, env = {}, only = null, exclude = null, nodeArgs = [], maxRssMb = 2048 }) {
  return new Promise((resolve) => {
    const args = [...nodeArgs, CHILD, '--seed', String(seed), '--from', String(from), '--to', String(to), '--call-timeout', String(callTimeoutMs)];
    if (only) args.push('--only', only.join(','));
    if (exclude) args.push('--exclude', exclude.join(','));
    // A scratch working directory per child: a call that writes to a relative path it was fuzzed into (saveModel to
    // '__proto__', a V8 log) must not leave files in the checkout.
    const cwd = mkdtempSync(join(tmpdir(), 'st-fuzz-cwd-'));
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const res = { started: -1, startedName: '', outcomes: [], details: [], uncaught: null, next: null, stderr: '', code: null, signal: null, killed: false, memory: false };
    // A runaway allocation (an endless loop that allocates) must not take the machine down: watch the RSS.
    const watch = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m && Number(m[1]) / 1024 > maxRssMb) {
          res.killed = true;
          res.memory = true;
          child.kill('SIGKILL');
        }
      } catch {
        /* gone, or not Linux */
      }
    }, 250);
    let buf = '';
    let timer;
    // Until the child's first line (node start-up and loading the addon, before any call) the stall limit is at
    // least STARTUP_MS: a short stallMs is for calls, and start-up on a loaded machine can take seconds.
    const arm = (ms = stallMs) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        res.killed = true;
        child.kill('SIGKILL');
      }, ms);
    };
    arm(Math.max(stallMs, STARTUP_MS));
    child.stdio[3].on('data', (d) => {
      arm();
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const tag = line[0];
        if (tag === 'S') {
          const [, i, name] = line.split(' ');
          res.started = Number(i);
          res.startedName = name;
        } else if (tag === 'O') {
          const [, i, o] = line.split(' ');
          res.outcomes.push([Number(i), o]);
        } else if (tag === 'D') res.details.push(JSON.parse(line.slice(2)));
        else if (tag === 'U') res.uncaught = JSON.parse(line.slice(2));
        else if (tag === 'E') res.next = Number(line.slice(2));
      }
    });
    child.stderr.on('data', (d) => {
      res.stderr += d;
      if (res.stderr.length > 200000) res.stderr = res.stderr.slice(-100000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watch);
      rmSync(cwd, { recursive: true, force: true });
      res.code = code;
      res.signal = signal;
      resolve(res);
    });
  });
}

/** First meaningful line of a crash's stderr (V8 fatal error, ASan summary, abort message). */
function crashSignature(stderr) {
  const lines = stderr.split('\n');
  const pick = (re) => lines.find((l) => re.test(l));
  return (
    pick(/SUMMARY: (Address|UndefinedBehavior)Sanitizer/) ??
    pick(/ERROR: AddressSanitizer/) ??
    pick(/runtime error:/) ??
    pick(/FATAL ERROR|Fatal error|Check failed|Assertion|terminate called|what\(\)|Aborted|napi_|Segmentation/i) ??
    lines.find((l) => l.trim()) ??
    ''
  ).trim().slice(0, 200);
}

/** Counts sanitizer reports in a child's stderr. */
function sanitizerReports(stderr) {
  return (stderr.match(/ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer/g) ?? []).length;
}

/** The distinct sanitizer report sites in a child's stderr: 'file:line: runtime error: …' and ASan summaries. */
function sanitizerSites(stderr) {
  const sites = [];
  for (const l of stderr.split('\n')) {
    const ub = /([\w./-]+:\d+):\d+: runtime error: (.*)/.exec(l);
    if (ub) sites.push(`UBSan ${ub[1].replace(/^(\.\.\/)+/, '')}: ${ub[2].replace(/-?\d+/g, 'N').slice(0, 120)}`);
    const as = /SUMMARY: AddressSanitizer: (\S+) (\S+)/.exec(l);
    if (as) sites.push(`ASan ${as[1]} at ${as[2].replace(/^(\.\.\/)+/, '')}`);
  }
  return sites;
}

/**
 * A campaign: `calls` calls of `seed` in batches of `batch`. Returns counts and the distinct classes of
 * crashes, hangs, internal errors and wrong results, each with a reproducer.
 */
export async function runFuzz({ seed = 1, calls = 10000, batch = 1000, start = 0, stallMs = 20000, callTimeoutMs = 5000, env = {}, only = null, exclude = null, replay = true, log = () => {}, nodeArgs = [], maxRssMb = 2048, maxFailures = Infinity } = {}) {
  const counts = { calls: 0, ok: 0, clean: 0, internal: 0, wrong: 0, crash: 0, hang: 0, sanitizer: 0, processes: 0 };
  const classes = new Map();
  const add = (kind, key, info, fn) => {
    const k = `${kind}|${key}`;
    const c = classes.get(k);
    if (c) {
      c.count++;
      if (fn && !c.functions.includes(fn)) c.functions.push(fn);
    } else classes.set(k, { kind, key, count: 1, functions: fn ? [fn] : [], ...info });
  };
  const end = start + calls;
  let i = start;
  const t0 = Date.now();
  while (i < end) {
    const to = Math.min(end, i + batch);
    if (counts.crash + counts.hang >= maxFailures) {
      counts.stoppedEarly = true;
      break;
    }
    const r = await runChild({ seed, from: i, to, stallMs, callTimeoutMs, env, only, exclude, nodeArgs, maxRssMb });
    counts.processes++;
    counts.sanitizer += sanitizerReports(r.stderr);
    for (const site of sanitizerSites(r.stderr)) add('sanitizer', site, { seed, index: i, range: [i, to] });
    for (const [, o] of r.outcomes) {
      counts.calls++;
      if (o === 'hang') counts.hang++;
      else counts[o] = (counts[o] ?? 0) + 1;
    }
    for (const d of r.details) {
      if (d.outcome === 'internal' || d.outcome === 'wrong' || d.outcome === 'hang')
        add(d.outcome, d.key || d.name, { seed, index: d.i, call: d.call, message: d.message, stack: d.stack, notes: d.notes }, d.name);
    }
    const finished = r.next !== null && r.code === 0;
    if (finished) {
      i = r.next;
    } else {
      // Died or stalled: blame the last call started (it has no outcome line when it took the process down).
      const at = r.started >= 0 ? r.started : i;
      const hadOutcome = r.outcomes.some(([j]) => j === at);
      const kind = r.killed ? 'hang' : 'crash';
      let key;
      if (r.uncaught) key = `${r.uncaught.kind} (last call started: ${r.startedName || '?'}): ${r.uncaught.name}: ${String(r.uncaught.message).replace(/-?\d+(\.\d+)?/g, 'N').slice(0, 140)}`;
      else if (r.memory) key = `${r.startedName}: memory over ${maxRssMb} MiB (killed)`;
      else if (r.killed) key = `${r.startedName}: no progress for ${stallMs} ms (killed)`;
      else key = `${r.startedName}: ${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}: ${crashSignature(r.stderr)}`;
      if (!hadOutcome) counts.calls++;
      counts[kind]++;
      const info = { seed, index: at, deferred: hadOutcome, stderr: r.stderr.split('\n').filter((l) => l.trim()).slice(-25).join('\n'), uncaught: r.uncaught };
      if (replay) {
        const alone = await runChild({ seed, from: at, to: at + 1, stallMs: Math.min(stallMs, 8000), callTimeoutMs, env, nodeArgs, maxRssMb });
        info.reproducesAlone = !(alone.next !== null && alone.code === 0);
        info.call = alone.details.find((d) => d.i === at)?.call;
        if (!info.call) {
          const v = await describeCall(seed, at);
          info.call = v;
        }
      }
      add(kind, key, info);
      log(`  ${kind} at call ${at} (${r.startedName}) ${key}`);
      i = at + 1;
    }
    log(`  calls ${counts.calls}/${calls}: ok ${counts.ok}, clean ${counts.clean}, internal ${counts.internal}, wrong ${counts.wrong}, crash ${counts.crash}, hang ${counts.hang} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  counts.seconds = (Date.now() - t0) / 1000;
  return { counts, classes: [...classes.values()].sort((a, b) => order(a.kind) - order(b.kind) || b.count - a.count) };
}

function order(kind) {
  return ['crash', 'sanitizer', 'hang', 'wrong', 'internal'].indexOf(kind);
}

/** The call's printed form, from a child that only generates it (no call is made). */
async function describeCall(seed, index) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { genCall } from ${JSON.stringify(join(here, 'plan.mjs'))}; import { show } from ${JSON.stringify(join(here, 'values.mjs'))}; import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; const c = genCall(${seed}, ${index}, { tmpdir: mkdtempSync(tmpdir() + '/fz-') }, null); console.log(c.name + '(' + c.args.map((a) => show(a)).join(', ') + ')' + (c.notes.length ? '  [' + c.notes.join('; ') + ']' : ''));`], { cwd: root, encoding: 'utf8', timeout: 20000 });
  return (r.stdout || '').trim().slice(0, 400);
}

/** The one-line reproducer of call `index` of `seed`. */
export function reproducer(seed, index) {
  // Under scripts/asan-addon.sh the fault may need the sanitized addon to show.
  const cmd = /asan/.test(process.env.LD_PRELOAD ?? '') ? 'sh scripts/asan-addon.sh' : 'node scripts/fuzz.mjs';
  return `${cmd} --seed ${seed} --call ${index}`;
}

/** A human report of a campaign. */
export function formatReport({ counts, classes }, { seed, maxClasses = 40 } = {}) {
  const out = [];
  out.push(`fuzz seed ${seed}: ${counts.calls} calls in ${counts.processes} processes, ${counts.seconds.toFixed(1)} s${counts.stoppedEarly ? ' (stopped early: too many crashes/hangs)' : ''}`);
  out.push(`  returned ${counts.ok}, clean errors ${counts.clean}, internal errors ${counts.internal}, silently wrong ${counts.wrong}, crashes ${counts.crash}, hangs ${counts.hang}${counts.sanitizer ? `, sanitizer reports ${counts.sanitizer}` : ''}`);
  let shown = 0;
  for (const c of classes) {
    if (shown++ >= maxClasses) {
      out.push(`  … ${classes.length - maxClasses} more classes`);
      break;
    }
    const fns = c.functions?.length ? `   — in ${c.functions.slice(0, 6).join(', ')}${c.functions.length > 6 ? ` (+${c.functions.length - 6})` : ''}` : '';
    out.push(`  [${c.kind}] x${c.count} ${c.key}${fns}`);
    if (c.kind === 'sanitizer') {
      out.push(`      in the batch: sh scripts/asan-addon.sh --seed ${c.seed} --from ${c.range[0]} --to ${c.range[1]}`);
      continue;
    }
    out.push(`      repro: ${reproducer(c.seed, c.index)}${c.reproducesAlone === false ? `   (not alone: needs the batch before it; ${reproducer(c.seed, c.index).split(' --seed')[0]} --seed ${c.seed} --from ${Math.max(0, c.index - 499)} --to ${c.index + 1})` : ''}`);
    if (c.call) out.push(`      call:  ${c.call}${c.notes ? `  [${c.notes}]` : ''}`);
    if (c.message && c.kind !== 'hang') out.push(`      error: ${c.message.split('\n')[0].slice(0, 200)}`);
    if (c.kind === 'crash' && c.stderr) out.push(...c.stderr.split('\n').slice(-6).map((l) => `      | ${l.slice(0, 200)}`));
  }
  return out.join('\n');
}
