/**
 * Load test of `simdtensor serve` over loopback HTTP (`npm run bench -- --serve`, or `node dist/bench/serve-http.js`):
 *
 * 1. MLP 256→2048→2048→10 (f32, packed, linearAsync on one intra-op thread, one batch at a time): throughput and
 *    p50/p99 latency at 1, 16, 64 and 256 closed-loop keep-alive clients, `--max-batch 32` vs `--max-batch 1`.
 * 2. HTTP cost per request: server CPU time per request (process.cpuUsage in the server process, all its threads)
 *    for a tiny model (256→10) with JSON bodies and with binary tensors, next to a bare node:http server that only
 *    parses the same JSON and answers 10 floats.
 * 3. Soak: open-loop arrivals at 10× the batched MLP's measured rate with `--max-queue 64` for SOAK_S seconds: every
 *    request must be answered 200 or 503, the server's RSS is sampled, and it must be healthy afterwards.
 *
 * The server runs in a child process (the load generator would otherwise share its CPU time), the clients are
 * node:http keep-alive Agents with pre-encoded bodies (not fetch: on this VM fetch costs ~0.5–1 ms of client CPU
 * per request). Bounded: each point runs POINT_S seconds per server (the batched and the --max-batch 1 server are
 * both up and measured in alternating segments, so background load drifts hit both alike); about 75 s in all.
 *
 *   node dist/bench/serve-http.js [--quick] [--point-s 2] [--soak-s 8] [--json FILE] [--parts mlp,overhead,soak] [--clients 1,16,64] [--max-delay-ms 2]
 *   node dist/bench/serve-http.js --parts overhead --overhead-interleave [--ab OTHER_CHECKOUT] [--variants bare-bin,held-bin,stub-bin,tiny-bin]
 *     the overhead servers all up at once, measured in alternating segments (load drift cancels); --ab adds the
 *     model servers of another build (its dist/bench/serve-http.js) for an A/B in one run; the 'held' floors are
 *     the bare server with its answers held --max-delay-ms, as a batch's are
 *   [--warm-s S] [--soak-rate N] [--server-node-args "..."] [--profile-server DIR] (servers under --cpu-prof)
 *   [--batch-delay adaptive|fixed] the served models' batching delay (default adaptive, as `simdtensor serve`);
 *   [--compare-fixed] also the batched MLP and the overhead model servers with --batch-delay fixed, in the same
 *     interleaved run
 *   node dist/bench/serve-http.js --parts none --onnx model.onnx --input-shape 1,3,48,320   an ONNX model too
 *     (its first input, binary FP32; e.g. a PaddleOCR model once the ONNX runtime has the convolution ops)
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { rng } from '../src/random.js';

const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(k);
const val = (k: string, d: number) => {
  const i = argv.indexOf(k);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const QUICK = flag('--quick');
const POINT_S = val('--point-s', QUICK ? 0.8 : 2);
/** --max-delay-ms: the served models' batching delay (default 2, as `simdtensor serve`). */
const MAX_DELAY_MS = val('--max-delay-ms', 2);
const SOAK_S = val('--soak-s', QUICK ? 3 : 8);
/** --soak-rate N: the soak's offered rate in requests/s (default 10× the batched MLP rate at 64 clients; with it the soak runs without the mlp part). */
const SOAK_RATE = val('--soak-rate', 0);
/** The soak client's bound on requests outstanding at once; arrivals past it are counted as skipped, not queued in the client. */
const SOAK_MAX_OUTSTANDING = 4096;
const WARM_S = val('--warm-s', QUICK ? 0.2 : 0.4);
/** Alternating segments per point when comparing servers (batched vs --max-batch 1). */
const SEGMENTS = QUICK ? 2 : 4;
/** --clients 1,16,64: the closed-loop client counts of the MLP and ONNX parts. */
const CLIENTS = argv.indexOf('--clients') >= 0 ? argv[argv.indexOf('--clients') + 1].split(',').map(Number) : QUICK ? [1, 64] : [1, 16, 64, 256];
/** --parts mlp,overhead,soak: which parts to run (default all; the soak needs the mlp part's rate). */
const PARTS = (argv.indexOf('--parts') >= 0 ? argv[argv.indexOf('--parts') + 1] : 'mlp,overhead,soak').split(',');
/** --variants bare-json,bare-bin,stub-json,stub-bin,tiny-json,tiny-bin: the overhead part's servers (default all). */
const VARIANTS = argv.indexOf('--variants') >= 0 ? argv[argv.indexOf('--variants') + 1].split(',') : null;
/** --overhead-interleave: the overhead part's servers all up at once, measured in alternating segments. */
const OVERHEAD_INTERLEAVE = flag('--overhead-interleave');
/** --ab DIR: also run the overhead part's model servers from another build's bench (DIR/dist/bench/serve-http.js). */
const AB_DIR = argv.indexOf('--ab') >= 0 ? argv[argv.indexOf('--ab') + 1] : null;
/** --server-node-args "--max-semi-space-size=16 ...": node/V8 flags for the server processes. */
const SERVER_NODE_ARGS = argv.indexOf('--server-node-args') >= 0 ? argv[argv.indexOf('--server-node-args') + 1].split(' ').filter(Boolean) : [];
/** --profile-server DIR: run the servers under --cpu-prof, profiles written to DIR when each stops. */
const PROFILE_DIR = argv.indexOf('--profile-server') >= 0 ? argv[argv.indexOf('--profile-server') + 1] : null;
/** --batch-delay adaptive|fixed: the served models' batching delay (default adaptive, as `simdtensor serve`). */
const BATCH_DELAY = (argv.indexOf('--batch-delay') >= 0 ? argv[argv.indexOf('--batch-delay') + 1] : 'adaptive') as 'adaptive' | 'fixed';
/** --compare-fixed: the batched servers once more with --batch-delay fixed, measured in the same interleaved run. */
const COMPARE_FIXED = flag('--compare-fixed');
const jsonOut = argv.indexOf('--json') >= 0 ? argv[argv.indexOf('--json') + 1] : null;

// ---------- the server process ----------

type ServerKind = 'mlp' | 'tiny' | 'stub' | 'bare' | 'bare-held';
interface ServerConfig {
  kind: ServerKind | 'onnx';
  maxBatch: number;
  maxQueue: number;
  /** The servers' --max-delay-ms (default 2; the bench's --max-delay-ms). */
  maxDelayMs?: number;
  /** The servers' batching delay (default: the bench's --batch-delay). */
  batchDelay?: 'adaptive' | 'fixed';
  /** kind 'onnx': the model file. */
  file?: string;
}

async function serverMain(cfg: ServerConfig): Promise<void> {
  let port: number;
  let batches = () => 0;
  if (cfg.kind === 'bare' || cfg.kind === 'bare-held') {
    // The floor: node:http, JSON.parse of the same body, 10 floats back. No model, no validation.
    const out = JSON.stringify({ outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 10], data: Array.from({ length: 10 }, (_, i) => i / 7) }] });
    const binHead = Buffer.from(JSON.stringify({ outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }] }));
    const binOut = Buffer.concat([binHead, Buffer.from(new Float32Array(10).buffer)]);
    // 'bare-held': the same, but the answers are held and written together maxDelayMs after the first of them
    // arrived, as a batch of the real server's would be (the floor at the real server's rate and wake-ups).
    const held: (() => void)[] = [];
    const hold = (f: () => void) => {
      if (cfg.kind !== 'bare-held') return f();
      if (held.push(f) === 1)
        setTimeout(() => {
          for (const g of held.splice(0)) g();
        }, cfg.maxDelayMs ?? 2);
    };
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ihcl = req.headers['inference-header-content-length'];
        if (ihcl !== undefined) {
          // Binary tensors: JSON.parse of the header, the floats (a view, or a copy when unaligned), 10 floats back after a JSON header.
          const jl = Number(ihcl);
          JSON.parse(body.subarray(0, jl).toString());
          const at = body.byteOffset + jl;
          if (at % 4 === 0) new Float32Array(body.buffer, at, (body.length - jl) >> 2);
          else new Float32Array(Uint8Array.prototype.slice.call(body, jl).buffer); // unaligned: one copy, as the server does
          hold(() => {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': binOut.length, 'inference-header-content-length': binHead.length });
            res.end(binOut);
          });
          return;
        }
        const j = JSON.parse(body.toString());
        Float32Array.from(j.inputs[0].data as number[]);
        hold(() => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
          res.end(out);
        });
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as { port: number }).port;
  } else if (cfg.kind === 'onnx') {
    const lib = await import('../src/index.js');
    lib.setNumThreads(1);
    const s = lib.createServer(lib.loadOnnx(cfg.file!), { name: 'mlp', maxBatch: cfg.maxBatch, maxDelayMs: cfg.maxDelayMs ?? 2, batchDelay: cfg.batchDelay ?? 'adaptive', maxQueue: cfg.maxQueue, maxConcurrentBatches: 1, libraryMetrics: false });
    port = (await s.listen(0, '127.0.0.1')).port;
    batches = () => s.metrics.batches;
  } else {
    const lib = await import('../src/index.js');
    lib.setNumThreads(1);
    const sizes = cfg.kind === 'mlp' ? [256, 2048, 2048, 10] : [256, 10];
    // 'stub': no kernel call at all (10 outputs per row copied from the input on the JS thread), so the server's
    // CPU per request is the HTTP + protocol + batching cost alone.
    const model =
      cfg.kind === 'stub'
        ? {
            batchable: true,
            inputs: [{ name: 'input', dtype: 'float32' as const, shape: [-1, 256] }],
            outputs: [{ name: 'output', dtype: 'float32' as const, shape: [-1, 10] }],
            run: (f: Record<string, { shape: number[]; data: ArrayBufferView }>) => {
              const rows = f.input.shape[0];
              const x = f.input.data as Float32Array;
              const y = new Float32Array(rows * 10);
              for (let r = 0; r < rows; r++) y.set(x.subarray(r * 256, r * 256 + 10), r * 10);
              return { output: { dtype: 'float32' as const, shape: [rows, 10], data: y } };
            },
          }
        : lib.mlp(sizes, { seed: 0 });
    const s = lib.createServer(model, { name: 'mlp', maxBatch: cfg.maxBatch, maxDelayMs: cfg.maxDelayMs ?? 2, batchDelay: cfg.batchDelay ?? 'adaptive', maxQueue: cfg.maxQueue, maxConcurrentBatches: 1, libraryMetrics: false });
    port = (await s.listen(0, '127.0.0.1')).port;
    batches = () => s.metrics.batches;
  }
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'exit') process.exit(0); // lets --cpu-prof write its profile
    if (m.cmd === 'stats') {
      const u = process.resourceUsage();
      process.send!({ cpuUs: u.userCPUTime + u.systemCPUTime, sysUs: u.systemCPUTime, csw: u.voluntaryContextSwitches + u.involuntaryContextSwitches, rss: process.memoryUsage().rss, batches: batches() });
    }
  });
  process.send!({ port });
}

class Server {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}
  static async start(cfg: ServerConfig, script = fileURLToPath(import.meta.url)): Promise<Server> {
    const execArgv = [...process.execArgv, ...SERVER_NODE_ARGS, ...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [])];
    const child = fork(script, ['--server', JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    const port = await new Promise<number>((res, rej) => {
      child.once('message', (m: { port: number }) => res(m.port));
      child.once('exit', (c) => rej(new Error(`server exited with ${c}`)));
    });
    return new Server(child, port);
  }
  stats(): Promise<{ cpuUs: number; sysUs?: number; csw?: number; rss: number; batches: number }> {
    return new Promise((res) => {
      this.child.once('message', (m: { cpuUs: number; sysUs?: number; csw?: number; rss: number; batches: number }) => res(m));
      this.child.send({ cmd: 'stats' });
    });
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  stop(): Promise<void> {
    return new Promise((res) => {
      if (!this.alive) return res();
      this.child.once('exit', () => res());
      if (PROFILE_DIR) this.child.send({ cmd: 'exit' });
      else this.child.kill('SIGTERM');
    });
  }
}

// ---------- the clients ----------

function jsonBody(seed: number): Buffer {
  const r = rng(seed);
  const data = Array.from({ length: 256 }, () => Math.round((r() - 0.5) * 2e4) / 1e4);
  return Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 256], datatype: 'FP32', data }] }));
}
function binaryBody(seed: number): { body: Buffer; headers: Record<string, string> } {
  const r = rng(seed);
  const f = Float32Array.from({ length: 256 }, () => r() - 0.5);
  const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 256], datatype: 'FP32', parameters: { binary_data_size: 1024 } }], outputs: [{ name: 'output', parameters: { binary_data: true } }] }));
  return { body: Buffer.concat([h, Buffer.from(f.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(h.length) } };
}

interface Point {
  clients: number;
  requests: number;
  reqPerS: number;
  p50ms: number;
  p99ms: number;
  statuses: Record<string, number>;
  serverCpuUsPerReq: number;
  /** Of which system time (kernel: socket reads and writes, wake-ups). */
  serverSysUsPerReq: number;
  /** Server context switches (voluntary + involuntary) per request. */
  contextSwitchesPerReq: number;
  /** Mean rows per batch the model ran in the measured window (0 for the bare server). */
  meanBatch: number;
}

const pct = (a: Float64Array | number[], p: number) => {
  const s = Array.from(a).sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

function send(agent: http.Agent, port: number, body: Buffer, headers: Record<string, string>): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v2/models/mlp/infer', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.end(body);
  });
}

/** What the measured parts of one or more segments add up to. */
interface Acc {
  lat: number[];
  statuses: Record<string, number>;
  secs: number;
  cpuUs: number;
  /** System CPU time and context switches of the server (absent from an older build's server in an --ab run). */
  sysUs: number;
  csw: number;
  batches: number;
}
const newAcc = (): Acc => ({ lat: [], statuses: {}, secs: 0, cpuUs: 0, sysUs: 0, csw: 0, batches: 0 });

/** `clients` closed-loop clients on `agent` for warmS + measureS seconds; the measured part goes into `acc`. */
async function segment(srv: Server, agent: http.Agent, clients: number, bodies: { body: Buffer; headers: Record<string, string> }[], warmS: number, measureS: number, acc: Acc): Promise<void> {
  let measuring = false;
  let stop = false;
  let k = 0;
  const client = async () => {
    while (!stop) {
      const b = bodies[k++ % bodies.length];
      const t0 = performance.now();
      const st = await send(agent, srv.port, b.body, b.headers);
      if (measuring && !stop) {
        acc.lat.push(performance.now() - t0);
        acc.statuses[st] = (acc.statuses[st] ?? 0) + 1;
      }
    }
  };
  const all = Array.from({ length: clients }, client);
  await new Promise((r) => setTimeout(r, warmS * 1000));
  const c0 = await srv.stats();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, measureS * 1000));
  measuring = false;
  acc.secs += (performance.now() - t0) / 1000;
  const c1 = await srv.stats();
  acc.cpuUs += c1.cpuUs - c0.cpuUs;
  acc.sysUs += (c1.sysUs ?? NaN) - (c0.sysUs ?? NaN);
  acc.csw += (c1.csw ?? NaN) - (c0.csw ?? NaN);
  acc.batches += c1.batches - c0.batches;
  stop = true;
  await Promise.all(all);
}

function point(clients: number, a: Acc): Point {
  const n = a.lat.length;
  return { clients, requests: n, reqPerS: n / a.secs, p50ms: pct(a.lat, 50), p99ms: pct(a.lat, 99), statuses: a.statuses, serverCpuUsPerReq: a.cpuUs / Math.max(1, n), serverSysUsPerReq: a.sysUs / Math.max(1, n), contextSwitchesPerReq: a.csw / Math.max(1, n), meanBatch: a.batches > 0 ? n / a.batches : 0 };
}

/** `clients` closed-loop keep-alive clients for WARM_S + POINT_S seconds; stats over the measured part. */
async function closedLoop(srv: Server, clients: number, bodies: { body: Buffer; headers: Record<string, string> }[]): Promise<Point> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const acc = newAcc();
  await segment(srv, agent, clients, bodies, WARM_S, POINT_S, acc);
  agent.destroy();
  return point(clients, acc);
}

/**
 * The same load on several servers in SEGMENTS alternating segments (POINT_S in all per server), so a change in
 * the machine's background load hits every server alike and their ratio stays meaningful.
 */
async function interleaved(servers: Server[], clients: number, bodies: { body: Buffer; headers: Record<string, string> }[]): Promise<Point[]> {
  const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: clients }));
  const accs = servers.map(newAcc);
  for (let seg = 0; seg < SEGMENTS; seg++)
    for (let j = 0; j < servers.length; j++) {
      const i = seg % 2 === 0 ? j : servers.length - 1 - j;
      await segment(servers[i], agents[i], clients, bodies, seg === 0 ? WARM_S : WARM_S / 4, POINT_S / SEGMENTS, accs[i]);
    }
  for (const a of agents) a.destroy();
  return accs.map((a) => point(clients, a));
}

/** Like {@link interleaved}, each server with its own bodies. */
async function interleavedEach(servers: Server[], clients: number, bodies: { body: Buffer; headers: Record<string, string> }[][]): Promise<Point[]> {
  const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: clients }));
  const accs = servers.map(newAcc);
  const segs = Math.max(SEGMENTS, 4);
  for (let seg = 0; seg < segs; seg++)
    for (let j = 0; j < servers.length; j++) {
      const i = seg % 2 === 0 ? j : servers.length - 1 - j;
      await segment(servers[i], agents[i], clients, bodies[i], seg === 0 ? WARM_S : WARM_S / 4, POINT_S / segs, accs[i]);
    }
  for (const a of agents) a.destroy();
  return accs.map((a) => point(clients, a));
}

/** Open-loop arrivals at `rate`/s for `secs`, on up to 1024 sockets; RSS sampled every 250 ms. */
async function soak(srv: Server, rate: number, secs: number, bodies: { body: Buffer; headers: Record<string, string> }[]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const statuses: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  let sent = 0;
  let outstanding = 0;
  let skipped = 0;
  const rss: number[] = [];
  const t0 = performance.now();
  let k = 0;
  const rssTimer = setInterval(() => void srv.stats().then((s) => rss.push(s.rss)), 250);
  await new Promise<void>((done) => {
    const tick = () => {
      const el = (performance.now() - t0) / 1000;
      if (el >= secs) return done();
      const due = Math.floor(el * rate) - sent;
      for (let i = 0; i < due; i++) {
        sent++;
        // Bounded: past SOAK_MAX_OUTSTANDING the arrival is dropped by the client (counted), so the client's own
        // memory and sockets stay bounded however far the offered rate exceeds what the box can send.
        if (outstanding >= SOAK_MAX_OUTSTANDING) {
          skipped++;
          continue;
        }
        outstanding++;
        const b = bodies[k++ % bodies.length];
        pending.push(
          send(agent, srv.port, b.body, b.headers).then((st) => {
            outstanding--;
            statuses[st] = (statuses[st] ?? 0) + 1;
          }),
        );
      }
      setTimeout(tick, 2);
    };
    tick();
  });
  const sendSecs = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  clearInterval(rssTimer);
  agent.destroy();
  const health = await new Promise<number>((res) => http.get({ host: '127.0.0.1', port: srv.port, path: '/v2/health/ready', agent: false }, (r) => (r.resume(), res(r.statusCode!))).on('error', () => res(0)));
  const after = await send(new http.Agent(), srv.port, bodies[0].body, bodies[0].headers);
  return { offeredPerS: rate, sentPerS: (sent - skipped) / sendSecs, sent: sent - skipped, skippedByClient: skipped, statuses, rssMiB: { first: (rss[0] ?? 0) / 2 ** 20, max: Math.max(...rss) / 2 ** 20, last: (rss[rss.length - 1] ?? 0) / 2 ** 20 }, healthAfter: health, inferAfter: after };
}

// ---------- main ----------

async function main(): Promise<void> {
  const t0 = performance.now();
  const load0 = os.loadavg()[0];
  const json = Array.from({ length: 64 }, (_, i) => ({ body: jsonBody(i + 1), headers: {} as Record<string, string> }));
  const bin = Array.from({ length: 64 }, (_, i) => binaryBody(i + 1));
  const result: Record<string, unknown> = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavgStart: load0, pointSeconds: POINT_S, maxDelayMs: MAX_DELAY_MS };
  const log = (s: string) => process.stdout.write(s + '\n');
  log(`simdtensor serve load test — ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}, load average ${load0.toFixed(1)} at start; ${POINT_S} s per point; --max-delay-ms ${MAX_DELAY_MS}, --batch-delay ${BATCH_DELAY}`);

  // 1. MLP, batched vs one request at a time: both servers up, measured in alternating segments.
  const mlp: Record<string, Point[]> = {};
  const MODES: [string, number, ('adaptive' | 'fixed')?][] = [['batched (--max-batch 32)', 32], ['one at a time (--max-batch 1)', 1]];
  if (COMPARE_FIXED) MODES.push(['batched, --batch-delay fixed', 32, 'fixed']);
  if (PARTS.includes('mlp')) {
    const servers: Server[] = [];
    for (const [mode, maxBatch, batchDelay] of MODES) {
      servers.push(await Server.start({ kind: 'mlp', maxBatch, maxQueue: 1024, maxDelayMs: MAX_DELAY_MS, batchDelay: batchDelay ?? BATCH_DELAY }));
      mlp[mode] = [];
    }
    for (const c of CLIENTS) {
      const pts = await interleaved(servers, c, json);
      MODES.forEach(([mode], i) => mlp[mode].push(pts[i]));
    }
    for (const srv of servers) await srv.stop();
  }
  result.mlp = mlp;
  if (PARTS.includes('mlp')) log('\nMLP 256→2048→2048→10, JSON bodies, closed-loop keep-alive clients');
  log('mode                            clients   req/s     p50 ms   p99 ms   non-200   server CPU/req   mean batch');
  for (const [mode, pts] of Object.entries(mlp))
    for (const p of pts) {
      const bad = p.requests - (p.statuses['200'] ?? 0);
      log(`${mode.padEnd(32)}${String(p.clients).padStart(7)}${p.reqPerS.toFixed(0).padStart(9)}${p.p50ms.toFixed(2).padStart(10)}${p.p99ms.toFixed(2).padStart(9)}${String(bad).padStart(10)}${(p.serverCpuUsPerReq.toFixed(0) + ' µs').padStart(17)}${p.meanBatch.toFixed(1).padStart(13)}`);
    }
  const b64 = mlp['batched (--max-batch 32)']?.find((p) => p.clients === 64);
  const u64 = mlp['one at a time (--max-batch 1)']?.find((p) => p.clients === 64);
  if (b64 && u64) log(`64 clients: batched / one-at-a-time = ${(b64.reqPerS / u64.reqPerS).toFixed(2)}× (target ≥ 3×); batched p99 ${b64.p99ms.toFixed(1)} ms (target ≤ 20 ms)`);
  const f64 = mlp['batched, --batch-delay fixed']?.find((p) => p.clients === 64);
  if (f64 && u64) log(`64 clients, --batch-delay fixed: batched / one-at-a-time = ${(f64.reqPerS / u64.reqPerS).toFixed(2)}×; batched p99 ${f64.p99ms.toFixed(1)} ms`);

  // 2. HTTP + JSON / binary cost per request (tiny model), and the bare node:http floor.
  const over: Record<string, Point> = {};
  type Variant = { key: string; name: string; kind: ServerKind; bodies: typeof json; script?: string; batchDelay?: 'adaptive' | 'fixed' };
  let variants: Variant[] = [
    { key: 'bare-json', name: 'bare node:http + JSON.parse (floor)', kind: 'bare', bodies: json },
    { key: 'bare-bin', name: 'bare node:http, binary tensors (floor)', kind: 'bare', bodies: bin },
    { key: 'held-json', name: 'bare, answers held max-delay-ms, JSON', kind: 'bare-held', bodies: json },
    { key: 'held-bin', name: 'bare, answers held max-delay-ms, binary', kind: 'bare-held', bodies: bin },
    { key: 'stub-json', name: 'no-kernel stub model, JSON', kind: 'stub', bodies: json },
    { key: 'stub-bin', name: 'no-kernel stub model, binary tensors', kind: 'stub', bodies: bin },
    { key: 'tiny-json', name: 'tiny model 256→10, JSON', kind: 'tiny', bodies: json },
    { key: 'tiny-bin', name: 'tiny model 256→10, binary tensors', kind: 'tiny', bodies: bin },
  ];
  // The held floors only with --variants (or --overhead-interleave), so the default run's table stays as it was.
  if (VARIANTS) variants = variants.filter((v) => VARIANTS.includes(v.key));
  else if (!OVERHEAD_INTERLEAVE) variants = variants.filter((v) => v.kind !== 'bare-held');
  // --ab DIR: the model variants once more, served by another build (DIR/dist/bench/serve-http.js), for an A/B.
  if (AB_DIR)
    variants = variants.concat(
      variants.filter((v) => v.kind !== 'bare' && v.kind !== 'bare-held').map((v) => ({ ...v, key: `${v.key}@ab`, name: `${v.name} [${AB_DIR}]`, script: `${AB_DIR}/dist/bench/serve-http.js` })),
    );
  // --compare-fixed: the model variants once more with the fixed batching delay.
  if (COMPARE_FIXED)
    variants = variants.concat(
      variants.filter((v) => (v.kind === 'stub' || v.kind === 'tiny') && !v.script).map((v) => ({ ...v, key: `${v.key}@fixed`, name: `${v.name}, delay fixed`, batchDelay: 'fixed' as const })),
    );
  if (PARTS.includes('overhead') && OVERHEAD_INTERLEAVE) {
    // Every variant's server up at once, measured in alternating segments (load drift hits all of them alike).
    const servers: Server[] = [];
    for (const v of variants) servers.push(await Server.start({ kind: v.kind, maxBatch: 32, maxQueue: 1024, maxDelayMs: MAX_DELAY_MS, batchDelay: v.batchDelay ?? BATCH_DELAY }, v.script));
    const pts = await interleavedEach(servers, 16, variants.map((v) => v.bodies));
    variants.forEach((v, i) => (over[v.name] = pts[i]));
    for (const srv of servers) await srv.stop();
  } else
    for (const v of variants) {
      if (!PARTS.includes('overhead')) break;
      const srv = await Server.start({ kind: v.kind, maxBatch: 32, maxQueue: 1024, maxDelayMs: MAX_DELAY_MS, batchDelay: v.batchDelay ?? BATCH_DELAY }, v.script);
      over[v.name] = await closedLoop(srv, 16, v.bodies);
      await srv.stop();
    }
  result.overhead = over;
  if (PARTS.includes('overhead')) log('\nServer CPU per request (user+sys of the server process, all threads), 16 clients, 256 floats in, 10 out');
  for (const [n, p] of Object.entries(over))
    log(`  ${n.padEnd(46)} ${p.serverCpuUsPerReq.toFixed(1).padStart(7)} µs   (sys ${p.serverSysUsPerReq.toFixed(0)} µs, ${p.contextSwitchesPerReq.toFixed(2)} csw; ${p.reqPerS.toFixed(0)} req/s, p50 ${p.p50ms.toFixed(2)} ms${p.meanBatch ? `, mean batch ${p.meanBatch.toFixed(1)}` : ''})`);

  // Optional: an ONNX model (--onnx FILE --input-shape 1,3,48,320): its first input as binary FP32 tensors.
  const onnxFile = argv.indexOf('--onnx') >= 0 ? argv[argv.indexOf('--onnx') + 1] : null;
  if (onnxFile) {
    const { loadOnnx } = await import('../src/index.js');
    const meta = loadOnnx(onnxFile).inputs[0];
    const shapeArg = argv.indexOf('--input-shape') >= 0 ? argv[argv.indexOf('--input-shape') + 1].split(',').map(Number) : (meta.dims ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const n = shapeArg.reduce((a, b) => a * b, 1);
    const bodies = Array.from({ length: 8 }, (_, k) => {
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = Math.sin(i * 0.37 + k);
      const h = Buffer.from(JSON.stringify({ inputs: [{ name: meta.name, shape: shapeArg, datatype: 'FP32', parameters: { binary_data_size: n * 4 } }], parameters: { binary_data_output: true } }));
      return { body: Buffer.concat([h, Buffer.from(f.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(h.length) } };
    });
    const pts: Record<string, Point[]> = {};
    const servers: Server[] = [];
    for (const [mode, maxBatch, batchDelay] of MODES) {
      servers.push(await Server.start({ kind: 'onnx', file: onnxFile, maxBatch, maxQueue: 1024, maxDelayMs: MAX_DELAY_MS, batchDelay: batchDelay ?? BATCH_DELAY }));
      pts[mode] = [];
    }
    for (const c of CLIENTS) {
      const ps = await interleaved(servers, c, bodies);
      MODES.forEach(([mode], i) => pts[mode].push(ps[i]));
    }
    for (const srv of servers) await srv.stop();
    result.onnx = { file: onnxFile, inputShape: shapeArg, points: pts };
    log(`\nONNX ${onnxFile}, input '${meta.name}' [${shapeArg.join(', ')}] as binary FP32`);
    for (const [mode, ps] of Object.entries(pts))
      for (const p of ps)
        log(`${mode.padEnd(32)}${String(p.clients).padStart(7)}${p.reqPerS.toFixed(0).padStart(9)}${p.p50ms.toFixed(2).padStart(10)}${p.p99ms.toFixed(2).padStart(9)}${String(p.requests - (p.statuses['200'] ?? 0)).padStart(10)}${(p.serverCpuUsPerReq.toFixed(0) + ' µs').padStart(17)}${p.meanBatch.toFixed(1).padStart(13)}`);
  }

  // 3. Soak at 10× the batched rate.
  if (!PARTS.includes('soak') || (!b64 && !SOAK_RATE)) {
    process.exitCode = Object.values(mlp).flat().some((p) => (p.statuses['200'] ?? 0) !== p.requests) ? 1 : 0;
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
    return;
  }
  const rate = SOAK_RATE || Math.round(10 * b64!.reqPerS);
  const srv = await Server.start({ kind: 'mlp', maxBatch: 32, maxQueue: 64, maxDelayMs: MAX_DELAY_MS });
  const sk = await soak(srv, rate, SOAK_S, json);
  const alive = srv.alive;
  await srv.stop();
  result.soak = { ...sk, aliveAfter: alive };
  const other = Object.entries(sk.statuses).filter(([k]) => k !== '200' && k !== '503');
  log(`\nSoak: ${SOAK_S} s at ${SOAK_RATE ? '--soak-rate' : '10× the batched rate'} (${rate}/s offered, ${sk.skippedByClient} arrivals skipped by the client past ${SOAK_MAX_OUTSTANDING} outstanding, ${sk.sentPerS.toFixed(0)}/s sent — the load generator's limit on this box), --max-queue 64`);
  log(`  ${sk.sent} requests: ${JSON.stringify(sk.statuses)}; answered other than 200/503: ${other.length ? JSON.stringify(Object.fromEntries(other)) : 'none'}`);
  log(`  server RSS ${sk.rssMiB.first.toFixed(0)} → max ${sk.rssMiB.max.toFixed(0)} → ${sk.rssMiB.last.toFixed(0)} MiB; after: ready ${sk.healthAfter}, infer ${sk.inferAfter}, process alive ${alive}`);
  log(`\n(${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${os.loadavg()[0].toFixed(1)} at the end)`);
  result.loadavgEnd = os.loadavg()[0];
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  const failed = other.length > 0 || sk.healthAfter !== 200 || sk.inferAfter !== 200 || !alive || Object.values(mlp).flat().some((p) => (p.statuses['200'] ?? 0) !== p.requests);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--server');
  if (i > 0) void serverMain(JSON.parse(process.argv[i + 1]) as ServerConfig);
  else
    main().catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
