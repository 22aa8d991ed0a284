/**
 * Durability: a child process saving continuously is killed with SIGKILL at random moments, ≥100 times.
 * After every kill the project must open cleanly and hold every save the child had reported done.
 * The child is bundled once with esbuild so each start costs a plain `node` start-up.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { build } from 'esbuild';
import { Project } from '../../main/projects/store.js';
import { fixture, tempDir } from './helpers.js';

const ROUNDS = Number(process.env.RW_DURABILITY_ROUNDS ?? 100);
let work: ReturnType<typeof tempDir>;
let childJs: string;

beforeAll(async () => {
  work = tempDir('rw-durability-');
  childJs = path.join(work.dir, 'child.mjs');
  await build({
    entryPoints: [fixture('durability-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: childJs,
    logLevel: 'error',
  });
});
afterAll(() => work?.cleanup());

/** Run the child until just after its `killAfterSaves`-th reported save (0: at ready); return the last save it reported. */
function runAndKill(dir: string, start: number, killAfterSaves: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childJs, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.resolve('.') });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      // kill after the child has reported `killAfterSaves` saves (then a random moment within its next write):
      // counted in the child's own progress, not in milliseconds, so a busy machine kills just as often mid-stream
      const saves = (out.match(/^saved \d+$/gm) ?? []).length;
      if (!timer && out.includes('ready\n') && saves >= killAfterSaves) timer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 3));
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited on its own (code ${code}): ${err}`));
      const saved = [...out.matchAll(/^saved (\d+)$/gm)].map((m) => Number(m[1]));
      resolve(saved.length ? saved[saved.length - 1]! : start - 1);
    });
  });
}

describe('SIGKILL in the middle of saving', () => {
  it(`keeps every completed save, ${ROUNDS} random kills`, async () => {
    const dir = path.join(work.dir, 'project');
    await Project.create(dir, 'durable');
    let next = 0;
    let lastSaved = -1;
    let killedMidStream = 0;
    let reportedRename = -1;
    for (let round = 0; round < ROUNDS; round++) {
      const killAfter = Math.floor(Math.random() * 6); // 0–5 saves after ready: before, during and between writes
      const last = await runAndKill(dir, next, killAfter);
      if (last >= next) killedMidStream++;
      const p = await Project.open(dir);
      expect(p.warnings, `round ${round}`).toEqual([]);
      const feats = p.listFeatures();
      const upTo = Math.max(last, lastSaved);
      for (let i = 0; i <= upTo; i++) {
        expect(feats[`L0/${i}`]?.label, `round ${round}: save ${i} (last reported ${last})`).toBe(`label ${i}`);
      }
      // Renames: the child renames at every i divisible by 3 before reporting i; the last reported one
      // (or a later one that landed unreported) must be the name on disk.
      for (let i = last; i >= next; i--) {
        if (i % 3 === 0) {
          reportedRename = i;
          break;
        }
      }
      if (reportedRename >= 0) expect(Number(p.name.replace('name ', '')), `round ${round}`).toBeGreaterThanOrEqual(reportedRename);
      lastSaved = upTo;
      // A save may have landed after the last "saved" line: continue numbering after whatever is on disk.
      const onDisk = Object.keys(feats).map((k) => Number(k.split('/')[1]));
      next = Math.max(upTo, ...onDisk) + 1;
    }
    expect(killedMidStream).toBeGreaterThan(ROUNDS / 3);
  });
});
