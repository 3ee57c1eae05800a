/**
 * `simdtensor serve MODEL [options]`: serves an .onnx file or a simdtensor model file over HTTP (KServe v2 / Triton
 * protocol) until SIGTERM/SIGINT, then drains. See docs/serving.md.
 * @module
 */
import { parseArgs as parseArgsUtil, type ParseArgsConfig } from 'node:util';
import { FLAG, HELP_FLAG, STR } from './options.js';
import { setNumThreads } from '../executor/index.js';
import { setMonitoring } from '../monitor/index.js';
import { createServer, type InferenceServer, type ServeOptions } from '../serve/server.js';
import { defaultName, loadServable } from '../serve/models.js';

export const SERVE_HELP = `Usage: simdtensor serve MODEL [options]

Serves MODEL — an .onnx file, or a model file written by \`simdtensor optimize\` / saveModel (.safetensors) — over
HTTP with the KServe v2 / Triton inference protocol (JSON and binary tensors), dynamic batching along the first
dim, an optional response cache and Prometheus metrics. SIGTERM or SIGINT drains in-flight requests and exits.

Options:
  --port N              TCP port (default 8080; 0 picks a free one)
  --host ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --name NAME           model name in URLs (default: the file name without extension)
  --max-batch N         most rows per batch (default 32; 1 = no batching)
  --max-delay-ms X      longest a request waits for others to join its batch (default 2)
  --batch-delay MODE    adaptive (default): the wait shrinks toward 0 while batches come out under-full
                        and grows back to --max-delay-ms when they fill; fixed: always --max-delay-ms
  --max-queue N         most queued requests; beyond it 503 with Retry-After (default 1024)
  --batches N           batches running at once (default 2)
  --threads N           intra-op threads per kernel call (default 1: concurrency comes from batches)
  --cache N             cache N responses per input shape, keyed by the input bytes (default 0: off)
  --max-body BYTES      largest request body; larger gets 413 (default 67108864)
  --timeout-ms X        default per-request timeout (default none; a request's timeout header or
                        parameters.timeout, in microseconds, overrides it)
  --drain-timeout-ms X  longest SIGTERM waits for in-flight requests (default 30000)
  --no-monitor          don't record per-op times for /metrics
  -h, --help            this text

Endpoints: POST /v2/models/NAME/infer, GET /v2/models/NAME, GET /v2/models/NAME/ready, GET /v2/health/live,
GET /v2/health/ready, GET /v2, GET /metrics.
`;

const SERVE_OPTIONS = {
  port: STR, host: STR, name: STR,
  'max-batch': STR, 'max-delay-ms': STR, 'batch-delay': STR, 'max-queue': STR, batches: STR, threads: STR, cache: STR,
  'max-body': STR, 'timeout-ms': STR, 'drain-timeout-ms': STR, 'no-monitor': FLAG, help: HELP_FLAG,
} as const satisfies ParseArgsConfig['options'];

/** Parsed `simdtensor serve` arguments. */
export interface ServeArgs {
  model: string | null;
  port: number;
  host: string;
  threads: number | null;
  monitor: boolean;
  drainTimeoutMs: number;
  opts: ServeOptions;
  help: boolean;
}

/** Command-line arguments → server options (throws a RangeError naming the bad argument). */
export function parseServeArgs(argv: string[]): ServeArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-[^' ]+)/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new RangeError(`unknown option '${flag}' (see --help)`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new RangeError(/does not take/.test(err.message) ? `${flag} takes no value` : `${flag} needs a value`);
    throw new RangeError(err.message);
  }
  const { values: v, positionals } = parsed;
  const int = (flag: string, s: string | undefined, min: number, def: number) => {
    if (s === undefined) return def;
    const x = Number(s);
    if (s.trim() === '' || !Number.isInteger(x) || x < min) throw new RangeError(`--${flag} needs an integer >= ${min}, got '${s}'`);
    return x;
  };
  const num = (flag: string, s: string | undefined, min: number) => {
    if (s === undefined) return undefined;
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x) || x < min) throw new RangeError(`--${flag} needs a number >= ${min}, got '${s}'`);
    return x;
  };
  if (positionals.length > 1) throw new RangeError(`one MODEL file, got ${positionals.length}: ${positionals.join(' ')}`);
  const model = positionals[0] ?? null;
  const port = int('port', v.port, 0, 8080);
  if (port > 65535) throw new RangeError(`--port must be at most 65535, got ${port}`);
  const bd = v['batch-delay'] ?? 'adaptive';
  if (bd !== 'adaptive' && bd !== 'fixed') throw new RangeError(`--batch-delay must be 'adaptive' or 'fixed', got '${bd}'`);
  const opts: ServeOptions = {
    maxBatch: int('max-batch', v['max-batch'], 1, 32),
    maxDelayMs: num('max-delay-ms', v['max-delay-ms'], 0) ?? 2,
    batchDelay: bd,
    maxQueue: int('max-queue', v['max-queue'], 1, 1024),
    maxConcurrentBatches: int('batches', v.batches, 1, 2),
    cache: int('cache', v.cache, 0, 0),
    maxBody: int('max-body', v['max-body'], 1, 64 * 2 ** 20),
  };
  const t = num('timeout-ms', v['timeout-ms'], 0);
  if (t !== undefined) {
    if (t === 0) throw new RangeError("--timeout-ms needs a number > 0, got '0'");
    opts.timeoutMs = t;
  }
  if (v.name !== undefined) {
    if (!/^[A-Za-z0-9_.-]+$/.test(v.name)) throw new RangeError(`--name must be made of letters, digits, _ . -, got '${v.name}'`);
    opts.name = v.name;
  } else if (model) opts.name = defaultName(model);
  return {
    model,
    port,
    host: v.host ?? '127.0.0.1',
    threads: v.threads === undefined ? null : int('threads', v.threads, 1, 1),
    monitor: !v['no-monitor'],
    drainTimeoutMs: num('drain-timeout-ms', v['drain-timeout-ms'], 0) ?? 30_000,
    opts,
    help: !!v.help,
  };
}

function parse(args: string[]) {
  return parseArgsUtil({ args, options: SERVE_OPTIONS, strict: true, allowPositionals: true });
}

/**
 * Runs `simdtensor serve`: resolves with the exit code once the server has drained after SIGTERM/SIGINT (or
 * `io.stop` resolves, for tests), or with 1/2 when it cannot start.
 */
export async function runServe(
  argv: string[],
  io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream; stop?: Promise<unknown>; onListening?: (s: InferenceServer, port: number) => void } = {},
): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  let a: ServeArgs;
  try {
    a = parseServeArgs(argv);
  } catch (e) {
    err.write(`simdtensor serve: ${(e as Error).message}\n`);
    return 2;
  }
  if (a.help) {
    out.write(SERVE_HELP);
    return 0;
  }
  if (!a.model) {
    err.write('simdtensor serve: which model? (simdtensor serve MODEL; see --help)\n');
    return 2;
  }
  let server: InferenceServer;
  let port: number;
  try {
    setNumThreads(a.threads ?? 1);
    if (a.monitor) setMonitoring(true);
    const s = loadServable(a.model, a.opts.name);
    server = createServer(s.model, a.opts);
    port = (await server.listen(a.port, a.host)).port;
    const io0 = s.model.inputs.map((i) => `${i.name} ${i.dtype} [${i.shape.join(', ')}]`).join(', ');
    out.write(
      `simdtensor serve: '${server.name}' (${s.kind}, inputs ${io0}${s.model.batchable ? `, batching up to ${a.opts.maxBatch} rows` : ', not batchable'}) on http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${port}/v2/models/${server.name}/infer\n`,
    );
  } catch (e) {
    err.write(`simdtensor serve: ${(e as Error).message}\n`);
    return 1;
  }
  io.onListening?.(server, port);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      err.write(`simdtensor serve: ${sig}: draining ${server.inFlight} in-flight request(s)\n`);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    io.stop?.then(() => stop('stop'));
  });
  await server.close({ timeoutMs: a.drainTimeoutMs });
  err.write('simdtensor serve: stopped\n');
  return 0;
}
