/**
 * The step contract: each step the job queue can run is declared once here in common/, as data —
 * its name, its parameters and its result as zod schemas, and the files it leaves in its run folder.
 * The API validates `jobs.start` params with `params` (a bad value is an INVALID_REQUEST naming the field),
 * the worker parses them again (defaults filled) before calling the step, the renderer generates its forms
 * from `params` and reads results with `result`.
 */
import { z } from 'zod';

/** Stored kinds are namespaced like every file we write: `refusal-workbench/<what>`. */
export type FileKind = `refusal-workbench/${string}`;

/** A file a step writes into its run folder. */
export interface StepOutput {
  /** What the file is for the views (e.g. `results`, `graph`, `report`). */
  role: string;
  /** Its name in the run folder; `{layer}` / `{index}` placeholders are filled from the params. */
  file: string;
  /** The `kind` inside the file (JSON) or the format (tensors, HTML). */
  kind: FileKind | 'text/html' | 'text/csv' | 'text/plain';
  /** The schema version written today; older versions are upgraded by common/results migrations. */
  schemaVersion?: number;
}

export interface StepDef<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  params: P;
  result: R;
  outputs: readonly StepOutput[];
  /**
   * Bumped whenever a change to the step's code changes its numbers: it is part of every run and
   * checkpoint key, so a run computed by older code is recomputed instead of reused.
   */
  codeVersion: number;
  /**
   * Who owns the run folder: `job` — the queue makes runs/<jobId>/ (job.log + manifest); `step` — the step
   * picks its folder (keyed by what it computes from, so a rerun resumes) and the job's log goes there.
   */
  runFolder: 'job' | 'step';
}

export function defineStep<P extends z.ZodType, R extends z.ZodType>(def: StepDef<P, R>): StepDef<P, R> {
  return def;
}

/** Compute backends a step may be asked to use (workers/engine/backend.ts BackendName). */
export const BackendNameSchema = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']);

/** Where a run is stored: the small summary a step that owns its run folder returns. */
export const RunRefSchema = z.object({
  runId: z.string(),
  runDir: z.string(),
  seconds: z.number(),
});
