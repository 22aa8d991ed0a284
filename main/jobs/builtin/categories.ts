/** The harm-categories analysis (issue 9) as a job step; the run is stored in the open project. */
import * as path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { demoCategoriesPipeline, readCategoriesPipeline, runCategories, categoriesSummary } from '../../../workers/categories/project.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { demoDir as bundledDemo } from '../../../workers/paths.js';



export interface CategoriesJobParams {
  /** Categories pipeline JSON (relative to the project or absolute); omitted = the bundled demo's. */
  pipeline?: string;
  fresh?: boolean;
  backend?: BackendName;
}

export async function categories(params: CategoriesJobParams, ctx: StepContext): Promise<Record<string, unknown>> {
  if (!ctx.projectDir) throw new Error('open a project first: the analysis stores its run in the project folder');
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  const demoDir = bundledDemo();
  const file = params.pipeline ? path.resolve(ctx.projectDir, params.pipeline) : null;
  const pl = file ? readCategoriesPipeline(file) : demoCategoriesPipeline(demoDir);
  const out = await runCategories(pl, file ? path.dirname(file) : demoDir, ctx.projectDir, ctx, { fresh: !!params.fresh });
  return { runId: out.runId, runDir: out.runDir, seconds: out.seconds, ...categoriesSummary(out.results) };
}
