/**
 * Steps wrapping the refusal pipeline (workers/refusal) for the job queue. They run in a worker thread;
 * results are stored as a run in the open project (runs/<runId>/), the job returns a small summary.
 */
import * as path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { runPipelineFile } from '../../../workers/refusal/project.js';
import { demoPipelinePath } from '../../cli/discover.js';

export interface DiscoverParams {
  /** Pipeline JSON, relative to the project folder or absolute; omitted (or demo: true) = the bundled demo's. */
  pipeline?: string;
  demo?: boolean;
  runId?: string;
  fresh?: boolean;
  backend?: BackendName;
}

export async function discover(params: DiscoverParams, ctx: StepContext): Promise<{ runId: string; runDir: string; seconds: number }> {
  if (!ctx.projectDir) throw new Error('open a project first: discovery stores its run in the project folder');
  const pipeline =
    params.demo || !params.pipeline ? demoPipelinePath(ctx.projectDir) : path.resolve(ctx.projectDir, params.pipeline);
  ctx.progress({ stage: 'backend', fraction: 0 });
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  ctx.log(`backend: ${backend.description}; pipeline: ${pipeline}`);
  const out = await runPipelineFile(pipeline, ctx.projectDir, ctx, { runId: params.runId, fresh: !!params.fresh });
  return { runId: out.runId, runDir: out.runDir, seconds: out.seconds };
}
