/**
 * The model contract every other part of the workbench codes against: a causal LM with
 * TransformerLens-named hook points, per-call hooks (no global hook state), left-padded batches,
 * gradients through tf.grads, and KV-cache generation with hooks active on every step.
 */
import type * as tf from '@tensorflow/tfjs-core';

export type Architecture = 'gemma2' | 'llama';

/** Normalised model configuration (from a Hugging Face config.json). */
export interface ModelConfig {
  architecture: Architecture;
  /** The HF class name, e.g. Gemma2ForCausalLM. */
  hfArchitecture: string;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  dMlp: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: null | {
    ropeType: 'llama3';
    factor: number;
    lowFreqFactor: number;
    highFreqFactor: number;
    originalMaxPositionEmbeddings: number;
  };
  /** Gemma-2 only. */
  slidingWindow: number | null;
  queryPreAttnScalar: number | null;
  attnLogitSoftcapping: number | null;
  finalLogitSoftcapping: number | null;
  tieWordEmbeddings: boolean;
  hiddenAct: string;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number;
}

/**
 * Hook points: 'hook_embed', `blocks.${l}.hook_resid_pre`, `blocks.${l}.hook_attn_out`,
 * `blocks.${l}.hook_mlp_out`, `blocks.${l}.hook_resid_post`, 'ln_final.hook_normalized'.
 */
export type HookPoint = string;

export const hookNames = {
  embed: 'hook_embed',
  residPre: (l: number) => `blocks.${l}.hook_resid_pre`,
  attnOut: (l: number) => `blocks.${l}.hook_attn_out`,
  mlpOut: (l: number) => `blocks.${l}.hook_mlp_out`,
  residPost: (l: number) => `blocks.${l}.hook_resid_post`,
  lnFinal: 'ln_final.hook_normalized',
} as const;

export interface HookContext {
  point: HookPoint;
  /** Block index for block hook points, null for hook_embed and ln_final. */
  layer: number | null;
  /** Slot index (in the left-padded sequence) of this call's first position: 0 for a full forward or a
   *  prompt pass, promptLength + step for decoding step `step`. */
  offset: number;
  /** Number of (padded) prompt slots; slots < promptLength are prompt positions. */
  promptLength: number;
  /** -1 for a full forward or the prompt pass of generation, k ≥ 0 for the k-th generated token's pass. */
  step: number;
  /** [B, T_call] float32, 1 for real tokens, 0 for pads, for this call's positions. */
  attentionMask: tf.Tensor2D;
}

/** Reads or replaces an activation [B, T_call, d]. Return a tensor to replace it, or nothing to keep it. */
export type HookFn = (act: tf.Tensor3D, ctx: HookContext) => tf.Tensor3D | void;

/** Hooks for one call; several on the same point run in order. */
export type Hooks = ReadonlyArray<{ point: HookPoint; fn: HookFn }>;

export interface TokenBatch {
  /** [B, T] token ids, left-padded. */
  inputIds: number[][];
  /** [B, T] 1 = token, 0 = pad. Defaults to all ones. */
  attentionMask?: number[][];
  /** [B, T] positions. Defaults to cumsum(mask) − 1 with pads set to 1 (HF generate's convention). */
  positionIds?: number[][];
}

export interface ForwardOptions {
  hooks?: Hooks;
  /** Hook points whose activations (after any hook replaced them) are returned. */
  cache?: HookPoint[];
  /** Compute logits (default true). */
  logits?: boolean;
  /** Stop after this block (inclusive) — for activation-only work. Implies logits false. */
  stopAtLayer?: number;
}

export interface ForwardResult {
  /** [B, T, vocab] or null when not computed. Caller owns (disposes) every returned tensor. */
  logits: tf.Tensor3D | null;
  cache: Map<HookPoint, tf.Tensor3D>;
}

export interface GenerateOptions {
  maxNewTokens: number;
  hooks?: Hooks;
  /** Greedy when absent or temperature 0. */
  sampling?: { temperature: number; topK?: number; topP?: number; seed: number };
  /** Token ids that end a sequence (default: the model's EOS ids plus the chat end-of-turn token). */
  stopTokens?: number[];
  /** Called after each decoding step; abort by throwing or through the signal. */
  onStep?: (step: number) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** Generated ids per sequence, up to and including the stop token when one was produced. */
  newTokens: number[][];
  /** Whether each sequence stopped on a stop token. */
  stopped: boolean[];
}

/** Stepwise KV-cache decoding; two sessions fed the same tokens advance in lockstep. */
export interface DecodingSession {
  readonly batchSize: number;
  readonly promptLength: number;
  /** Tokens pushed so far. */
  readonly step: number;
  /** Last-position logits per row. */
  lastLogits(): Promise<Float32Array[]>;
  /** Append one token per row (hooks of this pass see ctx.step = tokens pushed before it). */
  push(tokens: number[]): void;
  dispose(): void;
}

export interface CausalLM {
  readonly config: ModelConfig;
  /** Synchronous forward; call inside tf.tidy or dispose the results. */
  forward(batch: TokenBatch, opts?: ForwardOptions): ForwardResult;
  /** Greedy or seeded sampling with a KV cache; equals a full recompute at every step. */
  generate(batch: TokenBatch, opts: GenerateOptions): Promise<GenerateResult>;
  /** Stepwise decoding with hooks on the prompt pass and every pushed token (optional for test doubles). */
  startDecoding?(batch: TokenBatch, hooks?: Hooks): DecodingSession;
  /** Bytes of float32 weights held. */
  weightBytes(): number;
  dispose(): void;
}
