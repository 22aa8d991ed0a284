/**
 * Cosine feature pool (§2.8) and the CosSim baseline (§2.11 'cs'), streamed one SAE at a time (S3):
 * cos_i = (W_dec[i]/‖·‖)·(V/‖V‖), signed; top-K per layer, and the global top-K* over (layer, feature).
 */
import * as tf from '@tensorflow/tfjs-core';
import { decoderCosines } from './sae-math.js';
import { checkAbort, type FeatureSet, type Lens, type StepCtx } from './types.js';

export interface PoolResult {
  /** layer → top-K feature indices by signed cosine, best first. */
  pool: Record<number, number[]>;
  /** cosine of each pool entry, aligned with pool. */
  poolCos: Record<number, number[]>;
  /** CosSim baseline: global top-K* over every (layer, feature). */
  cossim: FeatureSet;
  cossimCos: number[];
}

function topIdx(a: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: a.length }, (_, i) => i);
  idx.sort((x, y) => a[y] - a[x] || x - y);
  return idx.slice(0, k);
}

export async function cosinePool(
  lens: Lens,
  params: { direction: Float32Array; k?: number; kStar?: number; layers?: number[] },
  ctx: StepCtx,
): Promise<PoolResult> {
  const K = params.k ?? 10;
  const KS = params.kStar ?? 20;
  const layers = params.layers ?? lens.saes.layers;
  const v = tf.tensor1d(params.direction);
  const pool: Record<number, number[]> = {};
  const poolCos: Record<number, number[]> = {};
  let best: Array<{ layer: number; index: number; cos: number }> = [];
  for (const [n, l] of layers.entries()) {
    checkAbort(ctx);
    let cos: Float32Array;
    if (lens.saes.decoderChunks) {
      // S3: stream decoder rows from disk
      const parts: Array<{ r0: number; c: Float32Array }> = [];
      let n = 0;
      for (const ch of lens.saes.decoderChunks(l)) {
        const t = tf.tidy(() => {
          const rowNorm = tf.maximum(tf.norm(ch.W_dec, 2, 1), 1e-12);
          const vn = tf.div(v, tf.maximum(tf.norm(v), 1e-12));
          return tf.div(tf.squeeze(tf.matMul(ch.W_dec, tf.reshape(vn, [-1, 1])), [1]), rowNorm);
        });
        parts.push({ r0: ch.r0, c: Float32Array.from(t.dataSync()) });
        t.dispose();
        n = Math.max(n, ch.r0 + ch.rows);
      }
      cos = new Float32Array(n);
      for (const p of parts) cos.set(p.c, p.r0);
    } else {
      const sae = await lens.saes.get(l);
      cos = decoderCosines(sae, v);
      lens.saes.release(sae);
    }
    const top = topIdx(cos, Math.max(K, KS));
    pool[l] = top.slice(0, K);
    poolCos[l] = pool[l].map((i) => cos[i]);
    best = [...best, ...top.slice(0, KS).map((i) => ({ layer: l, index: i, cos: cos[i] }))]
      .sort((a, b) => b.cos - a.cos || a.layer - b.layer || a.index - b.index)
      .slice(0, KS);
    ctx.progress('cosine pool', (n + 1) / layers.length);
  }
  v.dispose();
  return {
    pool,
    poolCos,
    cossim: best.map(({ layer, index }) => ({ layer, index })),
    cossimCos: best.map((b) => b.cos),
  };
}
