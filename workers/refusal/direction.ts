/**
 * Refusal direction (§2.2): V_R^l = mean_harmful z_l[-1] − mean_harmless z_l[-1] at resid_post of every
 * layer, accumulated in float32 (W17). Layer sweep (§2.2 "how ℓ* was chosen"): ablate each layer's direction
 * at every layer and score refusal; ℓ* = the layer whose ablation removes the most refusal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames } from '../model/types.js';
import { chunks, leftPad } from './batch.js';
import { ablationHooks, type AblationSites } from './hooks.js';
import { checkAbort, type EncodedPrompt, type Lens, type StepCtx } from './types.js';

export interface DirectionResult {
  /** directions[l] = V_R^l (unnormalised), length d_model. */
  directions: Float32Array[];
  nHarmful: number;
  nHarmless: number;
}

/** Mean resid_post at the last slot of every layer. */
export async function meanLastResid(
  lens: Lens,
  prompts: EncodedPrompt[],
  params: { batchSize?: number } = {},
  ctx?: StepCtx,
): Promise<Float32Array[]> {
  const L = lens.model.config.nLayers;
  const d = lens.model.config.dModel;
  const sums = Array.from({ length: L }, () => new Float64Array(d));
  const points = Array.from({ length: L }, (_, l) => hookNames.residPost(l));
  const batches = chunks(prompts, params.batchSize ?? 16);
  let done = 0;
  for (const ch of batches) {
    if (ctx) checkAbort(ctx);
    const batch = leftPad(ch.map((p) => p.ids), lens.model.config.padTokenId);
    const lastSums = tf.tidy(() => {
      const r = lens.model.forward(batch, { cache: points, logits: false, stopAtLayer: L - 1 });
      r.logits?.dispose();
      const out = points.map((p) => {
        const z = r.cache.get(p)!;
        return tf.sum(tf.slice(z, [0, batch.T - 1, 0], [ch.length, 1, d]), [0, 1]);
      });
      for (const z of r.cache.values()) z.dispose();
      return tf.stack(out); // [L, d]
    });
    const a = lastSums.dataSync();
    lastSums.dispose();
    for (let l = 0; l < L; l++) for (let i = 0; i < d; i++) sums[l][i] += a[l * d + i];
    done++;
    ctx?.progress('direction', done / batches.length);
  }
  return sums.map((s) => Float32Array.from(s, (x) => x / Math.max(1, prompts.length)));
}

export async function refusalDirection(
  lens: Lens,
  params: { harmful: EncodedPrompt[]; harmless: EncodedPrompt[]; batchSize?: number },
  ctx?: StepCtx,
): Promise<DirectionResult> {
  const mh = await meanLastResid(lens, params.harmful, params, ctx);
  const ms = await meanLastResid(lens, params.harmless, params, ctx);
  return {
    directions: mh.map((a, l) => Float32Array.from(a, (x, i) => x - ms[l][i])),
    nHarmful: params.harmful.length,
    nHarmless: params.harmless.length,
  };
}

export interface LayerSweepRow {
  layer: number;
  /** Fraction of prompts whose greedy first token is the refusal token under ablation. */
  refusalRate: number;
  /** Mean probability of the refusal token at the last position under ablation. */
  meanRefusalProb: number;
}

/** Ablate V_R^l at every layer for each candidate l; ℓ* minimises refusal (then P(refusal token)). */
export async function layerSweep(
  lens: Lens,
  params: {
    directions: Float32Array[];
    prompts: EncodedPrompt[];
    candidates?: number[];
    batchSize?: number;
    sites?: AblationSites;
  },
  ctx: StepCtx,
): Promise<{ rows: LayerSweepRow[]; bestLayer: number }> {
  const L = lens.model.config.nLayers;
  const cands = params.candidates ?? Array.from({ length: L }, (_, l) => l);
  const all = Array.from({ length: L }, (_, l) => l);
  const rows: LayerSweepRow[] = [];
  const I = lens.codec.refusalTokenId;
  for (const [k, l] of cands.entries()) {
    checkAbort(ctx);
    const abl = ablationHooks(params.directions[l], all, undefined, params.sites);
    let refused = 0;
    let pSum = 0;
    for (const ch of chunks(params.prompts, params.batchSize ?? 16)) {
      const batch = leftPad(ch.map((p) => p.ids), lens.model.config.padTokenId);
      const [am, pr] = tf.tidy(() => {
        const r = lens.model.forward(batch, { hooks: abl.hooks });
        const V = r.logits!.shape[2];
        const last = tf.reshape(tf.slice(r.logits!, [0, batch.T - 1, 0], [ch.length, 1, V]), [ch.length, V]);
        r.logits!.dispose();
        return [tf.argMax(last, -1), tf.reshape(tf.slice(tf.softmax(last), [0, I], [ch.length, 1]), [ch.length])];
      });
      const a = am.dataSync();
      const p = pr.dataSync();
      am.dispose();
      pr.dispose();
      for (let b = 0; b < ch.length; b++) {
        if (a[b] === I) refused++;
        pSum += p[b];
      }
    }
    abl.dispose();
    const n = Math.max(1, params.prompts.length);
    rows.push({ layer: l, refusalRate: refused / n, meanRefusalProb: pSum / n });
    ctx.progress('layer sweep', (k + 1) / cands.length, `layer ${l}: refusal ${(refused / n).toFixed(2)}`);
  }
  const best = [...rows].sort((a, b) => a.refusalRate - b.refusalRate || a.meanRefusalProb - b.meanRefusalProb)[0];
  return { rows, bestLayer: best.layer };
}
