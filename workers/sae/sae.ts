/**
 * The tfjs implementation of the `Sae` contract (types.ts). Weights are folded at load, so encode/decode
 * are the plain formulas. JumpReLU uses `relu(pre) · step(pre − θ)` (strict `>` like SAELens, and
 * differentiable in tfjs, unlike where(greater)); TopK keeps relu(pre) at its k largest via a step mask.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients (tf.grads through encode/decode/splice) need tfjs' gradient registry (works in plain Node too).
import '../engine/register-gradients.js';
import type { Sae, SaeMeta } from './types.js';

export interface SaeArrays {
  /** [dIn, dSae] */
  W_enc: Float32Array;
  b_enc: Float32Array;
  /** [dSae, dIn] */
  W_dec: Float32Array;
  b_dec: Float32Array;
  threshold: Float32Array | null;
}

/** Flatten [..., d] to [N, d] (2-D matmuls have correct gradients in tfjs), returning the leading shape. */
export function to2d(x: tf.Tensor): { x2: tf.Tensor2D; lead: number[] } {
  const d = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  return { x2: x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, d]), lead };
}

export function activate(
  pre: tf.Tensor,
  architecture: SaeMeta['architecture'],
  threshold: tf.Tensor | null,
  k: number | null,
): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.relu(pre);
    if (architecture === 'relu') return r;
    if (architecture === 'jumprelu') {
      if (!threshold) throw new Error('jumprelu SAE without threshold');
      return tf.mul(r, tf.step(tf.sub(pre, threshold)));
    }
    // topk: keep the k largest pre-activations (ties at the k-th value kept), relu'd.
    const d = pre.shape[pre.rank - 1]!;
    const kk = Math.min(k ?? d, d);
    const { x2, lead } = to2d(pre);
    const { values } = tf.topk(x2, kk, true);
    const kth = tf.slice(values, [0, kk - 1], [-1, 1]);
    // pre ≥ kth  ⇔  not (kth − pre > 0)
    const mask = tf.sub(1, tf.step(tf.sub(kth, x2)));
    return tf.reshape(tf.mul(tf.relu(x2), mask), [...lead, d]);
  });
}

export class TfSae implements Sae {
  readonly W_enc: tf.Tensor2D;
  readonly b_enc: tf.Tensor1D;
  readonly W_dec: tf.Tensor2D;
  readonly b_dec: tf.Tensor1D;
  readonly threshold: tf.Tensor1D | null;
  private disposed = false;

  constructor(
    readonly meta: SaeMeta,
    a: SaeArrays,
  ) {
    const { dIn, dSae } = meta;
    this.W_enc = tf.keep(tf.tensor2d(a.W_enc, [dIn, dSae]));
    this.b_enc = tf.keep(tf.tensor1d(a.b_enc));
    this.W_dec = tf.keep(tf.tensor2d(a.W_dec, [dSae, dIn]));
    this.b_dec = tf.keep(tf.tensor1d(a.b_dec));
    this.threshold = a.threshold ? tf.keep(tf.tensor1d(a.threshold)) : null;
  }

  hiddenPre(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { x2, lead } = to2d(x);
      const xin = this.meta.applyBDecToInput ? tf.sub(x2, this.b_dec) : x2;
      const pre = tf.add(tf.matMul(xin, this.W_enc), this.b_enc);
      return tf.reshape(pre, [...lead, this.meta.dSae]);
    });
  }

  encode(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => activate(this.hiddenPre(x), this.meta.architecture, this.threshold, this.meta.k));
  }

  decode(f: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { x2, lead } = to2d(f);
      return tf.reshape(tf.add(tf.matMul(x2, this.W_dec), this.b_dec), [...lead, this.meta.dIn]);
    });
  }

  weightBytes(): number {
    const { dIn, dSae } = this.meta;
    return 4 * (2 * dIn * dSae + dSae + dIn + (this.threshold ? dSae : 0));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [this.W_enc, this.b_enc, this.W_dec, this.b_dec, this.threshold]) t?.dispose();
  }
}

/**
 * A subset of an SAE's features (encoder columns, decoder rows, biases, thresholds) — all the S1 clamp
 * shortcut needs. `indices[j]` is the SAE feature index of slice column j.
 */
export interface SaeSlice {
  readonly meta: SaeMeta;
  readonly indices: number[];
  /** [dIn, |S|] */
  readonly W_enc: tf.Tensor2D;
  /** [|S|] */
  readonly b_enc: tf.Tensor1D;
  /** [|S|, dIn] */
  readonly W_dec: tf.Tensor2D;
  /** [dIn] (needed when applyBDecToInput) */
  readonly b_dec: tf.Tensor1D;
  readonly threshold: tf.Tensor1D | null;
  dispose(): void;
}

export function makeSlice(meta: SaeMeta, indices: number[], a: SaeArrays): SaeSlice {
  if (meta.architecture === 'topk') {
    throw new Error('the S1 clamp shortcut does not apply to TopK SAEs (a feature depends on all others); use the literal splice');
  }
  const n = indices.length;
  const W_enc = tf.keep(tf.tensor2d(a.W_enc, [meta.dIn, n]));
  const b_enc = tf.keep(tf.tensor1d(a.b_enc));
  const W_dec = tf.keep(tf.tensor2d(a.W_dec, [n, meta.dIn]));
  const b_dec = tf.keep(tf.tensor1d(a.b_dec));
  const threshold = a.threshold ? tf.keep(tf.tensor1d(a.threshold)) : null;
  return {
    meta,
    indices: [...indices],
    W_enc,
    b_enc,
    W_dec,
    b_dec,
    threshold,
    dispose() {
      for (const t of [W_enc, b_enc, W_dec, b_dec, threshold]) t?.dispose();
    },
  };
}

/** Slice a loaded SAE (gathers on the backend). */
export function sliceSae(sae: Sae, indices: number[]): SaeSlice {
  const idx = tf.tensor1d(indices, 'int32');
  const parts = [
    tf.gather(sae.W_enc, idx, 1),
    tf.gather(sae.b_enc, idx),
    tf.gather(sae.W_dec, idx, 0),
    sae.threshold ? tf.gather(sae.threshold, idx) : null,
  ];
  const data = parts.map((t) => (t ? (t.dataSync() as Float32Array) : null));
  for (const t of [idx, ...parts]) t?.dispose();
  return makeSlice(sae.meta, indices, {
    W_enc: data[0]!,
    b_enc: data[1]!,
    W_dec: data[2]!,
    b_dec: sae.b_dec.dataSync() as Float32Array,
    threshold: data[3] ?? null,
  });
}

/** f restricted to a slice's features: x [..., dIn] → [..., |S|] (exact for JumpReLU/ReLU SAEs). */
export function encodeSlice(slice: SaeSlice, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { x2, lead } = to2d(x);
    const xin = slice.meta.applyBDecToInput ? tf.sub(x2, slice.b_dec) : x2;
    const pre = tf.add(tf.matMul(xin, slice.W_enc), slice.b_enc);
    return tf.reshape(activate(pre, slice.meta.architecture, slice.threshold, null), [...lead, slice.indices.length]);
  });
}
