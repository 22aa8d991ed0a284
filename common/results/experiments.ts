/**
 * The experiment table (issue 16, item 7): one row per method × suite × setting, in the run folder
 * (experiments.json + experiments.csv) and in the `--json` last line. Every row carries
 * {suite, role, method, kStar, clampValue, setKind, n, rate, ci: [lo, hi]}; settings that do not apply to a
 * method (base, AS) are null. Pure zod (no worker imports).
 */
import { z } from 'zod';
import { EvaluateRoleSchema, SetKindSchema } from '../steps/experiments.js';

const Ci = z.tuple([z.number(), z.number()]);

export const ExperimentRowSchema = z.object({
  suite: z.string(),
  role: EvaluateRoleSchema,
  method: z.string(),
  kStar: z.number().int().nullable(),
  clampValue: z.number().nullable(),
  setKind: SetKindSchema.nullable(),
  /** 'multiply': features × clampValue (the sweep); 'set': features set to clampValue (induced refusal). */
  edit: z.enum(['multiply', 'set']).nullable(),
  /** Judge id (null for text CE rows). */
  judge: z.string().nullable(),
  /** What `rate` counts: refusals, jailbreaks (HarmBench 'yes' / LlamaGuard 'unsafe'), correct answers; null for text rows. */
  metric: z.enum(['refusal', 'jailbreak', 'accuracy', 'ce']),
  /** Breakdown value (e.g. 'wrapper:fiction'); null = the whole suite. */
  group: z.string().nullable(),
  n: z.number().int().nonnegative(),
  /** Successes counted by the judge (rate = k / n). */
  k: z.number().int().nonnegative().nullable(),
  rate: z.number().nullable(),
  /** 95% Wilson interval of the rate. */
  ci: Ci.nullable(),
  /** CE (nats per scored token): base rollouts for harmless rows, the text itself for text rows. */
  ce: z.number().nullable(),
  /** 95% percentile-bootstrap interval of the CE over items. */
  ceCi: Ci.nullable(),
});
export type ExperimentRow = z.infer<typeof ExperimentRowSchema>;

export const McNemarRowSchema = z.object({
  suite: z.string(),
  role: EvaluateRoleSchema,
  judge: z.string(),
  group: z.string().nullable(),
  kStar: z.number().int().nullable(),
  clampValue: z.number().nullable(),
  setKind: SetKindSchema.nullable(),
  a: z.string(),
  b: z.string(),
  n: z.number().int(),
  /** a yes, b no */
  b10: z.number().int(),
  /** a no, b yes */
  b01: z.number().int(),
  p: z.number(),
});
export type McNemarRow = z.infer<typeof McNemarRowSchema>;

export const AgreementRowSchema = z.object({
  suite: z.string(),
  role: EvaluateRoleSchema,
  method: z.string(),
  kStar: z.number().int().nullable(),
  clampValue: z.number().nullable(),
  setKind: SetKindSchema.nullable(),
  judgeA: z.string(),
  judgeB: z.string(),
  n: z.number().int(),
  agreement: z.number().nullable(),
  kappa: z.number().nullable(),
  /** confusion[i][j]: judge A said i, judge B said j (1 = refusal / jailbreak). */
  confusion: z.tuple([z.tuple([z.number(), z.number()]), z.tuple([z.number(), z.number()])]),
});
export type AgreementRow = z.infer<typeof AgreementRowSchema>;

export const SuffixWordSchema = z.object({ word: z.string(), count: z.number().int() });

export const SuffixAnalysisSchema = z.object({
  suite: z.string(),
  goals: z.number().int(),
  /** Goal/suffix pairs analysed (refused goal, jailbroken with the suffix). */
  jailbroken: z.number().int(),
  /** Mean relative drop of the harm features (sequence mean) with the suffix vs without. */
  harmDrop: z.number().nullable(),
  /** Mean relative drop of the refusal features (last 5 tokens) with the full suffix. */
  refusalDrop: z.number().nullable(),
  /** Mean largest single-word increment of the normalised dampening. */
  topIncrement: z.number().nullable(),
  /** 95% percentile-bootstrap intervals of the three means (null with fewer than two values). */
  harmDropCi: Ci.nullable(),
  refusalDropCi: Ci.nullable(),
  topIncrementCi: Ci.nullable(),
  topWords: z.array(SuffixWordSchema),
  examples: z.array(z.object({ goal: z.string(), suffix: z.string(), topWord: z.string().nullable(), fullDrop: z.number().nullable() })),
});
export type SuffixAnalysis = z.infer<typeof SuffixAnalysisSchema>;

export const ExperimentTableSchema = z.object({
  kind: z.literal('refusal-workbench/experiment-table'),
  schemaVersion: z.literal(1),
  layer: z.number().int(),
  /** The run's own K*, clamp value and set kind (what omitted sweep keys take). */
  kStar: z.number().int(),
  clampValue: z.number(),
  setKind: SetKindSchema,
  rows: z.array(ExperimentRowSchema),
  mcnemar: z.array(McNemarRowSchema),
  agreement: z.array(AgreementRowSchema),
  suffix: z.array(SuffixAnalysisSchema),
  warnings: z.array(z.string()),
  /** Conditions generated vs answered from the in-job memo (the reuse the one-job run buys). */
  generation: z.object({ conditions: z.number().int(), reused: z.number().int() }),
  seconds: z.number(),
});
export type ExperimentTable = z.infer<typeof ExperimentTableSchema>;

/** CSV columns of experiments.csv, in order. */
export const EXPERIMENT_CSV_COLUMNS = ['suite', 'role', 'method', 'kStar', 'clampValue', 'setKind', 'edit', 'judge', 'metric', 'group', 'n', 'k', 'rate', 'ci_lo', 'ci_hi', 'ce', 'ce_lo', 'ce_hi'] as const;
