/**
 * Jobs on worker threads: progress, cancel within a second, per-job logs and run folders, the per-worker
 * cache, and crash isolation — a step that throws, calls process.abort(), runs out of memory, throws
 * outside its promise or exits fails alone; its worker is replaced and the next job runs.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { JobQueue } from '../../main/jobs/queue.js';
import { StepRegistry } from '../../main/jobs/steps.js';
import type { JobInfo } from '../../common/schemas/job.js';
import { RunManifestSchema } from '../../common/schemas/run.js';
import { toWireError } from '../../common/api.js';
import { fixture, tempDir } from './helpers.js';

const FIXTURE_STEPS = fixture('steps.ts');
function registry(): StepRegistry {
  const r = new StepRegistry(undefined, { testSteps: true });
  for (const name of ['boom', 'abort', 'abortInTimer', 'oom', 'uncaught', 'exit', 'hang', 'cacheCount', 'writesRun', 'positional']) {
    r.register({ name: `test.${name}`, title: name, description: '', module: FIXTURE_STEPS, export: name });
  }
  return r;
}

let work: ReturnType<typeof tempDir>;
let queue: JobQueue;
beforeAll(() => {
  work = tempDir('rw-jobs-');
  queue = new JobQueue({
    registry: registry(),
    resourceLimits: { maxOldGenerationSizeMb: 128 },
    cancelGraceMs: 600,
    projectDir: () => work.dir,
  });
});
afterAll(async () => {
  await queue?.close();
  work?.cleanup();
});

describe('job queue', () => {
  it('runs a step with progress events, ETA and a log, and writes its run folder', async () => {
    const events: JobInfo[] = [];
    const on = (j: JobInfo) => events.push(j);
    queue.on('job', on);
    const job = queue.start('demo.count', { n: 8, ms: 40 });
    expect(job.status).toBe('queued');
    const done = await queue.waitFor(job.id);
    queue.off('job', on);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ counted: 8 });
    const mine = events.filter((e) => e.id === job.id);
    expect(mine.some((e) => e.status === 'running' && (e.progress.fraction ?? 0) > 0 && (e.progress.fraction ?? 0) < 1)).toBe(true);
    expect(mine.some((e) => e.progress.etaMs !== null && e.progress.etaMs > 0)).toBe(true);
    expect(mine.some((e) => e.progress.stage === 'counting')).toBe(true);
    expect(done.log.some((l) => l.includes('counting to 8'))).toBe(true);
    const runDir = path.join(work.dir, 'runs', job.id);
    const manifest = RunManifestSchema.parse(JSON.parse(readFileSync(path.join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest).toMatchObject({ id: job.id, step: 'demo.count', status: 'succeeded', params: { n: 8, ms: 40 } });
    expect(readFileSync(path.join(runDir, 'job.log'), 'utf8')).toContain('counting to 8');
  });

  it('refuses unknown steps, naming the registered ones', () => {
    expect(() => queue.start('nope.step')).toThrow(/unknown step "nope.step".*demo.count/);
  });

  // Verdicts from the job's own state, not the clock: each tick sleeps a minute, so a job that is cancelled with
  // no tick done was interrupted mid-sleep (it did not run on to its next check), and cooperatively (no terminate).
  it('cancels a running step mid-tick, and a queued one at once', async () => {
    const a = queue.start('demo.count', { n: 2, ms: 60_000 });
    const b = queue.start('demo.count', { n: 5, ms: 10 });
    await expect.poll(() => queue.get(a.id).progress.stage, { timeout: 120_000, interval: 50 }).toBe('counting');
    expect(queue.get(a.id).status).toBe('running');
    expect(queue.cancel(b.id).status).toBe('cancelled');
    queue.cancel(a.id);
    const done = await queue.waitFor(a.id);
    expect(done.status).toBe('cancelled');
    expect(done.progress.fraction).toBe(0);
    expect(done.log.join('\n')).not.toMatch(/did not stop within/);
  });

  it('stops a step that ignores its AbortSignal by terminating its worker', async () => {
    const j = queue.start('test.hang');
    await expect.poll(() => queue.get(j.id).progress.stage, { timeout: 120_000, interval: 20 }).toBe('spinning');
    queue.cancel(j.id);
    const done = await queue.waitFor(j.id);
    expect(done.status).toBe('cancelled');
    expect(done.log.join('\n')).toMatch(/did not stop within 600 ms/);
    expect((await queue.waitFor(queue.start('demo.echo', { x: 1 }).id)).result).toEqual({ x: 1 });
  });

  it('keeps the worker cache across jobs', async () => {
    const a = await queue.waitFor(queue.start('test.cacheCount').id);
    const b = await queue.waitFor(queue.start('test.cacheCount').id);
    expect(b.result).toBe((a.result as number) + 1);
  });

  it('captures console output and gives the step its run folder', async () => {
    const j = await queue.waitFor(queue.start('test.writesRun').id);
    expect(j.result).toBe(path.join(work.dir, 'runs', j.id));
    expect(existsSync(j.result as string)).toBe(true);
    // A worker's stdout is piped asynchronously: the line may land just after the job ends.
    await expect.poll(() => queue.get(j.id).log.join('\n'), { timeout: 60_000 }).toContain('hello from console.log');
  });

  it('accepts the engine\'s positional progress(stage, fraction, message)', async () => {
    const seen: string[] = [];
    const on = (j: JobInfo) => seen.push(`${j.progress.stage}:${j.progress.fraction}`);
    queue.on('job', on);
    const j = await queue.waitFor(queue.start('test.positional').id);
    queue.off('job', on);
    expect(j.status).toBe('succeeded');
    expect(j.log.join('\n')).toContain('[load] loading things');
    expect(j.log.join('\n')).toContain('stage: work');
    expect(queue.backend).toBe('test-backend (fixture)');
  });

  it('refusal.discover is registered and needs an open project', async () => {
    const q = new JobQueue({ projectDir: () => null });
    try {
      expect(q.registry.list().map((s) => s.name)).toContain('refusal.discover');
      const j = await q.waitFor(q.start('refusal.discover', { demo: true }).id, 300_000);
      expect(j.status).toBe('failed');
      expect(j.error).toMatch(/open a project first/);
    } finally {
      await q.close();
    }
  });

  it('refuses a bad parameter at start, naming the field, instead of queueing a job that fails', () => {
    const before = queue.list().length;
    const refusal = (step: string, params: Record<string, unknown>) => {
      try {
        queue.start(step, params);
      } catch (e) {
        return toWireError(e);
      }
      return null;
    };
    expect(refusal('refusal.discover', { params: { steps: 1e6 } })).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/^params\.params\.steps: /) });
    expect(refusal('model.inspect', { folder: 3 })?.message).toMatch(/^params\.folder: /);
    expect(refusal('refusal.probe', { nope: true })?.code).toBe('INVALID_REQUEST');
    expect(queue.list().length).toBe(before);
  });

  it('model.inspect names the missing folder', async () => {
    const j = await queue.waitFor(queue.start('model.inspect', { folder: 'no-such-model' }).id, 300_000);
    expect(j.status).toBe('failed');
    expect(j.error).toContain(path.join(work.dir, 'no-such-model'));
  });

  const crashes: [string, RegExp][] = [
    ['test.boom', /Error: boom: the step threw/],
    ['test.abort', /process\.abort\(\) is not supported in workers/],
    ['test.abortInTimer', /worker crashed: .*process\.abort\(\) is not supported in workers/],
    ['test.oom', /out of memory/],
    ['test.uncaught', /worker crashed: thrown outside the step promise/],
    ['test.exit', /exited unexpectedly with code 3/],
  ];
  for (const [step, reason] of crashes) {
    it(`${step}: fails alone with its reason; the worker is replaced and the next job runs`, async () => {
      await queue.waitFor(queue.start('demo.echo').id); // make sure a worker is up
      const before = queue.workerThreadIds();
      const bad = queue.start(step);
      const next = queue.start('demo.count', { n: 3, ms: 5 });
      const failed = await queue.waitFor(bad.id, 300_000);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(reason);
      const ok = await queue.waitFor(next.id, 300_000);
      expect(ok.status).toBe('succeeded');
      // A rejected step promise leaves the worker sound (kept); anything that kills it gets a new one.
      if (step === 'test.boom' || step === 'test.abort') expect(queue.workerThreadIds()).toEqual(before);
      else expect(queue.workerThreadIds()).not.toEqual(before);
      const manifest = JSON.parse(readFileSync(path.join(work.dir, 'runs', bad.id, 'manifest.json'), 'utf8'));
      expect(manifest.status).toBe('failed');
    });
  }
});
