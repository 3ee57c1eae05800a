/**
 * Seeded malformed-request fuzz of `simdtensor serve`: mutations of valid KServe v2 requests (JSON and binary),
 * broken JSON, wrong names/shapes/datatypes/sizes, bad headers, odd paths and methods, oversized bodies. The
 * server runs in a child process, so a crash shows up as the child exiting. Every reply must be 200, a 4xx with a
 * JSON `{error}`, or 503/504; a 500 or a dropped connection counts as a failure.
 *
 *   npm run build:ts && node dist/bench/serve-fuzz.js [--requests 10000] [--seed 1] [--concurrency 8]
 *
 * `fuzzBodies` is also used by test/serve.test.ts (a smaller seeded slice).
 * @module
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/random.js';
import { numFlag } from './measure.js';

/** One fuzz request. `fresh`: send it on its own connection (it may close the socket: 413s, broken framing). */
export interface FuzzRequest {
  method: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  fresh: boolean;
}

const DATATYPES = ['FP32', 'FP64', 'INT8', 'UINT8', 'INT32', 'INT64', 'BOOL', 'FP16', 'BYTES', 'fp32', '', 'FP3\u0000'];
const JUNK: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', '\u0000', '[]', [], {}, [[]], [null], [1, [2, [3]]], { a: 1 }, 'NaN', '𝔘'];

/**
 * `n` seeded requests against model `model` whose inputs are `{ name: [width, v2datatype] }` (rows along dim 0).
 */
export function* fuzzBodies(seed: number, n: number, model: string, inputs: Record<string, [number, string]>, maxBody = 1 << 16): Generator<FuzzRequest> {
  const rnd = mulberry32(seed >>> 0);
  const int = (k: number) => Math.floor(rnd() * k);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const names = Object.keys(inputs);
  const valid = (rows: number) => ({
    inputs: names.map((name) => {
      const [w, dt] = inputs[name];
      return { name, shape: [rows, w], datatype: dt, data: Array.from({ length: rows * w }, () => (dt === 'FP32' || dt === 'FP64' ? Math.round((rnd() * 2 - 1) * 1000) / 1000 : int(100))) };
    }),
  });
  const infer = `/v2/models/${model}/infer`;
  for (let i = 0; i < n; i++) {
    const rows = 1 + int(3);
    const req: Record<string, any> = valid(rows);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let method = 'POST';
    let path = infer;
    let fresh = false;
    let body: Buffer | null = null;
    const kind = int(14);
    const inp = req.inputs[int(req.inputs.length)];
    switch (kind) {
      case 0: // valid
        break;
      case 1: // truncated JSON
        body = Buffer.from(JSON.stringify(req).slice(0, int(JSON.stringify(req).length)));
        break;
      case 2: {
        // random byte flips
        const b = Buffer.from(JSON.stringify(req));
        for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
        body = b;
        break;
      }
      case 3: // a field replaced by junk
        inp[pick(['name', 'shape', 'datatype', 'data', 'parameters'])] = pick(JUNK);
        break;
      case 4: // top-level junk
        req[pick(['inputs', 'outputs', 'parameters', 'id'])] = pick(JUNK);
        break;
      case 5: // wrong datatype / shape / element
        if (rnd() < 0.33) inp.datatype = pick(DATATYPES);
        else if (rnd() < 0.5) inp.shape = [int(4) - 1, int(10), ...(rnd() < 0.3 ? [int(3)] : [])];
        else (inp.data as unknown[])[int((inp.data as unknown[]).length)] = pick(JUNK);
        break;
      case 6: {
        // binary: a header length and binary sizes that may or may not add up
        const bin = Buffer.alloc(int(64));
        for (let k = 0; k < bin.length; k++) bin[k] = int(256);
        delete inp.data;
        inp.parameters = { binary_data_size: rnd() < 0.5 ? bin.length : int(80) };
        const j = Buffer.from(JSON.stringify(req));
        headers['inference-header-content-length'] = pick([String(j.length), String(int(j.length + 10)), '-1', 'abc', '1e3', '']);
        headers['content-type'] = 'application/octet-stream';
        body = Buffer.concat([j, bin]);
        break;
      }
      case 7: // outputs / parameters variants
        req.outputs = [{ name: pick(['y', 'hidden', 'nope', '']), parameters: pick([undefined, { binary_data: pick(JUNK) }, { binary_data: true }]) }];
        if (rnd() < 0.5) req.parameters = { binary_data_output: pick([true, false, 1, 'yes']), timeout: pick([1e9, -5, 'x', 0, null]) };
        break;
      case 8: // odd paths
        path = pick([`/v2/models/${model}`, `/v2/models/${model}/versions/7/infer`, '/v2/models/%zz/infer', `/v2/models/${model}/infer/extra`, '/v2//models', '/', '/metrics?x=1', '/v2/health/x', `/v2/models/${model}/infer?q=%`, '/v2/models/../../etc/passwd']);
        break;
      case 9: // methods
        method = pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
        // Node's client sends a GET/HEAD/DELETE/OPTIONS body without framing headers, so the server (rightly) reads
        // the body as the next request and closes the connection: send these on their own connection.
        fresh = true;
        break;
      case 10: // headers
        headers[pick(['timeout', 'content-type', 'inference-header-content-length', 'x-junk'])] = pick(['', '0', '-1', 'NaN', '1e400', 'application/x', '9'.repeat(30), '100000000']);
        break;
      case 11: // oversized body
        body = Buffer.alloc(maxBody + 1 + int(1000), 0x20);
        fresh = true;
        break;
      case 12: // deep nesting / huge arrays / duplicates
        body = Buffer.from(pick([
          '['.repeat(5000) + ']'.repeat(5000),
          `{"inputs":[${JSON.stringify(req.inputs[0])},${JSON.stringify(req.inputs[0])}]}`,
          `{"inputs":[{"name":"${names[0]}","shape":[1000000000,1000000000],"datatype":"FP32","data":[]}]}`,
          `{"inputs":[{"name":"${names[0]}","shape":[1,${inputs[names[0]][0]}],"datatype":"FP32","data":[${'[1],'.repeat(inputs[names[0]][0] - 1)}[1]]}]}`,
          '{"__proto__":{"inputs":1},"inputs":[]}',
          '',
          'null',
          '\u0000\u0001\u0002',
        ]));
        break;
      default: // nested data (valid), or rows that exceed the batch
        if (rnd() < 0.5) inp.data = Array.from({ length: rows }, (_, r) => (inp.data as number[]).slice(r * inputs[inp.name][0], (r + 1) * inputs[inp.name][0]));
        else for (const x of req.inputs) { x.shape[0] = 40; x.data = new Array(40 * inputs[x.name][0]).fill(0); }
    }
    yield { method, path, body: body ?? Buffer.from(JSON.stringify(req)), headers, fresh };
  }
}

// ---------- the standalone run ----------

async function child(): Promise<void> {
  const { loadOnnx, createServer } = await import('../src/index.js');
  const { onnxMlp } = await import('./onnx-models.js');
  const s = createServer(loadOnnx(onnxMlp()), { name: 'onnx', maxBody: 1 << 16, cache: 64 });
  const { port } = await s.listen(0);
  process.send!({ port });
}

async function main(): Promise<void> {
  const arg = numFlag;
  const N = arg('--requests', 10_000);
  const seed = arg('--seed', 1);
  const conc = arg('--concurrency', 8);
  const c = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let exited: string | null = null;
  c.on('exit', (code, sig) => (exited = `child exited (code ${code}, signal ${sig})`));
  const port = await new Promise<number>((res) => c.once('message', (m: any) => res(m.port)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  const counts: Record<string, number> = {};
  const failures: string[] = [];
  const it = fuzzBodies(seed, N, 'onnx', { x: [6, 'FP32'] });
  const t0 = performance.now();
  const worker = async () => {
    for (let r = it.next(); !r.done; r = it.next()) {
      const f = r.value;
      const status = await new Promise<number | string>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: f.method, path: f.path, headers: f.headers, agent: f.fresh ? false : agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d) => chunks.push(d));
          res.on('end', () => {
            const code = res.statusCode!;
            if (code >= 400 && f.method !== 'HEAD') {
              try {
                if (typeof JSON.parse(Buffer.concat(chunks).toString()).error !== 'string') return resolve(`${code} without {error}`);
              } catch {
                return resolve(`${code} with a non-JSON body`);
              }
            }
            resolve(code);
          });
        });
        req.on('error', (e) => resolve(f.fresh && /EPIPE|ECONNRESET/.test(e.message) ? 'reset (413 fresh)' : `error ${e.message}`));
        req.end(f.body);
      });
      counts[status] = (counts[status] ?? 0) + 1;
      if (typeof status === 'string' ? !status.startsWith('reset') : status === 500 || status >= 505 || (status >= 500 && status !== 503 && status !== 504))
        if (failures.length < 10) failures.push(`${status}: ${f.method} ${f.path} ${f.body.subarray(0, 100).toString()}`);
      if (exited) break;
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = (performance.now() - t0) / 1000;
  const healthy = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port, path: '/v2/health/ready', agent: false }, (r) => { r.resume(); resolve(r.statusCode!); }).on('error', () => resolve(0)));
  agent.destroy();
  c.kill('SIGTERM');
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`serve fuzz: ${total} requests in ${secs.toFixed(1)} s (seed ${seed}); replies by status: ${JSON.stringify(counts)}`);
  console.log(`server crashed: ${exited ? 'yes, ' + exited : 'no'}; healthy after: ${healthy === 200 ? 'yes' : `no (${healthy})`}; failures: ${failures.length}`);
  for (const f of failures) console.log(`  ${f}`);
  process.exitCode = exited || healthy !== 200 || failures.length || total < N ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--child')) void child();
  else void main();
}
