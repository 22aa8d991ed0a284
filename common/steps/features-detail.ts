/** `features.detail`: everything the Feature page shows for one feature L{layer}/{index}. */
import { z } from 'zod';
import { BOUNDS, nonNegativeInt, positiveInt, seed } from './bounds.js';
import { BackendNameSchema, defineStep } from './types.js';

export const FeatureDetailParamsSchema = z
  .object({
    layer: nonNegativeInt(BOUNDS.LAYER),
    index: nonNegativeInt(BOUNDS.FEATURES),
    /** Accepted for the view's FeatureRef; the layer picks the SAE. */
    saeId: z.string().max(500).optional(),
    /** Prompts sampled per suite (seeded). Default 32. */
    perSuite: positiveInt(BOUNDS.PROMPTS).optional(),
    seed: seed().optional(),
    /** Suite files to use instead of the source's (relative to the project or absolute). */
    suites: z.array(z.string().min(1).max(4096)).max(1000).optional(),
    topContexts: positiveInt(10_000).optional(),
    bins: positiveInt(10_000).optional(),
    logitK: positiveInt(10_000).optional(),
    batchSize: positiveInt(BOUNDS.BATCH).optional(),
    /** LA-IG attribution of the feature on this many prompts of each suite (default 8; 0 = off). */
    attributionPerSuite: nonNegativeInt(BOUNDS.PROMPTS).optional(),
    /** Integration steps for that attribution (default 8). */
    attributionSteps: positiveInt(BOUNDS.IG_STEPS).optional(),
    pipeline: z.string().min(1).max(4096).optional(),
    demo: z.boolean().optional(),
    fresh: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type FeatureDetailParams = z.infer<typeof FeatureDetailParamsSchema>;

const TokenActsSchema = z.looseObject({ tokens: z.array(z.string()), acts: z.array(z.number()) });

export const FeatureDetailResultSchema = z.looseObject({
  id: z.string(),
  layer: z.number(),
  index: z.number(),
  saeId: z.string(),
  neuronpediaId: z.string().optional(),
  cosine: z.number().optional(),
  decoderNorm: z.number(),
  histogram: z.looseObject({ edges: z.array(z.number()), counts: z.array(z.number()) }),
  contexts: z.array(TokenActsSchema),
  logitLens: z.object({
    promoted: z.array(z.object({ token: z.string(), value: z.number() })),
    suppressed: z.array(z.object({ token: z.string(), value: z.number() })),
  }),
  attributionBySuite: z.array(z.object({ suite: z.string(), value: z.number(), n: z.number().optional() })).optional(),
  source: z.string(),
  cached: z.boolean(),
  file: z.string().nullable(),
});

export const featureDetailStep = defineStep({
  name: 'features.detail',
  title: 'Feature detail',
  description:
    'One feature L{layer}/{index}: decoder cosine with the refusal direction, top-activating prompts and tokens with per-token activations, histogram, logit lens, LA-IG attribution per suite, Neuronpedia id; cached per feature in the run folder; params {layer, index, perSuite?, attributionPerSuite?, suites?, fresh?, pipeline?, backend?}.',
  params: FeatureDetailParamsSchema,
  result: FeatureDetailResultSchema,
  outputs: [{ role: 'feature', file: 'feature-L{layer}-{index}.json', kind: 'refusal-workbench/feature-detail', schemaVersion: 1 }],
  codeVersion: 1,
  runFolder: 'job',
});
