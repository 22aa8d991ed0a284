/** `categories --project DIR (--demo | --pipeline FILE) [--json] [--fresh]` (issue 9). */
import path from 'node:path';
import { initBackend } from '../../workers/engine/backend.js';
import { categoriesSummary, demoCategoriesPipeline, readCategoriesPipeline, runCategories } from '../../workers/categories/project.js';
import { tempProject } from '../../workers/refusal/project.js';
import { parseFlags, UsageError } from './args.js';
import { cliCtx } from './progress.js';
import { demoDir as bundledDemo } from '../../workers/paths.js';



export async function runCategoriesCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    project: { type: 'string' }, demo: { type: 'boolean' }, pipeline: { type: 'string' }, json: { type: 'boolean' },
    fresh: { type: 'boolean' }, backend: { type: 'string' },
  });
  if (!values.demo && !values.pipeline) throw new UsageError('give --demo or --pipeline FILE');
  await initBackend({ preference: values.backend as 'wasm' | undefined });
  const project = values.project ?? (values.demo ? tempProject() : undefined);
  if (!project) throw new UsageError('missing --project DIR');
  const demoDir = bundledDemo();
  const pl = values.demo ? demoCategoriesPipeline(demoDir) : readCategoriesPipeline(values.pipeline!);
  const base = values.pipeline ? path.dirname(path.resolve(values.pipeline)) : demoDir;
  const { ctx, dispose } = cliCtx(!!values.json);
  try {
    const out = await runCategories(pl, base, project, ctx, { fresh: values.fresh });
    const s = categoriesSummary(out.results);
    if (!values.json) {
      process.stdout.write(`categories run ${out.runId} in ${out.runDir} (${out.seconds.toFixed(1)} s)\n`);
      process.stdout.write(`common set: ${(s.common as number[][]).map(([l, i]) => `L${l}/${i}`).join(', ') || '(empty)'}\n`);
    }
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return 0;
  } finally {
    dispose();
  }
}
