/** Messages between the job queue (main thread) and a worker thread. */

export type ToWorker =
  | {
      type: 'run';
      jobId: string;
      /** The step's name: the worker parses the params with its contract (common/steps). */
      step: string;
      module: string;
      export: string;
      params: Record<string, unknown>;
      projectDir: string | null;
      runDir: string | null;
    }
  | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; stage?: string; fraction?: number | null }
  | { type: 'log'; jobId: string; line: string }
  | { type: 'backend'; description: string }
  /** A step that owns its run folder (common/steps `runFolder: 'step'`) names it; the job log goes there. */
  | { type: 'runDir'; jobId: string; dir: string }
  | { type: 'done'; jobId: string; result: unknown }
  | { type: 'cancelled'; jobId: string }
  | { type: 'error'; jobId: string; error: { name: string; message: string; stack?: string } };
