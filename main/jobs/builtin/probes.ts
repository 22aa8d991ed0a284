/** The probe run (issue 6) as a job step: dense vs refusal-feature vs random probes, stored in the project. */
import * as path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { probeRun } from '../../cli/probe.js';

export interface ProbeJobParams {
  /** Probe pipeline JSON (relative to the project or absolute); omitted = the bundled demo's. */
  pipeline?: string;
  /** Discovery run whose refusal features to probe (default: the newest one on the model). */
  discovery?: string;
  fresh?: boolean;
  backend?: BackendName;
}

export async function probes(params: ProbeJobParams, ctx: StepContext): Promise<Record<string, unknown>> {
  if (!ctx.projectDir) throw new Error('open a project first: probe runs are stored in the project folder');
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  const out = await probeRun(
    {
      project: ctx.projectDir,
      demo: !params.pipeline,
      pipeline: params.pipeline ? path.resolve(ctx.projectDir, params.pipeline) : undefined,
      discovery: params.discovery,
      fresh: !!params.fresh,
    },
    ctx,
  );
  return { runId: out.runId, runDir: out.runDir, seconds: out.seconds };
}
