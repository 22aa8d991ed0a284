/**
 * K* selection (§2.9) and the baselines of the same size (§2.11): CosSim+AP local/global from the pool's
 * attributions, AP (full width, per-sample sets aligned by sample index — W1), ActDiff, random control.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames } from '../model/types.js';
import type { AttributionResult } from './attribution.js';
import { chunks, leftPad, positionMask, rng } from './batch.js';
import { checkAbort, type EncodedPrompt, type FeatureSet, type FeatureSets, type Lens, type StepCtx } from './types.js';

export interface Scored {
  layer: number;
  index: number;
  score: number;
}

/**
 * Leading positions K* selection skips: the template prefix (W12/W13: BOS, plus the system block for
 * Llama-3; default) or only the BOS ('nonBos', which keeps a Llama-3 system preamble in the average).
 */
export function selectionSkip(codec: Pick<Lens['codec'], 'skipPrefix' | 'bosTokenId'>, rule: 'skipPrefix' | 'nonBos' = 'skipPrefix'): number {
  return rule === 'nonBos' ? (codec.bosTokenId !== null ? 1 : 0) : codec.skipPrefix;
}

function topK(c: Scored[], k: number): Scored[] {
  return [...c].sort((a, b) => b.score - a.score || a.layer - b.layer || a.index - b.index).slice(0, k);
}

/**
 * a_b(l,i) = Σ_{t∈mask} attr[b,t,(l,i)] / |mask|, mask = token positions ≥ skipPrefix (W13: pads and BOS
 * dropped, template tokens after the prompt kept). Local: top-K* per sample; global: top-K* of the mean.
 */
export function selectFeatures(
  attr: Pick<AttributionResult, 'pool' | 'samples'>,
  params: { kStar?: number; skipPrefix: number },
): { local: FeatureSets; global: FeatureSets; localScores: Scored[][]; globalScores: Scored[] } {
  const K = params.kStar ?? 20;
  const layers = Object.keys(attr.pool).map(Number).sort((a, b) => a - b);
  const sums = new Map<string, Scored>();
  const localScores: Scored[][] = [];
  for (const s of attr.samples) {
    const cands: Scored[] = [];
    for (const l of layers) {
      const idx = attr.pool[l];
      const a = s.poolAttr[l];
      if (!idx?.length || !a) continue;
      const n = a.length / idx.length;
      for (const [k, i] of idx.entries()) {
        let sum = 0;
        let cnt = 0;
        for (let t = params.skipPrefix; t < n; t++) {
          sum += a[t * idx.length + k];
          cnt++;
        }
        const score = cnt ? sum / cnt : 0;
        cands.push({ layer: l, index: i, score });
        const key = `${l}/${i}`;
        const e = sums.get(key) ?? { layer: l, index: i, score: 0 };
        e.score += score;
        sums.set(key, e);
      }
    }
    localScores.push(topK(cands, K));
  }
  const N = Math.max(1, attr.samples.length);
  const globalScores = topK([...sums.values()].map((e) => ({ ...e, score: e.score / N })), K);
  return {
    local: { kind: 'local', sets: localScores.map((ss) => ss.map(({ layer, index }) => ({ layer, index }))) },
    global: { kind: 'global', sets: [globalScores.map(({ layer, index }) => ({ layer, index }))] },
    localScores,
    globalScores,
  };
}

/**
 * AP baseline: top-K* over every (layer, feature) of the position-mean full-width attribution, per sample
 * (aligned: sets[b] belongs to sample b, W1) and global (mean over samples).
 * Compat (misaligned lists, the reference's bug) reorders per-layer lists as the reference did.
 */
export function selectAp(
  attr: AttributionResult,
  params: { kStar?: number; compatMisaligned?: boolean },
): { local: FeatureSets; global: FeatureSets } {
  const K = params.kStar ?? 20;
  if (!attr.apSum) throw new Error('selectAp needs a full-width attribution (fullWidth: true)');
  const local = attr.samples.map((s) => {
    const c: Scored[] = [];
    for (const [l, list] of Object.entries(s.apTop ?? {})) for (const [i, v] of list) c.push({ layer: +l, index: i, score: v });
    return topK(c, K).map(({ layer, index }) => ({ layer, index }));
  });
  const N = Math.max(1, attr.samples.length);
  const g: Scored[] = [];
  for (const [l, sum] of Object.entries(attr.apSum)) {
    const top = Array.from({ length: sum.length }, (_, i) => i)
      .sort((a, b) => sum[b] - sum[a] || a - b)
      .slice(0, K);
    for (const i of top) g.push({ layer: +l, index: i, score: sum[i] / N });
  }
  let sets = local;
  if (params.compatMisaligned) {
    // reference: per layer, lists appended only for samples that have features there → index b gets
    // the b-th non-empty list of that layer.
    const layers = [...new Set(local.flat().map((f) => f.layer))].sort((a, b) => a - b);
    sets = local.map(() => [] as FeatureSet);
    for (const l of layers) {
      const lists = local.map((s) => s.filter((f) => f.layer === l)).filter((x) => x.length);
      lists.forEach((lst, b) => sets[b].push(...lst));
    }
  }
  return {
    local: { kind: 'local', sets },
    global: { kind: 'global', sets: [topK(g, K).map(({ layer, index }) => ({ layer, index }))] },
  };
}

/** Random control: for each set, the same number of features in the same layers, seeded. */
export async function randomControl(lens: Lens, like: FeatureSets, seed = 42): Promise<FeatureSets> {
  const r = rng(seed);
  const widths = new Map<number, number>();
  for (const s of like.sets) for (const f of s) if (!widths.has(f.layer)) {
    const sae = await lens.saes.get(f.layer);
    widths.set(f.layer, sae.meta.dSae);
    lens.saes.release(sae);
  }
  return {
    kind: like.kind,
    sets: like.sets.map((s) => {
      const used = new Set(s.map((f) => `${f.layer}/${f.index}`));
      return s.map((f) => {
        let i: number;
        do i = Math.floor(r() * widths.get(f.layer)!);
        while (used.has(`${f.layer}/${i}`));
        used.add(`${f.layer}/${i}`);
        return { layer: f.layer, index: i };
      });
    }),
  };
}

/**
 * ActDiff (§2.11 'act'): per layer (one SAE at a time), max over positions of each feature, mean over
 * samples, harmful − harmless; global top-K*. Default positions = the W13 mask; compat 'all' includes BOS/pads.
 */
export async function actDiff(
  lens: Lens,
  params: { harmful: EncodedPrompt[]; harmless: EncodedPrompt[]; kStar?: number; batchSize?: number; positions?: 'default' | 'all' },
  ctx: StepCtx,
): Promise<{ set: FeatureSets; scores: Scored[] }> {
  const K = params.kStar ?? 20;
  const layers = lens.saes.layers;
  const points = layers.map((l) => hookNames.residPost(l));
  // cache resid_post per batch for all SAE layers (CPU arrays), then stream SAEs
  type Cached = { z: Map<number, tf.Tensor3D>; mask: tf.Tensor3D; B: number };
  const cacheSet = (ps: EncodedPrompt[]): Cached[] =>
    chunks(ps, params.batchSize ?? 16).map((ch) => {
      const batch = leftPad(ch.map((p) => p.ids), lens.model.config.padTokenId);
      const z = new Map<number, tf.Tensor3D>();
      tf.tidy(() => {
        const r = lens.model.forward(batch, { cache: points, logits: false, stopAtLayer: Math.max(...layers) });
        layers.forEach((l, k) => z.set(l, tf.keep(r.cache.get(points[k])!)));
      });
      const m = positionMask(batch, lens.codec.skipPrefix, params.positions ?? 'default');
      return { z, mask: tf.tensor3d(m.map((r) => r.map((x) => [x])), [ch.length, batch.T, 1]), B: ch.length };
    });
  const H = cacheSet(params.harmful);
  const S = cacheSet(params.harmless);
  const all: Scored[] = [];
  for (const [n, l] of layers.entries()) {
    checkAbort(ctx);
    const sae = await lens.saes.get(l);
    const meanMax = (cs: Cached[], count: number) => {
      const acc = tf.tidy(() => {
        let s: tf.Tensor = tf.zeros([sae.meta.dSae]);
        for (const c of cs) {
          const f = sae.encode(c.z.get(l)!);
          // masked max: features are ≥ 0, masked slots set to 0 (compat includes every slot)
          s = tf.add(s, tf.sum(tf.max(tf.mul(f, c.mask), 1), 0));
        }
        return tf.div(s, Math.max(1, count));
      });
      const a = acc.dataSync() as Float32Array;
      acc.dispose();
      return Float32Array.from(a);
    };
    const h = meanMax(H, params.harmful.length);
    const s = meanMax(S, params.harmless.length);
    lens.saes.release(sae);
    const diff = h.map((x, i) => x - s[i]);
    const top = Array.from({ length: diff.length }, (_, i) => i)
      .sort((a, b) => diff[b] - diff[a] || a - b)
      .slice(0, K);
    all.push(...top.map((i) => ({ layer: l, index: i, score: diff[i] })));
    ctx.progress('actdiff', (n + 1) / layers.length);
  }
  for (const c of [...H, ...S]) {
    for (const t of c.z.values()) t.dispose();
    c.mask.dispose();
  }
  const scores = topK(all, K);
  return { set: { kind: 'global', sets: [scores.map(({ layer, index }) => ({ layer, index }))] }, scores };
}
