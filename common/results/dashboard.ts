/**
 * What `features.dashboard` writes (workers/features/dashboard.ts, main/jobs/builtin/dashboard.ts):
 * `dashboard/index.json` (the corpus and one line per feature) and `dashboard/L{layer}-{index}.json`
 * (one feature's page). Pure zod: the renderer parses the files with these and nothing else.
 */
import { z } from 'zod';

export const DASHBOARD_INDEX_KIND = 'refusal-workbench/feature-dashboard-index';
export const DASHBOARD_FEATURE_KIND = 'refusal-workbench/feature-dashboard';

export const DashboardExampleSchema = z.object({
  seq: z.number().int().nonnegative(),
  source: z.string(),
  tokens: z.array(z.string()),
  acts: z.array(z.number()),
  responseStart: z.number().int().nonnegative(),
  max: z.number(),
  maxIndex: z.number().int().nonnegative(),
});
export type DashboardExample = z.infer<typeof DashboardExampleSchema>;

const Count = z.object({ tokens: z.number().nonnegative(), active: z.number().nonnegative() });
const LogitToken = z.object({ token: z.string(), id: z.number().int().nonnegative(), value: z.number() });

export const FeatureDashboardSchema = z.object({
  id: z.string().regex(/^L\d+\/\d+$/),
  layer: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  density: z.object({
    tokens: z.number().nonnegative(),
    active: z.number().nonnegative(),
    fraction: z.number().min(0).max(1),
    log10: z.number().nullable(),
    prompt: Count,
    response: Count,
  }),
  histogram: z.object({
    edges: z.array(z.number()),
    counts: z.array(z.number().nonnegative()),
    zeroCount: z.number().nonnegative(),
    tokens: z.number().nonnegative(),
    fractionZero: z.number(),
    sampled: z.boolean(),
  }),
  maxActivation: z.number(),
  meanNonzero: z.number(),
  top: z.array(DashboardExampleSchema),
  quantiles: z.array(
    z.object({ lo: z.number(), hi: z.number(), share: z.number(), sequences: z.number().int().nonnegative(), examples: z.array(DashboardExampleSchema) }),
  ),
  logits: z.object({ foldedNorm: z.boolean(), promoted: z.array(LogitToken), suppressed: z.array(LogitToken) }),
  neighbours: z.array(z.object({ id: z.string(), index: z.number().int().nonnegative(), cosine: z.number() })),
  coactivation: z.array(z.object({ id: z.string(), both: z.number(), jaccard: z.number(), pOtherGivenThis: z.number(), pThisGivenOther: z.number() })),
});
export type FeatureDashboardFile = z.infer<typeof FeatureDashboardSchema>;

export const DashboardFeatureFileSchema = z.object({
  kind: z.literal(DASHBOARD_FEATURE_KIND),
  schemaVersion: z.literal(1),
  feature: FeatureDashboardSchema,
});

export const DashboardIndexSchema = z.object({
  kind: z.literal(DASHBOARD_INDEX_KIND),
  schemaVersion: z.literal(1),
  source: z.string(),
  discoveryRun: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  corpus: z.object({
    sources: z.array(z.object({ name: z.string(), sequences: z.number().int().nonnegative() })),
    sequences: z.number().int().nonnegative(),
    tokens: z.number().nonnegative(),
    responseTokens: z.number().int().nonnegative(),
  }),
  features: z.array(
    z.object({
      id: z.string(),
      layer: z.number().int().nonnegative(),
      index: z.number().int().nonnegative(),
      file: z.string(),
      density: z.number(),
      maxActivation: z.number(),
      topTokens: z.array(z.string()),
      inRefusalSet: z.boolean(),
    }),
  ),
});
export type DashboardIndex = z.infer<typeof DashboardIndexSchema>;
