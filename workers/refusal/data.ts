/** Data preparation: chat formatting, tokenisation, and the first-token filter (§1 step 2). */
import * as tf from '@tensorflow/tfjs-core';
import { chunks, leftPad } from './batch.js';
import { checkAbort, type EncodedPrompt, type Lens, type StepCtx } from './types.js';

/** Format and tokenise; W12: assert exactly one BOS when the tokenizer has one. */
export function encodePrompts(lens: Lens, prompts: string[]): EncodedPrompt[] {
  return prompts.map((text) => {
    const ids = lens.codec.encodePrompt(text);
    const bos = lens.codec.bosTokenId;
    if (bos !== null) {
      const n = ids.filter((t) => t === bos).length;
      if (n !== 1 || ids[0] !== bos)
        throw new Error(`chat template gave ${n} BOS tokens for prompt "${text.slice(0, 40)}…" (expected exactly one, first)`);
    }
    return { text, ids };
  });
}

/** Greedy first token of each prompt (argmax of the last position's logits). */
export async function firstTokens(
  lens: Lens,
  prompts: EncodedPrompt[],
  params: { batchSize?: number; hooks?: import('../model/types.js').Hooks } = {},
  ctx?: StepCtx,
): Promise<number[]> {
  const out: number[] = [];
  const bs = params.batchSize ?? 16;
  for (const ch of chunks(prompts, bs)) {
    if (ctx) checkAbort(ctx);
    const batch = leftPad(ch.map((p) => p.ids), lens.model.config.padTokenId);
    const t = tf.tidy(() => {
      const r = lens.model.forward(batch, { hooks: params.hooks });
      const V = r.logits!.shape[2];
      const last = tf.slice(r.logits!, [0, batch.T - 1, 0], [ch.length, 1, V]);
      r.logits!.dispose();
      return tf.argMax(tf.reshape(last, [ch.length, V]), -1);
    });
    out.push(...Array.from(t.dataSync()));
    t.dispose();
  }
  return out;
}

/** Keep harmful prompts whose first token is the refusal token, harmless ones whose first token is not. */
export async function filterByFirstToken(
  lens: Lens,
  prompts: EncodedPrompt[],
  keep: 'refuses' | 'complies',
  ctx?: StepCtx,
  batchSize?: number,
): Promise<{ kept: EncodedPrompt[]; keptIndex: number[]; firstToken: number[] }> {
  const ft = await firstTokens(lens, prompts, { batchSize }, ctx);
  const keptIndex = ft
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => (t === lens.codec.refusalTokenId) === (keep === 'refuses'))
    .map(({ i }) => i);
  return { kept: keptIndex.map((i) => prompts[i]), keptIndex, firstToken: ft };
}
