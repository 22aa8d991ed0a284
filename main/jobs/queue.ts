/**
 * The job queue: compute jobs run on worker threads (one job per worker at a time, `concurrency`
 * workers). Progress (stage, fraction, ETA, log lines) is streamed as events. Cancel aborts the
 * step's AbortSignal; a step that does not return within `cancelGraceMs` has its worker terminated.
 * A job whose worker dies (uncaught error, process.abort(), out of memory under `resourceLimits`,
 * exit) fails with the reason, the worker is replaced, and the queue goes on.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { isFinished, type JobInfo } from '../../common/schemas/job.js';
import { RUN_KIND, RUN_SCHEMA_VERSION, type RunManifest } from '../../common/schemas/run.js';
import { stepDef } from '../../common/steps/index.js';
import { atomicWriteJsonSync } from '../projects/atomic.js';
import { StepRegistry, testStepsFromEnv } from './steps.js';
import type { FromWorker, ToWorker } from './protocol.js';

export interface JobQueueOptions {
  registry?: StepRegistry;
  /** With the default registry: also register the test steps (default: RW_TEST_STEPS=1 in the env). */
  testSteps?: boolean;
  /** Jobs running at the same time, one worker each (default 1: compute saturates the cores anyway). */
  concurrency?: number;
  /** Per-worker V8 limits; a job exceeding them fails with "out of memory" instead of taking the app down. */
  resourceLimits?: ResourceLimits;
  /** How long a cancelled step may take to notice its AbortSignal before its worker is terminated. */
  cancelGraceMs?: number;
  /** Current project folder for new jobs (their run folder goes to runs/<jobId>/). */
  projectDir?: () => string | null;
  /** Log lines kept in memory per job (the whole log goes to runs/<jobId>/job.log). */
  maxLogLines?: number;
  /** Minimum milliseconds between progress events per job. */
  progressIntervalMs?: number;
  /** Worker entry; default main/jobs/worker-boot.mjs (tsx + worker.ts). */
  workerEntry?: string | URL;
  /** Extra environment for workers (default: the process env). */
  env?: NodeJS.ProcessEnv;
}

interface JobState {
  info: JobInfo;
  logs: string[];
  logStream: fs.WriteStream | null;
  runDir: string | null;
  /** Whether the queue made runDir (runs/<jobId>/) and writes its manifest, or the step named it. */
  ownsRunDir: boolean;
  projectDir: string | null;
  slot: Slot | null;
  cancelTimer: NodeJS.Timeout | null;
  lastEmit: number;
  emitTimer: NodeJS.Timeout | null;
}

interface Slot {
  worker: Worker | null;
  jobId: string | null;
}

export interface JobQueueEvents {
  job: [JobInfo];
  backend: [string];
  log: [string, string];
  finished: [JobInfo];
}

const EVENT_LOG_TAIL = 20;

function isInside(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function newJobId(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}

export class JobQueue extends EventEmitter<JobQueueEvents> {
  readonly registry: StepRegistry;
  private readonly jobs = new Map<string, JobState>();
  private readonly order: string[] = [];
  private readonly slots: Slot[];
  private readonly opts: Required<Omit<JobQueueOptions, 'registry' | 'testSteps' | 'resourceLimits' | 'projectDir' | 'env'>> &
    Pick<JobQueueOptions, 'resourceLimits' | 'projectDir' | 'env'>;
  private closed = false;
  /** The compute backend last reported by a step (ctx.setBackend), or null before any did. */
  backend: string | null = null;

  constructor(options: JobQueueOptions = {}) {
    super();
    this.registry = options.registry ?? new StepRegistry(undefined, { testSteps: options.testSteps ?? testStepsFromEnv(options.env ?? process.env) });
    this.opts = {
      concurrency: Math.max(1, options.concurrency ?? 1),
      cancelGraceMs: options.cancelGraceMs ?? 1000,
      maxLogLines: options.maxLogLines ?? 1000,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      workerEntry: options.workerEntry ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'worker-boot.mjs'),
      resourceLimits: options.resourceLimits,
      projectDir: options.projectDir,
      env: options.env,
    };
    this.slots = Array.from({ length: this.opts.concurrency }, () => ({ worker: null, jobId: null }));
  }

  // ───────────── public API ─────────────

  start(step: string, params: Record<string, unknown> = {}, title?: string): JobInfo {
    if (this.closed) throw new Error('job queue is closed');
    const spec = this.registry.get(step);
    if (!spec) {
      const known = this.registry.list().map((s) => s.name).join(', ');
      throw Object.assign(new Error(`unknown step "${step}" (registered: ${known})`), { code: 'UNKNOWN_STEP' });
    }
    // a bad value is refused here, naming the field — never a job that fails later
    this.registry.validate(step, params);
    const id = newJobId();
    const info: JobInfo = {
      id,
      step,
      title: title ?? spec.title,
      params: structuredClone(params),
      status: 'queued',
      progress: { stage: 'queued', fraction: 0, etaMs: null },
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: null,
      result: null,
      log: [],
      cancelRequested: false,
    };
    this.jobs.set(id, {
      info,
      logs: [],
      logStream: null,
      runDir: null,
      ownsRunDir: false,
      projectDir: this.opts.projectDir?.() ?? null,
      slot: null,
      cancelTimer: null,
      lastEmit: 0,
      emitTimer: null,
    });
    this.order.push(id);
    this.emitJob(id, true);
    queueMicrotask(() => this.pump());
    return this.snapshot(id, Infinity);
  }

  cancel(id: string): JobInfo {
    const st = this.require(id);
    const { info } = st;
    if (isFinished(info.status)) return this.snapshot(id, Infinity);
    if (info.status === 'queued') {
      this.finish(id, 'cancelled', null, 'cancelled before it started');
      return this.snapshot(id, Infinity);
    }
    if (!info.cancelRequested) {
      info.cancelRequested = true;
      info.progress = { ...info.progress, stage: 'cancelling' };
      this.appendLog(id, 'cancel requested');
      const slot = st.slot;
      slot?.worker?.postMessage({ type: 'cancel', jobId: id } satisfies ToWorker);
      st.cancelTimer = setTimeout(() => {
        if (isFinished(info.status) || !slot) return;
        this.appendLog(id, `step did not stop within ${this.opts.cancelGraceMs} ms; stopping its worker`);
        this.killSlot(slot);
        this.finish(id, 'cancelled', null, 'cancelled (worker stopped)');
        this.pump();
      }, this.opts.cancelGraceMs);
      this.emitJob(id, true);
    }
    return this.snapshot(id, Infinity);
  }

  get(id: string): JobInfo {
    this.require(id);
    return this.snapshot(id, Infinity);
  }

  list(): JobInfo[] {
    return this.order.map((id) => this.snapshot(id, EVENT_LOG_TAIL)).reverse();
  }

  clearFinished(): void {
    for (const id of [...this.order]) {
      if (isFinished(this.jobs.get(id)!.info.status)) {
        this.jobs.delete(id);
        this.order.splice(this.order.indexOf(id), 1);
      }
    }
  }

  /** Resolves when the job has finished (any status). */
  waitFor(id: string, timeoutMs = 60_000): Promise<JobInfo> {
    const st = this.require(id);
    if (isFinished(st.info.status)) return Promise.resolve(this.snapshot(id, Infinity));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('finished', on);
        reject(new Error(`job ${id} did not finish within ${timeoutMs} ms (status ${st.info.status})`));
      }, timeoutMs);
      const on = (j: JobInfo) => {
        if (j.id !== id) return;
        clearTimeout(t);
        this.off('finished', on);
        resolve(this.snapshot(id, Infinity));
      };
      this.on('finished', on);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of this.order) {
      const st = this.jobs.get(id)!;
      if (!isFinished(st.info.status)) this.finish(id, 'cancelled', null, 'app closing');
    }
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        s.worker = null;
        s.jobId = null;
        if (w) await w.terminate().catch(() => undefined);
      }),
    );
  }

  /** Live workers, for tests of replacement. */
  workerThreadIds(): number[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker.threadId] : []));
  }

  // ───────────── scheduling ─────────────

  private require(id: string): JobState {
    const st = this.jobs.get(id);
    if (!st) throw Object.assign(new Error(`no job with id "${id}"`), { code: 'UNKNOWN_JOB' });
    return st;
  }

  private snapshot(id: string, logLines: number): JobInfo {
    const st = this.jobs.get(id)!;
    const log = logLines === Infinity ? [...st.logs] : st.logs.slice(-logLines);
    return { ...structuredClone({ ...st.info, log: [] }), log };
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.jobId) continue;
      const next = this.order.find((id) => this.jobs.get(id)?.info.status === 'queued');
      if (!next) return;
      this.runOn(slot, next);
    }
  }

  private spawn(slot: Slot): Worker {
    const w = new Worker(this.opts.workerEntry, {
      resourceLimits: this.opts.resourceLimits,
      stdout: true,
      stderr: true,
      env: this.opts.env ?? process.env,
    });
    slot.worker = w;
    const forward = (stream: NodeJS.ReadableStream, prefix: string) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (slot.worker === w && slot.jobId) this.appendLog(slot.jobId, prefix + line);
        }
      });
    };
    forward(w.stdout, '');
    forward(w.stderr, '[stderr] ');
    w.on('message', (m: FromWorker) => {
      if (slot.worker !== w) return;
      this.onMessage(slot, m);
    });
    w.on('error', (err: Error & { code?: string }) => {
      if (slot.worker !== w) return;
      const reason =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `out of memory: ${err.message}`
          : `worker crashed: ${err.code ? `${err.code}: ` : ''}${err.message}`;
      this.onWorkerDeath(slot, w, reason);
    });
    w.on('exit', (code) => {
      if (slot.worker !== w) return;
      this.onWorkerDeath(slot, w, `worker exited unexpectedly with code ${code}`);
    });
    w.unref();
    return w;
  }

  private runOn(slot: Slot, id: string): void {
    const st = this.jobs.get(id)!;
    const spec = this.registry.get(st.info.step)!;
    slot.jobId = id;
    st.slot = slot;
    st.info.status = 'running';
    st.info.startedAt = new Date().toISOString();
    st.info.progress = { stage: 'starting', fraction: 0, etaMs: null };
    // one run folder per job: the queue's runs/<jobId>/, or (steps that key their runs) the step's own
    if (st.projectDir && (spec.def?.runFolder ?? 'job') === 'job') {
      st.ownsRunDir = this.openRunDir(st, path.join(st.projectDir, 'runs', id));
    }
    this.appendLog(id, `start ${st.info.step} ${JSON.stringify(st.info.params)}`);
    this.emitJob(id, true);
    const w = slot.worker ?? this.spawn(slot);
    w.ref();
    w.postMessage({
      type: 'run',
      jobId: id,
      step: st.info.step,
      module: spec.module,
      export: spec.export,
      params: st.info.params,
      projectDir: st.projectDir,
      runDir: st.runDir,
    } satisfies ToWorker);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'ready') return;
    if (m.type === 'backend') {
      if (m.description !== this.backend) {
        this.backend = m.description;
        this.emit('backend', m.description);
      }
      return;
    }
    const id = m.jobId;
    const st = this.jobs.get(id);
    if (!st || slot.jobId !== id || isFinished(st.info.status)) return;
    switch (m.type) {
      case 'runDir':
        if (!st.ownsRunDir && st.projectDir && isInside(path.join(st.projectDir, 'runs'), m.dir) && st.runDir !== m.dir) {
          this.openRunDir(st, m.dir);
          this.appendLog(id, `run folder: ${path.relative(st.projectDir, m.dir)}`);
        }
        break;
      case 'progress': {
        const p = st.info.progress;
        const stage = st.info.cancelRequested ? 'cancelling' : (m.stage ?? p.stage);
        let fraction = m.fraction === undefined ? p.fraction : m.fraction;
        if (fraction !== null) fraction = Math.max(0, Math.min(1, fraction));
        let etaMs: number | null = null;
        if (fraction !== null && fraction > 0 && st.info.startedAt) {
          const elapsed = Date.now() - Date.parse(st.info.startedAt);
          etaMs = Math.round((elapsed * (1 - fraction)) / fraction);
        }
        const stageChanged = stage !== p.stage;
        st.info.progress = { stage, fraction, etaMs };
        if (stageChanged) this.appendLog(id, `stage: ${stage}`);
        this.emitJob(id, stageChanged);
        break;
      }
      case 'log':
        this.appendLog(id, m.line);
        break;
      case 'done':
        this.finish(id, 'succeeded', m.result, null);
        this.pump();
        break;
      case 'cancelled':
        this.finish(id, 'cancelled', null, 'cancelled');
        this.pump();
        break;
      case 'error':
        if (m.error.stack) this.appendLog(id, m.error.stack);
        this.finish(id, 'failed', null, `${m.error.name}: ${m.error.message}`);
        this.pump();
        break;
    }
  }

  private onWorkerDeath(slot: Slot, w: Worker, reason: string): void {
    slot.worker = null;
    void w.terminate().catch(() => undefined);
    const id = slot.jobId;
    slot.jobId = null;
    if (id) {
      const st = this.jobs.get(id);
      if (st && !isFinished(st.info.status)) {
        this.appendLog(id, reason);
        if (st.info.cancelRequested) this.finish(id, 'cancelled', null, 'cancelled');
        else this.finish(id, 'failed', null, reason);
      }
    }
    this.pump();
  }

  private killSlot(slot: Slot): void {
    const w = slot.worker;
    slot.worker = null;
    slot.jobId = null;
    if (w) void w.terminate().catch(() => undefined);
  }

  /** Point the job's log at `dir`/job.log (the lines so far are written first). */
  private openRunDir(st: JobState, dir: string): boolean {
    st.logStream?.end();
    st.logStream = null;
    try {
      fs.mkdirSync(dir, { recursive: true });
      const stream = fs.createWriteStream(path.join(dir, 'job.log'), { flags: 'a' });
      stream.on('error', () => {
        if (st.logStream === stream) st.logStream = null;
      });
      if (st.logs.length) stream.write(st.logs.join('\n') + '\n');
      st.logStream = stream;
      st.runDir = dir;
      return true;
    } catch {
      st.runDir = null;
      return false;
    }
  }

  private appendLog(id: string, line: string): void {
    const st = this.jobs.get(id);
    if (!st) return;
    const stamped = `${new Date().toISOString().slice(11, 23)} ${line}`;
    st.logs.push(stamped);
    if (st.logs.length > this.opts.maxLogLines) st.logs.splice(0, st.logs.length - this.opts.maxLogLines);
    st.logStream?.write(stamped + '\n');
    this.emit('log', id, stamped);
  }

  private finish(id: string, status: 'succeeded' | 'failed' | 'cancelled', result: unknown, error: string | null): void {
    const st = this.jobs.get(id)!;
    if (isFinished(st.info.status)) return;
    if (st.cancelTimer) clearTimeout(st.cancelTimer);
    st.cancelTimer = null;
    const slot = st.slot;
    if (slot && slot.jobId === id) {
      slot.jobId = null;
      slot.worker?.unref();
    }
    st.slot = null;
    st.info.status = status;
    st.info.result = result ?? null;
    st.info.error = error;
    st.info.finishedAt = new Date().toISOString();
    st.info.progress = {
      stage: status,
      fraction: status === 'succeeded' ? 1 : st.info.progress.fraction,
      etaMs: null,
    };
    this.appendLog(id, `${status}${error ? `: ${error}` : ''}`);
    if (st.runDir && st.ownsRunDir) {
      const manifest: RunManifest = {
        kind: RUN_KIND,
        schemaVersion: RUN_SCHEMA_VERSION,
        id,
        step: st.info.step,
        params: st.info.params,
        status,
        inputs: [],
        outputs: ['job.log', ...declaredOutputsIn(st.runDir, st.info.step, st.info.params)],
        versions: { node: process.versions.node },
        startedAt: st.info.startedAt ?? st.info.createdAt,
        finishedAt: st.info.finishedAt,
        timings: { totalMs: Date.parse(st.info.finishedAt) - Date.parse(st.info.startedAt ?? st.info.createdAt) },
        ...(error ? { error } : {}),
      };
      try {
        atomicWriteJsonSync(path.join(st.runDir, 'manifest.json'), manifest);
      } catch (e) {
        this.appendLog(id, `could not write the run manifest: ${(e as Error).message}`);
      }
    }
    st.logStream?.end();
    st.logStream = null;
    this.emitJob(id, true);
    this.emit('finished', this.snapshot(id, EVENT_LOG_TAIL));
  }

  private emitJob(id: string, force: boolean): void {
    const st = this.jobs.get(id);
    if (!st) return;
    const now = Date.now();
    const wait = st.lastEmit + this.opts.progressIntervalMs - now;
    if (!force && wait > 0) {
      st.emitTimer ??= setTimeout(() => {
        st.emitTimer = null;
        this.emitJob(id, true);
      }, wait);
      return;
    }
    if (st.emitTimer) clearTimeout(st.emitTimer);
    st.emitTimer = null;
    st.lastEmit = now;
    this.emit('job', this.snapshot(id, EVENT_LOG_TAIL));
  }
}

/**
 * The step's declared outputs (common/steps) that it left in its job run folder, `{name}` placeholders
 * filled from the params (e.g. features.detail's feature-L{layer}-{index}.json): the manifest lists them so
 * a reader finds a result by its declared role, not by scanning file names.
 */
function declaredOutputsIn(runDir: string, step: string, params: Record<string, unknown>): string[] {
  const def = stepDef(step);
  if (!def) return [];
  return def.outputs
    .map((o) => o.file.replace(/\{(\w+)\}/g, (m, k: string) => (typeof params[k] === 'number' || typeof params[k] === 'string' ? String(params[k]) : m)))
    .filter((f) => !f.includes('{') && fs.existsSync(path.join(runDir, f)));
}
