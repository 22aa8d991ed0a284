/**
 * Gradients at hook activations and at tensors a hook introduces. tfjs differentiates only w.r.t.
 * function inputs, so every such point is a zero "leaf" added by a hook: ∂m/∂leaf = ∂m/∂activation.
 * One backward pass serves any number of points (attribution patching needs every layer at once).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, ForwardResult, HookPoint, Hooks, TokenBatch } from './types.js';

/** value and gradients of `fn(leaves)` w.r.t. every leaf. */
export function valueAndGradsAt(fn: (leaves: tf.Tensor[]) => tf.Scalar, leaves: tf.Tensor[]): { value: number; grads: tf.Tensor[] } {
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => fn(xs))(leaves);
  const v = value.dataSync()[0]!;
  value.dispose();
  return { value: v, grads };
}

/**
 * Gradient of `metric(forward output)` w.r.t. the activations at `points` (after any `hooks` at
 * those points ran). Returns [B, T, d] tensors the caller disposes.
 */
export function gradientsAtHooks(
  model: CausalLM,
  batch: TokenBatch,
  points: HookPoint[],
  metric: (out: ForwardResult) => tf.Scalar,
  hooks: Hooks = [],
): { value: number; grads: Map<HookPoint, tf.Tensor3D> } {
  const B = batch.inputIds.length;
  const T = batch.inputIds[0]!.length;
  const leaves = points.map(() => tf.zeros([B, T, model.config.dModel]));
  try {
    const { value, grads } = valueAndGradsAt((xs) => {
      const probeHooks = points.map((point, i) => ({ point, fn: (x: tf.Tensor3D) => tf.add(x, xs[i]!) as tf.Tensor3D }));
      const out = model.forward(batch, { hooks: [...hooks, ...probeHooks] });
      const m = metric(out);
      out.logits?.dispose();
      for (const t of out.cache.values()) t.dispose();
      return m;
    }, leaves);
    const map = new Map<HookPoint, tf.Tensor3D>();
    points.forEach((p, i) => map.set(p, grads[i] as tf.Tensor3D));
    return { value, grads: map };
  } finally {
    for (const l of leaves) l.dispose();
  }
}
