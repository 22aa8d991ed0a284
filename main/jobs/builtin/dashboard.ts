/**
 * `features.dashboard`: scans a corpus and stores a dashboard per feature (workers/features/dashboard.ts) in
 * the run folder: `dashboard/index.json` (corpus, the features, density and max per feature: what the
 * feature list and search need) and `dashboard/L{layer}-{index}.json` (one feature's page). Only small JSON
 * leaves the worker.
 *
 * Features default to the newest discovery run's refusal set (CosSim+AP global K*) and its graph nodes; the
 * co-activation reference defaults to that refusal set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { displayTokens, loadSource, resolveSource, type ResolvedSource } from '../../../workers/features/source.js';
import { featureDashboards, featureId, type FeatureDashboard, type FeatureId } from '../../../workers/features/dashboard.js';
import { buildCorpus, readCorpus } from '../../../workers/features/corpus.js';
import { DashboardParamsSchema, type DashboardParams, type DashboardResult } from '../../../common/steps/features-dashboard.js';
import { parseFeatures } from '../../../workers/playground/playground.js';
import { deriveSkipPrefix } from '../../../workers/refusal/lens.js';
import { readResultFile, writeJsonAtomic } from '../../../workers/refusal/runs.js';
import { discoveryResults } from '../../../common/results/discovery.js';
import { featureGraph } from '../../../common/results/graph.js';
import { DASHBOARD_FEATURE_KIND, DASHBOARD_INDEX_KIND, DashboardFeatureFileSchema, DashboardIndexSchema } from '../../../common/results/dashboard.js';

export { DashboardParamsSchema, type DashboardParams, type DashboardResult };

export { DASHBOARD_FEATURE_KIND, DASHBOARD_INDEX_KIND };

export function dashboardFileName(f: FeatureId): string {
  return `dashboard/L${f.layer}-${f.index}.json`;
}


/** The discovery run's refusal set and graph nodes (results.json, graph.json), when the source is a run. */
export function runFeatureSets(src: ResolvedSource, projectDir: string | null): { refusal: FeatureId[]; graph: FeatureId[] } {
  const out = { refusal: [] as FeatureId[], graph: [] as FeatureId[] };
  if (!src.runId || !projectDir) return out;
  const dir = path.join(projectDir, 'runs', src.runId);
  try {
    const r = readResultFile(discoveryResults, path.join(dir, 'results.json'));
    out.refusal = (r.sets.cossim_ap_global?.sets[0] ?? []).map((f) => ({ layer: f.layer, index: f.index }));
  } catch {
    /* no results */
  }
  try {
    const g = readResultFile(featureGraph, src.graphFile ?? path.join(dir, 'graph.json'));
    out.graph = g.nodes.map((n) => ({ layer: n.layer, index: n.index }));
  } catch {
    /* no graph */
  }
  return out;
}

function uniq(fs_: FeatureId[]): FeatureId[] {
  const seen = new Set<string>();
  return fs_.filter((f) => (seen.has(featureId(f)) ? false : (seen.add(featureId(f)), true)));
}

export async function dashboard(paramsIn: DashboardParams, ctx: StepContext): Promise<DashboardResult> {
  const P = DashboardParamsSchema.parse(paramsIn ?? {});
  ctx.progress('load', 0);
  const backend = await initBackend({ preference: P.backend as BackendName | undefined });
  ctx.setBackend(backend.description);
  const src = resolveSource(ctx.projectDir, { pipeline: P.pipeline, demo: P.demo });
  ctx.log(`source: ${src.label}`);
  const sets = runFeatureSets(src, ctx.projectDir);
  const features = P.features?.length ? parseFeatures(P.features) : uniq([...sets.refusal, ...sets.graph]);
  if (!features.length) throw new Error('features.dashboard: no features given and no discovery run to take its refusal set from (pass features: ["L1/5", …])');
  const reference = P.reference ? parseFeatures(P.reference) : sets.refusal;
  const { model, tokenizer, set, stopTokens } = await loadSource(src, ctx.cache);

  const base = ctx.projectDir ?? process.cwd();
  const refs = P.corpus?.length ? P.corpus : src.suites.map((s) => s.file);
  const prompts = readCorpus(refs, base, src.suites, { perSource: P.perSource, seed: P.seed });
  ctx.log(`${prompts.length} prompts from ${refs.length} corpus sources; replies of up to ${P.responseTokens} tokens`);
  ctx.progress('generate', 0.02);
  const corpus = await buildCorpus(model, prompts, (t) => tokenizer.encodeInstruction(t), {
    maxNewTokens: P.responseTokens,
    stopTokens,
    batchSize: P.batchSize,
    signal: ctx.signal,
    onBatch: (d, of) => ctx.progress('generate', 0.02 + (0.38 * d) / of),
  });
  const dashboards = await featureDashboards(
    { model, modelDir: src.modelDir, set, corpus, tokens: (ids) => displayTokens(tokenizer, ids), tokenText: (j) => displayTokens(tokenizer, [j])[0]! },
    {
      features,
      reference,
      topExamples: P.topExamples,
      quantiles: P.quantiles,
      perQuantile: P.perQuantile,
      bins: P.bins,
      logitK: P.logitK,
      neighbours: P.neighbours,
      skipPrefix: deriveSkipPrefix(tokenizer),
      batchSize: P.batchSize,
      seed: P.seed,
      signal: ctx.signal,
      onBatch: (d, of) => ctx.progress('scan', 0.4 + (0.55 * d) / of),
    },
  );
  const tokens = dashboards[0]?.density.tokens ?? 0;
  const corpusInfo = {
    sources: [...new Set(corpus.map((c) => c.source))].map((s) => ({ name: s, sequences: corpus.filter((c) => c.source === s).length })),
    sequences: corpus.length,
    tokens,
    responseTokens: P.responseTokens,
  };
  let indexFile: string | null = null;
  if (ctx.runDir) {
    // written only as the schema the views parse with (a mismatch fails here, not in the UI)
    for (const d of dashboards) writeJsonAtomic(path.join(ctx.runDir, dashboardFileName(d)), DashboardFeatureFileSchema.parse({ kind: DASHBOARD_FEATURE_KIND, schemaVersion: 1, feature: sanitize(d) }));
    indexFile = path.join(ctx.runDir, 'dashboard', 'index.json');
    writeJsonAtomic(indexFile, DashboardIndexSchema.parse({
      kind: DASHBOARD_INDEX_KIND,
      schemaVersion: 1,
      source: src.label,
      discoveryRun: src.runId ?? null,
      params: { ...P, features: features.map(featureId), reference: reference.map(featureId) },
      corpus: corpusInfo,
      features: dashboards.map((d) => ({
        id: d.id,
        layer: d.layer,
        index: d.index,
        file: dashboardFileName(d),
        density: d.density.fraction,
        maxActivation: d.maxActivation,
        topTokens: d.logits.promoted.slice(0, 3).map((t) => t.token),
        inRefusalSet: reference.some((r) => featureId(r) === d.id),
      })),
    }));
  }
  ctx.progress('done', 1);
  return { runId: ctx.runDir ? path.basename(ctx.runDir) : null, index: indexFile, features: dashboards.map((d) => d.id), sequences: corpus.length, tokens, source: src.label };
}

/** JSON has no −Infinity/NaN: they are written as null. */
function sanitize(d: FeatureDashboard): FeatureDashboard {
  return JSON.parse(JSON.stringify(d, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as FeatureDashboard;
}
