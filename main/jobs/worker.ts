/**
 * Runs steps inside a worker thread. One job at a time per worker; `cache` survives across jobs so
 * models and SAEs are loaded once. Never imports Electron or React.
 */
import { format } from 'node:util';
import { parentPort } from 'node:worker_threads';
import type { StepContext, StepFn } from '../../common/schemas/job.js';
import { stepDef } from '../../common/steps/index.js';
import { formatIssues } from '../../common/steps/schema-utils.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('main/jobs/worker.ts must run in a worker thread');

const cache = new Map<string, unknown>();
const controllers = new Map<string, AbortController>();

class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

function send(m: FromWorker): void {
  port!.postMessage(m);
}

/**
 * A step's console output goes to its job log as messages, ordered with its 'done' message (piped
 * stdout can arrive after the job has ended and be lost); stdout stays the channel for native prints.
 */
let currentJob: string | null = null;
for (const level of ['log', 'info', 'debug', 'warn', 'error'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    if (!currentJob) return original(...args);
    const prefix = level === 'warn' || level === 'error' ? `[${level}] ` : '';
    send({ type: 'log', jobId: currentJob, line: prefix + format(...args) });
  };
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const ac = new AbortController();
  controllers.set(msg.jobId, ac);
  currentJob = msg.jobId;
  const ctx: StepContext = {
    jobId: msg.jobId,
    signal: ac.signal,
    cache,
    projectDir: msg.projectDir,
    runDir: msg.runDir,
    progress: (p, fraction, message) => {
      if (typeof p === 'string') {
        send({ type: 'progress', jobId: msg.jobId, stage: p, ...(fraction === undefined ? {} : { fraction }) });
        if (message) send({ type: 'log', jobId: msg.jobId, line: `[${p}] ${message}` });
      } else send({ type: 'progress', jobId: msg.jobId, ...p });
    },
    log: (line) => send({ type: 'log', jobId: msg.jobId, line: String(line) }),
    setBackend: (description) => send({ type: 'backend', description: String(description) }),
    onRunDir: (dir) => send({ type: 'runDir', jobId: msg.jobId, dir: String(dir) }),
    throwIfCancelled: () => {
      if (ac.signal.aborted) throw new CancelledError();
    },
  };
  try {
    const mod = (await import(msg.module)) as Record<string, unknown>;
    const fn = mod[msg.export] as StepFn | undefined;
    if (typeof fn !== 'function') throw new Error(`${msg.module}: no exported function "${msg.export}"`);
    // the contract again on this side (defaults filled): a step never sees params its schema refuses
    const def = stepDef(msg.step);
    let params: unknown = msg.params;
    if (def) {
      const p = def.params.safeParse(msg.params);
      if (!p.success) throw new Error(`invalid params for ${msg.step}: ${formatIssues(p.error, ['params'])}`);
      params = p.data;
    }
    let result = await fn(params as Record<string, unknown>, ctx);
    if (def && !ac.signal.aborted) {
      const r = def.result.safeParse(result);
      if (!r.success) throw new Error(`${msg.step} returned a result its contract refuses: ${formatIssues(r.error, ['result'])}`);
      result = r.data;
    }
    if (ac.signal.aborted) send({ type: 'cancelled', jobId: msg.jobId });
    else send({ type: 'done', jobId: msg.jobId, result: result ?? null });
  } catch (e) {
    if (ac.signal.aborted) send({ type: 'cancelled', jobId: msg.jobId });
    else {
      const err = e instanceof Error ? e : new Error(String(e));
      send({ type: 'error', jobId: msg.jobId, error: { name: err.name, message: err.message, stack: err.stack } });
    }
  } finally {
    controllers.delete(msg.jobId);
    currentJob = null;
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'run') void run(msg);
  else if (msg.type === 'cancel') controllers.get(msg.jobId)?.abort();
});

send({ type: 'ready' });
