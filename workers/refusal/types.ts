/**
 * Shared types of the refusal-discovery steps (issue 5). A step is a plain async function
 * `(lens, params, ctx) → result`; hooks are passed per call, never installed globally.
 */
import type { CausalLM } from '../model/types.js';
import type { Sae } from '../sae/types.js';

/** Progress, cancellation and logging for one step. */
export interface StepCtx {
  progress(stage: string, fraction: number, message?: string): void;
  signal: AbortSignal;
  log(line: string): void;
  /** Told the run folder once it is known (a job's log then goes there: one folder per job). */
  onRunDir?(dir: string): void;
}

export function quietCtx(signal?: AbortSignal): StepCtx {
  return { progress: () => {}, log: () => {}, signal: signal ?? new AbortController().signal };
}

export function checkAbort(ctx: StepCtx): void {
  if (ctx.signal.aborted) {
    const e = new Error('cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

/**
 * SAEs by layer, streamed: a step asks for one layer, uses it and releases it (S3). An in-memory provider
 * returns held SAEs and ignores release; a disk provider loads on `get` and disposes on `release`.
 */
export interface SaeProvider {
  /** Layers that have an SAE (resid_post). */
  readonly layers: number[];
  get(layer: number): Promise<Sae>;
  release(sae: Sae): void;
  /** Optional S3 path: decoder rows in chunks straight from disk, without loading the layer. */
  decoderChunks?(layer: number): Iterable<{ r0: number; rows: number; W_dec: import('@tensorflow/tfjs-core').Tensor2D }>;
}

/** Chat formatting and tokenisation, as the steps need them. */
export interface ChatCodec {
  /** Token ids of the chat-formatted single user turn with the generation prompt (BOS included once). */
  encodePrompt(prompt: string): number[];
  decode(ids: number[]): string;
  /** The refusal token ('I'). */
  refusalTokenId: number;
  bosTokenId: number | null;
  /** Leading tokens of every formatted prompt that aggregations skip (W12: BOS for Gemma, BOS+system for Llama). */
  skipPrefix: number;
  /** Chat end-of-turn id (W7), if any. */
  endOfTurnId: number | null;
  /** Plain text to ids without the chat template or special tokens (text CE, answer prefills). */
  encodeText?(text: string): number[];
}

/** The model, its SAEs and its tokenizer: what the steps run on. */
export interface Lens {
  model: CausalLM;
  saes: SaeProvider;
  codec: ChatCodec;
  /** 'gemma2' → clamp −3, 'llama' → −1 */
  family: 'gemma2' | 'llama';
}

/** A prompt already formatted and tokenised. */
export interface EncodedPrompt {
  text: string;
  ids: number[];
}

export type AlphaRule = 'trapezoid' | 'midpoint' | 'left';

/** A feature set per sample (local) or shared (global): layer → feature indices. */
export type FeatureSet = Array<{ layer: number; index: number }>;

/** Per-sample sets aligned by sample index (W1): sets[b] is sample b's set, possibly empty. */
export interface FeatureSets {
  kind: 'local' | 'global';
  /** local: one per sample; global: exactly one entry, shared. */
  sets: FeatureSet[];
}

export function defaultClampValue(family: Lens['family']): number {
  return family === 'gemma2' ? -3 : -1;
}
