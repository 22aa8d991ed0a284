/**
 * Side effects (§6): CE on the base model's own rollouts for harmless prompts (loss over the label tokens)
 * and on a fixed text sample (the same documents for every condition, W9), under any condition's hooks.
 * W8: default = masked sum / number of label tokens; compat = the reference's padded B×T mean.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Hooks } from '../model/types.js';
import { chunks, leftPad } from './batch.js';
import { checkAbort, type Lens, type StepCtx } from './types.js';

export interface CeItem {
  /** Context tokens (not scored). */
  context: number[];
  /** Scored tokens following the context. */
  label: number[];
}

export async function ceLoss(
  lens: Lens,
  p: { items: CeItem[]; hooks?: (rows: number) => Promise<{ hooks: Hooks; dispose(): void }>; batchSize?: number; normalise?: 'labels' | 'compat' },
  ctx: StepCtx,
): Promise<{ ce: number; tokens: number; perItem: Array<{ sum: number; tokens: number; slots: number }> }> {
  const perItem: Array<{ sum: number; tokens: number; slots: number }> = [];
  let sum = 0;
  let nTok = 0;
  let compatSum = 0;
  let compatN = 0;
  for (const ch of chunks(p.items, p.batchSize ?? 8)) {
    checkAbort(ctx);
    const seqs = ch.map((x) => [...x.context, ...x.label]);
    const batch = leftPad(seqs, lens.model.config.padTokenId);
    const B = ch.length, T = batch.T;
    // mask[b,t] = 1 when position t predicts a label token (t+1 is a label slot)
    const target: number[][] = [];
    const mask: number[][] = [];
    for (let b = 0; b < B; b++) {
      const row = batch.inputIds[b];
      const firstLabel = T - ch[b].label.length;
      target.push(row.map((_, t) => (t + 1 < T ? row[t + 1] : 0)));
      mask.push(row.map((_, t) => (t + 1 >= firstLabel && t + 1 < T ? 1 : 0)));
    }
    const h = p.hooks ? await p.hooks(B) : { hooks: [], dispose() {} };
    try {
      const [s, n] = tf.tidy(() => {
        const r = lens.model.forward(batch, { hooks: h.hooks });
        const V = r.logits!.shape[2];
        const lp = tf.logSoftmax(tf.reshape(r.logits!, [B * T, V]));
        r.logits!.dispose();
        const oh = tf.oneHot(tf.tensor1d(target.flat(), 'int32'), V);
        const nll = tf.neg(tf.sum(tf.mul(lp, oh), 1));
        const m = tf.tensor1d(mask.flat());
        // per-row sums (for bootstrap intervals over items); totals are their sums
        return [tf.sum(tf.reshape(tf.mul(nll, m), [B, T]), 1), tf.sum(tf.reshape(m, [B, T]), 1)];
      });
      const rs = s.dataSync(), rn = n.dataSync();
      s.dispose();
      n.dispose();
      let sv = 0, nv = 0;
      for (let b = 0; b < B; b++) {
        perItem.push({ sum: rs[b], tokens: rn[b], slots: T });
        sv += rs[b];
        nv += rn[b];
      }
      sum += sv;
      nTok += nv;
      compatSum += sv;
      compatN += B * T;
    } finally {
      h.dispose();
    }
  }
  const ce = p.normalise === 'compat' ? compatSum / Math.max(1, compatN) : sum / Math.max(1, nTok);
  return { ce, tokens: nTok, perItem };
}
