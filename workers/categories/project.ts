/**
 * `categories --project DIR (--demo | --pipeline FILE)`: the harm-categories analysis as a stored run —
 * results and a manifest (inputs with hashes, params, versions, backend, timings) in runs/<id>/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RUN_KIND, RUN_SCHEMA_VERSION } from '../../common/schemas/run.js';
import { currentBackend } from '../engine/backend.js';
import { codecFromTokenizer, makeLens, providerFromSaeSet } from '../refusal/lens.js';
import { loadChatModel, loadSuitePrompts, resolve, resolveSaeSpec, saeSpecFiles, SuiteRefSchema, type SuiteRef } from '../refusal/project.js';
import { categoriesResults, checkResultForWrite } from '../../common/results/index.js';
import { listFiles, readJsonFile, RunDir, sha256File, sha256Text, writeJsonAtomic } from '../refusal/runs.js';
import type { StepCtx } from '../refusal/types.js';
import { SaeSet } from '../sae/set.js';
import { analyseCategories, CategoriesParamsSchema, type CategoriesResults, type CategoryItem } from './analysis.js';


export const CategoriesPipelineSchema = z.object({
  kind: z.literal('refusal-workbench/categories-pipeline'),
  schemaVersion: z.literal(1),
  name: z.string().default('categories'),
  model: z.string(),
  saes: z.union([z.string(), z.record(z.string(), z.string())]),
  suites: z.object({ harmful: SuiteRefSchema, harmless: SuiteRefSchema }),
  params: CategoriesParamsSchema.partial().default({}),
});
export type CategoriesPipeline = z.infer<typeof CategoriesPipelineSchema>;

export function demoCategoriesPipeline(demoDir: string): CategoriesPipeline {
  return CategoriesPipelineSchema.parse({
    kind: 'refusal-workbench/categories-pipeline',
    schemaVersion: 1,
    name: 'demo-categories',
    model: path.join(demoDir, 'model'),
    saes: path.join(demoDir, 'saes'),
    suites: {
      harmful: { path: path.join(demoDir, 'suites', 'demo-harmful.json'), split: 'test' },
      harmless: { path: path.join(demoDir, 'suites', 'demo-harmless.json'), split: 'train', limit: 64 },
    },
    // The demo has 2 SAE layers: a wider pool than the default 10 per layer, so that categories can
    // differ; and its resid_post ablation rarely flips the first token, so the LA-IG metric uses the
    // ablated run's best non-refusal token (otherwise most samples have a metric of exactly zero).
    params: { maxNewTokens: 12, k: 64, kStar: 16, maxPerCategory: 12, steps: 4, sweepMaxLayerFrac: 1, jToken: 'non-refusal' },
  });
}

export function readCategoriesPipeline(file: string): CategoriesPipeline {
  return readJsonFile(file, CategoriesPipelineSchema, 'a categories pipeline');
}


/** The suite's filtered prompts with their category (from the suite's items). */
function categoryItems(base: string, ref: SuiteRef): { items: CategoryItem[]; file: string } {
  const { items: all, file } = loadSuitePrompts(base, ref);
  const items = all.filter((i) => i.category).map((i) => ({ instruction: i.instruction, category: i.category! }));
  if (!items.length) throw new Error(`${file}: no prompt has a "category" (the analysis needs categorised prompts)`);
  return { items, file };
}

export interface CategoriesOutcome {
  runId: string;
  runDir: string;
  results: CategoriesResults;
  seconds: number;
}

export async function runCategories(
  pl: CategoriesPipeline,
  base: string,
  projectDir: string,
  ctx: StepCtx,
  opts: { fresh?: boolean } = {},
): Promise<CategoriesOutcome> {
  const t0 = performance.now();
  const started = new Date();
  const modelDir = resolve(base, pl.model);
  const saeSpec = resolveSaeSpec(base, pl.saes);
  const harmful = categoryItems(base, pl.suites.harmful);
  const harmless = loadSuitePrompts(base, pl.suites.harmless);
  const runId = `categories-${sha256Text(JSON.stringify({ pl, modelDir, saeSpec })).slice(0, 12)}`;
  const runDir = path.join(projectDir, 'runs', runId);
  if (opts.fresh) fs.rmSync(runDir, { recursive: true, force: true });
  const run = new RunDir(runDir);
  ctx.onRunDir?.(runDir);
  const params = CategoriesParamsSchema.parse(pl.params);
  const manifest = {
    kind: RUN_KIND,
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId,
    step: 'refusal.categories',
    params: { pipeline: pl, resolved: params },
    inputs: [
      ...listFiles(modelDir),
      ...saeSpecFiles(saeSpec),
      harmful.file,
      harmless.file,
    ].map((f) => ({ path: f, sha256: sha256File(f) })),
    versions: { node: process.version },
    backend: currentBackend().description,
    startedAt: started.toISOString(),
  };
  const { model, tokenizer } = await loadChatModel(modelDir, 'the categories analysis');
  const lens = makeLens(model, providerFromSaeSet(SaeSet.open(saeSpec), { resident: true }), codecFromTokenizer(tokenizer));
  try {
    const { value: results } = await run.step('categories', () => analyseCategories(lens, { harmful: harmful.items, harmless: harmless.prompts }, params, ctx));
    const seconds = (performance.now() - t0) / 1000;
    run.write('results.json', checkResultForWrite(categoriesResults, results, path.join(runDir, 'results.json')));
    run.write('manifest.json', { ...manifest, status: 'succeeded', outputs: ['results.json'], finishedAt: new Date().toISOString(), timings: { total: seconds } });
    return { runId, runDir, results, seconds };
  } catch (e) {
    const cancelled = (e as Error).name === 'AbortError' || ctx.signal.aborted;
    writeJsonAtomic(path.join(runDir, 'manifest.json'), { ...manifest, status: cancelled ? 'cancelled' : 'failed', outputs: [], finishedAt: new Date().toISOString(), error: (e as Error).message });
    throw e;
  } finally {
    model.dispose();
  }
}

/** The CLI's --json line (issue 9). */
export function categoriesSummary(r: CategoriesResults): Record<string, unknown> {
  return {
    categories: r.categories,
    common: r.sets.common.map((f) => [f.layer, f.index]),
    specific: Object.fromEntries(Object.entries(r.sets.specific).map(([c, fs]) => [c, fs.map((f) => [f.layer, f.index])])),
    refusal_rate: r.refusal_rate,
    counts: r.counts,
    common_drop_when_specific_clamped: r.common_drop_when_specific_clamped,
    ...(r.warnings?.length ? { warnings: r.warnings } : {}),
  };
}
