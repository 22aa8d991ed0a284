/** `sae.preflight`: per SAE layer — size, fit in memory, Neuronpedia id, and fit statistics. */
import { z } from 'zod';
import { BOUNDS, nonNegativeInt, positiveInt, seed } from './bounds.js';
import { BackendNameSchema, defineStep } from './types.js';

export const PreflightParamsSchema = z
  .object({
    /** SAE folders or files (Gemma Scope tree, per-layer folders, one SAE); default: the source's SAEs. */
    folders: z.array(z.string().max(4096)).max(1000).optional(),
    /** Prompts sampled per suite for the fit statistics (default 4; 0 = sizes only). */
    perSuite: nonNegativeInt(BOUNDS.PROMPTS).optional(),
    /** CE-loss recovered (three forwards per batch). Default true. */
    ce: z.boolean().optional(),
    /** Tokens of the model's own reply appended to each prompt (default 16; 0 = prompts only). */
    replyTokens: nonNegativeInt(BOUNDS.NEW_TOKENS).optional(),
    batchSize: positiveInt(BOUNDS.BATCH).optional(),
    seed: seed().optional(),
    pipeline: z.string().min(1).max(4096).optional(),
    demo: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type PreflightParams = z.infer<typeof PreflightParamsSchema>;

export const SaeLayerPreflightSchema = z.looseObject({
  layer: z.number(),
  saeId: z.string(),
  path: z.string(),
  format: z.string(),
  dSae: z.number(),
  neuronpediaId: z.string().optional(),
  bytes: z.number(),
  fits: z.boolean(),
  reason: z.string().optional(),
});

export const PreflightResultSchema = z.looseObject({
  backend: z.string(),
  budgetBytes: z.number(),
  budgetFrom: z.enum(['backend', 'system']),
  modelBytes: z.number(),
  prompts: z.number(),
  saes: z.array(SaeLayerPreflightSchema),
  model: z.string(),
  source: z.string(),
});

export const saePreflightStep = defineStep({
  name: 'sae.preflight',
  title: 'SAE preflight',
  description:
    'Per SAE layer: bytes, d_sae, whether model + layer fit the memory budget, Neuronpedia id, and MSE / FVE / L0 / dead fraction / CE recovered on a few chat conversations; params {folders?: [path], perSuite?, ce?, pipeline?, backend?}.',
  params: PreflightParamsSchema,
  result: PreflightResultSchema,
  outputs: [{ role: 'preflight', file: 'preflight.json', kind: 'refusal-workbench/sae-preflight', schemaVersion: 1 }],
  codeVersion: 1,
  runFolder: 'job',
});
