/**
 * SAE math the steps need beyond the Sae contract: a differentiable encode (tfjs has no gradient for
 * Greater, so JumpReLU is relu(pre)·step(pre−θ), whose derivative is the JumpReLU one), a stop-gradient,
 * and the S1 sparse slice (only a feature set's encoder columns and decoder rows).
 */
import * as tf from '@tensorflow/tfjs-core';
import '../engine/register-gradients.js';
import type { Sae } from '../sae/types.js';

/** y = fn(x) forward with a zero gradient; fn's own ops stay off the tape (e.g. a non-differentiable encode). */
export function stopGradientOf<T extends tf.Tensor>(fn: (x: tf.Tensor) => T, x: tf.Tensor): T {
  const f = tf.customGrad(((a: tf.Tensor) => ({
    value: fn(a),
    gradFunc: () => tf.zerosLike(a),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

/** Identity forward, zero gradient. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOf((a) => a.clone() as T, x);
}

function applyAct(sae: Sae, pre: tf.Tensor, theta: tf.Tensor | null): tf.Tensor {
  const arch = sae.meta.architecture;
  if (arch === 'jumprelu') {
    if (!theta) throw new Error(`SAE ${sae.meta.id}: jumprelu without threshold`);
    return tf.mul(tf.relu(pre), tf.step(tf.sub(pre, theta)));
  }
  if (arch === 'relu') return tf.relu(pre);
  throw new Error(`SAE ${sae.meta.id}: ${arch} has no differentiable encode here (topk: use sae.encode)`);
}

/** Differentiable encode x [..., d] → f [..., dSae] (jumprelu, relu). */
export function encodeDiff(sae: Sae, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const d = shape[shape.length - 1];
    let x2 = tf.reshape(x, [-1, d]);
    if (sae.meta.applyBDecToInput) x2 = tf.sub(x2, sae.b_dec);
    const pre = tf.add(tf.matMul(x2, sae.W_enc), sae.b_enc);
    const f = applyAct(sae, pre, sae.threshold);
    return tf.reshape(f, [...shape.slice(0, -1), sae.meta.dSae]);
  });
}

/** Decode f [..., dSae] → [..., d] with 2-D matmuls (rank-3 matmul gradients are wrong in tfjs). */
export function decodeDiff(sae: Sae, f: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = f.shape;
    const f2 = tf.reshape(f, [-1, sae.meta.dSae]);
    const x = tf.add(tf.matMul(f2, sae.W_dec), sae.b_dec);
    return tf.reshape(x, [...shape.slice(0, -1), sae.meta.dIn]);
  });
}

/** The S1 slice of one layer's SAE: only the listed features. */
export interface SparseSlice {
  layer: number;
  indices: number[];
  architecture: Sae['meta']['architecture'];
  /** [d, k] */
  W_enc: tf.Tensor2D;
  /** [k] */
  b_enc: tf.Tensor1D;
  /** [k] or null */
  threshold: tf.Tensor1D | null;
  /** [k, d] */
  W_dec: tf.Tensor2D;
  /** [d] b_dec subtracted from the input, when the SAE does that. */
  bDecIn: tf.Tensor1D | null;
  dispose(): void;
}

export function sparseSlice(sae: Sae, indices: number[]): SparseSlice {
  if (sae.meta.architecture === 'topk')
    throw new Error(`S1 sparse clamp is not exact for topk SAE ${sae.meta.id}: use the literal splice`);
  const idx = tf.tensor1d(indices, 'int32');
  const s = {
    W_enc: tf.gather(sae.W_enc, idx, 1) as tf.Tensor2D,
    b_enc: tf.gather(sae.b_enc, idx) as tf.Tensor1D,
    threshold: sae.threshold ? (tf.gather(sae.threshold, idx) as tf.Tensor1D) : null,
    W_dec: tf.gather(sae.W_dec, idx, 0) as tf.Tensor2D,
    bDecIn: sae.meta.applyBDecToInput ? (sae.b_dec.clone() as tf.Tensor1D) : null,
  };
  idx.dispose();
  return {
    layer: sae.meta.layer,
    indices: [...indices],
    architecture: sae.meta.architecture,
    ...s,
    dispose() {
      s.W_enc.dispose();
      s.b_enc.dispose();
      s.threshold?.dispose();
      s.W_dec.dispose();
      s.bDecIn?.dispose();
    },
  };
}

/** Sparse encode x [..., d] → f_S [..., k] (exactly the full encode's columns S for jumprelu/relu). */
export function sparseEncode(s: SparseSlice, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const d = shape[shape.length - 1];
    let x2 = tf.reshape(x, [-1, d]);
    if (s.bDecIn) x2 = tf.sub(x2, s.bDecIn);
    const pre = tf.add(tf.matMul(x2, s.W_enc), s.b_enc);
    const f =
      s.architecture === 'jumprelu' ? tf.mul(tf.relu(pre), tf.step(tf.sub(pre, s.threshold!))) : tf.relu(pre);
    return tf.reshape(f, [...shape.slice(0, -1), s.indices.length]);
  });
}

/** Unit-normalised rows of W_dec [dSae, d] · unit v → cosines [dSae]. */
export function decoderCosines(sae: Sae, v: tf.Tensor1D): Float32Array {
  const c = tf.tidy(() => {
    const rowNorm = tf.maximum(tf.norm(sae.W_dec, 2, 1), 1e-12);
    const vn = tf.div(v, tf.maximum(tf.norm(v), 1e-12));
    return tf.div(tf.squeeze(tf.matMul(sae.W_dec, tf.reshape(vn, [-1, 1])), [1]), rowNorm);
  });
  const out = c.dataSync() as Float32Array;
  c.dispose();
  return Float32Array.from(out);
}
