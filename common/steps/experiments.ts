/**
 * Experiments as data (issue 16): the pipeline keys `evaluate` (several evaluation suites, each with a role
 * and optional judges) and `sweep` (lists of clamp values, K* values and set kinds; an omitted key takes the
 * run's own value), plus the discovery parameters the experiments add. Pure zod: the suite-reference and
 * judge-spec schemas are passed in, so this file has no worker imports and can live in common/.
 */
import { z } from 'zod';

/**
 * harmful: refusal / jailbreak under every method (per-suite direction, attribution and local sets);
 * harmless: refusal induced by each method's global set (plus CE of the base rollouts);
 * adversarial: jailbreak prompts under every method, broken down by wrapper/tactic tag;
 * text: CE on plain text (the Pile-style check); capability: multiple-choice / exact-answer accuracy.
 */
export const EvaluateRoleSchema = z.enum(['harmful', 'harmless', 'adversarial', 'text', 'capability']);
export type EvaluateRole = z.infer<typeof EvaluateRoleSchema>;

export const SetKindSchema = z.enum(['local', 'global']);
export type SetKind = z.infer<typeof SetKindSchema>;

/** One evaluation entry; `suite` and `judge` take the pipeline's own suite-reference and judge schemas. */
export function evaluateEntrySchema<S extends z.ZodType, J extends z.ZodType>(suite: S, judge: J) {
  return z
    .object({
      suite,
      role: EvaluateRoleSchema,
      /** Name in the table (default: the file name without extension, plus split/limit). */
      name: z.string().min(1).max(200).optional(),
      /** One judge or several (several → an agreement table); default the pipeline's judge (+ jailbreak judge). */
      judge: z.union([judge, z.array(judge).min(1).max(8)]).optional(),
      /** Capability suites: score by answer-option log-likelihood ('loglik') or greedy answer extraction ('exact'). */
      scoring: z.enum(['loglik', 'exact']).optional(),
      /** Adversarial suites: tag prefixes whose values break the rates down (default wrapper:, tactic:). */
      groupBy: z.array(z.string().min(1).max(100)).max(16).optional(),
      /** Run the suffix analysis (harm/refusal features with vs without the suffix) on this suite. */
      suffixAnalysis: z.boolean().optional(),
    })
    .strict();
}

export const SweepSchema = z
  .object({
    clampValue: z.array(z.number().min(-1000).max(1000)).min(1).max(32).optional(),
    kStar: z.array(z.number().int().positive().max(10_000)).min(1).max(32).optional(),
    setKind: z.array(SetKindSchema).min(1).max(2).optional(),
  })
  .strict();
export type Sweep = z.infer<typeof SweepSchema>;

/** Discovery parameters the experiments add (spread into the discovery parameter schema). */
export const ExperimentParamsShape = {
  /** Positions K* selection averages over: after the template prefix (W12/W13, default) or every non-BOS token. */
  selectionPositions: z.enum(['skipPrefix', 'nonBos']).default('skipPrefix'),
  /** Sets clamped on the harmful suite: per-sample (the paper) or the global set. */
  setKind: SetKindSchema.default('local'),
  /** Harmful evaluation suites: their own direction and attribution (the reference) or the run's. */
  evaluateDirection: z.enum(['own', 'run']).default('own'),
  /** Suffix analysis: goals analysed and suffixes tried per goal. */
  suffixGoals: z.number().int().positive().max(10_000).default(20),
  suffixesPerGoal: z.number().int().positive().max(100).default(4),
  /** WildJailbreak-style pair files: warn when fewer than this share of adversarial rows pair. */
  minPairShare: z.number().min(0).max(1).default(0.5),
  /** Bootstrap resamples for CE intervals. */
  bootstrapReps: z.number().int().positive().max(100_000).default(1000),
};
