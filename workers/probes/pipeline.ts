/**
 * The probe pipeline (paper §4.4, METHOD §2.13, W5/W6): in-distribution harmful (y=1) vs harmless (y=0)
 * train/val sets; an OOD test set of vanilla harmful prompts (y=1) and adversarial prompts labelled by
 * behaviour — greedy generation judged for refusal: jailbreaking prompts y=0, refused ones y=1 (kept only
 * with `includeRefusedAdversarial`; the paper's test holds just the jailbreaking ones). Probe inputs are
 * taken with attention masks; the dense probe is fitted at every layer and its layer and λ are chosen on
 * validation only (every layer is reported); the refusal-feature, random-feature and user-set probes read
 * SAE activations. Returns a ProbeRunResult for the report writers.
 */
import { z } from 'zod';
import { seededShuffle } from '../../common/suites/ops.js';
import type { PromptItem } from '../../common/suites/schema.js';
import type { Judge } from '../eval/judges/types.js';
import { generateUnder, type BatchStore, type Generation } from '../refusal/generate.js';
import { checkAbort, type FeatureSet, type Lens, type StepCtx } from '../refusal/types.js';
import { formatFeatureId } from '../sae/features.js';
import { activeFeatures, probeActivations, randomFeatureSet, type ProbePosition } from './activations.js';
import { behaviouralLabels, buildProbeSets } from './data.js';
import type { ProbeManifest, ProbeRunResult } from './report.js';
import { runProbes, type ProbeInput } from './run.js';
import { DEFAULT_L2_GRID } from './train.js';
import { BOUNDS, layerIndex, positiveInt, seed } from '../../common/steps/bounds.js';

const PositionSchema = z.union([z.enum(['last', 'mean']), z.object({ fromEnd: z.number().int().nonnegative() })]);

export const ProbeParamsSchema = z.object({
  seed: seed().default(42),
  /** Per class in train / val (reference 2000 / 400); shrink when a pool is short. */
  trainPerClass: positiveInt(BOUNDS.PROMPTS).default(2000),
  valPerClass: positiveInt(BOUNDS.PROMPTS).default(400),
  /** Per OOD group (reference 500): vanilla harmful and jailbreaking adversarial prompts. */
  testPerGroup: positiveInt(BOUNDS.PROMPTS).default(500),
  /** Also test on adversarial prompts the model refused (y=1, group 2). The paper's test has none. */
  includeRefusedAdversarial: z.boolean().default(false),
  /** Dense-probe layers (null = every layer). */
  layers: z.array(layerIndex()).max(BOUNDS.LAYER).nullable().default(null),
  position: PositionSchema.default('last'),
  /** W6: 'default' = attention mask; 'compat' = the reference's unmasked caching. */
  mask: z.enum(['default', 'compat']).default('default'),
  l2Grid: z.array(z.number().nonnegative().max(BOUNDS.MAGNITUDE)).max(64).min(1).default([...DEFAULT_L2_GRID]),
  classWeight: z.enum(['balanced']).nullable().default(null),
  standardize: z.boolean().default(true),
  resamples: positiveInt(BOUNDS.RESAMPLES).default(1000),
  /** Behavioural labelling: greedy tokens per adversarial prompt, batch size, stop rule (W7). */
  maxNewTokens: positiveInt(BOUNDS.NEW_TOKENS).default(32),
  genBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  stopRule: z.enum(['eos+eot', 'eos']).default('eos+eot'),
  actBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  /** Keep only the first k refusal features (a discovery set is ranked best first; the paper probes 7). */
  refusalTopK: positiveInt(BOUNDS.FEATURES).nullable().default(null),
  /** Random control draws (each its own probe: random-features, random-features-2, …; seeds randomSeed + k). */
  randomDraws: positiveInt(BOUNDS.DRAWS).default(1),
  /** Random features from the whole dictionary ('any', the paper) or from those that fire (non-zero at the
   *  probe position) on ≥ 1% of the training prompts ('active': a control that cannot fail by being silent). */
  randomFrom: z.enum(['any', 'active']).default('any'),
  /** Seed of the random control set (default: seed + 1). */
  randomSeed: seed().nullable().default(null),
});
export type ProbeParams = z.infer<typeof ProbeParamsSchema>;

/** A probe example: y = 1 the refused side; group 0 = adversarial (jailbroke), 1 = vanilla, 2 = adversarial (refused). */
export interface ProbeRow {
  id: string;
  instruction: string;
  y: 0 | 1;
  group: number;
}

export interface ProbeSplits {
  train: ProbeRow[];
  val: ProbeRow[];
  test: ProbeRow[];
}

export const OOD_GROUP_NAMES: Record<string, string> = { '0': 'adversarial, jailbroke', '1': 'vanilla', '2': 'adversarial, refused' };

export interface BehaviourLabel {
  id: string;
  instruction: string;
  /** 1 = refused, 0 = complied (jailbroke). */
  y: 0 | 1;
  response: string;
}

/**
 * Greedy generation on each prompt (chat-formatted), judged: the paper's behavioural labels. Items whose
 * verdict is invalid are dropped. `store` resumes finished generation batches.
 */
export async function labelByBehaviour(
  lens: Lens,
  items: readonly PromptItem[],
  judge: Judge,
  opts: { maxNewTokens: number; batchSize: number; stopRule?: 'eos+eot' | 'eos'; store?: BatchStore<Generation[]>; storeKey?: string },
  ctx: StepCtx,
): Promise<{ labels: BehaviourLabel[]; dropped: number }> {
  const prompts = items.map((it) => ({ text: it.instruction, ids: lens.codec.encodePrompt(it.instruction) }));
  const gens = await generateUnder(
    lens,
    {
      prompts,
      condition: { kind: 'none' },
      maxNewTokens: opts.maxNewTokens,
      batchSize: opts.batchSize,
      stopRule: opts.stopRule,
      ...(opts.store ? { store: opts.store, storeKey: opts.storeKey ?? 'probe-ood' } : {}),
    },
    ctx,
  );
  const verdicts = await judge.judge(items.map((it, k) => ({ prompt: it.instruction, response: gens[k]!.text })), ctx.signal);
  const byId = new Map(items.map((it, k) => [it.id, gens[k]!.text]));
  const labs = behaviouralLabels(items, verdicts);
  return {
    labels: labs.map(({ item, y }) => ({ id: item.id, instruction: item.instruction, y, response: byId.get(item.id)! })),
    dropped: items.length - labs.length,
  };
}

/** Balanced, seeded harmful (y=1) vs harmless (y=0) rows: min(perClass, |harmful|, |harmless|) each. */
export function balancedRows(harmful: readonly PromptItem[], harmless: readonly PromptItem[], perClass: number, seed: number): ProbeRow[] {
  const n = Math.min(perClass, harmful.length, harmless.length);
  const h = seededShuffle(harmful, seed).slice(0, n).map((it): ProbeRow => ({ id: it.id, instruction: it.instruction, y: 1, group: 1 }));
  const s = seededShuffle(harmless, seed + 1).slice(0, n).map((it): ProbeRow => ({ id: it.id, instruction: it.instruction, y: 0, group: 0 }));
  return seededShuffle([...h, ...s], seed + 2);
}

/**
 * The OOD test set: n jailbreaking adversarial prompts (y=0, group 0) against n refused-side prompts
 * (y=1): vanilla harmful (group 1), plus — with includeRefused — adversarial prompts the model refused
 * (group 2), half and half where both are available. n = min(perGroup, available), so the classes are
 * balanced and chance is 0.5.
 */
export function composeOod(
  vanilla: readonly PromptItem[],
  adversarial: readonly BehaviourLabel[],
  opts: { perGroup: number; includeRefused: boolean; seed: number },
): ProbeRow[] {
  const jb = seededShuffle(adversarial.filter((a) => a.y === 0), opts.seed);
  const refused = opts.includeRefused ? seededShuffle(adversarial.filter((a) => a.y === 1), opts.seed + 1) : [];
  const van = seededShuffle(vanilla, opts.seed + 2);
  const n = Math.min(opts.perGroup, jb.length, van.length + refused.length);
  let nr = opts.includeRefused ? Math.min(refused.length, Math.floor(n / 2)) : 0;
  let nv = Math.min(van.length, n - nr);
  nr = Math.min(refused.length, n - nv);
  nv = n - nr;
  return [
    ...van.slice(0, nv).map((it): ProbeRow => ({ id: it.id, instruction: it.instruction, y: 1, group: 1 })),
    ...jb.slice(0, n).map((a): ProbeRow => ({ id: a.id, instruction: a.instruction, y: 0, group: 0 })),
    ...refused.slice(0, nr).map((a): ProbeRow => ({ id: a.id, instruction: a.instruction, y: 1, group: 2 })),
  ];
}

/**
 * WildJailbreak layout (an imported TSV suite: tags vanilla/adversarial × harmful/harmless): the adversarial
 * harmful prompts are labelled by behaviour (up to `maxAdversarial`, a seeded sample), then the paper's
 * train/val/test are built from one seeded shuffle per pool (buildProbeSets).
 */
export async function wildJailbreakSplits(
  lens: Lens,
  items: readonly PromptItem[],
  judge: Judge,
  params: ProbeParams & { maxAdversarial?: number },
  ctx: StepCtx,
  store?: BatchStore<Generation[]>,
): Promise<{ splits: ProbeSplits; labels: BehaviourLabel[]; dropped: number }> {
  const adv = items.filter((it) => it.tags.includes('adversarial') && it.tags.includes('harmful'));
  const sample = seededShuffle(adv, params.seed + 7).slice(0, params.maxAdversarial ?? 2 * params.testPerGroup);
  const { labels, dropped } = await labelByBehaviour(lens, sample, judge, { maxNewTokens: params.maxNewTokens, batchSize: params.genBatchSize, stopRule: params.stopRule, store, storeKey: 'probe-wjb' }, ctx);
  const jb = new Set(labels.filter((l) => l.y === 0).map((l) => l.id));
  const sets = buildProbeSets(items, jb, { seed: params.seed, train: params.trainPerClass, val: params.valPerClass, test: params.testPerGroup });
  const rows = (xs: typeof sets.train): ProbeRow[] => xs.map((x) => ({ id: x.id, instruction: x.instruction, y: x.y, group: x.group }));
  return { splits: { train: rows(sets.train), val: rows(sets.val), test: rows(sets.test) }, labels, dropped };
}

export interface NamedFeatureSet {
  /** Probe name, e.g. 'refusal-features'. */
  name: string;
  /** Short description for the report, e.g. 'CosSim+AP global set'. */
  label: string;
  set: FeatureSet;
}

function describeSet(f: NamedFeatureSet): string {
  const ids = f.set.map(formatFeatureId);
  const shown = ids.length <= 8 ? ids.join(' ') : `${ids.slice(0, 8).join(' ')} …`;
  return `${f.label} (${f.set.length}: ${shown})`;
}

function positionText(p: ProbePosition): string {
  return p === 'last' ? 'last token' : p === 'mean' ? 'mean over prompt' : `token −${p.fromEnd} from the end`;
}

/** The random control for a set: same size and layers, seeded; dSae read from headers when given. */
export async function randomControlFor(
  lens: Lens,
  like: FeatureSet,
  seed: number,
  dSae?: (layer: number) => number,
  pool?: ReadonlyMap<number, readonly number[]>,
): Promise<FeatureSet> {
  const sizes = new Map<number, number>();
  for (const l of new Set(like.map((f) => f.layer))) {
    if (dSae) sizes.set(l, dSae(l));
    else {
      const sae = await lens.saes.get(l);
      sizes.set(l, sae.meta.dSae);
      lens.saes.release(sae);
    }
  }
  return randomFeatureSet(like, (l) => sizes.get(l)!, seed, pool ? { pool: (l) => pool.get(l) ?? [] } : {});
}

/** Per layer of `like`, the features that fire on ≥ 1% of the training prompts (randomFrom 'active'). */
export async function activeFeaturePool(lens: Lens, train: readonly ProbeRow[], like: FeatureSet, params: ProbeParams, ctx: StepCtx): Promise<Map<number, number[]>> {
  return activeFeatures(
    lens.model,
    lens.saes,
    train.map((r) => lens.codec.encodePrompt(r.instruction)),
    [...new Set(like.map((f) => f.layer))],
    { padId: lens.model.config.padTokenId, batchSize: params.actBatchSize, position: params.position, skipPrefix: lens.codec.skipPrefix, mask: params.mask, signal: ctx.signal, minFrac: 0.01 },
  );
}

export interface ProbeRunInfo {
  /** Probe inputs actually used (after the random control was drawn). */
  featureSets: NamedFeatureSet[];
  timings: Record<string, number>;
  counts: { train: number; val: number; test: number; testByGroup: Record<string, number> };
}

/**
 * Activations (masked) for train/val/test, then every probe: dense per layer (layer and λ chosen on
 * validation), and one probe per feature set. `featureSets` should hold the refusal set and any user
 * sets; `random` adds a random control of the same size and layers as `random.like`.
 */
export async function runProbePipeline(
  lens: Lens,
  splits: ProbeSplits,
  featureSets: readonly NamedFeatureSet[],
  params: ProbeParams,
  manifest: Omit<ProbeManifest, 'params' | 'seed'> & { params?: Record<string, unknown> },
  ctx: StepCtx,
): Promise<{ result: ProbeRunResult; info: ProbeRunInfo }> {
  const timings: Record<string, number> = {};
  for (const [k, rows] of Object.entries(splits)) {
    const ys = new Set((rows as ProbeRow[]).map((r) => r.y));
    if (ys.size < 2) throw new Error(`probe ${k} set needs both classes (has ${(rows as ProbeRow[]).length} rows, labels ${[...ys].join(',') || 'none'})`);
  }
  const L = lens.model.config.nLayers;
  const layers = params.layers ?? Array.from({ length: L }, (_, l) => l);
  const all = [...splits.train, ...splits.val, ...splits.test];
  const seqs = all.map((r) => lens.codec.encodePrompt(r.instruction));
  checkAbort(ctx);
  let t = performance.now();
  const acts = await probeActivations(
    lens.model,
    seqs,
    { denseLayers: layers, featureSets: Object.fromEntries(featureSets.map((f) => [f.name, f.set])) },
    {
      padId: lens.model.config.padTokenId,
      batchSize: params.actBatchSize,
      position: params.position,
      skipPrefix: lens.codec.skipPrefix,
      mask: params.mask,
      signal: ctx.signal,
      saes: lens.saes,
      onBatch: (d, n) => ctx.progress('activations', d / n),
    },
  );
  timings.activations = (performance.now() - t) / 1000;
  const nTr = splits.train.length;
  const nVa = splits.val.length;
  const cut = <T>(xs: T[]) => ({ train: xs.slice(0, nTr), val: xs.slice(nTr, nTr + nVa), ood: xs.slice(nTr + nVa) });
  const inputs: ProbeInput[] = [
    {
      name: 'dense',
      features: `resid_post (d=${lens.model.config.dModel}, ${positionText(params.position)})`,
      candidates: layers.map((l) => ({ layer: l, ...cut(acts.dense.get(l)!) })),
    },
    ...featureSets.map((f) => ({ name: f.name, features: describeSet(f), candidates: [{ layer: null, ...cut(acts.features[f.name]!) }] })),
  ];
  t = performance.now();
  const result = runProbes(
    inputs,
    {
      train: splits.train.map((r) => r.y),
      val: splits.val.map((r) => r.y),
      ood: splits.test.map((r) => r.y),
      oodGroups: splits.test.map((r) => r.group),
    },
    {
      seed: params.seed,
      resamples: params.resamples,
      l2Grid: params.l2Grid,
      classWeight: params.classWeight,
      standardize: params.standardize,
      manifest: {
        ...manifest,
        groupNames: { ...OOD_GROUP_NAMES, ...(manifest.groupNames ?? {}) },
        params: { ...params, featureSets: featureSets.map((f) => ({ name: f.name, label: f.label, features: f.set.map(formatFeatureId) })), ...(manifest.params ?? {}) },
      },
      signal: ctx.signal,
      onProgress: (d, n) => ctx.progress('probes', d / n),
    },
  );
  timings.probes = (performance.now() - t) / 1000;
  const testByGroup: Record<string, number> = {};
  for (const r of splits.test) testByGroup[String(r.group)] = (testByGroup[String(r.group)] ?? 0) + 1;
  return { result, info: { featureSets: [...featureSets], timings, counts: { train: nTr, val: nVa, test: splits.test.length, testByGroup } } };
}
