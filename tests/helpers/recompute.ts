/** Greedy decoding by a full forward at every step (no KV cache): the ground truth the cache must equal. */
import * as tf from '@tensorflow/tfjs-core';
import { leftPad, type CausalLM, type Hooks } from '../../workers/model/index.js';

export function greedyRecompute(model: CausalLM, prompts: number[][], n: number, hooks: Hooks = [], padId = 0): number[][] {
  const seqs = prompts.map((p) => [...p]);
  const V = model.config.vocabSize;
  for (let s = 0; s < n; s++) {
    const batch = leftPad(seqs, padId);
    const next = tf.tidy(() => {
      const out = model.forward(batch, { hooks });
      const T = batch.inputIds[0]!.length;
      return tf.argMax(tf.reshape(tf.slice(out.logits!, [0, T - 1, 0], [seqs.length, 1, V]), [seqs.length, V]), 1);
    });
    const ids = Array.from(next.dataSync());
    next.dispose();
    ids.forEach((t, b) => seqs[b]!.push(t));
  }
  return seqs.map((s, b) => s.slice(prompts[b]!.length));
}
