/** Jobs: what the UI sees of compute running in worker threads. */
import { z } from 'zod';

export const JobStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export interface JobProgress {
  stage: string;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  /** Estimated milliseconds left, or null. */
  etaMs: number | null;
}

export interface JobInfo {
  id: string;
  step: string;
  title: string;
  params: Record<string, unknown>;
  status: JobStatus;
  progress: JobProgress;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why it failed (or "cancelled"). */
  error: string | null;
  /** Small JSON result of the step; large results are files in the run folder. */
  result: unknown;
  /** Last log lines (the full log is on disk when the job has a log directory). */
  log: string[];
  cancelRequested: boolean;
}

export function isFinished(s: JobStatus): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'cancelled';
}

// ───────────────────────────── the step contract (runs inside a worker thread) ─────────────────────────────

export interface StepProgress {
  /** Name of the current stage, e.g. "load model", "attribution". Kept until changed. */
  stage?: string;
  /** 0..1 overall; null for unknown. */
  fraction?: number | null;
}

export interface StepContext {
  readonly jobId: string;
  /** Aborted when the user cancels; check it (or call throwIfCancelled) at least once per batch. */
  readonly signal: AbortSignal;
  /**
   * Report progress: `progress({stage, fraction})`, or positionally `progress(stage, fraction, message?)`
   * (the engine's StepCtx shape, so workers/ functions taking a StepCtx accept this context as is).
   */
  progress(p: StepProgress | string, fraction?: number | null, message?: string): void;
  log(line: string): void;
  /** Tell the UI which compute backend the engine is using (e.g. "wasm (SIMD)", "webgpu: NVIDIA …"). */
  setBackend(description: string): void;
  throwIfCancelled(): void;
  /** Lives as long as the worker: load models / SAEs once, reuse them across jobs. */
  readonly cache: Map<string, unknown>;
  /** The open project folder, or null. */
  readonly projectDir: string | null;
  /**
   * This job's run folder (runs/<jobId>/, already created) when a project is open and the step's contract
   * says `runFolder: 'job'`; null for steps that key their own run folder (they call onRunDir instead).
   */
  readonly runDir: string | null;
  /** A step that owns its run folder names it here once known; the job's log is written there. */
  onRunDir?(dir: string): void;
}

/**
 * A step as registered in main/jobs/steps.ts: a named export `(params, ctx) → result`.
 * The result must be structured-cloneable and small (big tensors go to files in ctx.runDir).
 */
export type StepFn<P = Record<string, unknown>, R = unknown> = (params: P, ctx: StepContext) => Promise<R> | R;
