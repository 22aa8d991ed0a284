/**
 * The default discovery pipeline (§1 steps 2–9 + graph): data prep → direction (+ layer sweep) → cosine
 * pool + CosSim → LA-IG (S2 by default) → K* selection + baselines → clamped generation, judged → graph.
 * Every step is checkpointed in the run folder (resume per step, generation per batch).
 */
import { DISCOVERY_RESULTS_KIND, DISCOVERY_RESULTS_VERSION, type DiscoveryResultsFile } from '../../common/results/discovery.js';
import { DiscoveryParamsSchema, type DiscoveryParamsInput, type MethodKey } from '../../common/steps/discover.js';
import { laIg, type AttributionResult } from './attribution.js';
import { filterByFirstToken, encodePrompts } from './data.js';
import { layerSweep, refusalDirection } from './direction.js';
import { conditionHooks, generateUnder, refusalRate, stopTokens, substringJudge, type Condition, type Generation, type RefusalJudge } from './generate.js';
import { ceLoss } from './sideeffects.js';
import { mechanismOnPairs, type MechanismSummary } from './jailbreak.js';
import { buildGraph, upwardEdgeCount, type FeatureGraph } from './graph.js';
import { cosinePool } from './pool.js';
import { inducedRefusalSweep } from './induce.js';
import type { RunDir } from './runs.js';
import { actDiff, randomControl, selectAp, selectFeatures, selectionSkip } from './selection.js';
import type { PoolResult } from './pool.js';
import { checkAbort, defaultClampValue, type EncodedPrompt, type FeatureSet, type FeatureSets, type Lens, type StepCtx } from './types.js';

// The parameters are declared once, in the step contract (common/steps/discover.ts).
export { DiscoveryParamsSchema, METHOD_KEYS, type DiscoveryParams, type DiscoveryParamsInput, type MethodKey } from '../../common/steps/discover.js';

export interface DiscoverySuites {
  /** Harmful eval prompts (held out): rates, LA-IG and (reference) the direction. */
  harmful: string[];
  /** Harmless prompts for the direction and ActDiff (filtered to those not refused). */
  harmless: string[];
  /** Harmless held-out prompts: the side-effect refusal rate. */
  evalHarmless: string[];
  /** Optional separate harmful prompts for the direction (directionFrom 'train'). */
  harmfulTrain?: string[];
  /** Vanilla/adversarial prompt pairs for the jailbreak-mechanism measures (§2.13). */
  pairs?: Array<{ vanilla: string; adversarial: string }>;
}

/** results.json: its schema (version 2) is common/results/discovery.ts. */
export type DiscoveryResults = Omit<DiscoveryResultsFile, 'seconds' | 'memory'>;

export function reviveAttribution(raw: unknown): AttributionResult {
  const r = raw as AttributionResult;
  const f32 = (o: Record<number, unknown>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v as number[])]));
  for (const s of r.samples) {
    s.poolAttr = f32(s.poolAttr);
    s.poolGrad = f32(s.poolGrad);
    s.poolDelta = f32(s.poolDelta);
  }
  if (r.apSum) r.apSum = Object.fromEntries(Object.entries(r.apSum).map(([k, v]) => [k, Float64Array.from(v as unknown as number[])]));
  return r;
}

export async function discover(
  lens: Lens,
  suites: DiscoverySuites,
  paramsIn: DiscoveryParamsInput,
  run: RunDir | null,
  ctx: StepCtx,
  opts: { judge?: RefusalJudge; jailbreakJudge?: RefusalJudge; /** Largest K* a later sweep needs (AP keeps that many per layer). */ maxKStar?: number } = {},
): Promise<{ results: DiscoveryResults; graph: FeatureGraph | null; generations: Record<string, Generation[]>; attribution: AttributionResult; context: DiscoveryContext }> {
  const P = DiscoveryParamsSchema.parse(paramsIn);
  const judge = opts.judge ?? substringJudge;
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T>, revive?: (raw: unknown) => T): Promise<T> => {
    checkAbort(ctx);
    const t0 = performance.now();
    const v = run ? (await run.step(name, fn, revive)).value : await fn();
    timings[name] = (performance.now() - t0) / 1000;
    ctx.log(`${name}: ${timings[name].toFixed(2)} s`);
    return v;
  };
  const L = lens.model.config.nLayers;

  // 1. data
  const data = await step('data', async () => {
    const harmful = encodePrompts(lens, suites.harmful);
    let harmless = encodePrompts(lens, suites.harmless);
    if (P.filterHarmless) harmless = (await filterByFirstToken(lens, harmless, 'complies', ctx)).kept;
    let harmfulTrain = suites.harmfulTrain ? encodePrompts(lens, suites.harmfulTrain) : null;
    if (harmfulTrain && P.filterHarmful) harmfulTrain = (await filterByFirstToken(lens, harmfulTrain, 'refuses', ctx)).kept;
    const evalHarmless = encodePrompts(lens, suites.evalHarmless);
    return { harmful, harmless, harmfulTrain, evalHarmless };
  });
  const harmful: EncodedPrompt[] = data.harmful;
  const dirHarmful = P.directionFrom === 'train' && data.harmfulTrain ? data.harmfulTrain : harmful;

  // 2. direction + layer
  const dir = await step('direction', async () => {
    const r = await refusalDirection(lens, { harmful: dirHarmful, harmless: data.harmless }, ctx);
    return { directions: r.directions.map((d) => Array.from(d)) };
  });
  const directions = dir.directions.map((d) => Float32Array.from(d));
  const sweep = await step('layer', async () => {
    if (P.layer !== null) return { layer: P.layer, rows: null };
    const maxL = Math.max(1, Math.floor(P.sweepMaxLayerFrac * L));
    const cands = Array.from({ length: maxL }, (_, l) => l);
    const r = await layerSweep(lens, { directions, prompts: dirHarmful, candidates: cands, sites: P.ablationSites }, ctx);
    if (P.sweepScore === 'first-token') return { layer: r.bestLayer, rows: r.rows };
    // reference (§2.2): generate under each layer's ablation and judge; ℓ* = least refusal (ties: first-token score)
    const sub = dirHarmful.slice(0, P.sweepPrompts);
    const rows = [];
    for (const row of r.rows) {
      const g = await generateUnder(
        lens,
        { prompts: sub, condition: { kind: 'ablate', direction: directions[row.layer], sites: P.ablationSites }, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule },
        ctx,
      );
      rows.push({ ...row, judgedRefusalRate: (await refusalRate(judge, g)).rate });
    }
    const best = [...rows].sort((a, b) => a.judgedRefusalRate - b.judgedRefusalRate || a.refusalRate - b.refusalRate || a.meanRefusalProb - b.meanRefusalProb)[0];
    return { layer: best.layer, rows };
  });
  const layer = sweep.layer;
  const vR = directions[layer];

  // 3. pool + CosSim
  // CosSim keeps the top max(K*, sweep K*) so a K* sweep reads prefixes of one ranking
  const pool = await step('pool', () => cosinePool(lens, { direction: vR, k: P.k, kStar: Math.max(P.kStar, opts.maxKStar ?? 0) }, ctx));

  // 4. LA-IG (pool per token + full width for AP)
  const attr = await step(
    'attribution',
    () =>
      laIg(
        lens,
        {
          prompts: harmful,
          direction: vR,
          steps: P.steps,
          alphaRule: P.alphaRule,
          errorTerm: P.errorTerm,
          ablationSites: P.ablationSites,
          jToken: P.jToken,
          path: P.attributionPath,
          batchSize: P.laBatchSize,
          pool: pool.pool,
          fullWidth: P.methods.includes('ap'),
          fullWidthTop: Math.max(P.kStar, opts.maxKStar ?? 0),
          apPositions: P.positions,
        },
        ctx,
      ),
    reviveAttribution,
  );

  // 5. selection + baselines
  const sets = await step('selection', async () => {
    const sel = selectFeatures(attr, { kStar: P.kStar, skipPrefix: selectionSkip(lens.codec, P.selectionPositions) });
    const out: Record<string, FeatureSets> = {
      cossim_ap: sel.local,
      cossim_ap_global: sel.global,
      cossim: { kind: 'global', sets: [pool.cossim.slice(0, P.kStar)] },
    };
    if (P.methods.includes('ap')) {
      const ap = selectAp(attr, { kStar: P.kStar, compatMisaligned: P.apCompatMisaligned });
      out.ap = ap.local;
      out.ap_global = ap.global;
    }
    let actdiffRanking: FeatureSet | undefined;
    if (P.methods.includes('actdiff')) {
      const ad = await actDiff(lens, { harmful, harmless: data.harmless, kStar: Math.max(P.kStar, opts.maxKStar ?? 0), positions: P.positions }, ctx);
      actdiffRanking = ad.scores.map(({ layer, index }) => ({ layer, index }));
      out.actdiff = { kind: 'global', sets: [actdiffRanking.slice(0, P.kStar)] };
    }
    out.random = await randomControl(lens, sel.local, P.seed);
    return { sets: out, globalScores: sel.globalScores.map((s) => s.score), actdiffRanking };
  });

  // 6. clamped generation, judged
  const c = P.clampValue ?? defaultClampValue(lens.family);
  const condition = (m: MethodKey): Condition => {
    if (m === 'base') return { kind: 'none' };
    if (m === 'as') return { kind: 'ablate', direction: vR, sites: P.ablationSites };
    return { kind: 'clamp', sets: sets.sets[m], edit: { mode: 'multiply', c }, positions: P.clampPositions, path: P.clampPath };
  };
  const harmlessCondition = (m: MethodKey): Condition => {
    const hc = condition(m);
    if (hc.kind !== 'clamp' || hc.sets.kind !== 'local') return hc;
    const g =
      m === 'cossim_ap'
        ? sets.sets.cossim_ap_global
        : m === 'ap'
          ? sets.sets.ap_global
          : { kind: 'global' as const, sets: [dedupe(hc.sets.sets.flat()).slice(0, P.kStar)] };
    return { ...hc, sets: g };
  };
  const generations: Record<string, Generation[]> = {};
  const refusal: Partial<Record<MethodKey, number>> = {};
  const harmlessRefusal: Partial<Record<MethodKey, number>> = {};
  const jailbreak: Partial<Record<MethodKey, number>> = {};
  const t0 = performance.now();
  const store = run?.batchStore<Generation[]>();
  for (const m of P.methods) {
    checkAbort(ctx);
    // setKind 'global': the harmful suite is clamped with the global sets too (as the harmless one always is)
    const hc = P.setKind === 'global' ? harmlessCondition(m) : condition(m);
    generations[`${m}-harmful`] = await generateUnder(
      lens,
      { prompts: harmful, condition: hc, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule, store, storeKey: `${m}-harmful` },
      ctx,
    );
    refusal[m] = (await refusalRate(judge, generations[`${m}-harmful`])).rate;
    if (opts.jailbreakJudge) jailbreak[m] = (await refusalRate(opts.jailbreakJudge, generations[`${m}-harmful`])).rate;
    // harmless side effect: global sets for the per-sample methods (sets are aligned to the harmful suite)
    const hcond = harmlessCondition(m);
    generations[`${m}-harmless`] = await generateUnder(
      lens,
      { prompts: data.evalHarmless, condition: hcond, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule, store, storeKey: `${m}-harmless` },
      ctx,
    );
    harmlessRefusal[m] = (await refusalRate(judge, generations[`${m}-harmless`])).rate;
    ctx.log(`${m}: harmful refusal ${refusal[m]!.toFixed(3)}, harmless refusal ${harmlessRefusal[m]!.toFixed(3)}`);
  }
  timings.generate = (performance.now() - t0) / 1000;

  // 6a. side effects: CE over the label tokens (W8) of the base rollouts on the harmless eval prompts
  let ceRes: Partial<Record<MethodKey, number>> | null = null;
  if (P.sideEffects && generations['base-harmless']) {
    ceRes = await step('side-effects', async () => {
      const stops = new Set(stopTokens(lens, P.stopRule));
      const items = data.evalHarmless
        .map((p, i) => {
          const toks = generations['base-harmless'][i].tokens;
          const cut = toks.findIndex((t) => stops.has(t));
          return { context: p.ids, label: cut >= 0 ? toks.slice(0, cut + 1) : toks };
        })
        .filter((x) => x.label.length > 0);
      const out: Partial<Record<MethodKey, number>> = {};
      for (const m of P.methods) {
        const cond = harmlessCondition(m);
        out[m] = (
          await ceLoss(lens, { items, batchSize: P.genBatchSize, normalise: P.ceNormalise, hooks: (rows) => conditionHooks(lens, cond, Array.from({ length: rows }, (_, i) => i)) }, ctx)
        ).ce;
      }
      return out;
    });
  }

  // 6b. induced refusal (set features to v on harmless prompts) vs activation addition at ℓ*
  let induced: DiscoveryResults['induced'] = null;
  if (P.induceValues.length) {
    induced = await step('induce', async () => {
      const r = await inducedRefusalSweep(
        lens,
        { prompts: data.evalHarmless, sets: sets.sets.cossim_ap_global, values: P.induceValues, judge, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, path: P.clampPath, actAdd: { direction: vR, layer } },
        ctx,
      );
      return { rows: r.rows, actAddRate: r.actAddRate };
    });
  }

  // 6c. jailbreak mechanism on vanilla/adversarial pairs: refusal features = the global CosSim+AP set,
  // harm features = the ActDiff set (harmful vs harmless activations) minus those
  let mechanism: DiscoveryResults['mechanism'] = null;
  if (suites.pairs?.length) {
    mechanism = await step('mechanism', async () => {
      const van = encodePrompts(lens, suites.pairs!.map((x) => x.vanilla));
      const adv = encodePrompts(lens, suites.pairs!.map((x) => x.adversarial));
      const gv = await generateUnder(lens, { prompts: van, condition: { kind: 'none' }, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule }, ctx);
      const ga = await generateUnder(lens, { prompts: adv, condition: { kind: 'none' }, maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule }, ctx);
      const rv = (await refusalRate(judge, gv)).verdicts;
      const ra = (await refusalRate(judge, ga)).verdicts;
      const refusalFeatures = sets.sets.cossim_ap_global.sets[0];
      const rKeys = new Set(refusalFeatures.map((f) => `${f.layer}/${f.index}`));
      const harmSource = sets.sets.actdiff ?? (await actDiff(lens, { harmful, harmless: data.harmless, kStar: P.kStar, positions: P.positions }, ctx)).set;
      const harmFeatures = harmSource.sets[0].filter((f) => !rKeys.has(`${f.layer}/${f.index}`));
      const summary = await mechanismOnPairs(lens, {
        pairs: van.map((v, i) => ({ vanilla: v.ids, adversarial: adv[i].ids, vanillaRefused: rv[i] === 1, adversarialRefused: ra[i] === 1 })),
        harmFeatures,
        refusalFeatures,
      });
      return { ...summary, adversarialRefusalRate: ra.reduce((a, b) => a + b, 0) / Math.max(1, ra.length) };
    });
  }

  // 7. graph on the global CosSim+AP set
  let graph: FeatureGraph | null = null;
  if (P.graph.enabled) {
    graph = await step('graph', async () => {
      const sub = { ...attr, samples: attr.samples.slice(0, P.graph.samples) };
      const top = selectFeatures(attr, { kStar: P.graph.nodes, skipPrefix: lens.codec.skipPrefix });
      return buildGraph(
        lens,
        {
          attr: sub,
          nodes: top.global.sets[0],
          scores: top.globalScores.map((x) => x.score),
          priorLayers: P.graph.priorLayers,
          stopGradient: P.graph.stopGradient,
          clampMeasure: P.graph.clampMeasure ? c : null,
          batchSize: P.laBatchSize * 2,
        },
        ctx,
      );
    });
  }
  const results: DiscoveryResults = {
    kind: DISCOVERY_RESULTS_KIND,
    schemaVersion: DISCOVERY_RESULTS_VERSION,
    layer,
    layerSweep: sweep.rows,
    counts: { harmful: harmful.length, harmless: data.harmless.length, evalHarmless: data.evalHarmless.length },
    clampValue: c,
    kStar: P.kStar,
    warnings: emptySetWarnings(sets.sets),
    sets: sets.sets,
    refusal_rate: refusal,
    harmless_refusal_rate: harmlessRefusal,
    jailbreak_rate: opts.jailbreakJudge ? jailbreak : null,
    ce: ceRes,
    graph: graph
      ? {
          nodes: graph.nodes.length,
          edges: graph.edges.length,
          upward_edges: upwardEdgeCount(graph),
          gradient_edges: graph.edges.filter((e) => e.method === 'gradient').length,
          clamp_edges: graph.edges.filter((e) => e.method === 'clamp').length,
        }
      : null,
    induced,
    mechanism,
    judge: opts.jailbreakJudge ? `${judge.name}; jailbreak: ${opts.jailbreakJudge.name}` : judge.name,
    timings,
  };
  return { results, graph, generations, attribution: attr, context: { layer, direction: vR, harmful, harmless: data.harmless, evalHarmless: data.evalHarmless, pool, sets: sets.sets, actdiffRanking: sets.actdiffRanking ?? null } };
}

/** What later steps (the experiments) reuse from discovery instead of recomputing it. */
export interface DiscoveryContext {
  layer: number;
  direction: Float32Array;
  harmful: EncodedPrompt[];
  /** The (filtered) harmless prompts of the direction and ActDiff. */
  harmless: EncodedPrompt[];
  evalHarmless: EncodedPrompt[];
  pool: PoolResult;
  sets: Record<string, FeatureSets>;
  /** ActDiff's top max(K*, sweep K*) ranking (null when ActDiff is not among the methods). */
  actdiffRanking: FeatureSet | null;
}

/** Methods whose every set is empty: their rates would silently equal the unclamped model's. */
export function emptySetWarnings(sets: Record<string, FeatureSets>): string[] {
  const out: string[] = [];
  for (const [m, fs] of Object.entries(sets)) {
    const empty = fs.sets.filter((s) => s.length === 0).length;
    if (empty === fs.sets.length && fs.sets.length) out.push(`${m}: every feature set is empty (its rates are the unclamped model's)`);
    else if (empty) out.push(`${m}: ${empty} of ${fs.sets.length} per-sample sets are empty`);
  }
  return out;
}

function dedupe(fs: Array<{ layer: number; index: number }>) {
  const seen = new Set<string>();
  return fs.filter((f) => {
    const k = `${f.layer}/${f.index}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
