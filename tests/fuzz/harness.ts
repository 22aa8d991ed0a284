/**
 * Runs a seeded fuzz pass in child processes: a case that runs past the hang limit is killed and
 * recorded, a crash (the child dies) is recorded, and the run resumes at the next case in a fresh child.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseReport } from './child.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

export interface FuzzFailure {
  index: number;
  target: string;
  kind: 'hang' | 'crash' | 'memory' | 'unclear';
  message: string;
}

export interface FuzzResult {
  cases: number;
  byTarget: Record<string, { ok: number; error: number }>;
  failures: FuzzFailure[];
  maxMs: number;
  /** The slowest case, for `npm run fuzz` output. */
  slowest: string;
  maxGrowth: number;
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** A case running longer is a hang (default 10 s). */
  hangMs?: number;
  /** Peak memory growth above which a case fails (default 512 MiB). */
  maxGrowthBytes?: number;
  /** Child processes in parallel (default 1; the quick pass shares a small machine). */
  parallel?: number;
}

function runRange(opts: Required<FuzzOptions>, from: number, to: number, result: FuzzResult): Promise<void> {
  return new Promise((resolve) => {
    let next = from;
    let current: { index: number; target: string } | null = null;
    let timer: NodeJS.Timeout | null = null;
    const child = fork(path.join(HERE, 'child.ts'), [String(opts.seed), String(from), String(to), REPO], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=1024'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-2000)));
    const restart = (after: number) => {
      if (timer) clearTimeout(timer);
      child.removeAllListeners();
      if (after < to) void runRange(opts, after, to, result).then(resolve);
      else resolve();
    };
    child.on('message', (m: { type: string; index?: number; target?: string; report?: CaseReport; message?: string }) => {
      if (m.type === 'start') {
        current = { index: m.index!, target: m.target! };
        timer = setTimeout(() => {
          result.failures.push({ index: current!.index, target: current!.target, kind: 'hang', message: `no answer within ${opts.hangMs} ms` });
          result.cases++;
          const at = current!.index + 1;
          child.kill('SIGKILL');
          restart(at);
        }, opts.hangMs);
      } else if (m.type === 'done') {
        if (timer) clearTimeout(timer);
        const r = m.report!;
        current = null;
        next = r.index + 1;
        result.cases++;
        if (r.ms > result.maxMs) [result.maxMs, result.slowest] = [r.ms, `#${r.index} ${r.target}`];
        result.maxGrowth = Math.max(result.maxGrowth, r.growth);
        const bt = (result.byTarget[r.target] ??= { ok: 0, error: 0 });
        if (r.outcome === 'ok') bt.ok++;
        else if (r.outcome === 'error') bt.error++;
        else result.failures.push({ index: r.index, target: r.target, kind: 'unclear', message: r.message ?? '' });
        if (r.growth > opts.maxGrowthBytes) {
          result.failures.push({ index: r.index, target: r.target, kind: 'memory', message: `peak memory grew by ${(r.growth / 2 ** 20).toFixed(0)} MiB` });
        }
      } else if (m.type === 'finished') {
        child.removeAllListeners();
        child.kill();
        resolve();
      } else if (m.type === 'fatal') {
        result.failures.push({ index: next, target: 'harness', kind: 'crash', message: m.message ?? '' });
        child.removeAllListeners();
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      // Died mid-case (crash, OOM kill): record it and go on from the next case.
      const c = current as { index: number; target: string } | null;
      if (c) {
        result.failures.push({ index: c.index, target: c.target, kind: 'crash', message: `child exited (${signal ?? code}) ${stderr.slice(-500)}` });
        result.cases++;
        restart(c.index + 1);
      } else if (next < to) {
        result.failures.push({ index: next, target: 'harness', kind: 'crash', message: `child exited (${signal ?? code}) before case ${next}: ${stderr.slice(-800)}` });
        resolve();
      } else resolve();
    });
  });
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const opts: Required<FuzzOptions> = { hangMs: 10_000, maxGrowthBytes: 512 * 2 ** 20, parallel: 1, ...options };
  const result: FuzzResult = { cases: 0, byTarget: {}, failures: [], maxMs: 0, slowest: '', maxGrowth: 0 };
  const per = Math.ceil(opts.cases / opts.parallel);
  const parts: Promise<void>[] = [];
  for (let p = 0; p < opts.parallel; p++) {
    const from = p * per;
    const to = Math.min(opts.cases, from + per);
    if (from < to) parts.push(runRange(opts, from, to, result));
  }
  await Promise.all(parts);
  result.failures.sort((a, b) => a.index - b.index);
  return result;
}
