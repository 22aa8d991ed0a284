/** runs/<id>/results.json of `refusal.categories` (workers/categories/analysis.ts). */
import { z } from 'zod';
import { defineResult } from './versioned.js';

export const CATEGORIES_RESULTS_KIND = 'refusal-workbench/categories-results' as const;
export const CATEGORIES_RESULTS_VERSION = 1 as const;

export const RankedFeatureSchema = z.object({ layer: z.number().int().nonnegative(), index: z.number().int().nonnegative(), score: z.number() });
export const RateSchema = z.object({ rate: z.number(), refused: z.number().int().nonnegative(), n: z.number().int().nonnegative() });

export const CategoryRowSchema = z.object({
  category: z.string(),
  n: z.number().int().nonnegative(),
  kStar: z.array(RankedFeatureSchema),
  /** specific: null when the category has no specific features (nothing clamped; not the base rate). */
  refusal: z.object({ base: RateSchema, specific: RateSchema.nullable(), common: RateSchema, union: RateSchema }),
  commonDrop: z.number(),
  pRefusal: z.object({ base: z.number(), specificClamped: z.number() }),
});

export const CategorySetsSchema = z.object({
  categories: z.array(z.string()),
  common: z.array(RankedFeatureSchema),
  specific: z.record(z.string(), z.array(RankedFeatureSchema)),
  specificFullCount: z.record(z.string(), z.number().int().nonnegative()),
  jaccard: z.array(z.array(z.number())),
  truncate: z.boolean(),
});

export const CategoriesResultsSchema = z.object({
  kind: z.literal(CATEGORIES_RESULTS_KIND),
  schemaVersion: z.literal(CATEGORIES_RESULTS_VERSION),
  layer: z.number().int().nonnegative(),
  clampValue: z.number(),
  retention: z.enum(['exact', 'prompt-mean', 'prompt-only']),
  categories: z.array(z.string()),
  sets: CategorySetsSchema,
  rows: z.array(CategoryRowSchema),
  /** transfer[a][b]: category a's specific set clamped on b's prompts (common retained). */
  transfer: z.record(z.string(), z.record(z.string(), RateSchema)),
  refusal_rate: z.object({ base: z.number(), specific: z.number().nullable(), common: z.number(), union: z.number(), transfer_mean: z.number().nullable() }),
  counts: z.object({ base: z.number().int(), specific: z.number().int(), common: z.number().int(), union: z.number().int(), transfer: z.number().int() }),
  common_drop_when_specific_clamped: z.number(),
  warnings: z.array(z.string()),
});
export type CategoriesResultsFile = z.infer<typeof CategoriesResultsSchema>;

export const categoriesResults = defineResult({
  kind: CATEGORIES_RESULTS_KIND,
  version: CATEGORIES_RESULTS_VERSION,
  title: 'categories results',
  schema: CategoriesResultsSchema,
  migrations: {},
});
