// Runs a build and shows its progress as one line: redrawn in place on a terminal, a new line every 10 % otherwise
// (CI logs). The build's stderr (warnings, errors) passes through; its stdout is only read for progress, and its last
// lines are printed if it fails.
import { spawn } from 'node:child_process';

/**
 * @param {string} label what is being built, e.g. 'native tests (x64, ASan)'
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, total?: number, step: (line: string) => number | null }} opts
 *   step: for one line of stdout, a fraction done (0..1) when the line says so, a count of 1 when it stands for one
 *   more file of `total`, or null.
 * @returns {Promise<number>} the exit status
 */
export function runWithProgress(label, cmd, args, opts) {
  const tty = !!process.stdout.isTTY;
  const t0 = Date.now();
  let files = 0;
  let frac = 0;
  let shownDecile = -1;
  const tail = [];
  const show = (final) => {
    const pct = Math.min(100, Math.round(frac * 100));
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    const line = `${label}: ${final ? 'done' : `${String(pct).padStart(3)} %`}${opts.total && files ? ` (${files}/${opts.total} files)` : ''}, ${s} s`;
    if (tty) process.stdout.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final || Math.floor(pct / 10) > shownDecile) {
      shownDecile = Math.floor(pct / 10);
      process.stdout.write(`${line}\n`);
    }
  };
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const timer = tty ? setInterval(() => show(false), 1000) : null;
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 40) tail.shift();
        const v = opts.step(line);
        if (v === null || v === undefined) continue;
        if (v === 1 && opts.total) {
          files++;
          frac = files / opts.total;
        } else frac = Math.max(frac, v);
        show(false);
      }
    });
    child.on('error', (e) => {
      if (timer) clearInterval(timer);
      if (tty) process.stdout.write('\n');
      console.error(`${label}: cannot run ${cmd}: ${e.message}`);
      resolve(127);
    });
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      if (code === 0) show(true);
      else {
        if (tty) process.stdout.write('\n');
        console.error(`${label}: failed (status ${code}); its last output:\n${tail.join('\n')}`);
      }
      resolve(code ?? 1);
    });
  });
}

/** A step function for `cmake --build` with the Makefile or Ninja generator: "[ 45%] …" or "[12/80] …". */
export function cmakeStep(line) {
  let m = /^\[\s*(\d+)%\]/.exec(line);
  if (m) return Number(m[1]) / 100;
  m = /^\[(\d+)\/(\d+)\]/.exec(line);
  return m ? Number(m[1]) / Number(m[2]) : null;
}

/** A step function for node-gyp's make output: one "CXX(target) …" line per compiled file. */
export function gypStep(line) {
  return /^\s*(CXX|CC)\(target\)/.test(line) ? 1 : null;
}
