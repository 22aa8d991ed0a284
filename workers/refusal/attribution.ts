/**
 * LA-IG attribution (§2.6–2.7) with the S2 shortcut by default and the literal splice as an option.
 *
 * Metric per sample: m_b = logit[last, j_b] − logit[last, 'I'], j_b = argmax of the direction-ablated run.
 * Shortcut (S2): patched forward caching z_target (= z̃ under W4), clean forward caching z, then IG passes on
 * the bare model with z_out = (1−α)·z_live + α·z_target (+δ leaf) at every SAE layer's resid_post, averaging
 * the stream gradient ḡ_l = mean_α ∂m/∂z_out; then per layer (one SAE at a time)
 *   attr_l[b,t,i] = (f_p − f_c)[b,t,i] · (ḡ_l[b,t] · W_dec[i]).
 * Literal: the same passes with every SAE spliced: f_α = (1−α) f_live + α f_p (+δ leaf),
 *   z_out = dec(f_α) + (1−α) r_live + α r_p, gradient taken at f_α.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../engine/register-gradients.js';
import { hookNames, type HookFn, type Hooks } from '../model/types.js';
import type { Sae } from '../sae/types.js';
import { chunks, leftPad, positionMask, type PaddedBatch } from './batch.js';
import { ablationHooks, type AblationSites } from './hooks.js';
import { decodeDiff, stopGradientOf } from './sae-math.js';
import { checkAbort, type AlphaRule, type EncodedPrompt, type Lens, type StepCtx } from './types.js';

export interface AlphaPoint {
  alpha: number;
  weight: number;
}

/** W3: trapezoid (default, α = 0..1, endpoints ½), midpoint, or the reference's left sum (0..0.9). */
export function alphaSchedule(steps: number, rule: AlphaRule): AlphaPoint[] {
  const n = Math.max(1, Math.floor(steps));
  if (rule === 'left') return Array.from({ length: n }, (_, s) => ({ alpha: s / n, weight: 1 / n }));
  if (rule === 'midpoint') return Array.from({ length: n }, (_, s) => ({ alpha: (s + 0.5) / n, weight: 1 / n }));
  return Array.from({ length: n + 1 }, (_, s) => ({ alpha: s / n, weight: s === 0 || s === n ? 0.5 / n : 1 / n }));
}

export interface LaIgParams {
  prompts: EncodedPrompt[];
  /** V_R^{ℓ*}, ablated at every layer in the patched run. */
  direction: Float32Array;
  /** Layers the direction is ablated at (default: all). */
  ablateLayers?: number[];
  /**
   * j_b: 'argmax' (reference: the ablated run's first token; m ≡ 0 where ablation leaves 'I' on top) or
   * 'non-refusal' (the ablated run's best token other than the refusal token, so every sample has a metric).
   */
  jToken?: 'argmax' | 'non-refusal';
  /** Ablation sites of the patched run (default resid_post, the reference). */
  ablationSites?: AblationSites;
  steps?: number;
  alphaRule?: AlphaRule;
  /** W4: 'ablated' (default) r_p = z̃ − dec(f_p); 'compat' r_p = z − dec(f_p). */
  errorTerm?: 'ablated' | 'compat';
  path?: 'shortcut' | 'literal';
  batchSize?: number;
  /** layer → features whose per-token attribution, gradient and delta are kept (the cosine pool). */
  pool: Record<number, number[]>;
  /** Also keep per-sample full-width position-mean attribution top lists (AP baseline). */
  fullWidth?: boolean;
  /** How many top features per sample and layer the full-width pass keeps (≥ K*). */
  fullWidthTop?: number;
  /** W13 mask rule for the AP mean: 'default' (non-pad from skipPrefix) or 'all' (compat: pads included). */
  apPositions?: 'default' | 'all';
}

export interface SampleAttribution {
  /** Non-pad token ids. */
  ids: number[];
  /** j_b: first token of the ablated run. */
  jToken: number;
  /** m on the clean and on the ablated run. */
  metricClean: number;
  metricPatched: number;
  /** layer → [T_b × K] row-major (K = pool[layer].length), positions = the non-pad tokens. */
  poolAttr: Record<number, Float32Array>;
  poolGrad: Record<number, Float32Array>;
  poolDelta: Record<number, Float32Array>;
  /** Full-width: per layer the top features by position-mean attribution (index, value), best first. */
  apTop?: Record<number, Array<[number, number]>>;
}

export interface AttributionResult {
  path: 'shortcut' | 'literal';
  alphaRule: AlphaRule;
  steps: number;
  errorTerm: 'ablated' | 'compat';
  pool: Record<number, number[]>;
  samples: SampleAttribution[];
  /** Full-width: per layer Σ_b position-mean attribution (for the global AP set). */
  apSum?: Record<number, Float64Array>;
}

function metricCoef(B: number, V: number, j: number[], I: number): tf.Tensor2D {
  const c = new Float32Array(B * V);
  for (let b = 0; b < B; b++) {
    c[b * V + j[b]] += 1;
    c[b * V + I] -= 1;
  }
  return tf.tensor2d(c, [B, V]);
}

function lastLogits(logits: tf.Tensor3D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V]);
}

/** Per-sample m for given logits. */
function metricPerSample(logits: tf.Tensor3D, coef: tf.Tensor2D): Float32Array {
  const t = tf.tidy(() => tf.sum(tf.mul(lastLogits(logits), coef), 1));
  const a = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(a);
}

interface BatchCaches {
  batch: PaddedBatch;
  B: number;
  /** layer → z used for f_p (ablated z̃) */
  zAbl: Map<number, tf.Tensor3D>;
  /** layer → interpolation target (z̃ under W4, pre-ablation z under compat) */
  zTarget: Map<number, tf.Tensor3D>;
  zClean: Map<number, tf.Tensor3D>;
  j: number[];
  coef: tf.Tensor2D;
  mClean: Float32Array;
  mPatched: Float32Array;
}

async function patchedAndClean(lens: Lens, p: LaIgParams, ch: EncodedPrompt[], layers: number[]): Promise<BatchCaches> {
  const model = lens.model;
  const L = model.config.nLayers;
  const batch = leftPad(ch.map((x) => x.ids), model.config.padTokenId);
  const B = ch.length;
  const points = layers.map((l) => hookNames.residPost(l));
  const pre = new Map<number, tf.Tensor3D>();
  // W4 compat needs the pre-ablation resid_post, which only the resid_post sites have
  const compat = p.errorTerm === 'compat' && (p.ablationSites ?? 'resid_post') === 'resid_post';
  const abl = ablationHooks(
    p.direction,
    p.ablateLayers ?? Array.from({ length: L }, (_, l) => l),
    (l, act) => {
      if (compat && layers.includes(l)) pre.set(l, tf.keep(act.clone()));
    },
    p.ablationSites,
  );
  const zAbl = new Map<number, tf.Tensor3D>();
  let patchedLogits!: tf.Tensor3D;
  tf.tidy(() => {
    const r = model.forward(batch, { hooks: abl.hooks, cache: points });
    for (const [i, l] of layers.entries()) zAbl.set(l, tf.keep(r.cache.get(points[i])!));
    patchedLogits = tf.keep(r.logits!);
  });
  abl.dispose();
  const I = lens.codec.refusalTokenId;
  const jt = tf.tidy(() => {
    const last = lastLogits(patchedLogits);
    if (p.jToken !== 'non-refusal') return tf.argMax(last, -1);
    const V = last.shape[1];
    const pen = tf.mul(tf.oneHot(tf.tensor1d([I], 'int32'), V), -1e30);
    return tf.argMax(tf.add(last, pen), -1);
  });
  const j = Array.from(jt.dataSync());
  jt.dispose();
  const V = patchedLogits.shape[2];
  const coef = metricCoef(B, V, j, I);
  const mPatched = metricPerSample(patchedLogits, coef);
  patchedLogits.dispose();
  const zClean = new Map<number, tf.Tensor3D>();
  let cleanLogits!: tf.Tensor3D;
  tf.tidy(() => {
    const r = model.forward(batch, { cache: points });
    for (const [i, l] of layers.entries()) zClean.set(l, tf.keep(r.cache.get(points[i])!));
    cleanLogits = tf.keep(r.logits!);
  });
  const mClean = metricPerSample(cleanLogits, coef);
  cleanLogits.dispose();
  const zTarget = compat ? pre : zAbl;
  return { batch, B, zAbl, zTarget, zClean, j, coef, mClean, mPatched };
}

/** IG passes, shortcut: returns layer → ḡ_l [B,T,d]. */
function igShortcut(lens: Lens, c: BatchCaches, layers: number[], sched: AlphaPoint[]): Map<number, tf.Tensor3D> {
  const model = lens.model;
  const d = model.config.dModel;
  const acc = new Map<number, tf.Tensor3D>();
  for (const { alpha, weight } of sched) {
    const deltas = layers.map(() => tf.zeros([c.B, c.batch.T, d]) as tf.Tensor3D);
    let logits: tf.Tensor3D | null = null;
    const f = (...ds: tf.Tensor[]) => {
      const hooks: Hooks = layers.map((l, k) => ({
        point: hookNames.residPost(l),
        fn: ((act) =>
          tf.add(tf.add(tf.mul(act, 1 - alpha), tf.mul(c.zTarget.get(l)!, alpha)), ds[k]) as tf.Tensor3D) as HookFn,
      }));
      const r = model.forward(c.batch, { hooks });
      logits = r.logits!;
      return tf.sum(tf.mul(lastLogits(r.logits!), c.coef)) as tf.Scalar;
    };
    accumulateGrads(acc, layers, f, deltas, weight);
    (logits as tf.Tensor3D | null)?.dispose();
  }
  return acc;
}

/**
 * One IG pass: gradients of `f` w.r.t. the zero leaves `deltas` (one per layer), added with weight `weight`
 * into `acc` (layer → running α-average). Disposes the leaves and the gradients.
 */
function accumulateGrads(
  acc: Map<number, tf.Tensor3D>,
  layers: number[],
  f: (...ds: tf.Tensor[]) => tf.Scalar,
  deltas: tf.Tensor[],
  weight: number,
): void {
  const gs = tf.grads(f)(deltas);
  deltas.forEach((t) => t.dispose());
  layers.forEach((l, k) => {
    const prev = acc.get(l);
    const next = tf.tidy(() => (prev ? tf.add(prev, tf.mul(gs[k], weight)) : tf.mul(gs[k], weight)) as tf.Tensor3D);
    prev?.dispose();
    acc.set(l, next);
    gs[k].dispose();
  });
}

/** IG passes, literal splice with every SAE held: returns layer → mean_α ∂m/∂f_α [B,T,dSae]. */
function igLiteral(
  lens: Lens,
  c: BatchCaches,
  layers: number[],
  saes: Map<number, Sae>,
  sched: AlphaPoint[],
): Map<number, tf.Tensor3D> {
  const model = lens.model;
  const acc = new Map<number, tf.Tensor3D>();
  // f_p and r_p per layer
  const fp = new Map<number, tf.Tensor>();
  const rp = new Map<number, tf.Tensor>();
  for (const l of layers) {
    const sae = saes.get(l)!;
    const f = tf.tidy(() => sae.encode(c.zAbl.get(l)!));
    fp.set(l, f);
    rp.set(l, tf.tidy(() => tf.sub(c.zTarget.get(l)!, sae.decode(f))));
  }
  for (const { alpha, weight } of sched) {
    const deltas = layers.map((l) => tf.zeros([c.B, c.batch.T, saes.get(l)!.meta.dSae]));
    let logits: tf.Tensor3D | null = null;
    const f = (...ds: tf.Tensor[]) => {
      const hooks: Hooks = layers.map((l, k) => ({
        point: hookNames.residPost(l),
        fn: ((act) => {
          const sae = saes.get(l)!;
          const fLive = stopGradientOf((x) => sae.encode(x), act);
          const rLive = tf.sub(act, decodeDiff(sae, fLive));
          const fA = tf.add(tf.add(tf.mul(fLive, 1 - alpha), tf.mul(fp.get(l)!, alpha)), ds[k]);
          return tf.add(tf.add(decodeDiff(sae, fA), tf.mul(rLive, 1 - alpha)), tf.mul(rp.get(l)!, alpha)) as tf.Tensor3D;
        }) as HookFn,
      }));
      const r = model.forward(c.batch, { hooks });
      logits = r.logits!;
      return tf.sum(tf.mul(lastLogits(r.logits!), c.coef)) as tf.Scalar;
    };
    accumulateGrads(acc, layers, f, deltas, weight);
    (logits as tf.Tensor3D | null)?.dispose();
  }
  for (const t of [...fp.values(), ...rp.values()]) t.dispose();
  return acc;
}

function topPairs(a: Float32Array, k: number): Array<[number, number]> {
  const idx = Array.from({ length: a.length }, (_, i) => i);
  idx.sort((x, y) => a[y] - a[x] || x - y);
  return idx.slice(0, k).map((i) => [i, a[i]]);
}

export async function laIg(lens: Lens, p: LaIgParams, ctx: StepCtx): Promise<AttributionResult> {
  const path = p.path ?? 'shortcut';
  const rule = p.alphaRule ?? 'trapezoid';
  const steps = p.steps ?? 10;
  const sched = alphaSchedule(steps, rule);
  const layers = [...lens.saes.layers].sort((a, b) => a - b);
  const samples: SampleAttribution[] = [];
  const apSum: Record<number, Float64Array> | undefined = p.fullWidth ? {} : undefined;
  const batches = chunks(p.prompts, p.batchSize ?? 4);
  const skip = lens.codec.skipPrefix;
  let held: Map<number, Sae> | null = null;
  if (path === 'literal') {
    held = new Map();
    for (const l of layers) held.set(l, await lens.saes.get(l));
  }
  try {
    for (const [bi, ch] of batches.entries()) {
      checkAbort(ctx);
      const c = await patchedAndClean(lens, p, ch, layers);
      const grads = path === 'shortcut' ? igShortcut(lens, c, layers, sched) : igLiteral(lens, c, layers, held!, sched);
      const T = c.batch.T;
      const base = samples.length;
      for (let b = 0; b < c.B; b++)
        samples.push({
          ids: ch[b].ids,
          jToken: c.j[b],
          metricClean: c.mClean[b],
          metricPatched: c.mPatched[b],
          poolAttr: {},
          poolGrad: {},
          poolDelta: {},
          apTop: p.fullWidth ? {} : undefined,
        });
      const apMask = p.fullWidth
        ? tf.tensor3d(positionMask(c.batch, skip, p.apPositions ?? 'default').map((r) => r.map((x) => [x])), [c.B, T, 1])
        : null;
      for (const l of layers) {
        const sae = held ? held.get(l)! : await lens.saes.get(l);
        const poolIdx = p.pool[l] ?? [];
        const { attrFull, gradF, delta } = tf.tidy(() => {
          const fP = sae.encode(c.zAbl.get(l)!);
          const fC = sae.encode(c.zClean.get(l)!);
          const delta = tf.sub(fP, fC) as tf.Tensor3D;
          const g = grads.get(l)!;
          const gradF =
            path === 'shortcut'
              ? (tf.reshape(tf.matMul(tf.reshape(g, [c.B * T, -1]), sae.W_dec, false, true), [c.B, T, -1]) as tf.Tensor3D)
              : g.clone();
          return { attrFull: tf.mul(delta, gradF) as tf.Tensor3D, gradF, delta };
        });
        if (poolIdx.length) {
          const idx = tf.tensor1d(poolIdx, 'int32');
          const [a, g, dl] = tf.tidy(() => [attrFull, gradF, delta].map((t) => tf.gather(t, idx, 2)));
          idx.dispose();
          const [ad, gd, dd] = [a, g, dl].map((t) => t.dataSync() as Float32Array);
          const K = poolIdx.length;
          for (let b = 0; b < c.B; b++) {
            const s = samples[base + b];
            const pl = c.batch.padLeft[b];
            const n = T - pl;
            const start = (b * T + pl) * K;
            s.poolAttr[l] = Float32Array.from(ad.subarray(start, start + n * K));
            s.poolGrad[l] = Float32Array.from(gd.subarray(start, start + n * K));
            s.poolDelta[l] = Float32Array.from(dd.subarray(start, start + n * K));
          }
          [a, g, dl].forEach((t) => t.dispose());
        }
        if (apMask) {
          const mean = tf.tidy(() => tf.div(tf.sum(tf.mul(attrFull, apMask), 1), tf.maximum(tf.sum(apMask, 1), 1)));
          const md = mean.dataSync() as Float32Array;
          mean.dispose();
          const D = sae.meta.dSae;
          if (!apSum![l]) apSum![l] = new Float64Array(D);
          for (let b = 0; b < c.B; b++) {
            const row = md.subarray(b * D, (b + 1) * D);
            for (let i = 0; i < D; i++) apSum![l][i] += row[i];
            samples[base + b].apTop![l] = topPairs(row, p.fullWidthTop ?? 40);
          }
        }
        attrFull.dispose();
        gradF.dispose();
        delta.dispose();
        if (!held) lens.saes.release(sae);
      }
      apMask?.dispose();
      for (const m of [c.zAbl, c.zClean, grads]) for (const t of m.values()) t.dispose();
      if (c.zTarget !== c.zAbl) for (const t of c.zTarget.values()) t.dispose();
      c.coef.dispose();
      ctx.progress('attribution', (bi + 1) / batches.length);
    }
  } finally {
    if (held) for (const s of held.values()) lens.saes.release(s);
  }
  return { path, alphaRule: rule, steps, errorTerm: p.errorTerm ?? 'ablated', pool: p.pool, samples, apSum };
}
