/** `features.dashboard`: scans a corpus and stores a dashboard per feature in the run folder (workers/features/dashboard.ts). */
import { z } from 'zod';
import { BOUNDS, nonNegativeInt, positiveInt, seed } from './bounds.js';
import { FeatureRefInputSchema } from './playground.js';
import { BackendNameSchema, defineStep } from './types.js';

/** A corpus source: a suite file, a built-in suite's name, or a file with a split / limit. */
export const CorpusRefSchema = z.union([
  z.string().min(1).max(4096),
  z.object({
    path: z.string().min(1).max(4096),
    split: z.enum(['train', 'val', 'test']).optional(),
    limit: positiveInt(BOUNDS.PROMPTS).optional(),
  }),
]);
export type CorpusRef = z.infer<typeof CorpusRefSchema>;

export const DashboardParamsSchema = z
  .object({
    /** Default: the discovery run's refusal set and graph nodes. */
    features: z.array(FeatureRefInputSchema).max(10_000).optional(),
    /** Co-activation partners; default: the discovery run's refusal set. */
    reference: z.array(FeatureRefInputSchema).max(10_000).optional(),
    /** Suites / files / built-in names; default: the source's suites. */
    corpus: z.array(CorpusRefSchema).max(1000).optional(),
    perSource: positiveInt(100_000).default(64),
    /** Tokens of the model's own reply appended to every prompt (0: prompt tokens only). */
    responseTokens: nonNegativeInt(512).default(16),
    seed: seed().default(0),
    topExamples: positiveInt(100).default(10),
    quantiles: positiveInt(50).default(10),
    perQuantile: positiveInt(50).default(4),
    bins: positiveInt(200).default(30),
    logitK: positiveInt(200).default(10),
    neighbours: positiveInt(200).default(10),
    batchSize: positiveInt(BOUNDS.BATCH).default(16),
    pipeline: z.string().min(1).max(4096).optional(),
    demo: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type DashboardParams = z.input<typeof DashboardParamsSchema>;

export const DashboardResultSchema = z.object({
  runId: z.string().nullable(),
  index: z.string().nullable(),
  features: z.array(z.string()),
  sequences: z.number(),
  tokens: z.number(),
  source: z.string(),
});
export type DashboardResult = z.infer<typeof DashboardResultSchema>;

export const featureDashboardStep = defineStep({
  name: 'features.dashboard',
  title: 'Feature dashboards',
  description:
    "Scans a corpus (the source's suites, built-in suites such as alpaca, any suite file; prompt and reply tokens) and stores per feature: top and quantile-group examples with per-token activations, activation density, logit effects through the final norm, decoder-cosine neighbours, co-activation with the refusal set; params {features?, reference?, corpus?, perSource?, responseTokens?, seed?, pipeline?, backend?}.",
  params: DashboardParamsSchema,
  result: DashboardResultSchema,
  outputs: [
    { role: 'dashboard-index', file: 'dashboard/index.json', kind: 'refusal-workbench/feature-dashboard-index', schemaVersion: 1 },
    { role: 'dashboard', file: 'dashboard/L{layer}-{index}.json', kind: 'refusal-workbench/feature-dashboard', schemaVersion: 1 },
  ],
  codeVersion: 1,
  runFolder: 'job',
});
