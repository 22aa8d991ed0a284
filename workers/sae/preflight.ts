/**
 * Fit preflight: how well an SAE (trained on a base model) fits the model it is used on, per layer, on
 * prompts the user picks. Reconstruction MSE, fraction of variance explained, mean L0, dead fraction,
 * and CE-loss recovered = (CE_zero − CE_recon) / (CE_zero − CE_clean), where the stream at the hook
 * point is replaced by the SAE reconstruction (no error term) or by zeros for the whole forward.
 * Only real tokens count (attention mask 1); CE is the masked sum over next-token labels divided by the
 * number of labels (W8). Written against the `CausalLM` contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, HookFn, TokenBatch } from '../model/types.js';
import type { SaeSet } from './set.js';
import type { Sae } from './types.js';

export interface FitReport {
  layer: number;
  hookPoint: string;
  saeId: string;
  /** Real tokens the statistics are over. */
  tokens: number;
  /** mean over tokens of mean over d of (x − x̂)². */
  mse: number;
  /** 1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖². */
  fve: number;
  meanL0: number;
  /** Fraction of features never active on these tokens. */
  deadFraction: number;
  /** Mean ‖x‖ of the activations (to spot a missing normalisation). */
  meanNorm: number;
  ce: { clean: number; recon: number; zero: number; recovered: number } | null;
}

export interface FitOptions {
  /** Compute CE-loss recovered (three forwards per batch). Default true. */
  ce?: boolean;
  /** Leave out the first `skipFirst` real tokens of each sequence from the statistics (e.g. BOS). Default 0. */
  skipFirst?: number;
}

function maskOf(batch: TokenBatch): number[][] {
  return batch.attentionMask ?? batch.inputIds.map((r) => r.map(() => 1));
}

/** Masked next-token CE sum and label count. */
function ceSum(logits: tf.Tensor3D, batch: TokenBatch): { sum: number; n: number } {
  const [B, T, V] = logits.shape;
  const mask = maskOf(batch);
  const rows: number[] = [];
  const labels: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      if (mask[b]![t] && mask[b]![t + 1]) {
        rows.push(b * T + t);
        labels.push(batch.inputIds[b]![t + 1]!);
      }
    }
  }
  if (!rows.length) return { sum: 0, n: 0 };
  const s = tf.tidy(() => {
    const lp = tf.logSoftmax(tf.gather(tf.reshape(logits, [B * T, V]), tf.tensor1d(rows, 'int32')));
    const picked = tf.sum(tf.mul(lp, tf.oneHot(tf.tensor1d(labels, 'int32'), V)));
    return tf.neg(picked);
  });
  const sum = s.dataSync()[0]!;
  s.dispose();
  return { sum, n: rows.length };
}

/** Fit statistics of one SAE on some batches. */
export function fitPreflight(model: CausalLM, batches: TokenBatch | TokenBatch[], sae: Sae, opts: FitOptions = {}): FitReport {
  const list = Array.isArray(batches) ? batches : [batches];
  const point = sae.meta.hookPoint;
  if (!point) throw new Error(`${sae.meta.id} has no hook point: pass the layer/hookPoint option when loading`);
  const { dIn, dSae } = sae.meta;
  if (model.config.dModel !== dIn) throw new Error(`${sae.meta.id}: d_in ${dIn} ≠ model d_model ${model.config.dModel}`);
  const skip = opts.skipFirst ?? 0;
  let tokens = 0;
  let sqErr = 0;
  let l0 = 0;
  let normSum = 0;
  const sumX = new Float64Array(dIn);
  let sumSq = 0;
  const everActive = new Uint8Array(dSae);
  const ce = { clean: 0, recon: 0, zero: 0, n: 0 };
  const wantCe = opts.ce ?? true;
  for (const batch of list) {
    const mask = maskOf(batch);
    const B = batch.inputIds.length;
    const T = batch.inputIds[0]!.length;
    const sel: number[] = [];
    for (let b = 0; b < B; b++) {
      let seen = 0;
      for (let t = 0; t < T; t++) if (mask[b]![t]) if (seen++ >= skip) sel.push(b * T + t);
    }
    const r = model.forward(batch, { cache: [point], logits: wantCe, ...(wantCe || sae.meta.layer < 0 ? {} : { stopAtLayer: sae.meta.layer }) });
    const act = r.cache.get(point)!;
    if (sel.length) {
      const [xs, fs, es] = tf.tidy(() => {
        const x = tf.gather(tf.reshape(act, [B * T, dIn]), tf.tensor1d(sel, 'int32'));
        const f = sae.encode(x);
        const e = tf.sub(x, sae.decode(f));
        return [x, f, e];
      });
      const xd = xs.dataSync();
      const fd = fs.dataSync();
      const ed = es.dataSync();
      tf.dispose([xs, fs, es]);
      for (let n = 0; n < sel.length; n++) {
        let nn = 0;
        for (let i = 0; i < dIn; i++) {
          const v = xd[n * dIn + i]!;
          sumX[i] += v;
          sumSq += v * v;
          nn += v * v;
          const e = ed[n * dIn + i]!;
          sqErr += e * e;
        }
        normSum += Math.sqrt(nn);
        for (let j = 0; j < dSae; j++) {
          if (fd[n * dSae + j]! !== 0) {
            l0++;
            everActive[j] = 1;
          }
        }
      }
      tokens += sel.length;
    }
    act.dispose();
    for (const [p, t] of r.cache) if (p !== point) t.dispose();
    if (wantCe) {
      const clean = ceSum(r.logits!, batch);
      r.logits!.dispose();
      const reconHook: HookFn = (x) => tf.tidy(() => sae.decode(sae.encode(x)) as tf.Tensor3D);
      const zeroHook: HookFn = (x) => tf.zerosLike(x);
      const rr = model.forward(batch, { hooks: [{ point, fn: reconHook }] });
      const recon = ceSum(rr.logits!, batch);
      rr.logits!.dispose();
      const rz = model.forward(batch, { hooks: [{ point, fn: zeroHook }] });
      const zero = ceSum(rz.logits!, batch);
      rz.logits!.dispose();
      ce.clean += clean.sum;
      ce.recon += recon.sum;
      ce.zero += zero.sum;
      ce.n += clean.n;
    } else r.logits?.dispose();
  }
  let varSum = sumSq;
  if (tokens) for (let i = 0; i < dIn; i++) varSum -= (sumX[i]! * sumX[i]!) / tokens;
  let dead = 0;
  for (let j = 0; j < dSae; j++) if (!everActive[j]) dead++;
  const ceOut =
    wantCe && ce.n
      ? (() => {
          const clean = ce.clean / ce.n;
          const recon = ce.recon / ce.n;
          const zero = ce.zero / ce.n;
          return { clean, recon, zero, recovered: (zero - recon) / (zero - clean) };
        })()
      : null;
  return {
    layer: sae.meta.layer,
    hookPoint: point,
    saeId: sae.meta.id,
    tokens,
    mse: tokens ? sqErr / (tokens * dIn) : NaN,
    fve: tokens && varSum > 0 ? 1 - sqErr / varSum : NaN,
    meanL0: tokens ? l0 / tokens : NaN,
    deadFraction: dSae ? dead / dSae : NaN,
    meanNorm: tokens ? normSum / tokens : NaN,
    ce: ceOut,
  };
}

/** Fit statistics for every layer of a set, one SAE layer resident at a time. */
export async function fitPreflightSet(
  model: CausalLM,
  batches: TokenBatch | TokenBatch[],
  set: SaeSet,
  opts: FitOptions & { layers?: number[]; onLayer?: (r: FitReport) => void } = {},
): Promise<FitReport[]> {
  const out = await set.forEachLayer((sae) => {
    const r = fitPreflight(model, batches, sae, opts);
    opts.onLayer?.(r);
    return r;
  }, opts.layers);
  return [...out.values()];
}
