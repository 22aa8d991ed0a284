/**
 * Upper bounds for every numeric step and pipeline parameter (issue #19): a value past them is refused at
 * the API boundary with the field's path instead of starting a job that would run for days or allocate
 * without limit (e.g. IG `steps: 1e6`). They are generous — each is far above what the paper or a real
 * run uses — so they only catch typos and hostile input, never a deliberate experiment.
 *
 * | bound | value | why |
 * |---|---|---|
 * | LAYER | 1 024 | the deepest open chat models have < 200 layers |
 * | POOL_K | 100 000 | features per layer in the cosine pool (paper 10); an SAE is ≤ 1M wide |
 * | FEATURES | 1 000 000 | a feature index / a set size: the widest public SAEs have 1M latents |
 * | IG_STEPS | 1 000 | integration steps (paper 10); cost is linear |
 * | PROMPTS | 1 000 000 | prompts per suite, class or group |
 * | BATCH | 4 096 | prompts per forward/generation batch |
 * | NEW_TOKENS | 8 192 | greedy decoding length (paper 256) |
 * | RESAMPLES | 100 000 | bootstrap resamples (paper 1000) |
 * | DRAWS | 1 000 | random-control draws |
 * | SEED | 2^31 − 1 | seeds are 32-bit (mulberry32) |
 * | MAGNITUDE | 1e6 | clamp multipliers / values, L2 penalties, induction values |
 * | MEMORY | 2^50 B | a memory cap (1 PiB) |
 */
import { z } from 'zod';

export const BOUNDS = {
  LAYER: 1024,
  POOL_K: 100_000,
  FEATURES: 1_000_000,
  IG_STEPS: 1000,
  PROMPTS: 1_000_000,
  BATCH: 4096,
  NEW_TOKENS: 8192,
  RESAMPLES: 100_000,
  DRAWS: 1000,
  SEED: 2 ** 31 - 1,
  MAGNITUDE: 1e6,
  MEMORY: 2 ** 50,
} as const;

/** A whole number in [1, max]. */
export const positiveInt = (max: number) => z.number().int().positive().max(max);
/** A whole number in [0, max]. */
export const nonNegativeInt = (max: number) => z.number().int().nonnegative().max(max);
/** A layer index. */
export const layerIndex = () => nonNegativeInt(BOUNDS.LAYER);
/** A 32-bit seed (negative seeds are accepted: the PRNG takes them modulo 2^32). */
export const seed = () => z.number().int().min(-BOUNDS.SEED).max(BOUNDS.SEED);
/** A finite real in [−MAGNITUDE, MAGNITUDE]. */
export const magnitude = () => z.number().min(-BOUNDS.MAGNITUDE).max(BOUNDS.MAGNITUDE);
