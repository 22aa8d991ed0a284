/**
 * Activation collection and spliced-loss evaluation for SAE training, over any model that offers a
 * hooked forward (the workbench CausalLM through a thin adapter, or the trainer's own forward).
 * Sequences are grouped by length so no padding is ever needed; position 0 (BOS) is excluded from
 * training data and left untouched by splices, as in Gemma Scope.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/types.js';
import { saeReconstruct, type GemmaScopeParams } from './sae-trainer.js';

export interface ActivationSource {
  readonly config: ModelConfig;
  forward(
    ids: number[][],
    opts?: { hooks?: { point: string; fn: (x: tf.Tensor3D) => tf.Tensor3D | void }[]; cache?: string[]; logits?: boolean },
  ): { logits: tf.Tensor3D | null; cache: Map<string, tf.Tensor3D> };
}

function byLengthIdx(seqs: number[][], maxTokens: number): number[][] {
  const m = new Map<number, number[]>();
  seqs.forEach((s, i) => m.set(s.length, [...(m.get(s.length) ?? []), i]));
  const out: number[][] = [];
  for (const T of [...m.keys()].sort((a, b) => a - b)) {
    const all = m.get(T)!;
    const per = Math.max(1, Math.floor(maxTokens / T));
    for (let i = 0; i < all.length; i += per) out.push(all.slice(i, i + per));
  }
  return out;
}

function byLength(seqs: number[][], maxTokens: number): number[][][] {
  return byLengthIdx(seqs, maxTokens).map((g) => g.map((i) => seqs[i]!));
}

/** Activations at `points` for every position but the first, concatenated (N × d each). */
export async function collectActivations(src: ActivationSource, seqs: number[][], points: string[], maxTokens = 4096): Promise<Map<string, Float32Array>> {
  const d = src.config.dModel;
  const parts = new Map<string, Float32Array[]>(points.map((p) => [p, []]));
  for (const batch of byLength(seqs, maxTokens)) {
    const T = batch[0]!.length;
    if (T < 2) continue;
    const { logits, cache } = src.forward(batch, { cache: points, logits: false });
    logits?.dispose();
    for (const p of points) {
      const a = cache.get(p)!;
      const s = tf.slice(a, [0, 1, 0], [batch.length, T - 1, d]);
      parts.get(p)!.push(new Float32Array(await s.data()));
      s.dispose();
      a.dispose();
    }
    await new Promise((r) => setImmediate(r));
  }
  const out = new Map<string, Float32Array>();
  for (const [p, xs] of parts) {
    const n = xs.reduce((a, x) => a + x.length, 0);
    const all = new Float32Array(n);
    let o = 0;
    for (const x of xs) {
      all.set(x, o);
      o += x.length;
    }
    out.set(p, all);
  }
  return out;
}

/**
 * Mean next-token cross-entropy over the positions of `seqs` (weights[s][t] > 0 selects the prediction of
 * token t+1; all positions when no weights are given), with the activation at `point` replaced
 * (positions ≥ 1) by `replace(x)` when given.
 */
export async function splicedCrossEntropy(
  src: ActivationSource,
  seqs: number[][],
  point: string | null,
  replace: ((x: tf.Tensor2D) => tf.Tensor2D) | null,
  weights: number[][] | null = null,
  maxTokens = 4096,
): Promise<number> {
  let total = 0;
  let count = 0;
  const d = src.config.dModel;
  const V = src.config.vocabSize;
  for (const idx of byLengthIdx(seqs, maxTokens)) {
    const batch = idx.map((i) => seqs[i]!);
    const B = batch.length;
    const T = batch[0]!.length;
    if (T < 2) continue;
    const hooks = point && replace
      ? [{
          point,
          fn: (x: tf.Tensor3D) => {
            const head = tf.slice(x, [0, 0, 0], [B, 1, d]);
            const rest = tf.reshape(tf.slice(x, [0, 1, 0], [B, T - 1, d]), [B * (T - 1), d]) as tf.Tensor2D;
            return tf.concat([head, tf.reshape(replace(rest), [B, T - 1, d])], 1) as tf.Tensor3D;
          },
        }]
      : [];
    const s = tf.tidy(() => {
      const { logits, cache } = src.forward(batch, { hooks });
      for (const c of cache.values()) c.dispose();
      const lg = tf.reshape(tf.slice(logits!, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]);
      const tg = tf.tensor1d(batch.flatMap((q) => q.slice(1)), 'int32');
      const lp = tf.logSoftmax(lg);
      const nll = tf.neg(tf.sum(tf.mul(lp, tf.oneHot(tg, V)), -1));
      const w = weights ? tf.tensor1d(idx.flatMap((i) => weights[i]!.slice(0, T - 1).map((x) => (x > 0 ? 1 : 0)))) : tf.onesLike(nll);
      return tf.stack([tf.sum(tf.mul(nll, w)), tf.sum(w)]);
    });
    const [sum, n] = Array.from(await s.data());
    total += sum!;
    s.dispose();
    count += n!;
    await new Promise((r) => setImmediate(r));
  }
  return total / count;
}

/**
 * CE recovered = (CE_zero − CE_sae) / (CE_zero − CE_clean), splicing at `point` (every position but the
 * first); the loss is taken where `weights` > 0 (e.g. the assistant's tokens), or everywhere.
 */
export async function ceRecovered(src: ActivationSource, seqs: number[][], point: string, sae: GemmaScopeParams, weights: number[][] | null = null) {
  const clean = await splicedCrossEntropy(src, seqs, null, null, weights);
  const zero = await splicedCrossEntropy(src, seqs, point, (x) => tf.zerosLike(x), weights);
  const spliced = await splicedCrossEntropy(src, seqs, point, (x) => saeReconstruct(sae, x), weights);
  return { clean, zero, spliced, recovered: (zero - spliced) / (zero - clean) };
}
