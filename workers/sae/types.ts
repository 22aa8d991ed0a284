/**
 * The SAE contract: a dictionary at one hook point, loaded from Gemma Scope, SAELens or Llama Scope files,
 * with every input normalisation folded into the weights so encode/decode are the plain formulas below.
 *   pre = (applyBDecToInput ? x − b_dec : x) · W_enc + b_enc
 *   f   = jumprelu: (pre > θ)·relu(pre) | relu: relu(pre) | topk: relu(pre) kept at its k largest
 *   x̂  = f · W_dec + b_dec
 */
import type * as tf from '@tensorflow/tfjs-core';

export type SaeArchitecture = 'jumprelu' | 'relu' | 'topk';
export type SaeFormat = 'gemmascope' | 'saelens' | 'llamascope';

export interface SaeMeta {
  /** Stable id, e.g. "gemmascope:layer_12/width_16k/average_l0_82" or a folder name. */
  id: string;
  format: SaeFormat;
  /** Path of the file or folder it came from. */
  source: string;
  architecture: SaeArchitecture;
  layer: number;
  hookPoint: string;
  dIn: number;
  dSae: number;
  k: number | null;
  applyBDecToInput: boolean;
  /** Neuronpedia id prefix (e.g. "gemma-2-2b/12-gemmascope-res-65k") when known. */
  neuronpediaId: string | null;
  /** Notes of choices the loader made (picked L0 file, folded scaling factor, threshold rule). */
  notes: string[];
}

/** A feature is written L{layer}/{index}. */
export interface FeatureId {
  layer: number;
  index: number;
}

export interface Sae {
  readonly meta: SaeMeta;
  /** [dIn, dSae] */
  readonly W_enc: tf.Tensor2D;
  readonly b_enc: tf.Tensor1D;
  /** [dSae, dIn] */
  readonly W_dec: tf.Tensor2D;
  readonly b_dec: tf.Tensor1D;
  /** [dSae] JumpReLU thresholds, null for relu/topk. */
  readonly threshold: tf.Tensor1D | null;
  /** x [..., dIn] → pre-activations [..., dSae]. */
  hiddenPre(x: tf.Tensor): tf.Tensor;
  /** x [..., dIn] → features [..., dSae]. */
  encode(x: tf.Tensor): tf.Tensor;
  /** f [..., dSae] → reconstruction [..., dIn]. */
  decode(f: tf.Tensor): tf.Tensor;
  weightBytes(): number;
  dispose(): void;
}
