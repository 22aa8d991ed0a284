/**
 * `refusal.discover`: the discovery pipeline (direction → pool → attribution → selection → intervention →
 * judges → graph). `DiscoveryParamsSchema` is the one declaration of its parameters: the pipeline file,
 * the job API, the worker, the CLI and the Runs form all read it. Adding a parameter is one edit here
 * (plus its use in workers/refusal/pipeline.ts).
 */
import { z } from 'zod';
import { RunIdSchema } from '../schemas/run.js';
import { BOUNDS, layerIndex, magnitude, positiveInt, seed } from './bounds.js';
import { ExperimentParamsShape } from './experiments.js';
import { overridesOf } from './schema-utils.js';
import { BackendNameSchema, defineStep, RunRefSchema } from './types.js';

export const METHOD_KEYS = ['base', 'cossim_ap', 'cossim', 'actdiff', 'ap', 'as', 'random'] as const;
export type MethodKey = (typeof METHOD_KEYS)[number];
export const MethodKeySchema = z.enum(METHOD_KEYS);

export const GraphParamsSchema = z.object({
  enabled: z.boolean().default(true),
  priorLayers: positiveInt(BOUNDS.LAYER).default(2),
  stopGradient: z.enum(['features', 'none']).default('features'),
  clampMeasure: z.boolean().default(true),
  samples: positiveInt(BOUNDS.PROMPTS).default(16),
  /** Nodes: the global top-N of the pool by mean attribution (the paper's K* = 20), independent of K*. */
  nodes: positiveInt(BOUNDS.FEATURES).default(20),
});

export const DiscoveryParamsSchema = z.object({
  /** ℓ*: null = choose by the layer sweep. */
  layer: layerIndex().nullable().default(null),
  /** Layer-sweep candidates (default every layer below 0.8·L, as Arditi prunes). */
  sweepMaxLayerFrac: z.number().min(0).max(1).default(0.8),
  directionFrom: z.enum(['eval', 'train']).default('eval'),
  /** Layer sweep score: judged generations under ablation (reference) or the first-token refusal rate. */
  sweepScore: z.enum(['judge', 'first-token']).default('judge'),
  /** Prompts generated per candidate layer when the sweep is judged. */
  sweepPrompts: positiveInt(BOUNDS.PROMPTS).default(32),
  /** LA-IG metric token j_b: the ablated run's argmax (reference) or its best non-refusal token. */
  jToken: z.enum(['argmax', 'non-refusal']).default('argmax'),
  /** Directional ablation sites for AS, the layer sweep and the LA-IG patched run. */
  ablationSites: z.enum(['resid_post', 'arditi']).default('resid_post'),
  k: positiveInt(BOUNDS.POOL_K).default(10),
  kStar: positiveInt(BOUNDS.FEATURES).default(20),
  steps: positiveInt(BOUNDS.IG_STEPS).default(10),
  alphaRule: z.enum(['trapezoid', 'midpoint', 'left']).default('trapezoid'),
  errorTerm: z.enum(['ablated', 'compat']).default('ablated'),
  attributionPath: z.enum(['shortcut', 'literal']).default('shortcut'),
  clampPath: z.enum(['sparse', 'literal']).default('sparse'),
  /** The clamp multiplier c; null = the family's (−3 Gemma, −1 Llama). */
  clampValue: magnitude().nullable().default(null),
  clampPositions: z.enum(['all', 'prompt', 'generated']).default('all'),
  apCompatMisaligned: z.boolean().default(false),
  positions: z.enum(['default', 'all']).default('default'),
  filterHarmless: z.boolean().default(true),
  filterHarmful: z.boolean().default(false),
  maxNewTokens: positiveInt(BOUNDS.NEW_TOKENS).default(32),
  stopRule: z.enum(['eos+eot', 'eos']).default('eos+eot'),
  laBatchSize: positiveInt(BOUNDS.BATCH).default(4),
  genBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  methods: z.array(MethodKeySchema).min(1).max(METHOD_KEYS.length).default([...METHOD_KEYS]),
  graph: GraphParamsSchema.default({ enabled: true, priorLayers: 2, stopGradient: 'features', clampMeasure: true, samples: 16, nodes: 20 }),
  /** Side effect: CE of the base model's own harmless rollouts under each method's (global) condition. */
  sideEffects: z.boolean().default(false),
  /** W8: CE over label tokens (default) or the reference's padded B×T mean. */
  ceNormalise: z.enum(['labels', 'compat']).default('labels'),
  /** Induced refusal on the harmless eval prompts: global CosSim+AP set set to each v (empty: skip). */
  induceValues: z.array(magnitude()).max(1000).default([]),
  seed: seed().default(42),
  // issue 16: selection positions, harmful set kind, experiment settings
  ...ExperimentParamsShape,
});
export type DiscoveryParams = z.infer<typeof DiscoveryParamsSchema>;
/** What callers pass: every field optional, defaults filled by the schema. */
export type DiscoveryParamsInput = z.input<typeof DiscoveryParamsSchema>;

/** Overrides over a base pipeline's params: the same fields, all optional, no defaults (so nothing resets). */
export const DiscoveryOverridesSchema = overridesOf(DiscoveryParamsSchema);
export type DiscoveryOverrides = Partial<Omit<DiscoveryParams, 'graph'>> & { graph?: Partial<DiscoveryParams['graph']> };

/** A prompt suite reference in a pipeline: a path, or a path with split/tag/limit filters. */
export const SuiteRefSchema = z.union([
  z.string().min(1).max(4096),
  z.object({
    path: z.string().min(1).max(4096),
    split: z.enum(['train', 'val', 'test']).optional(),
    tags: z.array(z.string().max(200)).max(100).optional(),
    excludeTags: z.array(z.string().max(200)).max(100).optional(),
    limit: positiveInt(BOUNDS.PROMPTS).optional(),
    /** Seeded shuffle before the limit (a fair sample of an ordered suite). */
    seed: seed().optional(),
  }),
]);
export type SuiteRef = z.infer<typeof SuiteRefSchema>;

export const SUITE_ROLES = ['harmful', 'harmless', 'evalHarmless', 'harmfulTrain', 'pairs'] as const;
export const SuiteOverridesSchema = z
  .object(Object.fromEntries(SUITE_ROLES.map((r) => [r, SuiteRefSchema.optional()])) as Record<(typeof SUITE_ROLES)[number], z.ZodOptional<typeof SuiteRefSchema>>)
  .strict();
export type SuiteOverrides = z.infer<typeof SuiteOverridesSchema>;

/**
 * The job's params: a base pipeline (a file, or the bundled demo when none is named) plus overrides of its
 * params and suites. The worker resolves them once (workers/refusal/resolve.ts) and writes the resolved
 * pipeline into the run folder.
 */
export const DiscoverJobParamsSchema = z
  .object({
    /** Base pipeline JSON, relative to the project folder or absolute; omitted = the bundled demo's. */
    pipeline: z.string().min(1).max(4096).optional(),
    /** The bundled demo as the base (the default when no pipeline is given). */
    demo: z.boolean().optional(),
    params: DiscoveryOverridesSchema.optional(),
    suites: SuiteOverridesSchema.optional(),
    runId: RunIdSchema.optional(),
    fresh: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
    memoryCapBytes: z.number().positive().max(BOUNDS.MEMORY).optional(),
  })
  .strict();
export type DiscoverJobParams = z.infer<typeof DiscoverJobParamsSchema>;

export const DiscoverResultSchema = RunRefSchema.extend({
  /** The run key (params + input sha256s + code version) the run folder is named by, once runs are keyed (#14 item 4). */
  key: z.string().optional(),
});

/** Code version of the discovery step (part of every run and checkpoint key: bump it when numbers change). */
export const DISCOVERY_CODE_VERSION = 1;

export const discoverStep = defineStep({
  name: 'refusal.discover',
  title: 'Discover refusal features',
  description:
    'The discovery pipeline (direction → pool → attribution → selection → intervention → graph) stored as a run; params {pipeline?: path (default: the demo), params?: overrides, suites?: overrides, fresh?, runId?, backend?}.',
  params: DiscoverJobParamsSchema,
  result: DiscoverResultSchema,
  outputs: [
    { role: 'pipeline', file: 'pipeline.resolved.json', kind: 'refusal-workbench/resolved-pipeline', schemaVersion: 1 },
    { role: 'results', file: 'results.json', kind: 'refusal-workbench/discovery-results', schemaVersion: 2 },
    { role: 'experiments', file: 'experiments.json', kind: 'refusal-workbench/experiment-table', schemaVersion: 1 },
    { role: 'generations', file: 'generations.json', kind: 'refusal-workbench/generations' },
    { role: 'graph', file: 'graph.json', kind: 'refusal-workbench/feature-graph', schemaVersion: 2 },
    { role: 'graph.neuronpedia', file: 'graph.neuronpedia.json', kind: 'refusal-workbench/neuronpedia-graph' },
  ],
  codeVersion: DISCOVERY_CODE_VERSION,
  runFolder: 'step',
});
