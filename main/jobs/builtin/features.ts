/**
 * `features.detail`: everything the Feature page shows for one feature L{layer}/{index} (decoder cosine with
 * the refusal direction, top-activating prompts and tokens with per-token activations, histogram, logit lens,
 * Neuronpedia id). Returned (FeatureDetailVM-shaped) and cached in the run folder as
 * feature-L{layer}-{index}.json (`{features: {"L{l}/{i}": detail}}`); a later job for the same feature, source
 * and sample reads any run's cached file back instead of recomputing (unless `fresh`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { displayTokens, loadSource, resolveSource, samplePrompts } from '../../../workers/features/source.js';
import { featureDetail, type FeatureDetail } from '../../../workers/features/detail.js';
import { codecFromTokenizer, deriveSkipPrefix, makeLens, providerFromSaeSet } from '../../../workers/refusal/lens.js';
import { laIg } from '../../../workers/refusal/attribution.js';
import { selectFeatures } from '../../../workers/refusal/selection.js';
import { readResultFile, writeResultJson } from '../../../workers/refusal/runs.js';
import { featureGraph } from '../../../common/results/graph.js';
import { FEATURE_DETAIL_KIND, featureDetailFile } from '../../../common/results/job-files.js';

export interface FeatureDetailParams {
  layer: number;
  index: number;
  /** Accepted for the view's FeatureRef; the layer picks the SAE. */
  saeId?: string;
  /** Prompts sampled per suite (seeded). Default 32. */
  perSuite?: number;
  seed?: number;
  /** Suite files to use instead of the source's (relative to the project or absolute). */
  suites?: string[];
  topContexts?: number;
  bins?: number;
  logitK?: number;
  batchSize?: number;
  /**
   * Attribution across suites: the method's LA-IG attribution of this feature (metric logit[j] − logit['I'],
   * j = the ablated run's best non-refusal token, direction ablated in the patched run; position mean from the
   * template prefix, mean over prompts) on
   * `attributionPerSuite` prompts of each suite (default 8; 0 = off). Needs a refusal direction.
   */
  attributionPerSuite?: number;
  /** Integration steps for that attribution (default 8). */
  attributionSteps?: number;
  pipeline?: string;
  demo?: boolean;
  fresh?: boolean;
  backend?: BackendName;
}

export type FeatureDetailResult = FeatureDetail & { source: string; cached: boolean; file: string | null };

const KIND = FEATURE_DETAIL_KIND;

function cacheName(layer: number, index: number): string {
  return `feature-L${layer}-${index}.json`;
}

function findCached(projectDir: string | null, name: string, key: string, id: string): FeatureDetail | null {
  if (!projectDir) return null;
  const runs = path.join(projectDir, 'runs');
  if (!fs.existsSync(runs)) return null;
  for (const r of fs.readdirSync(runs)) {
    const f = path.join(runs, r, name);
    if (!fs.existsSync(f)) continue;
    try {
      const j = JSON.parse(fs.readFileSync(f, 'utf8')) as { kind?: string; cacheKey?: string; features?: Record<string, FeatureDetail> };
      if (j.kind === KIND && j.cacheKey === key && j.features?.[id]) return j.features[id]!;
    } catch {
      /* unreadable: recompute */
    }
  }
  return null;
}

function fileStamp(f: string): string {
  try {
    const st = fs.statSync(f);
    return `${path.resolve(f)}:${st.size}:${st.mtimeMs}`;
  } catch {
    return f;
  }
}

export async function detail(params: FeatureDetailParams, ctx: StepContext): Promise<FeatureDetailResult> {
  const layer = Number(params.layer);
  const index = Number(params.index);
  if (!Number.isInteger(layer) || !Number.isInteger(index) || layer < 0 || index < 0) throw new Error('features.detail needs {layer, index} (non-negative integers)');
  const id = `L${layer}/${index}`;
  const src = resolveSource(ctx.projectDir, { pipeline: params.pipeline, demo: params.demo });
  const suites = params.suites?.length
    ? params.suites.map((s) => {
        const file = path.isAbsolute(s) ? s : path.resolve(ctx.projectDir ?? process.cwd(), s);
        return { name: path.basename(file).replace(/\.json$/i, ''), file };
      })
    : src.suites;
  const perSuite = Math.max(1, Math.floor(params.perSuite ?? 32));
  const seed = params.seed ?? 0;
  const attributionPerSuite = Math.max(0, Math.floor(params.attributionPerSuite ?? 8));
  const attributionSteps = Math.max(1, Math.floor(params.attributionSteps ?? 8));
  const opts = { perSuite, seed, topContexts: params.topContexts ?? 12, bins: params.bins ?? 20, logitK: params.logitK ?? 10, attributionPerSuite, attributionSteps };
  const cacheKey = crypto
    .createHash('sha256')
    .update(
      JSON.stringify({
        model: fileStamp(path.join(src.modelDir, 'model.safetensors')),
        saes: src.saes,
        suites: suites.map((s) => fileStamp(s.file)),
        direction: src.direction ? src.direction.from : null,
        graph: src.graphFile ?? null,
        opts,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const name = cacheName(layer, index);
  const write = (d: FeatureDetail): string | null => {
    if (!ctx.runDir) return null;
    const f = path.join(ctx.runDir, name);
    writeResultJson(featureDetailFile, f, { kind: KIND, schemaVersion: 1, cacheKey, source: src.label, params: opts, features: { [id]: d } });
    return f;
  };
  if (!params.fresh) {
    const hit = findCached(ctx.projectDir, name, cacheKey, id);
    if (hit) {
      ctx.log(`${id}: cached`);
      return { ...hit, source: src.label, cached: true, file: write(hit) };
    }
  }

  ctx.progress('load', 0);
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  ctx.log(`source: ${src.label}`);
  const { model, tokenizer, set } = await loadSource(src, ctx.cache);
  const sample = samplePrompts(suites, perSuite, seed).map((p) => ({ ...p, ids: tokenizer.encodeInstruction(p.text) }));
  ctx.log(`${sample.length} prompts from ${suites.length} suites`);
  const d = await featureDetail({
    model,
    modelDir: src.modelDir,
    set,
    layer,
    index,
    prompts: sample,
    tokens: (ids) => displayTokens(tokenizer, ids),
    tokenText: (j) => displayTokens(tokenizer, [j])[0]!,
    direction: src.direction,
    logitK: opts.logitK,
    context: {
      batchSize: params.batchSize ?? 16,
      topContexts: opts.topContexts,
      bins: opts.bins,
      skipPrefix: deriveSkipPrefix(tokenizer),
      signal: ctx.signal,
      onBatch: (done, of) => ctx.progress('contexts', (0.9 * done) / of),
    },
  });
  const attribution: Array<{ suite: string; value: number; n?: number }> = [];
  // the feature's attribution in the discovery graph, when it is a node there
  if (src.graphFile) {
    try {
      const node = readResultFile(featureGraph, src.graphFile).nodes.find((n) => n.layer === layer && n.index === index);
      if (node) attribution.push({ suite: 'discovery', value: node.attribution });
    } catch (e) {
      ctx.log(`graph not used: ${(e as Error).message}`);
    }
  }
  // and its attribution on a few prompts of each suite
  if (src.direction && attributionPerSuite > 0 && src.direction.vector.length === model.config.dModel) {
    // every layer's SAE takes part (as in discovery): kept resident when they are small, else streamed
    const lens = makeLens(model, providerFromSaeSet(set, { resident: set.estimateBytes() <= 1024 ** 3 }), codecFromTokenizer(tokenizer));
    const skipPrefix = deriveSkipPrefix(tokenizer);
    for (const [si, s] of suites.entries()) {
      ctx.throwIfCancelled();
      const ps = samplePrompts([s], attributionPerSuite, seed).map((p) => ({ text: p.text, ids: tokenizer.encodeInstruction(p.text) }));
      if (!ps.length) continue;
      const attr = await laIg(
        lens,
        // j = the ablated run's best non-refusal token, so every prompt has a metric (with the reference
        // 'argmax' rule m ≡ 0 wherever the ablated run still starts with the refusal token)
        { prompts: ps, direction: src.direction.vector, ablationSites: src.direction.sites, steps: attributionSteps, pool: { [layer]: [index] }, batchSize: 8, jToken: 'non-refusal' },
        { signal: ctx.signal, log: (l) => ctx.log(l), progress: () => ctx.progress('attribution', 0.9 + (0.1 * si) / suites.length) },
      );
      const score = selectFeatures(attr, { kStar: 1, skipPrefix }).globalScores[0]?.score ?? 0;
      attribution.push({ suite: s.name, value: score, n: ps.length });
    }
  }
  if (attribution.length) d.attributionBySuite = attribution;
  ctx.progress('done', 1);
  return { ...d, source: src.label, cached: false, file: write(d) };
}
