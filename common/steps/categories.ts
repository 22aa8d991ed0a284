/** `refusal.categories`: harm categories — common (refusal) vs category-specific (harm) features. */
import { z } from 'zod';
import { BOUNDS, layerIndex, magnitude, positiveInt } from './bounds.js';
import { BackendNameSchema, defineStep, RunRefSchema } from './types.js';

/** A categories pipeline's `params` (workers/categories/analysis.ts). */
export const CategoriesParamsSchema = z.object({
  /** ℓ*: null = the layer sweep picks it (as the main pipeline does). */
  layer: layerIndex().nullable().default(null),
  /** Layer-sweep candidates: layers below this fraction of the depth (Arditi prunes at 0.8). */
  sweepMaxLayerFrac: z.number().min(0).max(1).default(0.8),
  k: positiveInt(BOUNDS.POOL_K).default(10),
  kStar: positiveInt(BOUNDS.FEATURES).default(20),
  steps: positiveInt(BOUNDS.IG_STEPS).default(10),
  alphaRule: z.enum(['trapezoid', 'midpoint', 'left']).default('trapezoid'),
  /** LA-IG metric token: the ablated run's argmax (reference) or its best non-refusal token. */
  jToken: z.enum(['argmax', 'non-refusal']).default('argmax'),
  /** The paper clamps the CATQA sets ×−3 for both models (METHOD #15). */
  clampValue: magnitude().default(-3),
  truncateSpecific: z.boolean().default(true),
  retention: z.enum(['exact', 'prompt-mean', 'prompt-only']).default('exact'),
  /** Keep only harmful prompts the model refuses (first token), as the main pipeline's direction data. */
  filterRefused: z.boolean().default(true),
  maxPerCategory: positiveInt(BOUNDS.PROMPTS).nullable().default(null),
  maxNewTokens: positiveInt(BOUNDS.NEW_TOKENS).default(24),
  laBatchSize: positiveInt(BOUNDS.BATCH).default(4),
  genBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  transfer: z.boolean().default(true),
});
export type CategoriesParams = z.infer<typeof CategoriesParamsSchema>;

export const CategoriesJobParamsSchema = z
  .object({
    /** Categories pipeline JSON (relative to the project or absolute); omitted = the bundled demo's. */
    pipeline: z.string().min(1).max(4096).optional(),
    fresh: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type CategoriesJobParams = z.infer<typeof CategoriesJobParamsSchema>;

export const CATEGORIES_CODE_VERSION = 1;

export const categoriesStep = defineStep({
  name: 'refusal.categories',
  title: 'Harm categories: common vs specific features',
  description:
    'Per-category K*, the common (refusal) and specific (harm) sets, clamping with retention and transfer; params {pipeline?: path (default: the demo), fresh?, backend?}.',
  params: CategoriesJobParamsSchema,
  // the run reference plus categoriesSummary (workers/categories/project.ts)
  result: z.looseObject(RunRefSchema.shape),
  outputs: [{ role: 'results', file: 'results.json', kind: 'refusal-workbench/categories-results', schemaVersion: 1 }],
  codeVersion: CATEGORIES_CODE_VERSION,
  runFolder: 'step',
});
