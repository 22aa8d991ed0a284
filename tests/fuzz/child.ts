/**
 * Fuzz worker process: generates cases [from, to) of a seeded run, feeds each to its loader and reports
 * over IPC. Runs in a child process so that a hang (killed by the parent) or a crash loses one case, not
 * the run. Started by tests/fuzz/harness.ts as `node --import tsx tests/fuzz/child.ts`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../../common/suites/ops.js';
import { makeTargets, prepareTargets, type Target } from './targets.js';

export type Outcome = 'ok' | 'error' | 'unclear';

export interface CaseReport {
  index: number;
  target: string;
  outcome: Outcome;
  message?: string;
  ms: number;
  /** Peak resident memory above the case's starting RSS, bytes (from the process high-water mark). */
  growth: number;
}

const send = (m: unknown) => process.send!(m);

/** JS engine errors mean a loader bug, not a clear refusal. */
const UNCLEAR = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'AssertionError', 'InternalError']);

function classify(e: unknown, dir: string, files: string[]): { outcome: Outcome; message: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const message = `${err.name}: ${err.message}`.slice(0, 400);
  if (UNCLEAR.has(err.name) || err.constructor === Error && /Cannot read properties of|is not a function|is not iterable|Invalid array length|Maximum call stack/.test(err.message)) {
    return { outcome: 'unclear', message };
  }
  // A clear error names the file (or folder) it is about.
  const names = [dir, ...files.map((f) => path.basename(f))];
  if (!names.some((n) => err.message.includes(n))) return { outcome: 'unclear', message: `does not name the file: ${message}` };
  return { outcome: 'error', message };
}

/** Targets that misbehave on purpose, to show the harness catches a hang, a crash and a memory blow-up. */
function selfTestTargets(): Target[] {
  const held: Buffer[] = [];
  return [
    { name: 'fine', makeCase: () => ({}), run: () => undefined },
    {
      name: 'hang',
      makeCase: () => ({}),
      run: () => {
        for (;;);
      },
    },
    { name: 'crash', makeCase: () => ({}), run: () => process.abort() },
    {
      name: 'memory',
      makeCase: () => ({}),
      run: () => {
        held.push(Buffer.alloc(160 * 2 ** 20, 1));
      },
    },
  ];
}

async function main(): Promise<void> {
  const [seedS, fromS, toS, repoRoot] = process.argv.slice(2);
  const seed = Number(seedS);
  const from = Number(fromS);
  const to = Number(toS);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-fuzz-'));
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  process.on('exit', cleanup);
  process.on('SIGTERM', () => process.exit(143));
  const base = path.join(work, 'base');
  fs.mkdirSync(base);
  await prepareTargets(base);
  const targets = process.env.RW_FUZZ_SELFTEST ? selfTestTargets() : makeTargets(base, repoRoot!);
  send({ type: 'ready' });
  for (let i = from; i < to; i++) {
    // Each case has its own generator, so a run can restart at any index after a hang or crash.
    const r = mulberry32((seed * 1_000_003 + i) >>> 0);
    const t = targets[i % targets.length]!;
    const dir = path.join(work, `c${i}`);
    fs.mkdirSync(dir);
    const files = t.makeCase(r);
    for (const [name, v] of Object.entries(files)) {
      const f = path.join(dir, name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      if (Buffer.isBuffer(v)) fs.writeFileSync(f, v);
      else fs.symlinkSync(v.link, f);
    }
    send({ type: 'start', index: i, target: t.name });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    let outcome: Outcome = 'ok';
    let message: string | undefined;
    try {
      await t.run(dir);
    } catch (e) {
      ({ outcome, message } = classify(e, dir, Object.keys(files)));
    }
    const ms = performance.now() - t0;
    const peak = process.resourceUsage().maxRSS * 1024;
    const report: CaseReport = { index: i, target: t.name, outcome, message, ms, growth: Math.max(0, peak - rss0) };
    send({ type: 'done', report });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  send({ type: 'finished' });
}

main().catch((e) => {
  send({ type: 'fatal', message: String((e as Error).stack ?? e) });
  process.exit(1);
});
